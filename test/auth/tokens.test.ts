// Server-issued tokens end to end: `margay up` as a child process, tokens issued over real HTTP
// and with `margay token`, used as bearer tokens, then revoked or left to expire (401 after).
// Only callers who may create tokens and impersonate the token's user and groups can issue.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { IssuedTokens } from '../../src/auth/index.js';
import { openStore } from '../../src/store/index.js';
import { MARGAY, PERSONAS, call, run, startMargay, type Server } from './support.js';

const TOKENS = '/apis/auth.margay.io/v1/tokens';

describe('server-issued tokens over HTTP', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  let server: Server;
  let admin: string;
  const margay = (...args: string[]) => run(process.execPath, [MARGAY, ...args, '--kubeconfig', join(dataDir, 'kubeconfig')]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-tokens-'));
    dataDir = join(dir, 'data');
    const lines = Object.values(PERSONAS).map((p) => `${p.token},${p.user},uid-${p.user},"${p.groups.join(',')}"`);
    writeFileSync(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`);
    server = await startMargay(['--data-dir', dataDir, '--token-auth-file', join(dir, 'tokens.csv')]);
    admin = /token: (\S+)/.exec(readFileSync(join(dataDir, 'kubeconfig'), 'utf8'))?.[1] ?? '';
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const issue = (token: string, spec: Record<string, unknown>) => call(server.url, 'POST', TOKENS, token, { apiVersion: 'auth.margay.io/v1', kind: 'Token', spec });

  it('issues a token that authenticates as its user and groups, and lists it without the secret', async () => {
    const r = await issue(admin, { user: 'agent-7', groups: ['margay:agents'], expirationSeconds: 3600, description: 'node n7' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const token = r.json.status.token as string;
    assert.match(token, /^mgy\.[0-9a-f]{12}\./);
    // The agent persona may list pods but not create policies.
    assert.equal((await call(server.url, 'GET', '/api/v1/pods', token)).status, 200);
    const denied = await call(server.url, 'POST', '/apis/projectcalico.org/v3/globalnetworkpolicies', token, { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'x' }, spec: {} });
    assert.equal(denied.status, 403);
    assert.match(denied.json.message, /User "agent-7" cannot create/);
    const review = await call(server.url, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, { spec: { resourceAttributes: { verb: 'list', resource: 'pods' } } });
    assert.equal(review.json.status.allowed, true);
    const list = await call(server.url, 'GET', TOKENS, admin);
    assert.equal(list.status, 200);
    const item = list.json.items.find((t: { metadata: { name: string } }) => t.metadata.name === r.json.metadata.name);
    assert.equal(item.spec.user, 'agent-7');
    assert.equal(item.status.token, undefined);
    assert.ok(!JSON.stringify(list.json).includes(token.split('.')[2] as string), 'the secret never appears in a list');
  });

  it('stores only a SHA-256 of the token in the datastore, and expiry follows the clock', async () => {
    const store = await openStore({ kind: 'memory' });
    let now = new Date('2026-01-01T00:00:00Z');
    const tokens = new IssuedTokens(store, () => now);
    const { token, record } = await tokens.issue({ user: 'console', groups: ['g'], ttlMs: 60_000, createdBy: 'admin' });
    const stored = JSON.stringify((await store.list({ prefix: '' })).items);
    assert.ok(!stored.includes(token.split('.')[2] as string), 'the secret is not stored');
    assert.ok(stored.includes(createHash('sha256').update(token).digest('hex')), 'its SHA-256 is');
    assert.equal(record.expirationTimestamp, '2026-01-01T00:01:00.000Z');
    assert.deepEqual(await tokens.authenticate(token), { name: 'console', groups: ['g', 'system:authenticated'] });
    now = new Date('2026-01-01T00:01:00Z');
    assert.equal(await tokens.authenticate(token), undefined);
    await store.close();
  });

  it('revocation and expiry make the token 401; unknown and malformed tokens are 401', async () => {
    const r = await issue(admin, { user: 'temp', groups: ['margay:security-auditors'], expirationSeconds: 2 });
    const token = r.json.status.token as string;
    assert.equal((await call(server.url, 'GET', '/api/v1/namespaces', token)).status, 200);
    await new Promise((done) => setTimeout(done, 2100));
    const expired = await call(server.url, 'GET', '/api/v1/namespaces', token);
    assert.equal(expired.status, 401);
    assert.equal(expired.json.reason, 'Unauthorized');

    const r2 = await issue(admin, { user: 'temp2', groups: ['margay:security-auditors'] });
    const t2 = r2.json.status.token as string;
    assert.equal((await call(server.url, 'GET', '/api/v1/namespaces', t2)).status, 200);
    const revoked = await call(server.url, 'DELETE', `${TOKENS}/${r2.json.metadata.name as string}`, admin);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.json.status.revoked, true);
    assert.equal((await call(server.url, 'GET', '/api/v1/namespaces', t2)).status, 401);
    // Same id, another secret: still 401.
    const forged = `${t2.slice(0, t2.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    assert.equal((await call(server.url, 'GET', '/api/v1/namespaces', forged)).status, 401);
    assert.equal((await call(server.url, 'GET', '/api/v1/namespaces', 'mgy.000000000000.nope')).status, 401);
    assert.equal((await call(server.url, 'GET', `${TOKENS}/ffffffffffff`, admin)).status, 404);
  });

  it('only callers allowed to create tokens and impersonate the subject may issue; bad requests name the field', async () => {
    for (const p of ['network-admin', 'security-auditor', 'agent', 'nobody'] as const) {
      const r = await issue(PERSONAS[p].token, { user: 'x', groups: ['margay:cluster-admins'] });
      assert.equal(r.status, 403, `${p}: ${JSON.stringify(r.json)}`);
      assert.equal((await call(server.url, 'GET', TOKENS, PERSONAS[p].token)).status, 403);
    }
    const bad = await issue(admin, { user: '', groups: ['ok', 3], expirationSeconds: -5, colour: 'red' });
    assert.equal(bad.status, 422);
    const fields = (bad.json.details.causes as { field: string }[]).map((c) => c.field).sort();
    assert.deepEqual(fields, ['spec.colour', 'spec.expirationSeconds', 'spec.groups[1]', 'spec.user']);
  });

  it('margay token create / list / revoke', async () => {
    const created = await margay('token', 'create', '--user', 'ci-bot', '--group', 'margay:network-admins', '--ttl', '1h', '--description', 'pipeline');
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^mgy\./);
    const id = token.split('.')[1] as string;
    assert.equal((await call(server.url, 'GET', '/apis/projectcalico.org/v3/globalnetworkpolicies', token)).status, 200);
    const list = await margay('token', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}\\s+ci-bot\\s+margay:network-admins\\s+active`));
    const revoked = await margay('token', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await call(server.url, 'GET', '/apis/projectcalico.org/v3/globalnetworkpolicies', token)).status, 401);
    assert.match((await margay('token', 'list')).stdout, new RegExp(`${id}\\s+ci-bot\\s+\\S+\\s+revoked`));
    const badTtl = await margay('token', 'create', '--user', 'u', '--ttl', 'forever');
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.stderr, /--ttl/);
    const missing = await margay('token', 'revoke', 'ffffffffffff');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /404.*not found/);
  });
});
