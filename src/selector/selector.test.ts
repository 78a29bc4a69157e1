// Calico's selector behaviour pinned by example: matching, canonical printing and rejection,
// taken from projectcalico/calico's libcalico-go/lib/selector tests and the Selectors docs page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors/index.js';
import {
  allSelector, andSelectors, labelSelectorToSelector, parseSelector, prefixSelectorLabels, rewriteSelector,
  selectorFromAst, selectorKey, selectorLabelKeys, selectorLabelRestrictions, SelectorSyntaxError,
  hasNode, valueNode, setNode, andNode, notNode, type Labels, type LabelSelector,
} from './index.js';

type MatchVector = readonly [selector: string, labels: Labels, expected: boolean];

const A1B1 = { a: 'a1', b: 'b1' };

// [selector, labels, expected]. The first block is upstream's parser_test.go table, one row per
// label map; the rest covers what upstream documents but does not test.
const MATCH_VECTORS: readonly MatchVector[] = [
  ['a == "b"', { a: 'b' }, true],
  ['a == "b"', { a: 'b', c: 'd' }, true],
  ['a == "b"', {}, false],
  ['a == "b"', { a: 'c' }, false],
  ['a == "b"', { c: 'd' }, false],
  ['a == "b" && c == "d"', { a: 'b', c: 'd' }, true],
  ['a == "b" && c == "d"', {}, false],
  ['a == "b" && c == "d"', { a: 'b', c: 'e' }, false],
  ['a == "b" && c == "d"', { a: 'c', c: 'd' }, false],
  ['a == "b" && c == "d"', { c: 'd' }, false],
  ['a == "b" && c == "d"', { a: 'b' }, false],
  ['a == "b" || c == "d"', { a: 'b', c: 'd' }, true],
  ['a == "b" || c == "d"', { a: 'b' }, true],
  ['a == "b" || c == "d"', { c: 'd' }, true],
  ['a == "b" || c == "d"', {}, false],
  ['a == "b" || c == "d"', { a: 'e', c: 'e' }, false],
  ['a == "b" || c == "d"', { c: 'e' }, false],
  ['a == "b" || c == "d"', { a: 'e' }, false],
  [`a in {"'", '"', "c"}`, { a: 'c' }, true],
  [`a in {"'", '"', "c"}`, { a: '"' }, true],
  [`a in {"'", '"', "c"}`, { a: "'" }, true],
  [`a in {"'", '"', "c"}`, {}, false],
  [`a in {"'", '"', "c"}`, { a: 'e' }, false],
  [`a not in {"'", '"', "c"}`, {}, true],
  [`a not in {"'", '"', "c"}`, { a: 'e' }, true],
  [`a not in {"'", '"', "c"}`, { a: 'c' }, false],
  [`a not in {"'", '"', "c"}`, { a: '"' }, false],
  [`a not in {"'", '"', "c"}`, { a: "'" }, false],
  ["a == 'a'", { a: 'a' }, true],
  ['a == "a"', { a: 'a' }, true],
  ['a != "b"', { a: 'a' }, true],
  ['a != "a"', {}, true],
  ['a contains "a"', { a: 'a' }, true],
  ['a contains "a"', { a: 'bab' }, true],
  ['a contains "a"', { a: 'aaa', b: 'c' }, true],
  ['a contains "a"', {}, false],
  ['a contains "a"', { a: 'b' }, false],
  ['a contains "a"', { b: 'aaa' }, false],
  ['a starts with "a"', { a: 'a' }, true],
  ['a starts with "a"', { a: 'abb' }, true],
  ['a starts with "a"', { a: 'aaa', b: 'c' }, true],
  ['a starts with "a"', {}, false],
  ['a starts with "a"', { a: 'b' }, false],
  ['a starts with "a"', { a: 'baa' }, false],
  ['a starts with "a"', { b: 'aaa' }, false],
  ['a ends with "a"', { a: 'a' }, true],
  ['a ends with "a"', { a: 'bba' }, true],
  ['a ends with "a"', { a: 'aaa', b: 'c' }, true],
  ['a ends with "a"', {}, false],
  ['a ends with "a"', { a: 'b' }, false],
  ['a ends with "a"', { a: 'aab' }, false],
  ['a ends with "a"', { b: 'aaa' }, false],
  ['a in {"a"}', { a: 'a' }, true],
  ['!a in {"a"}', { a: 'b' }, true],
  ['a in {"a", "b"}', { a: 'a' }, true],
  ['a in {"a", "b"}', { a: 'b' }, true],
  ['a not in {"d", "e"}', { a: 'a' }, true],
  ['has(a)', { a: 'b' }, true],
  ['!has(a)', { b: 'b' }, true],
  ['', {}, true],
  [' ', {}, true],
  ['', { a: 'b' }, true],
  ['all()', {}, true],
  [' all()', {}, true],
  [' all()', { a: 'b' }, true],
  ['global()', {}, true],
  [' global()', {}, true],
  [' global()', { a: 'b' }, true],
  ["a == 'a'", { a: 'b' }, false],
  ["a == 'a'", {}, false],
  ['a != "a"', { a: 'a' }, false],
  ["a != 'a'", { a: 'a' }, false],
  ['a in {"a"}', { a: 'b' }, false],
  ['a not in {"a"}', { a: 'a' }, false],
  ['a in {"a", "b"}', { a: 'c' }, false],
  ['has(b)', { a: 'b' }, false],
  ['!!has(b)', { a: 'b' }, false],
  ['! has(a)', { a: 'b' }, false],
  ['!has(a)', { a: 'b' }, false],
  ['!!! has(a)', { a: 'b' }, false],
  ['!!!has(a)', { a: 'b' }, false],
  ['!! ! has(a)', { a: 'b' }, false],
  ['! !!has(a)', { a: 'b' }, false],
  ["a == 'a1' && b == 'b1'", A1B1, true],
  ["a == 'a1' && b != 'b1'", A1B1, false],
  ["a != 'a1' && b == 'b1'", A1B1, false],
  ["a != 'a1' && b != 'b1'", A1B1, false],
  ["a != 'a1' && !b == 'b1'", A1B1, false],
  ["!a == 'a1' && b == 'b1'", A1B1, false],
  ['has(a) && !has(b)', { a: 'a' }, true],
  ['!has(b) && has(a)', { a: 'a' }, true],
  ['!(!has(a) || has(b))', { a: 'a' }, true],
  ['!(has(b) || !has(a))', { a: 'a' }, true],
  ["a == 'a1' || b == 'b1'", A1B1, true],
  ["a == 'a1' || b != 'b1'", A1B1, true],
  ["a != 'a1' || b == 'b1'", A1B1, true],
  ["a != 'a1' || b != 'b1'", A1B1, false],
  ["! a == 'a1' || ! b == 'b1'", A1B1, false],

  // The docs' precedence example: `!` binds tighter than `&&`, which binds tighter than `||`.
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", {}, true],
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", { role: 'db' }, true],
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", { 'my-label': 'prod-1', role: 'business' }, true],
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", { 'my-label': 'prod-1', role: 'db' }, false],
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", { 'my-label': 'dev', role: 'frontend' }, false],
  ['has(a) || has(b) && has(c)', { a: '' }, true],
  ['has(a) || has(b) && has(c)', { b: '' }, false],
  ['(has(a) || has(b)) && has(c)', { a: '' }, false],
  ['(has(a) || has(b)) && has(c)', { b: '', c: '' }, true],
  ['!(has(a) && has(b))', { a: '' }, true],
  ['!(has(a) && has(b))', { a: '', b: '' }, false],
  ['!all()', {}, false],
  ['!global()', { a: 'b' }, false],
  // Empty sets: `in {}` matches nothing, `not in {}` everything.
  ['a in {}', { a: '' }, false],
  ['a in {}', {}, false],
  ['a not in {}', {}, true],
  ['a not in {}', { a: 'x' }, true],
  ['a in {"x",}', { a: 'x' }, true],
  ['a notin{"x"}', { a: 'y' }, true],
  // Empty strings and empty values.
  ['a == ""', { a: '' }, true],
  ['a == ""', {}, false],
  ['a != ""', {}, true],
  ['a contains ""', { a: '' }, true],
  ['a contains ""', {}, false],
  ['a starts with ""', { a: 'x' }, true],
  ['a ends with ""', {}, false],
  ['has(a)', { a: '' }, true],
  // Case matters; values are compared exactly, spaces and non-ASCII included.
  ['a == "B"', { a: 'b' }, false],
  ['A == "b"', { a: 'b' }, false],
  ['a == "b c"', { a: 'b c' }, true],
  ['a == "ü"', { a: 'ü' }, true],
  ['a ends with "😀"', { a: 'x😀' }, true],
  // Label names use letters, digits and _ . / -; keywords are ordinary names in label position.
  ['calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"', { 'calico/k8s_ns': 'kube-system', 'k8s-app': 'kube-dns' }, true],
  ['has(calico/k8s_NS-.1/role)', { 'calico/k8s_NS-.1/role': 'x' }, true],
  ['contains contains "contains"', { contains: 'xcontainsx' }, true],
  ['in in {"in"}', { in: 'in' }, true],
  ['has( a )', { a: '1' }, true],
  ['all == "x"', { all: 'x' }, true],
  // Keys that name Object.prototype members are ordinary labels.
  ['has(constructor)', {}, false],
  ['has(constructor)', { constructor: 'x' }, true],
  ['constructor != "x"', {}, true],
  ['toString in {"a"}', {}, false],
  ['hasOwnProperty not in {"a"}', {}, true],
  ['has(__proto__)', {}, false],
  ['__proto__ == "x"', JSON.parse('{"__proto__": "x"}') as Labels, true],
  ['valueOf contains ""', {}, false],
];

