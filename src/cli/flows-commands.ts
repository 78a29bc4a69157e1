// `margay flows`: flow logs from the API (GET …/flowlogs) as readable columns, JSON, top talkers
// or followed live (-f polls with afterId). Also registers the flow retention flags of `margay up`.
import { Option, type Command } from 'commander';
import { UserError } from '../errors/index.js';
import type { FlowEndpoint, FlowTopItem, StoredFlowLog } from '../flows/index.js';
import type { CommandIo } from './simulate.js';

const FLOWS_PATH = '/apis/flows.margay.io/v1';
const EXIT_SERVER = 1;

export interface FlowsCommandOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  pod?: string;
  selector?: string;
  action?: string;
  policy?: string;
  tier?: string;
  port?: string;
  proto?: string;
  reporter?: string;
  host?: string;
  since?: string;
  from?: string;
  to?: string;
  limit?: string;
  follow?: boolean;
  interval?: string;
  top?: string;
  group?: string;
  output?: string;
}

/** `500MB`, `2GiB`, `1048576`: bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?$/i.exec(text.trim());
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4 };
  const n = m === null ? NaN : Number(m[1]) * (units[(m[2] ?? 'b').toLowerCase()] ?? NaN);
  if (!Number.isFinite(n) || n < 1) throw new UserError({ path: flag, message: `expected a size such as 500MB, 2GiB or a number of bytes, got ${JSON.stringify(text)}` });
  return Math.floor(n);
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UserError({ path: flag, message: `expected a positive whole number, got ${JSON.stringify(text)}` });
  return Number(text);
}

function endpointText(e: FlowEndpoint): string {
  if (e.type === 'net') return e.ip !== '-' ? e.ip : e.nameAggr;
  const name = e.name !== '-' ? e.name : e.nameAggr;
  return e.namespace !== '-' ? `${e.namespace}/${name}` : name;
}

function timeText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

function bytesText(n: number): string {
  if (n < 1024) return String(n);
  const units = ['Ki', 'Mi', 'Gi', 'Ti'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)}${units[i]}`;
}

/** Left-aligned columns separated by three spaces, as kubectl prints them. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd());
}

const HEADER = ['TIME', 'REPORTER', 'SRC', 'DST', 'PROTO/PORT', 'ACTION', 'POLICY', 'PKTS', 'BYTES'];
const WIDE_HEADER = [...HEADER, 'HOST', 'TIER', 'RULE', 'FLOWS', 'PENDING'];

function flowRow(l: StoredFlowLog, wide: boolean): string[] {
  const row = [
    timeText(l.startTime),
    l.reporter,
    endpointText(l.source),
    endpointText(l.dest),
    `${l.proto}/${l.dest.port}`,
    l.action,
    l.policy === '' ? '-' : l.policy,
    String(l.packetsIn + l.packetsOut),
    bytesText(l.bytesIn + l.bytesOut),
  ];
  if (wide) row.push(l.host, l.tier, String(l.ruleIndex), String(l.numFlows), l.pendingAction ?? '-');
  return row;
}

function topRows(items: readonly FlowTopItem[]): string[][] {
  const w = (x: FlowTopItem['source']) => (x === undefined ? '*' : x.namespace !== '-' ? `${x.namespace}/${x.nameAggr}` : x.nameAggr);
  return [['SOURCE', 'DEST', 'FLOWS', 'DENIED', 'PKTS', 'BYTES'], ...items.map((i) => [w(i.source), w(i.dest), String(i.numFlows), String(i.denied), String(i.packets), bytesText(i.bytes)])];
}

/** The query string for the filters given on the command line. */
export function flowsQuery(o: FlowsCommandOptions, now: () => number, parseDuration: (text: string, flag: string) => number): URLSearchParams {
  const p = new URLSearchParams();
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) p.set(k, v);
  };
  if (o.since !== undefined) {
    if (o.from !== undefined) throw new UserError({ path: '--since', message: 'expected either --since or --from, not both' });
    p.set('from', String(now() - parseDuration(o.since, '--since')));
  }
  set('from', o.from);
  set('to', o.to);
  const pod = o.pod;
  if (pod !== undefined) set('pod', !pod.includes('/') && o.namespace !== undefined ? `${o.namespace}/${pod}` : pod);
  set('selector', o.selector);
  set('action', o.action);
  set('policy', o.policy);
  set('tier', o.tier);
  set('port', o.port);
  set('proto', o.proto?.toLowerCase());
  set('reporter', o.reporter);
  set('host', o.host);
  return p;
}

