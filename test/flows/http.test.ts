// The flows API over real HTTP with real bearer tokens and RBAC (the built-in persona roles):
// who may write and read which flows, validation of batches and query parameters, backpressure
// (429 + Retry-After, and nothing accepted is lost), top and graph answers.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { findResourceTypeByKind } from '../../src/api/index.js';
import { send, startHarness, type Harness } from '../../src/api/testing.js';
import { MemoryStore } from '../../src/store/index.js';
import { createFlowsApi, SqliteFlowStore, type FlowBatch, type FlowLog, type FlowStore, type FlowsApi } from '../../src/flows/index.js';
import { batch, flowLog, pod } from '../../src/flows/store.contract.js';
import type { UserInfo } from '../../src/rbac/index.js';

const TOKENS: Record<string, UserInfo> = {
  'tok-admin': { name: 'root', groups: ['margay:cluster-admins'] },
  'tok-auditor': { name: 'bob', groups: ['margay:security-auditors'] },
  'tok-netadmin': { name: 'alice', groups: ['margay:network-admins'] },
  'tok-owner': { name: 'dave', groups: [] },
  'tok-agent': { name: 'system:node:n1', groups: ['margay:agents'] },
  'tok-nobody': { name: 'eve', groups: [] },
};
const auth = (t: string) => ({ Authorization: `Bearer ${t}` });
const BASE = '/apis/flows.margay.io/v1';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

async function start(store: FlowStore, queue: { maxRecords?: number } = {}): Promise<{ h: Harness; api: FlowsApi }> {
  const api = createFlowsApi({ store, clock: () => NOW, ...queue });
  const h = await startHarness(new MemoryStore(), { authenticate: (t) => TOKENS[t], extensions: [api.extension] });
  // dave owns team-a: the built-in namespace-owner role bound there.
  const rb = findResourceTypeByKind('rbac.authorization.k8s.io/v1', 'RoleBinding')!;
  await h.server.service.create(rb, 'team-a', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'dave-owns', namespace: 'team-a' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'dave' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'margay:namespace-owner' },
  }, { dryRun: false, fieldManager: 'test', fieldValidation: 'Strict' });
  return { h, api };
}

const at = (l: Partial<FlowLog>): FlowLog => flowLog({ startTime: NOW - 60_000, endTime: NOW - 45_000, ...l });
const LOGS: FlowLog[] = [
  at({ source: pod('team-a', 'client-1'), dest: pod('team-a', 'web-1', { app: 'web' }, 80) }),
  at({ source: pod('team-b', 'client-1'), dest: pod('team-a', 'db-1', { app: 'db' }, 5432), action: 'deny', policy: 'team-a/knp.default.deny', numFlows: 3 }),
  at({ source: pod('team-b', 'api-1'), dest: pod('team-c', 'db-1', { app: 'db' }, 5432), bytesIn: 99_999 }),
];

