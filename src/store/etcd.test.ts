// The store contract on a real etcd (Debian's etcd-server, started on loopback for this file),
// plus what only a shared backend has: two clients, one state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EtcdStore } from './etcd.js';
import { startEtcdServer, type EtcdServer } from './etcd-server.js';
import { openStore } from './open.js';
import { runStoreContract } from './store.contract.js';
import type { WatchEvent } from './types.js';

let server: EtcdServer | undefined;
before(async () => {
  server = await startEtcdServer();
});
after(async () => {
  await server?.close();
});

const endpoints = (): readonly string[] => {
  if (server === undefined) throw new Error('etcd did not start (see the before hook)');
  return server.endpoints;
};
/** Every store gets its own key prefix, so tests sharing the server never see each other's keys. */
const freshPrefix = (): string => `/margay-test-${randomUUID()}`;

describe('EtcdStore on a shared etcd', () => {
  it('a write through one client appears on a watch through another', async () => {
    const prefix = freshPrefix();
    const one = new EtcdStore({ endpoints: endpoints(), prefix });
    const two = new EtcdStore({ endpoints: endpoints(), prefix });
    try {
      const events: WatchEvent[] = [];
      const w = await two.watch({ prefix: '/registry', fromRevision: await two.currentRevision(), onEvent: (e) => events.push(e), onError: () => undefined });
      const created = await one.create('/registry/pods/ns/a', { kind: 'Pod' });
      const updated = await one.update('/registry/pods/ns/a', { kind: 'Pod', n: 1 }, created.modRevision);
      while (events.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(events, [
        { type: 'ADDED', key: '/registry/pods/ns/a', value: { kind: 'Pod' }, revision: created.modRevision },
        { type: 'MODIFIED', key: '/registry/pods/ns/a', value: { kind: 'Pod', n: 1 }, revision: updated.modRevision },
      ]);
      assert.deepEqual(await two.get('/registry/pods/ns/a'), updated);
      // Optimistic concurrency holds across clients too.
      await assert.rejects(two.update('/registry/pods/ns/a', {}, created.modRevision), { name: 'ConflictError' });
      w.dispose();
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('stores with different prefixes do not see each other', async () => {
    const one = new EtcdStore({ endpoints: endpoints(), prefix: freshPrefix() });
    const two = new EtcdStore({ endpoints: endpoints(), prefix: freshPrefix() });
    try {
      await one.create('/t/a', { from: 'one' });
      await two.create('/t/a', { from: 'two' });
      assert.deepEqual((await one.list({ prefix: '/t' })).items.map((i) => i.value), [{ from: 'one' }]);
      assert.deepEqual((await two.get('/t/a'))?.value, { from: 'two' });
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('a watch rides out an etcd restart without losing or repeating events', async () => {
    const store = new EtcdStore({ endpoints: endpoints(), prefix: freshPrefix() });
    try {
      const events: WatchEvent[] = [];
      const errors: Error[] = [];
      const w = await store.watch({ prefix: '/t', fromRevision: await store.currentRevision(), onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
      const revisions: number[] = [];
      for (let i = 0; i < 3; i++) revisions.push((await store.create(`/t/${i}`, { i })).modRevision);
      while (events.length < 3) await new Promise((r) => setTimeout(r, 5));
      await server!.restart();
      for (let i = 3; i < 6; i++) revisions.push((await store.create(`/t/${i}`, { i })).modRevision);
      const deadline = Date.now() + 20_000;
      while (events.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(errors, []);
      assert.deepEqual(events.map((e) => e.revision), revisions);
      w.dispose();
    } finally {
      await store.close();
    }
  });

  it('without a key prefix, the empty prefix lists and watches every key', async () => {
    const store = new EtcdStore({ endpoints: endpoints() });
    const key = `${freshPrefix()}/a`;
    try {
      const events: WatchEvent[] = [];
      const w = await store.watch({ prefix: '', fromRevision: await store.currentRevision(), onEvent: (e) => events.push(e), onError: () => undefined });
      await store.create(key, { v: 1 });
      assert.ok((await store.list({ prefix: '' })).items.some((i) => i.key === key));
      while (events.length < 1) await new Promise((r) => setTimeout(r, 5));
      assert.equal(events[0]?.key, key);
      w.dispose();
    } finally {
      await store.delete(key).catch(() => undefined);
      await store.close();
    }
  });

  it('openStore reaches etcd, and fails clearly when nothing listens', async () => {
    const store = await openStore({ kind: 'etcd', endpoints: endpoints(), prefix: freshPrefix() });
    assert.ok((await store.currentRevision()) >= 1);
    await store.close();
    await assert.rejects(openStore({ kind: 'etcd', endpoints: ['http://127.0.0.1:1'] }), (err: unknown) => {
      assert.ok(err instanceof Error && err.name === 'UserError', String(err));
      assert.match(err.message, /cannot reach etcd at http:\/\/127\.0\.0\.1:1/);
      return true;
    });
  });
});

runStoreContract('etcd', () => new EtcdStore({ endpoints: endpoints(), prefix: freshPrefix() }));
