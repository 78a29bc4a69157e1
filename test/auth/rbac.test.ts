// Authentication and RBAC end to end: `margay up --token-auth-file` as a child process, real
// bearer tokens over real HTTP. Every (persona, verb, resource, namespace) case is sent as the
// real request (writes with dryRun=All) and as a SelfSubjectAccessReview; both must agree with
// the persona model in support.ts. Then the audit log of the run is queried and tampered with.
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  ALL_VERBS,
  MARGAY,
  OTHER,
  OWNED,
  PERSONAS,
  RESOURCES,
  call,
  expected,
  run,
  startMargay,
  type Persona,
  type Res,
  type Server,
  type Verb,
} from './support.js';

interface Case {
  persona: Persona;
  res: Res;
  verb: Verb;
  namespace: string | undefined;
  name: string | undefined;
  allowed: boolean;
}

const NAMED: readonly Verb[] = ['get', 'update', 'patch', 'delete'];

function cases(): Case[] {
  const out: Case[] = [];
  const personas: Persona[] = ['masters', ...(Object.keys(PERSONAS) as Persona[])];
  for (const persona of personas) {
    for (const res of RESOURCES) {
      for (const verb of ALL_VERBS) {
        const namespaces = res.namespaced ? [OWNED, OTHER] : [undefined];
        const names = !NAMED.includes(verb) ? [undefined] : res.plural === 'namespaces' ? [OWNED, OTHER] : [res.existing];
        for (const namespace of namespaces) {
          for (const name of names) {
            // A namespace's own namespace is itself (as in Kubernetes' request info).
            const effectiveNs = res.plural === 'namespaces' ? name : namespace;
            out.push({ persona, res, verb, namespace, name, allowed: expected(persona, res, verb, effectiveNs, name) });
          }
        }
      }
    }
  }
  return out;
}

function collectionPath(res: Res, namespace: string | undefined): string {
  const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  return `${base}${namespace !== undefined ? `/namespaces/${namespace}` : ''}/${res.plural}`;
}

function apiVersion(res: Res): string {
  return res.group === '' ? res.version : `${res.group}/${res.version}`;
}

