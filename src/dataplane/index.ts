// The data plane's pure half: calc output (CalcState) → Margay's nftables ruleset, as a model,
// a full `nft -f` program that replaces the table atomically, or a delta between two states;
// plus the rule-id registry whose ids connections are marked with. No I/O: `nft/` applies it.
// Layout and invariants: ./DESIGN.md.
//
//   const ruleIds = new RuleIdRegistry();                     // one per node, kept for its life
//   const opts = { tableName: 'margay', podInterfacePrefix: 'mgy', logGroup: 1,
//                  interfaceOf: (ep) => ifaceByPod.get(ep.id), ruleIds };
//   renderRuleset(state, opts)          // full program text
//   renderDelta(prevState, nextState, opts)   // delta text ('' when nothing changed)
//   deltaText(renderModel(a, opts), renderModel(b, opts))   // same, from models you kept
export {
  renderModel,
  renderRuleset,
  renderDelta,
  normalizeNets,
  CHAIN_FORWARD_EGRESS,
  CHAIN_FORWARD_INGRESS,
  CHAIN_INPUT_EGRESS,
  CHAIN_INPUT_HOST,
  CHAIN_OUTPUT_HOST,
  MAP_EGRESS,
  MAP_INGRESS,
  MAP_HOST_INGRESS,
  MAP_HOST_EGRESS,
  type RenderOptions,
} from './render.js';
export {
  programText,
  deltaText,
  withGarbage,
  repairText,
  modelsEqual,
  type RulesetModel,
  type NftSet,
  type NftChain,
  type NftVerdictMap,
  type SetType,
} from './model.js';
export {
  RuleIdRegistry,
  ruleIdsOfCtMark,
  ruleIdsInRules,
  logPrefix,
  parseLogPrefix,
  MAX_RULE_ID,
  OVERFLOW_RULE_ID,
  type RuleIdEntry,
  type RuleIdSnapshot,
  type ImplicitDrop,
  type ImplicitAllow,
  type LogPrefixInfo,
} from './rule-ids.js';
export { compileRun, paintPlane, type SimpleRule, type Box, type AddrTerm, type AddrInterval } from './compile.js';
export { shortHash } from './names.js';
