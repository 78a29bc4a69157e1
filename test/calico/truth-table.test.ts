// Unit tests for the Calico case-file parser and matrix comparison, plus a check that every
// committed case file is well formed and covers exactly the pods of base.yaml (no CLI needed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { asMatrix, CaseFormatError, compareMatrix, parseCaseFile, renderComparison } from './truth-table.js';

const GOOD = `# checks: Pass in the last tier falls through to the
#   namespace profile.
# source: docs tier page
#
# verdict a/one -> 203.0.113.10 443/TCP allow
# verdict a/one -> b/two 80/TCP deny
#
# port 80/TCP
#         a/one  b/two
# a/one       .      X
# b/two       .      .
#
# port 53/udp
#         a/one  b/two
# b/two       X      .
# a/one       .      .
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: x
# a comment inside the manifests is fine
spec: {}
`;

function header(table: string, extra = ''): string {
  return `# checks: c\n# source: s\n${extra}#\n${table}`;
}

const TABLE = `# port 80/TCP
#        a/one b/two
# a/one      .     X
# b/two      .     .
`;

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseCaseFile(text, 'case.yaml'), (err: unknown) => {
    assert.ok(err instanceof CaseFormatError, `expected a CaseFormatError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.match(err.message, /^case\.yaml:\d+: /);
    return true;
  });
}

describe('parseCaseFile', () => {
  test('reads checks, source, verdicts, tables and manifests', () => {
    const c = parseCaseFile(GOOD, 'test/calico/cases/18-pass.yaml');
    assert.equal(c.name, '18-pass');
    assert.equal(c.checks, 'Pass in the last tier falls through to the namespace profile.');
    assert.equal(c.source, 'docs tier page');
    assert.equal(c.expectError, false);
    assert.deepEqual(
      c.verdicts.map((v) => [v.from, v.to, v.port, v.expectAllowed]),
      [
        ['a/one', '203.0.113.10', '443/TCP', true],
        ['a/one', 'b/two', '80/TCP', false],
      ],
    );
    assert.deepEqual(c.tables.map((t) => t.port), ['80/TCP', '53/udp']);
    const [tcp, udp] = c.tables;
    assert.ok(tcp && udp);
    assert.deepEqual(tcp.pods, ['a/one', 'b/two']);
    assert.equal(tcp.allowed.get('a/one')?.get('b/two'), false);
    assert.equal(tcp.allowed.get('b/two')?.get('a/one'), true);
    assert.equal(udp.allowed.get('b/two')?.get('a/one'), false, 'rows may come in any order');
    assert.equal(tcp.line, 8);
    assert.ok(c.manifests.startsWith('---\napiVersion: projectcalico.org/v3'));
    assert.ok(c.manifests.includes('# a comment inside the manifests is fine'));
  });

  test('a case without manifests has empty manifests', () => {
    const c = parseCaseFile(header(TABLE), 'x.yaml');
    assert.equal(c.manifests, '');
    assert.equal(c.tables.length, 1);
  });

  test('an expect-error case needs no table', () => {
    const c = parseCaseFile('# checks: c\n# source: s\n# expect-error\n---\nkind: X\n', 'x.yaml');
    assert.equal(c.expectError, true);
    assert.equal(c.tables.length, 0);
  });

  test('rejects a missing checks or source line', () => {
    rejects(`# source: s\n#\n${TABLE}`, /missing "# checks:"/);
    rejects(`# checks: c\n#\n${TABLE}`, /missing "# source:"/);
  });

  test('rejects a case with no table', () => {
    rejects('# checks: c\n# source: s\n---\nkind: X\n', /no truth table/);
  });

  test('rejects cells other than . and X', () => {
    rejects(header(TABLE.replace('X', 'x')), /cell a\/one -> b\/two is "x"/);
  });

  test('rejects a denied diagonal', () => {
    rejects(header(TABLE.replace('# b/two      .     .', '# b/two      .     X')), /must be "\." \(a pod may always reach itself\)/);
  });

  test('rejects a missing row, an unknown row and a duplicate row', () => {
    rejects(header(TABLE.replace('# b/two      .     .\n', '')), /no row for b\/two/);
    rejects(header(TABLE.replace('# b/two', '# c/three')), /row "c\/three" is not one of the columns/);
    rejects(header(TABLE.replace('# b/two', '# a/one')), /row "a\/one" appears twice/);
  });

  test('rejects rows whose width differs from the header', () => {
    rejects(header(TABLE.replace('# a/one      .     X', '# a/one      .     X     .')), /has 3 cells, the header has 2 columns/);
  });

  test('rejects bad or duplicate columns', () => {
    rejects(header(TABLE.replace('#        a/one b/two', '#        a/one a/one')), /column "a\/one" appears twice/);
    rejects(header(TABLE.replace('#        a/one b/two', '#        a/one two')), /column "two" is not NS\/POD/);
  });

  test('rejects bad ports and a second table for the same port', () => {
    rejects(header(TABLE.replace('80/TCP', '80')), /expected a port like 80\/TCP/);
    rejects(header(TABLE.replace('80/TCP', '70000/TCP')), /expected a port like 80\/TCP/);
    rejects(header(TABLE.replace('80/TCP', '80/ICMP')), /expected a port like 80\/TCP/);
    rejects(header(`${TABLE}#\n${TABLE.replace('80/TCP', '80/tcp')}`), /a second table for port 80\/tcp/);
  });

  test('rejects tables of one case that list different pods', () => {
    const other = TABLE.replace('80/TCP', '53/UDP').replaceAll('b/two', 'c/two');
    rejects(header(`${TABLE}#\n${other}`), /same pods in the same order/);
  });

  test('rejects non-comment lines and unknown directives in the header', () => {
    rejects('# checks: c\n# source: s\nkind: X\n---\n', /the header may hold only comments/);
    rejects(header(TABLE, '# expect: something\n'), /unexpected header line "expect: something"/);
  });

  test('rejects malformed verdicts', () => {
    rejects(header(TABLE, '# verdict a/one b/two 80/TCP allow\n'), /expected "verdict NS\/POD -> NS\/POD\|IP/);
    rejects(header(TABLE, '# verdict a/one -> b/two 80/TCP maybe\n'), /expected "verdict/);
    rejects(header(TABLE, '# verdict one -> b/two 80/TCP allow\n'), /verdict source must be NS\/POD/);
    rejects(header(TABLE, '# verdict a/one -> b/two 80 allow\n'), /expected a port like/);
  });

  test('rejects an expect-error case that also has tables', () => {
    rejects(header(TABLE, '# expect-error\n'), /an expect-error case has no tables or verdicts/);
  });
});

