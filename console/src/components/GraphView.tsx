// Draws a laid-out service graph with sigma (WebGL; chosen by measurement, see console/DESIGN.md)
// over a 2D canvas of namespace discs. Updates in place: nodes and edges are added, changed and
// dropped by id, so polling does not rebuild the scene or move the camera.
import { useEffect, useRef } from 'react';
import Graph from 'graphology';
import Sigma from 'sigma';
import { EDGE_COLORS, edgeState, edgeWidth, isExternal, type FlowGraph, type Layout } from '../lib/graph-model.js';

export interface GraphViewProps {
  readonly graph: FlowGraph;
  readonly layout: Layout;
  /** Edge id → preview state (impact preview: now denied). */
  readonly preview?: ReadonlyMap<string, { nowDenied: number; nowAllowed: number }>;
  readonly selected?: string;
  readonly onSelectNode: (id: string) => void;
  readonly onSelectEdge: (id: string) => void;
}

const NODE_COLORS = { wep: '#0b5cad', external: '#8250df', selected: '#f59e0b' };

export function GraphView({ graph, layout, preview, selected, onSelectNode, onSelectEdge }: GraphViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const groupsCanvas = useRef<HTMLCanvasElement>(null);
  const state = useRef<{ g: Graph; sigma: Sigma } | undefined>(undefined);
  const handlers = useRef({ onSelectNode, onSelectEdge });
  handlers.current = { onSelectNode, onSelectEdge };
  const layoutRef = useRef(layout);
  layoutRef.current = layout;

  useEffect(() => {
    if (host.current === null) return;
    const g = new Graph({ type: 'directed', multi: false });
    const sigma = new Sigma(g, host.current, {
      renderEdgeLabels: false,
      defaultEdgeType: 'arrow',
      labelRenderedSizeThreshold: 6,
      labelDensity: 1.5,
      labelGridCellSize: 60,
      enableEdgeEvents: true,
      zIndex: true,
      labelFont: 'system-ui, sans-serif',
      // The host can be mounted before layout gives it a width (a page switch); sigma draws once
      // it is resized instead of throwing.
      allowInvalidContainer: true,
    });
    sigma.on('clickNode', ({ node }) => handlers.current.onSelectNode(node));
    sigma.on('clickEdge', ({ edge }) => handlers.current.onSelectEdge(edge));
    const drawGroups = () => {
      const c = groupsCanvas.current;
      if (c === null) return;
      const { width, height } = c.getBoundingClientRect();
      c.width = width;
      c.height = height;
      const ctx = c.getContext('2d');
      if (ctx === null) return;
      ctx.clearRect(0, 0, width, height);
      for (const grp of layoutRef.current.groups) {
        const center = sigma.graphToViewport({ x: grp.x, y: -grp.y });
        const edge = sigma.graphToViewport({ x: grp.x + grp.r, y: -grp.y });
        const r = Math.hypot(edge.x - center.x, edge.y - center.y);
        ctx.beginPath();
        ctx.arc(center.x, center.y, r, 0, Math.PI * 2);
        ctx.fillStyle = grp.name === '(external)' ? 'rgba(130,80,223,0.06)' : 'rgba(11,92,173,0.06)';
        ctx.fill();
        ctx.strokeStyle = 'rgba(87,96,106,0.35)';
        ctx.stroke();
        if (r > 24) {
          ctx.fillStyle = '#57606a';
          ctx.font = '12px system-ui, sans-serif';
          ctx.textAlign = 'center';
          ctx.fillText(grp.name, center.x, Math.max(14, center.y - r - 4));
        }
      }
    };
    sigma.on('afterRender', drawGroups);
    state.current = { g, sigma };
    return () => {
      sigma.kill();
      state.current = undefined;
    };
  }, []);

  useEffect(() => {
    const s = state.current;
    if (s === undefined) return;
    const { g } = s;
    const pos = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const id of g.nodes()) if (!pos.has(id)) g.dropNode(id);
    const big = layout.nodes.length > 2000;
    for (const n of layout.nodes) {
      const attrs = {
        x: n.x,
        y: -n.y,
        size: big ? 2 : isExternal(n) ? 9 : 7,
        label: n.name,
        color: n.id === selected ? NODE_COLORS.selected : isExternal(n) ? NODE_COLORS.external : NODE_COLORS.wep,
        zIndex: n.id === selected ? 2 : 1,
      };
      if (g.hasNode(n.id)) g.mergeNodeAttributes(n.id, attrs);
      else g.addNode(n.id, attrs);
    }
    const edgeIds = new Set(graph.edges.map((e) => e.id));
    for (const id of g.edges()) if (!edgeIds.has(id)) g.dropEdge(id);
    for (const e of graph.edges) {
      if (!g.hasNode(e.source) || !g.hasNode(e.target) || e.source === e.target) continue;
      const p = preview?.get(e.id);
      const color = p !== undefined && p.nowDenied > 0 ? EDGE_COLORS.preview : e.id === selected ? NODE_COLORS.selected : EDGE_COLORS[edgeState(e)];
      const attrs = { size: big ? 0.5 : edgeWidth(e), color, zIndex: e.id === selected ? 2 : edgeState(e) === 'allowed' ? 0 : 1 };
      if (g.hasEdge(e.id)) g.mergeEdgeAttributes(e.id, attrs);
      else g.addDirectedEdgeWithKey(e.id, e.source, e.target, attrs);
    }
  }, [graph, layout, preview, selected]);

  return (
    <div className="graph-stage" role="img" aria-label={`Service graph: ${layout.nodes.length} workloads in ${layout.groups.length} groups, ${graph.edges.length} edges. The tables beside it list the same data.`}>
      <canvas className="groups" ref={groupsCanvas} />
      <div className="sigma-host" ref={host} />
    </div>
  );
}
