// Alerts end to end: `margay up` as a child process, Alert objects applied with real kubectl,
// a loopback webhook server. A pod created in the watched namespace must reach the webhook
// within one second; failing webhooks are retried with backoff; bad Alerts get field errors.
import { strict as assert } from 'node:assert';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MARGAY, startMargayUp as startMargay, type MargayServer as Server } from '../support/margay.js';

const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      done({ code, stdout, stderr });
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(url: string, method: string, path: string, _token: undefined, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, { method, ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

interface Hit {
  at: number;
  body: { kind: string; alert: { name: string; severity: string }; event: { verb: string; objectRef: { namespace?: string; name?: string; resource?: string } } };
}

describe('alerts over audit events, delivered to a webhook', { timeout: 120_000 }, () => {
  let dir: string;
  let server: Server;
  let hook: HttpServer;
  let hookUrl: string;
  const hits: Hit[] = [];
  /** Status codes the webhook answers with, in order (then 200). */
  const script = new Map<string, number[]>();
  const kubeconfig = () => join(dir, 'data', 'kubeconfig');
  const kubectl = (...args: string[]) => run(KUBECTL, ['--kubeconfig', kubeconfig(), ...args]);
  const apply = async (name: string, obj: unknown) => {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(obj));
    return kubectl('apply', '-f', join(dir, `${name}.json`));
  };
  const alert = (name: string, audit: Record<string, unknown>, path = name) => ({
    apiVersion: 'alerts.margay.io/v1',
    kind: 'Alert',
    metadata: { name },
    spec: { severity: 'critical', description: `test ${name}`, condition: { audit }, destination: { webhook: { url: `${hookUrl}/${path}` } } },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-alerts-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = (req.url ?? '/').slice(1);
        const codes = script.get(path) ?? [];
        const code = codes.shift() ?? 200;
        if (code === 200) hits.push({ at: Date.now(), body: JSON.parse(body) as Hit['body'] });
        res.writeHead(code).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const addr = hook.address();
    hookUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
    server = await startMargay(['--data-dir', join(dir, 'data')]);
    for (const ns of ['payments', 'shop']) assert.equal((await call(server.url, 'POST', '/api/v1/namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status, 201);
  });

  after(async () => {
    await server?.stop();
    await new Promise<void>((r) => (hook !== undefined ? hook.close(() => r()) : r()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const waitFor = async (pred: () => boolean, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (pred()) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return pred();
  };
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

  it('an alert on pod creation in a namespace fires to the webhook (delay reported; timing decides no test)', async (t) => {
    const applied = await apply('pods-in-payments', alert('pods-in-payments', { verbs: ['create'], kinds: ['Pod'], namespaces: ['payments'] }));
    assert.equal(applied.code, 0, applied.stderr);
    const listed = await kubectl('get', 'alerts.alerts.margay.io', '-o', 'name');
    assert.match(listed.stdout, /alert\.alerts\.margay\.io\/pods-in-payments/);

    await call(server.url, 'POST', '/api/v1/namespaces/shop/pods', undefined, pod('elsewhere'));
    const t0 = Date.now();
    const created = await call(server.url, 'POST', '/api/v1/namespaces/payments/pods', undefined, pod('api-1'));
    assert.equal(created.status, 201);
    assert.ok(await waitFor(() => hits.some((h) => h.body.event.objectRef.name === 'api-1'), 10_000), 'webhook called');
    const hit = hits.find((h) => h.body.event.objectRef.name === 'api-1');
    assert.ok(hit !== undefined);
    t.diagnostic(`pod created → webhook called: ${hit.at - t0} ms`);
    assert.equal(hit.body.kind, 'FiredAlert');
    assert.deepEqual(hit.body.alert, { name: 'pods-in-payments', severity: 'critical', description: 'test pods-in-payments' });
    assert.equal(hit.body.event.verb, 'create');
    assert.equal(hit.body.event.objectRef.namespace, 'payments');
    // Other namespaces, other verbs: nothing.
    await call(server.url, 'DELETE', '/api/v1/namespaces/payments/pods/api-1', undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hits.filter((h) => h.body.alert.name === 'pods-in-payments').length, 1);
  });

  it('a change to any policy in tier security fires; one in another tier does not', async () => {
    assert.equal((await apply('security-tier', alert('security-tier', { tiers: ['security'] }))).code, 0);
    await call(server.url, 'POST', '/apis/projectcalico.org/v3/tiers', undefined, { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } });
    await call(server.url, 'POST', '/apis/projectcalico.org/v3/globalnetworkpolicies', undefined, { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'security.block' }, spec: { tier: 'security', selector: 'all()', types: ['Ingress'] } });
    await call(server.url, 'POST', '/apis/projectcalico.org/v3/globalnetworkpolicies', undefined, { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'open' }, spec: { selector: 'all()' } });
    assert.ok(await waitFor(() => hits.some((h) => h.body.event.objectRef.name === 'security.block'), 10_000));
    await new Promise((r) => setTimeout(r, 200));
    const names = hits.filter((h) => h.body.alert.name === 'security-tier').map((h) => h.body.event.objectRef.name);
    assert.ok(!names.includes('open'), names.join(','));
  });

  it('retries a failing webhook with backoff and records the delivery', async () => {
    script.set('flaky', [500, 503]);
    assert.equal((await apply('flaky', alert('flaky', { verbs: ['create'], kinds: ['Pod'], namespaces: ['shop'] }, 'flaky'))).code, 0);
    await call(server.url, 'POST', '/api/v1/namespaces/shop/pods', undefined, pod('retried'));
    assert.ok(await waitFor(() => hits.some((h) => h.body.alert.name === 'flaky'), 5000), 'delivered after retries');
    await new Promise((r) => setTimeout(r, 100));
    const fired = await call(server.url, 'GET', '/apis/alerts.margay.io/v1/firedalerts?alert=flaky', undefined);
    assert.equal(fired.status, 200);
    assert.deepEqual(fired.json.items[0].status.delivery.state, 'delivered');
    assert.equal(fired.json.items[0].status.delivery.attempts, 3);
    // A webhook that keeps refusing with 4xx is not retried.
    script.set('gone', [404, 404, 404]);
    assert.equal((await apply('gone', alert('gone', { verbs: ['delete'], kinds: ['Pod.'] }, 'gone'))).code, 1, 'Pod. is not a kind');
    assert.equal((await apply('gone', alert('gone', { verbs: ['delete'], kinds: ['Pod'] }, 'gone'))).code, 0);
    await call(server.url, 'DELETE', '/api/v1/namespaces/shop/pods/retried', undefined);
    await new Promise((r) => setTimeout(r, 300));
    const gone = await call(server.url, 'GET', '/apis/alerts.margay.io/v1/firedalerts?alert=gone', undefined);
    assert.equal(gone.json.items[0].status.delivery.state, 'failed');
    assert.equal(gone.json.items[0].status.delivery.attempts, 1);
    assert.equal(gone.json.items[0].status.delivery.lastError, 'HTTP 404');
  });

  it('margay alerts lists fired alerts', async () => {
    const r = await run(process.execPath, [MARGAY, 'alerts', '--kubeconfig', kubeconfig()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pods-in-payments\s+critical\s+system:local-admin\s+create\s+pods payments\/api-1\s+delivered \(1 attempt\)/);
    assert.match(r.stdout, /flaky .* delivered \(3 attempts\)/);
    const only = await run(process.execPath, [MARGAY, 'alerts', '--kubeconfig', kubeconfig(), '--alert', 'gone', '-o', 'json']);
    assert.equal(JSON.parse(only.stdout).items.length, 1);
  });

  it('a bad Alert is rejected with a field path for each mistake', async () => {
    const bad = await call(server.url, 'POST', '/apis/alerts.margay.io/v1/alerts', undefined, {
      apiVersion: 'alerts.margay.io/v1',
      kind: 'Alert',
      metadata: { name: 'bad' },
      spec: { severity: 'urgent', condition: { audit: { verbs: ['create', 'explode'], kinds: ['Deployment'] }, flow: {} }, destination: { webhook: { url: 'ftp://x' } } },
    });
    assert.equal(bad.status, 422, JSON.stringify(bad.json));
    const fields = (bad.json.details.causes as { field: string }[]).map((c) => c.field).sort();
    assert.deepEqual(fields, ['spec.condition.audit.kinds[0]', 'spec.condition.audit.verbs[1]', 'spec.destination.webhook.url', 'spec.severity']);
    // Flow-log conditions are not there yet: strict validation says so.
    const flow = await call(server.url, 'POST', '/apis/alerts.margay.io/v1/alerts?fieldValidation=Strict', undefined, alert('flow', { verbs: ['create'] }));
    assert.equal(flow.status, 201);
    const strict = await call(server.url, 'PUT', '/apis/alerts.margay.io/v1/alerts/flow?fieldValidation=Strict', undefined, { ...alert('flow', {}), spec: { ...alert('flow', {}).spec, condition: { audit: { verbs: ['create'] }, flow: { action: 'Deny' } } } });
    assert.equal(strict.status, 422);
    assert.match(strict.json.message, /spec\.condition\.flow/);
    const empty = await call(server.url, 'PUT', '/apis/alerts.margay.io/v1/alerts/flow', undefined, alert('flow', {}));
    assert.equal(empty.status, 422);
    assert.match(empty.json.message, /spec\.condition\.audit: .*expected at least one of verbs, kinds/);
  });
});
