// Top talkers and the service graph, built from rows that are already summed per (source
// endpoint, dest endpoint, action, proto, port, trace): the memory store feeds one row per log,
// the SQLite store one per SQL group. Both answer the same, so the contract tests hold for both.
import type { FlowAction, FlowEndpoint, FlowGraph, FlowGraphEdge, FlowGraphNode, FlowTopBy, FlowTopGroup, FlowTopItem, PolicyHit } from './types.js';
import { workloadId, workloadOf } from './query.js';

export interface AggregateRow {
  readonly reporter: 'src' | 'dst';
  readonly source: FlowEndpoint;
  readonly dest: FlowEndpoint;
  readonly action: FlowAction;
  readonly proto: string;
  readonly port: number;
  readonly policies: readonly PolicyHit[];
  readonly packets: number;
  readonly bytes: number;
  readonly numFlows: number;
}

interface TopAcc {
  source?: FlowTopItem['source'];
  dest?: FlowTopItem['dest'];
  packets: number;
  bytes: number;
  numFlows: number;
  denied: number;
}

/**
 * Each connection between two pods is reported twice, once by each node (`src` and `dst`
 * halves). Totals count it once: the destination's half when there is one — it also carries the
 * final verdict (allowed at the source, denied at the destination is denied) — else the
 * source's (denied on egress, or a destination outside the cluster). A query that fixes the
 * reporter sees exactly the halves it asked for.
 */
export function countsOnce(r: Pick<AggregateRow, 'reporter' | 'action' | 'dest'>, bothHalves: boolean): boolean {
  return bothHalves || r.reporter === 'dst' || r.action === 'deny' || r.dest.type !== 'wep';
}

const metric = (by: FlowTopBy, i: TopAcc): number => (by === 'bytes' ? i.bytes : by === 'packets' ? i.packets : by === 'flows' ? i.numFlows : i.denied);

export class TopBuilder {
  private readonly groups = new Map<string, TopAcc>();
  constructor(
    private readonly group: FlowTopGroup,
    private readonly bothHalves = false,
  ) {}

  add(r: AggregateRow): void {
    if (!countsOnce(r, this.bothHalves)) return;
    const src = this.group === 'dest' ? undefined : workloadOf(r.source);
    const dst = this.group === 'source' ? undefined : workloadOf(r.dest);
    const key = `${src === undefined ? '' : workloadId(src)}>${dst === undefined ? '' : workloadId(dst)}`;
    let acc = this.groups.get(key);
    if (acc === undefined) {
      acc = { ...(src !== undefined ? { source: src } : {}), ...(dst !== undefined ? { dest: dst } : {}), packets: 0, bytes: 0, numFlows: 0, denied: 0 };
      this.groups.set(key, acc);
    }
    acc.packets += r.packets;
    acc.bytes += r.bytes;
    acc.numFlows += r.numFlows;
    if (r.action === 'deny') acc.denied += r.numFlows;
  }

  /** Biggest first; ties by key so the answer is deterministic. `denied` lists only groups with denials. */
  result(by: FlowTopBy, limit: number): FlowTopItem[] {
    const entries = [...this.groups.entries()].filter(([, a]) => by !== 'denied' || a.denied > 0);
    entries.sort(([ka, a], [kb, b]) => metric(by, b) - metric(by, a) || (ka < kb ? -1 : ka > kb ? 1 : 0));
    return entries.slice(0, limit).map(([, a]) => ({ ...a }));
  }
}

interface NodeAcc {
  node: Omit<FlowGraphNode, 'labels'>;
  labels: Record<string, string> | undefined;
}

interface EdgeAcc {
  source: string;
  target: string;
  allowed: number;
  denied: number;
  bytes: number;
  packets: number;
  ports: Set<string>;
  policies: Set<string>;
}

export class GraphBuilder {
  private readonly nodes = new Map<string, NodeAcc>();
  private readonly edges = new Map<string, EdgeAcc>();

  constructor(private readonly bothHalves = false) {}

  private node(e: FlowEndpoint): string {
    const w = workloadOf(e);
    const id = workloadId(w);
    let acc = this.nodes.get(id);
    if (acc === undefined) {
      acc = { node: { id, type: w.type, namespace: w.namespace, name: w.nameAggr }, labels: undefined };
      this.nodes.set(id, acc);
    }
    // A workload's labels are what all its seen endpoints share.
    if (acc.labels === undefined) acc.labels = { ...e.labels };
    else for (const [k, v] of Object.entries(acc.labels)) if (e.labels[k] !== v) delete acc.labels[k];
    return id;
  }

  add(r: AggregateRow): void {
    if (!countsOnce(r, this.bothHalves)) {
      // The other half is counted; its endpoints still belong on the graph.
      this.node(r.source);
      this.node(r.dest);
      return;
    }
    const source = this.node(r.source);
    const target = this.node(r.dest);
    const id = `${source}>${target}`;
    let acc = this.edges.get(id);
    if (acc === undefined) {
      acc = { source, target, allowed: 0, denied: 0, bytes: 0, packets: 0, ports: new Set(), policies: new Set() };
      this.edges.set(id, acc);
    }
    if (r.action === 'deny') acc.denied += r.numFlows;
    else acc.allowed += r.numFlows;
    acc.bytes += r.bytes;
    acc.packets += r.packets;
    acc.ports.add(`${r.proto}/${r.port}`);
    for (const p of r.policies) acc.policies.add(p);
  }

  result(): FlowGraph {
    const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const nodes: FlowGraphNode[] = [...this.nodes.values()].map((n) => ({ ...n.node, labels: n.labels ?? {} })).sort(byId);
    const edges: FlowGraphEdge[] = [...this.edges.entries()]
      .map(([id, e]) => ({ id, source: e.source, target: e.target, allowed: e.allowed, denied: e.denied, bytes: e.bytes, packets: e.packets, ports: [...e.ports].sort(), policies: [...e.policies].sort() }))
      .sort(byId);
    return { nodes, edges };
  }
}
