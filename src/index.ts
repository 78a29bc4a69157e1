// The public library surface of the `margay` package.
export { UserError, BugError, isUserError, formatProblem, fieldPath } from './errors/index.js';
export type { Problem } from './errors/index.js';
export {
  parseSelector,
  labelSelectorToSelector,
  andSelectors,
  allSelector,
  selectorFromAst,
  selectorKey,
  selectorLabelKeys,
  SelectorSyntaxError,
} from './selector/index.js';
export type { Selector, SelectorNode, Labels, LabelSelector } from './selector/index.js';
export { decodeManifests, decodeObject, BUILTIN_TIERS, resourceLabel } from './resources/index.js';
export type { Resource, Decoded, SourceRef } from './resources/index.js';
export { parseIp, parseCidr, cidrContains } from './net/index.js';
export type { IpAddress, Cidr } from './net/index.js';
export {
  PolicyEvaluator,
  buildSnapshot,
  flowBetween,
  reachabilityMatrix,
  PROTOCOL_NUMBERS,
} from './policy/index.js';
export type {
  PolicySnapshot,
  NormPolicy,
  NormRule,
  NormTier,
  NormProfile,
  Entity,
  Flow,
  Verdict,
  DirectionVerdict,
  Decision,
  TierTrace,
  ReachabilityMatrix,
  BuiltSnapshot,
} from './policy/index.js';
export { CalcEngine, NaiveCalcEngine, computeCalcState, CalcStateRecorder, localToNode } from './calc/index.js';
export type { CalcCallbacks, CalcUpdate, CalcState, IpSetSpec, EndpointPolicies, ActivePolicy } from './calc/index.js';
