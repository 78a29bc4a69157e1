// Per-packet cost of the ruleset: new TCP flows and small UDP packets per second between two
// veth-attached pods with 0, 10, 1,000 and 10,000 rules applying to the destination, for three
// rulesets rendered from the same policies: no table, Margay's (compiled runs), and Calico's
// documented chain-per-policy layout (a per-endpoint chain jumping one chain per policy, the
// policy's rules in sequence, allow = mark + return), rendered here only.
//
// The client measures the ruleset, not socket churn: a raw-socket sender in the client pod
// writes SYNs / UDP datagrams with a fresh (source port, destination port) each, so every packet
// is a new conntrack entry and walks the policy; the server pod's kernel counters count what got
// through (TCP InSegs: SYNs answered by RST; UDP InDatagrams + NoPorts + InErrors). The forward
// path runs in the sender's softirq, so a costlier ruleset slows the sender down: the rate is
// end to end. `udp-established`: one flow the server answered once, so every packet takes the
// conntrack fast path. Conntrack timeouts are cut to 1–2 s in the node namespace and the table
// is flushed before each run, so it never fills. `conntrack-only` (a table with just the established rule) shows what conntrack
// itself costs, which no stateful ruleset avoids. Each layout runs `--rounds` times (3) in rotating order
// and the best round counts: the machine is shared (2 cores, other work running), contention
// only lowers a rate, and figures stay noisy. Ratios are against no table in the same run.
// Last, the paired ratio: Margay at 0 and at the most rules back to back, `--pairs` times, median.
//
// Needs root, /usr/sbin/nft, python3. Everything lives in `mgy-` namespaces it deletes.
import { spawn, type ChildProcess } from 'node:child_process';
import type { CalcState } from '../src/calc/index.js';
import { programText, renderModel } from '../src/dataplane/index.js';
import { createNetns, deleteNetns, must, netnsExec, nftRunner, randomNetnsName, wirePods } from '../src/nft/index.js';
import { BENCH_RENDER, POD_IFACES, calcStateOf, twoPodDocs } from './dataplane-support.js';
import { emit, numberOption } from './calc-common.js';

const SECONDS = numberOption('seconds', 2);
const RULES = (process.argv.includes('--rules') ? String(process.argv[process.argv.indexOf('--rules') + 1]) : '0,10,1000,10000').split(',').map(Number);
const RULES_PER_POLICY = 10;
const ROUNDS = numberOption('rounds', 3);
/** Back-to-back pairs (0 rules, most rules) for the paired ratio. */
const PAIRS = numberOption('pairs', 9);
const SERVER = '10.65.0.2';
const CLIENT = '10.65.0.3';
const BENCH = 'dataplane-conn';

/** `rules` rules on the server's ingress: fillers that never match the client, then the two that do. */
function stateWith(rules: number): CalcState {
  const docs = twoPodDocs(SERVER, CLIENT);
  if (rules > 0) {
    const fillers: string[] = [];
    for (let i = 0; i < rules - 2; i++) {
      const proto = i % 2 === 0 ? 'TCP' : 'UDP';
      // Two thirds by CIDR, one third by selector (50 selectors, none matching the client).
      const source = i % 3 === 2 ? `{selector: "role == 'r${i % 50}'"}` : `{nets: [10.200.${(i >> 8) & 255}.${i & 255}/32]}`;
      const action = i % 7 === 3 ? 'Deny' : 'Allow';
      fillers.push(`  - {action: ${action}, protocol: ${proto}, source: ${source}, destination: {ports: [${20000 + (i % 40000)}]}}`);
    }
    const policy = (name: string, order: number, lines: string[]) =>
      `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: app}\nspec:\n  selector: role == 'server'\n  order: ${order}\n  types: [Ingress]\n  ingress:\n${lines.join('\n')}`;
    for (let p = 0; p * RULES_PER_POLICY < fillers.length; p++) {
      docs.push(policy(`f${String(p).padStart(5, '0')}`, 100, fillers.slice(p * RULES_PER_POLICY, (p + 1) * RULES_PER_POLICY)));
    }
    docs.push(
      policy('zz-client', 1000, [
        `  - {action: Allow, protocol: TCP, source: {selector: "role == 'client'"}, destination: {ports: ['8000:8999']}}`,
        `  - {action: Allow, protocol: UDP, source: {selector: "role == 'client'"}, destination: {ports: ['9000:9999']}}`,
      ]),
    );
  }
  return calcStateOf(docs);
}

const IFACES = POD_IFACES;
const render = BENCH_RENDER;

