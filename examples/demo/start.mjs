// `npm start`: build if needed, then `margay up --demo` (a live lab as root with nftables, else
// recorded flows). Prints the console URL and stays up until Ctrl-C, then cleans up.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = ['dist/src/cli/index.js', 'dist/src/demo/index.js', 'console/dist/index.html'].every((f) => existsSync(new URL(f, `file://${root}`)));
if (!built) {
  console.error('margay: building (npm run build) …');
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const args = ['bin/margay', 'up', '--demo', ...process.argv.slice(2)];
// Its own process group: Ctrl-C (and npm's forwarding) reach this process, which passes exactly
// one signal on, so margay shuts the demo down once and is not killed halfway through cleanup.
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', detached: true });
let forwarded = false;
const forward = (sig) => () => {
  if (forwarded || child.exitCode !== null) return;
  forwarded = true;
  child.kill(sig);
};
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal !== null ? 1 : 0)));
