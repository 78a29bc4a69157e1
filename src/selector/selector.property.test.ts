// Properties over random trees, texts and Kubernetes selectors: printing round-trips, evaluation
// agrees with a direct reading of the semantics, and no input escapes as anything but a UserError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserError } from '../errors/index.js';
import {
  andNode, hasNode, notNode, orNode, setNode, valueNode, ALL_NODE, GLOBAL_NODE,
  compareCodePoints, labelSelectorToSelector, parseSelector, printSelector, selectorFromAst,
  selectorLabelKeys, selectorLabelRestrictions, SelectorSyntaxError,
  type LabelSelector, type LabelSelectorRequirement, type Labels, type SelectorNode,
} from './index.js';

const RUNS = 400;

// Few keys and values, so random label maps often hit what random selectors test. Keys include
// Object.prototype member names, which must behave like any other label.
const KEYS = ['a', 'b', 'k8s-app', 'example.com/tier', 'x_y.z', 'constructor', '__proto__'] as const;
const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'ab', 'ba', 'web', "'", '"', 'it\'s', 'say "x"', 'ü', '😀', '\uFFFD', ' '),
  fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', ' ', "'", '"', 'é', '𝒳') }),
).filter((v) => !(v.includes('"') && v.includes("'")));

const labelsArb: fc.Arbitrary<Labels> = fc
  .array(fc.tuple(keyArb, valueArb), { maxLength: 5 })
  .map((entries) => Object.fromEntries(entries) as Labels);

const treeArb: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<SelectorNode>(ALL_NODE, GLOBAL_NODE),
    keyArb.map(hasNode),
    fc.tuple(fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith' as const), keyArb, valueArb)
      .map(([kind, key, value]) => valueNode(kind, key, value)),
    fc.tuple(fc.constantFrom('in', 'notIn' as const), keyArb, fc.array(valueArb, { maxLength: 4 }))
      .map(([kind, key, values]) => setNode(kind, key, values)),
    tie('node').map(notNode),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map(andNode),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map(orNode),
  ),
})).node;

// The semantics as the docs state them, read straight off the tree.
function reference(node: SelectorNode, labels: Labels): boolean {
  const present = (key: string): boolean => Object.hasOwn(labels, key);
  const value = (key: string): string | undefined => (present(key) ? labels[key] : undefined);
  switch (node.kind) {
    case 'all': case 'global': return true;
    case 'has': return present(node.key);
    case 'eq': return value(node.key) === node.value;
    case 'ne': return value(node.key) !== node.value;
    case 'contains': return present(node.key) && value(node.key)!.includes(node.value);
    case 'startsWith': return present(node.key) && value(node.key)!.startsWith(node.value);
    case 'endsWith': return present(node.key) && value(node.key)!.endsWith(node.value);
    case 'in': return present(node.key) && node.values.includes(value(node.key)!);
    case 'notIn': return !present(node.key) || !node.values.includes(value(node.key)!);
    case 'not': return !reference(node.operand, labels);
    case 'and': return node.operands.every((o) => reference(o, labels));
    case 'or': return node.operands.some((o) => reference(o, labels));
  }
}

test('printing then parsing reaches a fixed point and selects the same label sets', () => {
  fc.assert(fc.property(treeArb, fc.array(labelsArb, { maxLength: 8 }), (tree, labelSets) => {
    const printed = printSelector(tree);
    const once = parseSelector(printed);
    const twice = parseSelector(once.toString());
    assert.equal(twice.toString(), once.toString());
    assert.equal(parseSelector(twice.toString()).toString(), twice.toString());
    const built = selectorFromAst(tree);
    assert.equal(built.toString(), printed);
    for (const labels of labelSets) {
      const expected = reference(tree, labels);
      assert.equal(built.matches(labels), expected);
      assert.equal(once.matches(labels), expected);
      assert.equal(twice.matches(labels), expected);
    }
  }), { numRuns: RUNS });
});

test('a tree without parenthesised double negation prints to text that parses back to it', () => {
  const hasDoubleNegation = (n: SelectorNode): boolean =>
    n.kind === 'not' ? n.operand.kind === 'not' || hasDoubleNegation(n.operand)
      : n.kind === 'and' || n.kind === 'or' ? n.operands.some(hasDoubleNegation) : false;
  fc.assert(fc.property(treeArb.filter((t) => !hasDoubleNegation(t)), (tree) => {
    assert.deepEqual(parseSelector(printSelector(tree)).ast, tree);
  }), { numRuns: RUNS });
});

test('label keys and label restrictions are sound for every match', () => {
  fc.assert(fc.property(treeArb, fc.array(labelsArb, { maxLength: 8 }), (tree, labelSets) => {
    const selector = selectorFromAst(tree);
    const keys = new Set(selectorLabelKeys(selector));
    const restrictions = selectorLabelRestrictions(selector);
    for (const labels of labelSets) {
      if (!selector.matches(labels)) continue;
      // Dropping labels the selector never reads cannot change the outcome.
      const readOnly = Object.fromEntries(Object.entries(labels).filter(([k]) => keys.has(k)));
      assert.equal(selector.matches(readOnly), true);
      for (const [key, r] of restrictions) {
        const present = Object.hasOwn(labels, key);
        if (r.mustBePresent) assert.ok(present, `${selector} matched without ${key}`);
        if (r.mustBeAbsent) assert.ok(!present, `${selector} matched with ${key}`);
        if (r.mustHaveOneOf !== undefined) assert.ok(r.mustHaveOneOf.includes(labels[key]!), `${selector}: ${key}`);
      }
    }
  }), { numRuns: RUNS });
});

