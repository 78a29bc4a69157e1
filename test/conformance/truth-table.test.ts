// Unit tests for the conformance harness: the truth-table format, the base/overlay merge and the diff
// report, so the runner can be trusted before the CLI it drives exists.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CaseFormatError, compareMatrix, coverageProblems, discoverFamilies, loadCase, mergeManifests, objectKey, parseAliases,
  parseExpectations, parseManifest, parseProbe, podNames, renderTable, serializeManifest,
} from './harness.js';

const TWO = `
# a comment
# port 80/TCP
      x/a x/b
x/a    .   X
x/b    .   .

# port 53/UDP
    x/a x/b
x/a  .   .
x/b  X   .
`;

test('parses tables, probes and cells', () => {
  const { tables } = parseExpectations(TWO, 'two.txt');
  assert.equal(tables.length, 2);
  const [tcp, udp] = tables;
  assert.ok(tcp && udp);
  assert.deepEqual([tcp.port, tcp.protocol, tcp.line], [80, 'TCP', 3]);
  assert.deepEqual(tcp.pods, ['x/a', 'x/b']);
  assert.equal(tcp.allowed.get('x/a')?.get('x/b'), false);
  assert.equal(tcp.allowed.get('x/b')?.get('x/a'), true);
  assert.deepEqual([udp.port, udp.protocol], [53, 'UDP']);
  assert.equal(udp.allowed.get('x/b')?.get('x/a'), false);
});

test('rows may come in any order and comments may sit inside a table', () => {
  const { tables } = parseExpectations('# port 81/SCTP\n  x/a y/b\ny/b . .\n# why y/b is open\nx/a . X\n', 'order.txt');
  assert.equal(tables[0]?.allowed.get('x/a')?.get('y/b'), false);
  assert.equal(tables[0]?.protocol, 'SCTP');
});

test('aliases, inherited and local, resolve to namespace/pod', () => {
  const inherited = parseAliases('# alias g0 = house-g/harry-0\nnot an alias line\n', 'aliases.txt');
  assert.equal(inherited.get('g0'), 'house-g/harry-0');
  const text = '# alias s0 = house-s/draco-0\n# port 80/TCP\n   g0 s0\ng0 .  X\ns0 .  .\n';
  const { tables, aliases } = parseExpectations(text, 'alias.txt', inherited);
  assert.deepEqual(tables[0]?.pods, ['house-g/harry-0', 'house-s/draco-0']);
  assert.equal(tables[0]?.allowed.get('house-g/harry-0')?.get('house-s/draco-0'), false);
  assert.equal(aliases.get('s0'), 'house-s/draco-0');
});

test('parseProbe accepts N/TCP|UDP|SCTP only', () => {
  assert.deepEqual(parseProbe('36363/TCP'), { port: 36363, protocol: 'TCP' });
  assert.equal(parseProbe('80/tcp'), undefined);
  assert.equal(parseProbe('0/TCP'), undefined);
  assert.equal(parseProbe('65536/UDP'), undefined);
  assert.equal(parseProbe('80/ICMP'), undefined);
  assert.equal(parseProbe('80'), undefined);
});

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseExpectations(text, 'bad.txt'), (error: unknown) => {
    assert.ok(error instanceof CaseFormatError, `expected CaseFormatError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.match(error.message, /^bad\.txt/);
    return true;
  });
}

test('rejects malformed tables with file and line', () => {
  rejects('', /no "# port/);
  rejects('# just words\n', /no "# port/);
  rejects('# port 80/TCP\n\n', /has no table below it/);
  rejects('# port 80/TCP\n', /has no table below it/);
  rejects('# port 80/XYZ\n x/a\nx/a .\n', /bad\.txt:1: expected "# port N/);
  rejects('x/a .\n', /bad\.txt:1: text outside a table/);
  rejects('# port 80/TCP\n  x/a x/b\nx/a . .\n', /no row for x\/b/);
  rejects('# port 80/TCP\n  x/a x/b\nx/a . .\nx/b .\n', /bad\.txt:4: row x\/b has 1 cells, expected 2/);
  rejects('# port 80/TCP\n  x/a x/b\nx/a . o\nx/b . .\n', /bad\.txt:3: cell x\/a -> x\/b is "o"/);
  rejects('# port 80/TCP\n  x/a x/a\n', /column x\/a appears twice/);
  rejects('# port 80/TCP\n  x/a\nx/a .\nx/a .\n', /row x\/a appears twice/);
  rejects('# port 80/TCP\n  x/a\ny/b .\n', /row y\/b is not a column/);
  rejects('# port 80/TCP\n  x/a\nx/a X\n', /must be "\." \(a pod's traffic to itself is always allowed\)/);
  rejects('# port 80/TCP\n  xa\nxa .\n', /"xa" is neither namespace\/pod nor a known alias/);
  rejects('# port 80/TCP\n  x/a\nx/a .\n\n# port 80/TCP\n  x/a\nx/a .\n', /port 80\/TCP appears twice/);
  rejects('# alias a = x/a\n# alias a = x/b\n', /alias a is already defined as x\/a/);
  rejects('# alias a = xa\n', /alias a must name a pod/);
});

test('renderTable output parses back to the same matrix', () => {
  const pods = ['x/a', 'x/b', 'long-namespace/pod'];
  const denied = new Set(['x/b>x/a', 'long-namespace/pod>x/b']);
  const text = `# port 8080/TCP\n${renderTable(pods, (f, t) => (denied.has(`${f}>${t}`) ? 'X' : '.'))}\n`;
  const [table] = parseExpectations(text, 'rendered.txt').tables;
  assert.ok(table);
  for (const from of pods) {
    for (const to of pods) assert.equal(table.allowed.get(from)?.get(to), !denied.has(`${from}>${to}`), `${from} -> ${to}`);
  }
});

