// The selector syntax tree: one node kind per Calico operator, plus constructors that keep every
// tree in the normal form Calico's parser produces (sets sorted and de-duplicated, trees frozen).

/** `all()`: matches everything. Also what the empty selector means. */
export interface AllNode { readonly kind: 'all' }

/**
 * `global()`: as an expression it matches everything, exactly like Calico's evaluator. Its meaning
 * ("non-namespaced resources only") is given by the policy layer, which rewrites it inside
 * `namespaceSelector` fields before evaluation.
 */
export interface GlobalNode { readonly kind: 'global' }

/** `has(key)`: the label is present, whatever its value. */
export interface HasNode { readonly kind: 'has'; readonly key: string }

/** The operators that compare one label's value with one string. */
export type ValueOperator = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';

/**
 * `key == "v"`, `key != "v"`, `key contains "v"`, `key starts with "v"`, `key ends with "v"`.
 * Only `ne` matches when the label is absent.
 */
export interface ValueNode { readonly kind: ValueOperator; readonly key: string; readonly value: string }

/** `key in {…}` (label present, value in the set) and `key not in {…}` (absent, or value not in it). */
export interface SetNode {
  readonly kind: 'in' | 'notIn';
  readonly key: string;
  /** Sorted by code point (Go's byte order on UTF-8) and without duplicates. */
  readonly values: readonly string[];
}

/** `!operand`. */
export interface NotNode { readonly kind: 'not'; readonly operand: SelectorNode }

/** `a && b && …` or `a || b || …`, with at least two operands, in source order, never flattened. */
export interface AndNode { readonly kind: 'and'; readonly operands: readonly SelectorNode[] }
export interface OrNode { readonly kind: 'or'; readonly operands: readonly SelectorNode[] }

export type SelectorNode = AllNode | GlobalNode | HasNode | ValueNode | SetNode | NotNode | AndNode | OrNode;

export const ALL_NODE: AllNode = Object.freeze({ kind: 'all' });
export const GLOBAL_NODE: GlobalNode = Object.freeze({ kind: 'global' });

export function hasNode(key: string): HasNode {
  return Object.freeze({ kind: 'has', key });
}

export function valueNode(kind: ValueOperator, key: string, value: string): ValueNode {
  return Object.freeze({ kind, key, value });
}

/** Sorts and de-duplicates `values`, as Calico's parser does before storing a set. */
export function setNode(kind: 'in' | 'notIn', key: string, values: Iterable<string>): SetNode {
  const sorted = [...new Set(values)].sort(compareCodePoints);
  return Object.freeze({ kind, key, values: Object.freeze(sorted) });
}

export function notNode(operand: SelectorNode): NotNode {
  return Object.freeze({ kind: 'not', operand });
}

export function andNode(operands: readonly SelectorNode[]): AndNode {
  return Object.freeze({ kind: 'and', operands: Object.freeze([...operands]) });
}

export function orNode(operands: readonly SelectorNode[]): OrNode {
  return Object.freeze({ kind: 'or', operands: Object.freeze([...operands]) });
}

/**
 * Orders strings by Unicode code point. Calico sorts set members with Go's `<` on strings, which
 * compares UTF-8 bytes, and that is code-point order; JavaScript's default sort compares UTF-16
 * code units, which differs once characters above U+FFFF meet ones in U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (which encode U+10000 and above) must rank after U+E000–U+FFFF: shift them up and
// the block above them down, keeping both blocks' internal order.
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
