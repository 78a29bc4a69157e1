// The service graph's model, apart from the component that draws it: the API's FlowGraph grouped
// by namespace, a stable layout (namespaces as discs packed in rows, workloads on a sunflower
// spiral inside their disc), and the styling inputs. O(n log n) in nodes; a node keeps its place
// while the graph updates as long as its namespace's membership does not change.

export interface FlowGraphNode { id: string; type: string; namespace: string; name: string; labels: Record<string, string> }
export interface FlowGraphEdge { id: string; source: string; target: string; allowed: number; denied: number; bytes: number; packets: number; ports: string[]; policies: string[] }
export interface FlowGraph { nodes: FlowGraphNode[]; edges: FlowGraphEdge[] }

/** Where external endpoints (network sets, plain networks) are grouped. */
export const EXTERNAL_GROUP = '(external)';

export const groupOf = (n: Pick<FlowGraphNode, 'type' | 'namespace'>): string => (n.type === 'wep' || n.type === 'hep' ? n.namespace : n.namespace !== '-' && n.namespace !== '' ? n.namespace : EXTERNAL_GROUP);

export const isExternal = (n: Pick<FlowGraphNode, 'type'>): boolean => n.type === 'ns' || n.type === 'net';

export interface PlacedNode extends FlowGraphNode {
  readonly x: number;
  readonly y: number;
  readonly group: string;
}

export interface Group {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly r: number;
  readonly count: number;
}

export interface Layout {
  readonly nodes: PlacedNode[];
  readonly groups: Group[];
  readonly width: number;
  readonly height: number;
}

const SPACING = 10;
const GOLDEN = Math.PI * (3 - Math.sqrt(5));

/** Groups first by size (big namespaces first, external last), then by name, so placement is stable. */
export function layoutGraph(nodes: readonly FlowGraphNode[]): Layout {
  const byGroup = new Map<string, FlowGraphNode[]>();
  for (const n of nodes) {
    const g = groupOf(n);
    const list = byGroup.get(g);
    if (list === undefined) byGroup.set(g, [n]);
    else list.push(n);
  }
  const names = [...byGroup.keys()].sort((a, b) => Number(a === EXTERNAL_GROUP) - Number(b === EXTERNAL_GROUP) || a.localeCompare(b));
  const radius = (count: number): number => SPACING * (Math.sqrt(count) + 1.5);
  const totalArea = names.reduce((s, g) => s + (2 * radius(byGroup.get(g)?.length ?? 0)) ** 2, 0);
  const rowWidth = Math.max(Math.sqrt(totalArea) * 1.3, 1);
  const groups: Group[] = [];
  const placed: PlacedNode[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = 0;
  for (const name of names) {
    const members = (byGroup.get(name) ?? []).slice().sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const r = radius(members.length);
    if (x > 0 && x + 2 * r > rowWidth) {
      y += rowHeight + SPACING * 2;
      x = 0;
      rowHeight = 0;
    }
    const cx = x + r;
    const cy = y + r;
    groups.push({ name, x: cx, y: cy, r, count: members.length });
    members.forEach((n, i) => {
      // Vogel's sunflower: even density, and node i's place does not depend on how many follow it.
      const d = SPACING * Math.sqrt(i + 0.5);
      const a = i * GOLDEN;
      placed.push({ ...n, group: name, x: cx + d * Math.cos(a), y: cy + d * Math.sin(a) });
    });
    x += 2 * r + SPACING * 2;
    rowHeight = Math.max(rowHeight, 2 * r);
    width = Math.max(width, x);
  }
  return { nodes: placed, groups, width, height: y + rowHeight };
}

export type EdgeState = 'allowed' | 'denied' | 'mixed';

export function edgeState(e: Pick<FlowGraphEdge, 'allowed' | 'denied'>): EdgeState {
  if (e.denied > 0 && e.allowed > 0) return 'mixed';
  return e.denied > 0 ? 'denied' : 'allowed';
}

export const EDGE_COLORS: Record<EdgeState | 'preview', string> = { allowed: '#2e7d32', denied: '#c62828', mixed: '#ef6c00', preview: '#6a1b9a' };

/** Line width grows with the log of the connection count, so one busy edge does not hide the rest. */
export const edgeWidth = (e: Pick<FlowGraphEdge, 'allowed' | 'denied'>): number => 1 + Math.log10(1 + e.allowed + e.denied);

export function edgeLabel(e: FlowGraphEdge): string {
  return `${e.ports.join(', ')} · ${e.allowed} allowed${e.denied > 0 ? ` · ${e.denied} denied` : ''}`;
}

/** Query parameters of the graph's filters (docs/flows.md). */
export interface GraphFilters {
  readonly namespace: string;
  readonly selector: string;
  readonly action: '' | 'allow' | 'deny';
  readonly policy: string;
  /** Window length in minutes back from now. */
  readonly windowMinutes: number;
}

export const DEFAULT_FILTERS: GraphFilters = { namespace: '', selector: '', action: '', policy: '', windowMinutes: 15 };

export function filterParams(f: GraphFilters, now: number): URLSearchParams {
  const p = new URLSearchParams();
  p.set('from', String(now - f.windowMinutes * 60_000));
  p.set('to', String(now));
  if (f.namespace !== '') p.set('namespace', f.namespace);
  if (f.selector.trim() !== '') p.set('selector', f.selector.trim());
  if (f.action !== '') p.set('action', f.action);
  if (f.policy.trim() !== '') p.set('policy', f.policy.trim());
  return p;
}

/** Neighbours of a node: the edges touching it, for the side panel. */
export function edgesOf(graph: FlowGraph, nodeId: string): FlowGraphEdge[] {
  return graph.edges.filter((e) => e.source === nodeId || e.target === nodeId);
}

/** The parts of a node id `type/namespace/nameAggr`. */
export function parseNodeId(id: string): { type: string; namespace: string; name: string } {
  const [type = '', namespace = '', ...rest] = id.split('/');
  return { type, namespace, name: rest.join('/') };
}

/** A synthetic cluster graph for benches and tests: `n` workloads in namespaces of ~50, ~2 edges each. */
export function syntheticGraph(n: number, seed = 1): FlowGraph {
  let s = seed;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const nodes: FlowGraphNode[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `ns-${Math.floor(i / 50)}`;
    nodes.push({ id: `wep/${ns}/app-${i}`, type: 'wep', namespace: ns, name: `app-${i}`, labels: { app: `app-${i}` } });
  }
  const edges: FlowGraphEdge[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < n * 2; i++) {
    const a = nodes[Math.floor(rand() * n)];
    // Mostly within the namespace, as real services are.
    const near = Math.floor(i / 2 / 50) * 50 + Math.floor(rand() * 50);
    const b = rand() < 0.8 ? nodes[Math.min(near, n - 1)] : nodes[Math.floor(rand() * n)];
    if (a === undefined || b === undefined || a === b) continue;
    const id = `${a.id}>${b.id}`;
    if (ids.has(id)) continue;
    ids.add(id);
    const denied = rand() < 0.1 ? Math.ceil(rand() * 10) : 0;
    edges.push({ id, source: a.id, target: b.id, allowed: denied > 0 ? 0 : Math.ceil(rand() * 100), denied, bytes: 0, packets: 0, ports: ['tcp/8080'], policies: [] });
  }
  return { nodes, edges };
}
