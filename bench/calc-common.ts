// Shared by the calc benches: JSON-line output, a counting consumer, heap and time helpers,
// and the cluster scales the issue names.
import { performance } from 'node:perf_hooks';
import { CalcEngine, localToNode, type CalcCallbacks, type CalcUpdate, type IpSetSpec } from '../src/calc/index.js';
import type { Entity } from '../src/policy/index.js';
import type { Resource } from '../src/resources/index.js';
import { clusterParams, type ClusterParams, type PodChange } from './synthetic-cluster.js';

export const SCALES: Readonly<Record<string, ClusterParams>> = {
  '10k': clusterParams(10_000, 1_000),
  '100k': clusterParams(100_000, 10_000),
};

export const LOCALITIES: Readonly<Record<string, ((e: Entity) => boolean) | undefined>> = {
  'one-node': localToNode('node-0'),
  'all-nodes': undefined,
};

/** `--scale 10k,100k --local one-node` style options; absent means every choice listed. */
export function option(name: string, all: readonly string[]): string[] {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) return [...all];
  const picked = value.split(',');
  for (const p of picked) if (!all.includes(p)) throw new Error(`--${name}: expected one of ${all.join(', ')}, got ${p}`);
  return picked;
}

/** `--seconds 10` style numeric option. */
export function numberOption(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export function emit(bench: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  const round = (n: number) => (Number.isInteger(n) ? n : Number(n.toPrecision(4)));
  const fields: Record<string, unknown> = { bench, metric, value: round(value), unit };
  for (const [k, v] of Object.entries(extra)) fields[k] = typeof v === 'number' ? round(v) : v;
  console.log(JSON.stringify(fields));
}

export function now(): number {
  return performance.now();
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export function heapMiB(): number {
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Tracks the highest heap seen; sampled between updates and from inside the callbacks. */
export class HeapPeak {
  peak = heapMiB();
  private tick = 0;
  sample(): void {
    const h = heapMiB();
    if (h > this.peak) this.peak = h;
  }
  sometimes(): void {
    if ((++this.tick & 1023) === 0) this.sample();
  }
}

/** A data plane stand-in that only counts what it is told. */
export class CountingCallbacks implements CalcCallbacks {
  ipSetsAdded = 0;
  memberChanges = 0;
  ipSetsRemoved = 0;
  policyUpdates = 0;
  policyRemovals = 0;
  tierUpdates = 0;
  profileUpdates = 0;
  endpointUpdates = 0;
  endpointRemovals = 0;
  constructor(private readonly heap?: HeapPeak) {}
  get total(): number {
    return (
      this.ipSetsAdded + this.memberChanges + this.ipSetsRemoved + this.policyUpdates + this.policyRemovals + this.tierUpdates +
      this.profileUpdates + this.endpointUpdates + this.endpointRemovals
    );
  }
  onIpSetAdded(_set: IpSetSpec, members: readonly string[]): void {
    this.ipSetsAdded++;
    this.memberChanges += members.length;
    this.heap?.sometimes();
  }
  onIpSetMembersChanged(_id: string, added: readonly string[], removed: readonly string[]): void {
    this.memberChanges += added.length + removed.length;
  }
  onIpSetRemoved(): void {
    this.ipSetsRemoved++;
  }
  onTierActive(): void {
    this.tierUpdates++;
  }
  onTierInactive(): void {
    this.tierUpdates++;
  }
  onPolicyActive(): void {
    this.policyUpdates++;
  }
  onPolicyInactive(): void {
    this.policyRemovals++;
  }
  onProfileActive(): void {
    this.profileUpdates++;
  }
  onProfileInactive(): void {
    this.profileUpdates++;
  }
  onEndpointUpdate(): void {
    this.endpointUpdates++;
    this.heap?.sometimes();
  }
  onEndpointRemoved(): void {
    this.endpointRemovals++;
  }
}

export function upserts(resources: readonly Resource[]): CalcUpdate[] {
  return resources.map((resource) => ({ type: 'upsert', resource }));
}

export function updateOf(change: PodChange): CalcUpdate {
  const p = change.pod;
  return change.op === 'delete'
    ? { type: 'delete', ref: { apiVersion: 'v1', kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name } }
    : { type: 'upsert', resource: p };
}

/** An engine synced with the cluster (untimed), for benches that measure what comes after. */
export function syncedEngine(resources: readonly Resource[], isLocal: ((e: Entity) => boolean) | undefined, callbacks: CalcCallbacks): CalcEngine {
  const engine = new CalcEngine({ callbacks, ...(isLocal ? { isLocal } : {}) });
  engine.onUpdates(upserts(resources));
  engine.flush();
  return engine;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
