// Policies, tiers and profiles: which exist, which are active on this node (used by a local
// endpoint), and the IP sets their rules need while active. Policy subjects are registered with
// the label index against local endpoints only; activity is re-decided at flush for the policies
// whose matches or content changed, and only then are IP-set references taken or dropped.
import { namespaceProfile, type Entity, type NormPolicy, type NormProfile, type NormTier } from '../policy/index.js';
import type { Tier } from '../resources/index.js';
import { canonicalJson } from './canonical.js';
import type { EventSequencer } from './event-sequencer.js';
import type { IpSetCalculator } from './ip-set-calculator.js';
import type { LabelIndex, MatchObserver, Registration } from './label-index.js';
import type { PolicyLookup, PolicyResolver, ResolvablePolicy } from './policy-resolver.js';
import { normTier } from './resource-kinds.js';
import { activePolicyOf, activeProfileOf } from './rule-sets.js';
import type { ActivePolicy, ActiveProfile } from './types.js';

class PolicyRecord implements MatchObserver, ResolvablePolicy {
  subject: Registration | undefined;
  /** The policy's tier while it exists: the policy is live (applies) exactly then. */
  tier: NormTier | undefined;
  active: ActivePolicy | undefined;
  setRefs: readonly string[] = [];
  contentChanged = true;
  /** The enforced policy id this (staged) policy is counted as targeting. */
  countedTarget: string | undefined;
  /** The tier this policy is counted as active in. */
  activeTier: string | undefined;

  constructor(
    readonly key: string,
    public policy: NormPolicy,
    private readonly owner: ActiveRulesCalculator,
  ) {}

  onMatchStarted(entity: Entity): void {
    this.owner.subjectMatchChanged(this, entity, true);
  }

  onMatchStopped(entity: Entity): void {
    this.owner.subjectMatchChanged(this, entity, false);
  }

  onMatchUpdated(): void {
    // The resolver hears about the endpoint itself; the policy's lists do not depend on it.
  }
}

class ProfileRecord {
  explicit: NormProfile | undefined;
  synthetic: NormProfile | undefined;
  /** The `kns.` profile, built once so a namespace that comes back brings the same object. */
  syntheticProfile: NormProfile | undefined;
  localRefs = 0;
  active: ActiveProfile | undefined;
  setRefs: readonly string[] = [];
  constructor(readonly name: string) {}
}

export class ActiveRulesCalculator implements PolicyLookup {
  private readonly builtins = new Map<string, NormTier>();
  private readonly tiers = new Map<string, NormTier>();
  private readonly policies = new Map<string, PolicyRecord>();
  private readonly byId = new Map<string, PolicyRecord>();
  private readonly byTier = new Map<string, Set<PolicyRecord>>();
  /** Enforced policy id → live staged policies that replace or delete it. */
  private readonly targets = new Map<string, number>();
  private readonly activityDirty = new Set<PolicyRecord>();
  private readonly activePolicies = new Map<string, ActivePolicy>();
  private readonly activeTierCounts = new Map<string, number>();
  private readonly profiles = new Map<string, ProfileRecord>();
  private readonly profileDirty = new Set<ProfileRecord>();

  constructor(
    private readonly index: LabelIndex,
    private readonly ipSets: IpSetCalculator,
    private readonly resolver: PolicyResolver,
    private readonly sequencer: EventSequencer,
    builtinTiers: readonly Tier[],
  ) {
    for (const t of builtinTiers) {
      const tier = normTier(t);
      this.builtins.set(tier.name, tier);
      this.tiers.set(tier.name, tier);
    }
  }

  get counts(): { policies: number; activePolicies: number; profiles: number; tiers: number } {
    return { policies: this.policies.size, activePolicies: this.activePolicies.size, profiles: this.profiles.size, tiers: this.tiers.size };
  }

  // ───────────── policies ─────────────

  /** Adds, updates or (with undefined) removes the policy converted from one resource. */
  upsertPolicy(key: string, policy: NormPolicy | undefined): void {
    const old = this.policies.get(key);
    if (policy === undefined) {
      if (old !== undefined) this.removePolicy(old);
      return;
    }
    if (old !== undefined) {
      if (policiesEqual(old.policy, policy)) return;
      if (old.policy.id === policy.id) {
        this.updatePolicy(old, policy);
        return;
      }
      this.removePolicy(old);
    }
    this.addPolicy(key, policy);
  }

  private addPolicy(key: string, policy: NormPolicy): void {
    const rec = new PolicyRecord(key, policy, this);
    this.policies.set(key, rec);
    this.byId.set(policy.id, rec);
    addTo(this.byTier, policy.tier, rec);
    rec.tier = this.tiers.get(policy.tier);
    this.updateTarget(rec);
    if (policy.staged !== 'Delete') rec.subject = this.index.register(policy.subject, true, rec);
    this.activityDirty.add(rec);
  }

