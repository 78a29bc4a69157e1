// The calc module: the incremental engine that keeps policy selection, IP-set membership and
// named ports current under churn, its naive full-recompute twin, and a state-keeping consumer.
// Invariants and the graph: ./DESIGN.md.
export { CalcEngine, type CalcEngineStats } from './calc-engine.js';
export { NaiveCalcEngine, computeCalcState, emitStateDiff, EMPTY_CALC_STATE, type FullRecomputeOptions } from './full-recompute.js';
export { CalcStateRecorder, setIdsOf } from './state-recorder.js';
export { namedPortMember } from './rule-sets.js';
export { canonicalJson } from './canonical.js';
export { resourceRef, resourceKey, localToNode } from './types.js';
export type {
  ResourceRef,
  CalcUpdate,
  IpSetSpec,
  PeerSets,
  RuleSets,
  ActivePolicy,
  ActiveProfile,
  TierPolicies,
  PolicyView,
  EndpointPolicies,
  CalcCallbacks,
  IpSetState,
  CalcState,
  CalcEngineOptions,
} from './types.js';

import { canonicalValue } from './canonical.js';
import type { CalcState } from './types.js';

/** A state as plain, ordered data: equal states give deep-equal descriptions. */
export function describeCalcState(state: CalcState): unknown {
  return canonicalValue({
    ipSets: state.ipSets,
    tiers: state.tiers,
    policies: state.policies,
    profiles: state.profiles,
    endpoints: state.endpoints,
  });
}
