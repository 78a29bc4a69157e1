// The embedded default backend: one SQLite file in the data directory, owned by one process.
// `kv` holds the current keys, `history` one row per revision (what watches replay and past
// reads reconstruct); both change with the revision counter in one fsync'd transaction.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BugError, UserError } from '../errors/index.js';
import { AlreadyExistsError, ConflictError, FutureRevisionError, GoneError, NotFoundError } from './errors.js';
import { checkKey, directoryPrefix, directoryUpperBound as upperBound, encodeContinue, listStart, parseValue, serializeValue, takePage } from './keys.js';
import type { Disposable, ListOptions, ListResult, Store, StoredValue, StoreKey, WatchOptions } from './types.js';
import { WatchHub, type RecordedEvent } from './watch-hub.js';

export interface SqliteStoreOptions {
  /** Directory holding `store.db` (created if missing). */
  readonly dataDir: string;
  /**
   * `full` (the default) fsyncs every commit: an acknowledged write survives a crash or power
   * loss. `normal` survives a crash of the process but not of the machine; benchmarks use it
   * to load data quickly. Nothing else should.
   */
  readonly synchronous?: 'full' | 'normal';
}

interface Row {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}

interface WriteResult {
  readonly revision: number;
  readonly createRevision: number;
  /** The value before the write, if the key existed. */
  readonly previous: string | undefined;
}

interface HistoryRow {
  revision: number;
  key: string;
  type: RecordedEvent['type'];
  value: string;
}

