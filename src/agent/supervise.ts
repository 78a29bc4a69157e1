// `margay agent --restart-on-failure`: what a kubelet does for a DaemonSet's pod, in small. The
// process runs the agent as a child (same arguments, less this flag) and starts it again when it
// dies, after 1 s, doubling to 30 s while it keeps dying young. The table stays in the kernel
// meanwhile (fail closed) and the new agent adopts or replaces it. SIGTERM/SIGINT are passed on
// once and the supervisor leaves with the agent's exit code; if the supervisor itself is killed,
// the agent sees its IPC channel close and stops as on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';

export const RESTART_FLAG = '--restart-on-failure';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** An agent that ran this long before dying starts again after the first backoff. */
const HEALTHY_RUN_MS = 60_000;

export interface SuperviseOptions {
  /** The agent's arguments after `margay` (without RESTART_FLAG). */
  readonly args: readonly string[];
  readonly log: (line: string) => void;
  /** The command that runs margay (default: this process's node and script). */
  readonly command?: readonly [string, ...string[]];
}

/** Runs the agent until it stops cleanly or is told to; returns its exit code. */
export function superviseAgent(o: SuperviseOptions): Promise<number> {
  const [cmd, ...pre] = o.command ?? [process.execPath, ...process.execArgv, process.argv[1] ?? ''];
  return new Promise((resolve) => {
    let child: ChildProcess | undefined;
    let stopping = false;
    let backoff = FIRST_BACKOFF_MS;
    let restartTimer: ReturnType<typeof setTimeout> | undefined;
    let restarts = 0;

    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      if (restartTimer !== undefined) {
        clearTimeout(restartTimer);
        finish(0);
        return;
      }
      child?.kill('SIGTERM');
    };
    const finish = (code: number): void => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      resolve(code);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    const start = (): void => {
      restartTimer = undefined;
      const startedAt = Date.now();
      const c = spawn(cmd, [...pre, ...o.args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child = c;
      c.on('error', (err) => {
        // Nothing to supervise: the command itself cannot run.
        o.log(`agent supervisor: could not start the agent: ${err.message}`);
        child = undefined;
        finish(1);
      });
      c.on('exit', (code, signal) => {
        child = undefined;
        if (stopping || (code === 0 && signal === null)) {
          finish(code ?? 1);
          return;
        }
        backoff = Date.now() - startedAt >= HEALTHY_RUN_MS ? FIRST_BACKOFF_MS : backoff;
        restarts++;
        o.log(`${new Date().toISOString()} agent supervisor: the agent exited (${signal ?? `code ${code ?? '?'}`}); starting it again in ${backoff / 1000} s (restart ${restarts})`);
        restartTimer = setTimeout(start, backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      });
    };
    start();
  });
}
