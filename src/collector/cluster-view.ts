// What the collector knows of the cluster: the objects the agent watches, as a policy snapshot
// (rebuilt lazily when something changed) plus the raw pods by address. It names the endpoints of
// a flow (pod, network set, host endpoint, or plain network) and explains a verdict with the
// policy core: the kernel says what happened (action, rule id); the evaluator says why, in
// Calico's hit format, and what staged policies would have done.
import type { FlowAction, FlowEndpoint, FlowLog, PolicyHit } from '../flows/index.js';
import { parseIp, type IpAddress } from '../net/index.js';
import { AddressIndex, buildSnapshot, PolicyEvaluator, type DirectionVerdict, type Entity, type Flow, type NormPolicy } from '../policy/index.js';
import { decodeObject, type Decoded } from '../resources/index.js';

type JsonObject = Record<string, unknown>;

interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly nameAggr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly node: string;
}

/** The kernel's half of a verdict: what the rule id in the mark or log prefix stands for. */
export interface KernelRule {
  readonly owner: 'policy' | 'profile' | 'implicit';
  /** Policy id (`tier/ns/name`) or profile name; for implicit drops the policy id or ''. */
  readonly name: string;
  readonly tier?: string;
  readonly ruleIndex: number;
  readonly action: string;
}

/** Why a half was decided as it was: the flow log's decision fields. */
export type Explanation = Pick<FlowLog, 'tier' | 'policy' | 'ruleIndex' | 'policies' | 'pendingAction' | 'pendingPolicies'>;

const PRIVATE_V4: readonly (readonly [number, number])[] = [
  [0x0a000000, 8], [0xac100000, 12], [0xc0a80000, 16], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16],
];

function isPrivate(ip: IpAddress): boolean {
  if (ip.family === 4) return PRIVATE_V4.some(([net, len]) => ip.value >>> (32 - len) === net >>> (32 - len));
  return (ip.value >> 121n) === 0x7en /* fc00::/7 */ || (ip.value >> 118n) === 0x3fan /* fe80::/10 */ || ip.value === 1n;
}

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

function podInfo(obj: JsonObject): { info: PodInfo; ips: string[] } | undefined {
  const meta = (obj['metadata'] ?? {}) as JsonObject;
  const spec = (obj['spec'] ?? {}) as JsonObject;
  const status = (obj['status'] ?? {}) as JsonObject;
  const name = meta['name'];
  if (typeof name !== 'string') return undefined;
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default';
  const ips = new Set<string>();
  if (typeof status['podIP'] === 'string') ips.add(status['podIP']);
  if (Array.isArray(status['podIPs'])) for (const p of status['podIPs']) if (typeof (p as JsonObject)['ip'] === 'string') ips.add((p as JsonObject)['ip'] as string);
  if (spec['hostNetwork'] === true) return undefined;
  const generate = meta['generateName'];
  return {
    info: {
      namespace,
      name,
      nameAggr: typeof generate === 'string' && generate !== '' ? `${generate}*` : name,
      labels: strings(meta['labels']),
      serviceAccount: typeof spec['serviceAccountName'] === 'string' ? spec['serviceAccountName'] : 'default',
      node: typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '',
    },
    ips: [...ips],
  };
}

const keyOf = (obj: JsonObject): string => {
  const meta = (obj['metadata'] ?? {}) as JsonObject;
  return `${String(obj['apiVersion'])}/${String(obj['kind'])}/${String(meta['namespace'] ?? '')}/${String(meta['name'] ?? '')}`;
};

const lower = (a: string): string => a.toLowerCase();

/** The hits of one direction's verdict, in Calico's "index|tier|name|action|ruleIndex" form. */
export function hitsOf(v: DirectionVerdict): PolicyHit[] {
  const hits: PolicyHit[] = [];
  for (const t of v.tiers) {
    let last = '';
    for (const p of t.policies) {
      last = p.policy;
      for (const h of p.hits) if (h.action !== 'Log') hits.push(`${hits.length}|${t.tier}|${p.policy}|${lower(h.action)}|${h.ruleIndex}`);
    }
    if (t.outcome === 'end-of-tier-Deny') hits.push(`${hits.length}|${t.tier}|${last}|deny|-1`);
    if (t.outcome === 'end-of-tier-Pass') hits.push(`${hits.length}|${t.tier}|${last}|pass|-1`);
  }
  const d = v.decidedBy;
  if (d.kind === 'profile') hits.push(`${hits.length}|__PROFILE__|__PROFILE__.${d.profile}|${lower(d.action)}|${d.ruleIndex}`);
  if (d.kind === 'default-deny') hits.push(`${hits.length}|__PROFILE__|__PROFILE__.default-deny|deny|-1`);
  return hits;
}

