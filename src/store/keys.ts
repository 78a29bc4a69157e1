// Rules every backend shares for keys, prefixes, continue tokens and paging, so that the three
// answer a list or a watch identically.
import { BugError } from '../errors/index.js';
import { InvalidContinueError } from './errors.js';
import type { ListOptions, StoreKey, StoredValue } from './types.js';

/** Keys are absolute paths of segments: `/registry/pods/ns/name`, never ending in `/`. */
export function checkKey(key: StoreKey): void {
  if (typeof key !== 'string' || !key.startsWith('/') || key.endsWith('/') || key.includes('\0')) {
    throw new BugError(`store key ${JSON.stringify(key)} must start with "/", not end with "/" and hold no NUL`);
  }
}

/**
 * A list or watch prefix names a directory: `/a/b` covers `/a/b/…` and never `/a/bc`
 * (Kubernetes' storage does the same). The empty prefix covers every key.
 */
export function directoryPrefix(prefix: StoreKey): string {
  if (prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * The exclusive upper bound of a directory's keys in byte order: `/a/b/` → `/a/b0` (`0` follows
 * `/`), and `` → `0`, above every key since keys start with `/`.
 */
export function directoryUpperBound(dir: string): string {
  return dir === '' ? '0' : `${dir.slice(0, -1)}0`;
}

/** Keys in a prefix compare as JavaScript strings; for the ASCII keys Kubernetes uses this is byte order. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where a page starts: at `rev`, after key `after` (exclusive). */
export interface ContinueToken {
  readonly rev: number;
  readonly after: StoreKey;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ rev: token.rev, after: token.after }), 'utf8').toString('base64url');
}

export function decodeContinue(text: string): ContinueToken {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidContinueError('expected a token returned by a previous list');
  }
  const rev = (parsed as { rev?: unknown } | null)?.rev;
  const after = (parsed as { after?: unknown } | null)?.after;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1 || typeof after !== 'string') {
    throw new InvalidContinueError('expected a token returned by a previous list');
  }
  return { rev, after };
}

/** What a list reads: the snapshot revision (0 = latest) and the key to start after. */
export interface ListStart {
  readonly dir: string;
  readonly revision: number;
  readonly after: StoreKey | undefined;
  readonly limit: number | undefined;
}

export function listStart(options: ListOptions): ListStart {
  const dir = directoryPrefix(options.prefix);
  const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : undefined;
  if (options.continue === undefined || options.continue === '') {
    return { dir, revision: options.revision ?? 0, after: undefined, limit };
  }
  const token = decodeContinue(options.continue);
  if (options.revision !== undefined && options.revision !== 0 && options.revision !== token.rev) {
    throw new InvalidContinueError('a continue token cannot be combined with a different resourceVersion');
  }
  return { dir, revision: token.rev, after: token.after, limit };
}

/**
 * The paging rule shared by all backends: keep items in key order that pass the filter until
 * `limit` are taken; a continue token is returned only when one more matching item exists.
 * `candidates` yields the snapshot's items after the start key, in key order.
 */
export function takePage(
  candidates: Iterable<StoredValue>,
  filter: ListOptions['filter'],
  limit: number | undefined,
): { items: StoredValue[]; more: boolean } {
  const items: StoredValue[] = [];
  for (const item of candidates) {
    if (filter !== undefined && !filter(item.value)) continue;
    if (limit !== undefined && items.length === limit) return { items, more: true };
    items.push(item);
  }
  return { items, more: false };
}

/** Parses a stored JSON document; anything else under our keys means the store was corrupted. */
export function parseValue(key: StoreKey, json: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new BugError(`stored value of ${key} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BugError(`stored value of ${key} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Serializes a value for storage; values are JSON documents (the caller validated them). */
export function serializeValue(key: StoreKey, value: Readonly<Record<string, unknown>>): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BugError(`value for ${key} must be a JSON object`);
  }
  return JSON.stringify(value);
}