const SCHEMA_VERSION = 1;
const BATCH = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 0), ('compacted', 0);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_key_revision ON history (key, revision);
`;

/** The file inside the data directory. */
export const SQLITE_FILE = 'store.db';
const OWNER_FILE = 'store.pid';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private revision: number;
  private compacted: number;
  private readonly hub = new WatchHub();
  private closed = false;
  private readonly stmt: Statements;
  private readonly writeTx: Database.Transaction<(key: string, type: RecordedEvent['type'], json: string | undefined, expected: number | undefined) => WriteResult>;

  constructor(options: SqliteStoreOptions) {
    const dataDir = options.dataDir;
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, SQLITE_FILE), { timeout: 0 });
    try {
      // EXCLUSIVE locking before WAL: SQLite keeps its lock on the file until close (the kernel
      // drops it if we die), so a second process fails here instead of sharing the file.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new BugError(`SQLite refused WAL mode for ${dataDir} (got ${String(mode)})`);
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.exec('BEGIN EXCLUSIVE');
      db.exec(SCHEMA);
      db.exec('COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw lockedError(dataDir);
      throw err;
    }
    this.db = db;
    try {
      writeFileSync(join(dataDir, OWNER_FILE), `${process.pid}\n`);
    } catch {
      // Only used to name the owner in an error message.
    }
    const meta = (name: string): number => (db.prepare('SELECT value FROM meta WHERE name = ?').pluck().get(name) as number | undefined) ?? 0;
    const schema = meta('schema');
    if (schema !== SCHEMA_VERSION) {
      db.close();
      throw new UserError({ file: join(dataDir, SQLITE_FILE), message: `expected store schema ${SCHEMA_VERSION}, found ${schema}` });
    }
    this.revision = meta('revision');
    this.compacted = meta('compacted');

    this.stmt = prepareStatements(db);

    // One revision per write: the check, the row, the history entry and the counter commit together.
    this.writeTx = db.transaction((key: string, type: RecordedEvent['type'], json: string | undefined, expected: number | undefined): WriteResult => {
      const current = this.stmt.get.get(key);
      const revision = this.revision + 1;
      if (type === 'ADDED') {
        if (current !== undefined) throw new AlreadyExistsError(key);
        this.stmt.insertKv.run(key, json!, revision, revision);
        this.stmt.insertHistory.run(revision, key, type, json!, revision);
      } else {
        if (current === undefined) throw new NotFoundError(key);
        if (expected !== undefined && current.mod_revision !== expected) throw new ConflictError(key, expected, current.mod_revision);
        if (type === 'MODIFIED') this.stmt.updateKv.run(json!, revision, key);
        else this.stmt.deleteKv.run(key);
        this.stmt.insertHistory.run(revision, key, type, json ?? current.value, current.create_revision);
      }
      this.stmt.setMeta.run(revision, 'revision');
      return { revision, createRevision: current?.create_revision ?? revision, previous: current?.value };
    });
  }

  async get(key: StoreKey): Promise<StoredValue | undefined> {
    this.checkOpen();
    const row = this.stmt.get.get(key);
    return row === undefined ? undefined : toStored(row);
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.checkOpen();
    const start = listStart(options);
    const revision = start.revision === 0 ? this.revision : start.revision;
    this.checkReadable(revision);
    const upper = upperBound(start.dir);
    const lower = start.after !== undefined && start.after > start.dir ? start.after : start.dir;
    const latest = revision === this.revision;
    const batch = options.filter === undefined && start.limit !== undefined ? Math.min(BATCH, start.limit + 1) : BATCH;
    const { items, more } = takePage(this.scan(lower, upper, latest ? undefined : revision, batch), options.filter, start.limit);
    const last = items.at(-1);
    if (!more || last === undefined) return { items, revision };
    const result: { items: StoredValue[]; revision: number; continue: string; remainingItemCount?: number } = {
      items,
      revision,
      continue: encodeContinue({ rev: revision, after: last.key }),
    };
    if (options.filter === undefined) {
      result.remainingItemCount = latest ? this.stmt.countLatest.get(last.key, upper)! : this.stmt.countAt.get({ after: last.key, upper, rev: revision })!;
    }
    return result;
  }

  async create(key: StoreKey, value: Readonly<Record<string, unknown>>): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    const { revision } = this.commit(key, 'ADDED', json, undefined);
    return { key, value: parseValue(key, json), createRevision: revision, modRevision: revision };
  }

  async update(key: StoreKey, value: Readonly<Record<string, unknown>>, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    const { revision, createRevision } = this.commit(key, 'MODIFIED', json, expectedModRevision);
    return { key, value: parseValue(key, json), createRevision, modRevision: revision };
  }

  async delete(key: StoreKey, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const { revision, createRevision, previous } = this.commit(key, 'DELETED', undefined, expectedModRevision);
    return { key, value: parseValue(key, previous!), createRevision, modRevision: revision };
  }

  async watch(options: WatchOptions): Promise<Disposable> {
    this.checkOpen();
    const from = Math.max(0, options.fromRevision);
    if (from < this.compacted) throw new GoneError(from, this.compacted);
    const dir = directoryPrefix(options.prefix);
    const replay = this.stmt.replay
      .all(from, dir, upperBound(dir))
      .map((row): RecordedEvent => ({ type: row.type, key: row.key, json: row.value, revision: row.revision }));
    return this.hub.subscribe(dir, replay, options);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.revision) throw new BugError(`cannot compact at ${revision}: the store is at ${this.revision}`);
    if (revision <= this.compacted) return;
    this.db.transaction(() => {
      this.stmt.compact.run({ rev: revision });
      this.stmt.setMeta.run(revision, 'compacted');
    }).immediate();
    this.compacted = revision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.disposeAll();
    this.db.close();
  }

  /** Live watchers, for tests that check nothing leaks. */
  get watcherCount(): number {
    return this.hub.size;
  }

  private commit(key: string, type: RecordedEvent['type'], json: string | undefined, expected: number | undefined): WriteResult {
    const result = this.writeTx.immediate(key, type, json, expected);
    this.revision = result.revision;
    this.hub.publish({ type, key, json: json ?? result.previous!, revision: result.revision });
    return result;
  }

  /** Rows of the snapshot after `lower`, in key order; `at` undefined reads the current table. */
  private *scan(lower: string, upper: string, at: number | undefined, batch: number): Generator<StoredValue> {
    let after = lower;
    for (;;) {
      const rows = at === undefined ? this.stmt.listLatest.all(after, upper, batch) : this.stmt.listAt.all({ after, upper, rev: at, limit: batch });
      for (const row of rows) yield toStored(row);
      const last = rows.at(-1);
      if (rows.length < batch || last === undefined) return;
      after = last.key;
    }
  }

  private checkReadable(revision: number): void {
    if (revision < this.compacted) throw new GoneError(revision, this.compacted);
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
  }

  private checkOpen(): void {
    if (this.closed) throw new BugError('the SQLite store is closed');
  }
}

function prepareStatements(db: Database.Database) {
return {
    get: db.prepare<[string], Row>('SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?'),
    insertKv: db.prepare<[string, string, number, number]>('INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)'),
    updateKv: db.prepare<[string, number, string]>('UPDATE kv SET value = ?, mod_revision = ? WHERE key = ?'),
    deleteKv: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
    insertHistory: db.prepare<[number, string, string, string, number]>(
      'INSERT INTO history (revision, key, type, value, create_revision) VALUES (?, ?, ?, ?, ?)',
    ),
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
    listLatest: db.prepare<[string, string, number], Row>(
      'SELECT key, value, create_revision, mod_revision FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?',
    ),
    countLatest: db.prepare<[string, string], number>('SELECT COUNT(*) FROM kv WHERE key > ? AND key < ?').pluck(),
    // The state at a past revision: per key, its last history row at or before it, unless a deletion.
    listAt: db.prepare<[{ after: string; upper: string; rev: number; limit: number }], Row>(`
      SELECT h.key AS key, h.value AS value, h.create_revision AS create_revision, h.revision AS mod_revision
      FROM history h
      WHERE h.key > @after AND h.key < @upper AND h.type != 'DELETED'
        AND h.revision = (SELECT MAX(h2.revision) FROM history h2 WHERE h2.key = h.key AND h2.revision <= @rev)
      ORDER BY h.key LIMIT @limit`),
    countAt: db.prepare<[{ after: string; upper: string; rev: number }], number>(`
      SELECT COUNT(*) FROM history h
      WHERE h.key > @after AND h.key < @upper AND h.type != 'DELETED'
        AND h.revision = (SELECT MAX(h2.revision) FROM history h2 WHERE h2.key = h.key AND h2.revision <= @rev)`).pluck(),
    replay: db.prepare<[number, string, string], HistoryRow>(
      // `+key`: walk the revision range (watches start from a recent revision), not the key index.
      'SELECT revision, key, type, value FROM history WHERE revision > ? AND +key > ? AND +key < ? ORDER BY revision',
    ),
    // Compaction keeps, per key, the row that holds its live state at the compacted revision.
    compact: db.prepare<[{ rev: number }]>(`
      DELETE FROM history WHERE revision <= @rev AND (type = 'DELETED' OR EXISTS (
        SELECT 1 FROM history h2 WHERE h2.key = history.key AND h2.revision > history.revision AND h2.revision <= @rev))`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function toStored(row: Row): StoredValue {
  return { key: row.key, value: parseValue(row.key, row.value), createRevision: row.create_revision, modRevision: row.mod_revision };
}

function lockedError(dataDir: string): UserError {
  let owner = '';
  try {
    const pid = readFileSync(join(dataDir, OWNER_FILE), 'utf8').trim();
    if (/^\d+$/.test(pid)) owner = ` (process ${pid})`;
  } catch {
    // No owner file: say nothing about the owner.
  }
  return new UserError({
    file: dataDir,
    message: `the data directory is in use by another Margay process${owner}; stop it or choose another --data-dir`,
  });
}
