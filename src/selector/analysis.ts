// Facts about a selector that indexes use without evaluating it: which label keys it reads, and
// what any matching label set must satisfy (Calico's "label restrictions").
import { compareCodePoints, type SelectorNode } from './ast.js';
import type { Selector } from './selector.js';

/** The label keys a selector reads, sorted and without duplicates. */
export function selectorLabelKeys(selector: Selector): string[] {
  const keys = new Set<string>();
  const visit = (node: SelectorNode): void => {
    switch (node.kind) {
      case 'all': case 'global':
        return;
      case 'not':
        return visit(node.operand);
      case 'and': case 'or':
        return node.operands.forEach(visit);
      default:
        keys.add(node.key);
    }
  };
  visit(selector.ast);
  return [...keys].sort(compareCodePoints);
}

/**
 * A necessary condition on one label for the selector to match. Conditions are lower bounds:
 * a label with no entry may still be constrained in ways this does not capture.
 */
export interface LabelRestriction {
  /** Every matching label set has this label (`has(k)`, `k == "v"`, `k contains "s"`, …). */
  readonly mustBePresent: boolean;
  /** No matching label set has this label (`!has(k)`). Both flags set: nothing can match. */
  readonly mustBeAbsent: boolean;
  /** When defined, the label's value is one of these (sorted); empty: nothing can match. */
  readonly mustHaveOneOf?: readonly string[];
}

type Restrictions = Map<string, LabelRestriction>;

/**
 * Per label key, what every matching label set must satisfy; used to index selectors by the
 * values they require. Follows Calico's LabelRestrictions, and also reads `!(k != "v")` and
 * `!(k not in {…})` as the positive tests they are.
 */
export function selectorLabelRestrictions(selector: Selector): ReadonlyMap<string, LabelRestriction> {
  return restrictionsOf(selector.ast);
}

const PRESENT: LabelRestriction = Object.freeze({ mustBePresent: true, mustBeAbsent: false });
const ABSENT: LabelRestriction = Object.freeze({ mustBePresent: false, mustBeAbsent: true });

function restrictionsOf(node: SelectorNode): Restrictions {
  switch (node.kind) {
    case 'all': case 'global': case 'ne': case 'notIn':
      return new Map();
    case 'has': case 'contains': case 'startsWith': case 'endsWith':
      return new Map([[node.key, PRESENT]]);
    case 'eq':
      return new Map([[node.key, oneOf([node.value])]]);
    case 'in':
      return new Map([[node.key, oneOf(node.values)]]);
    case 'not': {
      // Negation inverts only the tests whose complement is itself a restriction.
      const inner = node.operand;
      if (inner.kind === 'has') return new Map([[inner.key, ABSENT]]);
      if (inner.kind === 'ne') return new Map([[inner.key, oneOf([inner.value])]]);
      if (inner.kind === 'notIn') return new Map([[inner.key, oneOf(inner.values)]]);
      return new Map();
    }
    case 'and':
      return node.operands.map(restrictionsOf).reduce(intersect);
    case 'or':
      return node.operands.map(restrictionsOf).reduce(union);
  }
}

function oneOf(values: readonly string[]): LabelRestriction {
  return { mustBePresent: true, mustBeAbsent: false, mustHaveOneOf: values };
}

// Both sides hold: every condition from either side applies.
function intersect(left: Restrictions, right: Restrictions): Restrictions {
  const out = new Map(left);
  for (const [key, r] of right) {
    const l = out.get(key);
    if (l === undefined) {
      out.set(key, r);
      continue;
    }
    let values = l.mustHaveOneOf ?? r.mustHaveOneOf;
    if (l.mustHaveOneOf !== undefined && r.mustHaveOneOf !== undefined) {
      const allowed = new Set(r.mustHaveOneOf);
      values = l.mustHaveOneOf.filter((v) => allowed.has(v));
    }
    out.set(key, withValues(l.mustBePresent || r.mustBePresent, l.mustBeAbsent || r.mustBeAbsent, values));
  }
  return out;
}

// Either side may hold: only conditions common to both survive.
function union(left: Restrictions, right: Restrictions): Restrictions {
  const out: Restrictions = new Map();
  for (const [key, l] of left) {
    const r = right.get(key);
    if (r === undefined) continue;
    const mustBePresent = l.mustBePresent && r.mustBePresent;
    const mustBeAbsent = l.mustBeAbsent && r.mustBeAbsent;
    if (!mustBePresent && !mustBeAbsent) continue;
    let values: readonly string[] | undefined;
    if (mustBePresent && l.mustHaveOneOf !== undefined && r.mustHaveOneOf !== undefined) {
      values = [...new Set([...l.mustHaveOneOf, ...r.mustHaveOneOf])].sort(compareCodePoints);
    }
    out.set(key, withValues(mustBePresent, mustBeAbsent, values));
  }
  return out;
}

function withValues(mustBePresent: boolean, mustBeAbsent: boolean, values: readonly string[] | undefined): LabelRestriction {
  return values === undefined ? { mustBePresent, mustBeAbsent } : { mustBePresent, mustBeAbsent, mustHaveOneOf: values };
}
