// The policy core: one normalized model, converters from every policy kind, and the evaluator.
export type {
  RuleAction,
  Direction,
  TierDefaultAction,
  EntityKind,
  EntitySelector,
  PortRange,
  NamedPort,
  PortSet,
  IcmpMatch,
  PeerMatch,
  NormRule,
  PolicyOrigin,
  NormPolicy,
  NormTier,
  NormProfile,
  NamedPortBinding,
  Entity,
  PolicySnapshot,
  ProtocolName,
} from './model.js';
export { PROTOCOL_NUMBERS } from './model.js';
export type {
  Flow,
  FlowEnd,
  Decision,
  RuleHit,
  PolicyTrace,
  TierTrace,
  DirectionVerdict,
  PolicySetVerdict,
  Verdict,
} from './flow.js';
export { PolicyEvaluator, compareTiers, comparePolicies } from './evaluate.js';
export { buildSnapshot, type BuiltSnapshot } from './snapshot.js';
export { flowBetween, reachabilityMatrix, type FlowRequest, type ReachabilityMatrix } from './matrix.js';
export { protocolNumber, protocolName } from './ports.js';
export { AddressIndex, entityMatches } from './address-index.js';
export {
  FAILSAFE_INBOUND,
  FAILSAFE_OUTBOUND,
  HostEndpointIndex,
  failsafeFor,
  failsafePorts,
  isHostSide,
  type FailsafePort,
} from './host-endpoints.js';
export { ruleMatches } from './rule-match.js';
export {
  namespaceLabelsOf,
  namespaceProfile,
  podEffectiveLabels,
  podAddresses,
  podIps,
  entityForPod,
  nodeAddresses,
  entityForNode,
  entityForHostEndpoint,
  entityForNetworkSet,
  entityForGlobalNetworkSet,
} from './entities.js';
export { convertCalicoPolicy, convertProfile } from './convert-calico.js';
export { convertKubernetesPolicy } from './convert-kubernetes.js';
export { convertAdminPolicy } from './convert-admin.js';