/**
 * Calico's layout (felix `cali-tw-<ep>` → `cali-pi-<policy>`), as nftables: per policy a chain of
 * its rules in order, an Allow marking and returning, a Deny dropping; the endpoint chain clears
 * the mark, jumps each policy and accepts on the mark, then drops. Peers through the same kind of
 * sets Margay uses. (Felix writes mark-then-return as two rules; one here flatters it.)
 */
function calicoLayout(state: CalcState): string {
  const t = 'calico';
  const lines = [`table inet ${t}`, `delete table inet ${t}`, `add table inet ${t}`];
  const sets = new Map<string, string>();
  const setFor = (key: string, members: readonly string[]): string => {
    let name = sets.get(key);
    if (name !== undefined) return name;
    name = `s${sets.size}`;
    sets.set(key, name);
    const v4 = members.filter((m) => !m.includes(':'));
    lines.push(`add set inet ${t} ${name} { type ipv4_addr; flags interval; }`);
    if (v4.length > 0) lines.push(`add element inet ${t} ${name} { ${v4.join(', ')} }`);
    return name;
  };
  const ep = [...state.endpoints.values()].find((e) => e.endpoint.name === 'server');
  const policies = ep?.ingress.flatMap((tp) => tp.policies) ?? [];
  const chainRules: string[] = [];
  policies.forEach((id, k) => {
    const active = state.policies.get(id);
    if (active === undefined) return;
    const chain = `pi-${k}`;
    lines.push(`add chain inet ${t} ${chain}`);
    (active.policy.ingress ?? []).forEach((r, i) => {
      const m: string[] = [];
      const src = r.source;
      if (src.nets !== undefined) m.push(`ip saddr @${setFor(`n:${src.nets.map((n) => n.text).join(',')}`, src.nets.map((n) => n.text))}`);
      const sel = active.ingress[i]?.source.selector;
      if (sel !== undefined) m.push(`ip saddr @${setFor(`s:${sel}`, [...(state.ipSets.get(sel)?.members ?? [])])}`);
      if (r.protocol !== undefined) m.push(`meta l4proto ${r.protocol}`);
      const ports = r.destination.ports?.ranges.map((p) => (p.first === p.last ? `${p.first}` : `${p.first}-${p.last}`));
      if (ports !== undefined) m.push(`th dport { ${ports.join(', ')} }`);
      m.push(r.action === 'Allow' ? 'meta mark set meta mark | 0x00010000 return' : 'drop');
      chainRules.push(`add rule inet ${t} ${chain} ${m.join(' ')}`);
    });
  });
  lines.push(...chainRules);
  lines.push(`add chain inet ${t} tw-server`, `add rule inet ${t} tw-server meta mark set meta mark & 0xfffeffff`);
  policies.forEach((_, k) => lines.push(`add rule inet ${t} tw-server jump pi-${k}`, `add rule inet ${t} tw-server meta mark & 0x00010000 == 0x00010000 accept`));
  lines.push(`add rule inet ${t} tw-server ${policies.length > 0 ? 'drop' : 'accept'}`);
  lines.push(`add chain inet ${t} forward-in { type filter hook forward priority filter; policy accept; }`);
  lines.push(`add rule inet ${t} forward-in ct state established,related accept`, `add rule inet ${t} forward-in oifname "mgyserver" goto tw-server`);
  return lines.join('\n') + '\n';
}

/** Conntrack and nothing else: what any stateful ruleset pays before its first rule. */
const CONNTRACK_ONLY = `table inet margay
delete table inet margay
add table inet margay
add chain inet margay forward-in { type filter hook forward priority filter; policy accept; }
add rule inet margay forward-in ct state established,related accept
`;

// The sender: raw IPv4 packets, a new (sport, dport) pair each (`new`) or one flow (`est`).
const SENDER = String.raw`
import socket,struct,sys,time
dst,src,proto,mode,secs=sys.argv[1],sys.argv[2],sys.argv[3],sys.argv[4],float(sys.argv[5])
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)
sb,db=socket.inet_aton(src),socket.inet_aton(dst)
P=6 if proto=='tcp' else 17
L=20 if P==6 else 24
iph=struct.pack('!BBHHHBBH4s4s',0x45,0,20+L,0,0x4000,64,P,0,sb,db)
pseudo=sb+db+struct.pack('!BBH',0,P,L)
lo,hi=(8000,8999) if P==6 else (9000,9999)
if mode=='est': lo=hi=9999
def csum(b):
  n=sum(struct.unpack('!10H',b[12:]))+sum(struct.unpack('!6H',b[:12]))
  while n>>16: n=(n&0xffff)+(n>>16)
  return ~n&0xffff
sent=0;sp=1024;dp=0;pad=b'x'*16
end=time.time()+secs
while time.time()<end:
  for _ in range(200):
    if mode=='new':
      sp+=1
      if sp>65535:
        sp=1024;dp=(dp+1)%(hi-lo+1)
      sport,dport=sp,lo+dp
    else:
      sport,dport=40000,9999
    if P==6:
      h=struct.pack('!HHIIBBHHH',sport,dport,sent,0,0x50,0x02,64240,0,0)
      h=h[:16]+struct.pack('!H',csum(pseudo+h))+h[18:]
    else:
      h=struct.pack('!HHHH',sport,dport,L,0)+pad
    s.sendto(iph+h,(dst,0));sent+=1
print(sent)
`;

