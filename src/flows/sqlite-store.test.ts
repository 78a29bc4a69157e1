// The contract suite on SQLite, plus what only a file-backed store has: reopening, size retention.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFlowStore } from './sqlite-store.js';
import { batch, flowLog, listAll, pod, query, runFlowStoreContract, T0 } from './store.contract.js';
import { syntheticFlowLogs } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'margay-flows-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `flows-${n++}.db`);

runFlowStoreContract('sqlite', () => new SqliteFlowStore({ file: file() }));

describe('SqliteFlowStore', () => {
  it('keeps logs, ids, dictionaries and counters across reopening', async () => {
    const f = file();
    const a = new SqliteFlowStore({ file: f });
    await a.append(batch([flowLog({ dest: pod('x', 'web-1', { app: 'web' }, 80) }), flowLog({ startTime: T0, endTime: T0 + 60_000 })], 5));
    const before = await a.list(query());
    await a.close();
    const b = new SqliteFlowStore({ file: f });
    try {
      assert.deepEqual((await b.list(query())).items, before.items);
      assert.deepEqual((await b.list(query({ selector: 'app == "web" && !has(tier)' }))).items.length, 1);
      // The longest bucket survives reopening, so a window in its middle still finds it.
      assert.equal((await b.list(query({ from: T0 + 50_000, to: T0 + 55_000 }))).items.length, 1);
      await b.append(batch([flowLog()]));
      const stats = await b.stats();
      assert.equal(stats.rows, 3);
      assert.equal(stats.droppedByAgents, 5);
      assert.equal(Number(stats.lastId), Number(before.lastId) + 1);
    } finally {
      await b.close();
    }
  });

  it('a batch that fails is not stored at all, and its new dictionary entries are forgotten', async () => {
    const s = new SqliteFlowStore({ file: file() });
    try {
      await s.append(batch([flowLog()]));
      const bad = flowLog({ host: 'new-host', packetsIn: 'x' as unknown as number, dest: pod('new', 'p-1', {}, 1) });
      // SQLite itself accepts 'x' in an INTEGER column; NOT NULL on a missing field makes it fail.
      const broken = { ...bad, endTime: undefined as unknown as number };
      await assert.rejects(s.append(batch([flowLog({ host: 'new-host-2' }), broken])));
      assert.equal((await s.stats()).rows, 1);
      assert.deepEqual((await s.list(query({ host: 'new-host-2' }))).items, []);
      await s.append(batch([flowLog({ host: 'new-host-2' })]));
      assert.equal((await s.list(query({ host: 'new-host-2' }))).items.length, 1);
    } finally {
      await s.close();
    }
  });

  it('prunes by size: the pages in use come under the bound, oldest logs first', async () => {
    const s = new SqliteFlowStore({ file: file() });
    try {
      const gen = syntheticFlowLogs({ start: T0, logsPerBucket: 500 });
      for (let i = 0; i < 20; i++) await s.append(batch(Array.from({ length: 1000 }, () => gen.next().value as ReturnType<typeof flowLog>)));
      const before = await s.stats();
      const bound = Math.floor(before.bytes / 2);
      const { deleted } = await s.prune({ maxBytes: bound }, T0);
      const afterStats = await s.stats();
      assert.ok(deleted > 0 && afterStats.bytes <= bound, `${afterStats.bytes} <= ${bound} after deleting ${deleted}`);
      assert.equal(afterStats.rows, before.rows - deleted);
      const left = await listAll(s, query({ from: 0, to: T0 + 86_400_000 * 365, limit: 10_000 }));
      assert.equal(left.length, afterStats.rows);
      assert.equal(Math.min(...left.map((l) => Number(l.id))), deleted + 1, 'the oldest went first');
    } finally {
      await s.close();
    }
  });
});
