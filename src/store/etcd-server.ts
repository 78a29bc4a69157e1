// Starts a throwaway single-member etcd on loopback (random ports, temporary data directory) for
// tests and benchmarks; `close()` stops it and removes its data, and so does our process ending.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `etcd-server` package installs etcd. */
export const DEFAULT_ETCD_BINARY = '/usr/bin/etcd';

export interface EtcdServer {
  /** Client URLs, such as `http://127.0.0.1:40123`. */
  readonly endpoints: readonly string[];
  readonly dataDir: string;
  /** Stops etcd (SIGTERM, then SIGKILL) and removes its data directory. */
  close(): Promise<void>;
  /** Stops etcd and starts it again on the same ports and data (clients see a disconnection). */
  restart(): Promise<void>;
}

export interface EtcdServerOptions {
  readonly binary?: string;
  /** How long to wait for `/health` to answer; default 30 s. */
  readonly timeoutMs?: number;
}

export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? DEFAULT_ETCD_BINARY;
  if (!existsSync(binary)) {
    throw new Error(
      `etcd is not installed at ${binary}: the etcd store tests need a real etcd 3.4 ` +
        `(Debian/Ubuntu: apt-get install etcd-server; .ci/run installs it)`,
    );
  }
  let lastError: unknown;
  // A port picked free can be taken before etcd binds it; try again with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, options.timeoutMs ?? 30_000);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function startOnce(binary: string, timeoutMs: number): Promise<EtcdServer> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'margay-etcd-'));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'margay-test',
    '--data-dir', dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `margay-test=${peer}`,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    '--log-level', 'error',
  ];
  let running = launch(binary, dataDir, args);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(client, timeoutMs, running);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    endpoints: [client],
    dataDir,
    close,
    async restart() {
      if (closed) throw new Error('etcd server is closed');
      await running.stop(true);
      running = launch(binary, dataDir, args);
      await waitHealthy(client, timeoutMs, running);
    },
  };
}

interface Running {
  readonly child: ChildProcess;
  hasExited(): boolean;
  stderr(): string;
  /** Stops etcd (SIGTERM, SIGKILL after 5 s); resolves once it is gone. `keep` leaves its data. */
  stop(keep?: boolean): Promise<void>;
}

/**
 * etcd runs under a small shell that holds our end of a pipe: when this process closes it, or
 * dies in any way (even SIGKILL, which runs no exit handler), the shell stops etcd and removes
 * its data directory, so an interrupted test run leaves no etcd behind. Writing `keep` first
 * stops etcd but keeps the data (for restart).
 */
const SUPERVISOR = `
data=$1; shift
exec 3<&0
"$@" </dev/null &
etcd=$!
{
  if read -r cmd <&3 && [ "$cmd" = keep ]; then keep=1; else keep=0; fi
  kill -TERM "$etcd" 2>/dev/null
  n=0
  while kill -0 "$etcd" 2>/dev/null; do
    n=$((n + 1)); [ "$n" -gt 50 ] && kill -KILL "$etcd" 2>/dev/null
    sleep 0.1
  done
  [ "$keep" = 1 ] || rm -rf "$data"
} &
wait "$etcd"
`;

function launch(binary: string, dataDir: string, args: readonly string[]): Running {
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'margay-etcd', dataDir, binary, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  child.stdin?.on('error', () => undefined); // the shell may be gone already
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
  });
  return {
    child,
    hasExited: () => exited,
    stderr: () => stderr,
    stop: async (keep = false) => {
      if (keep) child.stdin?.write('keep\n');
      child.stdin?.end();
      await exit;
    },
  };
}

async function waitHealthy(url: string, timeoutMs: number, running: Running): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (running.hasExited()) {
      const log = running.stderr();
      if (/address already in use/.test(log)) throw new PortInUseError(log);
      throw new Error(`etcd exited during startup:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { health?: unknown };
      if (res.ok && (body.health === 'true' || body.health === true)) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become healthy within ${timeoutMs} ms:\n${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ports the kernel hands out for loopback right now (all held until every one is picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
