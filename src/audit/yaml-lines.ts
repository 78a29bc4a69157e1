// A small block-style YAML printer for JSON data (objects, lists, scalars), in kubectl's layout,
// for the before/after diffs of `audit changes`. The yaml library's stringify costs ~0.5 ms per
// policy object, which dominated "what changed in the last 24 hours"; this is ~15x cheaper and
// its output is YAML the yaml library reads back to the same value (see changes.test.ts).

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_ ./:=,@()!&|"'$-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    const plain = v !== '' && PLAIN.test(v) && !RESERVED.test(v) && !v.endsWith(' ') && !v.endsWith(':') && !v.includes(': ') && !v.includes(' #') && !/^[-?:,[\]{}#&*!|>'"%@`]/.test(v);
    return plain ? v : JSON.stringify(v);
  }
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] =>
  typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
const inline = (v: unknown): string => (Array.isArray(v) ? '[]' : typeof v === 'object' && v !== null ? '{}' : scalar(v));

function emit(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (!isContainer(item)) out.push(`${indent}- ${inline(item)}`);
      else {
        const sub: string[] = [];
        emit(item, `${indent}  `, sub);
        out.push(`${indent}- ${(sub[0] ?? '').slice(indent.length + 2)}`, ...sub.slice(1));
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    const key = scalar(k);
    if (!isContainer(val)) out.push(`${indent}${key}: ${inline(val)}`);
    else {
      out.push(`${indent}${key}:`);
      emit(val, Array.isArray(val) ? indent : `${indent}  `, out);
    }
  }
}

/** The value as YAML lines (empty for undefined: "no object"). */
export function yamlLines(v: unknown): string[] {
  if (v === undefined) return [];
  if (!isContainer(v)) return [inline(v)];
  const out: string[] = [];
  emit(v, '', out);
  return out;
}