const BASE = `
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a}}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: y, labels: {pod: a}}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
`;

test('overlays replace base objects whole by kind/namespace/name and append new ones', () => {
  const base = parseManifest(BASE, 'base.yaml');
  const overlay = parseManifest(`
kind: Pod
apiVersion: v1
metadata: {name: a, namespace: x, labels: {pod: a, extra: yes}}
---
kind: Namespace
apiVersion: v1
metadata: {name: y, labels: {ns: y}}
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata: {name: a, namespace: x}
spec: {podSelector: {}}
`, 'case.yaml');
  const merged = mergeManifests(base, overlay);
  assert.deepEqual(merged.replaced, ['Pod/x/a']);
  assert.deepEqual(merged.objects.map((o) => objectKey(o)),
    ['Namespace//x', 'Pod/x/a', 'Pod/y/a', 'Node//node-1', 'Namespace//y', 'NetworkPolicy/x/a']);
  const pod = merged.objects[1];
  assert.deepEqual(pod?.['metadata'], { name: 'a', namespace: 'x', labels: { pod: 'a', extra: 'yes' } });
  assert.equal(pod?.['status'], undefined, 'replacement is whole, not a patch');
  assert.deepEqual(podNames(merged.objects), ['x/a', 'y/a']);
  assert.equal(base.length, 4, 'the base list is not mutated');
});

test('merge refuses duplicate keys and objects without identity', () => {
  const base = parseManifest(BASE, 'base.yaml');
  const pod = parseManifest('kind: Pod\nmetadata: {name: b, namespace: x}\n', 'p.yaml');
  assert.throws(() => mergeManifests(base, [...pod, ...pod]), /case defines Pod\/x\/b twice/);
  assert.throws(() => mergeManifests([...base, ...pod, ...pod], []), /base defines Pod\/x\/b twice/);
  assert.throws(() => parseManifest('kind: Pod\nmetadata: {namespace: x}\n', 'noname.yaml'), /missing metadata\.name/);
  assert.throws(() => parseManifest('metadata: {name: q}\n', 'nokind.yaml'), /missing kind/);
  assert.throws(() => parseManifest('- a\n- b\n', 'list.yaml'), /not a mapping/);
  assert.throws(() => parseManifest('kind: Pod\nmetadata: {name: [\n', 'broken.yaml'), /broken\.yaml: document 1/);
});

test('serialized manifests parse back to the same objects', () => {
  const objects = parseManifest(BASE, 'base.yaml');
  assert.deepEqual(parseManifest(serializeManifest(objects), 'again.yaml'), objects);
  assert.deepEqual(parseManifest('---\n# only a comment\n---\n', 'empty.yaml'), []);
});

const TABLE = parseExpectations('# port 80/TCP\n    x/a x/b\nx/a  .   X\nx/b  .   .\n', 'cmp.txt').tables[0];

test('compareMatrix accepts an exact match', () => {
  assert.ok(TABLE);
  const result = compareMatrix(TABLE, { 'x/a': { 'x/a': true, 'x/b': false }, 'x/b': { 'x/a': true, 'x/b': true } });
  assert.equal(result.ok, true, result.report);
});

