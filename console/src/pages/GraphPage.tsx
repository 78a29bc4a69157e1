// The service graph: the whole cluster's workloads grouped by namespace, edges with allowed and
// denied counts and ports, live by polling; filters; a node's or an edge's flows, the policies
// that apply and their traces; and the impact preview (observed flows under current policies).
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api.js';
import { GraphView } from '../components/GraphView.js';
import { Trace } from '../components/Trace.js';
import { changedEdges, clusterModel, impactOf, policiesForWorkload, verdictOf, type ClusterModel } from '../lib/cluster.js';
import { DEFAULT_FILTERS, edgeState, filterParams, layoutGraph, parseNodeId, type FlowGraph, type FlowGraphEdge, type GraphFilters } from '../lib/graph-model.js';
import { loadClusterObjects, loadFlows, loadGraph, type StoredFlow } from '../lib/load.js';
import { usePoll } from '../lib/use-poll.js';
import { navigate } from '../lib/nav.js';

const WINDOWS = [5, 15, 60, 360, 1440];

function filtersFrom(q: URLSearchParams): GraphFilters {
  const action = q.get('action');
  return {
    namespace: q.get('namespace') ?? DEFAULT_FILTERS.namespace,
    selector: q.get('selector') ?? '',
    action: action === 'allow' || action === 'deny' ? action : '',
    policy: q.get('policy') ?? '',
    windowMinutes: Number(q.get('window') ?? DEFAULT_FILTERS.windowMinutes) || DEFAULT_FILTERS.windowMinutes,
  };
}

function Filters({ value, namespaces, onChange }: { value: GraphFilters; namespaces: string[]; onChange: (f: GraphFilters) => void }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <form className="filters" aria-label="Graph filters" onSubmit={(e) => { e.preventDefault(); onChange(draft); }}>
      <label>Namespace
        <select value={draft.namespace} onChange={(e) => onChange({ ...draft, namespace: e.target.value })}>
          <option value="">all namespaces</option>
          {namespaces.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      </label>
      <label>Label selector
        <input value={draft.selector} placeholder='app == "cart"' onChange={(e) => setDraft({ ...draft, selector: e.target.value })} />
      </label>
      <label>Action
        <select value={draft.action} onChange={(e) => onChange({ ...draft, action: e.target.value as GraphFilters['action'] })}>
          <option value="">allowed and denied</option>
          <option value="allow">allowed</option>
          <option value="deny">denied</option>
        </select>
      </label>
      <label>Policy
        <input value={draft.policy} placeholder="security.restrict-database" onChange={(e) => setDraft({ ...draft, policy: e.target.value })} />
      </label>
      <label>Time window
        <select value={draft.windowMinutes} onChange={(e) => onChange({ ...draft, windowMinutes: Number(e.target.value) })}>
          {WINDOWS.map((w) => <option key={w} value={w}>last {w < 60 ? `${w} min` : `${w / 60} h`}</option>)}
        </select>
      </label>
      <button type="submit">Apply filters</button>
    </form>
  );
}

function flowParamsForEdge(e: FlowGraphEdge, f: GraphFilters): URLSearchParams {
  const p = filterParams({ ...f, namespace: '' }, Date.now());
  const s = parseNodeId(e.source);
  const t = parseNodeId(e.target);
  p.set('srcName', s.name);
  p.set('dstName', t.name);
  if (s.namespace !== '-') p.set('srcNamespace', s.namespace);
  if (t.namespace !== '-') p.set('dstNamespace', t.namespace);
  p.set('limit', '50');
  return p;
}

