// The embedded FlowStore: one SQLite file (DIR/flows.db). Rows are all integers: strings
// (namespaces, hosts, tiers, policies, protocols) and policy traces are interned in dictionary
// tables, and each distinct endpoint (everything but its port) is stored once. Endpoint filters
// (pod, names, label selectors) run in JS over the endpoint dictionary and narrow the SQL to
// endpoint ids; time, namespace, action and policy use indexes. Why SQLite: see DESIGN.md.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GraphBuilder, TopBuilder } from './aggregate.js';
import { decodeContinue, encodeContinue, endpointMatchers, hitPolicyName, parseFlowId, policyNameMatches, type EndpointMatchers } from './query.js';
import {
  MAX_FLOW_LIMIT,
  type EndpointType,
  type FlowAction,
  type FlowBatch,
  type FlowEndpoint,
  type FlowFilter,
  type FlowGraph,
  type FlowListQuery,
  type FlowListResult,
  type FlowLog,
  type FlowPruneResult,
  type FlowRetention,
  type FlowStore,
  type FlowStoreStats,
  type FlowTopItem,
  type FlowTopQuery,
  type StoredFlowLog,
} from './types.js';

export interface SqliteFlowStoreOptions {
  /** The database file (its directory is created). */
  readonly file: string;
  /**
   * `normal` (default): WAL with synchronous=NORMAL — a commit survives the process crashing but
   * the last commits may be lost with the machine (flow logs are telemetry; an fsync per batch
   * costs more than it saves). `full` fsyncs every batch.
   */
  readonly synchronous?: 'normal' | 'full';
}

