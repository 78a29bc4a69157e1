// Turns a tree into one closure per node, once, so that matching allocates nothing and does no
// dispatch on node kinds: `matches()` runs millions of times in the calc engine and benchmarks.
import type { SelectorNode } from './ast.js';

export type Labels = Readonly<Record<string, string>>;
export type LabelPredicate = (labels: Labels) => boolean;

const always: LabelPredicate = () => true;

// Presence is `typeof value === 'string'`, never `key in labels`: keys such as `constructor` or
// `__proto__` are valid label names, and a plain object inherits non-string values for them.
export function compileSelector(node: SelectorNode): LabelPredicate {
  switch (node.kind) {
    case 'all':
    case 'global':
      return always;
    case 'has': {
      const key = node.key;
      return (labels) => typeof labels[key] === 'string';
    }
    case 'eq': {
      const { key, value } = node;
      return (labels) => labels[key] === value;
    }
    case 'ne': {
      // An absent label is "not equal", as in Calico.
      const { key, value } = node;
      return (labels) => labels[key] !== value;
    }
    case 'contains': {
      const { key, value } = node;
      return (labels) => {
        const actual = labels[key];
        return typeof actual === 'string' && actual.includes(value);
      };
    }
    case 'startsWith': {
      const { key, value } = node;
      return (labels) => {
        const actual = labels[key];
        return typeof actual === 'string' && actual.startsWith(value);
      };
    }
    case 'endsWith': {
      const { key, value } = node;
      return (labels) => {
        const actual = labels[key];
        return typeof actual === 'string' && actual.endsWith(value);
      };
    }
    case 'in':
      return compileMembership(node.key, node.values, true);
    case 'notIn':
      return compileMembership(node.key, node.values, false);
    case 'not': {
      const operand = compileSelector(node.operand);
      return (labels) => !operand(labels);
    }
    case 'and':
      return compileAnd(node.operands.map(compileSelector));
    case 'or':
      return compileOr(node.operands.map(compileSelector));
  }
}

// A set holds only strings, so `has(undefined)` or `has(inheritedFunction)` is simply false.
// One- and two-member sets (the common case) compare directly instead of hashing.
function compileMembership(key: string, values: readonly string[], member: boolean): LabelPredicate {
  if (values.length === 0) return member ? () => false : always;
  if (values.length === 1) {
    const only = values[0];
    return member ? (labels) => labels[key] === only : (labels) => labels[key] !== only;
  }
  if (values.length === 2) {
    const [first, second] = values;
    return member
      ? (labels) => { const v = labels[key]; return v === first || v === second; }
      : (labels) => { const v = labels[key]; return v !== first && v !== second; };
  }
  const set: ReadonlySet<unknown> = new Set(values);
  return member ? (labels) => set.has(labels[key]) : (labels) => !set.has(labels[key]);
}

function compileAnd(operands: LabelPredicate[]): LabelPredicate {
  if (operands.length === 2) {
    const [a, b] = operands as [LabelPredicate, LabelPredicate];
    return (labels) => a(labels) && b(labels);
  }
  return (labels) => {
    for (let i = 0; i < operands.length; i++) if (!operands[i]!(labels)) return false;
    return true;
  };
}

function compileOr(operands: LabelPredicate[]): LabelPredicate {
  if (operands.length === 2) {
    const [a, b] = operands as [LabelPredicate, LabelPredicate];
    return (labels) => a(labels) || b(labels);
  }
  return (labels) => {
    for (let i = 0; i < operands.length; i++) if (operands[i]!(labels)) return true;
    return false;
  };
}
