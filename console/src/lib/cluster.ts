// The cluster as the policy core sees it, built in the browser from the objects the API serves:
// the policy board (tiers and policies in evaluation order), the endpoints a policy selects, and
// the impact preview (observed flows evaluated against a policy set). Pure: no fetch, no DOM.
import { buildSnapshot, comparePolicies, compareTiers, entityMatches, flowBetween, PolicyEvaluator, protocolNumber, type BuiltSnapshot, type Entity, type NormPolicy, type NormTier, type Verdict } from '../../../src/policy/index.js';
import { decodeObject, type Decoded } from '../../../src/resources/index.js';
import { nthAddress, parseIp, type IpAddress } from '../../../src/net/index.js';
import { attribute } from '../../../src/demo/attribution.js';
import type { FlowLog } from '../../../src/flows/types.js';

/** Every kind the policy core reads, as the API serves them. */
export interface KindRef {
  readonly path: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly policy: boolean;
}

const k = (path: string, plural: string, kind: string, namespaced: boolean, policy: boolean): KindRef => ({ path, plural, kind, namespaced, policy });

export const CLUSTER_KINDS: readonly KindRef[] = [
  k('/api/v1', 'namespaces', 'Namespace', false, false),
  k('/api/v1', 'pods', 'Pod', true, false),
  k('/api/v1', 'serviceaccounts', 'ServiceAccount', true, false),
  k('/api/v1', 'nodes', 'Node', false, false),
  k('/apis/projectcalico.org/v3', 'tiers', 'Tier', false, false),
  k('/apis/projectcalico.org/v3', 'networksets', 'NetworkSet', true, false),
  k('/apis/projectcalico.org/v3', 'globalnetworksets', 'GlobalNetworkSet', false, false),
  k('/apis/projectcalico.org/v3', 'hostendpoints', 'HostEndpoint', false, false),
  k('/apis/projectcalico.org/v3', 'ippools', 'IPPool', false, false),
  k('/apis/projectcalico.org/v3', 'globalnetworkpolicies', 'GlobalNetworkPolicy', false, true),
  k('/apis/projectcalico.org/v3', 'networkpolicies', 'NetworkPolicy', true, true),
  k('/apis/projectcalico.org/v3', 'stagedglobalnetworkpolicies', 'StagedGlobalNetworkPolicy', false, true),
  k('/apis/projectcalico.org/v3', 'stagednetworkpolicies', 'StagedNetworkPolicy', true, true),
  k('/apis/projectcalico.org/v3', 'stagedkubernetesnetworkpolicies', 'StagedKubernetesNetworkPolicy', true, true),
  k('/apis/networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true, true),
  k('/apis/policy.networking.k8s.io/v1alpha1', 'adminnetworkpolicies', 'AdminNetworkPolicy', false, true),
  k('/apis/policy.networking.k8s.io/v1alpha1', 'baselineadminnetworkpolicies', 'BaselineAdminNetworkPolicy', false, true),
];

export type ApiObject = Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; [k: string]: unknown } };

