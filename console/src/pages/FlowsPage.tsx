// Flows: a table with the filters of `margay flows`, newest first, and live follow (polls with
// afterId for what arrived since the last answer). Each row: the policy and rule that decided it,
// and what staged policies would do.
import { useEffect, useMemo, useRef, useState } from 'react';
import { loadFlows, type StoredFlow } from '../lib/load.js';
import { navigate } from '../lib/nav.js';

const FIELDS: { key: string; label: string; placeholder?: string; options?: string[] }[] = [
  { key: 'window', label: 'Time window', options: ['5', '15', '60', '360', '1440'] },
  { key: 'namespace', label: 'Namespace (either side)' },
  { key: 'srcNamespace', label: 'Source namespace' },
  { key: 'dstNamespace', label: 'Destination namespace' },
  { key: 'pod', label: 'Pod', placeholder: 'NS/NAME' },
  { key: 'srcName', label: 'Source name' },
  { key: 'dstName', label: 'Destination name' },
  { key: 'selector', label: 'Selector', placeholder: 'app == "db"' },
  { key: 'action', label: 'Action', options: ['', 'allow', 'deny'] },
  { key: 'policy', label: 'Policy' },
  { key: 'tier', label: 'Tier' },
  { key: 'port', label: 'Port' },
  { key: 'proto', label: 'Protocol', options: ['', 'tcp', 'udp', 'icmp', 'sctp'] },
  { key: 'reporter', label: 'Reporter', options: ['', 'src', 'dst'] },
  { key: 'host', label: 'Node' },
  { key: 'pendingAction', label: 'Staged verdict', options: ['', 'allow', 'deny'] },
];

const MAX_ROWS = 2000;

function paramsOf(values: Record<string, string>): URLSearchParams {
  const p = new URLSearchParams();
  const now = Date.now();
  const windowMin = Number(values.window ?? '15') || 15;
  p.set('from', String(values.from ?? now - windowMin * 60_000));
  for (const f of FIELDS) {
    const v = values[f.key];
    if (f.key !== 'window' && v !== undefined && v !== '') p.set(f.key, v);
  }
  p.set('limit', '500');
  return p;
}

const side = (e: StoredFlow['source']): string => `${e.namespace !== '-' ? `${e.namespace}/` : ''}${e.name !== '-' ? e.name : e.nameAggr}`;

export function FlowsPage({ query }: { query: URLSearchParams }) {
  const values = useMemo(() => Object.fromEntries(query), [query]);
  const [draft, setDraft] = useState<Record<string, string>>(values);
  useEffect(() => setDraft(values), [values]);
  const [follow, setFollow] = useState(false);
  const [rows, setRows] = useState<StoredFlow[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const lastId = useRef<string | number | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    loadFlows(paramsOf(values)).then(
      (list) => {
        if (cancelled) return;
        setRows(list.items);
        lastId.current = list.metadata?.lastId;
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (cancelled) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [values]);

  useEffect(() => {
    if (!follow) return;
    const t = setInterval(() => {
      const p = paramsOf(values);
      if (lastId.current !== undefined) p.set('afterId', String(lastId.current));
      loadFlows(p).then(
        (list) => {
          if (list.metadata?.lastId !== undefined) lastId.current = list.metadata.lastId;
          // afterId answers come oldest first; the table is newest first.
          if (list.items.length > 0) setRows((r) => [...[...list.items].reverse(), ...r].slice(0, MAX_ROWS));
        },
        (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
      );
    }, 2000);
    return () => clearInterval(t);
  }, [follow, values]);

  return (
    <>
      <h1>Flows</h1>
      <form className="filters" aria-label="Flow filters" onSubmit={(e) => { e.preventDefault(); navigate('flows', Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== ''))); }}>
        {FIELDS.map((f) => (
          <label key={f.key}>{f.label}
            {f.options !== undefined ? (
              <select name={f.key} value={draft[f.key] ?? (f.key === 'window' ? '15' : '')} onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}>
                {f.options.map((o) => <option key={o} value={o}>{f.key === 'window' ? `last ${Number(o) < 60 ? `${o} min` : `${Number(o) / 60} h`}` : o === '' ? 'any' : o}</option>)}
              </select>
            ) : (
              <input name={f.key} value={draft[f.key] ?? ''} placeholder={f.placeholder} size={f.key === 'selector' ? 18 : 12} onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })} />
            )}
          </label>
        ))}
        <button type="submit" className="primary">Show flows</button>
        <label className="row"><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow</label>
      </form>
      {error !== undefined && <p role="alert" className="error">{error}</p>}
      <p className="count" role="status">{loading ? 'Loading…' : `${rows.length} flow logs${follow ? ' · following' : ''}`}</p>
      <table aria-label="Flow logs">
        <thead>
          <tr><th>start</th><th>node</th><th>reporter</th><th>source</th><th>destination</th><th>port</th><th>action</th><th>tier</th><th>policy · rule</th><th>staged</th><th className="num">flows</th><th className="num">bytes</th></tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr key={String(f.id)}>
              <td>{new Date(f.startTime).toLocaleTimeString()}</td>
              <td>{f.host}</td>
              <td>{f.reporter}</td>
              <td>{side(f.source)}</td>
              <td>{side(f.dest)}</td>
              <td>{f.proto}/{f.dest.port}</td>
              <td><span className={`badge ${f.action}`}>{f.action}</span></td>
              <td>{f.tier}</td>
              <td title={f.policies.join('\n')}>{f.policy}{f.ruleIndex >= 0 ? ` · rule ${f.ruleIndex}` : f.policy !== '-' ? ' · end of tier' : ''}</td>
              <td>{f.pendingAction !== undefined ? <span className={`badge ${f.pendingAction === 'deny' ? 'deny' : 'allow'}`}>{f.pendingAction}</span> : ''}</td>
              <td className="num">{f.numFlows}</td>
              <td className="num">{f.bytesIn + f.bytesOut}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
