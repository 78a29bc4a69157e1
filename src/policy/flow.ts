// What the evaluator is asked about (a flow) and what it answers (a verdict with a trace).
import type { IpAddress } from '../net/index.js';
import type { Direction, Entity, RuleAction } from './model.js';

/** One end of a flow: an entity we know (a pod, a host endpoint) or a bare address. */
export type FlowEnd =
  | { readonly entity: Entity; readonly ip: IpAddress }
  | { readonly entity?: undefined; readonly ip: IpAddress };

export interface Flow {
  readonly source: FlowEnd;
  readonly destination: FlowEnd;
  /** IANA protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP …). */
  readonly protocol: number;
  readonly destinationPort?: number;
  readonly sourcePort?: number;
  readonly icmp?: { readonly type: number; readonly code?: number };
  /** The DNS name the destination was reached by, when known. */
  readonly domain?: string;
}

/** Why one direction ended as it did. */
export type Decision =
  | {
      readonly kind: 'rule';
      readonly tier: string;
      readonly policy: string;
      readonly ruleIndex: number;
      readonly ruleName?: string;
      readonly action: 'Allow' | 'Deny';
    }
  | { readonly kind: 'end-of-tier'; readonly tier: string; readonly action: 'Deny' }
  | { readonly kind: 'profile'; readonly profile: string; readonly ruleIndex: number; readonly action: 'Allow' | 'Deny' }
  | { readonly kind: 'default-deny'; readonly reason: string }
  | {
      readonly kind: 'not-enforced';
      readonly reason: string;
      /** Set when a host endpoint's failsafe port (not the absence of policy) let the flow through. */
      readonly failsafe?: { readonly protocol: number; readonly first: number; readonly last: number };
    };

export interface RuleHit {
  readonly ruleIndex: number;
  readonly ruleName?: string;
  readonly action: RuleAction;
}

export interface PolicyTrace {
  readonly policy: string;
  readonly kind: string;
  /** The rules that matched, in order: Log rules, then the one that decided (if any). */
  readonly hits: readonly RuleHit[];
}

export interface TierTrace {
  readonly tier: string;
  readonly policies: readonly PolicyTrace[];
  /** How evaluation left the tier. */
  readonly outcome: 'Allow' | 'Deny' | 'Pass' | 'end-of-tier-Deny' | 'end-of-tier-Pass';
}

export interface DirectionVerdict {
  readonly direction: Direction;
  /** The endpoint whose policy was applied, or undefined when none applies. */
  readonly endpoint?: string;
  readonly allowed: boolean;
  readonly decidedBy: Decision;
  readonly tiers: readonly TierTrace[];
  readonly profiles: readonly string[];
}

export interface PolicySetVerdict {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

export interface Verdict extends PolicySetVerdict {
  /** What enforced plus staged policies would decide. Never affects `allowed`. */
  readonly staged: PolicySetVerdict;
}
