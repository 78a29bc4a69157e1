// Recorded mode's flow store: the demo's recorded flows in memory, answering the read half of the
// flows API contract (docs/flows.md: list, view=graph, view=top) until — or where — the real flow
// store is not mounted. Kept deliberately small: filters are linear scans over a few thousand logs.
import type { FlowEndpoint, FlowLog } from '../flows/index.js';
import { parseSelector, type Selector } from '../selector/index.js';

export type StoredFlow = FlowLog & { readonly id: number };

export class FlowQueryError extends Error {
  constructor(readonly parameter: string, reason: string) {
    super(`invalid ${parameter}: ${reason}`);
  }
}

type Params = Record<string, string | undefined>;

function time(p: Params, key: string, fallback: number): number {
  const v = p[key];
  if (v === undefined || v === '') return fallback;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new FlowQueryError(key, `expected an RFC 3339 time or unix milliseconds, got ${JSON.stringify(v)}`);
  return t;
}

function selector(p: Params, key: string): Selector | undefined {
  const v = p[key];
  if (v === undefined || v === '') return undefined;
  try {
    return parseSelector(v);
  } catch (err) {
    throw new FlowQueryError(key, err instanceof Error ? err.message : String(err));
  }
}

function int(p: Params, key: string, min: number, max: number): number | undefined {
  const v = p[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new FlowQueryError(key, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

const nameMatches = (e: FlowEndpoint, name: string): boolean => e.name === name || e.nameAggr === name;
const hitName = (hit: string): string => hit.split('|')[2] ?? '';

/** A predicate over logs from the filter parameters of docs/flows.md. */
export function flowFilter(p: Params, now: number, pathNamespace?: string): (f: FlowLog) => boolean {
  const from = time(p, 'from', now - 3_600_000);
  const to = time(p, 'to', now);
  const sel = selector(p, 'selector');
  const srcSel = selector(p, 'srcSelector');
  const dstSel = selector(p, 'dstSelector');
  const port = int(p, 'port', 0, 65535);
  for (const [key, allowed] of [['action', ['allow', 'deny']], ['pendingAction', ['allow', 'deny']], ['reporter', ['src', 'dst']]] as const) {
    const v = p[key];
    if (v !== undefined && v !== '' && !(allowed as readonly string[]).includes(v)) throw new FlowQueryError(key, `expected ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  }
  const eq = (key: string, value: string): boolean => p[key] === undefined || p[key] === '' || p[key] === value;
  const ns = p.namespace;
  const pod = p.pod;
  const policy = p.policy;
  return (f) => {
    if (f.endTime <= from || f.startTime >= to) return false;
    if (pathNamespace !== undefined && f.source.namespace !== pathNamespace && f.dest.namespace !== pathNamespace) return false;
    if (ns !== undefined && ns !== '' && f.source.namespace !== ns && f.dest.namespace !== ns) return false;
    if (!eq('srcNamespace', f.source.namespace) || !eq('dstNamespace', f.dest.namespace)) return false;
    if (pod !== undefined && pod !== '') {
      const [a, b] = pod.includes('/') ? pod.split('/') : [undefined, pod];
      const is = (e: FlowEndpoint): boolean => e.name === b && (a === undefined || e.namespace === a);
      if (!is(f.source) && !is(f.dest)) return false;
    }
    if (p.srcName !== undefined && p.srcName !== '' && !nameMatches(f.source, p.srcName)) return false;
    if (p.dstName !== undefined && p.dstName !== '' && !nameMatches(f.dest, p.dstName)) return false;
    if (sel !== undefined && !sel.matches(f.source.labels) && !sel.matches(f.dest.labels)) return false;
    if (srcSel !== undefined && !srcSel.matches(f.source.labels)) return false;
    if (dstSel !== undefined && !dstSel.matches(f.dest.labels)) return false;
    if (!eq('action', f.action) || !eq('tier', f.tier) || !eq('proto', f.proto) || !eq('reporter', f.reporter) || !eq('host', f.host)) return false;
    if (p.pendingAction !== undefined && p.pendingAction !== '' && f.pendingAction !== p.pendingAction) return false;
    if (port !== undefined && f.dest.port !== port) return false;
    if (policy !== undefined && policy !== '') {
      const bare = policy.includes('/') ? policy.split('/').pop() : policy;
      const names = [f.policy, ...f.policies.map(hitName)];
      if (!names.some((n) => n === policy || n === bare || n.endsWith(`/${policy}`))) return false;
    }
    return true;
  };
}

/** One connection counts once: its destination's half when there is one, else its source's. */
export const countsForGraph = (f: FlowLog): boolean => f.reporter === 'dst' || f.action === 'deny' || f.dest.type !== 'wep';

export const graphNodeId = (e: FlowEndpoint): string => `${e.type}/${e.namespace}/${e.nameAggr}`;

export interface FlowGraphNode { id: string; type: string; namespace: string; name: string; labels: Record<string, string> }
export interface FlowGraphEdge { id: string; source: string; target: string; allowed: number; denied: number; bytes: number; packets: number; ports: string[]; policies: string[] }

/** The service graph over logs at workload level (docs/flows.md `view=graph`). */
export function flowGraph(logs: readonly FlowLog[]): { nodes: FlowGraphNode[]; edges: FlowGraphEdge[] } {
  const nodes = new Map<string, FlowGraphNode>();
  const edges = new Map<string, FlowGraphEdge & { portSet: Set<string>; policySet: Set<string> }>();
  const node = (e: FlowEndpoint): string => {
    const id = graphNodeId(e);
    if (!nodes.has(id)) nodes.set(id, { id, type: e.type, namespace: e.namespace, name: e.nameAggr, labels: { ...e.labels } });
    return id;
  };
  for (const f of logs) {
    const source = node(f.source);
    const target = node(f.dest);
    const id = `${source}>${target}`;
    let edge = edges.get(id);
    if (edge === undefined) {
      edge = { id, source, target, allowed: 0, denied: 0, bytes: 0, packets: 0, ports: [], policies: [], portSet: new Set(), policySet: new Set() };
      edges.set(id, edge);
    }
    for (const h of f.policies) edge.policySet.add(h);
    if (!countsForGraph(f)) continue;
    if (f.action === 'allow') edge.allowed += f.numFlows;
    else edge.denied += f.numFlows;
    edge.bytes += f.bytesIn + f.bytesOut;
    edge.packets += f.packetsIn + f.packetsOut;
    edge.portSet.add(`${f.proto}/${f.dest.port}`);
  }
  return {
    nodes: [...nodes.values()],
    edges: [...edges.values()].map(({ portSet, policySet, ...e }) => ({ ...e, ports: [...portSet].sort(), policies: [...policySet].sort() })),
  };
}

export interface TopItem { source: { type: string; namespace: string; nameAggr: string }; dest: { type: string; namespace: string; nameAggr: string }; packets: number; bytes: number; numFlows: number; denied: number }

export function flowTop(logs: readonly FlowLog[], by: string, group: string, limit: number): TopItem[] {
  const items = new Map<string, TopItem>();
  const side = (e: FlowEndpoint) => ({ type: e.type, namespace: e.namespace, nameAggr: e.nameAggr });
  const none = { type: '-', namespace: '-', nameAggr: '-' };
  for (const f of logs.filter(countsForGraph)) {
    const source = group === 'dest' ? none : side(f.source);
    const dest = group === 'source' ? none : side(f.dest);
    const key = `${JSON.stringify(source)}>${JSON.stringify(dest)}`;
    const item = items.get(key) ?? { source, dest, packets: 0, bytes: 0, numFlows: 0, denied: 0 };
    item.packets += f.packetsIn + f.packetsOut;
    item.bytes += f.bytesIn + f.bytesOut;
    item.numFlows += f.numFlows;
    if (f.action === 'deny') item.denied += f.numFlows;
    items.set(key, item);
  }
  const key = by === 'packets' ? 'packets' : by === 'flows' ? 'numFlows' : by === 'denied' ? 'denied' : 'bytes';
  return [...items.values()].sort((a, b) => b[key] - a[key]).slice(0, limit);
}

/** The recorded flows, newest last, with ids in arrival order. */
export class FlowReplayStore {
  private readonly logs: StoredFlow[] = [];
  private nextId = 1;

  append(logs: readonly FlowLog[]): void {
    for (const l of logs) this.logs.push({ ...l, id: this.nextId++ });
  }

  get size(): number {
    return this.logs.length;
  }

  /** Drops logs that ended before `before` (the replay's retention). */
  prune(before: number): void {
    let n = 0;
    while (n < this.logs.length && (this.logs[n]?.endTime ?? Infinity) < before) n++;
    if (n > 0) this.logs.splice(0, n);
  }

  /** The answer to `GET …flowlogs` with these query parameters. */
  query(p: Params, now: number, pathNamespace?: string): unknown {
    const matches = flowFilter(p, now, pathNamespace);
    const view = p.view;
    if (view === 'graph') {
      return { apiVersion: 'flows.margay.io/v1', kind: 'FlowGraph', ...flowGraph(this.logs.filter(matches)) };
    }
    if (view === 'top') {
      const by = p.by ?? 'bytes';
      const group = p.group ?? 'pair';
      if (!['bytes', 'packets', 'flows', 'denied'].includes(by)) throw new FlowQueryError('by', `expected bytes, packets, flows or denied, got ${JSON.stringify(by)}`);
      if (!['pair', 'source', 'dest'].includes(group)) throw new FlowQueryError('group', `expected pair, source or dest, got ${JSON.stringify(group)}`);
      return { apiVersion: 'flows.margay.io/v1', kind: 'FlowTopList', items: flowTop(this.logs.filter(matches), by, group, int(p, 'limit', 1, 10000) ?? 10) };
    }
    if (view !== undefined && view !== '') throw new FlowQueryError('view', `expected graph or top, got ${JSON.stringify(view)}`);
    const limit = int(p, 'limit', 1, 10000) ?? 1000;
    const afterId = int(p, 'afterId', 0, Number.MAX_SAFE_INTEGER);
    const offset = int(p, 'continue', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    let items: StoredFlow[];
    if (afterId !== undefined) items = this.logs.filter((l) => l.id > afterId && matches(l));
    else items = this.logs.filter(matches).reverse();
    const page = items.slice(offset, offset + limit);
    const lastId = this.logs[this.logs.length - 1]?.id ?? 0;
    return {
      apiVersion: 'flows.margay.io/v1',
      kind: 'FlowLogList',
      metadata: { lastId, ...(offset + limit < items.length ? { continue: String(offset + limit) } : {}) },
      items: page,
    };
  }
}
