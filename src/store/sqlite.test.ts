// The store contract on SQLite, plus what only a file-backed store has: reopening, the lock that
// keeps a second process out of the data directory.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../errors/index.js';
import { openStore } from './open.js';
import { SqliteStore } from './sqlite.js';
import { runStoreContract } from './store.contract.js';

const root = mkdtempSync(join(tmpdir(), 'margay-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `store-${dirs++}`);

runStoreContract('sqlite', () => new SqliteStore({ dataDir: freshDir() }));

describe('SqliteStore', () => {
  it('keeps data, revisions, history and compaction across a reopen', async () => {
    const dataDir = freshDir();
    let store = new SqliteStore({ dataDir });
    await store.create('/t/a', { v: 1 });
    const compactAt = (await store.update('/t/a', { v: 2 })).modRevision;
    const b = await store.create('/t/b', { v: 1 });
    await store.compact(compactAt);
    await store.close();

    store = new SqliteStore({ dataDir });
    try {
      assert.equal(await store.currentRevision(), b.modRevision);
      assert.deepEqual((await store.list({ prefix: '/t' })).items.map((i) => [i.key, i.value]), [['/t/a', { v: 2 }], ['/t/b', { v: 1 }]]);
      await assert.rejects(store.list({ prefix: '/t', revision: compactAt - 1 }), { name: 'GoneError' });
      const events: string[] = [];
      const w = await store.watch({ prefix: '/t', fromRevision: compactAt, onEvent: (e) => events.push(`${e.type} ${e.key} ${e.revision}`), onError: () => undefined });
      const c = await store.create('/t/c', {});
      while (events.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(events, [`ADDED /t/b ${b.modRevision}`, `ADDED /t/c ${c.modRevision}`]);
      assert.equal(c.modRevision, b.modRevision + 1, 'the revision counter continues where it stopped');
      w.dispose();
      assert.equal(store.watcherCount, 0);
    } finally {
      await store.close();
    }
  });

  it('openStore opens SQLite (and memory) by kind', async () => {
    const sqlite = await openStore({ kind: 'sqlite', dataDir: freshDir() });
    assert.ok(sqlite instanceof SqliteStore);
    await sqlite.create('/t/a', {});
    await sqlite.close();
    const memory = await openStore({ kind: 'memory' });
    assert.equal(await memory.currentRevision(), 0);
    await memory.close();
  });

  it('a second store on the same data directory fails clearly until the first closes', async () => {
    const dataDir = freshDir();
    const first = new SqliteStore({ dataDir });
    await first.create('/t/a', {});
    assert.throws(() => new SqliteStore({ dataDir }), (err: unknown) => {
      assert.ok(isUserError(err));
      assert.match(err.message, /in use by another Margay process \(process \d+\)/);
      assert.ok(err.message.includes(dataDir));
      return true;
    });
    await first.close();
    const second = new SqliteStore({ dataDir });
    assert.deepEqual((await second.get('/t/a'))?.value, {});
    await second.close();
  });

  it('another process cannot open a data directory this one holds', async () => {
    const dataDir = freshDir();
    const store = new SqliteStore({ dataDir });
    try {
      const script = `
        import { SqliteStore } from ${JSON.stringify(new URL('./sqlite.js', import.meta.url).href)};
        try { new SqliteStore({ dataDir: ${JSON.stringify(dataDir)} }); console.log('opened'); }
        catch (err) { console.log(err.name + ': ' + err.message); }`;
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
      assert.match(out, /^UserError: .*in use by another Margay process/);
    } finally {
      await store.close();
    }
  });
});
