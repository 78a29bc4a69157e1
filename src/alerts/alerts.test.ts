// Unit tests of the alert pieces: condition matching (kinds across groups, tiers with and
// without bodies, failed requests never fire) and the webhook retry schedule.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AuditEvent } from '../audit/index.js';
import { DEFAULT_RETRY, WebhookSender, backoffDelay, kindTable, matchesAuditCondition } from './index.js';

const kinds = kindTable();

function ev(o: Partial<AuditEvent> & { ref?: AuditEvent['objectRef']; code?: number }): AuditEvent {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: 'x',
    stage: 'ResponseComplete',
    requestURI: '/',
    verb: 'create',
    user: { username: 'alice', groups: [] },
    sourceIPs: ['127.0.0.1'],
    requestReceivedTimestamp: '',
    stageTimestamp: '',
    responseStatus: { metadata: {}, code: o.code ?? 201 },
    ...(o.ref !== undefined ? { objectRef: o.ref } : {}),
    ...o,
  };
}

describe('alert conditions', () => {
  it('kinds name a kind in any group, or in one group with Kind.group', () => {
    const calicoNp = ev({ ref: { resource: 'networkpolicies', apiGroup: 'projectcalico.org', namespace: 'a', name: 'p' } });
    const k8sNp = ev({ ref: { resource: 'networkpolicies', apiGroup: 'networking.k8s.io', namespace: 'a', name: 'p' } });
    assert.ok(matchesAuditCondition({ kinds: ['NetworkPolicy'] }, calicoNp, kinds));
    assert.ok(matchesAuditCondition({ kinds: ['NetworkPolicy'] }, k8sNp, kinds));
    assert.ok(matchesAuditCondition({ kinds: ['NetworkPolicy.projectcalico.org'] }, calicoNp, kinds));
    assert.ok(!matchesAuditCondition({ kinds: ['NetworkPolicy.projectcalico.org'] }, k8sNp, kinds));
    assert.ok(!matchesAuditCondition({ kinds: ['Pod'] }, calicoNp, kinds));
  });

  it('tiers come from spec.tier, the name prefix without a body, and fixed tiers for other policy kinds', () => {
    const gnp = (name: string, body?: unknown) => ev({ ref: { resource: 'globalnetworkpolicies', apiGroup: 'projectcalico.org', name }, ...(body !== undefined ? { responseObject: body } : {}) });
    assert.ok(matchesAuditCondition({ tiers: ['security'] }, gnp('security.x', { kind: 'GlobalNetworkPolicy', spec: { tier: 'security' } }), kinds));
    assert.ok(matchesAuditCondition({ tiers: ['security'] }, gnp('security.x'), kinds));
    assert.ok(!matchesAuditCondition({ tiers: ['security'] }, gnp('x', { kind: 'GlobalNetworkPolicy', spec: {} }), kinds));
    assert.ok(matchesAuditCondition({ tiers: ['default'] }, ev({ ref: { resource: 'networkpolicies', apiGroup: 'networking.k8s.io', namespace: 'a', name: 'p' } }), kinds));
    assert.ok(matchesAuditCondition({ tiers: ['adminnetworkpolicy'] }, ev({ ref: { resource: 'adminnetworkpolicies', apiGroup: 'policy.networking.k8s.io', name: 'p' } }), kinds));
    assert.ok(!matchesAuditCondition({ tiers: ['default'] }, ev({ ref: { resource: 'pods', apiGroup: '', namespace: 'a', name: 'p' } }), kinds));
  });

  it('property: a failed request or another stage never fires, whatever the condition', () => {
    fc.assert(
      fc.property(
        fc.record({ verbs: fc.option(fc.constant(['create']), { nil: undefined }), namespaces: fc.option(fc.constant(['a']), { nil: undefined }), kinds: fc.option(fc.constant(['Pod']), { nil: undefined }) }),
        fc.integer({ min: 400, max: 599 }),
        fc.constantFrom('RequestReceived', 'ResponseComplete'),
        (c, code, stage) => {
          const cond = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
          const base = { ref: { resource: 'pods', apiGroup: '', namespace: 'a', name: 'p' } };
          assert.equal(matchesAuditCondition(cond, ev({ ...base, code }), kinds), false);
          if (stage !== 'ResponseComplete') assert.equal(matchesAuditCondition(cond, ev({ ...base, stage: 'RequestReceived' }), kinds), false);
          else assert.equal(matchesAuditCondition(cond, ev(base), kinds), true);
        },
      ),
    );
  });
});