test(`${MATCH_VECTORS.length} match vectors agree with Calico`, () => {
  assert.ok(MATCH_VECTORS.length >= 60);
  for (const [text, labels, expected] of MATCH_VECTORS) {
    const selector = parseSelector(text);
    assert.equal(selector.matches(labels), expected, `${JSON.stringify(text)} on ${JSON.stringify(labels)}`);
    // Upstream also checks the canonical form selects the same.
    assert.equal(parseSelector(selector.toString()).matches(labels), expected, `canonical form of ${JSON.stringify(text)}`);
  }
});

test('matches works detached from its selector and on null-prototype label maps', () => {
  const { matches } = parseSelector('a == "1" && has(b)');
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  labels.a = '1';
  labels.b = '';
  assert.equal(matches(labels), true);
});

// [input, canonical]. Upstream's canonicalisationTests and visitor tests (without the prefix),
// then the printing rules they imply: quotes, spacing, parentheses, set order.
const CANONICAL_PAIRS: readonly (readonly [string, string])[] = [
  ['', 'all()'],
  [' all() ', 'all()'],
  [' (all() )', 'all()'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'],
  [`a == "'"`, `a == "'"`],
  [`a == '"'`, `a == '"'`],
  [`a contains '"'`, `a contains '"'`],
  [`a contains "'"`, `a contains "'"`],
  [`a startswith '"'`, `a starts with '"'`],
  [`a endswith "'"`, `a ends with "'"`],
  [`a!='"'`, `a != '"'`],
  ['a in {"d"}', 'a in {"d"}'],
  ['a in {"a", "b"}', 'a in {"a", "b"}'],
  ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}'],
  ['a in {"z", "x", "y", "a"}', 'a in {"a", "x", "y", "z"}'],
  ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'],
  ["k == 'v'", 'k == "v"'],
  ["k != 'v'", 'k != "v"'],
  ["k contains 'v'", 'k contains "v"'],
  ["k starts with 'v'", 'k starts with "v"'],
  ["k ends with 'v'", 'k ends with "v"'],
  ["k == 'v' && x == 'y'", '(k == "v" && x == "y")'],
  ["k == 'v' || has(x)", '(k == "v" || has(x))'],
  ["!(k == 'v')", '!k == "v"'],
  ["k in {'v'}", 'k in {"v"}'],
  ["k not in {'v'}", 'k not in {"v"}'],
  ["!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))", '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})'],
  ['global()', 'global()'],
  [' global( ) ', 'global()'],
  ['all( )', 'all()'],
  ['! has(a)', '!has(a)'],
  ['!!has(a)', 'has(a)'],
  ['!!!has(a)', '!has(a)'],
  ['!(!has(a))', '!!has(a)'],
  ['!all()', '!all()'],
  ['a in {}', 'a in {}'],
  ['a not in {}', 'a not in {}'],
  ['a notin {"x",}', 'a not in {"x"}'],
  ['a  not  in{"x"}', 'a not in {"x"}'],
  ['a==\'b\'', 'a == "b"'],
  ['a == ""', 'a == ""'],
  ['a == "b" && c == "d" && e == "f"', '(a == "b" && c == "d" && e == "f")'],
  ['a == "b" || c == "d" && e == "f"', '(a == "b" || (c == "d" && e == "f"))'],
  ['(a == "b" || c == "d") && e == "f"', '((a == "b" || c == "d") && e == "f")'],
  ['a == "b" && (c == "d" && e == "f")', '(a == "b" && (c == "d" && e == "f"))'],
  ['((a == "b"))', 'a == "b"'],
  ['!(a == "b" || c == "d")', '!(a == "b" || c == "d")'],
  ['!a in {"a"}', '!a in {"a"}'],
  [`a in {"'", '"'}`, `a in {'"', "'"}`],
  ['a in {"b", "B", "a", "1", "_"}', 'a in {"1", "B", "_", "a", "b"}'],
  // Go sorts by UTF-8 bytes (code points): U+FFFD before U+1F600, unlike JavaScript's default sort.
  ['a in {"😀", "\uFFFD"}', 'a in {"\uFFFD", "😀"}'],
  ['\thas(a)\t&&\thas(b)\t', '(has(a) && has(b))'],
  ['has(calico/k8s_NS-.1/role)', 'has(calico/k8s_NS-.1/role)'],
  ["! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
    '(!has(my-label) || (my-label starts with "prod" && role in {"business", "frontend"}))'],
  ['a == "it\'s"', `a == "it's"`],
  ["a == 'say \"hi\"'", `a == 'say "hi"'`],
];

