// Flow ingest into the SQLite FlowStore on one core: records/s for agent-sized batches (1,000)
// and for the ingest queue's merged appends (20,000), with synchronous NORMAL (the default) and
// FULL; and the size on disk per million records. Prints JSON lines. `--records N` (default 500k).
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer } from '../src/api/index.js';
import { createFlowsApi, SqliteFlowStore } from '../src/flows/index.js';
import { MemoryStore } from '../src/store/index.js';
import { batches, makeLogs } from './flows-common.js';
import { emit, now, numberOption } from './calc-common.js';

const BENCH = 'flows-ingest';
const records = numberOption('records', 500_000);
const logs = makeLogs(records, Date.UTC(2026, 0, 1), 1600);
const dir = mkdtempSync(join(tmpdir(), 'margay-flows-ingest-'));

function fileBytes(file: string): number {
  return [file, `${file}-wal`].filter((f) => existsSync(f)).reduce((s, f) => s + statSync(f).size, 0);
}

try {
  // Warm up the JIT on a throwaway store, so the first configuration is not measured cold.
  {
    const warm = new SqliteFlowStore({ file: ':memory:' });
    for (const b of batches(logs.slice(0, Math.min(100_000, records)), 1000)) await warm.append(b);
    await warm.close();
  }
  for (const [sync, size] of [['normal', 1000], ['normal', 20_000], ['full', 1000]] as const) {
    const file = join(dir, `flows-${sync}-${size}.db`);
    const store = new SqliteFlowStore({ file, synchronous: sync });
    const list = batches(logs, size);
    const t0 = now();
    const cpu0 = process.cpuUsage();
    for (const b of list) await store.append(b);
    const seconds = (now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // Per CPU-second is "on one core" even when other processes share the machine; wall is what a run saw.
    emit(BENCH, 'records_per_cpu_second', records / cpuSeconds, 'records/s', { batch: size, synchronous: sync, records, wall_records_per_second: records / seconds, target: 100_000 });
    if (sync === 'normal' && size === 1000) {
      const stats = await store.stats();
      emit(BENCH, 'used_bytes_per_million', (stats.bytes / records) * 1e6, 'bytes', { records });
      emit(BENCH, 'bytes_per_record', stats.bytes / records, 'bytes', { records });
    }
    await store.close();
    if (sync === 'normal' && size === 1000) emit(BENCH, 'file_bytes_per_million', (fileBytes(file) / records) * 1e6, 'bytes', { records });
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
  // The whole path: HTTP POST of 1,000-record JSON batches (4 in flight, bodies serialized before
  // timing) → JSON.parse → zod → ingest queue (merging) → store. The client runs in this process
  // too, so its CPU counts against the server here.
  {
    const store = new SqliteFlowStore({ file: join(dir, 'flows-http.db') });
    const flows = createFlowsApi({ store });
    const server = await createApiServer({ store: new MemoryStore(), log: () => undefined, extensions: [flows.extension], bodyLimit: 16 * 1024 * 1024 });
    const { url } = await server.listen('127.0.0.1', 0);
    const bodies = batches(logs, 1000).map((b) => JSON.stringify(b));
    let next = 0;
    let refused = 0;
    const worker = async (): Promise<void> => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        for (;;) {
          const res = await fetch(`${url}/apis/flows.margay.io/v1/flowbatches`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
          await res.arrayBuffer();
          if (res.status === 201) break;
          if (res.status !== 429) throw new Error(`POST answered ${res.status}`);
          refused++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const t0 = now();
    const cpu0 = process.cpuUsage();
    await Promise.all([worker(), worker(), worker(), worker()]);
    const cpu = process.cpuUsage(cpu0);
    emit(BENCH, 'http_records_per_cpu_second', records / ((cpu.user + cpu.system) / 1e6), 'records/s', { batch: 1000, in_flight: 4, records, wall_records_per_second: records / ((now() - t0) / 1000), refused_429: refused });
    await server.close();
    await store.close();
  }
  // JSON as the agent sends it, for scale: what the same logs weigh uncompressed.
  const json = JSON.stringify(logs.slice(0, 10_000)).length / 10_000;
  emit(BENCH, 'json_bytes_per_record', json, 'bytes');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
