// The kernel side of collection, in the node's network namespace: one ulogd2 process (conntrack
// NEW/DESTROY events with counters, and NFLOG'd denied packets, both as JSON lines over a unix
// socket to us — event driven, so no short connection is missed), and `conntrack -L` snapshots
// for the counters of long connections. Debian's tools (ulogd2, ulogd2-json, conntrack) do the
// netlink work; we only read lines.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConntrackLine, type ConnEvent, type ConnSnapshot, type DeniedPacket } from './events.js';
import type { ReaderInput, ReaderMessage } from './ulogd-reader.js';

export const ULOGD_BINARY = '/usr/sbin/ulogd';
const ULOGD_START_TIMEOUT_MS = 5000;

/** Where Debian puts ulogd's plugins (the multiarch directory differs by architecture). */
export function ulogdPluginDir(): string | undefined {
  for (const base of ['/usr/lib', '/usr/lib64']) {
    if (existsSync(join(base, 'ulogd'))) return join(base, 'ulogd');
    let entries: string[];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const e of entries) if (existsSync(join(base, e, 'ulogd', 'ulogd_output_JSON.so'))) return join(base, e, 'ulogd');
  }
  return undefined;
}

/** Why flow collection cannot run here, or undefined when it can. */
export function collectionUnavailable(): string | undefined {
  if (!existsSync(ULOGD_BINARY)) return 'ulogd2 is not installed (apt-get install -y ulogd2 ulogd2-json)';
  const dir = ulogdPluginDir();
  if (dir === undefined || !existsSync(join(dir, 'ulogd_output_JSON.so'))) return 'the ulogd2 JSON output plugin is not installed (apt-get install -y ulogd2-json)';
  return undefined;
}

/** The ulogd2 configuration: NFCT events (no hashing: every NEW and DESTROY) and one NFLOG group, as JSON to a unix socket. */
export function ulogdConfig(o: { pluginDir: string; socketPath: string; logFile: string; nflogGroup: number }): string {
  const plugin = (name: string): string => `plugin="${join(o.pluginDir, name)}"`;
  return [
    '[global]',
    `logfile="${o.logFile}"`,
    'loglevel=5',
    plugin('ulogd_inppkt_NFLOG.so'),
    plugin('ulogd_inpflow_NFCT.so'),
    plugin('ulogd_filter_IP2STR.so'),
    plugin('ulogd_raw2packet_BASE.so'),
    plugin('ulogd_output_JSON.so'),
    'stack=ct1:NFCT,ip2str1:IP2STR,json1:JSON',
    'stack=log1:NFLOG,base1:BASE,ip2str2:IP2STR,json2:JSON',
    '[ct1]',
    'hash_enable=0',
    'event_mask=0x00000005',
    'netlink_socket_buffer_size=8388608',
    'netlink_socket_buffer_maxsize=67108864',
    '[log1]',
    `group=${o.nflogGroup}`,
    'netlink_socket_buffer_size=8388608',
    'netlink_socket_buffer_maxsize=67108864',
    '[json1]',
    'mode="unix"',
    `file="${o.socketPath}"`,
    '[json2]',
    'mode="unix"',
    `file="${o.socketPath}"`,
    '',
  ].join('\n');
}

const inNetns = (netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] =>
  netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netns, cmd, ...args]];

function run(netns: string | undefined, cmd: string, args: readonly string[], maxBuffer = 1 << 30): Promise<string> {
  const [c, a] = inNetns(netns, cmd, args);
  return new Promise((resolve, reject) =>
    execFile(c, a, { maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout))),
  );
}

/** Turns conntrack accounting on (per network namespace), so events and dumps carry counters. */
export async function enableAccounting(netns: string | undefined): Promise<void> {
  await run(netns, 'sysctl', ['-q', '-w', 'net.netfilter.nf_conntrack_acct=1']);
}

/**
 * One conntrack table snapshot of the namespace, read as a stream: a large table (100k entries
 * at 5,000 new connections a second) is parsed line by line between other I/O, so the event
 * socket from ulogd keeps draining and no event is lost to a full netlink buffer meanwhile.
 */
export function dumpConntrack(netns: string | undefined): Promise<ConnSnapshot[]> {
  const [cmd, args] = inNetns(netns, 'conntrack', ['-L', '-o', 'id']);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: ConnSnapshot[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      const s = parseConntrackLine(line);
      if (s !== undefined) out.push(s);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`conntrack -L: ${stderr.trim() || `exit code ${code}`}`))));
  });
}

