// The client against a real API server: typed CRUD, and an informer that follows changes,
// reconnects after the server goes away and relists when its resourceVersion is compacted (410).
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createApiServer, findResourceTypeByKind, type ApiServer, type JsonObject } from '../api/index.js';
import { MemoryStore } from '../store/index.js';
import { Informer, KubeApiError, KubeClient } from './index.js';

const GNP = findResourceTypeByKind('projectcalico.org/v3', 'GlobalNetworkPolicy');
const gnp = (name: string, order = 1): JsonObject => ({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { selector: 'all()', order } });

async function eventually(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('client and informer', () => {
  const store = new MemoryStore();
  let server: ApiServer;
  let port: number;
  let client: KubeClient;
  const type = GNP!;

  before(async () => {
    server = await createApiServer({ store, log: () => undefined, bookmarkIntervalMs: 50 });
    port = (await server.listen('127.0.0.1', 0)).port;
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  it('does typed CRUD and surfaces Status errors', async () => {
    const { object } = await client.create(type, undefined, gnp('one'));
    assert.equal((object.spec as JsonObject).tier, 'default');
    const got = await client.get(type, undefined, 'one');
    assert.equal((got.metadata as JsonObject).name, 'one');
    const patched = await client.patch(type, undefined, 'one', 'merge', { spec: { order: 3 } });
    assert.equal((patched.spec as JsonObject).order, 3);
    await assert.rejects(client.create(type, undefined, gnp('one')), (e: unknown) => e instanceof KubeApiError && e.code === 409 && e.reason === 'AlreadyExists');
    await assert.rejects(client.create(type, undefined, { ...gnp('bad'), spec: { selector: '(' } }), (e: unknown) => e instanceof KubeApiError && e.code === 422 && /invalid selector/.test(e.message));
    const list = await client.listAll(type, undefined);
    assert.deepEqual(list.items.map((i) => (i.metadata as JsonObject).name), ['one']);
    await client.delete(type, undefined, 'one');
    await assert.rejects(client.get(type, undefined, 'one'), (e: unknown) => e instanceof KubeApiError && e.code === 404);
  });

  it('informs, reconnects after an outage, and relists on 410', async () => {
    for (const n of ['a', 'b', 'c']) await client.create(type, undefined, gnp(n));
    const seen: string[] = [];
    const informer = new Informer(client, type, {
      onAdd: (o) => seen.push(`add ${String((o.metadata as JsonObject).name)}`),
      onUpdate: (o) => seen.push(`update ${String((o.metadata as JsonObject).name)}`),
      onDelete: (o) => seen.push(`delete ${String((o.metadata as JsonObject).name)}`),
    }, { initialBackoffMs: 20, maxBackoffMs: 100 });
    informer.start();
    try {
      await informer.waitForSync();
      assert.deepEqual(informer.list().map((o) => (o.metadata as JsonObject).name), ['a', 'b', 'c']);
      await client.patch(type, undefined, 'a', 'merge', { spec: { order: 9 } });
      await client.delete(type, undefined, 'b');
      await eventually(() => seen.includes('delete b') && seen.includes('update a'), 'watch events');
      assert.equal(informer.listCount, 1);

      // The server goes away; meanwhile the store changes and compacts its history.
      await server.close();
      const offline = await createApiServer({ store, log: () => undefined });
      await offline.service.create(type, undefined, gnp('d'), { dryRun: false, fieldManager: 't', fieldValidation: 'Strict' });
      await offline.service.delete(type, undefined, 'c', { dryRun: false });
      await store.compact(await store.currentRevision());
      await offline.close();
      server = await createApiServer({ store, log: () => undefined, watchHistory: 1 });
      await server.listen('127.0.0.1', port);

      await eventually(() => informer.listCount >= 2, 'a relist after 410');
      await eventually(() => informer.get('d') !== undefined && informer.get('c') === undefined, 'the cache to catch up');
      assert.ok(seen.includes('add d') && seen.includes('delete c'), seen.join(', '));
      await client.create(type, undefined, gnp('e'));
      await eventually(() => informer.get('e') !== undefined, 'watching again after the relist');
    } finally {
      await informer.stop();
    }
    await eventually(() => server.watchCount() === 0, 'the informer watch to close');
  });
});