interface Answer {
  code: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function flowsCommand(o: FlowsCommandOptions, io: CommandIo, signal?: AbortSignal): Promise<number> {
  const [{ connect }, { parseDuration }] = await Promise.all([import('./kube-commands.js'), import('../audit/index.js')]);
  const output = o.output ?? 'text';
  if (o.follow && o.top !== undefined) throw new UserError({ path: '--follow', message: 'cannot follow --top; drop one of them' });
  const params = flowsQuery(o, Date.now, parseDuration);
  const limit = o.limit !== undefined ? positiveInt(o.limit, '--limit') : undefined;
  const intervalMs = o.interval !== undefined ? parseDuration(o.interval, '--interval') : 1000;
  const { client, access } = connect({ ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}), ...(o.context !== undefined ? { context: o.context } : {}) });
  const namespace = o.allNamespaces ? undefined : (o.namespace ?? access.namespace);
  const base = namespace !== undefined && namespace !== '' ? `${FLOWS_PATH}/namespaces/${encodeURIComponent(namespace)}/flowlogs` : `${FLOWS_PATH}/flowlogs`;
  const get = async (extra: Record<string, string>): Promise<Answer | number> => {
    const q = new URLSearchParams(params);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const r = (await client.send('GET', `${base}?${q.toString()}`)) as Answer;
    if (r.code >= 400 || r.code === 0) {
      const reason = r.json?.reason ?? `HTTP ${r.code}`;
      io.err(`Error from server (${reason}): ${r.json?.message ?? 'request failed'}`);
      return EXIT_SERVER;
    }
    return r;
  };

  if (o.top !== undefined) {
    const r = await get({ view: 'top', by: o.top, ...(o.group !== undefined ? { group: o.group } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) });
    if (typeof r === 'number') return r;
    if (output === 'json') io.out(JSON.stringify(r.json, null, 2));
    else if (r.json.items.length === 0) io.err('No flows found.');
    else for (const line of columns(topRows(r.json.items as FlowTopItem[]))) io.out(line);
    return 0;
  }

  const wide = output === 'wide';
  const first = await get(limit !== undefined ? { limit: String(limit) } : {});
  if (typeof first === 'number') return first;
  // Oldest first on screen, so that followed rows continue downwards.
  const items = [...(first.json.items as StoredFlowLog[])].reverse();
  if (!o.follow) {
    if (output === 'json') io.out(JSON.stringify(first.json, null, 2));
    else if (items.length === 0) io.err('No flows found.');
    else for (const line of columns([wide ? WIDE_HEADER : HEADER, ...items.map((l) => flowRow(l, wide))])) io.out(line);
    return 0;
  }
  // Follow: JSON lines, or rows whose column widths are fixed by the header.
  const print = (logs: readonly StoredFlowLog[], header: boolean): void => {
    if (output === 'json') {
      for (const l of logs) io.out(JSON.stringify(l));
      return;
    }
    const rows = columns([wide ? WIDE_HEADER : HEADER, ...logs.map((l) => flowRow(l, wide)), followWidths(wide)]);
    for (const line of (header ? rows : rows.slice(1)).slice(0, -1)) io.out(line);
  };
  print(items, true);
  let cursor = String(first.json.metadata.lastId);
  const stopped = (): boolean => signal?.aborted === true;
  while (!stopped()) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, intervalMs);
      signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
    });
    if (stopped()) break;
    // The window of a follow query must reach the present: no `to`.
    const next = await get({ afterId: cursor, from: String(Date.now() - 24 * 3_600_000), to: String(Date.now() + 3_600_000), limit: '10000' });
    if (typeof next === 'number') return next;
    const logs = next.json.items as StoredFlowLog[];
    if (logs.length > 0) print(logs, false);
    cursor = String(next.json.metadata.lastId);
  }
  return 0;
}

