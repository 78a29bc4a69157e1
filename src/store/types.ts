// The one storage contract every backend (memory, SQLite, etcd) implements, shaped like the
// subset of etcd v3 the API server needs: a flat, revisioned key space with prefix list/watch.
// Revisions are numbers inside the store; the API turns them into opaque resourceVersion strings.

/** A key such as `/registry/projectcalico.org/networkpolicies/shop/allow-web`: starts with `/`, never ends with `/`. */
export type StoreKey = string;

export interface StoredValue {
  readonly key: StoreKey;
  /** The stored document (a JSON object, already validated by the caller). */
  readonly value: Readonly<Record<string, unknown>>;
  /** Revision of the write that created the key (etcd create_revision). */
  readonly createRevision: number;
  /** Revision of the last write to the key (etcd mod_revision): the object's resourceVersion. */
  readonly modRevision: number;
}

export interface ListOptions {
  /**
   * Only keys under this directory: `/a/b` and `/a/b/` both list `/a/b/…`, never `/a/bc`;
   * `` lists every key.
   */
  readonly prefix: StoreKey;
  /** A filter over values, applied before the limit (label and field selectors). */
  readonly filter?: (value: Readonly<Record<string, unknown>>) => boolean;
  /** At most this many items; a continuation token is returned when more remain. */
  readonly limit?: number;
  /** Continuation token from a previous page: lists the same snapshot revision after that key. */
  readonly continue?: string;
  /** Read at this revision (0 or absent: latest); older than the compacted revision → GoneError. */
  readonly revision?: number;
}

export interface ListResult {
  readonly items: readonly StoredValue[];
  /** The revision the list was read at. */
  readonly revision: number;
  /** Present when more items remain. */
  readonly continue?: string;
  /** Items remaining after this page, when cheaply known. */
  readonly remainingItemCount?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly key: StoreKey;
  /** For DELETED, the last value before deletion. */
  readonly value: Readonly<Record<string, unknown>>;
  /** Revision of this change. */
  readonly revision: number;
}

export interface WatchOptions {
  /** A directory, as for ListOptions.prefix. */
  readonly prefix: StoreKey;
  /**
   * Deliver every change with revision > fromRevision, in revision order, never before `watch()`
   * has resolved. 0 replays all history (GoneError once anything was compacted); a list's
   * `revision` continues exactly after that list. Below the compacted revision → GoneError.
   */
  readonly fromRevision: number;
  readonly onEvent: (event: WatchEvent) => void;
  /** The watch ended abnormally (backend failure, compaction overtook it); no more events follow. */
  readonly onError: (error: Error) => void;
}

export interface Disposable {
  dispose(): void;
}

export interface Store {
  get(key: StoreKey): Promise<StoredValue | undefined>;
  list(options: ListOptions): Promise<ListResult>;
  /** Fails with AlreadyExistsError if the key exists. */
  create(key: StoreKey, value: Readonly<Record<string, unknown>>): Promise<StoredValue>;
  /**
   * Replaces the value. With `expectedModRevision`, fails with ConflictError unless the key's
   * current modRevision equals it. NotFoundError if the key does not exist.
   */
  update(key: StoreKey, value: Readonly<Record<string, unknown>>, expectedModRevision?: number): Promise<StoredValue>;
  /**
   * Deletes and returns the last value, with `modRevision` set to the deletion's revision (as in
   * the DELETED event); NotFoundError / ConflictError as for update.
   */
  delete(key: StoreKey, expectedModRevision?: number): Promise<StoredValue>;
  watch(options: WatchOptions): Promise<Disposable>;
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /**
   * Forget history at or below `revision`; later reads below it / watches from below it get
   * GoneError. The state at `revision` stays readable. On etcd this compacts the whole etcd.
   */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