test(`${CANONICAL_PAIRS.length} inputs print in Calico's canonical form and round-trip`, () => {
  assert.ok(CANONICAL_PAIRS.length >= 40);
  for (const [input, canonical] of CANONICAL_PAIRS) {
    const selector = parseSelector(input);
    assert.equal(selector.toString(), canonical, `canonical form of ${JSON.stringify(input)}`);
    assert.equal(String(selector), canonical);
    assert.equal(selectorKey(selector), canonical);
    // Canonical text is a fixed point: parsing it again prints the same, except for the
    // double negation below, which Calico prints as it found it but collapses when parsing.
    if (canonical !== '!!has(a)') {
      assert.equal(parseSelector(canonical).toString(), canonical, `re-parse of ${JSON.stringify(canonical)}`);
    }
  }
});

test('like Calico String(), printing is not idempotent for a parenthesised double negation', () => {
  // `!(!x)` parses to not(not(x)) and prints `!!x`; a run of `!`s collapses when parsed, so
  // `!!x` is x. One more round reaches the fixed point.
  const once = parseSelector('!(!has(a))');
  assert.equal(once.toString(), '!!has(a)');
  assert.equal(parseSelector(once.toString()).toString(), 'has(a)');
  assert.equal(parseSelector('has(a)').toString(), 'has(a)');
});