function EdgeDetail({ edge, filters, cluster, preview }: { edge: FlowGraphEdge; filters: GraphFilters; cluster: ClusterModel | undefined; preview: { nowDenied: number; nowAllowed: number; reasons: string[] } | undefined }) {
  const { data: flows, error } = usePoll((signal) => loadFlows(flowParamsForEdge(edge, filters), signal), [edge.id, filters], false, 0);
  const sample: StoredFlow | undefined = flows?.items.find((f) => f.reporter === 'dst') ?? flows?.items[0];
  const verdict = cluster !== undefined && sample !== undefined ? verdictOf(cluster.built, sample) : undefined;
  return (
    <section aria-label="Selected edge">
      <h2>{parseNodeId(edge.source).name} → {parseNodeId(edge.target).name}</h2>
      <p>
        <span className={`badge ${edgeState(edge) === 'allowed' ? 'allow' : 'deny'}`}>{edgeState(edge)}</span> {edge.allowed} allowed · {edge.denied} denied · ports {edge.ports.join(', ')}
      </p>
      {preview !== undefined && preview.nowDenied > 0 && (
        <p role="status"><span className="badge pending">impact</span> under current policies {preview.nowDenied} of these connections would be denied: {preview.reasons.join('; ')}</p>
      )}
      <h3>Policies hit</h3>
      <ul className="trace">{edge.policies.map((h) => <li key={h}><code>{h}</code></li>)}</ul>
      {verdict !== undefined && (
        <>
          <h3>Trace under current policies</h3>
          <Trace v={verdict} />
        </>
      )}
      <h3>Flows <span className="count">({flows?.items.length ?? '…'})</span></h3>
      {error !== undefined && <p className="error">{error.message}</p>}
      <table aria-label="Flows of the selected edge">
        <thead><tr><th>time</th><th>reporter</th><th>source</th><th>dest</th><th>action</th><th>policy</th><th className="num">flows</th></tr></thead>
        <tbody>
          {(flows?.items ?? []).slice(0, 50).map((f) => (
            <tr key={String(f.id)}>
              <td>{new Date(f.startTime).toLocaleTimeString()}</td>
              <td>{f.reporter}</td>
              <td>{f.source.name !== '-' ? f.source.name : f.source.nameAggr}</td>
              <td>{f.dest.name !== '-' ? f.dest.name : f.dest.nameAggr}:{f.dest.port}</td>
              <td><span className={`badge ${f.action}`}>{f.action}</span></td>
              <td>{f.policy}{f.ruleIndex >= 0 ? ` #${f.ruleIndex}` : ''}</td>
              <td className="num">{f.numFlows}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button className="link" onClick={() => navigate('flows', Object.fromEntries(flowParamsForEdge(edge, filters)))}>Open in Flows</button>
    </section>
  );
}

function NodeDetail({ id, graph, cluster, onSelectEdge }: { id: string; graph: FlowGraph; cluster: ClusterModel | undefined; onSelectEdge: (id: string) => void }) {
  const node = graph.nodes.find((n) => n.id === id);
  if (node === undefined) return <p>The selected workload has no flows in this window.</p>;
  const edges = graph.edges.filter((e) => e.source === id || e.target === id);
  const policies = cluster !== undefined && node.type === 'wep' ? policiesForWorkload(cluster.built, node.namespace, node.name) : [];
  return (
    <section aria-label="Selected workload">
      <h2>{node.name} <span className="count">{node.namespace !== '-' ? node.namespace : 'external'}</span></h2>
      <p>{Object.entries(node.labels).map(([k, v]) => <code key={k}>{k}={v} </code>)}</p>
      <h3>Policies that apply</h3>
      {policies.length === 0 ? <p className="hint">none (the namespace profile decides)</p> : (
        <ul className="trace">{policies.map((p) => <li key={p.id}><a href={`#/policies?policy=${encodeURIComponent(p.id)}`}>{p.name}</a> <span className="count">tier {p.tier}</span> {p.staged !== undefined && <span className="badge staged">staged</span>}</li>)}</ul>
      )}
      <h3>Edges</h3>
      <ul className="trace">
        {edges.map((e) => (
          <li key={e.id}><button className="link" onClick={() => onSelectEdge(e.id)}>{parseNodeId(e.source).name} → {parseNodeId(e.target).name}</button> <span className="count">{e.allowed} allowed, {e.denied} denied</span></li>
        ))}
      </ul>
    </section>
  );
}

export function GraphPage({ query }: { query: URLSearchParams }) {
  const filters = useMemo(() => filtersFrom(query), [query]);
  const [live, setLive] = useState(true);
  const [impact, setImpact] = useState(false);
  const [selected, setSelected] = useState<{ kind: 'node' | 'edge'; id: string }>();
  const setFilters = (f: GraphFilters) => {
    const q: Record<string, string> = { window: String(f.windowMinutes) };
    if (f.namespace !== '') q.namespace = f.namespace;
    if (f.selector !== '') q.selector = f.selector;
    if (f.action !== '') q.action = f.action;
    if (f.policy !== '') q.policy = f.policy;
    navigate('graph', q);
  };
  const { data: graph, error } = usePoll((signal) => loadGraph(filterParams(filters, Date.now()), signal), [filters], live, 5000);
  const { data: cluster } = usePoll(async () => clusterModel(await loadClusterObjects()), [], live, 15000);
  const { data: namespaces } = usePoll(async () => (await api<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces')).items.map((n) => n.metadata.name).sort(), [], false, 0);
  const { data: windowFlows } = usePoll((signal) => (impact ? loadFlows(new URLSearchParams({ ...Object.fromEntries(filterParams(filters, Date.now())), limit: '10000' }), signal) : Promise.resolve(undefined)), [filters, impact], live && impact, 15000);
  const preview = useMemo(() => (impact && cluster !== undefined && windowFlows !== undefined ? changedEdges(impactOf(cluster.built, windowFlows.items)) : undefined), [impact, cluster, windowFlows]);
  const layout = useMemo(() => layoutGraph(graph?.nodes ?? []), [graph]);
  const edges = useMemo(() => [...(graph?.edges ?? [])].sort((a, b) => Number((preview?.get(b.id)?.nowDenied ?? 0) > 0) - Number((preview?.get(a.id)?.nowDenied ?? 0) > 0) || b.denied - a.denied || b.allowed - a.allowed), [graph, preview]);
  const selectedEdge = selected?.kind === 'edge' ? graph?.edges.find((e) => e.id === selected.id) : undefined;
  const changed = preview !== undefined ? [...preview.values()].filter((p) => p.nowDenied > 0).length : 0;
  return (
    <>
      <h1>Service graph</h1>
      <Filters value={filters} namespaces={namespaces ?? []} onChange={setFilters} />
      <div className="row">
        <label><input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live (every 5 s)</label>
        <label><input type="checkbox" checked={impact} onChange={(e) => setImpact(e.target.checked)} /> Impact preview: evaluate these flows against the current policies</label>
        {preview !== undefined && <span role="status" className="count">{changed === 0 ? 'no edge changes under current policies' : `${changed} edge${changed === 1 ? '' : 's'} would now be denied`}</span>}
      </div>
      {error !== undefined && <p role="alert" className="error">{error.message}</p>}
      <div className="legend" aria-hidden="true"><span className="allow">allowed</span><span className="deny">denied</span><span className="mixed">some denied</span><span className="pending">denied under current policies (preview)</span></div>
      <div className="graph-layout">
        <div>
          {graph !== undefined && (
            <GraphView
              graph={graph}
              layout={layout}
              {...(preview !== undefined ? { preview } : {})}
              {...(selected !== undefined ? { selected: selected.id } : {})}
              onSelectNode={(id) => setSelected({ kind: 'node', id })}
              onSelectEdge={(id) => setSelected({ kind: 'edge', id })}
            />
          )}
          <p className="count">{graph === undefined ? 'Loading…' : `${graph.nodes.length} workloads · ${graph.edges.length} edges · ${layout.groups.length} groups`}</p>
          <div className="edges-table">
            <table aria-label="Edges">
              <thead><tr><th>source</th><th>destination</th><th>ports</th><th className="num">allowed</th><th className="num">denied</th><th>state</th></tr></thead>
              <tbody>
                {edges.slice(0, 500).map((e) => {
                  const p = preview?.get(e.id);
                  const s = parseNodeId(e.source);
                  const t = parseNodeId(e.target);
                  return (
                    <tr key={e.id} className={selected?.id === e.id ? 'selected' : undefined} data-edge={e.id}>
                      <td><button className="link" onClick={() => setSelected({ kind: 'node', id: e.source })}>{s.namespace !== '-' ? `${s.namespace}/` : ''}{s.name}</button></td>
                      <td><button className="link" onClick={() => setSelected({ kind: 'node', id: e.target })}>{t.namespace !== '-' ? `${t.namespace}/` : ''}{t.name}</button></td>
                      <td><button className="link" aria-label={`Flows from ${s.name} to ${t.name}`} onClick={() => setSelected({ kind: 'edge', id: e.id })}>{e.ports.join(', ')}</button></td>
                      <td className="num">{e.allowed}</td>
                      <td className="num">{e.denied}</td>
                      <td>
                        <span className={`badge ${edgeState(e) === 'allowed' ? 'allow' : 'deny'}`}>{edgeState(e)}</span>
                        {p !== undefined && p.nowDenied > 0 && <> <span className="badge pending" title={p.reasons.join('; ')}>now denied</span></>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </div>
        <aside className="panel" aria-label="Details">
          {selected === undefined && <p className="hint">Select a workload or an edge — in the graph or in the table — to see its flows, the policies that apply and their traces.</p>}
          {selected?.kind === 'node' && graph !== undefined && <NodeDetail id={selected.id} graph={graph} cluster={cluster} onSelectEdge={(id) => setSelected({ kind: 'edge', id })} />}
          {selectedEdge !== undefined && <EdgeDetail edge={selectedEdge} filters={filters} cluster={cluster} preview={preview?.get(selectedEdge.id)} />}
        </aside>
      </div>
    </>
  );
}
