// Printing for `margay get`: kubectl-style tables from the server's Table, YAML, JSON and names,
// and a line diff for `margay diff`.
import { stringify } from 'yaml';
import { apiVersionOf, type JsonObject, type ResourceType } from '../api/index.js';

interface Column {
  name: string;
  priority?: number;
}

/** Renders rows with columns padded by three spaces, headers upper-cased, as kubectl prints. */
export function renderTable(table: JsonObject, opts: { wide: boolean; withNamespace: boolean; noHeaders?: boolean }): string {
  const cols = ((table.columnDefinitions ?? []) as unknown as Column[]).map((c, i) => ({ ...c, i })).filter((c) => opts.wide || (c.priority ?? 0) === 0);
  const rows = (table.rows ?? []) as unknown as { cells: unknown[]; object?: { metadata?: { namespace?: string } } }[];
  const header = [...(opts.withNamespace ? ['NAMESPACE'] : []), ...cols.map((c) => c.name.toUpperCase())];
  const lines: string[][] = rows.map((r) => [
    ...(opts.withNamespace ? [r.object?.metadata?.namespace ?? ''] : []),
    ...cols.map((c) => {
      const v = r.cells[c.i];
      return v === undefined || v === null ? '<none>' : typeof v === 'string' ? v : JSON.stringify(v);
    }),
  ]);
  const all = opts.noHeaders ? lines : [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => (l[i] ?? '').length)));
  return all.map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n');
}

/** The object as users want to read it: without managedFields (as kubectl hides them). */
export function forDisplay(o: JsonObject): JsonObject {
  const meta = { ...(o.metadata as JsonObject) };
  delete meta.managedFields;
  return { ...o, metadata: meta };
}

export function toYaml(o: unknown): string {
  return stringify(o, { lineWidth: 0 }).trimEnd();
}

/** `networkpolicy.projectcalico.org/allow-web`, as `kubectl get -o name` prints. */
export function qualifiedName(type: ResourceType, name: string): string {
  return `${type.singular}${type.group === '' ? '' : `.${type.group}`}/${name}`;
}

export function asList(items: JsonObject[]): JsonObject {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

export function kindLabel(type: ResourceType): string {
  return `${type.singular}${type.group === '' ? '' : `.${type.group}`}`;
}

export { apiVersionOf };

/** A unified diff of two texts (line-based LCS), `---`/`+++` headers included; '' when equal. */
export function unifiedDiff(a: string, b: string, fromName: string, toName: string): string {
  const x = a === '' ? [] : a.split('\n');
  const y = b === '' ? [] : b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) (lcs[i] as number[])[j] = x[i] === y[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
  const ops: { t: ' ' | '-' | '+'; s: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ t: ' ', s: x[i] as string });
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      ops.push({ t: '-', s: x[i] as string });
      i++;
    } else {
      ops.push({ t: '+', s: y[j] as string });
      j++;
    }
  }
  if (ops.every((o) => o.t === ' ')) return '';
  // Hunks with three lines of context.
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  const changed = ops.map((o, k) => (o.t !== ' ' ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, (changed[k] as number) - 3);
    let end = Math.min(ops.length, (changed[k] as number) + 4);
    while (k + 1 < changed.length && (changed[k + 1] as number) - 3 <= end) {
      k++;
      end = Math.min(ops.length, (changed[k] as number) + 4);
    }
    const before = ops.slice(0, start);
    const aStart = before.filter((o) => o.t !== '+').length + 1;
    const bStart = before.filter((o) => o.t !== '-').length + 1;
    const hunk = ops.slice(start, end);
    out.push(`@@ -${aStart},${hunk.filter((o) => o.t !== '+').length} +${bStart},${hunk.filter((o) => o.t !== '-').length} @@`);
    for (const o of hunk) out.push(`${o.t}${o.s}`);
    k++;
  }
  return out.join('\n');
}