const INVALID_SELECTORS: readonly string[] = [
  // Upstream's badSelectors.
  'b == b', 'b contains b', 'b starts with b', 'b ends with b', "'b1' == b", 'b', 'a b', '!',
  'foo == "bar" &', 'foo == "bar" |', 'foo != ||', 'foo in {"", ||', 'foo in ""', '"FOO', '"FOO\'',
  "'FOO", '(', '(a == "foo"', ')', '()', '%', 'a == "b" && %', 'a == "b" || %', 'a ', 'has(foo) &&',
  // Upstream tokenizer failures.
  'label starts foo "value"', 'label ends foo "value"', 'label squiggles "value"',
  // Operators must end at a word boundary; spaced `all (`/`has (` are labels followed by `(`.
  'a containsx "b"', 'a inx {"b"}', 'a in_ {"b"}', 'a startswithx "b"', 'all ()', 'global ( )', 'has (a)',
  // has( needs exactly one label name.
  'has()', 'has(a', 'has(a b)', 'has("a")', 'has(a,b)',
  // Only == and != exist, in doubled form.
  'a = "b"', 'a === "b"', 'a == "b" & c == "d"', 'a == "b" | c == "d"', 'a !== "b"', 'a <> "b"',
  // Set literals: strings separated by single commas.
  'a in {"a",,}', 'a in {,}', 'a in {"a" "b"}', 'a in ("a")', 'a in {"a"', 'a in {a}', 'a in {"a"}}',
  // Structure.
  'a == "b")', '((a == "b")', 'a == "b" c == "d"', 'a == "b" ||', '&& a == "b"', '!!', 'a == "b" !',
  '{', '}', ',', 'a == b"c"', '"a" == "b"', 'has(a) has(b)', 'all() all()', 'a in {"x"} == "y"',
  // Characters outside label names, and whitespace other than space and tab.
  'a.b@c == "x"', 'ü == "x"', 'a == "b"\n', '\na == "b"', 'a\r== "b"', 'a ==\u00a0"b"', 'has(a)\u2028',
  // A label name longer than 512 characters.
  `has(${'x'.repeat(513)})`, `${'x'.repeat(513)} == "y"`,
];