/** The API path of one object (for GET/PUT). */
export function objectPath(o: ApiObject): string | undefined {
  const apiVersion = o.apiVersion ?? '';
  const ref = CLUSTER_KINDS.find((c) => c.kind === o.kind && c.path.endsWith(apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`));
  const name = o.metadata?.name;
  if (ref === undefined || name === undefined) return undefined;
  const ns = o.metadata?.namespace;
  return `${ref.path}/${ref.namespaced ? `namespaces/${encodeURIComponent(ns ?? 'default')}/` : ''}${ref.plural}/${encodeURIComponent(name)}`;
}

export interface ClusterModel {
  readonly built: BuiltSnapshot;
  /** Objects the policy core could not read (shown, not hidden). */
  readonly skipped: readonly string[];
  /** The object behind each policy id, for the editor. */
  readonly objectOf: ReadonlyMap<string, ApiObject>;
}

const identity = (apiVersion: string | undefined, kind: string | undefined, ns: string | undefined, name: string | undefined): string => `${apiVersion}/${kind}/${ns ?? ''}/${name}`;

/** Decodes every object (one bad object is skipped, not fatal) and builds the snapshot. */
export function clusterModel(objects: readonly ApiObject[]): ClusterModel {
  const decoded: Decoded[] = [];
  const skipped: string[] = [];
  const byIdentity = new Map<string, ApiObject>();
  objects.forEach((o, i) => {
    try {
      decoded.push({ resource: decodeObject(o, { file: 'api', document: i + 1 }), source: { file: 'api', document: i + 1 } });
      byIdentity.set(identity(o.apiVersion, o.kind, o.metadata?.namespace, o.metadata?.name), o);
    } catch (err) {
      skipped.push(`${o.kind ?? '?'} ${o.metadata?.namespace !== undefined ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const built = buildSnapshot(decoded);
  const objectOf = new Map<string, ApiObject>();
  for (const p of built.snapshot.policies) {
    const o = byIdentity.get(identity(p.origin.apiVersion, p.origin.kind, p.origin.namespace, p.origin.name));
    if (o !== undefined) objectOf.set(p.id, o);
  }
  return { built, skipped, objectOf };
}

export interface TierColumn {
  readonly tier: NormTier;
  readonly policies: readonly NormPolicy[];
}

/** Tiers in evaluation order, each with its policies in order (staged ones beside their twins). */
export function policyBoard(built: BuiltSnapshot): TierColumn[] {
  const tiers = [...built.snapshot.tiers].sort(compareTiers);
  return tiers.map((tier) => ({ tier, policies: built.snapshot.policies.filter((p) => p.tier === tier.name).sort((a, b) => comparePolicies(a, b) || Number(a.staged !== undefined) - Number(b.staged !== undefined)) }));
}

/** The endpoints a policy applies to. */
export function selectedEndpoints(built: BuiltSnapshot, policy: NormPolicy): Entity[] {
  return built.snapshot.entities.filter((e) => e.enforced && entityMatches(policy.subject, e) && (policy.namespace === undefined || e.namespace === policy.namespace));
}

export interface ConnectionImpact {
  /** Graph edge id (`type/ns/aggr>type/ns/aggr`). */
  readonly edge: string;
  /** The edge with the destination port and protocol. */
  readonly connection: string;
  readonly recorded: 'allow' | 'deny';
  readonly now: 'allow' | 'deny';
  /** The deciding hit under this policy set. */
  readonly decidedBy: string;
  readonly numFlows: number;
}

const endId = (e: FlowLog['source']): string => `${e.type}/${e.namespace}/${e.nameAggr}`;

/**
 * The endpoint behind one side of a flow log: by address when the log kept it, else (aggregated
 * logs) a pod of the workload (`nameAggr`), or an address of the network set.
 */
export function resolveEnd(built: BuiltSnapshot, byIp: ReadonlyMap<string, Entity>, e: FlowLog['source']): Entity | IpAddress | undefined {
  if (e.ip !== '-' && e.ip !== '') return byIp.get(e.ip) ?? parseIp(e.ip);
  if (e.type === 'wep') {
    const prefix = e.nameAggr.endsWith('*') ? e.nameAggr.slice(0, -1) : undefined;
    return [...built.pods.values()].find((p) => p.namespace === e.namespace && (e.name !== '-' ? p.name === e.name : prefix !== undefined ? p.name.startsWith(prefix) : p.name === e.nameAggr));
  }
  if (e.type === 'ns') {
    const set = built.snapshot.entities.find((x) => x.nets !== undefined && x.name === e.nameAggr && (e.namespace === '-' ? x.namespace === undefined : x.namespace === e.namespace));
    const net = set?.nets?.[0];
    return net !== undefined ? nthAddress(net, net.prefix >= 31 ? 0 : 1) : undefined;
  }
  return undefined;
}

function ipIndex(built: BuiltSnapshot): Map<string, Entity> {
  const byIp = new Map<string, Entity>();
  for (const e of built.pods.values()) for (const ip of e.ips) byIp.set(ip.text, e);
  return byIp;
}

/**
 * Each distinct connection among the logs (source, destination address, port, protocol) evaluated
 * against `built`: what the recorded flows said, and what this policy set decides.
 */
export function impactOf(built: BuiltSnapshot, logs: readonly FlowLog[]): ConnectionImpact[] {
  const evaluator = new PolicyEvaluator(built.snapshot);
  const byIp = ipIndex(built);
  const seen = new Map<string, { log: FlowLog; recorded: 'allow' | 'deny'; numFlows: number }>();
  for (const l of logs) {
    // Per workload pair and port: collectors aggregate the two halves of a connection at different
    // levels (one with addresses, one without), and a workload's pods share their labels.
    const key = `${endId(l.source)}>${endId(l.dest)}:${l.dest.port}/${l.proto}`;
    const s = seen.get(key);
    if (s === undefined) seen.set(key, { log: l, recorded: l.action, numFlows: l.reporter === 'dst' || l.dest.type !== 'wep' ? l.numFlows : 0 });
    else {
      if (l.source.ip !== '-' && l.dest.ip !== '-' && (s.log.source.ip === '-' || s.log.dest.ip === '-')) s.log = l;
      if (l.action === 'deny') s.recorded = 'deny';
      if (l.reporter === 'dst' || l.dest.type !== 'wep') s.numFlows += l.numFlows;
    }
  }
  const out: ConnectionImpact[] = [];
  for (const [key, { log, recorded, numFlows }] of seen) {
    const src = resolveEnd(built, byIp, log.source);
    const dst = resolveEnd(built, byIp, log.dest);
    if (src === undefined || dst === undefined) continue;
    let protocol: number;
    try {
      protocol = protocolNumber(log.proto);
    } catch {
      continue;
    }
    const flow = flowBetween(src, dst, { protocol, port: log.dest.port });
    if (flow === undefined) continue;
    const v = evaluator.evaluate(flow);
    const dir = v.egress.allowed ? v.ingress : v.egress;
    const a = attribute(dir);
    out.push({ edge: `${endId(log.source)}>${endId(log.dest)}`, connection: key, recorded, now: v.allowed ? 'allow' : 'deny', decidedBy: `${a.tier} ${a.policy}${a.ruleIndex >= 0 ? ` rule ${a.ruleIndex}` : ''} (${a.action})`, numFlows: Math.max(numFlows, 1) });
  }
  return out;
}

/** Per edge: connections that change verdict under the policy set. */
export function changedEdges(impacts: readonly ConnectionImpact[]): Map<string, { nowDenied: number; nowAllowed: number; reasons: string[] }> {
  const out = new Map<string, { nowDenied: number; nowAllowed: number; reasons: string[] }>();
  for (const i of impacts) {
    if (i.now === i.recorded) continue;
    const e = out.get(i.edge) ?? { nowDenied: 0, nowAllowed: 0, reasons: [] };
    if (i.now === 'deny') e.nowDenied += i.numFlows;
    else e.nowAllowed += i.numFlows;
    if (!e.reasons.includes(i.decidedBy)) e.reasons.push(i.decidedBy);
    out.set(i.edge, e);
  }
  return out;
}

/** The policy core's verdict, with its trace, for the connection of one flow log. */
export function verdictOf(built: BuiltSnapshot, log: FlowLog): Verdict | undefined {
  const byIp = ipIndex(built);
  const src = resolveEnd(built, byIp, log.source);
  const dst = resolveEnd(built, byIp, log.dest);
  if (src === undefined || dst === undefined) return undefined;
  let protocol: number;
  try {
    protocol = protocolNumber(log.proto);
  } catch {
    return undefined;
  }
  const flow = flowBetween(src, dst, { protocol, port: log.dest.port });
  return flow === undefined ? undefined : new PolicyEvaluator(built.snapshot).evaluate(flow);
}

/** Policies (enforced and staged) that select any pod of a workload (`namespace`, Calico `nameAggr`). */
export function policiesForWorkload(built: BuiltSnapshot, namespace: string, nameAggr: string): NormPolicy[] {
  // `frontend-*` is the pods named from generateName `frontend-`; otherwise the name is the pod's.
  const prefix = nameAggr.endsWith('*') ? nameAggr.slice(0, -1) : undefined;
  const pods = [...built.pods.values()].filter((p) => p.namespace === namespace && (prefix !== undefined ? p.name.startsWith(prefix) : p.name === nameAggr));
  return built.snapshot.policies.filter((pol) => pods.some((p) => entityMatches(pol.subject, p) && (pol.namespace === undefined || pol.namespace === p.namespace)));
}
