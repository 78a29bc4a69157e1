// Flow halves → flow logs: everything observed in one bucket, merged by a key that an aggregation
// level decides (Calico's flowLogsFileAggregationKind: 5-tuple, source port dropped, workload
// prefix, namespace pair). Pure: the collector feeds it and flushes it on a timer.
import type { FlowEndpoint, FlowLog } from '../flows/index.js';

/**
 * One side's account of what one connection (or one denied 5-tuple) did in the bucket: a flow
 * log's fields but the bucket and the connection counts, which aggregation makes.
 */
export type FlowHalf = Omit<FlowLog, 'startTime' | 'endTime' | 'numFlows' | 'numFlowsStarted' | 'numFlowsCompleted'> & {
  /** Identifies the connection, so numFlows counts connections, not observations. */
  readonly connection: string;
  readonly started: boolean;
  readonly completed: boolean;
};

/**
 * - `none`: every 5-tuple on its own (source port kept);
 * - `port`: source port dropped (one log per pod pair, protocol and destination port);
 * - `prefix`: pods merged by workload prefix (names and addresses dropped, labels intersected);
 * - `namespace`: only namespaces, endpoint types and the destination port remain.
 */
export type AggregationLevel = 'none' | 'port' | 'prefix' | 'namespace';
export const AGGREGATION_LEVELS: readonly AggregationLevel[] = ['none', 'port', 'prefix', 'namespace'];

export function aggregateEndpoint(e: FlowEndpoint, level: AggregationLevel, side: 'source' | 'dest'): FlowEndpoint {
  const port = side === 'source' && level !== 'none' ? 0 : e.port;
  const base = { type: e.type, namespace: e.namespace, port, ...(e.serviceAccount !== undefined && level !== 'namespace' ? { serviceAccount: e.serviceAccount } : {}) };
  switch (level) {
    case 'none':
    case 'port':
      return { ...e, port };
    case 'prefix':
      return { ...base, name: '-', nameAggr: e.nameAggr, labels: e.labels, ip: '-' };
    case 'namespace':
      return { ...base, name: '-', nameAggr: '-', labels: {}, ip: '-' };
  }
}

function labelKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k] ?? ''}`).join(',');
}

function endpointKey(e: FlowEndpoint, withLabels: boolean): string {
  return [e.type, e.namespace, e.name, e.nameAggr, e.ip, e.port, e.serviceAccount ?? '', withLabels ? labelKey(e.labels) : ''].join('|');
}

function intersect(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (b[k] === v) out[k] = v;
  return out;
}

interface Bucket {
  log: Omit<FlowLog, 'numFlows' | 'numFlowsStarted' | 'numFlowsCompleted' | 'packetsIn' | 'packetsOut' | 'bytesIn' | 'bytesOut' | 'startTime' | 'endTime' | 'source' | 'dest'>;
  source: FlowEndpoint;
  dest: FlowEndpoint;
  connections: Set<string>;
  started: Set<string>;
  completed: Set<string>;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface AggregatorOptions {
  readonly allowed: AggregationLevel;
  readonly denied: AggregationLevel;
}

export class FlowAggregator {
  private buckets = new Map<string, Bucket>();

  constructor(private readonly options: AggregatorOptions) {}

  get pending(): number {
    return this.buckets.size;
  }

  add(h: FlowHalf): void {
    const level = h.action === 'allow' ? this.options.allowed : this.options.denied;
    const source = aggregateEndpoint(h.source, level, 'source');
    const dest = aggregateEndpoint(h.dest, level, 'dest');
    // Labels are part of the key only where names are: merged workloads keep their common labels.
    const exact = level === 'none' || level === 'port';
    const key = [
      h.host, h.reporter, h.action, h.proto, endpointKey(source, exact), endpointKey(dest, exact), h.tier, h.policy, h.ruleIndex,
      h.policies.join(';'), h.pendingAction ?? '', (h.pendingPolicies ?? []).join(';'),
    ].join('\u0000');
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = {
        log: {
          host: h.host, reporter: h.reporter, action: h.action, proto: h.proto, tier: h.tier, policy: h.policy, ruleIndex: h.ruleIndex, policies: h.policies,
          ...(h.pendingAction !== undefined ? { pendingAction: h.pendingAction, pendingPolicies: h.pendingPolicies ?? [] } : {}),
        },
        source, dest, connections: new Set(), started: new Set(), completed: new Set(), packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0,
      };
      this.buckets.set(key, b);
    } else if (!exact) {
      if (labelKey(b.source.labels) !== labelKey(source.labels)) b.source = { ...b.source, labels: intersect(b.source.labels, source.labels) };
      if (labelKey(b.dest.labels) !== labelKey(dest.labels)) b.dest = { ...b.dest, labels: intersect(b.dest.labels, dest.labels) };
    }
    b.connections.add(h.connection);
    if (h.started) b.started.add(h.connection);
    if (h.completed) b.completed.add(h.connection);
    b.packetsIn += h.packetsIn;
    b.packetsOut += h.packetsOut;
    b.bytesIn += h.bytesIn;
    b.bytesOut += h.bytesOut;
  }

  /** Closes the bucket [startTime, endTime): every log in it, and a fresh bucket begins. */
  flush(startTime: number, endTime: number): FlowLog[] {
    const out: FlowLog[] = [];
    for (const b of this.buckets.values()) {
      out.push({
        startTime, endTime, ...b.log, source: b.source, dest: b.dest,
        packetsIn: b.packetsIn, packetsOut: b.packetsOut, bytesIn: b.bytesIn, bytesOut: b.bytesOut,
        numFlows: b.connections.size, numFlowsStarted: b.started.size, numFlowsCompleted: b.completed.size,
      });
    }
    this.buckets = new Map();
    return out;
  }
}
