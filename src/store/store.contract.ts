// The one behaviour every Store backend must show, written once and run unchanged against memory,
// SQLite and etcd. Each test gets a fresh, empty store from `makeStore` and closes it.
// Compaction tests come last: on etcd compaction is global to the server the suite shares.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isAlreadyExists,
  isConflict,
  isFutureRevision,
  isGone,
  isInvalidContinue,
  isNotFound,
  type ConflictError,
  type GoneError,
} from './errors.js';
import type { Disposable, ListResult, Store, StoredValue, WatchEvent, WatchOptions } from './types.js';

export type StoreFactory = () => Store | Promise<Store>;

export function runStoreContract(name: string, makeStore: StoreFactory): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`Store contract: ${name}`, () => {
    describe('get and create', () => {
      it('get of a missing key resolves to undefined', withStore(async (store) => {
        assert.equal(await store.get('/t/missing'), undefined);
      }));

      it('create stores the value at a new revision, create and mod revision equal', withStore(async (store) => {
        const before = await store.currentRevision();
        const created = await store.create('/t/a', { spec: { n: 1 } });
        assert.equal(created.key, '/t/a');
        assert.deepEqual(created.value, { spec: { n: 1 } });
        assert.ok(created.modRevision > before);
        assert.equal(created.createRevision, created.modRevision);
        assert.equal(await store.currentRevision(), created.modRevision);
        assert.deepEqual(await store.get('/t/a'), created);
      }));

      it('create of an existing key fails with AlreadyExistsError and writes nothing', withStore(async (store) => {
        await store.create('/t/a', { v: 1 });
        const rev = await store.currentRevision();
        const err = await rejection(store.create('/t/a', { v: 2 }));
        assert.ok(isAlreadyExists(err), String(err));
        assert.equal(err.key, '/t/a');
        assert.equal(err.code, 409);
        assert.equal(await store.currentRevision(), rev);
        assert.deepEqual((await store.get('/t/a'))?.value, { v: 1 });
      }));

      it('each write takes exactly one revision; failed writes take none', withStore(async (store) => {
        const r0 = await store.currentRevision();
        const a = await store.create('/t/a', { v: 1 });
        const b = await store.create('/t/b', { v: 1 });
        const a2 = await store.update('/t/a', { v: 2 });
        await rejection(store.update('/t/a', { v: 3 }, a.modRevision));
        await rejection(store.create('/t/b', {}));
        await rejection(store.delete('/t/none'));
        const d = await store.delete('/t/b');
        assert.deepEqual([a.modRevision, b.modRevision, a2.modRevision, d.modRevision], [r0 + 1, r0 + 2, r0 + 3, r0 + 4]);
        assert.equal(await store.currentRevision(), r0 + 4);
      }));

      it('stored values are copies: later mutation by the caller changes nothing', withStore(async (store) => {
        const value = { spec: { list: [1, 2] } };
        const created = await store.create('/t/a', value);
        value.spec.list.push(3);
        (created.value as { spec: { list: number[] } }).spec.list.push(4);
        const got = await store.get('/t/a');
        assert.deepEqual(got?.value, { spec: { list: [1, 2] } });
        (got!.value as { spec: { list: number[] } }).spec.list.push(5);
        assert.deepEqual((await store.get('/t/a'))?.value, { spec: { list: [1, 2] } });
      }));
    });

    describe('update', () => {
      it('without an expected revision replaces the value and keeps createRevision', withStore(async (store) => {
        const created = await store.create('/t/a', { v: 1 });
        const updated = await store.update('/t/a', { v: 2 });
        assert.equal(updated.createRevision, created.createRevision);
        assert.ok(updated.modRevision > created.modRevision);
        assert.deepEqual(updated.value, { v: 2 });
        assert.deepEqual(await store.get('/t/a'), updated);
      }));

      it('with the current revision succeeds; with a stale one fails with ConflictError', withStore(async (store) => {
        const created = await store.create('/t/a', { v: 1 });
        const updated = await store.update('/t/a', { v: 2 }, created.modRevision);
        const err = await rejection(store.update('/t/a', { v: 3 }, created.modRevision));
        assert.ok(isConflict(err), String(err));
        assert.equal(err.code, 409);
        assert.equal(err.key, '/t/a');
        assert.equal((err as ConflictError).expectedModRevision, created.modRevision);
        assert.equal((err as ConflictError).actualModRevision, updated.modRevision);
        assert.deepEqual((await store.get('/t/a'))?.value, { v: 2 });
        const again = await store.update('/t/a', { v: 3 }, updated.modRevision);
        assert.deepEqual(again.value, { v: 3 });
      }));

      it('of a missing key fails with NotFoundError, with or without an expected revision', withStore(async (store) => {
        const a = await rejection(store.update('/t/a', { v: 1 }));
        assert.ok(isNotFound(a), String(a));
        assert.equal(a.key, '/t/a');
        const created = await store.create('/t/b', { v: 1 });
        const b = await rejection(store.update('/t/a', { v: 1 }, created.modRevision));
        assert.ok(isNotFound(b), String(b));
        const c = await rejection(store.update('/t/a', { v: 1 }, 0));
        assert.ok(isNotFound(c), String(c));
        assert.equal(await store.get('/t/a'), undefined);
      }));

      it('20 concurrent updates with the same expected revision: exactly one wins', withStore(async (store) => {
        const created = await store.create('/t/a', { n: -1 });
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, n) => store.update('/t/a', { n }, created.modRevision)),
        );
        const won = results.filter((r): r is PromiseFulfilledResult<StoredValue> => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        assert.equal(lost.length, 19);
        for (const r of lost) assert.ok(isConflict(r.reason), String(r.reason));
        assert.deepEqual((await store.get('/t/a'))?.value, won[0]!.value.value);
        assert.equal(await store.currentRevision(), created.modRevision + 1);
      }));

      it('20 concurrent creates of one key: exactly one wins', withStore(async (store) => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => store.create('/t/a', { n })));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isAlreadyExists(r.reason), String(r.reason));
      }));
    });

    describe('delete', () => {
      it('returns the last value at the deletion revision and removes the key', withStore(async (store) => {
        const created = await store.create('/t/a', { v: 1 });
        const updated = await store.update('/t/a', { v: 2 });
        const deleted = await store.delete('/t/a');
        assert.deepEqual(deleted.value, { v: 2 });
        assert.equal(deleted.key, '/t/a');
        assert.equal(deleted.createRevision, created.createRevision);
        assert.equal(deleted.modRevision, updated.modRevision + 1);
        assert.equal(await store.currentRevision(), deleted.modRevision);
        assert.equal(await store.get('/t/a'), undefined);
        const recreated = await store.create('/t/a', { v: 3 });
        assert.equal(recreated.createRevision, recreated.modRevision);
        assert.ok(recreated.createRevision > deleted.modRevision);
      }));

      it('checks the expected revision: stale → ConflictError, current → deleted', withStore(async (store) => {
        const created = await store.create('/t/a', { v: 1 });
        const updated = await store.update('/t/a', { v: 2 });
        const err = await rejection(store.delete('/t/a', created.modRevision));
        assert.ok(isConflict(err), String(err));
        assert.ok((await store.get('/t/a')) !== undefined);
        const deleted = await store.delete('/t/a', updated.modRevision);
        assert.deepEqual(deleted.value, { v: 2 });
      }));

      it('of a missing key fails with NotFoundError', withStore(async (store) => {
        const a = await rejection(store.delete('/t/a'));
        assert.ok(isNotFound(a), String(a));
        const b = await rejection(store.delete('/t/a', 1));
        assert.ok(isNotFound(b), String(b));
      }));
    });

    describe('list', () => {
      it('lists a prefix as a directory, in key order: /a/b never lists /a/bc', withStore(async (store) => {
        for (const key of ['/a/b/2', '/a/bc/1', '/a/b/1', '/a/b', '/a/b/c/d', '/a/a/1', '/b/1']) await store.create(key, { key });
        const keys = (r: ListResult) => r.items.map((i) => i.key);
        assert.deepEqual(keys(await store.list({ prefix: '/a/b' })), ['/a/b/1', '/a/b/2', '/a/b/c/d']);
        assert.deepEqual(keys(await store.list({ prefix: '/a/b/' })), ['/a/b/1', '/a/b/2', '/a/b/c/d']);
        assert.deepEqual(keys(await store.list({ prefix: '/a/bc' })), ['/a/bc/1']);
        assert.deepEqual(keys(await store.list({ prefix: '/a' })), ['/a/a/1', '/a/b', '/a/b/1', '/a/b/2', '/a/b/c/d', '/a/bc/1']);
        assert.deepEqual(keys(await store.list({ prefix: '' })), ['/a/a/1', '/a/b', '/a/b/1', '/a/b/2', '/a/b/c/d', '/a/bc/1', '/b/1']);
        assert.deepEqual(keys(await store.list({ prefix: '/c' })), []);
      }));

      it('returns the items with their revisions and the revision it read at', withStore(async (store) => {
        const a = await store.create('/t/a', { v: 1 });
        const b = await store.create('/t/b', { v: 1 });
        const b2 = await store.update('/t/b', { v: 2 });
        const result = await store.list({ prefix: '/t' });
        assert.deepEqual(result.items, [a, b2]);
        assert.equal(b2.createRevision, b.createRevision);
        assert.equal(result.revision, await store.currentRevision());
        assert.equal(result.continue, undefined);
      }));

      it('reads at a past revision', withStore(async (store) => {
        const a = await store.create('/t/a', { v: 1 });
        const b = await store.create('/t/b', { v: 1 });
        const past = await store.currentRevision();
        await store.update('/t/a', { v: 2 });
        await store.delete('/t/b');
        await store.create('/t/c', { v: 1 });
        const then = await store.list({ prefix: '/t', revision: past });
        assert.equal(then.revision, past);
        assert.deepEqual(then.items, [a, b]);
        const now = await store.list({ prefix: '/t' });
        assert.deepEqual(now.items.map((i) => [i.key, i.value]), [['/t/a', { v: 2 }], ['/t/c', { v: 1 }]]);
      }));

      it('a revision the store has not reached fails with FutureRevisionError', withStore(async (store) => {
        await store.create('/t/a', {});
        const err = await rejection(store.list({ prefix: '/t', revision: (await store.currentRevision()) + 100 }));
        assert.ok(isFutureRevision(err), String(err));
        assert.equal(err.code, 504);
      }));

      it('applies the filter before the limit', withStore(async (store) => {
        for (let i = 0; i < 10; i++) await store.create(`/t/${i}`, { i, even: i % 2 === 0 });
        const even = (v: Readonly<Record<string, unknown>>) => v.even === true;
        const first = await store.list({ prefix: '/t', filter: even, limit: 2 });
        assert.deepEqual(first.items.map((i) => i.value.i), [0, 2]);
        assert.ok(first.continue !== undefined);
        const second = await store.list({ prefix: '/t', filter: even, limit: 2, continue: first.continue });
        assert.deepEqual(second.items.map((i) => i.value.i), [4, 6]);
        const third = await store.list({ prefix: '/t', filter: even, limit: 2, continue: second.continue! });
        assert.deepEqual(third.items.map((i) => i.value.i), [8]);
        assert.equal(third.continue, undefined, 'no token when nothing else matches');
        const exact = await store.list({ prefix: '/t', filter: even, limit: 5 });
        assert.equal(exact.items.length, 5);
        assert.equal(exact.continue, undefined, 'no token when the page holds the last match');
        const none = await store.list({ prefix: '/t', filter: () => false, limit: 3 });
        assert.deepEqual(none.items, []);
        assert.equal(none.continue, undefined);
      }));

      it('pages with limit and continue; remainingItemCount when unfiltered', withStore(async (store) => {
        for (let i = 0; i < 7; i++) await store.create(`/t/${i}`, { i });
        await store.create('/u/x', {});
        const seen: number[] = [];
        let page = await store.list({ prefix: '/t', limit: 3 });
        assert.equal(page.remainingItemCount, 4);
        seen.push(...page.items.map((i) => i.value.i as number));
        const revision = page.revision;
        while (page.continue !== undefined) {
          page = await store.list({ prefix: '/t', limit: 3, continue: page.continue });
          assert.equal(page.revision, revision);
          seen.push(...page.items.map((i) => i.value.i as number));
        }
        assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
        const all = await store.list({ prefix: '/t', limit: 7 });
        assert.equal(all.items.length, 7);
        assert.equal(all.continue, undefined);
      }));

      it('pages stay at their snapshot revision across concurrent writes', withStore(async (store) => {
        const original: StoredValue[] = [];
        for (let i = 1; i <= 5; i++) original.push(await store.create(`/t/${i}`, { i, gen: 0 }));
        const first = await store.list({ prefix: '/t', limit: 2 });
        await store.update('/t/3', { i: 3, gen: 1 });
        await store.delete('/t/4');
        await store.create('/t/0', { i: 0, gen: 1 });
        await store.create('/t/6', { i: 6, gen: 1 });
        await store.update('/t/1', { i: 1, gen: 1 });
        const items = [...first.items];
        let token = first.continue;
        while (token !== undefined) {
          const page = await store.list({ prefix: '/t', limit: 2, continue: token });
          assert.equal(page.revision, first.revision);
          items.push(...page.items);
          token = page.continue;
        }
        assert.deepEqual(items, original);
      }));

      it('a garbled continue token fails with InvalidContinueError', withStore(async (store) => {
        await store.create('/t/a', {});
        for (const token of ['not a token!', 'e30', Buffer.from('{"rev":"x","after":1}').toString('base64url')]) {
          const err = await rejection(store.list({ prefix: '/t', continue: token }));
          assert.ok(isInvalidContinue(err), `${token}: ${String(err)}`);
          assert.equal(err.code, 400);
        }
      }));
    });

    describe('watch', () => {
      it('delivers ADDED, MODIFIED and DELETED with their revisions; DELETED carries the last value', withStore(async (store) => {
        const w = await watchOf(store, { prefix: '/t', fromRevision: await store.currentRevision() });
        try {
          const a = await store.create('/t/a', { v: 1 });
          const a2 = await store.update('/t/a', { v: 2 });
          const d = await store.delete('/t/a');
          const events = await w.next(3);
          assert.deepEqual(events, [
            { type: 'ADDED', key: '/t/a', value: { v: 1 }, revision: a.modRevision },
            { type: 'MODIFIED', key: '/t/a', value: { v: 2 }, revision: a2.modRevision },
            { type: 'DELETED', key: '/t/a', value: { v: 2 }, revision: d.modRevision },
          ]);
        } finally {
          w.dispose();
        }
      }));

      it('only delivers keys in the watched directory', withStore(async (store) => {
        const w = await watchOf(store, { prefix: '/a/b', fromRevision: await store.currentRevision() });
        try {
          await store.create('/a/bc/1', {});
          await store.create('/a/b', {});
          await store.create('/b/1', {});
          await store.create('/a/b/1', {});
          await store.create('/a/b/c/2', {});
          assert.deepEqual((await w.next(2)).map((e) => e.key), ['/a/b/1', '/a/b/c/2']);
          await settle();
          assert.equal(w.events.length, 2);
        } finally {
          w.dispose();
        }
      }));

      it('from 0 replays the whole history in order, then live changes', withStore(async (store) => {
        const a = await store.create('/t/a', { v: 1 });
        await store.create('/u/x', {});
        const a2 = await store.update('/t/a', { v: 2 });
        const b = await store.create('/t/b', { v: 1 });
        const da = await store.delete('/t/a');
        const w = await watchOf(store, { prefix: '/t', fromRevision: 0 });
        try {
          const replay = await w.next(4);
          assert.deepEqual(replay.map((e) => [e.type, e.key, e.revision]), [
            ['ADDED', '/t/a', a.modRevision],
            ['MODIFIED', '/t/a', a2.modRevision],
            ['ADDED', '/t/b', b.modRevision],
            ['DELETED', '/t/a', da.modRevision],
          ]);
          assert.deepEqual(replay[3]!.value, { v: 2 });
          const c = await store.create('/t/c', {});
          assert.deepEqual((await w.next(1)).map((e) => [e.type, e.key, e.revision]), [['ADDED', '/t/c', c.modRevision]]);
        } finally {
          w.dispose();
        }
      }));

      it('from a past revision replays only the later changes', withStore(async (store) => {
        await store.create('/t/a', { v: 1 });
        const mark = await store.update('/t/a', { v: 2 });
        const b = await store.create('/t/b', { v: 1 });
        const a3 = await store.update('/t/a', { v: 3 });
        const w = await watchOf(store, { prefix: '/t', fromRevision: mark.modRevision });
        try {
          const events = await w.next(2);
          assert.deepEqual(events.map((e) => e.revision), [b.modRevision, a3.modRevision]);
          const revisions = events.map((e) => e.revision);
          assert.deepEqual(revisions, [...revisions].sort((x, y) => x - y));
        } finally {
          w.dispose();
        }
      }));

      it('a list then a watch from its revision sees every later change exactly once', withStore(async (store) => {
        for (let i = 0; i < 5; i++) await store.create(`/t/${i}`, { i });
        const listed = await store.list({ prefix: '/t' });
        const later = store.update('/t/0', { i: 0, n: 1 });
        const w = await watchOf(store, { prefix: '/t', fromRevision: listed.revision });
        try {
          const write = await later;
          await store.delete('/t/1');
          const events = await w.next(2);
          assert.deepEqual(events.map((e) => [e.type, e.key]), [['MODIFIED', '/t/0'], ['DELETED', '/t/1']]);
          assert.equal(events[0]!.revision, write.modRevision);
          await settle();
          assert.equal(w.events.length, 2);
        } finally {
          w.dispose();
        }
      }));

      it('several watchers each receive every event', withStore(async (store) => {
        const from = await store.currentRevision();
        const w1 = await watchOf(store, { prefix: '/t', fromRevision: from });
        const w2 = await watchOf(store, { prefix: '', fromRevision: from });
        try {
          await store.create('/t/a', {});
          await store.create('/t/b', {});
          assert.deepEqual((await w1.next(2)).map((e) => e.key), ['/t/a', '/t/b']);
          assert.deepEqual((await w2.next(2)).map((e) => e.key), ['/t/a', '/t/b']);
        } finally {
          w1.dispose();
          w2.dispose();
        }
      }));

      it('dispose stops delivery', withStore(async (store) => {
        const w = await watchOf(store, { prefix: '/t', fromRevision: await store.currentRevision() });
        await store.create('/t/a', {});
        await w.next(1);
        w.dispose();
        await store.create('/t/b', {});
        await store.update('/t/a', { v: 2 });
        await settle();
        assert.equal(w.events.length, 1);
        assert.deepEqual(w.errors, []);
      }));

      it('dispose inside a handler stops the events already queued behind it', withStore(async (store) => {
        const from = await store.currentRevision();
        for (let i = 0; i < 5; i++) await store.create(`/t/${i}`, {});
        const seen: WatchEvent[] = [];
        // Events never arrive before watch() resolves, so the handler may use its result.
        const handle: Disposable = await store.watch({
          prefix: '/t',
          fromRevision: from,
          onEvent: (e) => {
            seen.push(e);
            handle.dispose();
          },
          onError: () => undefined,
        });
        await waitUntil(() => seen.length > 0);
        await settle();
        assert.equal(seen.length, 1);
        handle.dispose(); // disposing twice is harmless
      }));

      it('a handler that throws ends the watch through onError', withStore(async (store) => {
        const from = await store.currentRevision();
        const errors: Error[] = [];
        let calls = 0;
        const handle = await store.watch({
          prefix: '/t',
          fromRevision: from,
          onEvent: () => {
            calls++;
            throw new Error('handler failed');
          },
          onError: (err) => errors.push(err),
        });
        await store.create('/t/a', {});
        await store.create('/t/b', {});
        await waitUntil(() => errors.length > 0);
        await settle();
        assert.equal(calls, 1);
        assert.equal(errors[0]?.message, 'handler failed');
        handle.dispose();
      }));
    });

    describe('close', () => {
      it('after close, operations reject', async () => {
        const store = await makeStore();
        await store.create('/t/a', {});
        await store.close();
        await assert.rejects(store.get('/t/a'));
        await assert.rejects(store.create('/t/b', {}));
        await store.close(); // closing twice is harmless
      });
    });

    describe('compaction', () => {
      it('a list at a revision older than the compaction fails with GoneError; at or after it works', withStore(async (store) => {
        const a = await store.create('/t/a', { v: 1 });
        const b = await store.create('/t/b', { v: 1 });
        await store.update('/t/a', { v: 2 });
        await store.delete('/t/b');
        const compactAt = await store.currentRevision();
        const c = await store.create('/t/c', { v: 1 });
        await store.compact(compactAt);
        assert.equal(await store.currentRevision(), c.modRevision, 'compaction takes no revision');
        const err = await rejection(store.list({ prefix: '/t', revision: b.modRevision }));
        assert.ok(isGone(err), String(err));
        assert.equal(err.code, 410);
        assert.equal((err as GoneError).requestedRevision, b.modRevision);
        const at = await store.list({ prefix: '/t', revision: compactAt });
        assert.deepEqual(at.items.map((i) => [i.key, i.value, i.createRevision]), [['/t/a', { v: 2 }, a.createRevision]]);
        const now = await store.list({ prefix: '/t' });
        assert.deepEqual(now.items.map((i) => i.key), ['/t/a', '/t/c']);
        assert.deepEqual(await store.get('/t/a'), now.items[0]);
      }));

      it('a watch from before the compaction fails with GoneError; from it, replays what followed', withStore(async (store) => {
        await store.create('/t/a', { v: 1 });
        const early = await store.update('/t/a', { v: 2 });
        const compactAt = (await store.create('/t/b', {})).modRevision;
        const after = await store.update('/t/b', { v: 2 });
        await store.compact(compactAt);
        for (const from of [0, early.modRevision, compactAt - 1]) {
          const err = await rejection(store.watch({ prefix: '/t', fromRevision: from, onEvent: () => undefined, onError: () => undefined }));
          assert.ok(isGone(err), `from ${from}: ${String(err)}`);
        }
        const w = await watchOf(store, { prefix: '/t', fromRevision: compactAt });
        try {
          assert.deepEqual((await w.next(1)).map((e) => [e.type, e.key, e.revision]), [['MODIFIED', '/t/b', after.modRevision]]);
        } finally {
          w.dispose();
        }
      }));

      it('a continue token from before the compaction fails with GoneError', withStore(async (store) => {
        for (let i = 0; i < 4; i++) await store.create(`/t/${i}`, { i });
        const first = await store.list({ prefix: '/t', limit: 2 });
        await store.update('/t/3', { i: 3, n: 1 });
        await store.compact(await store.currentRevision());
        const err = await rejection(store.list({ prefix: '/t', limit: 2, continue: first.continue! }));
        assert.ok(isGone(err), String(err));
      }));

      it('compacting at or below an earlier compaction changes nothing', withStore(async (store) => {
        await store.create('/t/a', { v: 1 });
        const r = (await store.update('/t/a', { v: 2 })).modRevision;
        await store.compact(r);
        await store.compact(r);
        await store.compact(r - 1);
        assert.deepEqual((await store.list({ prefix: '/t', revision: r })).items.map((i) => i.value), [{ v: 2 }]);
        const w = await watchOf(store, { prefix: '/t', fromRevision: r });
        try {
          const next = await store.update('/t/a', { v: 3 });
          assert.deepEqual((await w.next(1)).map((e) => e.revision), [next.modRevision]);
        } finally {
          w.dispose();
        }
      }));
    });
  });
}

/** A watch that records what it receives. */
interface RecordingWatch extends Disposable {
  readonly events: WatchEvent[];
  readonly errors: Error[];
  /** Waits until `count` more events than already consumed arrived and returns them. */
  next(count: number): Promise<WatchEvent[]>;
}

async function watchOf(store: Store, options: Pick<WatchOptions, 'prefix' | 'fromRevision'>): Promise<RecordingWatch> {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  let consumed = 0;
  const handle = await store.watch({ ...options, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
  return {
    events,
    errors,
    dispose: () => handle.dispose(),
    async next(count) {
      await waitUntil(() => events.length >= consumed + count || errors.length > 0);
      if (errors.length > 0) throw errors[0]!;
      const out = events.slice(consumed, consumed + count);
      consumed += count;
      return out;
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Long enough for a stray event to arrive, on any backend. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 150));
}

/** The error a promise rejects with, as a store error shape; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error & { key?: string; code?: number }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the operation to fail');
}
