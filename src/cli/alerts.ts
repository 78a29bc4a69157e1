// `margay alerts`: the alerts that fired (newest first) with their delivery state, from the API
// (/apis/alerts.margay.io/v1/firedalerts), so RBAC decides who may see them.
import type { CommandIo } from './simulate.js';
import { apiCall, clusterAccess, type KubeconfigFlags } from './token-http.js';

interface FiredAlertObject {
  alert: { name: string; severity: string };
  firedAt: string;
  event: { verb: string; user: { username: string }; objectRef?: { resource?: string; apiGroup?: string; namespace?: string; name?: string } };
  status: { delivery: { state: string; attempts: number; lastError?: string } };
}

export interface AlertsFlags extends KubeconfigFlags {
  alert?: string;
  since?: string;
  limit?: string;
  output?: string;
}

export async function alertsCommand(f: AlertsFlags, io: CommandIo): Promise<number> {
  const params = new URLSearchParams();
  if (f.alert !== undefined) params.set('alert', f.alert);
  if (f.since !== undefined) params.set('since', f.since);
  if (f.limit !== undefined) params.set('limit', f.limit);
  const qs = params.toString();
  const list = (await apiCall(clusterAccess(f), 'GET', `/apis/alerts.margay.io/v1/firedalerts${qs !== '' ? `?${qs}` : ''}`)) as { items: FiredAlertObject[] };
  if (f.output === 'json') {
    io.out(JSON.stringify(list, null, 2));
    return 0;
  }
  if (list.items.length === 0) {
    io.err('No alerts have fired.');
    return 0;
  }
  const rows = [['FIRED', 'ALERT', 'SEVERITY', 'USER', 'VERB', 'OBJECT', 'DELIVERY']];
  for (const a of list.items) {
    const r = a.event.objectRef;
    const object = r === undefined ? '' : `${r.resource ?? ''}${r.apiGroup ? `.${r.apiGroup}` : ''} ${r.namespace !== undefined ? `${r.namespace}/` : ''}${r.name ?? ''}`;
    const d = a.status.delivery;
    rows.push([a.firedAt, a.alert.name, a.alert.severity, a.event.user.username, a.event.verb, object, `${d.state} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastError !== undefined && d.state !== 'delivered' ? `: ${d.lastError}` : ''})`]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd());
  return 0;
}
