// The audit log on disk: one SQLite table of audit.k8s.io/v1 Events in DIR/audit.db, each row
// carrying sha256(previous hash + "\n" + canonical record), so an edited, deleted or reordered
// record breaks the chain at a nameable place. Retention prunes the oldest rows and moves an
// anchor (the last pruned row's seq and hash) forward in the same transaction.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson, type AuditEvent } from './event.js';

export const AUDIT_DB_FILE = 'audit.db';
export const GENESIS_HASH = '0'.repeat(64);

export interface RetentionOptions {
  /** Records older than this are pruned (default 30 days). */
  readonly maxAgeMs?: number;
  /** At most this many records are kept (default 1,000,000). */
  readonly maxCount?: number;
}

export interface AuditQuery {
  readonly since?: Date;
  readonly until?: Date;
  readonly verbs?: readonly string[];
  /** Resource plurals (objectRef.resource), any group. */
  readonly resources?: readonly string[];
  readonly namespace?: string;
  readonly name?: string;
  readonly user?: string;
  readonly code?: number;
  /** Default ResponseComplete; 'all' for every stage. */
  readonly stage?: string;
  readonly limit?: number;
  /** Only records after this seq (a stream resuming where it left off). */
  readonly afterSeq?: number;
  /** Newest first (with limit: the latest N). */
  readonly descending?: boolean;
}

export interface StoredAuditEvent {
  readonly seq: number;
  readonly hash: string;
  readonly event: AuditEvent;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly checked: number;
  /** The first bad record: its seq, what is wrong and a sentence naming it. */
  readonly firstBad?: { seq: number; auditID?: string; problem: 'edited' | 'deleted' | 'reordered'; message: string };
}

interface Row {
  seq: number;
  ts: string;
  audit_id: string;
  stage: string;
  verb: string;
  username: string;
  resource: string | null;
  namespace: string | null;
  name: string | null;
  code: number | null;
  record: string;
  prev_hash: string;
  hash: string;
}

export function chainHash(prevHash: string, record: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(record).digest('hex');
}

export class AuditLog {
  private readonly db: Database.Database;
  private head: { seq: number; hash: string };
  private appendedSincePrune = 0;
  private readonly maxAgeMs: number;
  private readonly maxCount: number;

