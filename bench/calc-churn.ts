// Pod churn: 1,000 pod adds, deletes and label changes per second for 60 s (60,000 updates),
// each applied and flushed on its own, so the latency is the time until its deltas are out.
// The same updates then go through the naive full recompute, in this process, for the ratio.
import { NaiveCalcEngine, type CalcUpdate } from '../src/calc/index.js';
import { PodChurn, generateCluster } from './synthetic-cluster.js';
import { CountingCallbacks, LOCALITIES, SCALES, emit, gc, now, numberOption, option, percentile, syncedEngine, updateOf, upserts } from './calc-common.js';

const RATE = 1_000;
const SECONDS = numberOption('seconds', 60);
const NAIVE_UPDATES = numberOption('naive-updates', 3);
// The naive recompute of every endpoint on every node takes minutes per update at 100k; it runs
// for one node unless asked (`--naive one-node,all-nodes`).
const NAIVE_FOR = option('naive', Object.keys(LOCALITIES)).filter((l) => process.argv.includes('--naive') || l === 'one-node');

for (const scale of option('scale', ['100k', '10k'].filter((s) => s in SCALES))) {
  const params = SCALES[scale]!;
  const cluster = generateCluster(params);
  const churn = new PodChurn(cluster, 7);
  const updates: CalcUpdate[] = Array.from({ length: RATE * SECONDS }, () => updateOf(churn.next()));
  const name = `${params.pods / 1000}k-pods-${params.policies / 1000}k-policies`;
  for (const local of option('local', Object.keys(LOCALITIES))) {
    const isLocal = LOCALITIES[local];
    const bench = `calc-churn/${name}/${local}`;
    const sink = new CountingCallbacks();
    const engine = syncedEngine(cluster.resources, isLocal, sink);
    gc();
    const deltasBefore = sink.total;
    const latencies = new Float64Array(updates.length);
    const start = now();
    for (let i = 0; i < updates.length; i++) {
      const t = now();
      engine.onUpdate(updates[i]!);
      engine.flush();
      latencies[i] = now() - t;
    }
    const wall = now() - start;
    // A simulated second is 1,000 updates: it keeps up when each second's work fits in a second.
    let worstSecond = 0;
    for (let s = 0; s < SECONDS; s++) {
      let busy = 0;
      for (let i = s * RATE; i < (s + 1) * RATE; i++) busy += latencies[i]!;
      worstSecond = Math.max(worstSecond, busy);
    }
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const sorted = latencies.slice().sort();
    emit(bench, 'update_latency_p50', percentile(sorted, 50), 'ms');
    emit(bench, 'update_latency_p99', percentile(sorted, 99), 'ms', { target: 1, met: percentile(sorted, 99) < 1 });
    emit(bench, 'update_latency_max', sorted[sorted.length - 1]!, 'ms');
    emit(bench, 'update_latency_mean', mean, 'ms');
    emit(bench, 'worst_second_busy', worstSecond, 'ms', { target: 1000, met: worstSecond < 1000 });
    emit(bench, 'keeps_up', worstSecond < 1000 ? 1 : 0, 'bool');
    emit(bench, 'throughput', (updates.length / wall) * 1000, 'updates/s');
    emit(bench, 'deltas_per_update', (sink.total - deltasBefore) / updates.length, 'count');

    // The baseline: the same first updates, each followed by a full recompute and diff.
    if (NAIVE_FOR.includes(local)) {
      const naive = new NaiveCalcEngine({ callbacks: new CountingCallbacks(), ...(isLocal ? { isLocal } : {}) });
      naive.onUpdates(upserts(cluster.resources));
      naive.flush();
      let total = 0;
      for (let i = 0; i < NAIVE_UPDATES; i++) {
        const t = now();
        naive.onUpdate(updates[i]!);
        naive.flush();
        total += now() - t;
      }
      const baseline = total / NAIVE_UPDATES;
      emit(bench, 'update_latency_mean_vs_naive', mean, 'ms', { baseline, ratio: baseline / mean, target_ratio: 1000, met: baseline / mean >= 1000 });
    }
  }
}