export interface UlogdOptions {
  readonly netns?: string;
  readonly nflogGroup: number;
  readonly onEvent: (e: ConnEvent | DeniedPacket) => void;
  readonly log: (line: string) => void;
}

/**
 * Runs ulogd2 in the namespace, restarting it if it dies, and hands every parsed event to
 * `onEvent`. The socket is read in a worker thread (`ulogd-reader.ts`), so a busy collector never
 * makes ulogd drop a message.
 */
export class UlogdSource {
  private reader: Worker | undefined;
  private child: ChildProcess | undefined;
  private stopped = false;
  private readonly base: string;
  restarts = 0;
  events = 0;
  ignored = 0;
  failures = 0;

  constructor(private readonly o: UlogdOptions) {
    this.base = join(tmpdir(), `margay-ulogd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  }

  async start(): Promise<void> {
    const pluginDir = ulogdPluginDir();
    const missing = collectionUnavailable();
    if (missing !== undefined || pluginDir === undefined) throw new Error(missing ?? 'ulogd2 plugins not found');
    const socketPath = `${this.base}.sock`;
    rmSync(socketPath, { force: true });
    const reader = new Worker(new URL('./ulogd-reader.js', import.meta.url), { workerData: { socketPath } satisfies ReaderInput });
    this.reader = reader;
    reader.unref();
    let connected = 0;
    let onConnected: (() => void) | undefined;
    await new Promise<void>((resolve, reject) => {
      reader.on('message', (m: ReaderMessage) => {
        if (m.type === 'listening') resolve();
        else if (m.type === 'connected') {
          connected++;
          onConnected?.();
        }
        else if (m.type === 'error') {
          reject(new Error(`flow logs: event socket: ${m.message}`));
          this.o.log(`flow logs: event socket: ${m.message}`);
        } else this.deliver(m.events, m.ignored);
      });
      reader.on('error', (err) => {
        reject(err);
        this.o.log(`flow logs: event reader failed: ${err.message}`);
      });
    });
    writeFileSync(`${this.base}.conf`, ulogdConfig({ pluginDir, socketPath, logFile: `${this.base}.log`, nflogGroup: this.o.nflogGroup }));
    this.spawn();
    // Collecting means both stacks' outputs are connected (ulogd starts a stack's output before its
    // input, so the input's netlink subscription follows at once): until then, a connection that
    // starts would be seen only by a snapshot, as one older than the collector.
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ULOGD_START_TIMEOUT_MS);
      onConnected = () => {
        if (connected >= 2) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      onConnected();
    });
    onConnected = undefined;
    if (!ready) this.o.log(`flow logs: ulogd did not connect within ${ULOGD_START_TIMEOUT_MS} ms; collecting once it does`);
    else await new Promise((r) => setTimeout(r, 50));
  }

  private deliver(events: readonly (ConnEvent | DeniedPacket)[], ignored: number): void {
    this.ignored += ignored;
    for (const e of events) {
      this.events++;
      try {
        this.o.onEvent(e);
      } catch (err) {
        // One bad event must not take the agent (and enforcement) down with it.
        if (this.failures++ % 1000 === 0) this.o.log(`flow logs: a kernel event could not be processed (${this.failures} so far): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private spawn(): void {
    if (this.stopped) return;
    const [cmd, args] = inNetns(this.o.netns, ULOGD_BINARY, ['-c', `${this.base}.conf`]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.on('error', (err) => this.o.log(`ulogd: ${err.message}`));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      this.restarts++;
      this.o.log(`ulogd exited (${signal ?? `code ${code}`})${stderr.trim() !== '' ? `: ${stderr.trim()}` : ''}; restarting in 1 s`);
      setTimeout(() => this.spawn(), 1000).unref();
    });
  }

  /** Pid of the running ulogd (the lab records it to clean up after a crash). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      // ulogd holds nothing worth flushing: kill it outright, so the agent stops at once.
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
    }
    const reader = this.reader;
    if (reader !== undefined) {
      const exited = new Promise<void>((r) => reader.once('exit', () => r()));
      reader.postMessage('close');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
      await reader.terminate();
    }
    for (const ext of ['.sock', '.conf', '.log']) rmSync(`${this.base}${ext}`, { force: true });
  }
}
