// The conformance truth tables on real traffic: each family's base cluster becomes a lab (one
// network namespace per node and pod, a `margay agent` per node enforcing with nftables); each case
// is applied with `margay lab apply`, every TCP and UDP table is probed with `margay lab probe
// --matrix` and compared cell by cell with the table (upstream expectations, not simulate's), then
// the case is undone with `margay lab delete` and the base objects it replaced are applied again.
// This is how the upstream e2e suites drive a cluster: one cluster, policies and labels changed
// in place, so enforcement of updates and deletions is exercised too.
//
// SCTP tables are not probed (this kernel carries no SCTP traffic; the simulate suite checks them).
// A cell the lab reports closed but the table says open is probed again alone with a long timeout
// before it counts as a failure (a loaded machine can miss the short one); a cell reported open
// is never retried: an open connection cannot be a timing artefact.
//
// `npm test` runs every fourth case of each family (a fixed sample, about 3 minutes);
// MARGAY_LAB_CONFORMANCE=all runs every case, `k8s` one family, `k8s:np-02` the cases of a family
// whose names match a regular expression.
// Needs root, iproute2 and nftables.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadState, type LabState } from '../../src/lab/index.js';
import { runMargay } from '../support/margay.js';
import { removeLab } from '../support/lab.js';
import {
  compareMatrix, discoverFamilies, findRepoRoot, loadCase, objectKey, parseManifest, serializeManifest,
  type ConformanceFamily, type ManifestObject, type TruthTable,
} from './harness.js';

const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const conformanceDir = join(repoRoot, 'test', 'conformance');
const FAST_TIMEOUT_MS = 400;
const RECHECK_TIMEOUT_MS = 2500;

const selection = process.env.MARGAY_LAB_CONFORMANCE ?? '';
const [familyFilter, caseFilter] = selection === 'all' ? ['', ''] : selection.split(':');
const caseRe = caseFilter !== undefined && caseFilter !== '' ? new RegExp(caseFilter) : undefined;
const sample = selection === '';
const families = discoverFamilies(conformanceDir).filter((f) => familyFilter === undefined || familyFilter === '' || familyFilter === f.name);
const isRoot = process.getuid?.() === 0;

type Matrix = Record<string, Record<string, boolean>>;

/** One lab per family, built from its base cluster and taken down after. */
class FamilyLab {
  readonly work = mkdtempSync(join(tmpdir(), 'margay-labconf-'));
  readonly labDir = join(this.work, 'lab');
  state: LabState | undefined;
  private files = 0;

  constructor(readonly family: ConformanceFamily, readonly base: readonly ManifestObject[]) {}

  file(objects: readonly ManifestObject[]): string {
    const path = join(this.work, `m${++this.files}.yaml`);
    writeFileSync(path, serializeManifest(objects));
    return path;
  }