export const FLOWS_DB_FILE = 'flows.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', 1), ('dropped', 0), ('max_bucket_ms', 0);
CREATE TABLE IF NOT EXISTS strings (id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS traces (id INTEGER PRIMARY KEY, hits TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS endpoints (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS flows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  src_ns INTEGER NOT NULL,
  dst_ns INTEGER NOT NULL,
  src INTEGER NOT NULL,
  dst INTEGER NOT NULL,
  src_port INTEGER NOT NULL,
  dst_port INTEGER NOT NULL,
  host INTEGER NOT NULL,
  reporter INTEGER NOT NULL,
  action INTEGER NOT NULL,
  proto INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  policy INTEGER NOT NULL,
  rule_index INTEGER NOT NULL,
  policies INTEGER NOT NULL,
  pending_action INTEGER,
  pending_policies INTEGER,
  packets_in INTEGER NOT NULL,
  packets_out INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  num_flows INTEGER NOT NULL,
  num_started INTEGER NOT NULL,
  num_completed INTEGER NOT NULL
);
-- A time-major covering index: inserts land at its right edge (buckets arrive in time order),
-- and the common filters are checked inside it before any row is read. Namespace-major indexes
-- serve "either side in NS" (a namespace owner's view); they are the expensive ones to insert
-- into, so there are no more of them (action, policy: checked in flows_time). See DESIGN.md.
CREATE INDEX IF NOT EXISTS flows_time ON flows (start_time, src_ns, dst_ns, action, policy, src, dst, end_time);
CREATE INDEX IF NOT EXISTS flows_src_ns ON flows (src_ns, start_time, end_time);
CREATE INDEX IF NOT EXISTS flows_dst_ns ON flows (dst_ns, start_time, end_time);
`;

const INSERT = `INSERT INTO flows (start_time, end_time, src_ns, dst_ns, src, dst, src_port, dst_port, host, reporter, action, proto, tier, policy, rule_index, policies, pending_action, pending_policies, packets_in, packets_out, bytes_in, bytes_out, num_flows, num_started, num_completed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

interface FlowRow {
  id: number;
  start_time: number;
  end_time: number;
  src: number;
  dst: number;
  src_port: number;
  dst_port: number;
  host: number;
  reporter: number;
  action: number;
  proto: number;
  tier: number;
  policy: number;
  rule_index: number;
  policies: number;
  pending_action: number | null;
  pending_policies: number | null;
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
  num_flows: number;
  num_started: number;
  num_completed: number;
}

const ACTIONS: readonly FlowAction[] = ['allow', 'deny'];
const actionCode = (a: FlowAction): number => (a === 'deny' ? 1 : 0);
const PRUNE_CHUNK = 20_000;

/** An endpoint without its port, as the dictionary keeps it. */
type EndpointKey = [EndpointType, string, string, string, string, string | null, Record<string, string>];

function endpointKey(e: FlowEndpoint): string {
  return JSON.stringify([e.type, e.namespace, e.name, e.nameAggr, e.ip, e.serviceAccount ?? null, e.labels]);
}

/** Same endpoint but for the port (which the dictionary does not keep). */
function sameEndpoint(a: FlowEndpoint, b: FlowEndpoint): boolean {
  if (a.type !== b.type || a.nameAggr !== b.nameAggr || a.serviceAccount !== b.serviceAccount) return false;
  let n = 0;
  for (const k in b.labels) {
    if (a.labels[k] !== b.labels[k]) return false;
    n++;
  }
  return n === Object.keys(a.labels).length;
}

function endpointFromKey(key: string): FlowEndpoint {
  const [type, namespace, name, nameAggr, ip, sa, labels] = JSON.parse(key) as EndpointKey;
  return { type, namespace, name, nameAggr, labels, ip, port: 0, ...(sa !== null ? { serviceAccount: sa } : {}) };
}

/** A string ↔ id dictionary table mirrored in memory; additions are undone if their transaction fails. */
class Dictionary<T> {
  readonly ids = new Map<string, number>();
  readonly values = new Map<number, T>();
  private readonly insert: Database.Statement;
  private pending: string[] = [];

  constructor(db: Database.Database, table: string, column: string, private readonly decode: (text: string) => T) {
    for (const row of db.prepare(`SELECT id, ${column} AS text FROM ${table}`).all() as { id: number; text: string }[]) this.remember(row.text, row.id);
    this.insert = db.prepare(`INSERT INTO ${table} (${column}) VALUES (?)`);
  }

  private remember(text: string, id: number): void {
    this.ids.set(text, id);
    this.values.set(id, this.decode(text));
  }

  /** The id of `text`, inserting it (inside the caller's transaction) when new. */
  intern(text: string): number {
    const id = this.ids.get(text);
    if (id !== undefined) return id;
    const created = Number(this.insert.run(text).lastInsertRowid);
    this.remember(text, created);
    this.pending.push(text);
    return created;
  }

  commit(): void {
    this.pending = [];
  }

  rollback(): void {
    for (const text of this.pending) {
      const id = this.ids.get(text);
      this.ids.delete(text);
      if (id !== undefined) this.values.delete(id);
    }
    this.pending = [];
  }

  /** Ids whose value satisfies `pred`. */
  matching(pred: (v: T) => boolean): number[] {
    const out: number[] = [];
    for (const [id, v] of this.values) if (pred(v)) out.push(id);
    return out;
  }
}

/** A WHERE clause under construction. `empty` means no row can match (an unknown value was asked for). */
interface Where {
  sql: string[];
  params: (number | string)[];
  empty: boolean;
}

export class SqliteFlowStore implements FlowStore {
  private readonly db: Database.Database;
  private readonly strings: Dictionary<string>;
  private readonly traces: Dictionary<readonly string[]>;
  private readonly endpoints: Dictionary<FlowEndpoint>;
  private readonly insert: Database.Statement;
  private readonly appendTx: Database.Transaction<(batch: FlowBatch) => void>;
  /**
   * namespace/name/ip → the endpoint last stored under it: most lookups compare a few fields
   * instead of serializing and hashing the whole endpoint (the ingest's hottest path).
   */
  private readonly recentEndpoints = new Map<string, { endpoint: FlowEndpoint; id: number }>();
  private rows: number;
  private lastId: number;
  /** The longest bucket stored: lets a time window use the start_time index (start >= from - this). */
  private maxBucketMs: number;
  private batches = 0;
  private records = 0;
  private closed = false;

  constructor(options: SqliteFlowStoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true });
    this.db = new Database(options.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('cache_size = -65536');
    this.db.exec(SCHEMA);
    this.strings = new Dictionary(this.db, 'strings', 's', (t) => t);
    this.traces = new Dictionary(this.db, 'traces', 'hits', (t) => JSON.parse(t) as string[]);
    this.endpoints = new Dictionary(this.db, 'endpoints', 'key', endpointFromKey);
    this.insert = this.db.prepare(INSERT);
    this.rows = (this.db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    this.maxBucketMs = (this.db.prepare("SELECT value FROM meta WHERE name = 'max_bucket_ms'").get() as { value: number }).value;
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'flows'").get() as { seq: number } | undefined;
    this.lastId = seq?.seq ?? 0;
    this.appendTx = this.db.transaction((batch: FlowBatch) => this.insertBatch(batch));
  }

  private insertBatch(batch: FlowBatch): void {
    const s = this.strings;
    let last = this.lastId;
    let maxBucket = this.maxBucketMs;
    for (const l of batch.logs) {
      const d = l.endTime - l.startTime;
      if (d > maxBucket) maxBucket = d;
      const info = this.insert.run(
        l.startTime,
        l.endTime,
        s.intern(l.source.namespace),
        s.intern(l.dest.namespace),
        this.endpointId(l.source),
        this.endpointId(l.dest),
        l.source.port,
        l.dest.port,
        s.intern(l.host),
        l.reporter === 'dst' ? 1 : 0,
        actionCode(l.action),
        s.intern(l.proto),
        s.intern(l.tier),
        s.intern(l.policy),
        l.ruleIndex,
        this.traces.intern(JSON.stringify(l.policies)),
        l.pendingAction === undefined ? null : actionCode(l.pendingAction),
        l.pendingPolicies === undefined ? null : this.traces.intern(JSON.stringify(l.pendingPolicies)),
        l.packetsIn,
        l.packetsOut,
        l.bytesIn,
        l.bytesOut,
        l.numFlows,
        l.numFlowsStarted,
        l.numFlowsCompleted,
      );
      last = Number(info.lastInsertRowid);
    }
    if (batch.dropped > 0) this.db.prepare("UPDATE meta SET value = value + ? WHERE name = 'dropped'").run(batch.dropped);
    if (maxBucket > this.maxBucketMs) this.db.prepare("UPDATE meta SET value = ? WHERE name = 'max_bucket_ms'").run(maxBucket);
    this.lastId = last;
    this.maxBucketMs = maxBucket;
  }

  private endpointId(e: FlowEndpoint): number {
    const short = `${e.namespace}\u0000${e.name}\u0000${e.ip}`;
    const hit = this.recentEndpoints.get(short);
    if (hit !== undefined && sameEndpoint(hit.endpoint, e)) return hit.id;
    const id = this.endpoints.intern(endpointKey(e));
    this.recentEndpoints.set(short, { endpoint: this.endpoints.values.get(id)!, id });
    return id;
  }

  async append(batch: FlowBatch): Promise<{ accepted: number }> {
    this.assertOpen();
    const lastBefore = this.lastId;
    const maxBefore = this.maxBucketMs;
    try {
      this.appendTx(batch);
    } catch (err) {
      this.lastId = lastBefore;
      this.maxBucketMs = maxBefore;
      for (const d of this.dictionaries()) d.rollback();
      this.recentEndpoints.clear();
      throw err;
    }
    for (const d of this.dictionaries()) d.commit();
    this.rows += batch.logs.length;
    this.batches++;
    this.records += batch.logs.length;
    return { accepted: batch.logs.length };
  }

  private dictionaries(): Dictionary<unknown>[] {
    return [this.strings, this.traces, this.endpoints] as Dictionary<unknown>[];
  }

  /** The SQL for everything a filter asks but the time window's upper/lower bounds given separately. */
  private where(f: FlowFilter, m: EndpointMatchers): Where {
    const w: Where = { sql: [], params: [], empty: false };
    // Time: start_time bounds come from the index; end_time >= from is checked on the row.
    w.sql.push('start_time <= ?', 'start_time >= ?', 'end_time >= ?');
    w.params.push(f.to, f.from - this.maxBucketMs, f.from);
    const str = (v: string): number | undefined => {
      const id = this.strings.ids.get(v);
      if (id === undefined) w.empty = true;
      return id;
    };
    const eq = (column: string, id: number | undefined) => {
      if (id === undefined) return;
      w.sql.push(`${column} = ?`);
      w.params.push(id);
    };
    const inIds = (column: string, ids: readonly number[]): string => {
      w.params.push(JSON.stringify(ids));
      return `${column} IN (SELECT value FROM json_each(?))`;
    };
    for (const ns of [f.scopeNamespace, f.namespace]) {
      if (ns === undefined) continue;
      const id = str(ns);
      if (id === undefined) continue;
      w.sql.push('(src_ns = ? OR dst_ns = ?)');
      w.params.push(id, id);
    }
    if (f.srcNamespace !== undefined) eq('src_ns', str(f.srcNamespace));
    if (f.dstNamespace !== undefined) eq('dst_ns', str(f.dstNamespace));
    if (f.host !== undefined) eq('host', str(f.host));
    if (f.tier !== undefined) eq('tier', str(f.tier));
    if (f.proto !== undefined) eq('proto', str(f.proto));
    if (f.action !== undefined) eq('action', actionCode(f.action));
    if (f.reporter !== undefined) eq('reporter', f.reporter === 'dst' ? 1 : 0);
    if (f.pendingAction !== undefined) eq('pending_action', actionCode(f.pendingAction));
    if (f.port !== undefined) eq('dst_port', f.port);
    if (f.policy !== undefined) {
      const wanted = f.policy;
      const policies = this.strings.matching((s) => policyNameMatches(s, wanted));
      const traces = this.traces.matching((hits) => hits.some((h) => policyNameMatches(hitPolicyName(h), wanted)));
      if (policies.length === 0 && traces.length === 0) w.empty = true;
      else w.sql.push(`(${inIds('policy', policies)} OR ${inIds('policies', traces)})`);
    }
    for (const ok of m.either) {
      const ids = this.endpoints.matching(ok);
      if (ids.length === 0) w.empty = true;
      else w.sql.push(`(${inIds('src', ids)} OR ${inIds('dst', ids)})`);
    }
    for (const [column, list] of [['src', m.src], ['dst', m.dst]] as const) {
      for (const ok of list) {
        const ids = this.endpoints.matching(ok);
        if (ids.length === 0) w.empty = true;
        else w.sql.push(inIds(column, ids));
      }
    }
    return w;
  }

  async list(q: FlowListQuery): Promise<FlowListResult> {
    this.assertOpen();
    const limit = Math.max(1, Math.min(q.limit, MAX_FLOW_LIMIT));
    const lastId = this.lastId;
    if (q.afterId !== undefined) {
      const after = parseFlowId(q.afterId, 'afterId');
      const w = this.where(q, endpointMatchers(q));
      if (w.empty) return { items: [], lastId: String(Math.max(after, lastId)) };
      const rows = this.rowsOf(this.db.prepare(`SELECT id FROM flows WHERE id > ? AND ${w.sql.join(' AND ')} ORDER BY id LIMIT ?`).pluck().all(after, ...w.params, limit) as number[], 'ASC');
      const items = rows.map((r) => this.decode(r));
      return { items, lastId: rows.length === limit ? String(rows[rows.length - 1]!.id) : String(Math.max(after, lastId)) };
    }
    const state = q.continue !== undefined ? decodeContinue(q.continue) : { before: Number.MAX_SAFE_INTEGER, from: q.from, to: q.to };
    const f: FlowFilter = { ...q, from: state.from, to: state.to };
    const w = this.where(f, endpointMatchers(f));
    if (w.empty) return { items: [], lastId: String(lastId) };
    // `+id`: the window, not the id, picks the index (an id range scan would walk all history
    // newer than the window); ids first, then only the page's rows are read.
    const ids = this.db.prepare(`SELECT id FROM flows WHERE +id < ? AND ${w.sql.join(' AND ')} ORDER BY id DESC LIMIT ?`).pluck().all(state.before, ...w.params, limit + 1) as number[];
    const rows = this.rowsOf(ids, 'DESC');
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items = page.map((r) => this.decode(r));
    return { items, ...(more ? { continue: encodeContinue({ ...state, before: page[page.length - 1]!.id }) } : {}), lastId: String(lastId) };
  }

  private rowsOf(ids: readonly number[], order: 'ASC' | 'DESC'): FlowRow[] {
    if (ids.length === 0) return [];
    return this.db.prepare(`SELECT * FROM flows WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id ${order}`).all(JSON.stringify(ids)) as FlowRow[];
  }

  private decode(r: FlowRow): StoredFlowLog {
    const s = (id: number): string => this.strings.values.get(id) ?? '';
    const trace = (id: number): string[] => [...(this.traces.values.get(id) ?? [])];
    const ep = (id: number, port: number): FlowEndpoint => {
      const e = this.endpoints.values.get(id);
      return e === undefined ? { type: 'net', namespace: '-', name: '-', nameAggr: '-', labels: {}, ip: '-', port } : { ...e, labels: { ...e.labels }, port };
    };
    const log: FlowLog = {
      startTime: r.start_time,
      endTime: r.end_time,
      host: s(r.host),
      reporter: r.reporter === 1 ? 'dst' : 'src',
      action: ACTIONS[r.action] ?? 'allow',
      proto: s(r.proto),
      source: ep(r.src, r.src_port),
      dest: ep(r.dst, r.dst_port),
      tier: s(r.tier),
      policy: s(r.policy),
      ruleIndex: r.rule_index,
      policies: trace(r.policies),
      ...(r.pending_action !== null ? { pendingAction: ACTIONS[r.pending_action] ?? 'allow' } : {}),
      ...(r.pending_policies !== null ? { pendingPolicies: trace(r.pending_policies) } : {}),
      packetsIn: r.packets_in,
      packetsOut: r.packets_out,
      bytesIn: r.bytes_in,
      bytesOut: r.bytes_out,
      numFlows: r.num_flows,
      numFlowsStarted: r.num_started,
      numFlowsCompleted: r.num_completed,
    };
    return { ...log, id: String(r.id) };
  }

  /** Sums per (src, dst, action[, proto, port, trace]) in SQL, then hands the groups to `add`. */
  private grouped(f: FlowFilter, detail: boolean, add: (r: Parameters<TopBuilder['add']>[0]) => void): void {
    const w = this.where(f, endpointMatchers(f));
    if (w.empty) return;
    const extra = detail ? ', proto, dst_port, policies' : '';
    const sql = `SELECT src, dst, reporter, action${extra}, sum(packets_in + packets_out) AS packets, sum(bytes_in + bytes_out) AS bytes, sum(num_flows) AS flows
      FROM flows WHERE ${w.sql.join(' AND ')} GROUP BY src, dst, reporter, action${extra}`;
    for (const r of this.db.prepare(sql).iterate(...w.params) as Iterable<{ src: number; dst: number; reporter: number; action: number; proto?: number; dst_port?: number; policies?: number; packets: number; bytes: number; flows: number }>) {
      const source = this.endpoints.values.get(r.src);
      const dest = this.endpoints.values.get(r.dst);
      if (source === undefined || dest === undefined) continue;
      add({
        reporter: r.reporter === 1 ? 'dst' : 'src',
        source,
        dest,
        action: ACTIONS[r.action] ?? 'allow',
        proto: r.proto !== undefined ? (this.strings.values.get(r.proto) ?? '') : '',
        port: r.dst_port ?? 0,
        policies: r.policies !== undefined ? (this.traces.values.get(r.policies) ?? []) : [],
        packets: r.packets,
        bytes: r.bytes,
        numFlows: r.flows,
      });
    }
  }

  async top(q: FlowTopQuery): Promise<readonly FlowTopItem[]> {
    this.assertOpen();
    const b = new TopBuilder(q.group, q.reporter !== undefined);
    this.grouped(q, false, (r) => b.add(r));
    return b.result(q.by, q.limit);
  }

  async graph(f: FlowFilter): Promise<FlowGraph> {
    this.assertOpen();
    const b = new GraphBuilder(f.reporter !== undefined);
    this.grouped(f, true, (r) => b.add(r));
    return b.result();
  }

  async prune(r: FlowRetention, now: number): Promise<FlowPruneResult> {
    this.assertOpen();
    let deleted = 0;
    if (r.maxAgeMs !== undefined) {
      const cutoff = now - r.maxAgeMs;
      // In chunks, so a large prune does not hold the write lock for long.
      const del = this.db.prepare('DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE start_time < ? AND end_time < ? LIMIT ?)');
      for (;;) {
        const n = del.run(cutoff, cutoff, PRUNE_CHUNK).changes;
        deleted += n;
        this.rows -= n;
        if (n < PRUNE_CHUNK) break;
      }
    }
    if (r.maxRows !== undefined && this.rows > r.maxRows) deleted += this.deleteOldest(this.rows - r.maxRows);
    if (r.maxBytes !== undefined) {
      // Freed pages are reused, not returned: "size" is the pages in use. Deleting the oldest
      // share of rows frees less than that share of pages (index pages of other namespaces
      // empty only partly), so overshoot by half and repeat until under the bound.
      for (let round = 0; round < 16 && this.rows > 0; round++) {
        const used = this.usedBytes();
        if (used <= r.maxBytes) break;
        const share = Math.min(1, (1 - r.maxBytes / used) * 1.5 + 0.001);
        deleted += this.deleteOldest(Math.max(1, Math.ceil(this.rows * share)));
      }
    }
    if (deleted > 0) this.db.pragma('wal_checkpoint(PASSIVE)');
    return { deleted };
  }

  private deleteOldest(count: number): number {
    const row = this.db.prepare('SELECT id FROM flows ORDER BY id LIMIT 1 OFFSET ?').get(Math.min(count, this.rows) - 1) as { id: number } | undefined;
    if (row === undefined) return 0;
    let deleted = 0;
    const del = this.db.prepare('DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE id <= ? ORDER BY id LIMIT ?)');
    for (;;) {
      const n = del.run(row.id, PRUNE_CHUNK).changes;
      deleted += n;
      this.rows -= n;
      if (n < PRUNE_CHUNK) break;
    }
    return deleted;
  }

  private usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  async stats(): Promise<FlowStoreStats> {
    this.assertOpen();
    // max(end_time) has no index: look only at the buckets that can hold it.
    const span = this.db
      .prepare('SELECT min(start_time) AS oldest, (SELECT max(end_time) FROM flows WHERE start_time >= (SELECT max(start_time) FROM flows) - ?) AS newest FROM flows')
      .get(this.maxBucketMs) as { oldest: number | null; newest: number | null };
    const dropped = (this.db.prepare("SELECT value FROM meta WHERE name = 'dropped'").get() as { value: number }).value;
    return {
      rows: this.rows,
      bytes: this.usedBytes(),
      lastId: String(this.lastId),
      ...(span.oldest !== null ? { oldestStartTime: span.oldest } : {}),
      ...(span.newest !== null ? { newestEndTime: span.newest } : {}),
      batches: this.batches,
      records: this.records,
      droppedByAgents: dropped,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the flow store is closed');
  }
}
