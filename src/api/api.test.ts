// The API contract over real HTTP, run against every local backend (memory, SQLite): CRUD,
// Status errors, validation, patches, server-side apply, lists, watch, discovery and OpenAPI.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryStore, SqliteStore, type Store } from '../store/index.js';
import { eventually, openWatch, send, startHarness, type Harness } from './testing.js';

const GNP = '/apis/projectcalico.org/v3/globalnetworkpolicies';
const CNP = (ns: string): string => `/apis/projectcalico.org/v3/namespaces/${ns}/networkpolicies`;
const PODS = (ns: string): string => `/api/v1/namespaces/${ns}/pods`;
const gnp = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkPolicy',
  metadata: { name, labels: { team: 'sec' } },
  spec: { selector: 'all()', order: 10, ...extra },
});
const pod = (name: string, labels: Record<string, string> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }], volumes: [{ name: 'data', emptyDir: {} }] },
  status: { podIP: '10.0.0.1' },
});

const backends: [string, () => { store: Store; cleanup: () => void }][] = [
  ['memory', () => ({ store: new MemoryStore(), cleanup: () => undefined })],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'margay-api-'));
      return { store: new SqliteStore({ dataDir: dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

for (const [backend, open] of backends) {
  describe(`API over ${backend}`, () => {
    let h: Harness;
    let store: Store;
    let cleanup: () => void;
    before(async () => {
      ({ store, cleanup } = open());
      h = await startHarness(store, { bookmarkIntervalMs: 100 });
    });
    after(async () => {
      assert.equal(h.server.watchCount(), 0, 'every watch was cleaned up');
      await h.close();
      await store.close();
      cleanup();
    });

    it('creates with server-managed metadata and defaults, then gets it', async () => {
      const r = await send(h.port, 'POST', GNP, gnp('a'));
      assert.equal(r.status, 201, r.body);
      const m = r.json.metadata;
      assert.match(m.uid, /^[0-9a-f-]{36}$/);
      assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(m.generation, 1);
      assert.match(m.resourceVersion, /^\d+$/);
      assert.equal(r.json.spec.tier, 'default', 'defaulted');
      assert.deepEqual(r.json.spec.types, ['Ingress']);
      assert.equal(m.managedFields[0].manager, 'unknown');
      const g = await send(h.port, 'GET', `${GNP}/a`);
      assert.equal(g.status, 200);
      assert.deepEqual(g.json, r.json);
    });

    it('keeps fields the model does not know on core kinds and resets Pod status on create', async () => {
      const r = await send(h.port, 'POST', PODS('default'), pod('p1', { app: 'web' }));
      assert.equal(r.status, 201, r.body);
      assert.equal(r.json.spec.containers[0].image, 'nginx');
      assert.equal(r.json.spec.containers[0].ports[0].protocol, 'TCP', 'defaulted');
      assert.deepEqual(r.json.spec.volumes, [{ name: 'data', emptyDir: {} }]);
      assert.deepEqual(r.json.status, { phase: 'Pending' });
      const s = await send(h.port, 'PATCH', `${PODS('default')}/p1/status`, { status: { podIP: '10.0.0.7', phase: 'Running' } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(s.status, 200, s.body);
      assert.equal(s.json.status.podIP, '10.0.0.7');
      assert.equal(s.json.metadata.generation, 1, 'status writes do not bump generation');
      const u = await send(h.port, 'PATCH', `${PODS('default')}/p1`, { status: { podIP: '10.9.9.9' } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(u.json.status.podIP, '10.0.0.7', 'main resource ignores status');
    });

    it('rejects invalid objects with 422 Invalid and field causes', async () => {
      const r = await send(h.port, 'POST', GNP, gnp('bad', { selector: 'app ==', ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [99999] } }] }));
      assert.equal(r.status, 422, r.body);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.reason, 'Invalid');
      assert.equal(r.json.details.kind, 'GlobalNetworkPolicy');
      assert.equal(r.json.details.name, 'bad');
      const fields = r.json.details.causes.map((c: { field: string }) => c.field);
      assert.ok(fields.includes('spec.selector'), JSON.stringify(r.json));
      assert.ok(fields.some((f: string) => f.startsWith('spec.ingress[0].destination.ports')), JSON.stringify(r.json));
      assert.match(r.json.message, /^GlobalNetworkPolicy "bad" is invalid: /);
      const k = await send(h.port, 'POST', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', {
        apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec: { podSelector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] } },
      });
      assert.equal(k.status, 422);
      assert.equal(k.json.details.causes[0].field, 'spec.podSelector.matchExpressions[0].operator');
    });

    it('handles unknown fields per fieldValidation', async () => {
      const body = gnp('unk', { bogus: 1 });
      const strict = await send(h.port, 'POST', `${GNP}?fieldValidation=Strict`, body);
      assert.equal(strict.status, 422);
      const warn = await send(h.port, 'POST', `${GNP}?fieldValidation=Warn`, body);
      assert.equal(warn.status, 201, warn.body);
      assert.match(String(warn.headers.warning), /^299 - "unknown field \\"spec\.bogus\\""$/);
      assert.equal(warn.json.spec.bogus, undefined);
      const bad = await send(h.port, 'POST', `${GNP}?fieldValidation=Loose`, body);
      assert.equal(bad.status, 400);
    });

    it('answers every client mistake with a Status, never a 500', async () => {
      const cases: [string, string, unknown, Record<string, string>, number, string][] = [
        ['GET', `${GNP}/missing`, undefined, {}, 404, 'NotFound'],
        ['POST', GNP, gnp('a'), {}, 409, 'AlreadyExists'],
        ['POST', GNP, '{not json', {}, 400, 'BadRequest'],
        ['POST', GNP, '[1,2]', {}, 400, 'BadRequest'],
        ['POST', GNP, 'x', { 'Content-Type': 'application/vnd.kubernetes.protobuf' }, 415, 'UnsupportedMediaType'],
        ['PATCH', `${GNP}/a`, '{}', { 'Content-Type': 'text/plain' }, 415, 'UnsupportedMediaType'],
        ['PATCH', `${GNP}/a`, '{}', { 'Content-Type': 'application/strategic-merge-patch+json' }, 415, 'UnsupportedMediaType'],
        ['PUT', GNP, gnp('a'), {}, 405, 'MethodNotAllowed'],
        ['POST', `${GNP}/a`, gnp('a'), {}, 405, 'MethodNotAllowed'],
        ['GET', '/apis/projectcalico.org/v3/nothings', undefined, {}, 404, 'NotFound'],
        ['GET', `${GNP}?labelSelector=a%20in%20(`, undefined, {}, 400, 'BadRequest'],
        ['GET', `${GNP}?fieldSelector=spec.order%3D1`, undefined, {}, 400, 'BadRequest'],
        ['GET', `${GNP}?resourceVersion=abc`, undefined, {}, 400, 'BadRequest'],
        ['PUT', `${GNP}/a`, gnp('other'), {}, 400, 'BadRequest'],
        ['POST', CNP('x'), { ...gnp('k'), kind: 'NetworkPolicy', metadata: { name: 'k', namespace: 'y' } }, {}, 400, 'BadRequest'],
        ['PATCH', `${GNP}/a`, '[{"op":"test","path":"/spec/order","value":999}]', { 'Content-Type': 'application/json-patch+json' }, 422, 'Invalid'],
        ['PATCH', `${GNP}/a`, '{"op":"x"}', { 'Content-Type': 'application/json-patch+json' }, 400, 'BadRequest'],
        ['PATCH', `${GNP}/a`, 'a: [', { 'Content-Type': 'application/apply-patch+yaml' }, 400, 'BadRequest'],
        ['GET', `${GNP}/a/status`, undefined, {}, 404, 'NotFound'],
        ['DELETE', `${GNP}/missing`, undefined, {}, 404, 'NotFound'],
      ];
      for (const [method, path, body, headers, code, reason] of cases) {
        const r = await send(h.port, method, path, body, headers);
        assert.equal(r.status, code, `${method} ${path}: ${r.body}`);
        assert.equal(r.json?.kind, 'Status', `${method} ${path}`);
        assert.equal(r.json.reason, reason, `${method} ${path}: ${r.body}`);
      }
      const big = await send(h.port, 'POST', GNP, JSON.stringify({ ...gnp('big'), pad: 'x'.repeat(4 * 1024 * 1024) }));
      assert.equal(big.status, 413);
      assert.equal(big.json.reason, 'RequestEntityTooLarge');
    });

    it('updates with optimistic concurrency: exactly one of concurrent writers wins', async () => {
      const cur = (await send(h.port, 'GET', `${GNP}/a`)).json;
      const writes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => send(h.port, 'PUT', `${GNP}/a`, { ...cur, spec: { ...cur.spec, order: 100 + i } })),
      );
      const codes = writes.map((w) => w.status).sort();
      assert.deepEqual(codes, [200, 409, 409, 409, 409, 409, 409, 409], writes.map((w) => w.body).join('\n'));
      const lost = writes.find((w) => w.status === 409);
      assert.equal(lost?.json.reason, 'Conflict');
      const now = (await send(h.port, 'GET', `${GNP}/a`)).json;
      assert.equal(now.metadata.generation, 2, 'spec change bumps generation');
      assert.equal(now.metadata.uid, cur.metadata.uid);
      assert.equal(now.metadata.creationTimestamp, cur.metadata.creationTimestamp);
      const same = await send(h.port, 'PUT', `${GNP}/a`, now);
      assert.equal(same.json.metadata.resourceVersion, now.metadata.resourceVersion, 'a no-op update writes nothing');
      const labelOnly = await send(h.port, 'PATCH', `${GNP}/a`, { metadata: { labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(labelOnly.json.metadata.generation, 2, 'metadata changes do not bump generation');
    });

    it('applies JSON merge, JSON and strategic merge patches', async () => {
      const m = await send(h.port, 'PATCH', `${GNP}/a`, { spec: { order: 7, types: null } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(m.status, 200, m.body);
      assert.equal(m.json.spec.order, 7);
      assert.deepEqual(m.json.spec.types, ['Ingress'], 'defaulted again after the patch removed it');
      const j = await send(h.port, 'PATCH', `${GNP}/a`, [{ op: 'replace', path: '/spec/selector', value: 'role == "db"' }], { 'Content-Type': 'application/json-patch+json' });
      assert.equal(j.json.spec.selector, 'role == "db"');
      const s = await send(
        h.port,
        'PATCH',
        `${PODS('default')}/p1`,
        { spec: { containers: [{ name: 'side', image: 'busybox' }, { name: 'web', ports: [{ containerPort: 443 }] }], $setElementOrder: undefined } },
        { 'Content-Type': 'application/strategic-merge-patch+json' },
      );
      assert.equal(s.status, 200, s.body);
      assert.deepEqual(s.json.spec.containers.map((c: { name: string }) => c.name), ['web', 'side']);
      assert.deepEqual(s.json.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort), [80, 443]);
      assert.equal(s.json.spec.containers[0].image, 'nginx');
      const del = await send(h.port, 'PATCH', `${PODS('default')}/p1`, { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
      assert.deepEqual(del.json.spec.containers.map((c: { name: string }) => c.name), ['web']);
      const stale = await send(h.port, 'PATCH', `${GNP}/a`, { metadata: { resourceVersion: '1' }, spec: { order: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(stale.status, 409, 'a resourceVersion in a patch is a precondition');
    });

    it('server-side apply creates, updates, reports conflicts and takes over with force', async () => {
      const cfg = 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: ssa\nspec:\n  selector: all()\n  order: 1\n';
      const apply = (body: string, q = ''): Promise<import('./testing.js').Reply> => send(h.port, 'PATCH', `${GNP}/ssa?fieldManager=tool${q}`, body, { 'Content-Type': 'application/apply-patch+yaml' });
      const c = await apply(cfg);
      assert.equal(c.status, 201, c.body);
      assert.deepEqual(c.json.metadata.managedFields.map((e: { manager: string; operation: string }) => `${e.manager}/${e.operation}`), ['tool/Apply']);
      const again = await apply(cfg);
      assert.equal(again.status, 200);
      assert.equal(again.json.metadata.resourceVersion, c.json.metadata.resourceVersion, 'unchanged apply writes nothing');
      await send(h.port, 'PATCH', `${GNP}/ssa?fieldManager=other`, { spec: { order: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
      const conflict = await apply(cfg.replace('order: 1', 'order: 2'));
      assert.equal(conflict.status, 409, conflict.body);
      assert.equal(conflict.json.details.causes[0].reason, 'FieldManagerConflict');
      assert.equal(conflict.json.details.causes[0].field, '.spec.order');
      assert.match(conflict.json.message, /conflict with "other"/);
      const forced = await apply(cfg.replace('order: 1', 'order: 2'), '&force=true');
      assert.equal(forced.status, 200, forced.body);
      assert.equal(forced.json.spec.order, 2);
      const dropped = await apply('apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: ssa\nspec:\n  selector: all()\n');
      assert.equal(dropped.json.spec.order, undefined, 'a field no longer applied is removed');
      const noManager = await send(h.port, 'PATCH', `${GNP}/ssa`, cfg, { 'Content-Type': 'application/apply-patch+yaml', 'User-Agent': '' });
      assert.equal(noManager.status, 400);
    });

    it('supports dry run without writing', async () => {
      const rev = (await send(h.port, 'GET', GNP)).json.metadata.resourceVersion;
      const c = await send(h.port, 'POST', `${GNP}?dryRun=All`, gnp('dry'));
      assert.equal(c.status, 201);
      assert.equal(c.json.spec.tier, 'default');
      assert.equal((await send(h.port, 'GET', `${GNP}/dry`)).status, 404);
      const p = await send(h.port, 'PATCH', `${GNP}/a?dryRun=All`, { spec: { order: 999 } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(p.json.spec.order, 999);
      assert.notEqual((await send(h.port, 'GET', `${GNP}/a`)).json.spec.order, 999);
      const d = await send(h.port, 'DELETE', `${GNP}/a?dryRun=All`);
      assert.equal(d.status, 200);
      assert.equal((await send(h.port, 'GET', `${GNP}/a`)).status, 200);
      assert.equal((await send(h.port, 'GET', GNP)).json.metadata.resourceVersion, rev);
    });

    it('lists with label and field selectors, pages with limit/continue, and prints Tables', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await send(h.port, 'POST', CNP('shop'), { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: `np${i}`, labels: { idx: String(i), app: i % 2 === 0 ? 'even' : 'odd' } }, spec: { selector: 'all()' } });
        assert.equal(r.status, 201, r.body);
      }
      const all = await send(h.port, 'GET', '/apis/projectcalico.org/v3/networkpolicies');
      assert.equal(all.json.kind, 'NetworkPolicyList');
      assert.equal(all.json.items.length, 5);
      const names = async (q: string): Promise<string[]> => (await send(h.port, 'GET', `${CNP('shop')}?${q}`)).json.items.map((i: { metadata: { name: string } }) => i.metadata.name);
      assert.deepEqual(await names('labelSelector=app%3Deven'), ['np0', 'np2', 'np4']);
      assert.deepEqual(await names('labelSelector=app!%3Deven,idx%20notin%20(1)'), ['np3']);
      assert.deepEqual(await names('labelSelector=idx%20in%20(0,4),!missing'), ['np0', 'np4']);
      assert.deepEqual(await names('labelSelector=idx>2'), ['np3', 'np4']);
      assert.deepEqual(await names('fieldSelector=metadata.name%3Dnp1'), ['np1']);
      const page1 = await send(h.port, 'GET', `${CNP('shop')}?limit=2`);
      assert.equal(page1.json.items.length, 2);
      assert.ok(page1.json.metadata.continue);
      const page2 = await send(h.port, 'GET', `${CNP('shop')}?limit=2&continue=${encodeURIComponent(page1.json.metadata.continue)}`);
      assert.deepEqual(page2.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['np2', 'np3']);
      const bogus = await send(h.port, 'GET', `${CNP('shop')}?limit=2&continue=garbage`);
      assert.equal(bogus.status, 400);
      const table = await send(h.port, 'GET', CNP('shop'), undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      assert.equal(table.json.kind, 'Table');
      assert.deepEqual(table.json.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Tier', 'Order', 'Selector', 'Age', 'Types']);
      assert.deepEqual(table.json.rows[0].cells.slice(0, 4), ['np0', 'default', '<none>', 'all()']);
      assert.equal(table.json.rows[0].object.kind, 'PartialObjectMetadata');
      assert.match(String(table.headers['content-type']), /as=Table/);
      const dc = await send(h.port, 'DELETE', `${CNP('shop')}?labelSelector=app%3Dodd`);
      assert.equal(dc.status, 200);
      assert.deepEqual(await names(''), ['np0', 'np2', 'np4']);
    });

    it('watches: initial state, changes in order, selector transitions, bookmarks, cleanup', async () => {
      const w = await openWatch(h.port, `${CNP('shop')}?watch=1&labelSelector=app%3Deven&allowWatchBookmarks=true`);
      await w.waitFor(3);
      assert.deepEqual(w.events.slice(0, 3).map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED np0', 'ADDED np2', 'ADDED np4']);
      const rv0 = Number(w.events[2].object.metadata.resourceVersion);
      await send(h.port, 'PATCH', `${CNP('shop')}/np0`, { spec: { order: 3 } }, { 'Content-Type': 'application/merge-patch+json' });
      await send(h.port, 'PATCH', `${CNP('shop')}/np2`, { metadata: { labels: { app: 'odd' } } }, { 'Content-Type': 'application/merge-patch+json' });
      await send(h.port, 'DELETE', `${CNP('shop')}/np4`);
      await eventually(() => w.events.filter((e) => e.type !== 'BOOKMARK').length >= 6, 5000, 'watch events');
      const changes = w.events.filter((e) => e.type !== 'BOOKMARK').slice(3);
      assert.deepEqual(changes.map((e) => `${e.type} ${e.object.metadata.name}`), ['MODIFIED np0', 'DELETED np2', 'DELETED np4']);
      const rvs = changes.map((e) => Number(e.object.metadata.resourceVersion));
      assert.ok(rvs.every((rv, i) => rv > (i === 0 ? rv0 : (rvs[i - 1] as number))), `increasing resourceVersions ${rvs}`);
      await eventually(() => w.events.some((e) => e.type === 'BOOKMARK'), 3000, 'a bookmark');
      const bm = w.events.find((e) => e.type === 'BOOKMARK');
      assert.equal(bm.object.kind, 'NetworkPolicy');
      assert.ok(Number(bm.object.metadata.resourceVersion) >= rv0);
      w.close();
      await eventually(() => h.server.watchCount() === 0, 3000, 'watch cleanup');
    });

    it('resumes a watch from a resourceVersion and answers 410 for compacted history', async () => {
      const created = await send(h.port, 'POST', GNP, gnp('w1'));
      const rv = created.json.metadata.resourceVersion;
      await send(h.port, 'PATCH', `${GNP}/w1`, { spec: { order: 2 } }, { 'Content-Type': 'application/merge-patch+json' });
      const w = await openWatch(h.port, `${GNP}?watch=true&resourceVersion=${rv}`);
      await w.waitFor(1);
      assert.equal(w.events[0].type, 'MODIFIED');
      assert.equal(w.events[0].object.spec.order, 2);
      w.close();
      // A server whose memory window is short falls back to the store, which has compacted.
      const small = await startHarness(store, { watchHistory: 2 });
      for (let i = 0; i < 4; i++) await send(small.port, 'PATCH', `${GNP}/w1`, { spec: { order: 10 + i } }, { 'Content-Type': 'application/merge-patch+json' });
      const now = Number((await send(h.port, 'GET', GNP)).json.metadata.resourceVersion);
      await store.compact(now);
      const old = await openWatch(small.port, `${GNP}?watch=true&resourceVersion=1`);
      await old.ended;
      const last = old.events[old.events.length - 1];
      assert.equal(last?.type, 'ERROR', JSON.stringify(old.events));
      assert.equal(last.object.code, 410);
      const list = await send(h.port, 'GET', `${GNP}?resourceVersion=1&resourceVersionMatch=Exact`);
      assert.equal(list.status, 410);
      await small.close();
      await eventually(() => h.server.watchCount() === 0, 3000, 'watch cleanup');
    });

    it('serves a Table watch for kubectl get -w', async () => {
      const w = await openWatch(h.port, `${GNP}?watch=1&fieldSelector=metadata.name%3Dw1`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
      await w.waitFor(1);
      assert.equal(w.events[0].object.kind, 'Table');
      assert.ok(w.events[0].object.columnDefinitions.length > 0);
      await send(h.port, 'PATCH', `${GNP}/w1`, { spec: { order: 9 } }, { 'Content-Type': 'application/merge-patch+json' });
      await w.waitFor(2);
      assert.equal(w.events[1].object.rows[0].cells[2], '9');
      assert.equal(w.events[1].object.columnDefinitions, undefined, 'headers once');
      w.close();
      await eventually(() => h.server.watchCount() === 0, 3000, 'watch cleanup');
    });

    it('deleting a namespace deletes what is in it', async () => {
      await send(h.port, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
      await send(h.port, 'POST', PODS('gone'), pod('x'));
      const d = await send(h.port, 'DELETE', '/api/v1/namespaces/gone');
      assert.equal(d.status, 200);
      assert.equal((await send(h.port, 'GET', `${PODS('gone')}/x`)).status, 404);
    });

    it('serves discovery, OpenAPI v3, health and version', async () => {
      const agg = await send(h.port, 'GET', '/apis', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
      assert.match(String(agg.headers['content-type']), /apidiscovery\.k8s\.io/);
      const calico = agg.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'projectcalico.org');
      const gnpRes = calico.versions[0].resources.find((r: { resource: string }) => r.resource === 'globalnetworkpolicies');
      assert.deepEqual(gnpRes.shortNames, ['gnp', 'cgnp', 'calicoglobalnetworkpolicies']);
      assert.equal(gnpRes.scope, 'Cluster');
      const legacy = await send(h.port, 'GET', '/apis');
      assert.equal(legacy.json.kind, 'APIGroupList');
      const core = await send(h.port, 'GET', '/api/v1');
      const pods = core.json.resources.find((r: { name: string }) => r.name === 'pods');
      assert.deepEqual(pods.shortNames, ['po']);
      assert.ok(core.json.resources.some((r: { name: string }) => r.name === 'pods/status'));
      const group = await send(h.port, 'GET', '/apis/policy.networking.k8s.io');
      assert.equal(group.json.preferredVersion.version, 'v1alpha2');
      const index = await send(h.port, 'GET', '/openapi/v3');
      const url = index.json.paths['apis/projectcalico.org/v3'].serverRelativeURL;
      const doc = await send(h.port, 'GET', url);
      assert.equal(doc.json.openapi, '3.0.0');
      const schema = doc.json.components.schemas['org.projectcalico.v3.GlobalNetworkPolicy'];
      assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'projectcalico.org', version: 'v3', kind: 'GlobalNetworkPolicy' }]);
      const patchOp = doc.json.paths['/apis/projectcalico.org/v3/globalnetworkpolicies/{name}'].patch;
      assert.ok(patchOp.parameters.some((p: { name: string }) => p.name === 'fieldValidation'));
      for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await send(h.port, 'GET', p)).body, 'ok');
      assert.equal((await send(h.port, 'GET', '/version')).json.major, '1');
      assert.equal((await send(h.port, 'GET', '/nothing')).json.reason, 'NotFound');
    });
  });
}
