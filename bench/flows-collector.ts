// Collector CPU at a steady rate of new connections: a server namespace with conntrack on (an nft
// table marking every new connection, as the agent's ruleset does), ulogd2 in it, and this
// process running the real collector (events, table snapshots every bucket, attribution,
// aggregation; the shipper's POST is a counter). A client namespace sends small UDP datagrams to
// ever-changing ports, so every packet is a new conntrack entry (TCP handshakes at this rate
// would measure Node's socket code, not the collector).
// Prints JSON lines: achieved new connections/s, conntrack events/s seen, and CPU of the
// collector process and of ulogd (cores), over the measured window.
// Needs root, iproute2, nftables, conntrack and ulogd2. `--rate 5000 --seconds 20 --flush-ms 15000`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ClusterView, FlowCollector, FlowShipper, UlogdSource, dumpConntrack, enableAccounting } from '../src/collector/index.js';
import { emit, numberOption } from './calc-common.js';

const RATE = numberOption('--rate', 5000);
const SECONDS = numberOption('--seconds', 20);
const FLUSH_MS = numberOption('--flush-ms', 15_000);
const TAG = `mgy-fb${process.pid % 10000}`;
const CLIENT = `${TAG}-c`;
const SERVER = `${TAG}-s`;
const CLIENT_IP = '10.77.0.1';
const SERVER_IP = '10.77.0.2';

const sh = (cmd: string, args: string[], input?: string): string => execFileSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

function setup(): void {
  sh('ip', ['netns', 'add', CLIENT]);
  sh('ip', ['netns', 'add', SERVER]);
  sh('ip', ['-n', CLIENT, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 's0', 'netns', SERVER]);
  sh('ip', ['-n', CLIENT, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'c0']);
  sh('ip', ['-n', SERVER, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 's0']);
  for (const [ns, dev] of [[CLIENT, 'c0'], [SERVER, 's0']] as const) {
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // A dropped packet never gets a confirmed conntrack entry, so accept: closed ports answer ICMP
  // unreachable (rate-limited by the kernel, and RELATED, so no new entries).
  sh('ip', ['netns', 'exec', SERVER, 'nft', '-f', '-'], `table inet bench {
  chain in { type filter hook input priority 0; policy accept;
    ct state new ct mark set 0x00010001
  }
}
`);
}

function teardown(): void {
  for (const ns of [CLIENT, SERVER]) {
    try {
      execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .forEach((pid) => {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        });
      execFileSync('ip', ['netns', 'delete', ns]);
    } catch {
      /* already gone */
    }
  }
}

// The load: RATE datagrams a second from 8 sockets, each to the next port (1024…65535), so no
// 5-tuple repeats within conntrack's 30 s UDP timeout.
const LOAD = `
const dgram = require('node:dgram');
const [ip, rate, seconds] = process.argv.slice(1).map((x, i) => i === 0 ? x : Number(x));
const socks = Array.from({ length: 8 }, () => dgram.createSocket('udp4'));
let port = 1024, sent = 0, s = 0;
const buf = Buffer.alloc(16);
const start = Date.now();
setInterval(() => {
  const due = Math.floor(((Date.now() - start) / 1000) * rate) - sent;
  for (let i = 0; i < due; i++) {
    socks[s].send(buf, port, ip);
    s = (s + 1) % socks.length;
    if (s === 0) port = port >= 65535 ? 1024 : port + 1;
    sent++;
  }
}, 5);
setInterval(() => process.stdout.write(sent + '\\n'), 1000);
setTimeout(() => { process.stdout.write(sent + '\\n'); process.exit(0); }, seconds * 1000);
`;

/** CPU seconds of a process (user + system), with its waited-for children when asked. */
function cpuSecondsOf(pid: number | 'self', children = false): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / 100;
}

