// Turns the policy core's verdict for one connection into the flow log halves an agent would
// report (Calico's fields: tier, policy, rule index, the hit trace, and what staged policies would
// do). Pure: the recorder, the recorded-mode replay and the console's impact preview share it.
// The record types only: the flows index would pull its server code into the console's type check.
// eslint-disable-next-line no-restricted-imports
import type { FlowAction, FlowEndpoint, FlowLog, FlowReporter, PolicyHit } from '../flows/types.js';
import type { DirectionVerdict, PolicySetVerdict, Verdict } from '../policy/index.js';

export interface Attribution {
  readonly action: FlowAction;
  readonly tier: string;
  readonly policy: string;
  readonly ruleIndex: number;
  readonly policies: readonly PolicyHit[];
}

/** The hits of one direction, in evaluation order, as `index|tier|name|action|ruleIndex`. */
export function attribute(v: DirectionVerdict): Attribution {
  const hits: PolicyHit[] = [];
  let index = 0;
  for (const t of v.tiers) {
    for (const p of t.policies) {
      const last = p.hits[p.hits.length - 1];
      if (last === undefined) continue;
      hits.push(`${index++}|${t.tier}|${p.policy}|${last.action.toLowerCase()}|${last.ruleIndex}`);
    }
    if (t.outcome === 'end-of-tier-Deny' || t.outcome === 'end-of-tier-Pass') {
      const lastPolicy = t.policies[t.policies.length - 1]?.policy ?? t.tier;
      hits.push(`${index++}|${t.tier}|${lastPolicy}|${t.outcome === 'end-of-tier-Deny' ? 'deny' : 'pass'}|-1`);
    }
  }
  const action: FlowAction = v.allowed ? 'allow' : 'deny';
  const d = v.decidedBy;
  switch (d.kind) {
    case 'rule':
      return { action, tier: d.tier, policy: d.policy, ruleIndex: d.ruleIndex, policies: hits };
    case 'end-of-tier': {
      const policy = [...v.tiers].reverse().find((t) => t.tier === d.tier)?.policies.at(-1)?.policy ?? d.tier;
      return { action, tier: d.tier, policy, ruleIndex: -1, policies: hits };
    }
    case 'profile':
      hits.push(`${index}|__PROFILE__|__PROFILE__.${d.profile}|${d.action.toLowerCase()}|${d.ruleIndex}`);
      return { action, tier: '__PROFILE__', policy: `__PROFILE__.${d.profile}`, ruleIndex: d.ruleIndex, policies: hits };
    case 'default-deny':
      return { action, tier: '-', policy: '-', ruleIndex: -1, policies: hits };
    case 'not-enforced':
      return { action, tier: '-', policy: '-', ruleIndex: -1, policies: hits };
  }
}

function differs(a: PolicySetVerdict, b: PolicySetVerdict, dir: 'egress' | 'ingress'): boolean {
  return a[dir].allowed !== b[dir].allowed || JSON.stringify(a[dir].decidedBy) !== JSON.stringify(b[dir].decidedBy);
}

export interface ConnectionCounts {
  readonly startTime: number;
  readonly endTime: number;
  readonly numFlows: number;
  /** Packets and bytes each way per connection (a small request and answer). */
  readonly packetsPerFlow: number;
  readonly bytesPerFlow: number;
}

/**
 * The halves of one connection: the source's node reports egress (when the source is a pod), the
 * destination's node reports ingress (when the destination is a pod and egress let it leave).
 */
export function flowLogsFor(
  verdict: Verdict,
  source: FlowEndpoint & { readonly host?: string },
  dest: FlowEndpoint & { readonly host?: string },
  proto: string,
  c: ConnectionCounts,
): FlowLog[] {
  const logs: FlowLog[] = [];
  const half = (reporter: FlowReporter, dir: 'egress' | 'ingress', host: string): FlowLog => {
    const a = attribute(verdict[dir]);
    const staged = differs(verdict, verdict.staged, dir) ? attribute(verdict.staged[dir]) : undefined;
    const allowed = a.action === 'allow';
    const { host: _s, ...src } = source;
    const { host: _d, ...dst } = dest;
    return {
      startTime: c.startTime,
      endTime: c.endTime,
      host,
      reporter,
      action: a.action,
      proto,
      source: src,
      dest: dst,
      tier: a.tier,
      policy: a.policy,
      ruleIndex: a.ruleIndex,
      policies: a.policies,
      ...(staged !== undefined ? { pendingAction: staged.action, pendingPolicies: staged.policies } : {}),
      packetsOut: c.numFlows * c.packetsPerFlow,
      bytesOut: c.numFlows * c.bytesPerFlow,
      packetsIn: allowed ? c.numFlows * c.packetsPerFlow : 0,
      bytesIn: allowed ? c.numFlows * c.bytesPerFlow : 0,
      numFlows: c.numFlows,
      numFlowsStarted: c.numFlows,
      numFlowsCompleted: allowed ? c.numFlows : 0,
    };
  };
  if (source.type === 'wep' && source.host !== undefined) logs.push(half('src', 'egress', source.host));
  if (dest.type === 'wep' && dest.host !== undefined && verdict.egress.allowed) logs.push(half('dst', 'ingress', dest.host));
  return logs;
}
