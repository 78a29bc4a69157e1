// `margay token create|list|revoke`: server-issued bearer tokens through the API
// (/apis/auth.margay.io/v1/tokens), so RBAC and the audit log see every issue and revocation.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration } from '../audit/index.js';
import { UserError } from '../errors/index.js';
import type { CommandIo } from './simulate.js';
import { apiCall, clusterAccess, type KubeconfigFlags } from './token-http.js';

const BASE = '/apis/auth.margay.io/v1/tokens';

interface TokenObject {
  metadata: { name: string; creationTimestamp: string; annotations?: Record<string, string> };
  spec: { user: string; groups: string[]; description?: string };
  status: { expirationTimestamp: string; revoked: boolean; revocationTimestamp?: string; token?: string };
}

export interface TokenCreateFlags extends KubeconfigFlags {
  user: string;
  group: string[];
  ttl: string;
  description?: string;
  output?: string;
}

export async function tokenCreateCommand(f: TokenCreateFlags, io: CommandIo): Promise<number> {
  const ttlMs = parseDuration(f.ttl, '--ttl');
  if (ttlMs < 1000 || ttlMs % 1000 !== 0) throw new UserError({ path: '--ttl', message: `expected a whole number of seconds of at least 1s, got ${JSON.stringify(f.ttl)}` });
  const groups = f.group.flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '');
  const body = {
    apiVersion: 'auth.margay.io/v1',
    kind: 'Token',
    spec: { user: f.user, groups, expirationSeconds: ttlMs / 1000, ...(f.description !== undefined ? { description: f.description } : {}) },
  };
  const created = (await apiCall(clusterAccess(f), 'POST', BASE, body)) as TokenObject;
  if (f.output === 'json') {
    io.out(JSON.stringify(created, null, 2));
    return 0;
  }
  // The secret is shown once, on stdout alone, so `TOKEN=$(margay token create …)` works.
  io.out(created.status.token ?? '');
  io.err(`token ${created.metadata.name} for user ${created.spec.user} (groups: ${created.spec.groups.join(',') || '-'}) expires ${created.status.expirationTimestamp}`);
  return 0;
}

export async function tokenListCommand(f: KubeconfigFlags & { output?: string }, io: CommandIo, now = new Date()): Promise<number> {
  const list = (await apiCall(clusterAccess(f), 'GET', BASE)) as { items: TokenObject[] };
  if (f.output === 'json') {
    io.out(JSON.stringify(list, null, 2));
    return 0;
  }
  if (list.items.length === 0) {
    io.err('No tokens have been issued.');
    return 0;
  }
  const rows = [['ID', 'USER', 'GROUPS', 'STATE', 'EXPIRES', 'CREATED BY', 'DESCRIPTION']];
  for (const t of list.items) {
    const state = t.status.revoked ? 'revoked' : Date.parse(t.status.expirationTimestamp) <= now.getTime() ? 'expired' : 'active';
    rows.push([t.metadata.name, t.spec.user, t.spec.groups.join(',') || '-', state, t.status.expirationTimestamp, t.metadata.annotations?.['auth.margay.io/created-by'] ?? '', t.spec.description ?? '']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) io.out(r.map((c, i) => c.padEnd((widths[i] ?? 0) + 3)).join('').trimEnd());
  return 0;
}

export async function tokenRevokeCommand(id: string, f: KubeconfigFlags, io: CommandIo): Promise<number> {
  const t = (await apiCall(clusterAccess(f), 'DELETE', `${BASE}/${encodeURIComponent(id)}`)) as TokenObject;
  io.out(`token ${t.metadata.name} revoked at ${t.status.revocationTimestamp ?? ''}`);
  return 0;
}

export async function clientCertCommand(o: { user: string; group: string[]; dataDir: string; out?: string }, io: CommandIo): Promise<number> {
  const { issueClientCertificate } = await import('../auth/index.js');
  const groups = o.group.flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '');
  const { key, cert } = issueClientCertificate(join(resolve(o.dataDir), 'pki'), o.user, groups);
  const prefix = o.out ?? o.user.replace(/[^A-Za-z0-9_.-]/g, '_');
  writeFileSync(`${prefix}.key`, key, { mode: 0o600 });
  writeFileSync(`${prefix}.crt`, cert);
  io.out(`wrote ${prefix}.crt and ${prefix}.key for user ${o.user}${groups.length > 0 ? ` in ${groups.join(', ')}` : ''}`);
  return 0;
}
