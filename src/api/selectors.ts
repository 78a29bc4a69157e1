// The `labelSelector` and `fieldSelector` query parameters in Kubernetes syntax. Label selectors
// (`a=b,c!=d,e in (x,y),!f`) become a Calico selector tree from the selector module, so one
// evaluator decides what matches everywhere; field selectors support the fields a type declares.
import { andNode, hasNode, labelKeyError, labelValueError, notNode, selectorFromAst, setNode, valueNode, type SelectorNode } from '../selector/index.js';
import { badRequest } from './status.js';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

interface Lexer {
  text: string;
  pos: number;
}

const IDENT = /[A-Za-z0-9\-_./]/;

function skipSpace(l: Lexer): void {
  while (l.pos < l.text.length && /\s/.test(l.text[l.pos] as string)) l.pos++;
}

function ident(l: Lexer): string {
  const start = l.pos;
  while (l.pos < l.text.length && IDENT.test(l.text[l.pos] as string)) l.pos++;
  return l.text.slice(start, l.pos);
}

function fail(l: Lexer, expected: string): never {
  const found = l.pos >= l.text.length ? 'end of string' : JSON.stringify(l.text[l.pos]);
  throw badRequest(`unable to parse requirement: found ${found} at position ${l.pos} of ${JSON.stringify(l.text)}, expected ${expected}`);
}

function checkKey(l: Lexer, key: string): void {
  const error = labelKeyError(key);
  if (key === '' || error !== undefined) throw badRequest(`unable to parse requirement: invalid label key ${JSON.stringify(key)}: ${error ?? 'must be non-empty'}`);
  void l;
}

function checkValue(value: string): void {
  const error = labelValueError(value);
  if (error !== undefined) throw badRequest(`unable to parse requirement: ${error}`);
}

type Term = { node: SelectorNode } | { numeric: { key: string; op: 'gt' | 'lt'; value: number } };

function parseRequirement(l: Lexer): Term {
  skipSpace(l);
  if (l.text[l.pos] === '!') {
    l.pos++;
    skipSpace(l);
    const key = ident(l);
    checkKey(l, key);
    return { node: notNode(hasNode(key)) };
  }
  const key = ident(l);
  if (key === '') fail(l, 'a label key');
  checkKey(l, key);
  skipSpace(l);
  const rest = l.text.slice(l.pos);
  if (l.pos >= l.text.length || l.text[l.pos] === ',') return { node: hasNode(key) };
  let op: string;
  if (rest.startsWith('==')) op = '==';
  else if (rest.startsWith('!=')) op = '!=';
  else if (rest.startsWith('=')) op = '=';
  else if (rest.startsWith('>')) op = '>';
  else if (rest.startsWith('<')) op = '<';
  else if (/^in\s*\(/.test(rest)) op = 'in';
  else if (/^notin\s*\(/.test(rest)) op = 'notin';
  else fail(l, "one of '=', '==', '!=', 'in', 'notin', '>', '<', ',' or end of string");
  l.pos += op.length;
  skipSpace(l);
  if (op === 'in' || op === 'notin') {
    l.pos++; // '('
    const values: string[] = [];
    for (;;) {
      skipSpace(l);
      const v = ident(l);
      checkValue(v);
      values.push(v);
      skipSpace(l);
      if (l.text[l.pos] === ',') {
        l.pos++;
        continue;
      }
      if (l.text[l.pos] === ')') {
        l.pos++;
        break;
      }
      fail(l, "',' or ')'");
    }
    return { node: setNode(op === 'in' ? 'in' : 'notIn', key, values) };
  }
  const value = ident(l);
  if (op === '>' || op === '<') {
    if (!/^-?\d+$/.test(value)) fail(l, 'an integer');
    return { numeric: { key, op: op === '>' ? 'gt' : 'lt', value: Number(value) } };
  }
  checkValue(value);
  return { node: valueNode(op === '!=' ? 'ne' : 'eq', key, value) };
}

/** Parses a Kubernetes label selector; `undefined` or '' matches everything. Bad input → 400. */
export function parseLabelSelector(text: string | undefined): LabelMatcher | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const l: Lexer = { text, pos: 0 };
  const nodes: SelectorNode[] = [];
  const numeric: { key: string; op: 'gt' | 'lt'; value: number }[] = [];
  for (;;) {
    const term = parseRequirement(l);
    if ('node' in term) nodes.push(term.node);
    else numeric.push(term.numeric);
    skipSpace(l);
    if (l.pos >= l.text.length) break;
    if (l.text[l.pos] !== ',') fail(l, "',' or end of string");
    l.pos++;
  }
  const selector = nodes.length === 0 ? undefined : selectorFromAst(nodes.length === 1 ? (nodes[0] as SelectorNode) : andNode(nodes));
  return (labels) => {
    if (selector !== undefined && !selector.matches(labels as Record<string, string>)) return false;
    for (const n of numeric) {
      const v = labels[n.key];
      if (v === undefined || !/^-?\d+$/.test(v)) return false;
      if (n.op === 'gt' ? !(Number(v) > n.value) : !(Number(v) < n.value)) return false;
    }
    return true;
  };
}

export type FieldMatcher = (object: Readonly<Record<string, unknown>>) => boolean;

function valueAtDotted(obj: Readonly<Record<string, unknown>>, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/**
 * Parses a field selector (`metadata.name=x,metadata.namespace!=y`). Only metadata.name,
 * metadata.namespace (namespaced types) and the type's declared fields are supported.
 */
export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldMatcher | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const terms: { field: string; negate: boolean; value: string }[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (m === null) throw badRequest(`invalid field selector: ${JSON.stringify(part)}: expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field} (supported: ${supported.join(', ')})`);
    terms.push({ field, negate: op === '!=', value });
  }
  if (terms.length === 0) return undefined;
  return (obj) => terms.every((t) => (valueAtDotted(obj, t.field) === t.value) !== t.negate);
}
