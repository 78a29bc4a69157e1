// Evaluator throughput: random pod-to-pod flows against a synthetic cluster of 10k pods and 2k
// mixed policies (Kubernetes, Calico namespaced and global, tiers, network sets, admin policies).
// Reports the fast path (isAllowed, what a matrix uses) and the traced path (evaluate), cold
// (first touch of each endpoint and address) and warm, plus snapshot build time.
import { PolicyEvaluator, buildSnapshot, flowBetween, PROTOCOL_NUMBERS, type Entity, type Flow } from '../src/policy/index.js';
import type { Decoded } from '../src/resources/index.js';
import { clusterParams, generateCluster, Random } from './synthetic-cluster.js';
import { emit, now } from './calc-common.js';

const PODS = 10_000;
const POLICIES = 2_000;
const FLOWS = 200_000;
const PORTS = [80, 443, 5432, 6379, 8080, 9090];
const bench = `evaluator/${PODS / 1000}k-pods-${POLICIES / 1000}k-policies`;

const cluster = generateCluster(clusterParams(PODS, POLICIES, 7));
const decoded: Decoded[] = cluster.resources.map((resource, i) => ({ source: { file: 'synthetic', document: i + 1 }, resource }));

let t0 = now();
const built = buildSnapshot(decoded);
emit(bench, 'snapshot_build', now() - t0, 'ms', { resources: decoded.length, policies: built.snapshot.policies.length });

const pods = [...built.pods.values()];
const rnd = new Random(42);
const flows: Flow[] = [];
while (flows.length < FLOWS) {
  const from = rnd.pick(pods) as Entity;
  const to = rnd.pick(pods) as Entity;
  const protocol = rnd.chance(0.9) ? PROTOCOL_NUMBERS.TCP : PROTOCOL_NUMBERS.UDP;
  const flow = flowBetween(from, to, { protocol, port: rnd.pick(PORTS) });
  if (flow) flows.push(flow);
}

const evaluator = new PolicyEvaluator(built.snapshot);
let allowed = 0;
t0 = now();
for (const f of flows) if (evaluator.isAllowed(f)) allowed++;
const cold = now() - t0;
emit(bench, 'fast_path_cold', (FLOWS / cold) * 1000, 'flows/s', { flows: FLOWS, allowed_share: allowed / FLOWS });

t0 = now();
for (const f of flows) evaluator.isAllowed(f);
const warm = now() - t0;
emit(bench, 'fast_path_warm', (FLOWS / warm) * 1000, 'flows/s', { flows: FLOWS });

t0 = now();
let tiers = 0;
for (const f of flows) tiers += evaluator.evaluate(f).ingress.tiers.length;
const traced = now() - t0;
emit(bench, 'traced', (FLOWS / traced) * 1000, 'flows/s', { flows: FLOWS, mean_ingress_tiers: tiers / FLOWS });
