// The Calico selector language (projectcalico.org/v3): parse, canonical print, evaluate; plus
// Kubernetes label selectors evaluated through the same trees. Invariants: ./DESIGN.md.
export type {
  SelectorNode, AllNode, GlobalNode, HasNode, ValueNode, ValueOperator, SetNode, NotNode, AndNode, OrNode,
} from './ast.js';
export {
  ALL_NODE, GLOBAL_NODE, hasNode, valueNode, setNode, notNode, andNode, orNode, compareCodePoints,
} from './ast.js';
export type { Labels } from './compile.js';
export { SelectorSyntaxError } from './errors.js';
export type { Selector } from './selector.js';
export { parseSelector, selectorFromAst, andSelectors, allSelector, selectorKey } from './selector.js';
export { printSelector } from './print.js';
export { selectorLabelKeys, selectorLabelRestrictions, type LabelRestriction } from './analysis.js';
export { rewriteSelector, prefixSelectorLabels } from './rewrite.js';
export {
  labelSelectorToSelector, labelKeyError, labelValueError,
  type LabelSelector, type LabelSelectorRequirement,
} from './label-selector.js';
export { isValidSelectorLabel } from './tokenizer.js';
