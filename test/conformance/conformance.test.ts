// Runs every conformance case through `margay simulate --matrix` and compares each cell with the
// case's truth table. The expectations come from upstream tests and specs (see README.md), never from
// Margay's own evaluator.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  compareMatrix, coverageProblems, discoverFamilies, findRepoRoot, loadCase, parseManifest, serializeManifest,
  type ConformanceCase, type ConformanceFamily, type LoadedCase, type ManifestObject, type TruthTable,
} from './harness.js';

// The compiled file lives in dist/test/conformance/, the case files stay in test/conformance/.
const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const conformanceDir = join(repoRoot, 'test', 'conformance');
const margayBin = join(repoRoot, 'bin', 'margay');
const cliEntry = join(repoRoot, 'dist', 'src', 'cli', 'index.js');
const cliMissing = existsSync(cliEntry) ? false : `the margay CLI is not built (${cliEntry} is missing)`;
const CLI_TIMEOUT_MS = 120_000;

let workDir: string | undefined;
function scratch(): string {
  workDir ??= mkdtempSync(join(tmpdir(), 'margay-conformance-'));
  return workDir;
}
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function run(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [margayBin, ...args], { cwd: repoRoot, timeout: CLI_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? `exit code ${error.code}` : error.signal ? `signal ${error.signal}` : error.message;
          reject(new Error(`margay ${args.join(' ')} failed (${code})\n${stderr.trim() || stdout.trim()}`));
        } else {
          resolve({ stdout, stderr });
        }
      });
  });
}

interface PreparedCase {
  readonly loaded: LoadedCase;
  readonly manifestPath: string;
}

function prepare(family: ConformanceFamily, conformanceCase: ConformanceCase, base: readonly ManifestObject[]): PreparedCase {
  const loaded = loadCase(family, conformanceCase, base);
  const dir = join(scratch(), family.name);
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, `${conformanceCase.name}.yaml`);
  writeFileSync(manifestPath, serializeManifest(loaded.objects));
  return { loaded, manifestPath };
}

async function simulate(manifestPath: string, table: TruthTable): Promise<unknown> {
  const { stdout } = await run(['simulate', '-f', manifestPath, '--matrix', '--port', `${table.port}/${table.protocol}`, '-o', 'json']);
  try {
    return JSON.parse(stdout) as unknown;
  } catch {
    throw new Error(`margay simulate printed something that is not JSON:\n${stdout.slice(0, 2000)}`);
  }
}

const families = discoverFamilies(conformanceDir);
const concurrency = Math.max(1, Math.min(4, availableParallelism()));

test('conformance: at least one family with cases exists', () => {
  assert.ok(families.length > 0, `no family (base.yaml + cases/) under ${conformanceDir}`);
  for (const family of families) assert.ok(family.cases.length > 0, `${family.name} has no cases`);
});

for (const family of families) {
  const base = parseManifest(readFileSync(family.base, 'utf8'), family.base);

  // Static checks that need no CLI: every case parses, and each table covers exactly its manifest's pods.
  test(`conformance data: ${family.name} cases are well-formed`, () => {
    const problems: string[] = [];
    for (const conformanceCase of family.cases) {
      try {
        const loaded = loadCase(family, conformanceCase, base);
        for (const table of loaded.expectations.tables) {
          for (const problem of coverageProblems(table, loaded.pods)) problems.push(`${conformanceCase.name}: ${problem}`);
        }
      } catch (error) {
        problems.push(`${conformanceCase.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  describe(`conformance: ${family.name}`, { concurrency }, () => {
    for (const conformanceCase of family.cases) {
      let prepared: PreparedCase | undefined;
      let tables: readonly TruthTable[];
      try {
        tables = loadCase(family, conformanceCase, base).expectations.tables;
      } catch (error) {
        test(`${conformanceCase.name}`, () => {
          throw error;
        });
        continue;
      }
      for (const table of tables) {
        test(`${conformanceCase.name} ${table.port}/${table.protocol}`, { skip: cliMissing }, async () => {
          prepared ??= prepare(family, conformanceCase, base);
          const actual = await simulate(prepared.manifestPath, table);
          const comparison = compareMatrix(table, actual, prepared.loaded.expectations.aliases);
          if (!comparison.ok) {
            assert.fail(`${family.name}/${conformanceCase.name} (${conformanceCase.dir})\n${comparison.report}`);
          }
        });
      }
    }
  });
}
