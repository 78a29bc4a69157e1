// Per local endpoint: the policies whose subject selects it (fed by the label index) and, at
// flush, the ordered tiers and policies that apply in each direction, enforced and staged.
// Only endpoints whose inputs changed are recomputed; only changed results are emitted.
import { compareTiers, comparePolicies, type Direction, type Entity, type NormPolicy, type NormTier } from '../policy/index.js';
import type { EventSequencer } from './event-sequencer.js';
import type { EndpointPolicies, PolicyView, TierPolicies } from './types.js';

/** What the resolver needs to know about a policy (the active-rules calculator's record). */
export interface ResolvablePolicy {
  readonly policy: NormPolicy;
  /** Its tier, kept current; undefined while the tier does not exist (the policy applies nowhere). */
  readonly tier: NormTier | undefined;
}

export interface PolicyLookup {
  /** Some live staged policy replaces or deletes the enforced policy with this id. */
  isTargeted(policyId: string): boolean;
}

interface EndpointRecord {
  entity: Entity;
  /** The policies whose subject selects it: a handful, so a list. */
  readonly policies: ResolvablePolicy[];
  output: EndpointPolicies | undefined;
}

export class PolicyResolver {
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly dirty = new Set<string>();

  constructor(private readonly sequencer: EventSequencer) {}

  get endpointCount(): number {
    return this.endpoints.size;
  }

  entityOf(id: string): Entity | undefined {
    return this.endpoints.get(id)?.entity;
  }

  upsertEndpoint(entity: Entity): void {
    const rec = this.endpoints.get(entity.id);
    if (rec === undefined) this.endpoints.set(entity.id, { entity, policies: [], output: undefined });
    else rec.entity = entity;
    this.dirty.add(entity.id);
  }

  removeEndpoint(id: string): void {
    if (!this.endpoints.delete(id)) return;
    this.dirty.delete(id);
    this.sequencer.endpointChanged(id);
  }

  policyStarted(endpointId: string, policy: ResolvablePolicy): void {
    const rec = this.endpoints.get(endpointId);
    if (rec === undefined) return;
    rec.policies.push(policy);
    this.dirty.add(endpointId);
  }

  policyStopped(endpointId: string, policy: ResolvablePolicy): void {
    const rec = this.endpoints.get(endpointId);
    if (rec === undefined) return;
    const i = rec.policies.indexOf(policy);
    if (i >= 0) {
      rec.policies[i] = rec.policies[rec.policies.length - 1] as ResolvablePolicy;
      rec.policies.pop();
    }
    this.dirty.add(endpointId);
  }

  markDirty(endpointId: string): void {
    if (this.endpoints.has(endpointId)) this.dirty.add(endpointId);
  }

  settle(lookup: PolicyLookup): void {
    for (const id of this.dirty) {
      const rec = this.endpoints.get(id);
      if (rec === undefined) continue;
      const output = resolve(rec.entity, rec.policies, lookup);
      if (rec.output !== undefined && endpointPoliciesEqual(rec.output, output)) continue;
      rec.output = output;
      this.sequencer.endpointChanged(id);
    }
    this.dirty.clear();
  }

  output(id: string): EndpointPolicies | undefined {
    return this.endpoints.get(id)?.output;
  }
}

/** The lists for one endpoint from the live policies that select it. */
export function resolve(entity: Entity, policies: Iterable<ResolvablePolicy>, lookup: PolicyLookup): EndpointPolicies {
  const enforced: ResolvablePolicy[] = [];
  const stagedSets: ResolvablePolicy[] = [];
  let targeted = false;
  for (const p of policies) {
    if (p.tier === undefined) continue;
    const staged = p.policy.staged;
    if (staged === undefined) {
      enforced.push(p);
      if (lookup.isTargeted(p.policy.id)) targeted = true;
    } else if (staged === 'Set') {
      stagedSets.push(p);
    }
  }
  enforced.sort(byEvaluationOrder);
  const main = viewOf(enforced);
  if (stagedSets.length === 0 && !targeted) return { endpoint: entity, ...main };
  const whatIf = enforced.filter((p) => !lookup.isTargeted(p.policy.id));
  for (const s of stagedSets) whatIf.push(s);
  whatIf.sort(byEvaluationOrder);
  return { endpoint: entity, ...main, staged: viewOf(whatIf) };
}

/** Tiers by order then name, policies by order then name (as the evaluator), then id. */
function byEvaluationOrder(a: ResolvablePolicy, b: ResolvablePolicy): number {
  return (
    compareTiers(a.tier as NormTier, b.tier as NormTier) ||
    comparePolicies(a.policy, b.policy) ||
    compareText(a.policy.id, b.policy.id)
  );
}

function viewOf(sorted: readonly ResolvablePolicy[]): PolicyView {
  return { ingress: tiersFor(sorted, 'ingress'), egress: tiersFor(sorted, 'egress') };
}

function tiersFor(sorted: readonly ResolvablePolicy[], direction: Direction): TierPolicies[] {
  const out: { tier: string; policies: string[] }[] = [];
  for (const { policy } of sorted) {
    if (!policy.types[direction]) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.tier === policy.tier) last.policies.push(policy.id);
    else out.push({ tier: policy.tier, policies: [policy.id] });
  }
  return out;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameTiers(a: readonly TierPolicies[], b: readonly TierPolicies[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as TierPolicies;
    const y = b[i] as TierPolicies;
    if (x.tier !== y.tier || x.policies.length !== y.policies.length) return false;
    for (let j = 0; j < x.policies.length; j++) if (x.policies[j] !== y.policies[j]) return false;
  }
  return true;
}

function sameView(a: PolicyView | undefined, b: PolicyView | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameTiers(a.ingress, b.ingress) && sameTiers(a.egress, b.egress);
}

/** The entity object is compared by identity: the entity calculator replaces it only on change. */
export function endpointPoliciesEqual(a: EndpointPolicies, b: EndpointPolicies): boolean {
  return a.endpoint === b.endpoint && sameView(a, b) && sameView(a.staged, b.staged);
}
