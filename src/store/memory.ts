// The in-memory backend, for tests: a small MVCC store (every key keeps its versions until
// compaction) so reads at a past revision and watch replay behave as on SQLite and etcd.
// Values are kept as JSON text, so callers get a fresh object on every read, as elsewhere.
import { BugError } from '../errors/index.js';
import { AlreadyExistsError, ConflictError, FutureRevisionError, GoneError, NotFoundError } from './errors.js';
import { checkKey, directoryPrefix, encodeContinue, listStart, parseValue, serializeValue, takePage } from './keys.js';
import type { Disposable, ListOptions, ListResult, Store, StoredValue, StoreKey, WatchOptions } from './types.js';
import { WatchHub, type RecordedEvent } from './watch-hub.js';

interface Version {
  readonly revision: number;
  readonly createRevision: number;
  /** The value written at `revision`; undefined marks a deletion. */
  readonly json: string | undefined;
}

export class MemoryStore implements Store {
  private revision = 0;
  private compacted = 0;
  /** Every key that has a version (live or deleted-but-not-compacted), versions ascending. */
  private readonly versions = new Map<StoreKey, Version[]>();
  /** The keys of `versions`, sorted. */
  private sortedKeys: StoreKey[] = [];
  /** One event per revision above `compacted`, ascending and contiguous. */
  private log: RecordedEvent[] = [];
  private readonly hub = new WatchHub();
  private closed = false;

  async get(key: StoreKey): Promise<StoredValue | undefined> {
    this.checkOpen();
    return this.current(key);
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.checkOpen();
    const start = listStart(options);
    const revision = start.revision === 0 ? this.revision : start.revision;
    this.checkReadable(revision);
    const lower = start.after !== undefined && start.after > start.dir ? start.after : start.dir;
    const { items, more } = takePage(this.scan(start.dir, lower, revision), options.filter, start.limit);
    const last = items.at(-1);
    if (!more || last === undefined) return { items, revision };
    const result: { items: StoredValue[]; revision: number; continue: string; remainingItemCount?: number } = {
      items,
      revision,
      continue: encodeContinue({ rev: revision, after: last.key }),
    };
    if (options.filter === undefined) {
      result.remainingItemCount = this.count(start.dir, last.key, revision);
    }
    return result;
  }

  async create(key: StoreKey, value: Readonly<Record<string, unknown>>): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    if (this.current(key) !== undefined) throw new AlreadyExistsError(key);
    const revision = this.write(key, { revision: this.revision + 1, createRevision: this.revision + 1, json }, 'ADDED', json);
    return { key, value: parseValue(key, json), createRevision: revision, modRevision: revision };
  }

  async update(key: StoreKey, value: Readonly<Record<string, unknown>>, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    const current = this.checkExpected(key, expectedModRevision);
    const revision = this.write(key, { revision: this.revision + 1, createRevision: current.createRevision, json }, 'MODIFIED', json);
    return { key, value: parseValue(key, json), createRevision: current.createRevision, modRevision: revision };
  }

  async delete(key: StoreKey, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const current = this.checkExpected(key, expectedModRevision);
    const json = JSON.stringify(current.value);
    const revision = this.write(key, { revision: this.revision + 1, createRevision: current.createRevision, json: undefined }, 'DELETED', json);
    return { key, value: current.value, createRevision: current.createRevision, modRevision: revision };
  }

  async watch(options: WatchOptions): Promise<Disposable> {
    this.checkOpen();
    const from = Math.max(0, options.fromRevision);
    if (from < this.compacted) throw new GoneError(from, this.compacted);
    const dir = directoryPrefix(options.prefix);
    const firstIndex = this.log.length === 0 ? 0 : Math.max(0, from + 1 - this.log[0]!.revision);
    const replay = this.log.slice(firstIndex).filter((e) => e.key.startsWith(dir));
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
    for (const [key, versions] of this.versions) {
      const at = lastAtOrBefore(versions, revision);
      if (at < 0) continue;
      // Keep the version that holds the state at `revision` when it is live; drop older ones.
      const keepFrom = versions[at]!.json === undefined ? at + 1 : at;
      if (keepFrom >= versions.length) this.versions.delete(key);
      else if (keepFrom > 0) this.versions.set(key, versions.slice(keepFrom));
    }
    this.sortedKeys = this.sortedKeys.filter((k) => this.versions.has(k));
    this.log = this.log.filter((e) => e.revision > revision);
    this.compacted = revision;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.disposeAll();
  }

  /** Live watchers, for tests that check nothing leaks. */
  get watcherCount(): number {
    return this.hub.size;
  }

  private current(key: StoreKey): StoredValue | undefined {
    const last = this.versions.get(key)?.at(-1);
    if (last?.json === undefined) return undefined;
    return { key, value: parseValue(key, last.json), createRevision: last.createRevision, modRevision: last.revision };
  }

  private checkExpected(key: StoreKey, expectedModRevision: number | undefined): StoredValue {
    const current = this.current(key);
    if (current === undefined) throw new NotFoundError(key);
    if (expectedModRevision !== undefined && current.modRevision !== expectedModRevision) {
      throw new ConflictError(key, expectedModRevision, current.modRevision);
    }
    return current;
  }

  private write(key: StoreKey, version: Version, type: RecordedEvent['type'], eventJson: string): number {
    this.revision = version.revision;
    const versions = this.versions.get(key);
    if (versions === undefined) {
      this.versions.set(key, [version]);
      this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
    } else {
      versions.push(version);
    }
    const event: RecordedEvent = { type, key, json: eventJson, revision: version.revision };
    this.log.push(event);
    this.hub.publish(event);
    return version.revision;
  }

  /** Items live at `revision` whose key starts with `dir` and sorts after `lower`, in key order. */
  private *scan(dir: string, lower: string, revision: number): Generator<StoredValue> {
    for (const { key, version } of this.versionsAt(dir, lower, revision)) {
      if (version.json === undefined) continue;
      yield { key, value: parseValue(key, version.json), createRevision: version.createRevision, modRevision: version.revision };
    }
  }

  /** Per key in `dir` after `lower`, in key order: its version at `revision`, if it had one. */
  private *versionsAt(dir: string, lower: string, revision: number): Generator<{ key: StoreKey; version: Version }> {
    const keys = this.sortedKeys;
    let i = lowerBound(keys, lower);
    if (keys[i] === lower) i++;
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.startsWith(dir)) return;
      const versions = this.versions.get(key)!;
      const version = versions[lastAtOrBefore(versions, revision)];
      if (version !== undefined) yield { key, version };
    }
  }

  /** How many items `scan` would yield, without parsing them. */
  private count(dir: string, lower: string, revision: number): number {
    let n = 0;
    for (const { version } of this.versionsAt(dir, lower, revision)) if (version.json !== undefined) n++;
    return n;
  }

  private checkReadable(revision: number): void {
    if (revision < this.compacted) throw new GoneError(revision, this.compacted);
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
  }

  private checkOpen(): void {
    if (this.closed) throw new BugError('the memory store is closed');
  }
}

/** First index whose key is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last version with revision <= `revision`, or -1. */
function lastAtOrBefore(versions: readonly Version[], revision: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid]!.revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
