// The incremental calculation engine: the calc graph's nodes, wired in one place. Updates flow
// resources → entity calculator → label index → (policy resolver, IP sets); policies, tiers and
// profiles → active-rules calculator → (label index, IP sets). `flush()` settles what the updates
// left dirty and emits the net deltas through the sequencer, in the safe order.
import { isUserError, type UserError } from '../errors/index.js';
import type { Entity } from '../policy/index.js';
import { BUILTIN_TIERS, type Resource } from '../resources/index.js';
import { ActiveRulesCalculator } from './active-rules-calculator.js';
import { EntityCalculator, entityPayloadEqual, type EntitySink } from './entity-calculator.js';
import { EventSequencer, type OutputSource } from './event-sequencer.js';
import { IpSetCalculator } from './ip-set-calculator.js';
import { LabelIndex } from './label-index.js';
import { PolicyResolver } from './policy-resolver.js';
import { classify, convertPolicyResource, convertProfileResource, kindClass, normTier, normalizeRef } from './resource-kinds.js';
import {
  resourceKey,
  resourceRef,
  type CalcCallbacks,
  type CalcEngineOptions,
  type CalcUpdate,
  type ResourceRef,
} from './types.js';

/** Sizes of the engine's indexes, for tests (nothing may linger) and benchmarks. */
export interface CalcEngineStats {
  readonly entities: number;
  readonly localEndpoints: number;
  readonly selectorRegistrations: number;
  /** Label-index buckets (postings, filed selectors): zero when everything is deleted. */
  readonly indexBuckets: number;
  readonly ipSets: number;
  readonly policies: number;
  readonly activePolicies: number;
  readonly profileRecords: number;
  readonly emitted: EventSequencer['emittedCounts'];
}

export class CalcEngine {
  private readonly callbacks: CalcCallbacks;
  private readonly isLocal: (endpoint: Entity) => boolean;
  private readonly sequencer: EventSequencer;
  private readonly index = new LabelIndex();
  private readonly ipSets: IpSetCalculator;
  private readonly resolver: PolicyResolver;
  private readonly rules: ActiveRulesCalculator;
  private readonly entities: EntityCalculator;
  private readonly output: OutputSource;

  constructor(options: CalcEngineOptions) {
    this.callbacks = options.callbacks;
    this.isLocal = options.isLocal ?? (() => true);
    this.sequencer = new EventSequencer(this.callbacks);
    this.ipSets = new IpSetCalculator(this.index, this.sequencer);
    this.resolver = new PolicyResolver(this.sequencer);
    this.rules = new ActiveRulesCalculator(this.index, this.ipSets, this.resolver, this.sequencer, options.builtinTiers ?? BUILTIN_TIERS);
    const sink: EntitySink = {
      onEntityUpsert: (entity, previous) => this.entityUpserted(entity, previous),
      onEntityRemove: (entity) => this.entityRemoved(entity),
      onNamespacePresence: (namespace, present) => this.rules.namespacePresence(namespace, present),
    };
    this.entities = new EntityCalculator(sink);
    const { ipSets, rules, resolver } = this;
    this.output = {
      ipSet: (id) => ipSets.ipSet(id),
      tier: (name) => rules.activeTier(name),
      policy: (id) => rules.activePolicy(id),
      profile: (name) => rules.activeProfile(name),
      endpoint: (id) => resolver.output(id),
    };
  }

  onUpdate(update: CalcUpdate): void {
    if (update.type === 'upsert') this.upsert(update.resource);
    else this.delete(update.ref);
  }

  onUpdates(updates: Iterable<CalcUpdate>): void {
    for (const u of updates) this.onUpdate(u);
  }

  /** Settles everything the updates since the last flush touched and emits the deltas. */
  flush(): void {
    this.rules.settle();
    this.ipSets.settle();
    this.resolver.settle(this.rules);
    this.sequencer.flush(this.output);
  }

