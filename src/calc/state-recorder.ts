// A consumer that applies the engine's deltas to a CalcState and checks, as each one arrives,
// that the order is safe: nothing used before it exists, nothing removed while in use, no
// delta that contradicts the state. Tests use it; so can a data plane that wants a model.
import { BugError } from '../errors/index.js';
import type { NormTier } from '../policy/index.js';
import { canonicalJson } from './canonical.js';
import type {
  ActivePolicy,
  ActiveProfile,
  CalcCallbacks,
  CalcState,
  EndpointPolicies,
  IpSetSpec,
  PeerSets,
  RuleSets,
} from './types.js';

interface MutableIpSet {
  readonly spec: IpSetSpec;
  readonly members: Set<string>;
}

export class CalcStateRecorder implements CalcCallbacks {
  readonly ipSets = new Map<string, MutableIpSet>();
  readonly tiers = new Map<string, NormTier>();
  readonly policies = new Map<string, ActivePolicy>();
  readonly profiles = new Map<string, ActiveProfile>();
  readonly endpoints = new Map<string, EndpointPolicies>();
  /** Deltas received, and those that changed nothing (a minimal stream has none). */
  events = 0;
  redundant = 0;
  private readonly setRefs = new Map<string, number>();
  private readonly policyRefs = new Map<string, number>();
  private readonly tierRefs = new Map<string, number>();

  get state(): CalcState {
    return this;
  }

  onIpSetAdded(spec: IpSetSpec, members: readonly string[]): void {
    this.events++;
    if (this.ipSets.has(spec.id)) fail(`IP set ${spec.id} added twice`);
    const set = new Set(members);
    if (set.size !== members.length) fail(`IP set ${spec.id} added with duplicate members`);
    this.ipSets.set(spec.id, { spec, members: set });
  }

  onIpSetMembersChanged(id: string, added: readonly string[], removed: readonly string[]): void {
    this.events++;
    const set = this.ipSets.get(id) ?? fail(`members of unknown IP set ${id} changed`);
    if (added.length === 0 && removed.length === 0) this.redundant++;
    const removing = new Set(removed);
    for (const m of added) if (removing.has(m)) fail(`IP set ${id}: ${m} both added and removed in one delta`);
    for (const m of removed) if (!set.members.delete(m)) fail(`IP set ${id}: removed ${m}, which it did not hold`);
    for (const m of added) {
      if (set.members.has(m)) fail(`IP set ${id}: added ${m}, which it held`);
      set.members.add(m);
    }
  }

  onIpSetRemoved(id: string): void {
    this.events++;
    if (!this.ipSets.delete(id)) fail(`unknown IP set ${id} removed`);
    if ((this.setRefs.get(id) ?? 0) > 0) fail(`IP set ${id} removed while a rule uses it`);
  }

  onTierActive(tier: NormTier): void {
    this.events++;
    const old = this.tiers.get(tier.name);
    if (old !== undefined && canonicalJson(old) === canonicalJson(tier)) this.redundant++;
    this.tiers.set(tier.name, tier);
  }

  onTierInactive(name: string): void {
    this.events++;
    if (!this.tiers.delete(name)) fail(`unknown tier ${name} deactivated`);
    if ((this.tierRefs.get(name) ?? 0) > 0) fail(`tier ${name} deactivated while in use`);
  }

  onPolicyActive(active: ActivePolicy): void {
    this.events++;
    const id = active.policy.id;
    if (!this.tiers.has(active.policy.tier)) fail(`policy ${id} activated before its tier ${active.policy.tier}`);
    this.checkSets(`policy ${id}`, active);
    const old = this.policies.get(id);
    if (old !== undefined) {
      if (canonicalJson(old) === canonicalJson(active)) this.redundant++;
      this.countRefs(old, -1);
    }
    this.countRefs(active, 1);
    this.policies.set(id, active);
  }

  onPolicyInactive(id: string): void {
    this.events++;
    const old = this.policies.get(id) ?? fail(`unknown policy ${id} deactivated`);
    if ((this.policyRefs.get(id) ?? 0) > 0) fail(`policy ${id} deactivated while an endpoint uses it`);
    this.countRefs(old, -1);
    this.policies.delete(id);
  }

  onProfileActive(active: ActiveProfile): void {
    this.events++;
    const name = active.profile.name;
    this.checkSets(`profile ${name}`, active);
    const old = this.profiles.get(name);
    if (old !== undefined) {
      if (canonicalJson(old) === canonicalJson(active)) this.redundant++;
      this.countRefs(old, -1);
    }
    this.countRefs(active, 1);
    this.profiles.set(name, active);
  }

  onProfileInactive(name: string): void {
    this.events++;
    const old = this.profiles.get(name) ?? fail(`unknown profile ${name} deactivated`);
    this.countRefs(old, -1);
    this.profiles.delete(name);
  }

  onEndpointUpdate(id: string, endpoint: EndpointPolicies): void {
    this.events++;
    if (endpoint.endpoint.id !== id) fail(`endpoint update for ${id} carries ${endpoint.endpoint.id}`);
    for (const { tier, policy } of viewRefs(endpoint)) {
      if (!this.tiers.has(tier)) fail(`endpoint ${id} uses tier ${tier} before it is active`);
      if (!this.policies.has(policy)) fail(`endpoint ${id} uses policy ${policy} before it is active`);
    }
    const old = this.endpoints.get(id);
    if (old !== undefined) {
      if (canonicalJson(old) === canonicalJson(endpoint)) this.redundant++;
      this.countViewRefs(old, -1);
    }
    this.countViewRefs(endpoint, 1);
    this.endpoints.set(id, endpoint);
  }

  onEndpointRemoved(id: string): void {
    this.events++;
    const old = this.endpoints.get(id) ?? fail(`unknown endpoint ${id} removed`);
    this.countViewRefs(old, -1);
    this.endpoints.delete(id);
  }

  private checkSets(what: string, active: { ingress: readonly RuleSets[]; egress: readonly RuleSets[] }): void {
    for (const id of setIdsOf(active)) if (!this.ipSets.has(id)) fail(`${what} uses IP set ${id} before it exists`);
  }

  private countRefs(active: { ingress: readonly RuleSets[]; egress: readonly RuleSets[] }, delta: number): void {
    for (const id of setIdsOf(active)) bump(this.setRefs, id, delta);
  }

  private countViewRefs(endpoint: EndpointPolicies, delta: number): void {
    for (const { tier, policy } of viewRefs(endpoint)) {
      bump(this.tierRefs, tier, delta);
      bump(this.policyRefs, policy, delta);
    }
  }
}

function fail(message: string): never {
  throw new BugError(`calc delta order: ${message}`);
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

function* viewRefs(e: EndpointPolicies): Iterable<{ tier: string; policy: string }> {
  for (const view of e.staged ? [e, e.staged] : [e]) {
    for (const t of [...view.ingress, ...view.egress]) for (const policy of t.policies) yield { tier: t.tier, policy };
  }
}

/** Every IP set id a policy's or profile's rules use (with repeats). */
export function setIdsOf(active: { ingress: readonly RuleSets[]; egress: readonly RuleSets[] }): string[] {
  const out: string[] = [];
  const peer = (p: PeerSets) => {
    if (p.selector !== undefined) out.push(p.selector);
    if (p.notSelector !== undefined) out.push(p.notSelector);
    if (p.namedPorts) out.push(...p.namedPorts);
    if (p.notNamedPorts) out.push(...p.notNamedPorts);
  };
  for (const r of [...active.ingress, ...active.egress]) {
    peer(r.source);
    peer(r.destination);
  }
  return out;
}
