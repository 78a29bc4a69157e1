// Splits selector text into tokens with Calico's exact lexical rules, including its context rule:
// right after a label, a word is read as an operator (`contains`, `starts with`, `not in`, …).
import { SelectorSyntaxError } from './errors.js';

export type TokenKind =
  | 'label' | 'string' | '{' | '}' | ',' | '==' | '!=' | 'in' | 'not in' | '!'
  | 'contains' | 'starts with' | 'ends with' | 'all()' | 'has()' | 'global()'
  | '(' | ')' | '&&' | '||' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The label name for `label` and `has()`, the unquoted text for `string`, else ''. */
  readonly value: string;
  /** 0-based offset of the token's first character (the text's length for `end`). */
  readonly position: number;
}

/** Calico caps a label name at 512 characters (bytes in Go; label characters are all ASCII). */
export const MAX_LABEL_LENGTH = 512;

/** Letters, digits and `_ . / -`: the only characters a label name in a selector may use. */
export function isLabelChar(code: number): boolean {
  return (code >= 97 && code <= 122) // a-z
    || (code >= 65 && code <= 90) // A-Z
    || (code >= 48 && code <= 57) // 0-9
    || code === 95 || code === 46 || code === 47 || code === 45; // _ . / -
}

/** Whether `key` can be written as a label name inside a selector. */
export function isValidSelectorLabel(key: string): boolean {
  if (key.length === 0 || key.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < key.length; i++) if (!isLabelChar(key.charCodeAt(i))) return false;
  return true;
}

/** What may start an expression; shared with the parser's messages. */
export const EXPRESSION_START = 'expected a label, has(…), all(), global(), "!" or "("';

const OPERATORS_AFTER_LABEL = '==, !=, in, not in, contains, starts with or ends with';

/** Tokenizes the whole text up front, as Calico does, so a lexical error wins over a later one. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;

  function fail(position: number, expectation: string): never {
    throw new SelectorSyntaxError(text, position, expectation);
  }
  // Only space and tab separate tokens: Calico rejects newlines and other whitespace.
  const skipBlanks = (from: number): number => {
    let j = from;
    while (j < n && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
    return j;
  };
  const isBoundary = (at: number): boolean => at >= n || !isLabelChar(text.charCodeAt(at));
  // Reads one or more words separated by blanks (`starts with`, `not in`, `notin`); the text must
  // not continue with a label character. Returns the offset after the words and their trailing
  // blanks, or -1 when they are not there.
  const readWords = (from: number, words: readonly string[]): number => {
    let j = from;
    for (const word of words) {
      if (!text.startsWith(word, j)) return -1;
      j = words.length > 1 ? skipBlanks(j + word.length) : j + word.length;
    }
    return isBoundary(j) ? j : -1;
  };
  const readLabel = (from: number, expectation: string): string => {
    let j = from;
    while (j < n && isLabelChar(text.charCodeAt(j))) j++;
    if (j === from) fail(from, `${expectation}, found ${describeChar(text, from)}`);
    if (j - from > MAX_LABEL_LENGTH) fail(from, `expected a label name of at most ${MAX_LABEL_LENGTH} characters`);
    return text.slice(from, j);
  };
  const push = (kind: TokenKind, position: number, value = ''): void => {
    tokens.push({ kind, value, position });
  };

  for (;;) {
    i = skipBlanks(i);
    if (i >= n) {
      push('end', n);
      return tokens;
    }
    const start = i;
    const ch = text[i];
    switch (ch) {
      case '(': case ')': case '{': case '}': case ',':
        push(ch, start);
        i++;
        break;
      case '"': case "'": {
        // No escapes: a string runs to the next quote of the same kind.
        const close = text.indexOf(ch, i + 1);
        if (close === -1) fail(start, `expected a closing ${ch} for the string that starts`);
        push('string', start, text.slice(i + 1, close));
        i = close + 1;
        break;
      }
      case '=':
        if (text[i + 1] !== '=') fail(start, 'expected "=="');
        push('==', start);
        i += 2;
        break;
      case '!':
        if (text[i + 1] === '=') {
          push('!=', start);
          i += 2;
        } else {
          push('!', start);
          i++;
        }
        break;
      case '&':
        if (text[i + 1] !== '&') fail(start, 'expected "&&"');
        push('&&', start);
        i += 2;
        break;
      case '|':
        if (text[i + 1] !== '|') fail(start, 'expected "||"');
        push('||', start);
        i += 2;
        break;
      default:
        if (tokens.length > 0 && tokens[tokens.length - 1]?.kind === 'label') {
          i = readOperatorWord(start);
        } else if (text.startsWith('has(', i)) {
          const nameAt = skipBlanks(i + 4);
          const name = readLabel(nameAt, 'expected a label name inside has(…)');
          const closeAt = skipBlanks(nameAt + name.length);
          if (text[closeAt] !== ')') fail(closeAt, 'expected ")" to close has(');
          push('has()', start, name);
          i = closeAt + 1;
        } else if (text.startsWith('all(', i)) {
          i = readEmptyCall(start, 4, 'all()');
        } else if (text.startsWith('global(', i)) {
          i = readEmptyCall(start, 7, 'global()');
        } else {
          const name = readLabel(i, EXPRESSION_START);
          push('label', start, name);
          i += name.length;
        }
    }
  }

  function readOperatorWord(at: number): number {
    let next: number;
    if ((next = readWords(at, ['contains'])) >= 0) push('contains', at);
    else if ((next = readWords(at, ['starts', 'with'])) >= 0) push('starts with', at);
    else if ((next = readWords(at, ['ends', 'with'])) >= 0) push('ends with', at);
    else if ((next = readWords(at, ['not', 'in'])) >= 0) push('not in', at);
    else if ((next = readWords(at, ['in'])) >= 0) push('in', at);
    else {
      const label = tokens[tokens.length - 1]?.value ?? '';
      return fail(at, `expected ${OPERATORS_AFTER_LABEL} after label ${JSON.stringify(label)}, found ${describeWord(text, at)}`);
    }
    return next;
  }

  function readEmptyCall(at: number, openLength: number, kind: 'all()' | 'global()'): number {
    const closeAt = skipBlanks(at + openLength);
    if (text[closeAt] !== ')') fail(closeAt, `expected ")" to close ${kind.slice(0, -1)}`);
    push(kind, at);
    return closeAt + 1;
  }
}

// Names the word (or character) where an operator was expected.
function describeWord(text: string, at: number): string {
  let end = at;
  while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
  return end > at ? JSON.stringify(text.slice(at, end)) : describeChar(text, at);
}

// Names the offending character; a newline or other blank gets a hint, since only spaces and tabs
// separate tokens in Calico (a YAML folded scalar's trailing newline is a common cause).
function describeChar(text: string, at: number): string {
  if (at >= text.length) return 'the end of the selector';
  const ch = String.fromCodePoint(text.codePointAt(at)!);
  if (/^\s$/u.test(ch)) return `${JSON.stringify(ch)} (only spaces and tabs may separate tokens)`;
  return JSON.stringify(ch);
}
