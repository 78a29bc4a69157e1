// The graph bench page (bench.html): lays out and renders a synthetic cluster graph of N workloads
// with one renderer and reports the times (read by bench/console-graph.ts through window.__bench).
// ?n=5000&renderer=sigma|cytoscape|sigma-fa2
import Graph from 'graphology';
import Sigma from 'sigma';
import { EDGE_COLORS, edgeState, layoutGraph, syntheticGraph } from './lib/graph-model.js';

interface BenchResult { n: number; edges: number; renderer: string; layoutMs: number; renderMs: number; frameMs: number; error?: string }
declare global {
  interface Window { __bench?: BenchResult }
}

const params = new URLSearchParams(window.location.search);
const n = Number(params.get('n') ?? '500');
const renderer = params.get('renderer') ?? 'sigma';
const stage = document.getElementById('stage') as HTMLDivElement;

/** Waits for WebGL to finish drawing (reading one pixel back blocks until it has). */
function flush(canvases: Record<string, HTMLCanvasElement>): void {
  for (const c of Object.values(canvases)) {
    const gl = (c.getContext('webgl2') ?? c.getContext('webgl')) as WebGLRenderingContext | null;
    if (gl !== null) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  }
}

async function run(): Promise<BenchResult> {
  const data = syntheticGraph(n);
  const t0 = performance.now();
  let positions: Map<string, { x: number; y: number }>;
  if (renderer === 'sigma-fa2') {
    // The alternative: a force-directed layout (ForceAtlas2, 50 iterations) from the grouped start.
    const { default: forceAtlas2 } = await import('graphology-layout-forceatlas2');
    const start = layoutGraph(data.nodes);
    const g = new Graph();
    for (const p of start.nodes) g.addNode(p.id, { x: p.x, y: p.y });
    for (const e of data.edges) if (!g.hasEdge(e.source, e.target)) g.addEdge(e.source, e.target);
    forceAtlas2.assign(g, { iterations: 50, settings: forceAtlas2.inferSettings(g) });
    positions = new Map(g.mapNodes((id, a) => [id, { x: a.x as number, y: a.y as number }]));
  } else {
    positions = new Map(layoutGraph(data.nodes).nodes.map((p) => [p.id, { x: p.x, y: p.y }]));
  }
  const layoutMs = performance.now() - t0;
  const t1 = performance.now();
  if (renderer === 'cytoscape') {
    const { default: cytoscape } = await import('cytoscape');
    const cy = cytoscape({
      container: stage,
      elements: [
        ...data.nodes.map((nd) => ({ data: { id: nd.id }, position: positions.get(nd.id) ?? { x: 0, y: 0 } })),
        ...data.edges.map((e) => ({ data: { id: e.id, source: e.source, target: e.target, color: EDGE_COLORS[edgeState(e)] } })),
      ],
      layout: { name: 'preset' },
      style: [
        { selector: 'node', style: { width: 4, height: 4, 'background-color': '#0b5cad' } },
        { selector: 'edge', style: { width: 1, 'line-color': 'data(color)', 'curve-style': 'haystack' } },
      ],
    });
    cy.fit();
    // Cytoscape draws on animation frames; forceRender draws now, so the time is the drawing's.
    (cy as unknown as { forceRender(): void }).forceRender();
    const renderMs = performance.now() - t1;
    const f0 = performance.now();
    cy.zoom(cy.zoom() * 1.2);
    (cy as unknown as { forceRender(): void }).forceRender();
    return { n, edges: data.edges.length, renderer, layoutMs, renderMs, frameMs: performance.now() - f0 };
  }
  const g = new Graph({ type: 'directed' });
  for (const nd of data.nodes) {
    const p = positions.get(nd.id) ?? { x: 0, y: 0 };
    g.addNode(nd.id, { x: p.x, y: -p.y, size: 2, color: '#0b5cad', label: nd.name });
  }
  for (const e of data.edges) if (!g.hasEdge(e.id)) g.addDirectedEdgeWithKey(e.id, e.source, e.target, { size: 0.5, color: EDGE_COLORS[edgeState(e)] });
  // The constructor indexes the graph and draws synchronously.
  const sigma = new Sigma(g, stage, { renderEdgeLabels: false, labelRenderedSizeThreshold: 6, defaultEdgeType: 'line' });
  flush(sigma.getCanvases());
  const renderMs = performance.now() - t1;
  const f0 = performance.now();
  sigma.getCamera().setState({ ratio: 0.8 });
  sigma.refresh({ skipIndexation: true });
  flush(sigma.getCanvases());
  return { n, edges: data.edges.length, renderer, layoutMs, renderMs, frameMs: performance.now() - f0 };
}

run().then(
  (r) => (window.__bench = r),
  (err: unknown) => (window.__bench = { n, edges: 0, renderer, layoutMs: 0, renderMs: 0, frameMs: 0, error: err instanceof Error ? err.message : String(err) }),
);
