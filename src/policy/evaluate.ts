// The evaluator: flow + snapshot → verdict + trace. Egress is decided at the source endpoint and
// ingress at the destination; both must allow. Within a direction Calico's order applies: tiers by
// order, policies by order then name, first matching Allow/Deny decides, Pass leaves the tier,
// Log goes on, and the end of a tier that selected the endpoint takes the tier's default action.
// No selecting policy in any tier falls to the endpoint's profiles, then to default deny.
import { BugError } from '../errors/index.js';
import type { Direction, Entity, NormPolicy, NormProfile, NormRule, NormTier, PolicySnapshot } from './model.js';
import { AddressIndex, entityMatches } from './address-index.js';
import { ruleMatches } from './rule-match.js';
import { HostEndpointIndex, failsafeFor, isHostSide } from './host-endpoints.js';
import type {
  Decision,
  DirectionVerdict,
  Flow,
  PolicySetVerdict,
  PolicyTrace,
  RuleHit,
  TierTrace,
  Verdict,
} from './flow.js';

interface TierPolicies {
  readonly tier: NormTier;
  readonly policies: readonly NormPolicy[];
}

/** Policies grouped by tier, both sorted as Calico sorts them. */
class OrderedPolicySet {
  readonly tiers: readonly TierPolicies[];
  private readonly perEndpoint = new WeakMap<Entity, { ingress?: readonly TierPolicies[]; egress?: readonly TierPolicies[] }>();

  constructor(tiers: readonly NormTier[], policies: readonly NormPolicy[]) {
    const byTier = new Map<string, NormPolicy[]>();
    for (const p of policies) {
      const list = byTier.get(p.tier);
      if (list) list.push(p);
      else byTier.set(p.tier, [p]);
    }
    this.tiers = [...tiers]
      .sort(compareTiers)
      .map((tier) => ({ tier, policies: (byTier.get(tier.name) ?? []).sort(comparePolicies) }))
      .filter((t) => t.policies.length > 0);
  }

  /** The tiers that apply to an endpoint in one direction, each with its selecting policies. */
  applicable(endpoint: Entity, direction: Direction): readonly TierPolicies[] {
    let slot = this.perEndpoint.get(endpoint);
    if (!slot) {
      slot = {};
      this.perEndpoint.set(endpoint, slot);
    }
    const cached = slot[direction];
    if (cached) return cached;
    const found: TierPolicies[] = [];
    for (const t of this.tiers) {
      const selecting = t.policies.filter((p) => p.types[direction] && entityMatches(p.subject, endpoint));
      if (selecting.length > 0) found.push({ tier: t.tier, policies: selecting });
    }
    slot[direction] = found;
    return found;
  }
}

export function compareTiers(a: NormTier, b: NormTier): number {
  return compareOrder(a.order, b.order) || compareStrings(a.name, b.name);
}

export function comparePolicies(a: NormPolicy, b: NormPolicy): number {
  return compareOrder(a.order, b.order) || compareStrings(a.name, b.name);
}

