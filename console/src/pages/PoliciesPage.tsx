// Policies: tiers in evaluation order with their policies in order, each readable, staged ones
// marked; the endpoints a policy selects; edit (or create) as YAML and apply, with the API's
// validation errors shown at their field; and the impact of an edit on the observed flows before
// applying it.
import { useEffect, useMemo, useState } from 'react';
import { parse, stringify } from 'yaml';
import { api, ApiError } from '../api.js';
import { changedEdges, clusterModel, impactOf, objectPath, policyBoard, selectedEndpoints, type ApiObject, type ClusterModel } from '../lib/cluster.js';
import { filterParams, DEFAULT_FILTERS, parseNodeId } from '../lib/graph-model.js';
import { loadClusterObjects, loadFlows } from '../lib/load.js';
import { navigate } from '../lib/nav.js';
import { readableRules } from '../lib/rules.js';
import { usePoll } from '../lib/use-poll.js';
import { lineOfField } from '../lib/yaml-fields.js';
import type { NormPolicy } from '../../../src/policy/index.js';

const NEW_POLICY = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: default.my-policy
spec:
  tier: default
  order: 100
  selector: app == "example"
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      destination:
        ports: [80]
`;

/** The object as a person edits it: no server-managed metadata. */
function editable(o: ApiObject): string {
  const meta: Record<string, unknown> = { ...(o.metadata ?? {}) };
  for (const k of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete meta[k];
  const copy: Record<string, unknown> = { ...o, metadata: meta };
  delete copy.status;
  return stringify(copy);
}

interface FieldError { field: string; message: string; line?: number }

function Editor({ initial, isNew, cluster, onApplied }: { initial: string; isNew: boolean; cluster: ClusterModel; onApplied: (name: string) => void }) {
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<string>();
  const [impact, setImpact] = useState<{ edge: string; nowDenied: number; nowAllowed: number; reasons: string[] }[]>();
  const parsed = (): ApiObject | undefined => {
    try {
      const o = parse(text) as unknown;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('expected one object (a mapping) with apiVersion, kind, metadata and spec');
      return o as ApiObject;
    } catch (err) {
      setErrors([{ field: '(yaml)', message: err instanceof Error ? err.message : String(err) }]);
      return undefined;
    }
  };
  const apply = async () => {
    setMessage(undefined);
    setErrors([]);
    const o = parsed();
    if (o === undefined) return;
    const path = objectPath(o);
    if (path === undefined) {
      setErrors([{ field: 'kind', message: `expected a policy kind the API serves, with metadata.name (got ${String(o.apiVersion)} ${String(o.kind)})`, line: lineOfField(text, 'kind') }]);
      return;
    }
    try {
      if (isNew) await api(path.slice(0, path.lastIndexOf('/')), { method: 'POST', body: o });
      else await api(path, { method: 'PUT', body: o });
      setMessage(`${String(o.kind)} ${String(o.metadata?.name)} ${isNew ? 'created' : 'applied'}.`);
      onApplied(String(o.metadata?.name));
    } catch (err) {
      if (err instanceof ApiError && err.causes.length > 0) {
        setErrors(err.causes.map((c) => ({ field: c.field ?? '', message: c.message ?? c.reason ?? '', ...(c.field !== undefined ? { line: lineOfField(text, c.field) } : {}) })));
      } else setErrors([{ field: '', message: err instanceof Error ? err.message : String(err) }]);
    }
  };
  const preview = async () => {
    setErrors([]);
    const o = parsed();
    if (o === undefined) return;
    const objects = await loadClusterObjects();
    const key = (x: ApiObject) => `${x.apiVersion}/${x.kind}/${x.metadata?.namespace ?? ''}/${x.metadata?.name}`;
    const edited = [...objects.filter((x) => key(x) !== key(o)), o];
    let model: ClusterModel;
    try {
      model = clusterModel(edited);
    } catch (err) {
      setErrors([{ field: '', message: err instanceof Error ? err.message : String(err) }]);
      return;
    }
    if (model.skipped.some((s) => s.includes(String(o.metadata?.name)))) {
      setErrors(model.skipped.filter((s) => s.includes(String(o.metadata?.name))).map((s) => ({ field: '', message: s })));
      return;
    }
    const flows = await loadFlows(new URLSearchParams({ ...Object.fromEntries(filterParams(DEFAULT_FILTERS, Date.now())), limit: '10000' }));
    const before = changedEdges(impactOf(cluster.built, flows.items));
    const after = changedEdges(impactOf(model.built, flows.items));
    // Only what this edit changes: edges whose preview differs from the current policies' preview.
    setImpact([...after].filter(([id, a]) => (before.get(id)?.nowDenied ?? 0) !== a.nowDenied || (before.get(id)?.nowAllowed ?? 0) !== a.nowAllowed).map(([edge, a]) => ({ edge, ...a })));
  };
  return (
    <section aria-label="Edit policy">
      <h3>{isNew ? 'New policy (YAML)' : 'Edit (YAML)'}</h3>
      <textarea className="yaml" aria-label="Policy YAML" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={errors.length > 0} aria-describedby={errors.length > 0 ? 'field-errors' : undefined} />
      {errors.length > 0 && (
        <div id="field-errors" className="field-errors" role="alert">
          <strong>Not applied:</strong>
          <ul>
            {errors.map((e, i) => (
              <li key={i}>{e.field !== '' && <code>{e.field}</code>}{e.line !== undefined && <> (line {e.line})</>}{e.field !== '' ? ': ' : ''}{e.message}</li>
            ))}
          </ul>
        </div>
      )}
      {message !== undefined && <p role="status">{message}</p>}
      <div className="row">
        <button onClick={() => void preview()}>Preview impact</button>
        <button className="primary" onClick={() => void apply()}>{isNew ? 'Create' : 'Apply'}</button>
      </div>
      {impact !== undefined && (
        <div role="status" aria-label="Impact preview">
          <h3>Impact on the last {DEFAULT_FILTERS.windowMinutes} min of flows</h3>
          {impact.length === 0 ? <p>No observed connection changes verdict.</p> : (
            <ul className="trace">{impact.map((i) => <li key={i.edge}>{parseNodeId(i.edge.split('>')[0] ?? '').name} → {parseNodeId(i.edge.split('>')[1] ?? '').name}: {i.nowDenied > 0 ? <span className="badge deny">{i.nowDenied} would be denied</span> : null} {i.nowAllowed > 0 ? <span className="badge allow">{i.nowAllowed} would be allowed</span> : null} <span className="count">{i.reasons.join('; ')}</span></li>)}</ul>
          )}
        </div>
      )}
    </section>
  );
}

function PolicyDetail({ policy, cluster, onApplied }: { policy: NormPolicy; cluster: ClusterModel; onApplied: () => void }) {
  const o = cluster.objectOf.get(policy.id);
  const rules = o !== undefined ? readableRules(o) : { ingress: [], egress: [] };
  const endpoints = selectedEndpoints(cluster.built, policy);
  const initial = useMemo(() => (o !== undefined ? editable(o) : ''), [o]);
  return (
    <section aria-label={`Policy ${policy.name}`}>
      <h2>{policy.name} {policy.staged !== undefined && <span className="badge staged">staged {policy.staged}</span>}</h2>
      <p className="count">{policy.origin.kind} · tier {policy.tier} · order {policy.order ?? '(none)'} · applies to <code>{policy.subject.selector.toString()}</code>{policy.namespace !== undefined ? ` in ${policy.namespace}` : ''}</p>
      {policy.types.ingress && (<><h3>Ingress</h3>{rules.ingress.length === 0 ? <p className="hint">no rules: all ingress denied</p> : <ol className="rules" start={0}>{rules.ingress.map((r, i) => <li key={i}>{r}</li>)}</ol>}</>)}
      {policy.types.egress && (<><h3>Egress</h3>{rules.egress.length === 0 ? <p className="hint">no rules: all egress denied</p> : <ol className="rules" start={0}>{rules.egress.map((r, i) => <li key={i}>{r}</li>)}</ol>}</>)}
      <h3>Selects {endpoints.length} endpoint{endpoints.length === 1 ? '' : 's'}</h3>
      <ul className="trace">{endpoints.slice(0, 100).map((e) => <li key={e.id}>{e.namespace !== undefined ? `${e.namespace}/` : ''}{e.name} <span className="count">{e.ips.map((ip) => ip.text).join(', ')}</span></li>)}</ul>
      <button className="link" onClick={() => navigate('graph', { policy: policy.name.split('/').pop() ?? policy.name })}>Show its flows in the graph</button>
      {o !== undefined && <Editor initial={initial} isNew={false} cluster={cluster} onApplied={onApplied} />}
    </section>
  );
}

export function PoliciesPage({ query }: { query: URLSearchParams }) {
  const { data: cluster, error, reload } = usePoll(async () => clusterModel(await loadClusterObjects()), [], false, 0);
  const selectedId = query.get('policy') ?? undefined;
  const [creating, setCreating] = useState(false);
  const board = useMemo(() => (cluster !== undefined ? policyBoard(cluster.built) : []), [cluster]);
  const selected = cluster?.built.snapshot.policies.find((p) => p.id === selectedId);
  return (
    <>
      <h1>Policies</h1>
      {error !== undefined && <p role="alert" className="error">{error.message}</p>}
      {cluster === undefined ? <p className="loading">Loading…</p> : (
        <div className="board">
          <div>
            <button onClick={() => { setCreating(true); navigate('policies'); }}>New policy</button>
            {cluster.skipped.length > 0 && <p className="hint">{cluster.skipped.length} object(s) could not be read by the policy core.</p>}
            {board.map(({ tier, policies }) => (
              <section key={tier.name} className="tier" aria-label={`Tier ${tier.name}`}>
                <h2>{tier.name} <span className="count">order {tier.order ?? '(none)'} · default {tier.defaultAction}</span></h2>
                <ol>
                  {policies.length === 0 && <li className="hint">no policies</li>}
                  {policies.map((p) => (
                    <li key={p.id}>
                      <button aria-pressed={p.id === selectedId} onClick={() => { setCreating(false); navigate('policies', { policy: p.id }); }}>
                        <span className="order">{p.order ?? '—'}</span>
                        <span>{p.name}</span>
                        <span className="count">{p.origin.kind}</span>
                        {p.staged !== undefined && <span className="badge staged">staged</span>}
                      </button>
                    </li>
                  ))}
                </ol>
              </section>
            ))}
          </div>
          <div>
            {creating && <Editor initial={NEW_POLICY} isNew cluster={cluster} onApplied={() => { setCreating(false); reload(); }} />}
            {!creating && selected !== undefined && <PolicyDetail policy={selected} cluster={cluster} onApplied={reload} />}
            {!creating && selected === undefined && <p className="hint">Select a policy to read its rules, see what it selects, and edit it.</p>}
          </div>
        </div>
      )}
    </>
  );
}
