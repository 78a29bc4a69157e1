// Child process of the SQLite crash test: writes to a SqliteStore as fast as it can and prints
// each write on stdout only after the store acknowledged it, until it is killed.
// Usage: node crash-writer.js DATA_DIR FIRST_INDEX
import { SqliteStore } from './sqlite.js';

const [dataDir, first] = process.argv.slice(2);
if (dataDir === undefined || first === undefined) {
  process.stderr.write('usage: crash-writer DATA_DIR FIRST_INDEX\n');
  process.exit(2);
}

const store = new SqliteStore({ dataDir });
process.stdout.write('ready\n');
for (let i = Number(first); ; i++) {
  await store.create(`/crash/items/${i}`, { i, pad: 'x'.repeat(200) });
  // On Linux, writes to a pipe are synchronous: the line is out before the next write starts.
  process.stdout.write(`created ${i}\n`);
  if (i % 10 === 0) {
    const counter = await store.get('/crash/counter');
    if (counter === undefined) await store.create('/crash/counter', { n: i });
    else await store.update('/crash/counter', { n: i }, counter.modRevision);
    process.stdout.write(`counter ${i}\n`);
  }
}
