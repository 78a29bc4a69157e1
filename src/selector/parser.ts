// Recursive-descent parser with Calico's grammar: `||` binds loosest, then `&&`, then a run of
// `!`s (collapsed to one or none), then an operation or a parenthesised expression.
import {
  ALL_NODE, GLOBAL_NODE, andNode, hasNode, notNode, orNode, setNode, valueNode,
  type SelectorNode, type ValueOperator,
} from './ast.js';
import { SelectorSyntaxError } from './errors.js';
import { EXPRESSION_START, tokenize, type Token, type TokenKind } from './tokenizer.js';

/**
 * Parentheses may nest this deep. Calico has no limit; ours keeps the recursive parser, printer
 * and compiled closures far from the JavaScript stack limit on hostile input.
 */
export const MAX_NESTING = 256;

const VALUE_OPERATORS: Partial<Record<TokenKind, ValueOperator>> = {
  '==': 'eq', '!=': 'ne', contains: 'contains', 'starts with': 'startsWith', 'ends with': 'endsWith',
};

/** Parses selector text; empty (or blank) text is `all()`, as in Calico. */
export function parseSelectorText(text: string): SelectorNode {
  const tokens = tokenize(text);
  let at = 0;

  // The tokenizer always ends the list with an `end` token and the parser never moves past it.
  const peek = (): Token => tokens[at] ?? tokens[tokens.length - 1]!;
  function fail(token: Token, expectation: string): never {
    throw new SelectorSyntaxError(text, token.position, `${expectation}, found ${describeToken(token)}`);
  }

  function parseOr(depth: number): SelectorNode {
    const first = parseAnd(depth);
    if (peek().kind !== '||') return first;
    const operands = [first];
    while (peek().kind === '||') {
      at++;
      operands.push(parseAnd(depth));
    }
    return orNode(operands);
  }

  function parseAnd(depth: number): SelectorNode {
    const first = parseOperation(depth);
    if (peek().kind !== '&&') return first;
    const operands = [first];
    while (peek().kind === '&&') {
      at++;
      operands.push(parseOperation(depth));
    }
    return andNode(operands);
  }

  function parseOperation(depth: number): SelectorNode {
    let negated = false;
    while (peek().kind === '!') {
      negated = !negated;
      at++;
    }
    const node = parseUnnegated(depth);
    return negated ? notNode(node) : node;
  }

  function parseUnnegated(depth: number): SelectorNode {
    const token = peek();
    switch (token.kind) {
      case 'has()':
        at++;
        return hasNode(token.value);
      case 'all()':
        at++;
        return ALL_NODE;
      case 'global()':
        at++;
        return GLOBAL_NODE;
      case 'label':
        at++;
        return parseComparison(token.value);
      case '(': {
        if (depth >= MAX_NESTING) fail(token, `expected at most ${MAX_NESTING} levels of nested parentheses`);
        at++;
        const inner = parseOr(depth + 1);
        if (peek().kind !== ')') fail(peek(), 'expected ")"');
        at++;
        return inner;
      }
      default:
        return fail(token, EXPRESSION_START);
    }
  }

  function parseComparison(key: string): SelectorNode {
    const operator = peek();
    const valueKind = VALUE_OPERATORS[operator.kind];
    if (valueKind !== undefined) {
      at++;
      const literal = peek();
      if (literal.kind !== 'string') fail(literal, `expected a quoted string after ${operator.kind}`);
      at++;
      return valueNode(valueKind, key, literal.value);
    }
    if (operator.kind === 'in' || operator.kind === 'not in') {
      at++;
      const values = parseSetLiteral();
      return setNode(operator.kind === 'in' ? 'in' : 'notIn', key, values);
    }
    return fail(operator, `expected ==, !=, in, not in, contains, starts with or ends with after label ${JSON.stringify(key)}`);
  }

  // `{}`, `{"a"}`, `{"a", "b",}`: strings separated by commas, one trailing comma allowed.
  function parseSetLiteral(): string[] {
    if (peek().kind !== '{') fail(peek(), 'expected a set literal such as {"a", "b"}');
    at++;
    const values: string[] = [];
    while (peek().kind === 'string') {
      values.push(peek().value);
      at++;
      if (peek().kind !== ',') break;
      at++;
    }
    if (peek().kind !== '}') {
      fail(peek(), values.length === 0 || tokens[at - 1]?.kind === ',' ? 'expected a quoted string or "}"' : 'expected "," or "}"');
    }
    at++;
    return values;
  }

  if (peek().kind === 'end') return ALL_NODE;
  const root = parseOr(0);
  if (peek().kind !== 'end') fail(peek(), 'expected "&&", "||" or the end of the selector');
  return root;
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end': return 'the end of the selector';
    case 'string': return `the string ${JSON.stringify(token.value)}`;
    case 'label': return `the label ${JSON.stringify(token.value)}`;
    case 'has()': return `has(${token.value})`;
    default: return JSON.stringify(token.kind);
  }
}
