// Kubernetes metav1.LabelSelector → the same tree Calico's converter builds from it, after
// validating it as the Kubernetes API server does (operators, values, label keys and values).
import { UserError, type Problem } from '../errors/index.js';
import { andNode, hasNode, notNode, setNode, valueNode, compareCodePoints, type SelectorNode } from './ast.js';
import { allSelector, selectorFromAst, type Selector } from './selector.js';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[] | null;
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

/**
 * Kubernetes semantics: requirements are ANDed; `{}` matches everything; `NotIn` and
 * `DoesNotExist` match when the key is absent. The tree is what Calico's k8sSelectorToCalico
 * text parses to: `k == "v"` for matchLabels in key order, then the expressions in order as
 * `k in {…}`, `k not in {…}`, `has(k)`, `!has(k)`. Invalid input throws a UserError listing
 * every problem, each with a path such as `${path}.matchExpressions[0].values`.
 */
export function labelSelectorToSelector(ls: LabelSelector, path?: string): Selector {
  const at = (relative: string): string => (path === undefined || path === '' ? relative : `${path}.${relative}`);
  const problems: Problem[] = [];
  const report = (relative: string, message: string): void => {
    problems.push({ path: at(relative), message });
  };
  const terms: SelectorNode[] = [];

  const matchLabels = ls.matchLabels ?? {};
  if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
    report('matchLabels', 'expected a map of label keys to values');
  } else {
    for (const key of Object.keys(matchLabels).sort(compareCodePoints)) {
      const value: unknown = matchLabels[key];
      const keyError = labelKeyError(key);
      if (keyError !== undefined) report('matchLabels', `invalid label key ${JSON.stringify(key)}: ${keyError}`);
      const valueError = labelValueError(value);
      if (valueError !== undefined) report(`matchLabels[${JSON.stringify(key)}]`, valueError);
      if (keyError === undefined && valueError === undefined) terms.push(valueNode('eq', key, value as string));
    }
  }

  const expressions = ls.matchExpressions ?? [];
  if (!Array.isArray(expressions)) {
    report('matchExpressions', 'expected a list of requirements');
  } else {
    expressions.forEach((requirement: LabelSelectorRequirement, i) => {
      const term = requirementToNode(requirement, `matchExpressions[${i}]`, report);
      if (term !== undefined) terms.push(term);
    });
  }

  if (problems.length > 0) throw new UserError(problems);
  if (terms.length === 0) return allSelector;
  return selectorFromAst(terms.length === 1 ? terms[0]! : andNode(terms));
}

function requirementToNode(
  requirement: LabelSelectorRequirement,
  at: string,
  report: (relative: string, message: string) => void,
): SelectorNode | undefined {
  if (requirement === null || typeof requirement !== 'object') {
    report(at, 'expected a requirement with key, operator and values');
    return undefined;
  }
  let invalid = false;
  const problem = (relative: string, message: string): void => {
    invalid = true;
    report(relative, message);
  };
  const { key, operator } = requirement;
  const values: unknown = requirement.values ?? [];
  const list = Array.isArray(values) ? (values as unknown[]) : undefined;
  if (list === undefined) problem(`${at}.values`, 'expected a list of strings');

  switch (operator) {
    case 'In': case 'NotIn':
      if (list !== undefined && list.length === 0) problem(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
      break;
    case 'Exists': case 'DoesNotExist':
      if (list !== undefined && list.length > 0) problem(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      break;
    default:
      problem(`${at}.operator`, `expected one of "In", "NotIn", "Exists", "DoesNotExist", not ${JSON.stringify(operator)}`);
  }
  list?.forEach((value, j) => {
    const error = labelValueError(value);
    if (error !== undefined) problem(`${at}.values[${j}]`, error);
  });
  const keyError = labelKeyError(key);
  if (keyError !== undefined) problem(`${at}.key`, `invalid label key ${JSON.stringify(key)}: ${keyError}`);
  if (invalid || list === undefined) return undefined;

  const strings = list as string[];
  switch (operator) {
    case 'In': return setNode('in', key, strings);
    case 'NotIn': return setNode('notIn', key, strings);
    case 'Exists': return hasNode(key);
    default: return notNode(hasNode(key));
  }
}

// Kubernetes' rules (apimachinery IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain).
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Why `key` is not a valid Kubernetes label key, or undefined when it is. */
export function labelKeyError(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'expected a string';
  const parts = key.split('/');
  if (parts.length > 2) return "expected a name with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253) return 'prefix part must be no more than 253 characters';
    if (!DNS_SUBDOMAIN.test(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character";
    }
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name)) return `name part ${NAME_RULE} (e.g. 'MyName', 'my.name' or '123-abc')`;
  return undefined;
}

/** Why `value` is not a valid Kubernetes label value, or undefined when it is. */
export function labelValueError(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string';
  if (value.length > 63) return `invalid label value ${JSON.stringify(value)}: must be no more than 63 characters`;
  if (value !== '' && !NAME_PART.test(value)) {
    return `invalid label value ${JSON.stringify(value)}: must be empty or ${NAME_RULE.slice('must '.length)} (e.g. 'MyValue', 'my_value' or '12345')`;
  }
  return undefined;
}