test(`${INVALID_SELECTORS.length} invalid selectors throw SelectorSyntaxError`, () => {
  for (const text of INVALID_SELECTORS) {
    assert.throws(() => parseSelector(text), (err: unknown) => {
      assert.ok(err instanceof SelectorSyntaxError, `${JSON.stringify(text)} threw ${String(err)}`);
      assert.ok(err instanceof UserError);
      assert.equal(err.selector, text);
      assert.ok(err.position >= 0 && err.position <= text.length);
      assert.match(err.message, / at position \d+$/);
      return true;
    }, JSON.stringify(text));
  }
});

test('label names of exactly 512 characters are accepted', () => {
  const key = 'x'.repeat(512);
  assert.equal(parseSelector(`has(${key})`).toString(), `has(${key})`);
});

test('syntax errors name the 0-based position and what was expected', () => {
  const cases: readonly (readonly [string, number, RegExp])[] = [
    ['a == ', 5, /expected a quoted string/],
    ['%', 0, /expected a label.*found "%"/],
    ['a == "b" && %', 12, /found "%"/],
    ['(a == "foo"', 11, /expected "\)"/],
    ["'FOO", 0, /expected a closing '/],
    ['a == "x" )', 9, /expected "&&", "\|\|" or the end/],
    ['a', 1, /after label "a"/],
    ['a = "b"', 2, /expected "=="/],
    ['a in "x"', 5, /expected a set literal/],
    ['a == "b"\n', 8, /only spaces and tabs/],
    // Calico tokenizes the whole text before parsing, so the lexical error at 7 wins over the
    // grammatical one at 5.
    ['b == b %', 7, /found "%"/],
  ];
  for (const [text, position, message] of cases) {
    assert.throws(() => parseSelector(text), (err: unknown) => {
      assert.ok(err instanceof SelectorSyntaxError);
      assert.equal(err.position, position, JSON.stringify(text));
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`invalid selector ${JSON.stringify(text)}: `));
      assert.match(err.message, new RegExp(` at position ${position}$`));
      return true;
    });
  }
});

test('a syntax error carries the field path it was parsed for', () => {
  assert.throws(() => parseSelector('a ==', 'spec.selector'), (err: unknown) => {
    assert.ok(err instanceof SelectorSyntaxError);
    assert.equal(err.problems[0]?.path, 'spec.selector');
    assert.match(err.message, /^spec\.selector: invalid selector "a ==": expected a quoted string/);
    return true;
  });
});

test('non-string input is a user error, not a crash', () => {
  assert.throws(() => parseSelector(undefined as unknown as string), SelectorSyntaxError);
  assert.throws(() => parseSelector(42 as unknown as string), SelectorSyntaxError);
});

test('nesting deeper than the limit is a syntax error, not a stack overflow', () => {
  assert.throws(() => parseSelector('('.repeat(100_000)), SelectorSyntaxError);
  assert.throws(() => parseSelector(`${'('.repeat(300)}has(a)${')'.repeat(300)}`), SelectorSyntaxError);
  const deep = `${'!('.repeat(200)}has(a)${')'.repeat(200)}`;
  assert.equal(parseSelector(deep).matches({ a: '' }), true);
  assert.equal(parseSelector('!'.repeat(100_001) + 'has(a)').toString(), '!has(a)');
});

test('long selectors parse in linear time', () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `k${i} == "v${i}"`).join(' && ');
  const started = Date.now();
  const selector = parseSelector(text);
  assert.ok(Date.now() - started < 2000);
  assert.equal(selector.ast.kind, 'and');
  assert.equal(selector.matches({}), false);
});

