// Query latency over a large SQLite FlowStore: "one namespace's last hour" (the target: p95 <
// 200 ms over 10M flows), and for scale the same with a pod, a selector, denied only, top and
// graph, a cluster-wide last hour, and a follower's afterId poll. The store is built once into
// $MARGAY_BENCH_DIR (default /tmp) and reused. `--records N` (default 10M), `--rounds N` (40).
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFlowStore, syntheticFlowLogs, type FlowFilter, type FlowListQuery, type FlowLog } from '../src/flows/index.js';
import { BUCKET_MS, percentile } from './flows-common.js';
import { emit, now, numberOption } from './calc-common.js';

const BENCH = 'flows-query';
const records = numberOption('records', 10_000_000);
const rounds = numberOption('rounds', 40);
const PER_BUCKET = 1600; // 10M logs span 26 hours of 15 s buckets
const START = Date.UTC(2026, 0, 1);
const file = join(process.env.MARGAY_BENCH_DIR ?? tmpdir(), `margay-flows-bench-${records}-v2.db`);

async function build(): Promise<void> {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  const store = new SqliteFlowStore({ file });
  const gen = syntheticFlowLogs({ seed: 7, start: START, logsPerBucket: PER_BUCKET, namespaces: 50, workloadsPerNamespace: 8, podsPerWorkload: 4 });
  const t0 = now();
  const cpu0 = process.cpuUsage();
  for (let done = 0; done < records; ) {
    const n = Math.min(20_000, records - done);
    const logs: FlowLog[] = new Array(n);
    for (let i = 0; i < n; i++) logs[i] = gen.next().value as FlowLog;
    await store.append({ apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host: 'bench', logs, dropped: 0 });
    done += n;
  }
  const cpu = process.cpuUsage(cpu0);
  emit(BENCH, 'build_records_per_cpu_second', records / ((cpu.user + cpu.system) / 1e6), 'records/s', { records, batch: 20_000, wall_records_per_second: records / ((now() - t0) / 1000), includes: 'generating the logs' });
  await store.close();
}

if (!existsSync(file)) await build();
const store = new SqliteFlowStore({ file });
const stats = await store.stats();
emit(BENCH, 'stored_records', stats.rows, 'records', { used_bytes_per_million: (stats.bytes / stats.rows) * 1e6 });
const end = stats.newestEndTime ?? START;
const hour: FlowFilter = { from: end - 3_600_000, to: end };

async function measure(metric: string, run: (i: number) => Promise<number>): Promise<void> {
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < rounds; i++) {
    const t = now();
    items += await run(i);
    times.push(now() - t);
  }
  times.sort((a, b) => a - b);
  emit(BENCH, `${metric}_p95`, percentile(times, 95), 'ms', { p50: percentile(times, 50), max: times[times.length - 1], rounds, avg_items: items / rounds, ...(metric === 'namespace_last_hour' ? { target_ms: 200 } : {}) });
}

const list = async (q: Partial<FlowListQuery>) => (await store.list({ ...hour, limit: 1000, ...q })).items.length;
const ns = (i: number) => `ns-${(i * 17) % 50}`;
await measure('namespace_last_hour', (i) => list({ scopeNamespace: ns(i) }));
await measure('namespace_last_hour_denied', (i) => list({ scopeNamespace: ns(i), action: 'deny' }));
await measure('namespace_last_hour_pod', (i) => list({ scopeNamespace: ns(i), pod: `db-2-1x${(i * 17) % 50}` }));
await measure('namespace_last_hour_selector', (i) => list({ scopeNamespace: ns(i), selector: 'app == "db" && tier == "web"' }));
await measure('namespace_last_hour_policy', (i) => list({ scopeNamespace: ns(i), policy: 'allow-db' }));
await measure('namespace_last_hour_top', async (i) => (await store.top({ ...hour, scopeNamespace: ns(i), by: 'bytes', group: 'pair', limit: 10 })).length);
await measure('namespace_last_hour_graph', async (i) => (await store.graph({ ...hour, scopeNamespace: ns(i) })).edges.length);
await measure('cluster_last_hour', () => list({}));
await measure('cluster_last_hour_denied', () => list({ action: 'deny' }));
const last = Number(stats.lastId);
await measure('follow_after_id', () => list({ afterId: String(last - BUCKET_MS / 15_000 * PER_BUCKET) }));
await store.close();