// Answers a datagram on 9999 at most every 200 ms (so the flow is established and stays so)
// and otherwise lets the socket buffer overflow (counted in InErrors): no per-packet user space.
const ECHO_SLOW = String.raw`
import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.bind((sys.argv[1],9999))
print('ready',flush=True)
while True:
  d,a=s.recvfrom(2048)
  s.sendto(b'ok',a)
  time.sleep(0.2)
`;

async function counters(ns: string): Promise<{ tcpIn: number; udpIn: number }> {
  const r = await netnsExec(ns, '/bin/cat', ['/proc/net/snmp']);
  const rows = r.stdout.split('\n');
  const table = (proto: string): Record<string, number> => {
    const [head, vals] = rows.filter((l) => l.startsWith(`${proto}:`));
    const keys = (head ?? '').split(/\s+/).slice(1);
    const values = (vals ?? '').split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? 0]));
  };
  const tcp = table('Tcp');
  const udp = table('Udp');
  return { tcpIn: tcp.InSegs ?? 0, udpIn: (udp.InDatagrams ?? 0) + (udp.NoPorts ?? 0) + (udp.InErrors ?? 0) };
}

let python = 'python3';

async function rate(names: { client: string; server: string }, proto: 'tcp' | 'udp', mode: 'new' | 'est'): Promise<{ received: number; sent: number }> {
  const before = await counters(names.server);
  // Top CPU priority for the few seconds of a run: the machine is shared, and the forward path
  // runs in the sender's softirq, so what the sender gets is what the ruleset gets.
  const r = await netnsExec(names.client, '/usr/bin/nice', ['-n', '-20', python, '-c', SENDER, SERVER, CLIENT, proto, mode, String(SECONDS)]);
  if (r.code !== 0) throw new Error(`sender: ${r.stderr}`);
  const after = await counters(names.server);
  const received = proto === 'tcp' ? after.tcpIn - before.tcpIn : after.udpIn - before.udpIn;
  return { received: received / SECONDS, sent: Number(r.stdout.trim()) / SECONDS };
}

