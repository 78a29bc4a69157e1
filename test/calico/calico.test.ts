// Calico policy semantics, checked end to end through `margay simulate`: every case file in
// test/calico/cases/ is merged with test/calico/base.yaml and its truth tables are compared cell
// by cell with `simulate --matrix`. The expectations come from Calico's documentation and Felix's
// behaviour (each case names its source), never from Margay's own evaluator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  asMatrix,
  compareMatrix,
  parseCaseFile,
  renderComparison,
  type CaseFile,
  type TruthTable,
  type VerdictProbe,
} from './truth-table.js';

// Compiled to dist/test/calico/; the YAML stays in test/calico/ of the checkout.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const suiteDir = join(repoRoot, 'test', 'calico');
const casesDir = join(suiteDir, 'cases');
const baseManifests = readFileSync(join(suiteDir, 'base.yaml'), 'utf8');
const bin = join(repoRoot, 'bin', 'margay');
const cliBuilt = existsSync(join(repoRoot, 'dist', 'src', 'cli', 'index.js'));
const skip = cliBuilt ? false : 'the margay CLI is not built yet (dist/src/cli/index.js is missing)';

const cases: CaseFile[] = readdirSync(casesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => parseCaseFile(readFileSync(join(casesDir, f), 'utf8'), `test/calico/cases/${f}`));

let workDir = '';
before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'margay-calico-'));
});
after(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

const written = new Map<string, Promise<string>>();
/** The case's manifests appended to the base cluster, written once into the temp dir. */
function mergedFile(c: CaseFile): Promise<string> {
  let p = written.get(c.name);
  if (!p) {
    const path = join(workDir, `${c.name}.yaml`);
    const text = baseManifests.replace(/\n*$/, '\n') + (c.manifests === '' ? '' : c.manifests.replace(/\n*$/, '\n'));
    p = writeFile(path, text, 'utf8').then(() => path);
    written.set(c.name, p);
  }
  return p;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function margay(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const describeRun = (r: Run): string =>
  `exit code ${r.code}\n--- stderr ---\n${r.stderr.trim()}\n--- stdout (first 2000 chars) ---\n${r.stdout.slice(0, 2000)}`;

function parseJson(r: Run): unknown {
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    assert.fail(`stdout is not JSON\n${describeRun(r)}`);
  }
}

async function checkTable(c: CaseFile, table: TruthTable): Promise<void> {
  const file = await mergedFile(c);
  const r = await margay(['simulate', '-f', file, '--matrix', '--port', table.port, '-o', 'json']);
  assert.equal(r.code, 0, `simulate --matrix failed\n${describeRun(r)}`);
  const matrix = asMatrix(parseJson(r));
  const comparison = compareMatrix(table, matrix);
  if (comparison.mismatches.length > 0 || comparison.unexpectedPods.length > 0) {
    assert.fail(`${c.name}: ${c.checks}\nsource: ${c.source}\n${renderComparison(table, matrix, comparison)}`);
  }
}

async function checkVerdict(c: CaseFile, v: VerdictProbe): Promise<void> {
  const file = await mergedFile(c);
  const r = await margay(['simulate', '-f', file, '--from', v.from, '--to', v.to, '--port', v.port, '-o', 'json']);
  assert.equal(r.code, 0, `simulate --from/--to failed\n${describeRun(r)}`);
  const verdict = parseJson(r);
  assert.ok(typeof verdict === 'object' && verdict !== null && !Array.isArray(verdict), `the verdict must be a JSON object\n${describeRun(r)}`);
  assert.equal(typeof (verdict as Record<string, unknown>).allowed, 'boolean', `the verdict needs a boolean "allowed"\n${describeRun(r)}`);
}

async function checkRejected(c: CaseFile): Promise<void> {
  const file = await mergedFile(c);
  const r = await margay(['simulate', '-f', file, '--matrix', '--port', '80/TCP', '-o', 'json']);
  assert.equal(r.code, 2, `invalid input must exit with code 2\n${describeRun(r)}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length >= 1, `invalid input must print at least one error line on stderr\n${describeRun(r)}`);
  assert.ok(!lines.some((l) => /^\s+at .+:\d+:\d+\)?$/.test(l)), `errors for bad input must not carry a stack trace\n${describeRun(r)}`);
}

for (const c of cases) {
  describe(`calico ${c.name}`, () => {
    for (const table of c.tables) {
      test(`matrix ${table.port}`, { skip }, () => checkTable(c, table));
    }
    for (const v of c.verdicts) {
      test(`verdict ${v.from} -> ${v.to} ${v.port} (Calico: ${v.expectAllowed ? 'allow' : 'deny'}; only the shape is asserted)`, { skip }, () =>
        checkVerdict(c, v));
    }
    if (c.expectError) {
      test('invalid input is rejected with exit code 2', { skip }, () => checkRejected(c));
    }
  });
}