  private updatePolicy(rec: PolicyRecord, policy: NormPolicy): void {
    const old = rec.policy;
    rec.policy = policy;
    rec.contentChanged = true;
    if (old.tier !== policy.tier) {
      removeFrom(this.byTier, old.tier, rec);
      addTo(this.byTier, policy.tier, rec);
      rec.tier = this.tiers.get(policy.tier);
    }
    this.updateTarget(rec);
    const subjectChanged =
      !entitySelectorsEqual(old.subject, policy.subject) || (old.staged === 'Delete') !== (policy.staged === 'Delete');
    if (subjectChanged) {
      if (rec.subject !== undefined) this.index.unregister(rec.subject, true);
      rec.subject = policy.staged !== 'Delete' ? this.index.register(policy.subject, true, rec) : undefined;
    } else if (
      old.tier !== policy.tier ||
      old.order !== policy.order ||
      old.name !== policy.name ||
      old.staged !== policy.staged ||
      old.types.ingress !== policy.types.ingress ||
      old.types.egress !== policy.types.egress
    ) {
      this.markMembersDirty(rec);
    }
    this.activityDirty.add(rec);
  }

  private removePolicy(rec: PolicyRecord): void {
    this.policies.delete(rec.key);
    if (this.byId.get(rec.policy.id) === rec) this.byId.delete(rec.policy.id);
    removeFrom(this.byTier, rec.policy.tier, rec);
    if (rec.subject !== undefined) this.index.unregister(rec.subject, true);
    rec.subject = undefined;
    rec.tier = undefined;
    this.updateTarget(rec);
    this.deactivate(rec);
    this.activityDirty.delete(rec);
  }

  /** Called by a policy's subject registration: a local endpoint started or stopped matching. */
  subjectMatchChanged(rec: PolicyRecord, entity: Entity, started: boolean): void {
    if (started) this.resolver.policyStarted(entity.id, rec);
    else this.resolver.policyStopped(entity.id, rec);
    this.activityDirty.add(rec);
  }

  private markMembersDirty(rec: PolicyRecord): void {
    rec.subject?.forEachMember((e) => this.resolver.markDirty(e.id));
  }

  private updateTarget(rec: PolicyRecord): void {
    const p = rec.policy;
    const want = rec.tier !== undefined && p.staged !== undefined ? (p.stagedTarget ?? p.id) : undefined;
    const had = rec.countedTarget;
    if (want === had) return;
    rec.countedTarget = want;
    if (had !== undefined) {
      const n = (this.targets.get(had) ?? 1) - 1;
      if (n === 0) {
        this.targets.delete(had);
        this.targetChanged(had);
      } else {
        this.targets.set(had, n);
      }
    }
    if (want !== undefined) {
      const n = (this.targets.get(want) ?? 0) + 1;
      this.targets.set(want, n);
      if (n === 1) this.targetChanged(want);
    }
  }

  /** The staged view of every endpoint the targeted policy selects may have changed. */
  private targetChanged(id: string): void {
    const target = this.byId.get(id);
    if (target !== undefined) this.markMembersDirty(target);
  }

  // ───────────── tiers ─────────────

  /** A Tier object arrived (or, with undefined, was deleted: a built-in tier reverts). */
  upsertTier(name: string, tier: NormTier | undefined): void {
    const effective = tier ?? this.builtins.get(name);
    const old = this.tiers.get(name);
    if (tiersEqual(old, effective)) return;
    if (effective !== undefined) this.tiers.set(name, effective);
    else this.tiers.delete(name);
    const policies = this.byTier.get(name) ?? new Set<PolicyRecord>();
    const liveness = (old === undefined) !== (effective === undefined);
    for (const rec of policies) {
      rec.tier = effective;
      if (liveness) {
        this.markMembersDirty(rec);
        this.updateTarget(rec);
        this.activityDirty.add(rec);
      } else if (old?.order !== effective?.order) {
        this.markMembersDirty(rec);
      }
    }
    if ((this.activeTierCounts.get(name) ?? 0) > 0) this.sequencer.tierChanged(name);
  }

  // ───────────── profiles ─────────────

  /** A Profile object arrived (or, with undefined, was deleted). */
  upsertProfile(name: string, profile: NormProfile | undefined): void {
    const rec = this.profileRecord(name);
    if (rec.explicit === profile || (rec.explicit !== undefined && profile !== undefined && profilesEqual(rec.explicit, profile))) return;
    rec.explicit = profile;
    this.profileDirty.add(rec);
  }

  /** A namespace became present or absent: its `kns.<ns>` profile exists exactly then. */
  namespacePresence(namespace: string, present: boolean): void {
    const rec = this.profileRecord(`kns.${namespace}`);
    if (present === (rec.synthetic !== undefined)) return;
    rec.synthetic = present ? (rec.syntheticProfile ??= namespaceProfile(namespace)) : undefined;
    this.profileDirty.add(rec);
  }

