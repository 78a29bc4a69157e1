// The store contract on the in-memory backend, plus what only memory can show (no leaked watchers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory.js';
import { runStoreContract } from './store.contract.js';

runStoreContract('memory', () => new MemoryStore());

describe('MemoryStore', () => {
  it('forgets a watcher once it is disposed, and all of them on close', async () => {
    const store = new MemoryStore();
    const a = await store.watch({ prefix: '/t', fromRevision: 0, onEvent: () => undefined, onError: () => undefined });
    await store.watch({ prefix: '/t', fromRevision: 0, onEvent: () => undefined, onError: () => undefined });
    assert.equal(store.watcherCount, 2);
    a.dispose();
    assert.equal(store.watcherCount, 1);
    await store.close();
    assert.equal(store.watcherCount, 0);
  });
});
