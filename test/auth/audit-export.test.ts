// The audit log leaves the server three ways: the query API (RBAC: auditors see everything,
// namespace owners their namespace only), a live JSON-lines stream, and a JSON-lines file
// (--audit-log-path); an --audit-policy-file decides what is recorded.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MARGAY, PERSONAS, call, run, startMargay, type Server } from './support.js';

const EVENTS = '/apis/audit.margay.io/v1';

describe('audit export: query API, stream and file sink under RBAC and a policy file', { timeout: 120_000 }, () => {
  let dir: string;
  let server: Server;
  let admin: string;
  const auditor = PERSONAS['security-auditor'].token;
  const owner = PERSONAS['namespace-owner'].token;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-audit-export-'));
    const lines = Object.values(PERSONAS).map((p) => `${p.token},${p.user},,"${p.groups.join(',')}"`);
    writeFileSync(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`);
    writeFileSync(
      join(dir, 'policy.yaml'),
      `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: [eve]
  - level: RequestResponse
    verbs: [create, update, patch, delete]
    resources: [{ group: "" }, { group: networking.k8s.io }]
  - level: Metadata
    omitStages: [RequestReceived]
`,
    );
    server = await startMargay(['--data-dir', join(dir, 'data'), '--token-auth-file', join(dir, 'tokens.csv'), '--audit-policy-file', join(dir, 'policy.yaml'), '--audit-log-path', join(dir, 'audit.jsonl')]);
    admin = /token: (\S+)/.exec(readFileSync(join(dir, 'data', 'kubeconfig'), 'utf8'))?.[1] ?? '';
    for (const ns of ['team-a', 'team-b']) {
      assert.equal((await call(server.url, 'POST', '/api/v1/namespaces', admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status, 201);
    }
    await call(server.url, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'owner' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'margay:namespace-owner' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: PERSONAS['namespace-owner'].user }],
    });
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

  it('streams events as JSON lines as they are written, filtered by the query', async () => {
    const res = await fetch(`${server.url}${EVENTS}/events?watch=1&verb=create&resource=pods`, { headers: { Authorization: `Bearer ${auditor}` } });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    assert.ok(reader !== undefined);
    await call(server.url, 'POST', '/api/v1/namespaces/team-b/pods', admin, pod('streamed'));
    let text = '';
    while (!text.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    await reader.cancel();
    const first = JSON.parse(text.split('\n')[0] ?? '') as { kind: string; verb: string; objectRef: { name: string; namespace: string }; requestObject?: unknown; annotations: Record<string, string> };
    assert.equal(first.kind, 'Event');
    assert.equal(first.verb, 'create');
    assert.deepEqual([first.objectRef.namespace, first.objectRef.name], ['team-b', 'streamed']);
    assert.ok(first.requestObject !== undefined, 'the policy file asked for RequestResponse on core writes');
    assert.match(first.annotations['audit.margay.io/seq'] ?? '', /^\d+$/);
  });

  it('auditors read every namespace; a namespace owner only its own; others nothing', async () => {
    await call(server.url, 'POST', '/api/v1/namespaces/team-a/pods', admin, pod('a1'));
    const all = await call(server.url, 'GET', `${EVENTS}/events?verb=create&resource=pods`, auditor);
    assert.equal(all.status, 200);
    const names = (all.json.items as { objectRef: { name: string } }[]).map((e) => e.objectRef.name);
    assert.ok(names.includes('a1') && names.includes('streamed'), names.join(','));
    assert.equal((await call(server.url, 'GET', `${EVENTS}/events`, owner)).status, 403);
    assert.equal((await call(server.url, 'GET', `${EVENTS}/namespaces/team-b/events`, owner)).status, 403);
    const mine = await call(server.url, 'GET', `${EVENTS}/namespaces/team-a/events?resource=pods`, owner);
    assert.equal(mine.status, 200);
    assert.ok(mine.json.items.length > 0);
    assert.ok((mine.json.items as { objectRef: { namespace: string } }[]).every((e) => e.objectRef.namespace === 'team-a'));
    assert.equal((await call(server.url, 'GET', `${EVENTS}/events`, PERSONAS.nobody.token)).status, 403);
    assert.equal((await call(server.url, 'GET', `${EVENTS}/events?since=yesterday`, auditor)).status, 400);
  });

  it('alerts: auditors read Alerts and fired alerts; only cluster admins write Alerts', async () => {
    const fired = '/apis/alerts.margay.io/v1/firedalerts';
    const alerts = '/apis/alerts.margay.io/v1/alerts';
    assert.equal((await call(server.url, 'GET', fired, auditor)).status, 200);
    assert.equal((await call(server.url, 'GET', alerts, auditor)).status, 200);
    for (const p of ['namespace-owner', 'network-admin', 'agent', 'nobody'] as const) assert.equal((await call(server.url, 'GET', fired, PERSONAS[p].token)).status, 403, p);
    const body = { apiVersion: 'alerts.margay.io/v1', kind: 'Alert', metadata: { name: 'a' }, spec: { severity: 'low', condition: { audit: { verbs: ['delete'] } }, destination: { webhook: { url: 'http://127.0.0.1:9/x' } } } };
    assert.equal((await call(server.url, 'POST', alerts, auditor, body)).status, 403);
    assert.equal((await call(server.url, 'POST', alerts, PERSONAS['network-admin'].token, body)).status, 403);
    assert.equal((await call(server.url, 'POST', alerts, PERSONAS['cluster-admin'].token, body)).status, 201);
  });

  it('the changes API shows an update with the object before and after', async () => {
    const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec: { podSelector: {} } };
    await call(server.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', admin, np);
    await call(server.url, 'PATCH', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/np', admin, { spec: { podSelector: { matchLabels: { app: 'db' } } } });
    await new Promise((r) => setTimeout(r, 50));
    const r = await call(server.url, 'GET', `${EVENTS}/namespaces/team-a/changes?resource=networkpolicies&since=1h`, owner);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const patch = (r.json.items as { verb: string; before: { spec: unknown }; after: { spec: unknown } }[]).find((c) => c.verb === 'patch');
    assert.deepEqual(patch?.before.spec, { podSelector: {}, policyTypes: ['Ingress'] });
    assert.deepEqual(patch?.after.spec, { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] });
  });

  it('writes the file sink and follows the policy file (eve is never recorded)', async () => {
    await call(server.url, 'GET', '/api/v1/namespaces', PERSONAS.nobody.token);
    await new Promise((r) => setTimeout(r, 100));
    const events = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { verb: string; stage: string; user: { username: string }; objectRef?: { name?: string } });
    assert.ok(events.some((e) => e.verb === 'create' && e.objectRef?.name === 'a1'));
    assert.ok(events.every((e) => e.user.username !== 'eve'));
    assert.ok(events.every((e) => e.stage === 'ResponseComplete' || e.verb === 'create' || e.verb === 'patch'), 'reads omit RequestReceived');
  });

  it('a bad policy file stops margay up with the file, field path and reason', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n');
    const r = await run(process.execPath, [MARGAY, 'up', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'bad'), '--audit-policy-file', join(dir, 'bad.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml.*rules\[0\]\.level.*expected None, Metadata, Request, RequestResponse, got "Loud"/);
  });
});