  constructor(
    path: string,
    retention: RetentionOptions = {},
    private readonly clock: () => Date = () => new Date(),
    readonly readOnly = false,
  ) {
    if (!readOnly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, readOnly ? { readonly: true, fileMustExist: true } : {});
    if (!readOnly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS events (
          seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, audit_id TEXT NOT NULL, stage TEXT NOT NULL, verb TEXT NOT NULL,
          username TEXT NOT NULL, resource TEXT, namespace TEXT, name TEXT, code INTEGER,
          record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
        CREATE INDEX IF NOT EXISTS events_object ON events(resource, name, seq);
        CREATE INDEX IF NOT EXISTS events_change ON events(verb, resource, ts);
        CREATE TABLE IF NOT EXISTS chain (id INTEGER PRIMARY KEY CHECK (id = 1), anchor_seq INTEGER NOT NULL, anchor_hash TEXT NOT NULL, head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL);
        INSERT OR IGNORE INTO chain VALUES (1, 0, '${GENESIS_HASH}', 0, '${GENESIS_HASH}');
      `);
    }
    const chain = this.db.prepare('SELECT head_seq, head_hash FROM chain WHERE id = 1').get() as { head_seq: number; head_hash: string } | undefined;
    this.head = { seq: chain?.head_seq ?? 0, hash: chain?.head_hash ?? GENESIS_HASH };
    this.maxAgeMs = retention.maxAgeMs ?? 30 * 24 * 3600 * 1000;
    this.maxCount = retention.maxCount ?? 1_000_000;
    if (!readOnly) this.prune();
  }

  /** Appends events in one transaction, chaining each to the one before. */
  append(events: readonly AuditEvent[]): StoredAuditEvent[] {
    if (events.length === 0) return [];
    const stored: StoredAuditEvent[] = [];
    const insert = this.db.prepare(
      'INSERT INTO events (seq, ts, audit_id, stage, verb, username, resource, namespace, name, code, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const setHead = this.db.prepare('UPDATE chain SET head_seq = ?, head_hash = ? WHERE id = 1');
    this.db.transaction(() => {
      let { seq, hash } = this.head;
      for (const e of events) {
        const record = canonicalJson(e);
        const next = chainHash(hash, record);
        seq += 1;
        insert.run(seq, e.stageTimestamp, e.auditID, e.stage, e.verb, e.user.username, e.objectRef?.resource ?? null, e.objectRef?.namespace ?? null, e.objectRef?.name ?? null, e.responseStatus?.code ?? null, record, hash, next);
        hash = next;
        stored.push({ seq, hash, event: e });
      }
      setHead.run(seq, hash);
      this.head = { seq, hash };
    })();
    this.appendedSincePrune += events.length;
    if (this.appendedSincePrune >= 1000) this.prune();
    return stored;
  }

  /** Drops records past the retention limits; the anchor keeps the chain verifiable. */
  prune(): number {
    this.appendedSincePrune = 0;
    const cutoff = new Date(this.clock().getTime() - this.maxAgeMs).toISOString();
    const byAge = this.db.prepare('SELECT MAX(seq) AS s FROM events WHERE ts < ?').get(cutoff) as { s: number | null };
    const byCount = this.head.seq - this.maxCount;
    const upTo = Math.max(byAge.s ?? 0, byCount);
    if (upTo <= 0) return 0;
    const last = this.db.prepare('SELECT seq, hash FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(upTo) as { seq: number; hash: string } | undefined;
    if (last === undefined) return 0;
    let removed = 0;
    this.db.transaction(() => {
      removed = this.db.prepare('DELETE FROM events WHERE seq <= ?').run(last.seq).changes;
      this.db.prepare('UPDATE chain SET anchor_seq = ?, anchor_hash = ? WHERE id = 1').run(last.seq, last.hash);
    })();
    return removed;
  }

  query(q: AuditQuery = {}): StoredAuditEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.stage !== 'all') {
      where.push('stage = ?');
      args.push(q.stage ?? 'ResponseComplete');
    }
    const add = (clause: string, ...values: (string | number)[]): void => {
      where.push(clause);
      args.push(...values);
    };
    if (q.since !== undefined) add('ts >= ?', q.since.toISOString());
    if (q.until !== undefined) add('ts <= ?', q.until.toISOString());
    if (q.verbs !== undefined && q.verbs.length > 0) add(`verb IN (${q.verbs.map(() => '?').join(',')})`, ...q.verbs);
    if (q.resources !== undefined) add(`resource IN (${q.resources.map(() => '?').join(',') || "''"})`, ...q.resources);
    if (q.namespace !== undefined) add('namespace = ?', q.namespace);
    if (q.name !== undefined) add('name = ?', q.name);
    if (q.user !== undefined) add('username = ?', q.user);
    if (q.code !== undefined) add('code = ?', q.code);
    if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
    const sql = `SELECT seq, hash, record FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${q.descending === true ? ' DESC' : ''}${q.limit !== undefined ? ` LIMIT ${Math.floor(q.limit)}` : ''}`;
    return (this.db.prepare(sql).all(...args) as { seq: number; hash: string; record: string }[]).map((r) => ({ seq: r.seq, hash: r.hash, event: JSON.parse(r.record) as AuditEvent }));
  }

  /** The last successful write to one object before `seq` (its state before a change). */
  lastWriteBefore(ref: { resource: string; namespace: string | undefined; name: string; apiGroup: string }, seq: number): StoredAuditEvent | undefined {
    const rows = this.db
      .prepare(
        `SELECT seq, hash, record FROM events WHERE resource = ? AND name = ? AND namespace IS ? AND seq < ? AND stage = 'ResponseComplete'
         AND verb IN ('create','update','patch','delete') AND code < 400 ORDER BY seq DESC LIMIT 8`,
      )
      .all(ref.resource, ref.name, ref.namespace ?? null, seq) as { seq: number; hash: string; record: string }[];
    for (const r of rows) {
      const event = JSON.parse(r.record) as AuditEvent;
      // Same plural in another group (networkpolicies) is another object.
      if ((event.objectRef?.apiGroup ?? '') === ref.apiGroup) return { seq: r.seq, hash: r.hash, event };
    }
    return undefined;
  }

  /** Walks the chain from the anchor to the head; names the first record that breaks it. */
  verify(): VerifyResult {
    const chain = this.db.prepare('SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM chain WHERE id = 1').get() as
      | { anchor_seq: number; anchor_hash: string; head_seq: number; head_hash: string }
      | undefined;
    const anchor = { seq: chain?.anchor_seq ?? 0, hash: chain?.anchor_hash ?? GENESIS_HASH };
    const rows = this.db.prepare('SELECT * FROM events ORDER BY seq').all() as Row[];
    const byHash = new Map(rows.map((r) => [r.hash, r]));
    let prev = anchor;
    let checked = 0;
    for (const row of rows) {
      const auditID = safeAuditId(row.record);
      const bad = (problem: 'edited' | 'deleted' | 'reordered', message: string, seq = row.seq): VerifyResult => ({ ok: false, checked, firstBad: { seq, ...(auditID !== undefined && seq === row.seq ? { auditID } : {}), problem, message } });
      if (row.seq !== prev.seq + 1) {
        return bad('deleted', `record ${prev.seq + 1} is missing (deleted): the log jumps from ${prev.seq} to ${row.seq}`, prev.seq + 1);
      }
      if (chainHash(row.prev_hash, row.record) !== row.hash || !columnsAgree(row)) {
        return bad('edited', `record ${row.seq} (auditID ${auditID ?? '?'}) was edited: its content does not match its hash`);
      }
      if (row.prev_hash !== prev.hash) {
        const moved = byHash.get(row.prev_hash);
        if (moved !== undefined || rows.some((r) => r.prev_hash === prev.hash && r.seq > row.seq)) {
          return bad('reordered', `record ${row.seq} (auditID ${auditID ?? '?'}) is out of order: it was written after record ${moved?.seq ?? '?'}, not after record ${prev.seq}`);
        }
        return bad('deleted', `a record before ${row.seq} (auditID ${auditID ?? '?'}) was deleted: its predecessor's hash is not in the log`);
      }
      prev = { seq: row.seq, hash: row.hash };
      checked++;
    }
    if (chain !== undefined && (chain.head_seq !== prev.seq || chain.head_hash !== prev.hash)) {
      return { ok: false, checked, firstBad: { seq: prev.seq + 1, problem: 'deleted', message: `record ${prev.seq + 1} is missing (deleted): the log ends at ${prev.seq} but was written up to ${chain.head_seq}` } };
    }
    return { ok: true, checked };
  }

  close(): void {
    this.db.close();
  }
}

function safeAuditId(record: string): string | undefined {
  try {
    const v = JSON.parse(record) as { auditID?: unknown };
    return typeof v.auditID === 'string' ? v.auditID : undefined;
  } catch {
    return undefined;
  }
}

/** The query columns must say what the hashed record says (they are not hashed themselves). */
function columnsAgree(row: Row): boolean {
  let e: AuditEvent;
  try {
    e = JSON.parse(row.record) as AuditEvent;
  } catch {
    return false;
  }
  return (
    e.auditID === row.audit_id &&
    e.stage === row.stage &&
    e.verb === row.verb &&
    e.user.username === row.username &&
    e.stageTimestamp === row.ts &&
    (e.objectRef?.resource ?? null) === row.resource &&
    (e.objectRef?.namespace ?? null) === row.namespace &&
    (e.objectRef?.name ?? null) === row.name &&
    (e.responseStatus?.code ?? null) === row.code
  );
}
