// Shared by the flow benches: realistic synthetic flow logs in agent-sized batches.
import { syntheticFlowLogs, type FlowBatch, type FlowLog } from '../src/flows/index.js';

export const BUCKET_MS = 15_000;

/** `n` logs from `start` on, `perBucket` per 15 s bucket (the whole cluster). */
export function makeLogs(n: number, start: number, perBucket: number, seed = 1): FlowLog[] {
  const gen = syntheticFlowLogs({ seed, start, logsPerBucket: perBucket, namespaces: 50, workloadsPerNamespace: 8, podsPerWorkload: 4 });
  const out: FlowLog[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = gen.next().value as FlowLog;
  return out;
}

export function batches(logs: readonly FlowLog[], size: number): FlowBatch[] {
  const out: FlowBatch[] = [];
  for (let i = 0; i < logs.length; i += size) out.push({ apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host: 'node-1', logs: logs.slice(i, i + size), dropped: 0 });
  return out;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
