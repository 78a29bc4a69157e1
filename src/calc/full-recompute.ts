// The naive calculation: the whole output state from a full set of resources, by brute force
// (every local endpoint against every policy, every set against every entity). It is the oracle
// the engine's tests compare with and the baseline its benchmarks beat; NaiveCalcEngine wraps it
// in the engine's interface by recomputing everything on each flush and emitting the difference.
import { isUserError, type UserError } from '../errors/index.js';
import {
  compareTiers,
  comparePolicies,
  entityForGlobalNetworkSet,
  entityForHostEndpoint,
  entityForNetworkSet,
  entityForNode,
  entityForPod,
  entityMatches,
  namespaceLabelsOf,
  namespaceProfile,
  nodeAddresses,
  podIps,
  type Direction,
  type Entity,
  type NormPolicy,
  type NormProfile,
  type NormTier,
} from '../policy/index.js';
import type { IpAddress } from '../net/index.js';
import { BUILTIN_TIERS, type Labels, type Resource } from '../resources/index.js';
import { canonicalJson } from './canonical.js';
import { classify, convertPolicyResource, convertProfileResource, normTier, normalizeRef } from './resource-kinds.js';
import { activePolicyOf, activeProfileOf, entitySetMembers, type IpSetDefinition } from './rule-sets.js';
import {
  resourceKey,
  resourceRef,
  type ActivePolicy,
  type ActiveProfile,
  type CalcCallbacks,
  type CalcEngineOptions,
  type CalcState,
  type CalcUpdate,
  type EndpointPolicies,
  type IpSetState,
  type PolicyView,
  type TierPolicies,
} from './types.js';

export type FullRecomputeOptions = Omit<CalcEngineOptions, 'callbacks'> & {
  readonly onResourceRejected?: CalcCallbacks['onResourceRejected'];
};

export const EMPTY_CALC_STATE: CalcState = {
  ipSets: new Map(),
  tiers: new Map(),
  policies: new Map(),
  profiles: new Map(),
  endpoints: new Map(),
};

