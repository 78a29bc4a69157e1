// Deterministic, realistic-looking flow logs (many namespaces, workloads and pods, 15 s buckets,
// some denies, staged verdicts) for benches, tests and demos. Same seed, same logs.
import type { FlowEndpoint, FlowLog } from './types.js';

export interface SyntheticFlowOptions {
  readonly seed?: number;
  readonly namespaces?: number;
  readonly workloadsPerNamespace?: number;
  readonly podsPerWorkload?: number;
  /** First bucket start, unix ms. */
  readonly start: number;
  readonly bucketMs?: number;
  /** Logs per bucket (the whole cluster). */
  readonly logsPerBucket: number;
}

/** mulberry32: small, fast, good enough for synthetic data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['frontend', 'api', 'db', 'cache', 'worker', 'auth', 'search', 'queue', 'metrics', 'billing'];
const PORTS = [80, 443, 5432, 6379, 8080, 9090, 53, 3306, 11211, 5672];

/** An endless generator of logs, bucket by bucket. */
export function* syntheticFlowLogs(o: SyntheticFlowOptions): Generator<FlowLog> {
  const rand = rng(o.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nsCount = o.namespaces ?? 50;
  const wl = o.workloadsPerNamespace ?? 8;
  const pods = o.podsPerWorkload ?? 4;
  const bucket = o.bucketMs ?? 15_000;
  const all: FlowEndpoint[] = [];
  for (let n = 0; n < nsCount; n++) {
    for (let w = 0; w < wl; w++) {
      const app = APPS[w % APPS.length]!;
      for (let p = 0; p < pods; p++) {
        all.push({
          type: 'wep',
          namespace: `ns-${n}`,
          name: `${app}-${w}-${p.toString(36)}x${n}`,
          nameAggr: `${app}-${w}-*`,
          labels: { app, tier: w % 2 === 0 ? 'web' : 'backend', team: `t${n % 7}` },
          ip: `10.${n % 250}.${w}.${p + 10}`,
          port: 0,
          serviceAccount: app,
        });
      }
    }
  }
  const internet: FlowEndpoint = { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip: '-', port: 0 };
  for (let t = o.start; ; t += bucket) {
    for (let i = 0; i < o.logsPerBucket; i++) {
      const si = Math.floor(rand() * all.length);
      const src = all[si]!;
      const group = wl * pods;
      // Mostly within the namespace, sometimes across, sometimes out to the internet.
      const r = rand();
      const dstBase = r < 0.7 ? all[Math.floor(si / group) * group + Math.floor(rand() * group)]! : r < 0.95 ? pick(all) : internet;
      const port = pick(PORTS);
      const deny = rand() < 0.08;
      const reporter = rand() < 0.5 ? 'src' : 'dst';
      const ns = reporter === 'src' ? src.namespace : dstBase.namespace === '-' ? src.namespace : dstBase.namespace;
      const policy = deny ? `${ns}/knp.default.deny-${pick(APPS)}` : `${ns}/knp.default.allow-${pick(APPS)}`;
      const packets = 1 + Math.floor(rand() * 200);
      const staged = rand() < 0.1;
      yield {
        startTime: t,
        endTime: t + bucket,
        host: `node-${Math.floor(rand() * 20)}`,
        reporter,
        action: deny ? 'deny' : 'allow',
        proto: port === 53 ? 'udp' : 'tcp',
        source: { ...src, port: 0 },
        dest: { ...dstBase, port },
        tier: 'default',
        policy,
        ruleIndex: deny ? -1 : Math.floor(rand() * 3),
        policies: [`0|default|${policy}|${deny ? 'deny' : 'allow'}|${deny ? -1 : 0}`],
        ...(staged ? { pendingAction: rand() < 0.5 ? 'allow' as const : 'deny' as const, pendingPolicies: [`0|default|${ns}/staged:knp.default.p|deny|0`] } : {}),
        packetsIn: deny ? 0 : packets,
        packetsOut: packets,
        bytesIn: deny ? 0 : packets * 700,
        bytesOut: packets * 120,
        numFlows: 1 + Math.floor(rand() * 3),
        numFlowsStarted: 1,
        numFlowsCompleted: deny ? 0 : 1,
      };
    }
  }
}
