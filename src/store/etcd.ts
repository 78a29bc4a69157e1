// The shared backend: etcd v3, for several control-plane replicas on one state. Revisions are
// etcd's own; every write is one transaction guarded by create_revision/mod_revision, so the
// optimistic-concurrency check and the write cannot be separated by another replica's write.
import { Etcd3, type IKeyValue, type IRangeResponse, type IWatchResponse, type Watcher } from 'etcd3';
import { BugError } from '../errors/index.js';
import { AlreadyExistsError, ConflictError, FutureRevisionError, GoneError, NotFoundError } from './errors.js';
import {
  checkKey,
  directoryPrefix,
  directoryUpperBound,
  encodeContinue,
  listStart,
  parseValue,
  serializeValue,
} from './keys.js';
import type { Disposable, ListOptions, ListResult, Store, StoredValue, StoreKey, WatchOptions } from './types.js';
import { WatchQueue } from './watch-hub.js';

export interface EtcdStoreOptions {
  /** Client URLs such as `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /**
   * Prepended to every key in etcd (`/margay` stores `/registry/x` as `/margay/registry/x`), so
   * several clusters or tests share one etcd. Default: none.
   */
  readonly prefix?: string;
  /** How long to wait for a connection; default 5 s. */
  readonly dialTimeoutMs?: number;
}