describe('webhook delivery', () => {
  it('backs off exponentially up to the cap', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual([2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(p, n)), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('retries 5xx and network errors, not other 4xx, and stops at maxAttempts', async () => {
    const times: number[] = [];
    const answers = [503, 0, 200];
    const sender = new WebhookSender({ maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 1000, timeoutMs: 1000 }, async () => {
      times.push(Date.now());
      const a = answers.shift() ?? 200;
      if (a === 0) throw new Error('connect ECONNREFUSED');
      return a;
    });
    const failures: string[] = [];
    const ok = await sender.send('http://x', { a: 1 }, (n, e) => failures.push(`${n}:${e}`));
    assert.deepEqual(ok, { delivered: true, attempts: 3 });
    assert.deepEqual(failures, ['1:HTTP 503', '2:connect ECONNREFUSED']);
    assert.ok((times[1] ?? 0) - (times[0] ?? 0) >= 18 && (times[2] ?? 0) - (times[1] ?? 0) >= 38, `gaps ${String(times)}`);

    const notFound = new WebhookSender({ maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 }, async () => 404);
    assert.deepEqual(await notFound.send('http://x', {}), { delivered: false, attempts: 1, lastError: 'HTTP 404' });
    const down = new WebhookSender({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 }, async () => 500);
    assert.deepEqual(await down.send('http://x', {}), { delivered: false, attempts: 3, lastError: 'HTTP 500' });
  });

  it('close cancels pending retries', async () => {
    const sender = new WebhookSender({ maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000, timeoutMs: 1000 }, async () => 500);
    const p = sender.send('http://x', {});
    await new Promise((r) => setTimeout(r, 20));
    sender.close();
    const started = Date.now();
    const r = await Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), 500))]);
    assert.notEqual(r, 'timeout', 'close resolved the pending delivery');
    assert.ok(Date.now() - started < 500);
  });
});

describe('alert engine', () => {
  it('fires on a committed audit batch, and resumes a delivery cut short by a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { AuditLog, Auditor } = await import('../audit/index.js');
    const { openStore } = await import('../store/index.js');
    const { AlertEngine, FiringStore } = await import('./index.js');
    const dir = mkdtempSync(join(tmpdir(), 'margay-alert-engine-'));
    try {
      const store = await openStore({ kind: 'memory' });
      await store.create('/registry/alerts.margay.io/alerts/a', { apiVersion: 'alerts.margay.io/v1', kind: 'Alert', metadata: { name: 'a' }, spec: { severity: 'high', condition: { audit: { verbs: ['create'], kinds: ['Pod'] } }, destination: { webhook: { url: 'http://hook/a' } } } });
      const auditor = new Auditor(new AuditLog(join(dir, 'audit.db')));
      const firings = new FiringStore(join(dir, 'alerts.db'));
      const posted: string[] = [];
      let up = false;
      const post = async (url: string) => {
        posted.push(url);
        return up ? 200 : 503;
      };
      const first = new AlertEngine({ store, auditor, firings, sender: new WebhookSender({ maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000, timeoutMs: 100 }, post) });
      await first.start();
      const h = auditor.begin({ requestURI: '/api/v1/namespaces/x/pods', verb: 'create', user: { name: 'u', groups: [] }, sourceIP: '127.0.0.1', objectRef: { resource: 'pods', namespace: 'x', apiGroup: '' }, policyInput: { user: 'u', groups: [], verb: 'create', resourceRequest: true, path: '/', apiGroup: '', resource: 'pods', namespace: 'x' } });
      h?.complete(201, { kind: 'Pod', metadata: { name: 'p' } });
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(posted, ['http://hook/a']);
      await first.close(); // the retry is 10 s away: cut short
      assert.equal(firings.list()[0]?.delivery.state, 'pending');
      up = true;
      const second = new AlertEngine({ store, auditor, firings, sender: new WebhookSender(DEFAULT_RETRY, post) });
      await second.start();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(firings.list()[0]?.delivery, { state: 'delivered', attempts: 2, url: 'http://hook/a', deliveredAt: firings.list()[0]?.delivery.deliveredAt });
      await second.close();
      auditor.close();
      firings.close();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
