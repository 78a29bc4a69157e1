// `margay simulate --matrix` over 1,000 pods (one million ordered pairs), run as a user runs it:
// the real CLI in a child process on a generated manifest. Reports wall time, the child's peak
// resident memory and the output size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterParams, generateCluster } from './synthetic-cluster.js';
import { emit, now } from './calc-common.js';

const PODS = 1_000;
const POLICIES = 200;
const bench = `simulate-matrix/${PODS}-pods`;
const margay = fileURLToPath(new URL('../../bin/margay', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'margay-bench-'));
try {
  const cluster = generateCluster(clusterParams(PODS, POLICIES, 3));
  const manifest = join(dir, 'cluster.json');
  writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cluster.resources }));
  // A preload in the child reports its own peak RSS when it exits.
  const probe = join(dir, 'peak-rss.mjs');
  const rssFile = join(dir, 'rss');
  writeFileSync(probe, `process.on('exit', () => require_('fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\nimport { createRequire } from 'node:module';\nconst require_ = createRequire(import.meta.url);\n`);
  const t0 = now();
  const run = spawnSync(process.execPath, ['--import', probe, margay, 'simulate', '-f', manifest, '--matrix', '--port', '80/TCP', '-o', 'json'], {
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'utf8',
  });
  const elapsed = now() - t0;
  if (run.status !== 0) throw new Error(`simulate failed (${run.status}): ${run.stderr}`);
  const matrix = JSON.parse(run.stdout) as Record<string, Record<string, boolean>>;
  const rows = Object.keys(matrix).length;
  let pairs = 0;
  let allowed = 0;
  for (const row of Object.values(matrix)) for (const cell of Object.values(row)) {
    pairs++;
    if (cell) allowed++;
  }
  emit(bench, 'wall_time', elapsed, 'ms', { pods: rows, pairs, policies: POLICIES });
  emit(bench, 'pairs_per_second', (pairs / elapsed) * 1000, 'pairs/s');
  emit(bench, 'peak_rss', Number(readFileSync(rssFile, 'utf8')) / 1024, 'MiB');
  emit(bench, 'output_size', run.stdout.length / 1024 / 1024, 'MiB', { allowed_share: allowed / pairs });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
