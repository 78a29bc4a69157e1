// Durability of the SQLite backend: a writer process is killed with SIGKILL in the middle of a
// write storm; every write it had acknowledged must be there when the store is reopened.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from './sqlite.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'margay-crash-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Acknowledged {
  readonly created: number[];
  readonly counter: number | undefined;
}

/** Runs the writer, SIGKILLs it `runMs` after it is ready, returns what it acknowledged. */
function storm(dataDir: string, first: number, runMs: number): Promise<Acknowledged> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dataDir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    const created: number[] = [];
    let counter: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let killed = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a partial last line was not fully acknowledged to us
      for (const line of lines) {
        const [what, n] = line.split(' ');
        if (what === 'ready') {
          timer = setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, runMs);
        } else if (what === 'created') created.push(Number(n));
        else if (what === 'counter') counter = Number(n);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!killed || signal !== 'SIGKILL') reject(new Error(`writer ended by itself (code ${code}, signal ${signal}):\n${stderr}`));
      else resolve({ created, counter });
    });
  });
}

it('kill -9 during a write storm loses no acknowledged write (3 rounds)', async (t) => {
  const dataDir = join(root, 'data');
  let next = 0;
  for (let round = 0; round < 3; round++) {
    const acked = await storm(dataDir, next, 1_000);
    assert.ok(acked.created.length > 20, `round ${round}: only ${acked.created.length} writes acknowledged`);
    const store = new SqliteStore({ dataDir });
    try {
      for (const i of acked.created) {
        const item = await store.get(`/crash/items/${i}`);
        assert.deepEqual(item?.value, { i, pad: 'x'.repeat(200) }, `acknowledged write ${i} is missing after the crash`);
      }
      const counter = await store.get('/crash/counter');
      if (acked.counter !== undefined) assert.ok((counter?.value.n as number) >= acked.counter, 'acknowledged counter update lost');
      // Writes are whole transactions in order: what survived is a gap-free run of indexes,
      // and the revision counter agrees with the history it survived with.
      const listed = await store.list({ prefix: '/crash/items' });
      const indexes = listed.items.map((item) => item.value.i as number).sort((a, b) => a - b);
      assert.deepEqual(indexes, Array.from({ length: indexes.length }, (_, k) => k), 'surviving writes have a gap');
      assert.equal(listed.revision, Math.max(...listed.items.map((item) => item.modRevision), counter?.modRevision ?? 0));
      t.diagnostic(`round ${round}: ${acked.created.length} creates acknowledged, ${indexes.length - next} survived`);
      next = indexes.length;
    } finally {
      await store.close();
    }
  }
});
