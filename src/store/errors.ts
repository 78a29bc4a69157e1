// The expected failures of a store operation, one class per Kubernetes Status reason, so the API
// server maps them to responses without parsing messages. None of them is a bug: each is what a
// client's request ran into (a missing key, a stale resourceVersion, a compacted revision).
import { UserError } from '../errors/index.js';
import type { StoreKey } from './types.js';

/** The Kubernetes `Status.reason` each store error maps to. */
export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Timeout' | 'BadRequest';

/** Base of every expected store failure; `code` is the HTTP status the API answers with. */
export abstract class StoreError extends UserError {
  abstract readonly reason: StoreErrorReason;
  abstract readonly code: number;
}

/** The key does not exist (get of a missing key is not an error: it resolves to undefined). */
export class NotFoundError extends StoreError {
  readonly reason = 'NotFound';
  readonly code = 404;
  readonly key: StoreKey;
  constructor(key: StoreKey) {
    super({ message: `${key} not found` });
    this.name = 'NotFoundError';
    this.key = key;
  }
}

export class AlreadyExistsError extends StoreError {
  readonly reason = 'AlreadyExists';
  readonly code = 409;
  readonly key: StoreKey;
  constructor(key: StoreKey) {
    super({ message: `${key} already exists` });
    this.name = 'AlreadyExistsError';
    this.key = key;
  }
}

/** Optimistic concurrency failed: the key was written since the caller read it. */
export class ConflictError extends StoreError {
  readonly reason = 'Conflict';
  readonly code = 409;
  readonly key: StoreKey;
  readonly expectedModRevision: number;
  /** The key's modRevision when the write was refused, when known. */
  readonly actualModRevision: number | undefined;
  constructor(key: StoreKey, expectedModRevision: number, actualModRevision?: number) {
    const actual = actualModRevision === undefined ? '' : `, it is now at ${actualModRevision}`;
    super({
      message: `${key} was modified: expected revision ${expectedModRevision}${actual}; read it again and retry`,
    });
    this.name = 'ConflictError';
    this.key = key;
    this.expectedModRevision = expectedModRevision;
    this.actualModRevision = actualModRevision;
  }
}

/**
 * The revision asked for (a list at a revision, a watch from a revision, a continue token) is
 * older than the store's compaction: the caller must list again from the latest revision.
 * Kubernetes answers this with 410 and reason `Expired` ("too old resource version").
 */
export class GoneError extends StoreError {
  readonly reason = 'Expired';
  readonly code = 410;
  readonly requestedRevision: number;
  /** The revision the store was compacted at, when the backend reports it. */
  readonly compactedRevision: number | undefined;
  constructor(requestedRevision: number, compactedRevision?: number) {
    const at = compactedRevision === undefined ? '' : ` (compacted at ${compactedRevision})`;
    super({ message: `too old resource version: ${requestedRevision}${at}` });
    this.name = 'GoneError';
    this.requestedRevision = requestedRevision;
    this.compactedRevision = compactedRevision;
  }
}

/** A read at a revision the store has not reached yet (Kubernetes: 504 "Too large resource version"). */
export class FutureRevisionError extends StoreError {
  readonly reason = 'Timeout';
  readonly code = 504;
  readonly requestedRevision: number;
  readonly currentRevision: number | undefined;
  constructor(requestedRevision: number, currentRevision?: number) {
    const now = currentRevision === undefined ? '' : `, current: ${currentRevision}`;
    super({ message: `Too large resource version: ${requestedRevision}${now}` });
    this.name = 'FutureRevisionError';
    this.requestedRevision = requestedRevision;
    this.currentRevision = currentRevision;
  }
}

/** A continue token that no list of this store produced (garbled, truncated, hand-made). */
export class InvalidContinueError extends StoreError {
  readonly reason = 'BadRequest';
  readonly code = 400;
  constructor(detail: string) {
    super({ path: 'continue', message: `continue token is not valid: ${detail}` });
    this.name = 'InvalidContinueError';
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
export function isAlreadyExists(err: unknown): err is AlreadyExistsError {
  return err instanceof AlreadyExistsError;
}
export function isConflict(err: unknown): err is ConflictError {
  return err instanceof ConflictError;
}
export function isGone(err: unknown): err is GoneError {
  return err instanceof GoneError;
}
export function isFutureRevision(err: unknown): err is FutureRevisionError {
  return err instanceof FutureRevisionError;
}
export function isInvalidContinue(err: unknown): err is InvalidContinueError {
  return err instanceof InvalidContinueError;
}
