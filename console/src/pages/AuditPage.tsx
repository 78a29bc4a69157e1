// Audit: every change to the cluster with who, when and a diff, from the audit API
// (/apis/audit.margay.io/v1/changes: each write with the object before and after; diffed here).
import { stringify } from 'yaml';
import { api } from '../api.js';
import { usePoll } from '../lib/use-poll.js';
import { lineDiff } from '../../../src/audit/diff.js';

interface Change { key: string; time: string; user: string; verb: string; object: string; diff: string[] }

interface AuditApiChange { seq: number; time: string; user: string; verb: string; auditID: string; objectRef?: { resource?: string; apiGroup?: string; namespace?: string; name?: string }; before: unknown; after: unknown }

const yamlOf = (o: unknown): string => (o === null || o === undefined ? '' : stringify(o));

/** The last 30 days' changes, newest 200 first. */
async function loadChanges(): Promise<Change[]> {
  const list = await api<{ items: AuditApiChange[] }>(`/apis/audit.margay.io/v1/changes?since=${encodeURIComponent('720h')}`);
  return list.items.slice(-200).reverse().map((c) => {
    const r = c.objectRef ?? {};
    return { key: c.auditID, time: c.time, user: c.user, verb: c.verb, object: `${r.resource ?? ''}${r.apiGroup ? `.${r.apiGroup}` : ''} ${r.namespace !== undefined ? `${r.namespace}/` : ''}${r.name ?? ''}`, diff: lineDiff(yamlOf(c.before), yamlOf(c.after)) };
  });
}

export function AuditPage() {
  const { data, error } = usePoll(() => loadChanges(), [], true, 10000);
  return (
    <>
      <h1>Audit</h1>
      <p className="hint">Changes to the cluster, newest first, from the hash-chained audit log (<code>margay audit changes</code>).</p>
      {error !== undefined && <p role="alert" className="error">{error.message}</p>}
      {data === undefined ? <p className="loading">Loading…</p> : data.length === 0 ? <p>No changes recorded.</p> : (
        <table aria-label="Changes">
          <thead><tr><th>when</th><th>who</th><th>what</th><th>object</th><th>diff</th></tr></thead>
          <tbody>
            {data.map((c) => (
              <tr key={c.key}>
                <td>{new Date(c.time).toLocaleString()}</td>
                <td>{c.user}</td>
                <td>{c.verb}</td>
                <td>{c.object}</td>
                <td>
                  <details>
                    <summary>{c.diff.filter((l) => !l.startsWith('  ')).length} changed lines</summary>
                    <pre className="diff">{c.diff.map((l, i) => <div key={i} className={l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : undefined}>{l}</div>)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
