// The Selector object (tree + canonical text + compiled matcher), the parse cache, and the ways to
// build one: from text, from a tree, or as a conjunction of others.
import { BugError } from '../errors/index.js';
import {
  ALL_NODE, GLOBAL_NODE, andNode, hasNode, notNode, orNode, setNode, valueNode, type SelectorNode,
} from './ast.js';
import { compileSelector, type Labels } from './compile.js';
import { SelectorSyntaxError } from './errors.js';
import { MAX_NESTING, parseSelectorText } from './parser.js';
import { printSelector } from './print.js';
import { isValidSelectorLabel } from './tokenizer.js';

export interface Selector {
  /** Whether an object with these labels is selected. Compiled once; safe to call detached. */
  matches(labels: Labels): boolean;
  /** Calico's canonical form, exactly as Calico's selector String() prints it. */
  toString(): string;
  /** The syntax tree, for indexes; frozen. */
  readonly ast: SelectorNode;
}

class CompiledSelector implements Selector {
  readonly matches: (labels: Labels) => boolean;
  readonly ast: SelectorNode;
  readonly #canonical: string;
  constructor(ast: SelectorNode) {
    this.ast = ast;
    this.#canonical = printSelector(ast);
    this.matches = compileSelector(ast);
    Object.freeze(this);
  }
  toString(): string {
    return this.#canonical;
  }
  toJSON(): string {
    return this.#canonical;
  }
}

/** `all()`: matches everything. */
export const allSelector: Selector = new CompiledSelector(ALL_NODE);

// Policies repeat the same few selector texts endlessly; remember the latest parses. Eviction is
// oldest-first (Map keeps insertion order), which costs nothing on a hit.
const CACHE_LIMIT = 8192;
const parsed = new Map<string, Selector>();

/**
 * Parses Calico selector text. Empty or blank text is `all()`. Throws SelectorSyntaxError (a
 * UserError) naming the 0-based position; with `path`, the error's problem carries that field path.
 */
export function parseSelector(text: string, path?: string): Selector {
  const cached = parsed.get(text);
  if (cached !== undefined) return cached;
  if (typeof text !== 'string') {
    throw new SelectorSyntaxError(String(text), 0, `expected a string, not ${text === null ? 'null' : typeof text}`, path);
  }
  let selector: Selector;
  try {
    const ast = parseSelectorText(text);
    selector = ast === ALL_NODE ? allSelector : new CompiledSelector(ast);
  } catch (err) {
    if (err instanceof SelectorSyntaxError && path !== undefined) throw err.atPath(path);
    throw err;
  }
  if (parsed.size >= CACHE_LIMIT) {
    const oldest = parsed.keys().next();
    if (oldest.done !== true) parsed.delete(oldest.value);
  }
  parsed.set(text, selector);
  return selector;
}

/**
 * A selector from a tree built in code. Sets are re-sorted and de-duplicated; a tree that cannot
 * be printed as valid selector text (bad label name, a value with both quote characters, an
 * `and`/`or` with fewer than two operands, nesting beyond the parser's limit) is a bug.
 */
export function selectorFromAst(node: SelectorNode): Selector {
  return new CompiledSelector(normalize(node, 0));
}

/**
 * The conjunction of selectors, as Calico builds one from texts with `(a) && (b)`: one `and`
 * node over the operands' trees, never flattened. No operands is `all()`; one is itself.
 */
export function andSelectors(...selectors: Selector[]): Selector {
  if (selectors.length === 0) return allSelector;
  if (selectors.length === 1) return selectors[0]!;
  return new CompiledSelector(andNode(selectors.map((s) => s.ast)));
}

/** A stable key for maps and de-duplication: the canonical text. */
export function selectorKey(selector: Selector): string {
  return selector.toString();
}

function normalize(node: SelectorNode, depth: number): SelectorNode {
  if (depth > 2 * MAX_NESTING + 2) throw new BugError(`selector tree nested deeper than ${2 * MAX_NESTING + 2}`);
  switch (node.kind) {
    case 'all': case 'global':
      return node.kind === 'all' ? ALL_NODE : GLOBAL_NODE;
    case 'has':
      return hasNode(checkedKey(node.key));
    case 'eq': case 'ne': case 'contains': case 'startsWith': case 'endsWith':
      return valueNode(node.kind, checkedKey(node.key), checkedValue(node.value));
    case 'in': case 'notIn':
      return setNode(node.kind, checkedKey(node.key), node.values.map(checkedValue));
    case 'not':
      return notNode(normalize(node.operand, depth + 1));
    case 'and': case 'or': {
      if (node.operands.length < 2) throw new BugError(`an ${node.kind} node needs at least two operands`);
      const operands = node.operands.map((operand) => normalize(operand, depth + 1));
      return node.kind === 'and' ? andNode(operands) : orNode(operands);
    }
    default:
      throw new BugError(`unknown selector node ${JSON.stringify(node)}`);
  }
}

function checkedKey(key: string): string {
  if (!isValidSelectorLabel(key)) throw new BugError(`${JSON.stringify(key)} cannot be a label name in a selector`);
  return key;
}

function checkedValue(value: string): string {
  if (typeof value !== 'string' || (value.includes('"') && value.includes("'"))) {
    throw new BugError(`${JSON.stringify(value)} cannot be written as a selector string`);
  }
  return value;
}
