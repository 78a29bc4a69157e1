// Buffers what the calc nodes changed and, on flush, emits the net difference from what was
// last emitted, in the safe order: IP sets added and changed; tiers, policies, profiles
// activated or updated; endpoints updated; then endpoints, profiles, policies, tiers and IP sets
// removed. Changes that cancel within one flush emit nothing.
import type { NormTier } from '../policy/index.js';
import { canonicalJson } from './canonical.js';
import { entitiesEqual } from './entity-calculator.js';
import { endpointPoliciesEqual } from './policy-resolver.js';
import type { ActivePolicy, ActiveProfile, CalcCallbacks, EndpointPolicies, IpSetSpec } from './types.js';

/** The current value of everything the sequencer may be asked to emit. */
export interface OutputSource {
  ipSet(id: string): { readonly spec: IpSetSpec; members(): Iterable<string> } | undefined;
  tier(name: string): NormTier | undefined;
  policy(id: string): ActivePolicy | undefined;
  profile(name: string): ActiveProfile | undefined;
  endpoint(id: string): EndpointPolicies | undefined;
}

interface MemberDelta {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

/** One kind of keyed output: what was emitted, and which keys may differ from it now. */
class KeyedOutput<T> {
  private readonly emitted = new Map<string, T>();
  private readonly dirty = new Set<string>();

  /** `equal` compares content, for values rebuilt within one flush (deleted and re-added). */
  constructor(private readonly equal: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.emitted.size;
  }

  mark(key: string): void {
    this.dirty.add(key);
  }

  /** Emits adds and updates (a new object is a change); returns the keys to remove later. */
  flushUpserts(current: (key: string) => T | undefined, emit: (value: T) => void): string[] {
    const removals: string[] = [];
    for (const key of this.dirty) {
      const value = current(key);
      if (value === undefined) {
        if (this.emitted.has(key)) removals.push(key);
        continue;
      }
      const previous = this.emitted.get(key);
      if (previous === value) continue;
      this.emitted.set(key, value);
      if (previous === undefined || !this.equal(previous, value)) emit(value);
    }
    this.dirty.clear();
    return removals;
  }

  flushRemovals(keys: readonly string[], emit: (key: string) => void): void {
    for (const key of keys) {
      this.emitted.delete(key);
      emit(key);
    }
  }
}

export class EventSequencer {
  private readonly emittedSets = new Set<string>();
  private readonly dirtySets = new Set<string>();
  /** Member changes of emitted sets since the last flush, with adds and removes cancelling. */
  private readonly pending = new Map<string, MemberDelta>();
  private readonly tiers = new KeyedOutput<NormTier>((a, b) => a.order === b.order && a.defaultAction === b.defaultAction);
  private readonly policies = new KeyedOutput<ActivePolicy>(sameContent);
  private readonly profiles = new KeyedOutput<ActiveProfile>(sameContent);
  private readonly endpoints = new KeyedOutput<EndpointPolicies>(
    (a, b) => entitiesEqual(a.endpoint, b.endpoint) && endpointPoliciesEqual(a, { ...b, endpoint: a.endpoint }),
  );

  constructor(private readonly callbacks: CalcCallbacks) {}

  /** How many of each output the consumer holds. */
  get emittedCounts(): { ipSets: number; tiers: number; policies: number; profiles: number; endpoints: number } {
    return {
      ipSets: this.emittedSets.size,
      tiers: this.tiers.size,
      policies: this.policies.size,
      profiles: this.profiles.size,
      endpoints: this.endpoints.size,
    };
  }

  ipSetCreated(id: string): void {
    this.dirtySets.add(id);
  }

  /**
   * Sets are created and destroyed only when the IP-set calculator settles, once per flush, so a
   * set never goes away and comes back between two flushes: its pending deltas can just go.
   */
  ipSetDestroyed(id: string): void {
    this.dirtySets.add(id);
    this.pending.delete(id);
  }

  ipSetMemberAdded(id: string, member: string): void {
    const delta = this.deltaOf(id);
    if (delta === undefined) return;
    if (!delta.removed.delete(member)) delta.added.add(member);
  }

  ipSetMemberRemoved(id: string, member: string): void {
    const delta = this.deltaOf(id);
    if (delta === undefined) return;
    if (!delta.added.delete(member)) delta.removed.add(member);
  }

  tierChanged(name: string): void {
    this.tiers.mark(name);
  }

  policyChanged(id: string): void {
    this.policies.mark(id);
  }

  profileChanged(name: string): void {
    this.profiles.mark(name);
  }

  endpointChanged(id: string): void {
    this.endpoints.mark(id);
  }

  flush(source: OutputSource): void {
    const cb = this.callbacks;
    const removedSets = this.flushSets(source);
    const tierRemovals = this.tiers.flushUpserts((k) => source.tier(k), (t) => cb.onTierActive(t));
    const policyRemovals = this.policies.flushUpserts((k) => source.policy(k), (p) => cb.onPolicyActive(p));
    const profileRemovals = this.profiles.flushUpserts((k) => source.profile(k), (p) => cb.onProfileActive(p));
    const endpointRemovals = this.endpoints.flushUpserts((k) => source.endpoint(k), (e) => cb.onEndpointUpdate(e.endpoint.id, e));
    this.endpoints.flushRemovals(endpointRemovals, (k) => cb.onEndpointRemoved(k));
    this.profiles.flushRemovals(profileRemovals, (k) => cb.onProfileInactive(k));
    this.policies.flushRemovals(policyRemovals, (k) => cb.onPolicyInactive(k));
    this.tiers.flushRemovals(tierRemovals, (k) => cb.onTierInactive(k));
    for (const id of removedSets) {
      this.emittedSets.delete(id);
      cb.onIpSetRemoved(id);
    }
  }

  /** Emits set adds and member changes; returns the emitted sets that no longer exist. */
  private flushSets(source: OutputSource): string[] {
    const removed: string[] = [];
    const ids = new Set(this.dirtySets);
    for (const id of this.pending.keys()) ids.add(id);
    for (const id of ids) {
      const set = source.ipSet(id);
      if (set === undefined) {
        if (this.emittedSets.has(id)) removed.push(id);
        continue;
      }
      if (!this.emittedSets.has(id)) {
        this.emittedSets.add(id);
        this.callbacks.onIpSetAdded(set.spec, [...set.members()]);
        continue;
      }
      const delta = this.pending.get(id);
      const added = delta ? [...delta.added] : [];
      const removedMembers = delta ? [...delta.removed] : [];
      if (added.length > 0 || removedMembers.length > 0) this.callbacks.onIpSetMembersChanged(id, added, removedMembers);
    }
    this.dirtySets.clear();
    this.pending.clear();
    return removed;
  }

  private deltaOf(id: string): MemberDelta | undefined {
    if (!this.emittedSets.has(id)) return undefined;
    let delta = this.pending.get(id);
    if (delta === undefined) {
      delta = { added: new Set(), removed: new Set() };
      this.pending.set(id, delta);
    }
    return delta;
  }
}

const canonicalTexts = new WeakMap<object, string>();

function sameContent(a: object, b: object): boolean {
  return textOf(a) === textOf(b);
}

function textOf(value: object): string {
  let text = canonicalTexts.get(value);
  if (text === undefined) {
    text = canonicalJson(value);
    canonicalTexts.set(value, text);
  }
  return text;
}