async function main(): Promise<void> {
  teardown();
  setup();
  let shipped = 0;
  const view = new ClusterView();
  const pod = (name: string, ip: string, node: string): Record<string, unknown> => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'bench', labels: { app: name } }, spec: { nodeName: node, containers: [{ name }] }, status: { podIP: ip },
  });
  view.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  view.upsert(pod('client', CLIENT_IP, 'other'));
  view.upsert(pod('server', SERVER_IP, 'bench-node'));
  const shipper = new FlowShipper({ host: 'bench-node', post: async (b) => ((shipped += b.logs.length), { code: 201 }) });
  const collector = new FlowCollector({
    node: 'bench-node', view, shipper, flushMs: FLUSH_MS, log: (l) => console.error(l),
    ruleOf: (id) => ({ owner: 'profile', name: 'kns.bench', ruleIndex: 0, action: id === 1 ? 'Allow' : 'Deny' }),
    snapshot: () => dumpConntrack(SERVER),
  });
  await enableAccounting(SERVER);
  const ulogd = new UlogdSource({ netns: SERVER, nflogGroup: 1, onEvent: (e) => collector.onKernelEvent(e), log: (l) => console.error(l) });
  await ulogd.start();
  collector.start();
  const load = spawn('ip', ['netns', 'exec', CLIENT, process.execPath, '-e', LOAD, SERVER_IP, String(RATE), String(SECONDS + 4)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  load.stdout.on('data', (d: Buffer) => (sent = Number(d.toString().trim().split('\n').pop())));
  try {
    // Warm up until conntrack's table holds a steady state's worth of entries is too long (30 s);
    // measure from a few seconds in, over whole buckets.
    await new Promise((r) => setTimeout(r, 3000));
    const ulogdPid = ulogd.pid ?? 0;
    const cpu0 = cpuSecondsOf('self', true);
    const u0 = cpuSecondsOf(ulogdPid);
    const e0 = collector.stats.events;
    const s0 = sent;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSecondsOf('self', true) - cpu0;
    const u1 = cpuSecondsOf(ulogdPid);
    const collectorCores = cpu / wall;
    const ulogdCores = (u1 - u0) / wall;
    const newPerSec = (sent - s0) / wall;
    const eventsPerSec = (collector.stats.events - e0) / wall;
    emit('flows-collector', 'new_connections_per_s', Math.round(newPerSec), 'conn/s', { target: RATE });
    emit('flows-collector', 'conntrack_events_per_s', Math.round(eventsPerSec), 'events/s', { note: 'NEW and DESTROY events read from ulogd' });
    emit('flows-collector', 'collector_cpu', Number(collectorCores.toFixed(3)), 'cores', { note: 'this process and its conntrack dumps: parse, track, snapshots, attribution, aggregation', flushMs: FLUSH_MS });
    emit('flows-collector', 'ulogd_cpu', Number(ulogdCores.toFixed(3)), 'cores');
    emit('flows-collector', 'total_cpu', Number((collectorCores + ulogdCores).toFixed(3)), 'cores', { target: 0.5, tracked: collector.tracked, logsShipped: shipped, lastFlushMs: Math.round(collector.stats.lastFlushMs) });
    // Every datagram made one conntrack entry: once the load stops and the pipe drains, the NEW
    // events read must equal the datagrams sent (runs shorter than UDP's 30 s timeout see no DESTROY).
    await new Promise((r) => (load.exitCode !== null ? r(undefined) : load.once('exit', r)));
    const sentTotal = sent;
    await new Promise((r) => setTimeout(r, 3000));
    const lost = Math.max(0, sentTotal - collector.stats.events);
    emit('flows-collector', 'events_lost', lost, 'events', { sent: sentTotal, read: collector.stats.events, fraction: Number((lost / Math.max(1, sentTotal)).toFixed(4)) });
  } finally {
    load.kill('SIGKILL');
    await collector.stop().catch(() => undefined);
    await ulogd.stop();
    teardown();
  }
}

await main();