describe('matrix comparison', () => {
  const table = parseCaseFile(header(TABLE), 'x.yaml').tables[0];
  assert.ok(table);

  test('asMatrix accepts objects of booleans and rejects anything else', () => {
    assert.deepEqual(asMatrix({ 'a/one': { 'b/two': true } }), { 'a/one': { 'b/two': true } });
    assert.throws(() => asMatrix([]), /JSON object of objects/);
    assert.throws(() => asMatrix({ 'a/one': 3 }), /matrix\["a\/one"\] must be an object/);
    assert.throws(() => asMatrix({ 'a/one': { 'b/two': 'yes' } }), /must be true or false/);
  });

  test('a matching matrix has no mismatches', () => {
    const actual = { 'a/one': { 'a/one': true, 'b/two': false }, 'b/two': { 'a/one': true, 'b/two': true } };
    assert.deepEqual(compareMatrix(table, actual), { mismatches: [], unexpectedPods: [] });
  });

  test('wrong, missing and extra cells are all reported and rendered', () => {
    const actual = {
      'a/one': { 'a/one': true, 'b/two': true },
      'b/two': { 'b/two': true, 'z/ghost': true },
    };
    const cmp = compareMatrix(table, actual);
    assert.deepEqual(cmp.mismatches, [
      { from: 'a/one', to: 'b/two', expected: false, actual: true },
      { from: 'b/two', to: 'a/one', expected: true, actual: undefined },
    ]);
    assert.deepEqual(cmp.unexpectedPods, ['z/ghost']);
    const text = renderComparison(table, actual, cmp);
    assert.match(text, /^port 80\/TCP: what margay printed/);
    assert.match(text, /a\/one +\. +\.<-/);
    assert.match(text, /b\/two +\?<- +\./);
    assert.match(text, /a\/one -> b\/two: expected denied, got allowed/);
    assert.match(text, /b\/two -> a\/one: expected allowed, got no cell/);
    assert.match(text, /pods printed but not in the case: z\/ghost/);
  });
});

describe('committed Calico case files', () => {
  const suiteDir = fileURLToPath(new URL('../../../test/calico/', import.meta.url));
  const casesDir = join(suiteDir, 'cases');
  const files = readdirSync(casesDir).filter((f) => f.endsWith('.yaml')).sort();

  const basePods = parseAllDocuments(readFileSync(join(suiteDir, 'base.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
    .filter((d) => d?.kind === 'Pod')
    .map((d) => `${d?.metadata?.namespace}/${d?.metadata?.name}`)
    .sort();

  test('base.yaml has the pods the cases are written against', () => {
    assert.equal(basePods.length, 7);
  });

  test('there are at least 45 matrix scenarios', () => {
    const matrixCases = files.filter((f) => parseCaseFile(readFileSync(join(casesDir, f), 'utf8'), f).tables.length > 0);
    assert.ok(matrixCases.length >= 45, `only ${matrixCases.length} matrix cases`);
  });

  for (const f of files) {
    test(`${f} is well formed`, () => {
      const c = parseCaseFile(readFileSync(join(casesDir, f), 'utf8'), `test/calico/cases/${f}`);
      for (const t of c.tables) {
        assert.deepEqual([...t.pods].sort(), basePods, `the ${t.port} table must list exactly the pods of base.yaml`);
      }
      for (const doc of parseAllDocuments(c.manifests)) {
        assert.deepEqual(doc.errors, [], `YAML errors in ${f}`);
        const obj = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
        if (obj === null) continue;
        assert.equal(typeof obj.apiVersion, 'string', `${f}: every manifest needs apiVersion`);
        assert.equal(typeof obj.kind, 'string', `${f}: every manifest needs kind`);
        assert.equal(typeof obj.metadata?.name, 'string', `${f}: every manifest needs metadata.name`);
      }
    });
  }
});