  /** Local endpoints started (+1) or stopped (-1) naming these profiles. */
  profileRefs(names: readonly string[], delta: 1 | -1): void {
    for (const name of names) {
      const rec = this.profileRecord(name);
      rec.localRefs += delta;
      this.profileDirty.add(rec);
    }
  }

  private profileRecord(name: string): ProfileRecord {
    let rec = this.profiles.get(name);
    if (rec === undefined) {
      rec = new ProfileRecord(name);
      this.profiles.set(name, rec);
    }
    return rec;
  }

  // ───────────── flush ─────────────

  /** Re-decides activity where inputs changed; takes and drops IP-set references to match. */
  settle(): void {
    for (const rec of this.activityDirty) this.refreshActivity(rec);
    this.activityDirty.clear();
    for (const rec of this.profileDirty) this.refreshProfile(rec);
    this.profileDirty.clear();
  }

  private refreshActivity(rec: PolicyRecord): void {
    const p = rec.policy;
    const wanted = rec.tier !== undefined && rec.subject !== undefined && rec.subject.memberCount > 0 && (p.types.ingress || p.types.egress);
    if (!wanted) {
      this.deactivate(rec);
      return;
    }
    if (rec.active === undefined || rec.contentChanged) {
      const { active, sets } = activePolicyOf(p);
      // Take the new references before dropping the old, so shared sets survive.
      for (const def of sets.values()) this.ipSets.addRef(def);
      for (const id of rec.setRefs) this.ipSets.removeRef(id);
      rec.setRefs = [...sets.keys()];
      rec.active = active;
      this.activePolicies.set(p.id, active);
      this.sequencer.policyChanged(p.id);
    }
    rec.contentChanged = false;
    this.setActiveTier(rec, p.tier);
  }

  private deactivate(rec: PolicyRecord): void {
    if (rec.active === undefined) return;
    for (const id of rec.setRefs) this.ipSets.removeRef(id);
    rec.setRefs = [];
    rec.active = undefined;
    this.activePolicies.delete(rec.policy.id);
    this.sequencer.policyChanged(rec.policy.id);
    this.setActiveTier(rec, undefined);
  }

  private setActiveTier(rec: PolicyRecord, tier: string | undefined): void {
    const had = rec.activeTier;
    if (had === tier) return;
    rec.activeTier = tier;
    if (had !== undefined) {
      const n = (this.activeTierCounts.get(had) ?? 1) - 1;
      if (n === 0) {
        this.activeTierCounts.delete(had);
        this.sequencer.tierChanged(had);
      } else {
        this.activeTierCounts.set(had, n);
      }
    }
    if (tier !== undefined) {
      const n = (this.activeTierCounts.get(tier) ?? 0) + 1;
      this.activeTierCounts.set(tier, n);
      if (n === 1) this.sequencer.tierChanged(tier);
    }
  }

  private refreshProfile(rec: ProfileRecord): void {
    const effective = rec.explicit ?? rec.synthetic;
    if (effective !== undefined && rec.localRefs > 0) {
      if (rec.active?.profile !== effective) {
        const { active, sets } = activeProfileOf(effective);
        for (const def of sets.values()) this.ipSets.addRef(def);
        for (const id of rec.setRefs) this.ipSets.removeRef(id);
        rec.setRefs = [...sets.keys()];
        rec.active = active;
        this.sequencer.profileChanged(rec.name);
      }
      return;
    }
    if (rec.active !== undefined) {
      for (const id of rec.setRefs) this.ipSets.removeRef(id);
      rec.setRefs = [];
      rec.active = undefined;
      this.sequencer.profileChanged(rec.name);
    }
    if (effective === undefined && rec.localRefs === 0) this.profiles.delete(rec.name);
  }

  // ───────────── lookups ─────────────

  isTargeted(policyId: string): boolean {
    return this.targets.has(policyId);
  }

  activeTier(name: string): NormTier | undefined {
    return (this.activeTierCounts.get(name) ?? 0) > 0 ? this.tiers.get(name) : undefined;
  }

  activePolicy(id: string): ActivePolicy | undefined {
    return this.activePolicies.get(id);
  }

  activeProfile(name: string): ActiveProfile | undefined {
    return this.profiles.get(name)?.active;
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function tiersEqual(a: NormTier | undefined, b: NormTier | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.name === b.name && a.order === b.order && a.defaultAction === b.defaultAction;
}

function entitySelectorsEqual(a: NormPolicy['subject'], b: NormPolicy['subject']): boolean {
  if (a.selector.toString() !== b.selector.toString()) return false;
  if (a.kinds === undefined || b.kinds === undefined) return a.kinds === b.kinds;
  if (a.kinds.size !== b.kinds.size) return false;
  for (const k of a.kinds) if (!b.kinds.has(k)) return false;
  return true;
}

function policiesEqual(a: NormPolicy, b: NormPolicy): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

function profilesEqual(a: NormProfile, b: NormProfile): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}
