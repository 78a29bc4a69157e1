// The store module: a revisioned key-value store with watch, behind one interface, with
// memory, SQLite and etcd backends.
export type {
  StoreKey,
  StoredValue,
  ListOptions,
  ListResult,
  WatchEventType,
  WatchEvent,
  WatchOptions,
  Disposable,
  Store,
} from './types.js';
export {
  StoreError,
  NotFoundError,
  AlreadyExistsError,
  ConflictError,
  GoneError,
  FutureRevisionError,
  InvalidContinueError,
  isStoreError,
  isNotFound,
  isAlreadyExists,
  isConflict,
  isGone,
  isFutureRevision,
  isInvalidContinue,
} from './errors.js';
export type { StoreErrorReason } from './errors.js';
export { MemoryStore } from './memory.js';
export { SqliteStore, SQLITE_FILE } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { EtcdStore } from './etcd.js';
export type { EtcdStoreOptions } from './etcd.js';
export { openStore } from './open.js';
export type { StoreConfig } from './open.js';
export { startEtcdServer, DEFAULT_ETCD_BINARY } from './etcd-server.js';
export type { EtcdServer, EtcdServerOptions } from './etcd-server.js';