/** Everything the engine would have emitted, computed from scratch from these resources. */
export function computeCalcState(resources: Iterable<Resource>, options: FullRecomputeOptions = {}): CalcState {
  const latest = new Map<string, Resource>();
  for (const r of resources) {
    const key = resourceKey(resourceRef(r));
    latest.delete(key);
    latest.set(key, r);
  }
  const convert = <T>(r: Resource, f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      if (!isUserError(err)) throw err;
      options.onResourceRejected?.(resourceRef(r), err as UserError);
      return undefined;
    }
  };

  // Entities, with the same per-object builders the batch snapshot uses.
  const all = [...latest.values()].map(classify);
  const namespaceLabels = new Map<string, Labels>();
  const serviceAccountLabels = new Map<string, Labels>();
  const nodeIps = new Map<string, IpAddress[]>();
  const tiers = new Map<string, NormTier>();
  for (const t of options.builtinTiers ?? BUILTIN_TIERS) tiers.set(t.metadata.name, normTier(t));
  const explicitProfiles = new Map<string, NormProfile>();
  const policies: NormPolicy[] = [];
  for (const c of all) {
    switch (c.type) {
      case 'namespace':
        namespaceLabels.set(c.resource.metadata.name, namespaceLabelsOf(c.resource.metadata.name, c.resource.metadata.labels));
        break;
      case 'serviceAccount':
        serviceAccountLabels.set(`${c.resource.metadata.namespace}/${c.resource.metadata.name}`, c.resource.metadata.labels);
        break;
      case 'node':
        nodeIps.set(c.resource.metadata.name, nodeAddresses(c.resource));
        break;
      case 'tier':
        tiers.set(c.resource.metadata.name, normTier(c.resource));
        break;
      case 'profile': {
        const p = convert(c.resource, () => convertProfileResource(c.resource));
        if (p !== undefined) explicitProfiles.set(p.name, p);
        break;
      }
      default:
        break;
    }
  }
  for (const c of all) {
    if (c.type !== 'policy') continue;
    const p = convert(c.resource, () => convertPolicyResource(c.resource));
    if (p !== undefined && tiers.has(p.tier)) policies.push(p);
  }
  const presentNamespaces = new Set(namespaceLabels.keys());
  const entities: Entity[] = [];
  for (const c of all) {
    switch (c.type) {
      case 'node':
        entities.push(entityForNode(c.resource, nodeIps.get(c.resource.metadata.name) ?? []));
        break;
      case 'pod': {
        const p = c.resource;
        const ns = p.metadata.namespace;
        presentNamespaces.add(ns);
        const ips = podIps(p, p.spec.nodeName !== undefined ? nodeIps.get(p.spec.nodeName) : undefined);
        entities.push(entityForPod(p, namespaceLabels.get(ns), serviceAccountLabels.get(`${ns}/${p.spec.serviceAccountName}`), ips));
        break;
      }
      case 'hostEndpoint':
        entities.push(entityForHostEndpoint(c.resource));
        break;
      case 'networkSet':
        entities.push(entityForNetworkSet(c.resource, namespaceLabels.get(c.resource.metadata.namespace)));
        break;
      case 'globalNetworkSet':
        entities.push(entityForGlobalNetworkSet(c.resource));
        break;
      default:
        break;
    }
  }

  // Per local endpoint: the selecting policies, ordered the way the evaluator orders them.
  const isLocal = options.isLocal ?? (() => true);
  const targets = new Set(policies.filter((p) => p.staged !== undefined).map((p) => p.stagedTarget ?? p.id));
  const orderedTiers = [...tiers.values()].sort(compareTiers);
  const byTier = new Map<string, NormPolicy[]>();
  for (const p of policies) {
    const list = byTier.get(p.tier);
    if (list) list.push(p);
    else byTier.set(p.tier, [p]);
  }
  for (const list of byTier.values()) list.sort((a, b) => comparePolicies(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const viewOf = (selected: ReadonlySet<NormPolicy>): PolicyView => {
    const direction = (d: Direction): TierPolicies[] => {
      const out: TierPolicies[] = [];
      for (const t of orderedTiers) {
        const ids = (byTier.get(t.name) ?? []).filter((p) => selected.has(p) && p.types[d]).map((p) => p.id);
        if (ids.length > 0) out.push({ tier: t.name, policies: ids });
      }
      return out;
    };
    return { ingress: direction('ingress'), egress: direction('egress') };
  };
  const subjects = policies.filter((p) => p.staged !== 'Delete');
  const endpoints = new Map<string, EndpointPolicies>();
  const usedPolicies = new Set<string>();
  const usedProfiles = new Set<string>();
  for (const e of entities) {
    if (!e.enforced || !isLocal(e)) continue;
    const matched = subjects.filter((p) => entityMatches(p.subject, e));
    const enforced = matched.filter((p) => p.staged === undefined);
    const stagedSets = matched.filter((p) => p.staged === 'Set');
    const main = viewOf(new Set(enforced));
    let staged: PolicyView | undefined;
    if (stagedSets.length > 0 || enforced.some((p) => targets.has(p.id))) {
      staged = viewOf(new Set([...enforced.filter((p) => !targets.has(p.id)), ...stagedSets]));
    }
    const ep: EndpointPolicies = { endpoint: e, ...main, ...(staged ? { staged } : {}) };
    endpoints.set(e.id, ep);
    for (const view of staged ? [main, staged] : [main]) {
      for (const t of [...view.ingress, ...view.egress]) for (const id of t.policies) usedPolicies.add(id);
    }
    for (const name of e.profiles) usedProfiles.add(name);
  }

  // Active policies, their tiers, the profiles local endpoints name, and every set they use.
  const setDefs = new Map<string, IpSetDefinition>();
  const activePolicies = new Map<string, ActivePolicy>();
  const activeTiers = new Map<string, NormTier>();
  for (const p of policies) {
    if (!usedPolicies.has(p.id)) continue;
    const { active, sets } = activePolicyOf(p);
    activePolicies.set(p.id, active);
    const tier = tiers.get(p.tier);
    if (tier !== undefined) activeTiers.set(tier.name, tier);
    for (const [id, def] of sets) setDefs.set(id, def);
  }
  const activeProfiles = new Map<string, ActiveProfile>();
  for (const name of usedProfiles) {
    const profile =
      explicitProfiles.get(name) ??
      (name.startsWith('kns.') && presentNamespaces.has(name.slice(4)) ? namespaceProfile(name.slice(4)) : undefined);
    if (profile === undefined) continue;
    const { active, sets } = activeProfileOf(profile);
    activeProfiles.set(name, active);
    for (const [id, def] of sets) setDefs.set(id, def);
  }
  const ipSets = new Map<string, IpSetState>();
  const scratch: string[] = [];
  for (const [id, def] of setDefs) {
    const members = new Set<string>();
    for (const e of entities) {
      if (!entityMatches(def.selector, e)) continue;
      scratch.length = 0;
      entitySetMembers(def, e, scratch);
      for (const m of scratch) members.add(m);
    }
    ipSets.set(id, { spec: def.spec, members });
  }
  return { ipSets, tiers: activeTiers, policies: activePolicies, profiles: activeProfiles, endpoints };
}

/** Canonical texts of the values of a state, to diff two states by content. */
interface StateTexts {
  readonly tiers: Map<string, string>;
  readonly policies: Map<string, string>;
  readonly profiles: Map<string, string>;
  readonly endpoints: Map<string, string>;
}

function textsOf(state: CalcState): StateTexts {
  const texts = <T>(m: ReadonlyMap<string, T>) => new Map([...m].map(([k, v]) => [k, canonicalJson(v)]));
  return {
    tiers: texts(state.tiers),
    policies: texts(state.policies),
    profiles: texts(state.profiles),
    endpoints: texts(state.endpoints),
  };
}

/** Emits the deltas that take a consumer from `prev` to `next`, in the safe order. */
export function emitStateDiff(prev: CalcState, next: CalcState, callbacks: CalcCallbacks): void {
  diffStates(prev, textsOf(prev), next, textsOf(next), callbacks);
}

function diffStates(prev: CalcState, prevTexts: StateTexts, next: CalcState, nextTexts: StateTexts, cb: CalcCallbacks): void {
  for (const [id, set] of next.ipSets) {
    const old = prev.ipSets.get(id);
    if (old === undefined) {
      cb.onIpSetAdded(set.spec, [...set.members]);
      continue;
    }
    const added = [...set.members].filter((m) => !old.members.has(m));
    const removed = [...old.members].filter((m) => !set.members.has(m));
    if (added.length > 0 || removed.length > 0) cb.onIpSetMembersChanged(id, added, removed);
  }
  const upserts = <T>(m: ReadonlyMap<string, T>, a: Map<string, string>, b: Map<string, string>, emit: (v: T, k: string) => void) => {
    for (const [k, v] of m) if (a.get(k) !== b.get(k)) emit(v, k);
  };
  const removals = (a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>, emit: (k: string) => void) => {
    for (const k of a.keys()) if (!b.has(k)) emit(k);
  };
  upserts(next.tiers, prevTexts.tiers, nextTexts.tiers, (t) => cb.onTierActive(t));
  upserts(next.policies, prevTexts.policies, nextTexts.policies, (p) => cb.onPolicyActive(p));
  upserts(next.profiles, prevTexts.profiles, nextTexts.profiles, (p) => cb.onProfileActive(p));
  upserts(next.endpoints, prevTexts.endpoints, nextTexts.endpoints, (e, k) => cb.onEndpointUpdate(k, e));
  removals(prev.endpoints, next.endpoints, (k) => cb.onEndpointRemoved(k));
  removals(prev.profiles, next.profiles, (k) => cb.onProfileInactive(k));
  removals(prev.policies, next.policies, (k) => cb.onPolicyInactive(k));
  removals(prev.tiers, next.tiers, (k) => cb.onTierInactive(k));
  removals(prev.ipSets, next.ipSets, (k) => cb.onIpSetRemoved(k));
}

/** The engine's interface over a full recompute per flush: correct by construction, and slow. */
export class NaiveCalcEngine {
  private readonly resources = new Map<string, Resource>();
  private state: CalcState = EMPTY_CALC_STATE;
  private texts: StateTexts = textsOf(EMPTY_CALC_STATE);

  constructor(private readonly options: CalcEngineOptions) {}

  onUpdate(update: CalcUpdate): void {
    if (update.type === 'upsert') this.resources.set(resourceKey(resourceRef(update.resource)), update.resource);
    else this.resources.delete(resourceKey(normalizeRef(update.ref)));
  }

  onUpdates(updates: Iterable<CalcUpdate>): void {
    for (const u of updates) this.onUpdate(u);
  }

  flush(): void {
    const { callbacks, ...rest } = this.options;
    const next = computeCalcState(this.resources.values(), {
      ...rest,
      ...(callbacks.onResourceRejected ? { onResourceRejected: callbacks.onResourceRejected.bind(callbacks) } : {}),
    });
    const nextTexts = textsOf(next);
    diffStates(this.state, this.texts, next, nextTexts, callbacks);
    this.state = next;
    this.texts = nextTexts;
  }
}