/** Present orders ascending; an absent order sorts after all of them. */
function compareOrder(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a - b;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Evaluates flows against one snapshot. Build it once; it caches per-endpoint policy lists and
 * selector memberships, so evaluating many flows (a matrix) stays cheap.
 */
export class PolicyEvaluator {
  private readonly addresses: AddressIndex;
  private readonly enforced: OrderedPolicySet;
  private readonly withStaged: OrderedPolicySet;
  private readonly hasStaged: boolean;
  private readonly profiles: Map<string, NormProfile>;
  private readonly hosts: HostEndpointIndex;

  constructor(readonly snapshot: PolicySnapshot) {
    this.addresses = new AddressIndex(snapshot.entities);
    this.hosts = new HostEndpointIndex(snapshot.entities);
    const enforced = snapshot.policies.filter((p) => p.staged === undefined);
    const staged = snapshot.policies.filter((p) => p.staged !== undefined);
    this.enforced = new OrderedPolicySet(snapshot.tiers, enforced);
    this.hasStaged = staged.length > 0;
    this.withStaged = this.hasStaged ? new OrderedPolicySet(snapshot.tiers, applyStaged(enforced, staged)) : this.enforced;
    this.profiles = new Map(snapshot.profiles.map((p) => [p.name, p]));
  }

  evaluate(flow: Flow): Verdict {
    const enforced = this.evaluateWith(this.enforced, flow);
    const staged = this.hasStaged ? this.evaluateWith(this.withStaged, flow) : enforced;
    return { ...enforced, staged };
  }

  /** Just the enforced answer, without building traces: the fast path for matrices. */
  isAllowed(flow: Flow): boolean {
    const loop = loopback(flow);
    if (loop) return true;
    return (
      this.directionAllowed(this.enforced, flow, 'egress') && this.directionAllowed(this.enforced, flow, 'ingress')
    );
  }

  private evaluateWith(set: OrderedPolicySet, flow: Flow): PolicySetVerdict {
    const egress = this.direction(set, flow, 'egress');
    const ingress = this.direction(set, flow, 'ingress');
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }

  private direction(set: OrderedPolicySet, flow: Flow, direction: Direction): DirectionVerdict {
    const governed = this.governedBy(flow, direction);
    if ('reason' in governed) {
      return { direction, allowed: true, decidedBy: { kind: 'not-enforced', reason: governed.reason }, tiers: [], profiles: [] };
    }
    const endpoint = governed.endpoint;
    if (endpoint.kind === 'hostEndpoint') {
      const f = failsafeFor(direction, flow);
      if (f !== undefined) {
        const what = `${f.protocol === 6 ? 'TCP' : 'UDP'} ${f.first === f.last ? f.first : `${f.first}-${f.last}`}`;
        const reason = `Calico failsafe: ${direction === 'ingress' ? 'inbound' : 'outbound'} ${what} of a host endpoint is always open, before any policy`;
        const failsafe = { protocol: f.protocol, first: f.first, last: f.last };
        return { direction, endpoint: endpoint.id, allowed: true, decidedBy: { kind: 'not-enforced', reason, failsafe }, tiers: [], profiles: [] };
      }
    }
    const tiers: TierTrace[] = [];
    const done = (allowed: boolean, decidedBy: Decision, profiles: string[] = []): DirectionVerdict => ({
      direction,
      endpoint: endpoint.id,
      allowed,
      decidedBy,
      tiers,
      profiles,
    });

    for (const { tier, policies } of set.applicable(endpoint, direction)) {
      const traces: PolicyTrace[] = [];
      let outcome: 'Allow' | 'Deny' | 'Pass' | undefined;
      for (const policy of policies) {
        const hits: RuleHit[] = [];
        const rule = this.firstDecidingRule(rulesOf(policy, direction), flow, hits);
        traces.push({ policy: policy.name, kind: policy.origin.kind, hits });
        if (rule) {
          outcome = rule.action as 'Allow' | 'Deny' | 'Pass';
          if (outcome !== 'Pass') {
            tiers.push({ tier: tier.name, policies: traces, outcome });
            return done(outcome === 'Allow', {
              kind: 'rule',
              tier: tier.name,
              policy: policy.name,
              ruleIndex: rule.index,
              ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
              action: outcome,
            });
          }
          break;
        }
      }
      if (outcome === 'Pass') {
        tiers.push({ tier: tier.name, policies: traces, outcome: 'Pass' });
        continue;
      }
      if (tier.defaultAction === 'Pass') {
        tiers.push({ tier: tier.name, policies: traces, outcome: 'end-of-tier-Pass' });
        continue;
      }
      tiers.push({ tier: tier.name, policies: traces, outcome: 'end-of-tier-Deny' });
      return done(false, { kind: 'end-of-tier', tier: tier.name, action: 'Deny' });
    }
    return this.profilesDecide(endpoint, direction, flow, done);
  }

  private profilesDecide(
    endpoint: Entity,
    direction: Direction,
    flow: Flow,
    done: (allowed: boolean, decidedBy: Decision, profiles?: string[]) => DirectionVerdict,
  ): DirectionVerdict {
    const seen: string[] = [];
    for (const name of endpoint.profiles) {
      const profile = this.profiles.get(name);
      if (!profile) continue;
      seen.push(name);
      const rule = this.firstDecidingRule(direction === 'ingress' ? profile.ingress : profile.egress, flow, []);
      // Pass in a profile has nowhere left to go; Calico treats it as the end of the profile.
      if (rule && rule.action !== 'Pass') {
        const action = rule.action as 'Allow' | 'Deny';
        return done(action === 'Allow', { kind: 'profile', profile: name, ruleIndex: rule.index, action }, seen);
      }
    }
    const reason =
      seen.length === 0 ? 'no policy selects the endpoint and it has no profile' : 'no profile rule matched';
    return done(false, { kind: 'default-deny', reason }, seen);
  }

  /** The first matching rule that is not Log; Log hits are recorded and evaluation goes on. */
  private firstDecidingRule(rules: readonly NormRule[], flow: Flow, hits: RuleHit[]): NormRule | undefined {
    for (const rule of rules) {
      if (!ruleMatches(rule, flow, this.addresses)) continue;
      hits.push({ ruleIndex: rule.index, ...(rule.name !== undefined ? { ruleName: rule.name } : {}), action: rule.action });
      if (rule.action !== 'Log') return rule;
    }
    return undefined;
  }

  private directionAllowed(set: OrderedPolicySet, flow: Flow, direction: Direction): boolean {
    const governed = this.governedBy(flow, direction);
    if ('reason' in governed) return true;
    const endpoint = governed.endpoint;
    if (endpoint.kind === 'hostEndpoint' && failsafeFor(direction, flow) !== undefined) return true;
    for (const { tier, policies } of set.applicable(endpoint, direction)) {
      let passed = false;
      for (const policy of policies) {
        const rule = this.firstDecidingRuleFast(rulesOf(policy, direction), flow);
        if (rule === undefined) continue;
        if (rule.action === 'Pass') {
          passed = true;
          break;
        }
        return rule.action === 'Allow';
      }
      if (!passed && tier.defaultAction === 'Deny') return false;
    }
    for (const name of endpoint.profiles) {
      const profile = this.profiles.get(name);
      if (!profile) continue;
      const rule = this.firstDecidingRuleFast(direction === 'ingress' ? profile.ingress : profile.egress, flow);
      if (rule && rule.action !== 'Pass') return rule.action === 'Allow';
    }
    return false;
  }

  /**
   * The endpoint whose policy decides one direction, or why none does. Pods are their own
   * endpoints; the host's side of a node (the node, its host-networked pods, its host endpoints)
   * is governed by the host endpoint of the interface the flow crosses, if there is one.
   */
  private governedBy(flow: Flow, direction: Direction): { endpoint: Entity } | { reason: string } {
    const end = direction === 'egress' ? flow.source : flow.destination;
    const other = direction === 'egress' ? flow.destination : flow.source;
    const e = end.entity;
    if (e !== undefined && isHostSide(e) && !loopback(flow)) {
      const hep = this.hosts.governing(end, other);
      if (hep !== undefined) return { endpoint: hep };
      if (e.kind === 'hostEndpoint') return { reason: "traffic between a host and its own pods (or itself) never crosses a host endpoint's interface" };
    }
    const skip = notEnforcedReason(flow, direction);
    if (skip !== undefined) return { reason: skip };
    if (e === undefined) throw new BugError('enforced direction without an endpoint');
    return { endpoint: e };
  }

  private firstDecidingRuleFast(rules: readonly NormRule[], flow: Flow): NormRule | undefined {
    for (const rule of rules) {
      if (rule.action !== 'Log' && ruleMatches(rule, flow, this.addresses)) return rule;
    }
    return undefined;
  }
}

function rulesOf(policy: NormPolicy, direction: Direction): readonly NormRule[] {
  return (direction === 'ingress' ? policy.ingress : policy.egress) ?? [];
}

function loopback(flow: Flow): boolean {
  const s = flow.source.entity;
  return s !== undefined && s === flow.destination.entity;
}

/**
 * Directions no policy governs: traffic a pod sends to itself never leaves it; addresses outside
 * any enforced endpoint have no policy; and, as Kubernetes requires and Calico does, traffic from
 * a node to the pods it hosts is always allowed.
 */
function notEnforcedReason(flow: Flow, direction: Direction): string | undefined {
  if (loopback(flow)) return 'traffic from a pod to itself never leaves the pod';
  const end = direction === 'egress' ? flow.source : flow.destination;
  if (!end.entity) return 'the address belongs to no endpoint Margay enforces on';
  if (!end.entity.enforced) {
    return end.entity.hostNetwork ? 'host-networked pods have no workload policy (and no host endpoint governs this flow)' : `a ${end.entity.kind} has no workload policy (and no host endpoint governs this flow)`;
  }
  if (direction === 'ingress') {
    const src = flow.source.entity;
    const dst = end.entity;
    if (src && dst.nodeName !== undefined && src.nodeName === dst.nodeName && isHostSide(src)) {
      return 'traffic from a node to its own pods is always allowed';
    }
  }
  return undefined;
}

/**
 * The policy set staged policies would produce: a staged `Set` replaces (or adds) the enforced
 * policy it names; a staged `Delete` removes it.
 */
function applyStaged(enforced: readonly NormPolicy[], staged: readonly NormPolicy[]): NormPolicy[] {
  const targets = new Set(staged.map((s) => s.stagedTarget ?? s.id));
  const result = enforced.filter((p) => !targets.has(p.id));
  for (const s of staged) if (s.staged === 'Set') result.push(s);
  return result;
}
