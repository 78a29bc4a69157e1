// Runs benchmarks built into dist/bench/: `npm run bench -- NAME` runs dist/bench/NAME.js, no
// NAME runs them all. Each prints JSON lines; a failing benchmark makes the run fail.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../dist/bench/', import.meta.url));
const available = existsSync(dir)
  ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort()
  : [];
if (available.length === 0) {
  console.error('no benchmarks in dist/bench/: run `npm run build` first');
  process.exit(1);
}
const wanted = process.argv.slice(2).map((name) => name.replace(/\.(ts|js)$/, '').replace(/^.*\//, ''));
for (const name of wanted) {
  if (!available.includes(name)) {
    console.error(`no benchmark named ${name}; available: ${available.join(', ')}`);
    process.exit(1);
  }
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  const result = spawnSync(process.execPath, [`${dir}${name}.js`], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`benchmark ${name} failed (${result.signal ?? `exit ${result.status}`})`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