  async margay(args: readonly string[]): Promise<string> {
    const r = await runMargay([...args, '--lab-dir', this.labDir]);
    assert.equal(r.code, 0, `margay ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
    // A case is judged on what every agent enforces: one that lags or died fails it here, saying which.
    assert.doesNotMatch(`${r.stderr}${r.stdout}`, /not every agent/, `margay ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async up(): Promise<void> {
    const out = await this.margay(['lab', 'up', '-f', this.family.base]);
    assert.match(out, /agents ready on \d+ nodes/, out);
    this.state = loadState(this.labDir);
  }

  async down(): Promise<void> {
    await removeLab(this.labDir, this.state);
    rmSync(this.work, { recursive: true, force: true });
  }

  /**
   * A destination that serves nothing on the port (a host-network pod declaring other ports)
   * refuses the connection whatever the policy says: such cells take the table's value, and are
   * counted, since real traffic cannot tell there.
   */
  maskUnserved(table: TruthTable, m: Matrix): Matrix {
    for (const from of Object.keys(m)) {
      for (const to of Object.keys(m[from] ?? {})) {
        const expected = table.allowed.get(from)?.get(to);
        if (expected === undefined || this.serves(to, table)) continue;
        (m[from] as Record<string, boolean>)[to] = expected;
        this.unserved++;
      }
    }
    return m;
  }

  unserved = 0;

  /** Whether a pod serves the table's port (pods a case adds are in the state read again). */
  private serves(key: string, table: TruthTable): boolean {
    const pod = this.state?.pods.find((p) => p.key === key) ?? loadState(this.labDir)?.pods.find((p) => p.key === key);
    return pod !== undefined && (table.protocol === 'TCP' ? pod.tcp : pod.udp).includes(table.port);
  }

  async matrix(table: TruthTable): Promise<Matrix> {
    const out = await this.margay(['lab', 'probe', '--matrix', '--port', `${table.port}/${table.protocol}`, '--timeout-ms', String(FAST_TIMEOUT_MS), '-o', 'json']);
    const m = JSON.parse(out) as Matrix;
    // Closed where the table says open: probe that pair again, alone and patiently.
    for (const [from, row] of table.allowed) {
      for (const [to, open] of row) {
        if (!open || m[from]?.[to] !== false || !this.serves(to, table)) continue;
        const r = await runMargay(['lab', 'probe', '--from', from, '--to', to, '--port', `${table.port}/${table.protocol}`, '--timeout-ms', String(RECHECK_TIMEOUT_MS), '-o', 'json', '--lab-dir', this.labDir]);
        if (r.code === 0 && (JSON.parse(r.stdout) as { ok: boolean }).ok) (m[from] as Record<string, boolean>)[to] = true;
      }
    }
    return m;
  }
}

const baseKeys = (base: readonly ManifestObject[]): Map<string, ManifestObject> => new Map(base.map((o) => [objectKey(o), o]));

for (const family of families) {
  const base = parseManifest(readFileSync(family.base, 'utf8'), family.base);
  const cases = family.cases.filter((c, i) => (caseRe === undefined || caseRe.test(c.name)) && (!sample || i % 4 === 0));
  describe(`lab conformance: ${family.name}`, { skip: isRoot ? false : 'needs root (network namespaces, nftables)' }, () => {
    const lab = new FamilyLab(family, base);
    const byKey = baseKeys(base);
    let probed = 0;
    let skippedSctp = 0;
    before(() => lab.up());
    after(async () => {
      await lab.down();
      process.stdout.write(`# lab conformance ${family.name}: ${cases.length} cases, ${probed} tables probed on real traffic (${lab.unserved} cells to pods not serving the port taken from the table), ${skippedSctp} SCTP tables left to simulate\n`);
    });

    for (const c of cases) {
      test(c.name, async () => {
        const loaded = loadCase(family, c, base);
        const overlay = c.manifest !== undefined ? parseManifest(readFileSync(c.manifest, 'utf8'), c.manifest) : [];
        const added = overlay.filter((o) => !byKey.has(objectKey(o)));
        const replaced = overlay.filter((o) => byKey.has(objectKey(o))).map((o) => byKey.get(objectKey(o)) as ManifestObject);
        if (overlay.length > 0) await lab.margay(['lab', 'apply', '-f', lab.file(overlay)]);
        try {
          const failures: string[] = [];
          for (const table of loaded.expectations.tables) {
            if (table.protocol === 'SCTP') {
              skippedSctp++;
              continue;
            }
            probed++;
            const cmp = compareMatrix(table, lab.maskUnserved(table, await lab.matrix(table)), loaded.expectations.aliases);
            if (!cmp.ok) failures.push(`${table.port}/${table.protocol}\n${cmp.report}`);
          }
          if (failures.length > 0) assert.fail(`${family.name}/${c.name} (${c.dir}) on real traffic:\n${failures.join('\n')}`);
        } finally {
          // Undo the case: what it added goes, what it replaced comes back as the base has it.
          if (added.length > 0) await lab.margay(['lab', 'delete', '--ignore-not-found', '-f', lab.file(added)]);
          if (replaced.length > 0) await lab.margay(['lab', 'apply', '-f', lab.file(replaced)]);
        }
      });
    }
  });
}