// Fragments that make random text look like selectors often enough to reach deep parser states.
const FRAGMENTS = [
  'a', 'b', 'k8s-app', 'x.y/z', ' ', '  ', '\t', '\n', '(', ')', '{', '}', ',', '"', "'", '"v"', "'v'",
  '=', '==', '!', '!=', '&', '&&', '|', '||', 'has(', 'all(', 'global(', 'in', 'not', 'not in', 'notin',
  'contains', 'starts', 'with', 'starts with', 'ends with', '%', 'ü', '😀', '\u00a0', '_', '-', '.', '/',
];

function assertParsesOrSyntaxError(text: string): void {
  let selector;
  try {
    selector = parseSelector(text);
  } catch (err) {
    assert.ok(err instanceof SelectorSyntaxError, `${JSON.stringify(text)} threw ${String(err)}`);
    assert.ok(Number.isInteger(err.position) && err.position >= 0 && err.position <= text.length);
    return;
  }
  // Whatever parses prints to text that parses again.
  assert.equal(parseSelector(parseSelector(selector.toString()).toString()).toString(), parseSelector(selector.toString()).toString());
}

test('random text either parses or throws SelectorSyntaxError', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 25 }), (parts) => {
    assertParsesOrSyntaxError(parts.join(''));
  }), { numRuns: 3000 });
  fc.assert(fc.property(fc.string({ maxLength: 40, unit: 'binary' }), assertParsesOrSyntaxError), { numRuns: 2000 });
});

test('mutations of valid selectors either parse or throw SelectorSyntaxError', () => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...FRAGMENTS) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );
  fc.assert(fc.property(treeArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (tree, mutations) => {
    let text = printSelector(tree);
    for (const m of mutations) {
      const at = text.length === 0 ? 0 : m.at % (text.length + 1);
      if (m.op === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
      else if (m.op === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
      else text = text.slice(0, at);
    }
    assertParsesOrSyntaxError(text);
  }), { numRuns: 2000 });
});

test('set members sort in Go order: UTF-8 bytes, that is code points', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), (a, b) => {
    assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  }), { numRuns: 2000 });
});

// Kubernetes label selectors against a direct reading of the Kubernetes rules.
const K8S_KEYS = ['app', 'tier', 'example.com/team', 'kubernetes.io/metadata.name', 'a.b_c-d'] as const;
const K8S_VALUES = ['', 'web', 'db', 'v1.2', 'A_b-c'] as const;
const k8sValueArb = fc.constantFrom(...K8S_VALUES);
const k8sLabelsArb: fc.Arbitrary<Labels> = fc
  .array(fc.tuple(fc.constantFrom(...K8S_KEYS), k8sValueArb), { maxLength: 5 })
  .map((entries) => Object.fromEntries(entries) as Labels);

const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.record({
  key: fc.constantFrom(...K8S_KEYS),
  operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'in'),
  values: fc.option(fc.array(k8sValueArb, { maxLength: 3 }), { nil: undefined }),
});

const labelSelectorArb: fc.Arbitrary<LabelSelector> = fc.record({
  matchLabels: fc.option(fc.dictionary(fc.constantFrom(...K8S_KEYS), k8sValueArb, { maxKeys: 3 }), { nil: undefined }),
  matchExpressions: fc.option(fc.array(requirementArb, { maxLength: 3 }), { nil: undefined }),
});

function isValidRequirement(r: LabelSelectorRequirement): boolean {
  const count = r.values?.length ?? 0;
  if (r.operator === 'In' || r.operator === 'NotIn') return count > 0;
  if (r.operator === 'Exists' || r.operator === 'DoesNotExist') return count === 0;
  return false;
}

function kubernetesMatches(ls: LabelSelector, labels: Labels): boolean {
  const present = (key: string): boolean => Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(ls.matchLabels ?? {})) {
    if (!present(key) || labels[key] !== value) return false;
  }
  for (const r of ls.matchExpressions ?? []) {
    const values = r.values ?? [];
    const ok = r.operator === 'In' ? present(r.key) && values.includes(labels[r.key]!)
      : r.operator === 'NotIn' ? !present(r.key) || !values.includes(labels[r.key]!)
        : r.operator === 'Exists' ? present(r.key)
          : !present(r.key);
    if (!ok) return false;
  }
  return true;
}

test('Kubernetes label selectors agree with the Kubernetes rules', () => {
  fc.assert(fc.property(labelSelectorArb, fc.array(k8sLabelsArb, { maxLength: 8 }), (ls, labelSets) => {
    const valid = (ls.matchExpressions ?? []).every(isValidRequirement);
    let selector;
    try {
      selector = labelSelectorToSelector(ls, 'spec.podSelector');
    } catch (err) {
      assert.ok(err instanceof UserError);
      assert.ok(!valid, `rejected a valid selector: ${String(err)}`);
      for (const problem of err.problems) assert.match(problem.path ?? '', /^spec\.podSelector\.matchExpressions\[\d+\]\.(values|operator)$/);
      return;
    }
    assert.ok(valid, `accepted an invalid selector ${JSON.stringify(ls)}`);
    const reparsed = parseSelector(selector.toString());
    for (const labels of labelSets) {
      const expected = kubernetesMatches(ls, labels);
      assert.equal(selector.matches(labels), expected, `${selector} on ${JSON.stringify(labels)}`);
      assert.equal(reparsed.matches(labels), expected);
    }
  }), { numRuns: RUNS });
});
