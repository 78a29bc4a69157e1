// What the calc engine reads (resource updates) and what it says (typed deltas through
// CalcCallbacks), plus the state those deltas build up, which the full recompute produces whole.
import type { UserError } from '../errors/index.js';
import type { Entity, EntityKind, NormPolicy, NormProfile, NormTier } from '../policy/index.js';
import type { Resource, Tier } from '../resources/index.js';

/** Names one object: what a delete carries. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** For namespaced kinds. */
  readonly namespace?: string;
}

/** One datastore event. An upsert of an object the engine already has is an update. */
export type CalcUpdate =
  | { readonly type: 'upsert'; readonly resource: Resource }
  | { readonly type: 'delete'; readonly ref: ResourceRef };

export function resourceRef(r: Resource): ResourceRef {
  const meta = r.metadata;
  return 'namespace' in meta
    ? { apiVersion: r.apiVersion, kind: r.kind, name: meta.name, namespace: meta.namespace }
    : { apiVersion: r.apiVersion, kind: r.kind, name: meta.name };
}

/** The identity the engine keys objects by (the same one `buildSnapshot` de-duplicates on). */
export function resourceKey(ref: ResourceRef): string {
  return `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
}

/**
 * An IP set the data plane must hold. `selector` sets hold the addresses of every entity the
 * selector matches (single addresses as `10.0.0.1`, network-set CIDRs as `10.1.0.0/16`).
 * `named-port` sets hold `address,protocol:port` members (`10.0.0.1,tcp:8080`; protocols other
 * than tcp/udp/sctp by number) for every port of that name (and protocol, when given) declared by
 * an entity the selector matches. The id is a canonical text of the definition, so equal
 * definitions share one set across policies, and it never collides.
 */
export type IpSetSpec =
  | {
      readonly type: 'selector';
      readonly id: string;
      /** Canonical selector text. */
      readonly selector: string;
      /** Entity kinds the set is restricted to; absent means any kind. */
      readonly kinds?: readonly EntityKind[];
    }
  | {
      readonly type: 'named-port';
      readonly id: string;
      readonly selector: string;
      readonly kinds?: readonly EntityKind[];
      readonly port: string;
      /** Only ports declared with this protocol; absent means any protocol. */
      readonly protocol?: number;
    };

/** The IP sets that stand for one side of a rule. */
export interface PeerSets {
  /** The set for `selector`: the peer address must be a member. */
  readonly selector?: string;
  /** The set for `notSelector`: the peer address must not be a member. */
  readonly notSelector?: string;
  /** One named-port set per `ports.named` entry, in order: (address, protocol, port) in any matches. */
  readonly namedPorts?: readonly string[];
  /** Likewise for `notPorts.named`. */
  readonly notNamedPorts?: readonly string[];
}

/** The sets of one normalized rule, index for index with the policy's rule list. */
export interface RuleSets {
  readonly source: PeerSets;
  readonly destination: PeerSets;
}

/** A policy active on this node, with the IP set ids its rules use. */
export interface ActivePolicy {
  readonly policy: NormPolicy;
  readonly ingress: readonly RuleSets[];
  readonly egress: readonly RuleSets[];
}

export interface ActiveProfile {
  readonly profile: NormProfile;
  readonly ingress: readonly RuleSets[];
  readonly egress: readonly RuleSets[];
}

/** One tier in an endpoint's list, with the ids of its policies that apply, in order. */
export interface TierPolicies {
  readonly tier: string;
  readonly policies: readonly string[];
}

/** What applies in each direction: tiers in order, each with its policies in order. */
export interface PolicyView {
  readonly ingress: readonly TierPolicies[];
  readonly egress: readonly TierPolicies[];
}

/**
 * A local endpoint and the policies that apply to it. `staged` is what enforced plus staged
 * policies would apply (a staged Set replacing or adding its policy, a staged Delete removing
 * it); present only when it differs from the enforced view's inputs, i.e. when some staged
 * policy selects the endpoint or targets a policy that does. Profiles are `endpoint.profiles`,
 * in order; a name with no active profile names nothing.
 */
export interface EndpointPolicies extends PolicyView {
  readonly endpoint: Entity;
  readonly staged?: PolicyView;
}

/**
 * The engine's output. Within one flush the calls come in a safe order: IP sets added and their
 * members changed; tiers, policies and profiles activated or updated; endpoints updated; then
 * endpoints removed; profiles, policies and tiers deactivated; IP sets removed. So a set is
 * complete before a rule uses it, a policy is in place before an endpoint needs it, and nothing is
 * removed while something still refers to it.
 */
export interface CalcCallbacks {
  onIpSetAdded(set: IpSetSpec, members: readonly string[]): void;
  onIpSetMembersChanged(id: string, added: readonly string[], removed: readonly string[]): void;
  onIpSetRemoved(id: string): void;
  /** A tier some active policy is in; called again when its order or default action changes. */
  onTierActive(tier: NormTier): void;
  onTierInactive(name: string): void;
  /** A policy that applies to a local endpoint; called again whenever it changes. */
  onPolicyActive(policy: ActivePolicy): void;
  onPolicyInactive(id: string): void;
  /** A profile a local endpoint names; called again whenever it changes. */
  onProfileActive(profile: ActiveProfile): void;
  onProfileInactive(name: string): void;
  /** A local endpoint, new or changed (its entity or anything in its lists). */
  onEndpointUpdate(id: string, endpoint: EndpointPolicies): void;
  onEndpointRemoved(id: string): void;
  /** A resource the engine could not convert (treated as absent). Optional. */
  onResourceRejected?(ref: ResourceRef, error: UserError): void;
}

export interface IpSetState {
  readonly spec: IpSetSpec;
  readonly members: ReadonlySet<string>;
}

/** Everything the deltas describe, as one value: what a consumer holds after applying them. */
export interface CalcState {
  readonly ipSets: ReadonlyMap<string, IpSetState>;
  readonly tiers: ReadonlyMap<string, NormTier>;
  readonly policies: ReadonlyMap<string, ActivePolicy>;
  readonly profiles: ReadonlyMap<string, ActiveProfile>;
  readonly endpoints: ReadonlyMap<string, EndpointPolicies>;
}

export interface CalcEngineOptions {
  readonly callbacks: CalcCallbacks;
  /**
   * Which enforced endpoints (pods that are not host-networked, host endpoints) this engine
   * computes for: one node's (`localToNode(name)`) or, by default, all of them.
   */
  readonly isLocal?: (endpoint: Entity) => boolean;
  /** The tiers that exist without a Tier object; defaults to Calico's built-in tiers. */
  readonly builtinTiers?: readonly Tier[];
}

/** `isLocal` for a node agent: the endpoints on one node. */
export function localToNode(nodeName: string): (endpoint: Entity) => boolean {
  return (endpoint) => endpoint.nodeName === nodeName;
}