describe('authentication and RBAC over HTTP with real tokens', { timeout: 240_000 }, () => {
  let dir: string;
  let dataDir: string;
  let server: Server;
  let adminToken: string;
  const tokenOf = (p: Persona): string => (p === 'masters' ? adminToken : PERSONAS[p].token);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-auth-'));
    dataDir = join(dir, 'data');
    const tokens = Object.values(PERSONAS).map((p) => `${p.token},${p.user},uid-${p.user},"${p.groups.join(',')}"`);
    writeFileSync(join(dir, 'tokens.csv'), `# persona tokens\n${tokens.join('\n')}\n`);
    server = await startMargay(['--data-dir', dataDir, '--token-auth-file', join(dir, 'tokens.csv')]);
    adminToken = /token: (\S+)/.exec(readFileSync(join(dataDir, 'kubeconfig'), 'utf8'))?.[1] ?? '';
    assert.notEqual(adminToken, '');
    const create = async (path: string, body: unknown): Promise<void> => {
      const r = await call(server.url, 'POST', path, adminToken, body);
      assert.equal(r.status, 201, `${path}: ${JSON.stringify(r.json)}`);
    };
    for (const ns of [OWNED, OTHER]) {
      await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await create(`/api/v1/namespaces/${ns}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
      await create(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np1' }, spec: { podSelector: {} } });
      await create(`/apis/projectcalico.org/v3/namespaces/${ns}/networkpolicies`, { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'cnp1' }, spec: { selector: 'all()' } });
      await create(`/apis/projectcalico.org/v3/namespaces/${ns}/networksets`, { apiVersion: 'projectcalico.org/v3', kind: 'NetworkSet', metadata: { name: 'ns1' }, spec: { nets: ['10.0.0.0/8'] } });
    }
    await create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await create('/apis/projectcalico.org/v3/globalnetworkpolicies', { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'g1' }, spec: { selector: 'all()' } });
    await create('/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies', {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'anp1' },
      spec: { priority: 10, subject: { namespaces: {} }, ingress: [{ name: 'deny', action: 'Deny', from: [{ namespaces: {} }] }] },
    });
    // The namespace owner's binding, and someone else's in the other namespace.
    for (const [ns, user] of [[OWNED, PERSONAS['namespace-owner'].user], [OTHER, 'mallory']] as const) {
      await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'owner' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'margay:namespace-owner' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
      });
    }
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const all = cases();

  it(`has well over 100 cases (${all.length}), allowed and denied for every persona`, () => {
    assert.ok(all.length > 100);
    for (const p of ['masters', ...Object.keys(PERSONAS)]) {
      const mine = all.filter((c) => c.persona === p);
      if (p !== 'masters' && p !== 'cluster-admin') assert.ok(mine.some((c) => !c.allowed), `${p} has denied cases`);
      if (p !== 'nobody') assert.ok(mine.some((c) => c.allowed), `${p} has allowed cases`);
    }
  });

  it('each persona can do exactly what it should: the real request and SelfSubjectAccessReview agree with the model', async () => {
    const failures: string[] = [];
    let allowedCount = 0;
    for (const c of all) {
      const token = tokenOf(c.persona);
      const label = `${c.persona} ${c.verb} ${c.res.kubectl}${c.name !== undefined ? `/${c.name}` : ''}${c.namespace !== undefined ? ` -n ${c.namespace}` : ''}`;
      const coll = collectionPath(c.res, c.namespace);
      const path = c.name !== undefined ? `${coll}/${encodeURIComponent(c.name)}` : coll;
      const body = { apiVersion: apiVersion(c.res), kind: c.res.kind, metadata: { name: c.name ?? 'made-by-test' } };
      let status: number;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let json: any;
      if (c.verb === 'watch') {
        const ctl = new AbortController();
        const res = await fetch(`${server.url}${coll}?watch=1&timeoutSeconds=5`, { headers: { Authorization: `Bearer ${token}` }, signal: ctl.signal });
        status = res.status;
        json = status === 200 ? undefined : await res.json();
        ctl.abort();
      } else {
        const method = { get: 'GET', list: 'GET', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' }[c.verb];
        const dry = ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(c.verb) ? '?dryRun=All' : '';
        const payload = c.verb === 'patch' ? { metadata: { labels: { touched: 'yes' } } } : c.verb === 'create' || c.verb === 'update' ? body : undefined;
        ({ status, json } = await call(server.url, method, `${path}${dry}`, token, payload));
      }
      if (c.allowed) {
        allowedCount++;
        if (status === 401 || status === 403 || status >= 500) failures.push(`${label}: expected allowed, got ${status} ${JSON.stringify(json?.message)}`);
      } else {
        const scope = c.res.plural === 'namespaces' ? (c.name !== undefined ? `in the namespace "${c.name}"` : 'at the cluster scope') : c.namespace !== undefined ? `in the namespace "${c.namespace}"` : 'at the cluster scope';
        const who = c.persona === 'masters' ? 'admin' : PERSONAS[c.persona].user;
        const message = `is forbidden: User "${who}" cannot ${c.verb} resource "${c.res.plural}" in API group "${c.res.group}" ${scope}`;
        if (status !== 403 || json?.reason !== 'Forbidden' || typeof json?.message !== 'string' || !json.message.includes(message)) {
          failures.push(`${label}: expected 403 Forbidden "…${message}", got ${status} ${JSON.stringify(json?.message)}`);
        }
      }
      const review = await call(server.url, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: c.verb, group: c.res.group, resource: c.res.plural, ...(c.namespace !== undefined ? { namespace: c.namespace } : c.res.plural === 'namespaces' && c.name !== undefined ? { namespace: c.name } : {}), ...(c.name !== undefined ? { name: c.name } : {}) } },
      });
      if (review.status !== 201 || review.json?.status?.allowed !== c.allowed) failures.push(`${label}: SelfSubjectAccessReview says ${JSON.stringify(review.json?.status)}, expected allowed=${c.allowed}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${all.length} cases failed`);
    assert.ok(allowedCount > 50 && all.length - allowedCount > 50, `allowed ${allowedCount}, denied ${all.length - allowedCount}`);
  });

  it('unknown or missing tokens are 401 Unauthorized; health and version are open', async () => {
    for (const [path, token] of [['/api/v1/namespaces', undefined], ['/api/v1/namespaces', 'not-a-token'], ['/apis', undefined], ['/openapi/v3', 'nope'], ['/healthz', 'wrong']] as const) {
      const r = await call(server.url, 'GET', path, token);
      assert.equal(r.status, 401, `${path} with ${token ?? 'no token'}`);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.reason, 'Unauthorized');
    }
    for (const path of ['/healthz', '/livez', '/readyz', '/version']) assert.equal((await call(server.url, 'GET', path, undefined)).status, 200, path);
  });

  it('discovery and OpenAPI are readable by any authenticated user', async () => {
    const token = PERSONAS.nobody.token;
    for (const path of ['/api', '/api/v1', '/apis', '/apis/projectcalico.org', '/apis/projectcalico.org/v3', '/apis/rbac.authorization.k8s.io/v1', '/openapi/v3', '/openapi/v3/apis/projectcalico.org/v3']) {
      assert.equal((await call(server.url, 'GET', path, token)).status, 200, path);
    }
  });

  it('RBAC objects take effect on the next request: Role with resourceNames, then removal', async () => {
    const eve = PERSONAS.nobody.token;
    const pods = `/api/v1/namespaces/${OTHER}/pods`;
    assert.equal((await call(server.url, 'GET', `${pods}/p1`, eve)).status, 403);
    const role = await call(server.url, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${OTHER}/roles`, adminToken, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-p1' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['p1'] }],
    });
    assert.equal(role.status, 201, JSON.stringify(role.json));
    const binding = await call(server.url, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${OTHER}/rolebindings`, adminToken, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'eve-read-p1' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-p1' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'eve' }],
    });
    assert.equal(binding.status, 201, JSON.stringify(binding.json));
    assert.equal((await call(server.url, 'GET', `${pods}/p1`, eve)).status, 200);
    assert.equal((await call(server.url, 'GET', `${pods}/p2`, eve)).status, 403, 'resourceNames limits the grant');
    assert.equal((await call(server.url, 'GET', pods, eve)).status, 403, 'resourceNames never allows list');
    assert.equal((await call(server.url, 'GET', `/api/v1/namespaces/${OWNED}/pods/p1`, eve)).status, 403, 'a RoleBinding grants only in its namespace');
    assert.equal((await call(server.url, 'DELETE', `/apis/rbac.authorization.k8s.io/v1/namespaces/${OTHER}/rolebindings/eve-read-p1`, adminToken)).status, 200);
    assert.equal((await call(server.url, 'GET', `${pods}/p1`, eve)).status, 403);
  });

  it('invalid RBAC objects are 422 with field paths', async () => {
    const r = await call(server.url, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', adminToken, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'bad' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' },
      subjects: [{ kind: 'Robot', name: 'r2' }],
    });
    assert.equal(r.status, 422);
    assert.match(r.json.message, /roleRef\.kind/);
    assert.match(r.json.message, /subjects\[0\]\.kind/);
  });

  it('impersonation needs the impersonate verb', async () => {
    const denied = await call(server.url, 'GET', '/api/v1/namespaces', PERSONAS.nobody.token, undefined, { 'Impersonate-User': 'root', 'Impersonate-Group': 'margay:cluster-admins' });
    assert.equal(denied.status, 403);
    assert.match(denied.json.message, /users "root" is forbidden: User "eve" cannot impersonate resource "users"/);
    const asAlice = await call(server.url, 'GET', `/api/v1/namespaces/${OWNED}/pods/p1`, adminToken, undefined, { 'Impersonate-User': 'alice', 'Impersonate-Group': 'margay:network-admins' });
    assert.equal(asAlice.status, 200);
    const aliceDelete = await call(server.url, 'DELETE', `/api/v1/namespaces/${OWNED}/pods/p1?dryRun=All`, adminToken, undefined, { 'Impersonate-User': 'alice', 'Impersonate-Group': 'margay:network-admins' });
    assert.equal(aliceDelete.status, 403);
  });

  it('every request is audited: margay audit filters by user and code; verify passes; tampering is named', async () => {
    // Let the last batch reach the disk, then stop the server so the log is quiescent.
    await new Promise((r) => setTimeout(r, 200));
    const denied = await run(process.execPath, [MARGAY, 'audit', '--data-dir', dataDir, '--user', 'eve', '--code', '403', '-o', 'json']);
    assert.equal(denied.code, 0, denied.stderr);
    const items = JSON.parse(denied.stdout).items as { user: { username: string }; responseStatus: { code: number }; stage: string; sourceIPs: string[]; userAgent?: string }[];
    assert.ok(items.length > 20, `eve's 403s: ${items.length}`);
    for (const e of items) {
      assert.equal(e.user.username, 'eve');
      assert.equal(e.responseStatus.code, 403);
      assert.equal(e.stage, 'ResponseComplete');
      assert.deepEqual(e.sourceIPs, ['127.0.0.1']);
    }
    const changes = await run(process.execPath, [MARGAY, 'audit', 'changes', '--data-dir', dataDir, '--kind', 'rolebinding', '--since', '1h']);
    assert.equal(changes.code, 0, changes.stderr);
    assert.match(changes.stdout, /create\s+rolebindings\.rbac\.authorization\.k8s\.io team-b\/eve-read-p1/);
    assert.match(changes.stdout, /delete\s+rolebindings\.rbac\.authorization\.k8s\.io team-b\/eve-read-p1\n(\s+- .*\n)+/);
    await server.stop();
    const ok = await run(process.execPath, [MARGAY, 'audit', 'verify', '--data-dir', dataDir]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /audit log OK: \d+ records/);

    const tampered = (what: string, change: (db: Database.Database) => void): string => {
      const copy = join(dir, `tamper-${what}`);
      rmSync(copy, { recursive: true, force: true });
      mkdirSync(copy, { recursive: true });
      copyFileSync(join(dataDir, 'audit.db'), join(copy, 'audit.db'));
      for (const ext of ['-wal', '-shm']) if (existsSync(join(dataDir, `audit.db${ext}`))) copyFileSync(join(dataDir, `audit.db${ext}`), join(copy, `audit.db${ext}`));
      const db = new Database(join(copy, 'audit.db'));
      change(db);
      db.close();
      return copy;
    };
    const edited = tampered('edit', (db) => db.prepare("UPDATE events SET record = replace(record, '\"verb\":\"delete\"', '\"verb\":\"get\"'), verb = 'get' WHERE seq = 40").run());
    const deleted = tampered('delete', (db) => db.prepare('DELETE FROM events WHERE seq = 55').run());
    const reordered = tampered('reorder', (db) => {
      const a = db.prepare('SELECT * FROM events WHERE seq = 70').get() as Record<string, unknown>;
      const b = db.prepare('SELECT * FROM events WHERE seq = 71').get() as Record<string, unknown>;
      const put = db.prepare('UPDATE events SET ts=@ts, audit_id=@audit_id, stage=@stage, verb=@verb, username=@username, resource=@resource, namespace=@namespace, name=@name, code=@code, record=@record, prev_hash=@prev_hash, hash=@hash WHERE seq=@target');
      put.run({ ...b, target: 70 });
      put.run({ ...a, target: 71 });
    });
    const editedRecord = tampered('edit-record-only', (db) => db.prepare("UPDATE events SET record = replace(record, '127.0.0.1', '10.9.9.9') WHERE seq = 90").run());
    for (const [copy, seq, problem] of [[edited, 40, 'edited'], [deleted, 55, 'missing \\(deleted\\)'], [reordered, 70, 'out of order'], [editedRecord, 90, 'edited']] as const) {
      const r = await run(process.execPath, [MARGAY, 'audit', 'verify', '--data-dir', copy]);
      assert.equal(r.code, 1, `${copy}: ${r.stdout}`);
      assert.match(r.stdout, new RegExp(`TAMPERED: record ${seq}\\b.*${problem}`), r.stdout);
    }
  });
});