/** A row of minimum widths, so followed rows line up with the header printed first. */
function followWidths(wide: boolean): string[] {
  const w = [19, 8, 30, 30, 10, 6, 40, 6, 6, 10, 10, 4, 5, 7];
  return (wide ? WIDE_HEADER : HEADER).map((_, i) => ' '.repeat(w[i] ?? 0));
}

export function registerFlowsCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const upCommand = program.commands.find((c) => c.name() === 'up');
  if (upCommand !== undefined) {
    upCommand
      .option('--flow-retention <duration>', 'drop flow logs older than this (default 7d)')
      .option('--flow-max-rows <n>', 'keep at most this many flow logs (oldest go first)')
      .option('--flow-max-size <size>', 'keep DIR/flows.db under this size, e.g. 2GiB (oldest go first)')
      .hook('preAction', async (cmd) => {
        const o = cmd.opts<{ flowRetention?: string; flowMaxRows?: string; flowMaxSize?: string }>();
        (await import('./up.js')).setExtraUpOptions({
          ...(o.flowRetention !== undefined ? { flowRetention: o.flowRetention } : {}),
          ...(o.flowMaxRows !== undefined ? { flowMaxRows: positiveInt(o.flowMaxRows, '--flow-max-rows') } : {}),
          ...(o.flowMaxSize !== undefined ? { flowMaxBytes: parseSize(o.flowMaxSize, '--flow-max-size') } : {}),
        });
      });
  }

  program
    .command('flows')
    .description('show flow logs: who talked to whom, how much, and which policy allowed or denied it')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'flows with either side in this namespace')
    .option('-A, --all-namespaces', 'flows of the whole cluster (the default without a namespace)')
    .option('--pod <name>', 'flows of this pod (NAME, with -n, or NS/NAME)')
    .option('-l, --selector <selector>', 'a Calico selector over either side\'s labels, e.g. app == "db"')
    .addOption(new Option('--action <action>', 'only allowed or denied flows').choices(['allow', 'deny']))
    .option('--policy <name>', 'flows this policy decided or passed (ns/name, tier.name or bare name)')
    .option('--tier <tier>', 'flows decided in this tier')
    .option('--port <port>', 'destination port')
    .option('--proto <proto>', 'protocol: tcp, udp, icmp…')
    .addOption(new Option('--reporter <side>', 'which side reported').choices(['src', 'dst']))
    .option('--host <node>', 'flows reported by this node')
    .option('--since <duration>', 'flows of the last 1h, 30m, 2d… (default 1h)')
    .option('--from <time>', 'window start: RFC 3339 or unix milliseconds')
    .option('--to <time>', 'window end: RFC 3339 or unix milliseconds')
    .option('--limit <n>', 'at most this many flows (newest)')
    .option('-f, --follow', 'keep printing new flows as they are stored')
    .option('--interval <duration>', 'how often -f polls (default 1s)')
    .addOption(new Option('--top <metric>', 'the biggest talkers or most denied over the window').choices(['bytes', 'packets', 'flows', 'denied']))
    .addOption(new Option('--group <by>', 'with --top: group by workload pair, source or destination').choices(['pair', 'source', 'dest']))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'wide', 'json']).default('text'))
    .action(async (o: FlowsCommandOptions) => {
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        setExit(await flowsCommand(o, io, abort.signal));
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
    });
}
