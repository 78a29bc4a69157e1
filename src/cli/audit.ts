// `margay audit`: read DIR/audit.db — list events with filters, verify the hash chain, and show
// what changed in policy objects (before/after diffs from RequestResponse records).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RESOURCE_TYPES } from '../api/index.js';
import { AUDIT_DB_FILE, AuditLog, changeDiff, objectChanges, parseSince, type AuditEvent, type AuditQuery } from '../audit/index.js';
import { UserError } from '../errors/index.js';
import type { CommandIo } from './simulate.js';

export interface AuditFilterFlags {
  dataDir: string;
  since?: string;
  until?: string;
  verb?: string[];
  kind?: string;
  namespace?: string;
  name?: string;
  user?: string;
  code?: string;
  stage?: string;
  output?: string;
}

function openLog(dataDir: string): AuditLog {
  const path = join(resolve(dataDir), AUDIT_DB_FILE);
  if (!existsSync(path)) throw new UserError({ file: path, message: 'no audit log here; expected the --data-dir of a `margay up` that has served requests' });
  return new AuditLog(path, {}, undefined, true);
}

/** `networkpolicy`, `netpol`, `gnp`, `networkpolicies.projectcalico.org` → resource plurals. */
export function resourcesForKind(kind: string): string[] {
  const k = kind.toLowerCase();
  const [base, ...groupParts] = k.split('.');
  const group = groupParts.join('.');
  const hits = RESOURCE_TYPES.filter(
    (t) => (group === '' || t.group === group) && (t.plural === base || t.singular === base || t.shortNames.includes(base ?? '') || t.kind.toLowerCase() === base),
  ).map((t) => t.plural);
  if (hits.length === 0) throw new UserError({ path: '--kind', message: `unknown kind ${JSON.stringify(kind)}; expected a resource such as networkpolicy, gnp or clusterrolebindings` });
  return [...new Set(hits)];
}

function toQuery(f: AuditFilterFlags, now: Date): AuditQuery {
  let code: number | undefined;
  if (f.code !== undefined) {
    if (!/^\d{3}$/.test(f.code)) throw new UserError({ path: '--code', message: `expected an HTTP status code such as 403, got ${JSON.stringify(f.code)}` });
    code = Number(f.code);
  }
  const verbs = (f.verb ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return {
    ...(f.since !== undefined ? { since: parseSince(f.since, '--since', now) } : {}),
    ...(f.until !== undefined ? { until: parseSince(f.until, '--until', now) } : {}),
    ...(verbs.length > 0 ? { verbs } : {}),
    ...(f.kind !== undefined ? { resources: resourcesForKind(f.kind) } : {}),
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(f.stage !== undefined ? { stage: f.stage } : {}),
  };
}

function resourceOf(e: AuditEvent): string {
  const r = e.objectRef;
  if (r === undefined) return e.requestURI.split('?')[0] ?? '';
  const res = `${r.resource ?? ''}${r.subresource !== undefined ? `/${r.subresource}` : ''}`;
  return r.apiGroup !== undefined && r.apiGroup !== '' ? `${res}.${r.apiGroup}` : res;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd());
}

export function auditListCommand(f: AuditFilterFlags, io: CommandIo, now = new Date()): number {
  const log = openLog(f.dataDir);
  try {
    const events = log.query(toQuery(f, now));
    if (f.output === 'json') {
      io.out(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events.map((e) => e.event) }, null, 2));
      return 0;
    }
    if (events.length === 0) {
      io.err('No audit events match.');
      return 0;
    }
    const rows = [['TIME', 'USER', 'VERB', 'RESOURCE', 'NAMESPACE', 'NAME', 'CODE', 'SOURCE']];
    for (const { event: e } of events) {
      rows.push([e.stageTimestamp, e.user.username, e.verb, resourceOf(e), e.objectRef?.namespace ?? '', e.objectRef?.name ?? '', String(e.responseStatus?.code ?? ''), e.sourceIPs[0] ?? '']);
    }
    for (const line of table(rows)) io.out(line);
    return 0;
  } finally {
    log.close();
  }
}

export function auditVerifyCommand(f: { dataDir: string }, io: CommandIo): number {
  const log = openLog(f.dataDir);
  try {
    const result = log.verify();
    if (result.ok) {
      io.out(`audit log OK: ${result.checked} records, hash chain intact`);
      return 0;
    }
    io.out(`audit log TAMPERED: ${result.firstBad?.message ?? 'unknown problem'} (${result.checked} records before it are intact)`);
    return 1;
  } finally {
    log.close();
  }
}


export function auditChangesCommand(f: AuditFilterFlags, io: CommandIo, now = new Date()): number {
  const log = openLog(f.dataDir);
  try {
    const out = objectChanges(log, toQuery(f, now));
    if (f.output === 'json') {
      io.out(JSON.stringify(out.map(({ event, before, after }) => ({ time: event.stageTimestamp, user: event.user.username, verb: event.verb, objectRef: event.objectRef, auditID: event.auditID, before: before ?? null, after: after ?? null })), null, 2));
      return 0;
    }
    if (out.length === 0) {
      io.err('No changes match.');
      return 0;
    }
    for (const { event: e, before, after, beforeKnown } of out) {
      const ns = e.objectRef?.namespace !== undefined ? `${e.objectRef.namespace}/` : '';
      io.out(`${e.stageTimestamp}  ${e.user.username}  ${e.verb}  ${resourceOf(e)} ${ns}${e.objectRef?.name ?? '(collection)'}`);
      if (!beforeKnown) io.out('  (the object before this change is not in the audit log)');
      for (const line of changeDiff({ before, after })) io.out(`  ${line}`);
      io.out('');
    }
    return 0;
  } finally {
    log.close();
  }
}