let cleanup: (() => Promise<void>) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const which = await must('/bin/sh', ['-c', 'command -v python3 && python3 -c "import sys; print(sys.executable)"']);
  python = which.stdout.trim().split('\n').pop() ?? 'python3';
  const names = { node: randomNetnsName('cn'), server: randomNetnsName('cs'), client: randomNetnsName('cc') };
  let echo: ChildProcess | undefined;
  cleanup = async () => {
    echo?.kill('SIGKILL');
    for (const n of Object.values(names)) await deleteNetns(n);
  };
  try {
    for (const n of Object.values(names)) await createNetns(n);
    await wirePods(names.node, [
      { netns: names.server, iface: IFACES.server, ip: SERVER },
      { netns: names.client, iface: IFACES.client, ip: CLIENT },
    ]);
    // Short conntrack timeouts in the node namespace: the table stays small however fast we go.
    for (const kv of ['nf_conntrack_udp_timeout=1', 'nf_conntrack_tcp_timeout_close=1', 'nf_conntrack_tcp_timeout_syn_sent=2', 'nf_conntrack_tcp_timeout_syn_recv=2']) {
      await netnsExec(names.node, '/usr/sbin/sysctl', ['-qw', `net.netfilter.${kv}`]);
    }
    echo = spawn('/usr/sbin/ip', ['netns', 'exec', names.server, python, '-c', ECHO_SLOW, SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => echo?.stdout?.once('data', () => resolve()));
    const nft = nftRunner({ netns: names.node });
    const clear = async () => {
      await nft(['-f', '-'], 'table inet margay\ndelete table inet margay\ntable inet calico\ndelete table inet calico\n');
      await netnsExec(names.node, '/usr/sbin/conntrack', ['-F']);
    };
    const layouts = ['none', 'conntrack-only', 'margay', 'calico'] as const;
    const modes = [['tcp-new', 'tcp', 'new'], ['udp-new', 'udp', 'new'], ['udp-established', 'udp', 'est']] as const;
    // Each layout's own rate with no rules: the issue's "≥ 90 % of the no-rules rate" is read both
    // ways — against no table at all (`ratio`) and against the same layout at 0 rules.
    const zeroRules = new Map<string, number>();
    for (const rules of RULES) {
      const state = stateWith(rules);
      const t0 = performance.now();
      const margayText = programText(renderModel(state, render));
      const renderMs = performance.now() - t0;
      const texts = { margay: margayText, calico: calicoLayout(state), 'conntrack-only': CONNTRACK_ONLY };
      // Rounds with the layouts in rotating order; the best of the rounds is the capacity (the
      // machine is shared, and contention only ever lowers a rate).
      const runs = new Map<string, { received: number; sent: number }[]>();
      let loadMs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < layouts.length; k++) {
          const layout = layouts[(k + round) % layouts.length] as (typeof layouts)[number];
          await clear();
          if (layout !== 'none') {
            const t = performance.now();
            const r = await nft(['-f', '-'], texts[layout]);
            if (r.code !== 0) throw new Error(`${layout} ruleset: ${r.stderr.slice(0, 500)}`);
            if (layout === 'margay') loadMs = Math.max(loadMs, performance.now() - t);
          }
          for (const [metric, proto, mode] of modes) {
            const key = `${metric}/${layout}`;
            runs.set(key, [...(runs.get(key) ?? []), await rate(names, proto, mode)]);
          }
        }
      }
      emit(BENCH, `nft-load/margay/${rules}-rules`, +loadMs.toFixed(1), 'ms', { renderMs: +renderMs.toFixed(1), chars: margayText.length });
      const best = (key: string) => Math.max(0, ...(runs.get(key) ?? []).map((r) => r.received));
      for (const [metric] of modes) {
        const none = best(`${metric}/none`);
        const ct = best(`${metric}/conntrack-only`);
        for (const layout of layouts) {
          const all = (runs.get(`${metric}/${layout}`) ?? []).map((r) => Math.round(r.received));
          if (rules === RULES[0]) zeroRules.set(`${metric}/${layout}`, best(`${metric}/${layout}`));
          const own = zeroRules.get(`${metric}/${layout}`);
          emit(BENCH, `${metric}/${layout}/${rules}-rules`, best(`${metric}/${layout}`), 'pkt/s', {
            rounds: all.join(' '),
            ...(layout !== 'none' ? { baseline: Math.round(none), ratio: +(best(`${metric}/${layout}`) / Math.max(none, 1)).toFixed(3) } : {}),
            ...(layout === 'margay' || layout === 'calico' ? { ratioVsConntrackOnly: +(best(`${metric}/${layout}`) / Math.max(ct, 1)).toFixed(3) } : {}),
            ...((layout === 'margay' || layout === 'calico') && own !== undefined && RULES[0] === 0 ? { ratioVsOwnZeroRules: +(best(`${metric}/${layout}`) / Math.max(own, 1)).toFixed(3) } : {}),
            noisy: true,
          });
        }
      }
    }
    // Paired: Margay's ruleset at 0 rules and at the most rules, loaded alternately, one short run
    // each, PAIRS times; the median of the per-pair ratios. Background load drifts over seconds,
    // and a pair measured back to back sees the same load, so this ratio is far steadier than
    // best-of-rounds above (whose rounds vary up to 2x here).
    const top = Math.max(...RULES);
    if (RULES.includes(0) && top > 0) {
      const texts = { zero: programText(renderModel(stateWith(0), render)), top: programText(renderModel(stateWith(top), render)) };
      for (const [metric, proto, mode] of modes.filter((m) => m[2] === 'new')) {
        const ratios: number[] = [];
        for (let i = 0; i < PAIRS; i++) {
          const got = { zero: 0, top: 0 };
          for (const which of i % 2 === 0 ? (['zero', 'top'] as const) : (['top', 'zero'] as const)) {
            await clear();
            const r = await nft(['-f', '-'], texts[which]);
            if (r.code !== 0) throw new Error(`margay ruleset: ${r.stderr.slice(0, 500)}`);
            got[which] = (await rate(names, proto, mode)).received;
          }
          ratios.push(got.top / Math.max(got.zero, 1));
        }
        const sorted = [...ratios].sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
        emit(BENCH, `${metric}/margay/${top}-rules-vs-0-rules/paired-median`, +median.toFixed(3), 'ratio', { target: 0.9, pairs: ratios.map((r) => r.toFixed(3)).join(' '), meets_target: median >= 0.9 });
      }
    }
  } finally {
    await cleanup();
  }
}

await main();
