// The one normalized policy model every policy kind converts into. The evaluator, the calc
// engine and the data-plane renderer read only this; no code below it knows which API a
// policy came from (only the trace reports it, through `origin`).
import type { Selector, Labels } from '../selector/index.js';
import type { Cidr, IpAddress } from '../net/index.js';

export type RuleAction = 'Allow' | 'Deny' | 'Pass' | 'Log';
export type Direction = 'ingress' | 'egress';
export type TierDefaultAction = 'Deny' | 'Pass';

/** IANA protocol numbers Margay names. */
export const PROTOCOL_NUMBERS = { ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58, SCTP: 132, UDPLite: 136 } as const;
export type ProtocolName = keyof typeof PROTOCOL_NUMBERS;

/** Kinds of things that carry addresses and labels and so can be matched by a selector. */
export type EntityKind = 'pod' | 'hostEndpoint' | 'networkSet' | 'node';

/**
 * Which entities a rule peer (or a policy) selects. Calico folds namespace, service-account and
 * kind scoping into one label selector over each entity's effective labels (see `labels.ts`), so
 * one selector is the whole test — the same shape the calc engine turns into one IP set.
 */
export interface EntitySelector {
  readonly selector: Selector;
  /** Restricts to entity kinds; undefined means any kind. */
  readonly kinds?: ReadonlySet<EntityKind>;
}

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export interface NamedPort {
  readonly name: string;
  /** Protocol the named port must have; undefined matches the name under any protocol. */
  readonly protocol?: number;
}

/** A port list: any range or named port matches; an empty list is never stored (undefined = any). */
export interface PortSet {
  readonly ranges: readonly PortRange[];
  readonly named: readonly NamedPort[];
}

export interface IcmpMatch {
  readonly type?: number;
  readonly code?: number;
}

/** One side of a rule. Every present field must match (AND); absent fields match anything. */
export interface PeerMatch {
  readonly nets?: readonly Cidr[];
  readonly notNets?: readonly Cidr[];
  readonly selector?: EntitySelector;
  readonly notSelector?: EntitySelector;
  readonly ports?: PortSet;
  readonly notPorts?: PortSet;
  /** Kubernetes services (matched only when the snapshot knows them). */
  readonly services?: { readonly name: string; readonly namespace: string };
  /** DNS names, kept for the DNS policy work; match only flows that carry a domain. */
  readonly domains?: readonly string[];
}

export interface NormRule {
  readonly action: RuleAction;
  readonly ipVersion?: 4 | 6;
  readonly protocol?: number;
  readonly notProtocol?: number;
  readonly icmp?: IcmpMatch;
  readonly notIcmp?: IcmpMatch;
  readonly source: PeerMatch;
  readonly destination: PeerMatch;
  /** Index of the rule in the user's policy (several normalized rules may share one). */
  readonly index: number;
  /** The rule's name, where the API has one (admin network policies). */
  readonly name?: string;
}

/** Where a normalized policy came from, for traces and errors. */
export interface PolicyOrigin {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface NormPolicy {
  /** Unique key: `tier/namespace/name` or `tier/name`, as Calico names policies. */
  readonly id: string;
  /** The name Calico gives it (`knp.default.x` for a Kubernetes policy), namespaced as `ns/name`. */
  readonly name: string;
  readonly namespace?: string;
  readonly tier: string;
  /** Absent order sorts after every present order. */
  readonly order?: number;
  /** The endpoints the policy applies to. */
  readonly subject: EntitySelector;
  readonly ingress?: readonly NormRule[];
  readonly egress?: readonly NormRule[];
  /** Which directions the policy governs (Calico `types`, Kubernetes `policyTypes`). */
  readonly types: { readonly ingress: boolean; readonly egress: boolean };
  /** Staged policies: what they would do, never what happens. */
  readonly staged?: 'Set' | 'Delete';
  /** For a staged policy: the id of the enforced policy it would replace or delete. */
  readonly stagedTarget?: string;
  readonly origin: PolicyOrigin;
}

export interface NormTier {
  readonly name: string;
  readonly order?: number;
  readonly defaultAction: TierDefaultAction;
}

export interface NormProfile {
  readonly name: string;
  readonly ingress: readonly NormRule[];
  readonly egress: readonly NormRule[];
  readonly origin?: PolicyOrigin;
}

export interface NamedPortBinding {
  readonly name: string;
  readonly port: number;
  readonly protocol: number;
}

/** Anything with addresses and labels: pods, host endpoints, network sets, nodes. */
export interface Entity {
  /** `pod:ns/name`, `hep:name`, `netset:ns/name`, `gnetset:name`, `node:name`. */
  readonly id: string;
  readonly kind: EntityKind;
  readonly name: string;
  readonly namespace?: string;
  /** Effective labels: own labels plus those Calico adds implicitly. */
  readonly labels: Labels;
  readonly ips: readonly IpAddress[];
  /** Network sets match whole CIDRs rather than single addresses. */
  readonly nets?: readonly Cidr[];
  readonly namedPorts: readonly NamedPortBinding[];
  /** Policies apply to pods (not host-networked ones) and host endpoints. */
  readonly enforced: boolean;
  readonly profiles: readonly string[];
  readonly nodeName?: string;
  readonly hostNetwork?: boolean;
  /**
   * Host endpoints: the interface whose traffic they govern (`spec.interfaceName`), `*` for every
   * interface of the host; absent when only expectedIPs name it.
   */
  readonly interfaceName?: string;
}

/** Everything the evaluator needs, already normalized. */
export interface PolicySnapshot {
  readonly tiers: readonly NormTier[];
  readonly policies: readonly NormPolicy[];
  readonly profiles: readonly NormProfile[];
  readonly entities: readonly Entity[];
}
