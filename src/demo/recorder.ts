// Generates flow logs for the demo's traffic plan with the policy core: every connection of the
// plan, evaluated against the demo's policies, bucketed as agents would report it. Pure; used once
// to write examples/demo/flows.recorded.json, and by tests to check that fixture is current.
import type { FlowEndpoint, FlowLog } from '../flows/index.js';
import { parseIp } from '../net/index.js';
import { flowBetween, PolicyEvaluator, protocolNumber, type BuiltSnapshot, type Entity } from '../policy/index.js';
import { flowLogsFor } from './attribution.js';
import { INTERNET, type TrafficRoute } from './traffic.js';

export const INTERNET_ADDRESS = '203.0.113.1';

/** Implicit labels the policy core adds (namespace, service account…): not the pod's own. */
const isImplicitLabel = (key: string): boolean => key.startsWith('projectcalico.org/') || key.startsWith('pcns.') || key.startsWith('pcsa.');

/** Calico's workload name: the pod's generateName with `*`, else its name (`ns/name` → generateName). */
export type GenerateNames = ReadonlyMap<string, string>;

export function endpointOf(e: Entity, port: number, generateNames: GenerateNames = new Map()): FlowEndpoint & { host?: string } {
  const labels = Object.fromEntries(Object.entries(e.labels).filter(([k]) => !isImplicitLabel(k)));
  const generate = generateNames.get(`${e.namespace ?? ''}/${e.name}`);
  return {
    type: 'wep',
    namespace: e.namespace ?? '-',
    name: e.name,
    nameAggr: generate !== undefined && generate !== '' ? `${generate}*` : e.name,
    labels,
    ip: e.ips[0]?.text ?? '-',
    port,
    ...(e.nodeName !== undefined ? { host: e.nodeName } : {}),
  };
}

const internetEndpoint = (port: number): FlowEndpoint => ({
  type: 'ns', namespace: '-', name: 'internet', nameAggr: 'internet', labels: { role: 'internet' }, ip: INTERNET_ADDRESS, port,
});

/** The pods of a plan end (`NS/APP`), in manifest order. */
export function podsOf(built: BuiltSnapshot, end: string): Entity[] {
  const [ns, app] = end.split('/');
  return [...built.pods.values()].filter((p) => p.namespace === ns && p.labels.app === app);
}

export interface RecordOptions {
  /** End of the recording (unix ms); buckets go back from here. */
  readonly end: number;
  readonly buckets: number;
  readonly bucketMs: number;
}

/** Flow logs for `buckets` buckets of the plan, oldest first. */
export function recordFlows(built: BuiltSnapshot, plan: readonly TrafficRoute[], o: RecordOptions, generateNames: GenerateNames = new Map()): FlowLog[] {
  const evaluator = new PolicyEvaluator(built.snapshot);
  const internet = parseIp(INTERNET_ADDRESS);
  if (internet === undefined) throw new Error('bad internet address');
  const logs: FlowLog[] = [];
  for (let b = o.buckets; b >= 1; b--) {
    const startTime = o.end - b * o.bucketMs;
    for (const [i, route] of plan.entries()) {
      const sources = route.from === INTERNET ? [undefined] : podsOf(built, route.from);
      const dests = route.to === INTERNET ? [undefined] : podsOf(built, route.to);
      for (const [si, src] of sources.entries()) {
        // Each source talks to one destination pod per bucket, round robin (as a client behind a
        // service would), so every pod of a workload shows up over a few buckets.
        const dst = dests[(b + si + i) % dests.length];
        const flow = flowBetween(src ?? internet, dst ?? internet, { protocol: protocolNumber(route.proto), port: route.port });
        if (flow === undefined) continue;
        const verdict = evaluator.evaluate(flow);
        // A little jitter so the graph's numbers move: ±25 % around the planned rate.
        const jitter = 0.75 + (((b * 31 + i * 17 + si * 7) % 11) / 20);
        const numFlows = Math.max(1, Math.round(((route.perMinute * o.bucketMs) / 60_000) * jitter));
        const source = src !== undefined ? endpointOf(src, 0, generateNames) : internetEndpoint(0);
        const dest = dst !== undefined ? endpointOf(dst, route.port, generateNames) : internetEndpoint(route.port);
        logs.push(...flowLogsFor(verdict, source, dest, route.proto, { startTime, endTime: startTime + o.bucketMs, numFlows, packetsPerFlow: 5, bytesPerFlow: 420 + route.port % 300 }));
      }
    }
  }
  return logs;
}
