// Prints a tree in Calico's canonical form, character for character as its selector String():
// `&&`/`||` groups always parenthesised, `!` glued to its operand, strings in double quotes
// unless they contain one, set members sorted and joined with ", ".
import type { SelectorNode } from './ast.js';

const VALUE_OPERATOR_TEXT = {
  eq: ' == ', ne: ' != ', contains: ' contains ', startsWith: ' starts with ', endsWith: ' ends with ',
} as const;

export function printSelector(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.key})`;
    case 'eq': case 'ne': case 'contains': case 'startsWith': case 'endsWith':
      return node.key + VALUE_OPERATOR_TEXT[node.kind] + quote(node.value);
    case 'in': case 'notIn':
      return `${node.key} ${node.kind === 'in' ? 'in' : 'not in'} {${node.values.map(quote).join(', ')}}`;
    case 'not':
      return '!' + printSelector(node.operand);
    case 'and':
      return '(' + node.operands.map(printSelector).join(' && ') + ')';
    case 'or':
      return '(' + node.operands.map(printSelector).join(' || ') + ')';
  }
}

// Calico has no escapes: a value holding `"` is wrapped in `'`. (No parsed value holds both.)
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
