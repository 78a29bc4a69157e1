// Tree rewrites the policy layer needs to mirror Calico's conversions, such as prefixing every
// label key (`pcns.` for namespace labels, `pcsa.` for service-account labels).
import { andNode, hasNode, notNode, orNode, setNode, valueNode, type SelectorNode } from './ast.js';
import { selectorFromAst, type Selector } from './selector.js';

/**
 * Rebuilds a selector, top-down: wherever `replace` returns a node, that node takes the place of
 * the subtree; where it returns undefined, the node is kept and its operands are visited.
 */
export function rewriteSelector(selector: Selector, replace: (node: SelectorNode) => SelectorNode | undefined): Selector {
  const visit = (node: SelectorNode): SelectorNode => {
    const replaced = replace(node);
    if (replaced !== undefined) return replaced;
    switch (node.kind) {
      case 'not':
        return notNode(visit(node.operand));
      case 'and':
        return andNode(node.operands.map(visit));
      case 'or':
        return orNode(node.operands.map(visit));
      default:
        return node;
    }
  };
  return selectorFromAst(visit(selector.ast));
}

/** Prefixes every label key the selector reads, like Calico's PrefixVisitor. */
export function prefixSelectorLabels(selector: Selector, prefix: string): Selector {
  return rewriteSelector(selector, (node) => {
    switch (node.kind) {
      case 'has':
        return hasNode(prefix + node.key);
      case 'eq': case 'ne': case 'contains': case 'startsWith': case 'endsWith':
        return valueNode(node.kind, prefix + node.key, node.value);
      case 'in': case 'notIn':
        return setNode(node.kind, prefix + node.key, node.values);
      default:
        return undefined;
    }
  });
}
