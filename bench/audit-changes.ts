// "Which policies changed in the last 24 hours, who changed them, and what exactly changed?" on
// an audit log of 100,000 events (7 days of traffic: mostly reads, 5% policy writes with full
// bodies): objectChanges over the window plus a readable diff per change. Compared, in the same
// run, with walking every policy write from the start of the log (the first implementation).
// Prints JSON lines. The machine is shared: expect noise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AuditLog, changeDiff, cleanObject, lineDiff, objectChanges, type AuditEvent } from '../src/audit/index.js';
import { emit, now } from './calc-common.js';

const EVENTS = Number(process.argv.find((a) => a.startsWith('--events='))?.slice(9) ?? 100_000);
const DAYS = 7;
const ROUNDS = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 7);
const POLICY_PLURALS = ['networkpolicies', 'globalnetworkpolicies', 'stagednetworkpolicies', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'adminnetworkpolicies', 'baselineadminnetworkpolicies', 'clusternetworkpolicies', 'tiers'];
const WRITES = ['create', 'update', 'patch', 'delete'];
const NOW = new Date('2026-06-01T12:00:00Z');

function policy(name: string, ns: string, version: number): Record<string, unknown> {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: String(version), labels: { team: ns }, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    spec: {
      tier: 'default',
      order: 100 + (version % 7),
      selector: `app == "${name}"`,
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `role == "frontend-${version % 5}"` }, destination: { ports: [8080 + (version % 3)] } }],
      egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }, { action: 'Deny', destination: { nets: [`10.${version % 250}.0.0/16`] } }],
    },
  };
}

function generate(log: AuditLog): { policyWrites: number } {
  const start = NOW.getTime() - DAYS * 86_400_000;
  const step = (DAYS * 86_400_000) / EVENTS;
  const versions = new Map<string, number>();
  let batch: AuditEvent[] = [];
  let policyWrites = 0;
  for (let i = 0; i < EVENTS; i++) {
    const ts = new Date(start + i * step).toISOString();
    const ns = `team-${i % 40}`;
    const isPolicyWrite = i % 20 === 0;
    let e: AuditEvent;
    if (isPolicyWrite) {
      policyWrites++;
      const name = `policy-${(i / 20) % 300}`;
      const key = `${ns}/${name}`;
      const v = (versions.get(key) ?? 0) + 1;
      versions.set(key, v);
      const verb = v === 1 ? 'create' : (WRITES[1 + (v % 2)] as string);
      const body = policy(name, ns, v);
      e = {
        kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'RequestResponse', auditID: `a-${i}`, stage: 'ResponseComplete',
        requestURI: `/apis/projectcalico.org/v3/namespaces/${ns}/networkpolicies/${name}`, verb, user: { username: `user-${i % 12}`, groups: ['margay:network-admins'] },
        sourceIPs: ['10.0.0.1'], objectRef: { resource: 'networkpolicies', namespace: ns, name, apiGroup: 'projectcalico.org', apiVersion: 'v3' },
        responseStatus: { metadata: {}, code: v === 1 ? 201 : 200 }, requestObject: body, responseObject: body, requestReceivedTimestamp: ts, stageTimestamp: ts,
      };
    } else {
      const resource = i % 3 === 0 ? 'pods' : i % 3 === 1 ? 'networkpolicies' : 'namespaces';
      e = {
        kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `a-${i}`, stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/${ns}/${resource}`, verb: i % 2 === 0 ? 'list' : 'get', user: { username: `system:node:n${i % 50}`, groups: ['margay:agents'] },
        sourceIPs: ['10.0.0.2'], objectRef: { resource, namespace: ns, apiGroup: resource === 'networkpolicies' ? 'projectcalico.org' : '', ...(i % 2 === 1 ? { name: `x-${i % 1000}` } : {}) },
        responseStatus: { metadata: {}, code: 200 }, requestReceivedTimestamp: ts, stageTimestamp: ts,
      };
    }
    batch.push(e);
    if (batch.length === 1000) {
      log.append(batch);
      batch = [];
    }
  }
  log.append(batch);
  return { policyWrites };
}

/** Changes plus their diffs, as `margay audit changes --kind … --since 24h` prints them. */
function changesWithDiffs(log: AuditLog, since: Date): { changes: number; diffLines: number; befores: string } {
  const changes = objectChanges(log, { since, resources: POLICY_PLURALS });
  let diffLines = 0;
  for (const c of changes) diffLines += changeDiff(c).length;
  return { changes: changes.length, diffLines, befores: JSON.stringify(changes.map((c) => c.before ?? null)) };
}

/** The first implementation: every policy write from the start of the log, to know "before"; yaml-library diffs. */
function walkFromStart(log: AuditLog, since: Date): { changes: number; diffLines: number; befores: string } {
  const last = new Map<string, unknown>();
  const befores: unknown[] = [];
  let diffLines = 0;
  const t = since.toISOString();
  for (const { event: e } of log.query({ resources: POLICY_PLURALS })) {
    if (!WRITES.includes(e.verb) || (e.responseStatus?.code ?? 500) >= 400) continue;
    const key = `${e.objectRef?.apiGroup ?? ''}/${e.objectRef?.resource ?? ''}/${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`;
    const after = e.verb === 'delete' ? undefined : cleanObject(e.responseObject);
    if (e.stageTimestamp >= t) {
      const before = last.get(key);
      befores.push(before ?? null);
      diffLines += lineDiff(before === undefined ? '' : stringify(before), after === undefined ? '' : stringify(after)).filter((l) => !l.startsWith('  ')).length;
    }
    last.set(key, after);
  }
  return { changes: befores.length, diffLines, befores: JSON.stringify(befores) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const dir = mkdtempSync(join(tmpdir(), 'margay-bench-audit-'));
try {
  const log = new AuditLog(join(dir, 'audit.db'), { maxAgeMs: 30 * 86_400_000, maxCount: 10_000_000 }, () => NOW);
  const t0 = now();
  const { policyWrites } = generate(log);
  emit('audit-changes', 'load', now() - t0, 'ms', { events: EVENTS, policyWrites });
  const since = new Date(NOW.getTime() - 86_400_000);
  const cold = now();
  const first = changesWithDiffs(log, since);
  emit('audit-changes', 'changes_24h_cold', now() - cold, 'ms', { events: EVENTS, changes: first.changes, diffLines: first.diffLines });
  const times: number[] = [];
  const baseline: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let s = now();
    const got = changesWithDiffs(log, since);
    times.push(now() - s);
    s = now();
    const old = walkFromStart(log, since);
    baseline.push(now() - s);
    if (got.changes !== old.changes || got.befores !== old.befores) throw new Error(`the two ways disagree: ${got.changes} vs ${old.changes} changes`);
  }
  const m = median(times);
  const b = median(baseline);
  emit('audit-changes', 'changes_24h', m, 'ms', { events: EVENTS, changes: first.changes, target: 1000, baseline: b, ratio: b / m });
  const q = now();
  const n = log.query({ since, verbs: WRITES, resources: POLICY_PLURALS }).length;
  emit('audit-changes', 'query_24h_writes', now() - q, 'ms', { events: EVENTS, rows: n });
  log.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
