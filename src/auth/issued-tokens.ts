// Bearer tokens the server issues (for agents, the console, scripts): `mgy.<id>.<secret>`. Only
// the SHA-256 of the whole token is stored, in the datastore beside the objects (so every
// replica sees it, and revocation is immediate: each request reads the record by id).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UserError } from '../errors/index.js';
import type { UserInfo } from '../rbac/index.js';
import type { Store } from '../store/index.js';

/** Outside `/registry/`: the generic resource routes never see these records. */
export const ISSUED_TOKEN_PREFIX = '/margay/auth.margay.io/tokens/';
const TOKEN_FORMAT = /^mgy\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;
/** The longest lifetime a token may be issued for (one year). */
export const MAX_TOKEN_TTL_MS = 366 * 24 * 3600 * 1000;

export interface IssuedTokenRecord {
  readonly id: string;
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** Hex SHA-256 of the whole token. */
  readonly sha256: string;
  readonly description?: string;
  readonly createdBy: string;
  readonly creationTimestamp: string;
  readonly expirationTimestamp: string;
  readonly revocationTimestamp?: string;
  readonly revokedBy?: string;
}

export interface IssueRequest {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly ttlMs: number;
  readonly description?: string;
  readonly createdBy: string;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class IssuedTokens {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Mints a token; the secret is returned here once and never stored. */
  async issue(r: IssueRequest): Promise<{ token: string; record: IssuedTokenRecord }> {
    if (r.user === '') throw new UserError({ path: 'spec.user', message: 'expected a user name' });
    if (!Number.isFinite(r.ttlMs) || r.ttlMs <= 0 || r.ttlMs > MAX_TOKEN_TTL_MS) {
      throw new UserError({ path: 'spec.expirationSeconds', message: `expected a lifetime between 1 second and 366 days, got ${String(r.ttlMs / 1000)} seconds` });
    }
    const id = randomBytes(6).toString('hex');
    const token = `mgy.${id}.${randomBytes(32).toString('base64url')}`;
    const now = this.clock();
    const record: IssuedTokenRecord = {
      id,
      user: r.user,
      ...(r.uid !== undefined ? { uid: r.uid } : {}),
      groups: [...new Set(r.groups)],
      sha256: sha256(token).toString('hex'),
      ...(r.description !== undefined ? { description: r.description } : {}),
      createdBy: r.createdBy,
      creationTimestamp: now.toISOString(),
      expirationTimestamp: new Date(now.getTime() + r.ttlMs).toISOString(),
    };
    await this.store.create(`${ISSUED_TOKEN_PREFIX}${id}`, record as unknown as Record<string, unknown>);
    return { token, record };
  }

  async list(): Promise<IssuedTokenRecord[]> {
    const listed = await this.store.list({ prefix: ISSUED_TOKEN_PREFIX });
    return listed.items.map((i) => i.value as unknown as IssuedTokenRecord).sort((a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp));
  }

  async get(id: string): Promise<IssuedTokenRecord | undefined> {
    if (!/^[0-9a-f]{12}$/.test(id)) return undefined;
    return (await this.store.get(`${ISSUED_TOKEN_PREFIX}${id}`))?.value as unknown as IssuedTokenRecord | undefined;
  }

  /** Marks a token revoked (the record stays, for the audit trail); undefined when unknown. */
  async revoke(id: string, by: string): Promise<IssuedTokenRecord | undefined> {
    if (!/^[0-9a-f]{12}$/.test(id)) return undefined;
    const key = `${ISSUED_TOKEN_PREFIX}${id}`;
    const stored = await this.store.get(key);
    if (stored === undefined) return undefined;
    const current = stored.value as unknown as IssuedTokenRecord;
    if (current.revocationTimestamp !== undefined) return current;
    const revoked: IssuedTokenRecord = { ...current, revocationTimestamp: this.clock().toISOString(), revokedBy: by };
    await this.store.update(key, revoked as unknown as Record<string, unknown>, stored.modRevision);
    return revoked;
  }

  /** The user of a valid token; undefined for a malformed, unknown, expired or revoked one. */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    const m = TOKEN_FORMAT.exec(token);
    if (m === null) return undefined;
    const record = await this.get(m[1] ?? '');
    if (record === undefined || record.revocationTimestamp !== undefined) return undefined;
    if (Date.parse(record.expirationTimestamp) <= this.clock().getTime()) return undefined;
    const want = Buffer.from(record.sha256, 'hex');
    const got = sha256(token);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    const groups = record.groups.includes('system:authenticated') ? [...record.groups] : [...record.groups, 'system:authenticated'];
    return { name: record.user, ...(record.uid !== undefined ? { uid: record.uid } : {}), groups };
  }
}

/** True when a token has the issued-token shape (so the static lookups can be skipped). */
export const isIssuedTokenFormat = (token: string): boolean => TOKEN_FORMAT.test(token);
