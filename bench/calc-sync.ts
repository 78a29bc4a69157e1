// Initial sync: every resource of a synthetic cluster into a fresh engine, then one flush.
// Reports wall and CPU time, the process's peak heap (the generated cluster included) and what
// the engine itself retains, for one node's endpoints and for all of them. Each (scale, locality)
// runs in its own process, so caches, JIT state and garbage of one run never flatter another.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CalcEngine } from '../src/calc/index.js';
import { generateCluster } from './synthetic-cluster.js';
import { CountingCallbacks, HeapPeak, LOCALITIES, SCALES, emit, gc, heapMiB, now, option, upserts } from './calc-common.js';

function run(scale: string, local: string): void {
  const params = SCALES[scale]!;
  const isLocal = LOCALITIES[local];
  const cluster = generateCluster(params);
  const updates = upserts(cluster.resources);
  const bench = `calc-sync/${params.pods / 1000}k-pods-${params.policies / 1000}k-policies/${local}`;
  gc();
  const before = heapMiB();
  const heap = new HeapPeak();
  const sink = new CountingCallbacks(heap);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const engine = new CalcEngine({ callbacks: sink, ...(isLocal ? { isLocal } : {}) });
  for (let i = 0; i < updates.length; i++) {
    engine.onUpdate(updates[i]!);
    if ((i & 4095) === 0) heap.sample();
  }
  engine.flush();
  const elapsed = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  heap.sample();
  gc();
  const retained = heapMiB() - before;
  // Read after the collection, so the engine was alive for it: `retained` is what it keeps.
  const stats = engine.stats();
  emit(bench, 'sync_time', elapsed, 'ms', { target: 10_000, met: elapsed < 10_000 });
  emit(bench, 'sync_cpu_time', (cpu.user + cpu.system) / 1000, 'ms');
  emit(bench, 'peak_heap', heap.peak, 'MiB', { target: 2048, met: heap.peak < 2048 });
  emit(bench, 'engine_retained_heap', retained, 'MiB');
  emit(bench, 'resources', updates.length, 'count');
  emit(bench, 'local_endpoints', stats.localEndpoints, 'count');
  emit(bench, 'active_policies', stats.activePolicies, 'count');
  emit(bench, 'ip_sets', stats.ipSets, 'count');
  emit(bench, 'ip_set_members_emitted', sink.memberChanges, 'count');
  emit(bench, 'deltas', sink.total, 'count');
}

const child = process.argv.indexOf('--child');
if (child >= 0) {
  run(process.argv[child + 1]!, process.argv[child + 2]!);
} else {
  for (const scale of option('scale', Object.keys(SCALES))) {
    for (const local of option('local', Object.keys(LOCALITIES))) {
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', scale, local], { stdio: 'inherit' });
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  }
}