function decisionOf(hit: PolicyHit | undefined): { tier: string; policy: string; ruleIndex: number } {
  const [, tier, policy, , rule] = (hit ?? '').split('|');
  return { tier: tier ?? '-', policy: policy ?? '-', ruleIndex: Number(rule ?? -1) };
}

export class ClusterView {
  private readonly objects = new Map<string, JsonObject>();
  private dirty = true;
  private evaluator: PolicyEvaluator | undefined;
  private addresses = new AddressIndex([]);
  private pods = new Map<string, { info: PodInfo; entity?: Entity }>();
  private policiesById = new Map<string, NormPolicy>();
  private staged = false;
  private verdicts = new Map<string, ReturnType<PolicyEvaluator['evaluate']>>();
  rebuilds = 0;

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  upsert(obj: JsonObject): void {
    this.objects.set(keyOf(obj), obj);
    this.dirty = true;
  }

  delete(obj: JsonObject): void {
    this.objects.delete(keyOf(obj));
    this.dirty = true;
  }

  /** Rebuilds the snapshot if anything changed since the last call (the collector calls it once per flush). */
  refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.rebuilds++;
    const decoded: Decoded[] = [];
    const pods = new Map<string, { info: PodInfo; entity?: Entity }>();
    for (const [key, obj] of this.objects) {
      try {
        decoded.push({ resource: decodeObject(obj, { file: `api ${key}`, document: 1 }), source: { file: `api ${key}`, document: 1 } });
      } catch {
        // The agent logs rejected objects already.
      }
      if (obj['kind'] === 'Pod' && obj['apiVersion'] === 'v1') {
        const p = podInfo(obj);
        if (p !== undefined) for (const ip of p.ips) pods.set(parseIp(ip)?.text ?? ip, { info: p.info });
      }
    }
    const built = buildSnapshot(decoded);
    for (const [id, e] of built.pods) {
      const [ns, name] = id.split('/');
      for (const ip of e.ips) {
        const p = pods.get(ip.text);
        if (p !== undefined && p.info.namespace === ns && p.info.name === name) p.entity = e;
      }
    }
    this.pods = pods;
    this.addresses = new AddressIndex(built.snapshot.entities);
    this.evaluator = new PolicyEvaluator(built.snapshot);
    this.policiesById = new Map(built.snapshot.policies.map((p) => [p.id, p]));
    this.staged = built.snapshot.policies.some((p) => p.staged !== undefined);
    this.verdicts = new Map();
    if (built.problems.length > 0) this.log(`flow attribution: ${built.problems.length} cross-object problems in the cluster (e.g. ${built.problems[0]?.message ?? ''})`);
  }

  /** The node a pod address lives on ('' when not a pod). */
  nodeOf(ip: string): string | undefined {
    return this.pods.get(ip)?.info.node;
  }

  isPod(ip: string): boolean {
    return this.pods.has(ip);
  }

  endpointAt(ip: string, port: number): FlowEndpoint {
    const pod = this.pods.get(ip);
    if (pod !== undefined) {
      const i = pod.info;
      return { type: 'wep', namespace: i.namespace, name: i.name, nameAggr: i.nameAggr, labels: i.labels, ip, port, serviceAccount: i.serviceAccount };
    }
    const addr = parseIp(ip);
    if (addr === undefined) return { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip, port };
    const entities = this.addresses.entitiesAt(addr);
    const hep = entities.find((e) => e.kind === 'hostEndpoint');
    if (hep !== undefined) return { type: 'hep', namespace: '-', name: hep.name, nameAggr: hep.name, labels: ownLabels(hep.labels), ip, port };
    // The most specific network set names an outside address.
    const sets = entities.filter((e) => e.kind === 'networkSet');
    const best = sets.sort((a, b) => longestPrefix(b, addr) - longestPrefix(a, addr))[0];
    if (best !== undefined) return { type: 'ns', namespace: best.namespace ?? '-', name: best.name, nameAggr: best.name, labels: ownLabels(best.labels), ip, port };
    return { type: 'net', namespace: '-', name: '-', nameAggr: isPrivate(addr) ? 'pvt' : 'pub', labels: {}, ip, port };
  }

  /**
   * Explains one half of a flow. `kernel` is what the ruleset decided (the rule id looked up);
   * when the evaluator's decision for that direction names the same action, its full trace is
   * used (Pass hits, end of tier); otherwise the kernel's rule alone.
   */
  explain(flow: { proto: number; srcIp: string; dstIp: string; srcPort: number; dstPort: number }, reporter: 'src' | 'dst', action: FlowAction, kernel: KernelRule | undefined): Explanation {
    const verdict = this.verdictFor(flow);
    const dir = verdict === undefined ? undefined : reporter === 'src' ? verdict.egress : verdict.ingress;
    let policies: PolicyHit[] | undefined;
    if (dir !== undefined && dir.allowed === (action === 'allow')) policies = hitsOf(dir);
    if (policies === undefined || policies.length === 0) policies = kernel === undefined ? [] : [this.kernelHit(kernel)];
    const decided = decisionOf(policies[policies.length - 1]);
    let pending: Pick<Explanation, 'pendingAction' | 'pendingPolicies'> = {};
    if (this.staged && verdict !== undefined) {
      const s = reporter === 'src' ? verdict.staged.egress : verdict.staged.ingress;
      pending = { pendingAction: s.allowed ? 'allow' : 'deny', pendingPolicies: hitsOf(s) };
    }
    return { ...decided, policies, ...pending };
  }

  private kernelHit(k: KernelRule): PolicyHit {
    const action = lower(k.action);
    if (k.owner === 'profile') return `0|__PROFILE__|__PROFILE__.${k.name}|${action}|${k.ruleIndex}`;
    // An endpoint-level drop (no tier, no profile matched): Calico's default deny.
    if (k.owner === 'implicit' && (k.tier ?? '') === '') return `0|__PROFILE__|__PROFILE__.default-deny|deny|-1`;
    const p = this.policiesById.get(k.name);
    return `0|${k.tier ?? p?.tier ?? '-'}|${p?.name ?? (k.name === '' ? '-' : k.name)}|${action}|${k.ruleIndex}`;
  }

  private verdictFor(f: { proto: number; srcIp: string; dstIp: string; srcPort: number; dstPort: number }): ReturnType<PolicyEvaluator['evaluate']> | undefined {
    if (this.evaluator === undefined) return undefined;
    // Source ports never change a verdict: cache per pair, protocol and destination port.
    const key = `${f.srcIp}|${f.dstIp}|${f.proto}|${f.dstPort}`;
    const cached = this.verdicts.get(key);
    if (cached !== undefined) return cached;
    const src = parseIp(f.srcIp);
    const dst = parseIp(f.dstIp);
    if (src === undefined || dst === undefined) return undefined;
    const srcEntity = this.pods.get(src.text)?.entity;
    const dstEntity = this.pods.get(dst.text)?.entity;
    const flow: Flow = {
      source: srcEntity !== undefined ? { entity: srcEntity, ip: src } : { ip: src },
      destination: dstEntity !== undefined ? { entity: dstEntity, ip: dst } : { ip: dst },
      protocol: f.proto,
      ...(f.proto === 6 || f.proto === 17 || f.proto === 132 ? { destinationPort: f.dstPort } : {}),
    };
    const v = this.evaluator.evaluate(flow);
    if (this.verdicts.size > 100_000) this.verdicts.clear();
    this.verdicts.set(key, v);
    return v;
  }
}

function ownLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!k.startsWith('projectcalico.org/') && !k.startsWith('pcns.') && !k.startsWith('pcsa.')) out[k] = v;
  return out;
}

function longestPrefix(e: Entity, ip: IpAddress): number {
  let best = -1;
  for (const n of e.nets ?? []) if (n.family === ip.family && n.prefix > best) best = n.prefix;
  return best;
}