/** Keys fetched per range request while listing. */
const BATCH = 1000;

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly root: string;
  private readonly watches = new Set<EtcdWatch>();
  private readonly cancelling = new Set<Promise<void>>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    this.root = (options.prefix ?? '').replace(/\/+$/, '');
    if (this.root !== '' && !this.root.startsWith('/')) throw new BugError(`etcd key prefix ${JSON.stringify(options.prefix)} must start with "/"`);
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: options.dialTimeoutMs ?? 5_000,
      // A page of large objects can exceed gRPC's default 4 MiB message limit.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    });
  }

  async get(key: StoreKey): Promise<StoredValue | undefined> {
    this.checkOpen();
    const res = await this.client.kv.range({ key: this.encode(key) });
    const kv = res.kvs[0];
    return kv === undefined ? undefined : this.toStored(kv);
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.checkOpen();
    const start = listStart(options);
    const { filter, limit } = { filter: options.filter, limit: start.limit };
    const end = this.encode(directoryUpperBound(start.dir));
    let from = start.after !== undefined && start.after > start.dir ? keyAfter(this.encode(start.after)) : this.encode(rangeStart(start.dir));
    let revision = start.revision;
    const batch = filter === undefined && limit !== undefined ? Math.min(BATCH, limit) : BATCH;
    const items: StoredValue[] = [];
    let more = false;
    let remaining: number | undefined;
    page: for (;;) {
      const res: IRangeResponse = await this.read(revision, () =>
        this.client.kv.range({ key: from, range_end: end, revision, limit: batch }),
      );
      // The first range fixes the snapshot; every later one reads at the same revision.
      if (revision === 0) revision = Number(res.header.revision);
      for (const [i, kv] of res.kvs.entries()) {
        const item = this.toStored(kv);
        if (filter !== undefined && !filter(item.value)) continue;
        if (limit !== undefined && items.length === limit) {
          more = true;
          if (filter === undefined) remaining = Number(res.count) - i;
          break page;
        }
        items.push(item);
      }
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) break;
      if (filter === undefined && limit !== undefined && items.length === limit) {
        more = true;
        remaining = Number(res.count) - res.kvs.length;
        break;
      }
      from = keyAfter(last.key);
    }
    const lastItem = items.at(-1);
    if (!more || lastItem === undefined) return { items, revision };
    const token = encodeContinue({ rev: revision, after: lastItem.key });
    return remaining === undefined
      ? { items, revision, continue: token }
      : { items, revision, continue: token, remainingItemCount: remaining };
  }

  async create(key: StoreKey, value: Readonly<Record<string, unknown>>): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    const k = this.encode(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(json, 'utf8') } }],
      failure: [],
    });
    if (!res.succeeded) throw new AlreadyExistsError(key);
    const revision = Number(res.header.revision);
    return { key, value: parseValue(key, json), createRevision: revision, modRevision: revision };
  }

  async update(key: StoreKey, value: Readonly<Record<string, unknown>>, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const json = serializeValue(key, value);
    const k = this.encode(key);
    const res = await this.client.kv.txn({
      compare: this.guard(k, expectedModRevision),
      success: [{ request_put: { key: k, value: Buffer.from(json, 'utf8'), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.refusal(key, expectedModRevision, res.responses[0]?.response_range);
    const previous = res.responses[0]?.response_put.prev_kv;
    if (previous === undefined || previous === null) throw new BugError(`etcd did not return the previous value of ${key}`);
    return { key, value: parseValue(key, json), createRevision: Number(previous.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: StoreKey, expectedModRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    const k = this.encode(key);
    const res = await this.client.kv.txn({
      compare: this.guard(k, expectedModRevision),
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) throw this.refusal(key, expectedModRevision, res.responses[0]?.response_range);
    const previous = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (previous === undefined) throw new BugError(`etcd did not return the deleted value of ${key}`);
    return {
      key,
      value: parseValue(key, previous.value.toString('utf8')),
      createRevision: Number(previous.create_revision),
      modRevision: Number(res.header.revision),
    };
  }

  async watch(options: WatchOptions): Promise<Disposable> {
    this.checkOpen();
    const from = Math.max(0, options.fromRevision);
    // Fail a too-old start up front, as the other backends do: a read at `from` fails exactly
    // when etcd has compacted past it. A future `from` is fine for a watch.
    try {
      await this.read(Math.max(from, 1), () => this.client.kv.range({ key: this.encode('/'), revision: Math.max(from, 1), count_only: true }));
    } catch (err) {
      if (!(err instanceof FutureRevisionError)) throw err;
    }
    const dir = directoryPrefix(options.prefix);
    const watcher = this.client
      .watch()
      .inRange({ start: this.encode(rangeStart(dir)), end: this.encode(directoryUpperBound(dir)) })
      .withPreviousKV()
      .startRevision(String(from + 1))
      .watcher();
    const watch = new EtcdWatch(this, watcher, from, options);
    this.watches.add(watch);
    await watch.started;
    return watch;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    const res = await this.client.kv.range({ key: this.encode('/'), count_only: true });
    return Number(res.header.revision);
  }

  /** Compaction in etcd is global: it applies to every prefix sharing this etcd. */
  async compact(revision: number): Promise<void> {
    this.checkOpen();
    try {
      await this.client.kv.compact({ revision, physical: true });
    } catch (err) {
      if (isCompactedError(err)) return; // already compacted at or past `revision`
      if (isFutureError(err)) throw new BugError(`cannot compact at ${revision}: etcd has not reached it`);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.dispose();
    // etcd acknowledges cancellations; do not let an unresponsive etcd hold close() forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.cancelling]),
      new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
    ]);
    clearTimeout(timer);
    this.client.close();
  }

  /** @internal Called by a watch that ended; `cancel` is etcd's acknowledgement. */
  forget(watch: EtcdWatch, cancel: Promise<void> | undefined): void {
    this.watches.delete(watch);
    if (cancel === undefined) return;
    const tracked = cancel.catch(() => undefined).finally(() => this.cancelling.delete(tracked));
    this.cancelling.add(tracked);
  }

  /** @internal Turns a watch failure into GoneError when etcd has compacted past `needed`. */
  async explainWatchError(err: Error, needed: number): Promise<Error> {
    if (isCompactedError(err)) return new GoneError(needed);
    if (this.closed) return err;
    try {
      await this.client.kv.range({ key: this.encode('/'), revision: Math.max(needed, 1), count_only: true });
    } catch (probe) {
      if (isCompactedError(probe)) return new GoneError(needed);
    }
    return err;
  }

  /** @internal */
  encode(key: string): Buffer {
    return Buffer.from(this.root + key, 'utf8');
  }

  /** @internal */
  decode(key: Buffer): string {
    const text = key.toString('utf8');
    if (!text.startsWith(this.root)) throw new BugError(`etcd returned key ${text} outside prefix ${this.root}`);
    return text.slice(this.root.length);
  }

  private toStored(kv: IKeyValue): StoredValue {
    const key = this.decode(kv.key);
    return {
      key,
      value: parseValue(key, kv.value.toString('utf8')),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /** The key exists and, when given, is still at `expected`. */
  private guard(k: Buffer, expected: number | undefined) {
    const exists = { key: k, target: 'Create', result: 'Greater', create_revision: 0 } as const;
    return expected === undefined ? [exists] : [exists, { key: k, target: 'Mod', result: 'Equal', mod_revision: expected } as const];
  }

  private refusal(key: StoreKey, expected: number | undefined, current: IRangeResponse | undefined): Error {
    const kv = current?.kvs[0];
    if (kv === undefined || expected === undefined) return new NotFoundError(key);
    return new ConflictError(key, expected, Number(kv.mod_revision));
  }

  /** Runs a read at `revision`, mapping etcd's compacted/future refusals to store errors. */
  private async read<T>(revision: number, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isCompactedError(err)) throw new GoneError(revision);
      if (isFutureError(err)) throw new FutureRevisionError(revision);
      throw err;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new BugError('the etcd store is closed');
  }
}

/** One etcd watcher feeding one delivery queue. */
class EtcdWatch implements Disposable {
  readonly started: Promise<void>;
  /** Revision of the last event received: a reconnect resumes after it. */
  private last: number;
  private readonly queue: WatchQueue;
  /** etcd has already cancelled the watcher: there is nothing left to cancel. */
  private cancelledByEtcd = false;

  constructor(
    private readonly store: EtcdStore,
    private readonly watcher: Watcher,
    from: number,
    options: WatchOptions,
  ) {
    this.last = from;
    this.queue = new WatchQueue(options, () => this.store.forget(this, this.cancelledByEtcd ? undefined : this.watcher.cancel()));
    this.started = new Promise<void>((resolve, reject) => {
      const onConnected = (): void => {
        watcher.off('error', onStartError);
        watcher.on('error', (err: Error) => this.onError(err));
        resolve();
      };
      const onStartError = (err: Error): void => {
        this.cancelledByEtcd = true;
        watcher.off('connected', onConnected);
        this.queue.dispose();
        void this.store.explainWatchError(err, this.last).then(reject);
      };
      watcher.once('connected', onConnected);
      watcher.once('error', onStartError);
    });
    watcher.on('data', (res: IWatchResponse) => this.onData(res));
    // etcd3 resumes a dropped stream from the last header revision it saw, which can be past
    // events it has not delivered yet; resume from what this watch really received instead.
    watcher.on('disconnected', () => {
      watcher.request.start_revision = String(this.last + 1);
    });
  }

  dispose(): void {
    this.queue.dispose();
  }

  private onData(res: IWatchResponse): void {
    for (const ev of res.events) {
      if (this.queue.disposed) return;
      const key = this.store.decode(ev.kv.key);
      const revision = Number(ev.kv.mod_revision);
      this.last = revision;
      if (ev.type === 'Put') {
        const type = ev.kv.create_revision === ev.kv.mod_revision ? 'ADDED' : 'MODIFIED';
        this.queue.push({ type, key, json: ev.kv.value.toString('utf8'), revision });
      } else if (ev.prev_kv !== undefined && ev.prev_kv !== null) {
        this.queue.push({ type: 'DELETED', key, json: ev.prev_kv.value.toString('utf8'), revision });
      } else {
        this.queue.fail(new Error(`etcd reported the deletion of ${key} at revision ${revision} without its last value`));
        return;
      }
    }
  }

  private onError(err: Error): void {
    this.cancelledByEtcd = true;
    if (this.queue.disposed) return;
    const needed = this.last;
    void this.store.explainWatchError(err, needed).then((explained) => this.queue.fail(explained));
  }
}

/** The first key of a directory; etcd refuses an empty range start, and every key starts with `/`. */
function rangeStart(dir: string): string {
  return dir === '' ? '/' : dir;
}

function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

function isCompactedError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision has been compacted');
}

function isFutureError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision is a future revision');
}