describe('flows API: RBAC', () => {
  let h: Harness;
  before(async () => {
    ({ h } = await start(new SqliteFlowStore({ file: ':memory:' })));
    const r = await send(h.port, 'POST', `${BASE}/flowbatches`, batch(LOGS), auth('tok-agent'));
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json, { apiVersion: 'flows.margay.io/v1', kind: 'FlowBatchResult', accepted: 3 });
  });
  after(() => h.close());

  const list = (token: string | undefined, path: string) => send(h.port, 'GET', `${BASE}/${path}`, undefined, token !== undefined ? auth(token) : {});
  const pairs = (json: { items: FlowLog[] }) => json.items.map((l) => `${l.source.namespace}/${l.source.name}>${l.dest.namespace}/${l.dest.name}`).sort();

  it('no token: 401 for reading and writing', async () => {
    assert.equal((await list(undefined, 'flowlogs')).status, 401);
    assert.equal((await send(h.port, 'POST', `${BASE}/flowbatches`, batch([]))).status, 401);
  });

  it('the agent may write but not read', async () => {
    assert.equal((await list('tok-agent', 'flowlogs')).status, 403);
    assert.equal((await list('tok-agent', 'namespaces/team-a/flowlogs')).status, 403);
  });

  it('the security auditor, network admin and cluster admin read every flow, and may not write', async () => {
    for (const t of ['tok-auditor', 'tok-netadmin', 'tok-admin']) {
      const r = await list(t, 'flowlogs');
      assert.equal(r.status, 200, `${t}: ${r.body}`);
      assert.equal(r.json.kind, 'FlowLogList');
      assert.equal(r.json.items.length, 3);
    }
    assert.equal((await send(h.port, 'POST', `${BASE}/flowbatches`, batch([]), auth('tok-auditor'))).status, 403);
    assert.equal((await send(h.port, 'POST', `${BASE}/flowbatches`, batch([]), auth('tok-owner'))).status, 403);
  });

  it('a namespace owner sees only flows with a side in their namespace, and nothing cluster-wide', async () => {
    const own = await list('tok-owner', 'namespaces/team-a/flowlogs');
    assert.equal(own.status, 200, own.body);
    assert.deepEqual(pairs(own.json), ['team-a/client-1>team-a/web-1', 'team-b/client-1>team-a/db-1']);
    // A namespace parameter cannot widen the URL's namespace (they combine with AND).
    const widened = await list('tok-owner', 'namespaces/team-a/flowlogs?namespace=team-c');
    assert.deepEqual(widened.json.items, []);
    assert.equal((await list('tok-owner', 'namespaces/team-b/flowlogs')).status, 403);
    assert.equal((await list('tok-owner', 'namespaces/team-c/flowlogs')).status, 403);
    const cluster = await list('tok-owner', 'flowlogs');
    assert.equal(cluster.status, 403);
    assert.equal(cluster.json.reason, 'Forbidden');
    const top = await list('tok-owner', 'namespaces/team-a/flowlogs?view=top&by=denied');
    assert.equal(top.status, 200);
    assert.deepEqual(top.json.items.map((i: { source: { namespace: string }; denied: number }) => [i.source.namespace, i.denied]), [['team-b', 3]]);
  });

  it('someone with no role reads nothing', async () => {
    assert.equal((await list('tok-nobody', 'flowlogs')).status, 403);
    assert.equal((await list('tok-nobody', 'namespaces/team-a/flowlogs')).status, 403);
  });

  it('top and graph answer with their kinds', async () => {
    const top = await list('tok-auditor', 'flowlogs?view=top&by=bytes&group=dest&limit=1');
    assert.equal(top.status, 200, top.body);
    assert.equal(top.json.kind, 'FlowTopList');
    assert.deepEqual(top.json.items, [{ dest: { type: 'wep', namespace: 'team-c', nameAggr: 'db-*' }, packets: 22, bytes: 101_999, numFlows: 1, denied: 0 }]);
    const graph = await list('tok-auditor', 'flowlogs?view=graph&namespace=team-a');
    assert.equal(graph.json.kind, 'FlowGraph');
    assert.deepEqual(graph.json.nodes.map((n: { id: string }) => n.id), ['wep/team-a/client-*', 'wep/team-a/db-*', 'wep/team-a/web-*', 'wep/team-b/client-*']);
    assert.equal(graph.json.edges.length, 2);
  });

  it('bad query parameters are 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['flowlogs?port=http', 'port'],
      ['flowlogs?action=drop', 'action'],
      ['flowlogs?from=yesterday', 'from'],
      ['flowlogs?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['flowlogs?selector=app%20%3D%3D', 'selector'],
      ['flowlogs?namepsace=team-a', 'namepsace'],
      ['flowlogs?limit=0', 'limit'],
      ['flowlogs?limit=10001', 'limit'],
      ['flowlogs?continue=garbage', 'continue'],
      ['flowlogs?afterId=-1', 'afterId'],
      ['flowlogs?view=top&by=size', 'by'],
      ['flowlogs?group=pair', 'group'],
      ['flowlogs?view=table', 'view'],
      ['flowlogs?pod=', 'pod'],
    ];
    for (const [path, param] of cases) {
      const r = await list('tok-auditor', path);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.details?.causes?.[0]?.field, param, `${path}: ${r.body}`);
      assert.match(r.json.message, new RegExp(param));
    }
  });

  it('pages with continue and follows with afterId', async () => {
    const first = await list('tok-auditor', 'flowlogs?limit=2');
    assert.equal(first.json.items.length, 2);
    assert.ok(typeof first.json.metadata.continue === 'string');
    const second = await list('tok-auditor', `flowlogs?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.equal(second.json.items.length, 1);
    assert.equal(second.json.metadata.continue, undefined);
    const lastId = first.json.metadata.lastId as string;
    await send(h.port, 'POST', `${BASE}/flowbatches`, batch([at({ bytesIn: 4242 })]), auth('tok-agent'));
    const next = await list('tok-auditor', `flowlogs?afterId=${lastId}`);
    assert.deepEqual(next.json.items.map((l: FlowLog) => l.bytesIn), [4242]);
    assert.equal(Number(next.json.metadata.lastId), Number(lastId) + 1);
  });
});

describe('flows API: batch validation', () => {
  let h: Harness;
  before(async () => ({ h } = await start(new SqliteFlowStore({ file: ':memory:' }))));
  after(() => h.close());
  const post = (body: unknown, headers: Record<string, string> = {}) => send(h.port, 'POST', `${BASE}/flowbatches`, body, { ...auth('tok-agent'), ...headers });

  it('an invalid batch is 422 Invalid with each field path, and nothing is stored', async () => {
    const bad = JSON.parse(JSON.stringify(batch([flowLog(), flowLog()]))) as { logs: Record<string, unknown>[] };
    (bad.logs[1]!.dest as Record<string, unknown>).port = 70000;
    bad.logs[1]!.action = 'drop';
    bad.logs[0]!.extra = 1;
    const r = await post(bad);
    assert.equal(r.status, 422, r.body);
    assert.equal(r.json.reason, 'Invalid');
    const fields = r.json.details.causes.map((c: { field: string }) => c.field).sort();
    assert.deepEqual(fields, ['logs[0]', 'logs[1].action', 'logs[1].dest.port']);
    const endBefore = await post({ ...batch([flowLog({ startTime: 10, endTime: 5 })]) });
    assert.equal(endBefore.status, 422);
    assert.equal(endBefore.json.details.causes[0].field, 'logs[0].endTime');
    const list = await send(h.port, 'GET', `${BASE}/flowlogs?from=0`, undefined, auth('tok-admin'));
    assert.deepEqual(list.json.items, []);
  });

  it('not JSON is 400; another media type is 415', async () => {
    const r = await post('{"apiVersion":');
    assert.equal(r.status, 400);
    assert.match(r.json.message, /not valid JSON/);
    assert.equal((await post('x', { 'Content-Type': 'text/plain' })).status, 415);
  });
});

/** A real store whose appends wait until the test opens the gate (a slow disk, on demand). */
class GatedStore {
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  constructor(readonly inner: FlowStore) {}
  close(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open();
  }
  store(): FlowStore {
    const inner = this.inner;
    return {
      append: async (b: FlowBatch) => {
        await this.gate;
        return inner.append(b);
      },
      list: (q) => inner.list(q),
      top: (q) => inner.top(q),
      graph: (f) => inner.graph(f),
      prune: (r, n) => inner.prune(r, n),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
  }
}

describe('flows API: backpressure', () => {
  it('answers 429 with Retry-After when the queue is full, and stores every accepted batch', async () => {
    const gated = new GatedStore(new SqliteFlowStore({ file: ':memory:' }));
    const { h, api } = await start(gated.store(), { maxRecords: 10 });
    try {
      gated.close();
      const six = (n: number) => batch(Array.from({ length: 6 }, (_, i) => at({ bytesIn: n * 100 + i })));
      const firstP = send(h.port, 'POST', `${BASE}/flowbatches`, six(1), auth('tok-agent'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(api.queue.pending, 6);
      const refused = await send(h.port, 'POST', `${BASE}/flowbatches`, six(2), auth('tok-agent'));
      assert.equal(refused.status, 429, refused.body);
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.json.reason, 'TooManyRequests');
      assert.equal(refused.json.details.retryAfterSeconds, 1);
      // Four more fit while the first waits.
      const fitsP = send(h.port, 'POST', `${BASE}/flowbatches`, batch([at({ bytesIn: 301 }), at({ bytesIn: 302 }), at({ bytesIn: 303 }), at({ bytesIn: 304 })]), auth('tok-agent'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(api.queue.pending, 10);
      gated.release();
      assert.equal((await firstP).status, 201);
      assert.equal((await fitsP).status, 201);
      // Then a flood of concurrent batches: whatever was answered 201 is stored, the rest was refused.
      gated.close();
      const flood = Array.from({ length: 12 }, (_, k) => send(h.port, 'POST', `${BASE}/flowbatches`, batch([at({ bytesIn: 1000 + k * 2 }), at({ bytesIn: 1001 + k * 2 })]), auth('tok-agent')));
      await new Promise((r) => setTimeout(r, 200));
      gated.release();
      const answers = await Promise.all(flood);
      const ok = answers.filter((a) => a.status === 201).length;
      assert.equal(ok, 5, answers.map((a) => a.status).join(','));
      assert.equal(answers.filter((a) => a.status === 429).length, 7);
      const stored = await send(h.port, 'GET', `${BASE}/flowlogs?limit=10000`, undefined, auth('tok-admin'));
      assert.equal(stored.json.items.length, 6 + 4 + ok * 2);
      const bytes = new Set(stored.json.items.map((l: FlowLog) => l.bytesIn));
      for (const [i, a] of answers.entries()) assert.equal(bytes.has(1000 + i * 2), a.status === 201, `batch ${i}`);
      assert.equal(api.queue.rejected, 8);
    } finally {
      await h.close();
      await gated.inner.close();
    }
  });
});