test('parsing is cached: the same text gives the same object', () => {
  assert.equal(parseSelector('a == "cached"'), parseSelector('a == "cached"'));
});

test('allSelector and the empty selector are all()', () => {
  assert.equal(allSelector.toString(), 'all()');
  assert.equal(allSelector.matches({}), true);
  assert.deepEqual(parseSelector('').ast, { kind: 'all' });
});

test('the syntax tree is exported in normal form and frozen', () => {
  const selector = parseSelector('!has(a) && b in {"y", "x", "y"} || c != "d"');
  assert.deepEqual(selector.ast, {
    kind: 'or',
    operands: [
      { kind: 'and', operands: [{ kind: 'not', operand: { kind: 'has', key: 'a' } }, { kind: 'in', key: 'b', values: ['x', 'y'] }] },
      { kind: 'ne', key: 'c', value: 'd' },
    ],
  });
  assert.ok(Object.isFrozen(selector.ast));
  assert.ok(Object.isFrozen(selector));
});

test('andSelectors builds what Calico parses from "(a) && (b)", never flattened', () => {
  const a = parseSelector('projectcalico.org/namespace == "ns1"');
  const b = parseSelector('app == "web" && tier != "db"');
  const both = andSelectors(a, b);
  assert.equal(both.toString(), '(projectcalico.org/namespace == "ns1" && (app == "web" && tier != "db"))');
  assert.equal(both.toString(), parseSelector(`(${a}) && (${b})`).toString());
  assert.equal(both.matches({ 'projectcalico.org/namespace': 'ns1', app: 'web' }), true);
  assert.equal(both.matches({ 'projectcalico.org/namespace': 'ns2', app: 'web' }), false);
  assert.equal(andSelectors(), allSelector);
  assert.equal(andSelectors(b), b);
  assert.equal(andSelectors(a, allSelector).toString(), '(projectcalico.org/namespace == "ns1" && all())');
});

test('selectorLabelKeys lists the keys read, sorted and unique', () => {
  assert.deepEqual(selectorLabelKeys(parseSelector('b == "1" || !has(a) && b in {"2"} || c contains "x"')), ['a', 'b', 'c']);
  assert.deepEqual(selectorLabelKeys(parseSelector('all() || global()')), []);
});

test('selectorLabelRestrictions gives necessary conditions like Calico LabelRestrictions', () => {
  const r = selectorLabelRestrictions(parseSelector('a == "x" && has(b) && !has(c) && d in {"1", "2"} && e != "z"'));
  assert.deepEqual(Object.fromEntries(r), {
    a: { mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: ['x'] },
    b: { mustBePresent: true, mustBeAbsent: false },
    c: { mustBePresent: false, mustBeAbsent: true },
    d: { mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: ['1', '2'] },
  });
  const inconsistent = selectorLabelRestrictions(parseSelector("a == 'B' && a == 'C'"));
  assert.deepEqual(inconsistent.get('a')?.mustHaveOneOf, []);
  const either = selectorLabelRestrictions(parseSelector('a == "x" || a in {"y", "z"} || has(a) && b == "1"'));
  assert.deepEqual(Object.fromEntries(either), { a: { mustBePresent: true, mustBeAbsent: false } });
  const values = selectorLabelRestrictions(parseSelector('a == "x" || a in {"y"}'));
  assert.deepEqual(values.get('a')?.mustHaveOneOf, ['x', 'y']);
  assert.equal(selectorLabelRestrictions(parseSelector('a == "x" || has(b)')).size, 0);
});

test('selectorFromAst normalises sets and rejects trees that cannot be printed', () => {
  const selector = selectorFromAst(andNode([setNode('in', 'k', ['b', 'a', 'b']), notNode(hasNode('x'))]));
  assert.equal(selector.toString(), '(k in {"a", "b"} && !has(x))');
  assert.throws(() => selectorFromAst(hasNode('has space')));
  assert.throws(() => selectorFromAst(valueNode('eq', 'k', `both " and '`)));
  assert.throws(() => selectorFromAst(andNode([hasNode('a')])));
});

