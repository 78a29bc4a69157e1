// How Calico scopes selectors: everything becomes one selector over an entity's effective labels.
// Namespace labels are inherited by a namespace's endpoints under the `pcns.` prefix and service
// account labels under `pcsa.`, so a namespaceSelector is the same selector with its keys prefixed.
import {
  allSelector,
  andSelectors,
  hasNode,
  notNode,
  parseSelector,
  selectorFromAst,
  andNode,
  orNode,
  valueNode,
  setNode,
  type LabelSelector,
  labelSelectorToSelector,
  type Selector,
  type SelectorNode,
} from '../selector/index.js';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
export const LABEL_NAME = 'projectcalico.org/name';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
export const KUBERNETES_NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** `projectcalico.org/namespace == "ns"`. */
export function inNamespace(namespace: string): Selector {
  return selectorFromAst(valueNode('eq', LABEL_NAMESPACE, namespace));
}

/** Only Kubernetes pods (Calico tags them `projectcalico.org/orchestrator == "k8s"`). */
export const kubernetesPods: Selector = selectorFromAst(valueNode('eq', LABEL_ORCHESTRATOR, 'k8s'));

/**
 * A namespaceSelector as a selector over endpoint labels: keys get the `pcns.` prefix, and
 * `global()` means "not in any namespace" (global network sets and host endpoints).
 */
export function namespaceSelectorOf(sel: Selector): Selector {
  // `all()` here means "every namespace", not "everything": Calico's rule conversion makes it
  // has(projectcalico.org/namespace), so global network sets and host endpoints stay out.
  if (sel.ast.kind === 'all') return selectorFromAst(hasNode(LABEL_NAMESPACE));
  return selectorFromAst(prefixKeys(sel.ast, NAMESPACE_LABEL_PREFIX, notNode(hasNode(LABEL_NAMESPACE))));
}

/** A service-account label selector over endpoint labels (`pcsa.` prefix). */
export function serviceAccountSelectorOf(sel: Selector): Selector {
  // As with namespaces, `all()` means "has a service account", which host endpoints do not.
  if (sel.ast.kind === 'all') return selectorFromAst(hasNode(LABEL_SERVICE_ACCOUNT));
  return selectorFromAst(prefixKeys(sel.ast, SERVICE_ACCOUNT_LABEL_PREFIX, notNode(hasNode(LABEL_SERVICE_ACCOUNT))));
}

/** `projectcalico.org/serviceaccount in {names}`. */
export function serviceAccountNamesOf(names: readonly string[]): Selector {
  return selectorFromAst(setNode('in', LABEL_SERVICE_ACCOUNT, names));
}

/** A Kubernetes label selector over namespace labels, as an endpoint selector. */
export function kubernetesNamespaceSelector(ls: LabelSelector, path: string): Selector {
  return namespaceSelectorOf(labelSelectorToSelector(ls, path));
}

export function parseCalicoSelector(text: string | undefined): Selector {
  return text === undefined || text.trim() === '' ? allSelector : parseSelector(text);
}

export function conjunction(parts: readonly (Selector | undefined)[]): Selector {
  const present = parts.filter((s): s is Selector => s !== undefined && s.ast.kind !== 'all');
  if (present.length === 0) return allSelector;
  if (present.length === 1) return present[0] as Selector;
  return andSelectors(...present);
}

function prefixKeys(node: SelectorNode, prefix: string, globalMeaning: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all':
      return node;
    case 'global':
      return globalMeaning;
    case 'has':
      return hasNode(prefix + node.key);
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return valueNode(node.kind, prefix + node.key, node.value);
    case 'in':
    case 'notIn':
      return setNode(node.kind, prefix + node.key, node.values);
    case 'not':
      return notNode(prefixKeys(node.operand, prefix, globalMeaning));
    case 'and':
      return andNode(node.operands.map((o) => prefixKeys(o, prefix, globalMeaning)));
    case 'or':
      return orNode(node.operands.map((o) => prefixKeys(o, prefix, globalMeaning)));
  }
}