test('compareMatrix reports differing cells as a diff table', () => {
  assert.ok(TABLE);
  const result = compareMatrix(TABLE, { 'x/a': { 'x/a': true, 'x/b': true }, 'x/b': { 'x/a': false, 'x/b': true } });
  assert.equal(result.ok, false);
  assert.match(result.report, /2 of 4 cells differ/);
  assert.match(result.report, /x\/a -> x\/b: expected denied, got allowed/);
  assert.match(result.report, /x\/b -> x\/a: expected allowed, got denied/);
  assert.match(result.report, /\nx\/a {2}\. {3}\+\n/);
  assert.match(result.report, /\nx\/b {2}- {3}\.$/m);
});

test('compareMatrix checks the exact key set and value types', () => {
  assert.ok(TABLE);
  const missing = compareMatrix(TABLE, { 'x/a': { 'x/a': true, 'x/b': false } });
  assert.equal(missing.ok, false);
  assert.match(missing.report, /missing source pods: x\/b/);
  const extra = compareMatrix(TABLE, {
    'x/a': { 'x/a': true, 'x/b': false, 'y/c': true }, 'x/b': { 'x/a': true, 'x/b': 'yes' }, 'z/z': {},
  });
  assert.equal(extra.ok, false);
  assert.match(extra.report, /unexpected source pods: z\/z/);
  assert.match(extra.report, /x\/a: unexpected destinations y\/c/);
  assert.match(extra.report, /x\/b: non-boolean values for x\/b/);
  assert.match(extra.report, /\nx\/b {2}\. {3}\?$/m);
  assert.equal(compareMatrix(TABLE, [1, 2]).ok, false);
  assert.equal(compareMatrix(TABLE, { 'x/a': 3, 'x/b': { 'x/a': true, 'x/b': true } }).ok, false);
});

test('compareMatrix shows aliases in its report', () => {
  const aliases = new Map([['g0', 'house-g/harry-0'], ['s0', 'house-s/draco-0']]);
  const [table] = parseExpectations('# port 53/UDP\n   g0 s0\ng0 .  .\ns0 .  .\n', 'a.txt', aliases).tables;
  assert.ok(table);
  const result = compareMatrix(table, {
    'house-g/harry-0': { 'house-g/harry-0': true, 'house-s/draco-0': false },
    'house-s/draco-0': { 'house-g/harry-0': true, 'house-s/draco-0': true },
  }, aliases);
  assert.match(result.report, /g0 -> s0: expected allowed, got denied/);
});

test('coverageProblems names missing and unknown pods', () => {
  assert.ok(TABLE);
  assert.deepEqual(coverageProblems(TABLE, ['x/a', 'x/b']), []);
  const problems = coverageProblems(TABLE, ['x/a', 'y/c']);
  assert.equal(problems.length, 2);
  assert.match(problems[0] ?? '', /lacks pods y\/c/);
  assert.match(problems[1] ?? '', /names pods not in the manifest: x\/b/);
});

test('discovers families and loads a case merged with its base', () => {
  const root = mkdtempSync(join(tmpdir(), 'margay-conformance-unit-'));
  try {
    const family = join(root, 'fam');
    mkdirSync(join(family, 'cases', 'c1'), { recursive: true });
    mkdirSync(join(family, 'cases', 'c0'), { recursive: true });
    mkdirSync(join(root, 'not-a-family'));
    writeFileSync(join(family, 'base.yaml'), BASE);
    writeFileSync(join(family, 'aliases.txt'), '# alias xa = x/a\n# alias ya = y/a\n');
    writeFileSync(join(family, 'cases', 'c0', 'expect.txt'), '# port 80/TCP\n   xa ya\nxa .  .\nya .  .\n');
    writeFileSync(join(family, 'cases', 'c1', 'case.yaml'), 'kind: Pod\napiVersion: v1\nmetadata: {name: b, namespace: x}\n');
    writeFileSync(join(family, 'cases', 'c1', 'expect.txt'), '# port 80/TCP\n    xa ya x/b\nxa  .  .   .\nya  .  .   X\nx/b .  .   .\n');
    const families = discoverFamilies(root);
    assert.deepEqual(families.map((f) => f.name), ['fam']);
    const [fam] = families;
    assert.ok(fam);
    assert.deepEqual(fam.cases.map((c) => [c.name, c.manifest !== undefined]), [['c0', false], ['c1', true]]);
    const [c0, c1] = fam.cases;
    assert.ok(c0 && c1);
    const base = parseManifest(BASE, 'base.yaml');
    assert.deepEqual(loadCase(fam, c0, base).pods, ['x/a', 'y/a']);
    const loaded = loadCase(fam, c1, base);
    assert.deepEqual(loaded.pods, ['x/a', 'y/a', 'x/b']);
    const table = loaded.expectations.tables[0];
    assert.ok(table);
    assert.equal(table.allowed.get('y/a')?.get('x/b'), false);
    assert.deepEqual(coverageProblems(table, loaded.pods), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
