// The audit log's hash chain and retention: verify passes after pruning, and names the first
// edited, deleted (middle or tail) or reordered record.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AuditLog, DEFAULT_AUDIT_POLICY, evaluatePolicy, lineDiff, type AuditEvent } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'margay-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function event(i: number, at: Date): AuditEvent {
  const ts = at.toISOString();
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `id-${i}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/a/pods/p${i}`,
    verb: 'get',
    user: { username: 'u', groups: [] },
    sourceIPs: ['127.0.0.1'],
    objectRef: { resource: 'pods', namespace: 'a', name: `p${i}`, apiGroup: '' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: ts,
    stageTimestamp: ts,
  };
}

function filled(name: string, n: number): string {
  const path = join(dir, name);
  const log = new AuditLog(path);
  log.append(Array.from({ length: n }, (_, i) => event(i + 1, new Date(Date.UTC(2026, 0, 1, 0, i)))));
  log.close();
  return path;
}

function verifyAfter(path: string, change: (db: Database.Database) => void) {
  const db = new Database(path);
  change(db);
  db.close();
  const log = new AuditLog(path, { maxAgeMs: 1e15 });
  try {
    return log.verify();
  } finally {
    log.close();
  }
}

describe('audit log', () => {
  it('an untouched log verifies; queries filter', () => {
    const log = new AuditLog(filled('ok.db', 10), { maxAgeMs: 1e15 });
    assert.deepEqual(log.verify(), { ok: true, checked: 10 });
    assert.equal(log.query({ name: 'p3' }).length, 1);
    assert.equal(log.query({ since: new Date(Date.UTC(2026, 0, 1, 0, 5)) }).length, 5);
    log.close();
  });

  it('names the first edited, deleted or reordered record', () => {
    assert.equal(verifyAfter(filled('e.db', 10), (db) => db.prepare("UPDATE events SET record = replace(record, 'p4', 'p9') WHERE seq = 4").run()).firstBad?.seq, 4);
    const del = verifyAfter(filled('d.db', 10), (db) => db.prepare('DELETE FROM events WHERE seq = 6').run());
    assert.equal(del.firstBad?.problem, 'deleted');
    assert.equal(del.firstBad?.seq, 6);
    const tail = verifyAfter(filled('t.db', 10), (db) => db.prepare('DELETE FROM events WHERE seq = 10').run());
    assert.equal(tail.firstBad?.seq, 10);
    const renumbered = verifyAfter(filled('r.db', 10), (db) => {
      db.prepare('DELETE FROM events WHERE seq = 3').run();
      db.prepare('UPDATE events SET seq = seq - 1 WHERE seq > 3').run();
    });
    assert.equal(renumbered.firstBad?.seq, 3);
    assert.equal(renumbered.firstBad?.problem, 'deleted');
    const swapped = verifyAfter(filled('s.db', 10), (db) => {
      db.prepare('UPDATE events SET seq = 100 WHERE seq = 7').run();
      db.prepare('UPDATE events SET seq = 7 WHERE seq = 8').run();
      db.prepare('UPDATE events SET seq = 8 WHERE seq = 100').run();
    });
    assert.equal(swapped.firstBad?.seq, 7);
    assert.equal(swapped.firstBad?.problem, 'reordered');
  });

  it('retention by count and by age keeps the chain verifiable', () => {
    const path = filled('keep.db', 20);
    const byCount = new AuditLog(path, { maxCount: 5, maxAgeMs: 1e15 });
    assert.equal(byCount.query().length, 5);
    assert.deepEqual(byCount.verify(), { ok: true, checked: 5 });
    byCount.close();
    const byAge = new AuditLog(path, { maxAgeMs: 60_000 * 2.5 }, () => new Date(Date.UTC(2026, 0, 1, 0, 19)));
    assert.deepEqual(byAge.query().map((e) => e.event.auditID), ['id-18', 'id-19', 'id-20']);
    assert.deepEqual(byAge.verify(), { ok: true, checked: 3 });
    byAge.close();
  });

  it('the default policy: policy writes in full, probes not at all, the rest as metadata', () => {
    const base = { user: 'u', groups: [], resourceRequest: true, path: '/x' };
    assert.equal(evaluatePolicy(DEFAULT_AUDIT_POLICY, { ...base, verb: 'patch', apiGroup: 'projectcalico.org', resource: 'globalnetworkpolicies' }).level, 'RequestResponse');
    assert.equal(evaluatePolicy(DEFAULT_AUDIT_POLICY, { ...base, verb: 'get', apiGroup: 'projectcalico.org', resource: 'globalnetworkpolicies' }).level, 'Metadata');
    assert.equal(evaluatePolicy(DEFAULT_AUDIT_POLICY, { ...base, verb: 'get', resourceRequest: false, path: '/healthz' }).level, 'None');
  });

  it('line diff marks removed and added lines', () => {
    assert.deepEqual(lineDiff('a\nb\nc\n', 'a\nx\nc\n'), ['  a', '- b', '+ x', '  c']);
  });
});