  stats(): CalcEngineStats {
    const rules = this.rules.counts;
    return {
      entities: this.index.entityCount,
      localEndpoints: this.resolver.endpointCount,
      selectorRegistrations: this.index.registrationCount,
      indexBuckets: this.index.bucketCount,
      ipSets: this.ipSets.count,
      policies: rules.policies,
      activePolicies: rules.activePolicies,
      profileRecords: rules.profiles,
      emitted: this.sequencer.emittedCounts,
    };
  }

  private upsert(resource: Resource): void {
    const c = classify(resource);
    const e = this.entities;
    switch (c.type) {
      case 'namespace':
        return e.upsertNamespace(c.resource);
      case 'pod':
        return e.upsertPod(c.resource);
      case 'serviceAccount':
        return e.upsertServiceAccount(c.resource);
      case 'node':
        return e.upsertNode(c.resource);
      case 'hostEndpoint':
        return e.upsertHostEndpoint(c.resource);
      case 'networkSet':
        return e.upsertNetworkSet(c.resource);
      case 'globalNetworkSet':
        return e.upsertGlobalNetworkSet(c.resource);
      case 'tier':
        return this.rules.upsertTier(c.resource.metadata.name, normTier(c.resource));
      case 'profile': {
        const profile = this.converted(resource, () => convertProfileResource(c.resource));
        return this.rules.upsertProfile(c.resource.metadata.name, profile);
      }
      case 'policy': {
        const policy = this.converted(resource, () => convertPolicyResource(c.resource));
        return this.rules.upsertPolicy(resourceKey(resourceRef(resource)), policy);
      }
      case 'ignored':
        return;
    }
  }

  private delete(given: ResourceRef): void {
    const ref = normalizeRef(given);
    const e = this.entities;
    const ns = ref.namespace ?? 'default';
    switch (kindClass(ref)) {
      case 'namespace':
        return e.deleteNamespace(ref.name);
      case 'pod':
        return e.deletePod(ns, ref.name);
      case 'serviceAccount':
        return e.deleteServiceAccount(ns, ref.name);
      case 'node':
        return e.deleteNode(ref.name);
      case 'hostEndpoint':
        return e.deleteHostEndpoint(ref.name);
      case 'networkSet':
        return e.deleteNetworkSet(ns, ref.name);
      case 'globalNetworkSet':
        return e.deleteGlobalNetworkSet(ref.name);
      case 'tier':
        return this.rules.upsertTier(ref.name, undefined);
      case 'profile':
        return this.rules.upsertProfile(ref.name, undefined);
      case 'policy':
        return this.rules.upsertPolicy(resourceKey(ref), undefined);
      case 'ignored':
        return;
    }
  }

  /** A conversion the user's input may fail: reported, and the object treated as absent. */
  private converted<T>(resource: Resource, convert: () => T): T | undefined {
    try {
      return convert();
    } catch (err) {
      if (!isUserError(err)) throw err;
      this.callbacks.onResourceRejected?.(resourceRef(resource), err as UserError);
      return undefined;
    }
  }

  private entityUpserted(entity: Entity, previous: Entity | undefined): void {
    const local = entity.enforced && this.isLocal(entity);
    const before = this.resolver.entityOf(entity.id);
    // The endpoint record must exist before the index reports its subject matches.
    if (local) this.resolver.upsertEndpoint(entity);
    this.index.upsertEntity(entity, local, previous === undefined || !entityPayloadEqual(previous, entity));
    if (!local && before !== undefined) this.resolver.removeEndpoint(entity.id);
    const oldProfiles = before?.profiles ?? [];
    const newProfiles = local ? entity.profiles : [];
    if (!sameNames(oldProfiles, newProfiles)) {
      this.rules.profileRefs(newProfiles, 1);
      this.rules.profileRefs(oldProfiles, -1);
    }
  }

  private entityRemoved(entity: Entity): void {
    const before = this.resolver.entityOf(entity.id);
    this.index.removeEntity(entity.id);
    if (before !== undefined) {
      this.resolver.removeEndpoint(entity.id);
      this.rules.profileRefs(before.profiles, -1);
    }
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