test('prefixSelectorLabels and rewriteSelector mirror Calico PrefixVisitor', () => {
  const visited = prefixSelectorLabels(parseSelector("!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))"), 'visited/');
  assert.equal(visited.toString(), '!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})');
  const rewritten = rewriteSelector(parseSelector('global() || has(a)'), (node) =>
    node.kind === 'global' ? notNode(hasNode('projectcalico.org/namespace')) : undefined);
  assert.equal(rewritten.toString(), '(!has(projectcalico.org/namespace) || has(a))');
});

// Kubernetes label selectors: the tree Calico's k8sSelectorToCalico text parses to.
test('label selectors convert as Calico converts them, with Kubernetes semantics', () => {
  const cases: readonly (readonly [LabelSelector, string])[] = [
    [{}, 'all()'],
    [{ matchLabels: null, matchExpressions: null }, 'all()'],
    [{ matchLabels: { app: 'web' } }, 'app == "web"'],
    [{ matchLabels: { b: '2', a: '1' } }, '(a == "1" && b == "2")'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev', 'prod'] }] }, 'env in {"dev", "prod"}'],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, 'env not in {"prod"}'],
    [{ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, 'has(env)'],
    [{ matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: null }] }, '!has(env)'],
    [{ matchLabels: { 'example.com/app': 'x' }, matchExpressions: [{ key: 'z', operator: 'Exists', values: [] }, { key: 'a', operator: 'In', values: [''] }] },
      '(example.com/app == "x" && has(z) && a in {""})'],
  ];
  for (const [ls, canonical] of cases) {
    assert.equal(labelSelectorToSelector(ls).toString(), canonical, JSON.stringify(ls));
  }
  const notIn = labelSelectorToSelector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] });
  assert.equal(notIn.matches({}), true, 'NotIn matches when the key is absent');
  assert.equal(notIn.matches({ env: 'prod' }), false);
  assert.equal(labelSelectorToSelector({}).matches({ anything: 'x' }), true);
  const dne = labelSelectorToSelector({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] });
  assert.equal(dne.matches({ env: '' }), false);
  assert.equal(dne.matches({}), true);
});

test('invalid label selectors report every problem with its field path', () => {
  const problemsOf = (ls: unknown, path?: string): readonly { path?: string; message: string }[] => {
    try {
      labelSelectorToSelector(ls as LabelSelector, path);
    } catch (err) {
      assert.ok(err instanceof UserError);
      assert.ok(!(err instanceof SelectorSyntaxError));
      return err.problems;
    }
    assert.fail(`accepted ${JSON.stringify(ls)}`);
  };
  const paths = (ls: unknown, path?: string): (string | undefined)[] => problemsOf(ls, path).map((p) => p.path);

  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'spec.podSelector'),
    ['spec.podSelector.matchExpressions[0].values']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }), ['matchExpressions[0].values']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), ['matchExpressions[0].values']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] }), ['matchExpressions[0].values']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] }), ['matchExpressions[0].operator']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), ['matchExpressions[0].operator']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'not ok'] }] }), ['matchExpressions[0].values[1]']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'a', operator: 'In', values: ['x'.repeat(64)] }] }), ['matchExpressions[0].values[0]']);
  assert.deepEqual(paths({ matchExpressions: [{ key: '', operator: 'Exists' }] }), ['matchExpressions[0].key']);
  assert.deepEqual(paths({ matchLabels: { 'bad key': 'x', good: '-bad-value-' } }, 'spec'), ['spec.matchLabels', 'spec.matchLabels["good"]']);
  assert.deepEqual(paths({ matchExpressions: [{ key: 'ok', operator: 'Exists' }, { key: 'x', operator: 'In', values: [] }] }),
    ['matchExpressions[1].values']);

  const badKeys = ['a/b/c', '/a', 'a/', 'Example.com/a', `${'a'.repeat(254)}/b`, 'x'.repeat(64), '-a', 'a_', 'a b', 'ü'];
  for (const key of badKeys) {
    assert.equal(problemsOf({ matchExpressions: [{ key, operator: 'Exists' }] }).length, 1, key);
  }
  const goodKeys = ['a', 'A.b-c_d', 'example.com/App', 'x'.repeat(63), `${'a'.repeat(253)}/b`, 'kubernetes.io/metadata.name', '9'];
  for (const key of goodKeys) {
    assert.equal(labelSelectorToSelector({ matchExpressions: [{ key, operator: 'Exists' }] }).toString(), `has(${key})`);
  }
});
