// Builds, then runs benchmarks from dist/bench/: `npm run bench -- NAME…` runs dist/bench/NAME.js
// (several names run in turn), no NAME runs them all. Arguments starting with `--` go to every
// bench (`npm run bench -- calc-churn --scale 10k --seconds 10`), except `--no-build`, which skips
// the build. Each bench prints JSON lines on stdout (the build's output goes to stderr); a failing
// benchmark makes the run fail. Modules that only serve benches (synthetic-cluster, *-common,
// *-support) are not benches.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = fileURLToPath(new URL('../dist/bench/', import.meta.url));
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const firstOption = args.findIndex((a) => a.startsWith('--'));
const names = (firstOption < 0 ? args : args.slice(0, firstOption)).map((n) => n.replace(/\.(ts|js)$/, '').replace(/^.*\//, ''));
const options = (firstOption < 0 ? [] : args.slice(firstOption)).filter((a) => a !== '--no-build');

if (!noBuild) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) console.error('bench: the build reported errors; running what it emitted');
}

const isHelper = (name) => name === 'synthetic-cluster' || name.endsWith('-common') || name.endsWith('-support');
const available = existsSync(dir)
  ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).filter((n) => !isHelper(n)).sort()
  : [];
if (available.length === 0) {
  console.error('no benchmarks in dist/bench/: does `npm run build` succeed?');
  process.exit(1);
}
for (const name of names) {
  if (!available.includes(name)) {
    console.error(`no benchmark named ${name}; available: ${available.join(', ')}`);
    process.exit(1);
  }
}
let failed = 0;
for (const name of names.length > 0 ? names : available) {
  // --expose-gc lets a bench settle the heap before it measures it.
  const result = spawnSync(process.execPath, ['--expose-gc', `${dir}${name}.js`, ...options], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`benchmark ${name} failed (${result.signal ?? `exit ${result.status}`})`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
