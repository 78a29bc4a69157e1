// New TCP connections per second between two veth-attached pods in `mgy-` namespaces, with
// 0, 10, 1,000 and 10,000 rules applying to the destination, for: no table, Margay's ruleset,
// and a Calico-like iptables-style layout (mark-and-return per rule, checked per policy, rendered
// here only). Then `nft -f` time for a full program and for deltas at 10k and 100k set elements.
// Needs root and /usr/sbin/nft; everything lives in namespaces the bench creates and deletes.
import { spawn, type ChildProcess } from 'node:child_process';
import type { CalcState } from '../src/calc/index.js';
import { deltaText, programText, renderModel, shortHash, type RulesetModel } from '../src/dataplane/index.js';
import { createNetns, deleteNetns, netnsExec, nftRunner, randomNetnsName, wirePods } from '../src/nft/index.js';
import { BENCH_RENDER, POD_IFACES, calcStateOf, twoPodDocs } from './dataplane-support.js';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 2;
const RULES = [0, 10, 1_000, 10_000];
/** `--only nft-apply`: just the `nft -f` times (bench/dataplane runs this part; dataplane-conn measures rates). */
const ONLY_NFT_APPLY = process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'nft-apply';
const SERVER = '10.65.0.2';
const CLIENT = '10.65.0.3';

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

function stateWith(rules: number): CalcState {
  const docs = twoPodDocs(SERVER, CLIENT);
  if (rules > 0) {
    // Rules that do not match the client (other sources, other ports), then the one that does:
    // every new connection walks all of them in a linear layout.
    const lines: string[] = [];
    for (let i = 0; i < rules - 1; i++) lines.push(`  - {action: Allow, protocol: TCP, source: {selector: "role == 'r${i % 50}'"}, destination: {ports: [${10000 + (i % 50000)}]}}`);
    lines.push(`  - {action: Allow, protocol: TCP, source: {selector: "role == 'client'"}, destination: {ports: [8080]}}`);
    docs.push(`apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: many, namespace: app}\nspec:\n  selector: role == 'server'\n  types: [Ingress]\n  ingress:\n${lines.join('\n')}`);
  }
  return calcStateOf(docs);
}

const IFACES = POD_IFACES;
const render = BENCH_RENDER;

/** Calico-style, for comparison: per rule `… mark set ALLOW return`, checked after the policy. */
function calicoLike(state: CalcState): string {
  // Sequential rendering: it holds a named set per selector, which this layout matches on.
  const m = renderModel(state, { ...render, compileMinRules: Infinity });
  const lines = ['table inet calico', 'delete table inet calico', 'add table inet calico'];
  for (const s of m.sets.values()) {
    lines.push(`add set inet calico ${s.name} { type ${s.type};${s.interval ? ' flags interval;' : ''} }`);
    if (s.elements.length > 0) lines.push(`add element inet calico ${s.name} { ${s.elements.join(', ')} }`);
  }
  lines.push('add chain inet calico pol', 'add chain inet calico to-server');
  for (const p of state.policies.values()) {
    p.policy.ingress?.forEach((r, i) => {
      const port = r.destination.ports?.ranges[0]?.first ?? 0;
      const sel = p.ingress[i]?.source.selector;
      // The same IP set Margay uses for this selector (the IPv4 half).
      const setName = sel === undefined ? undefined : `s-${shortHash(sel)}-4`;
      lines.push(`add rule inet calico pol ${setName ? `ip saddr @${setName} ` : ''}tcp dport ${port} meta mark set meta mark | 0x10000 return`);
    });
  }
  lines.push('add rule inet calico to-server meta mark set meta mark & 0xfffeffff');
  if (state.policies.size > 0) {
    lines.push('add rule inet calico to-server jump pol', 'add rule inet calico to-server meta mark & 0x10000 == 0x10000 accept', 'add rule inet calico to-server drop');
  } else lines.push('add rule inet calico to-server accept');
  lines.push('add chain inet calico forward-in { type filter hook forward priority filter; policy accept; }');
  lines.push('add rule inet calico forward-in ct state established,related accept', 'add rule inet calico forward-in oifname "mgyserver" goto to-server');
  return lines.join('\n') + '\n';
}

function serverIn(ns: string): { ready: Promise<void>; child: ChildProcess } {
  const code = `require('net').createServer(s=>s.end()).listen(8080,'${SERVER}',()=>console.log('ready'))`;
  const child = spawn('/usr/sbin/ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout?.on('data', () => resolve()));
  return { ready, child };
}

/** Sequential connect+close for SECONDS inside the client pod; connections per second. */
async function connRate(ns: string): Promise<number> {
  const code = `const net=require('net');const end=Date.now()+${SECONDS * 1000};let n=0,fail=0;
function one(){if(Date.now()>end){console.log(JSON.stringify({n,fail}));return}
const s=net.connect(8080,'${SERVER}');s.setTimeout(1000);s.on('connect',()=>{n++;s.destroy();one()});s.on('error',()=>{fail++;one()});s.on('timeout',()=>{fail++;s.destroy();one()})}one()`;
  const r = await netnsExec(ns, process.execPath, ['-e', code]);
  const { n, fail } = JSON.parse(r.stdout) as { n: number; fail: number };
  // A rare timeout (port reuse under TIME_WAIT) is noise; a policy that drops would fail them all.
  if (n === 0 || fail > n / 100) throw new Error(`connections failed: ${fail} (ok ${n})`);
  return n / SECONDS;
}

async function timeNft(ns: string, text: string): Promise<number> {
  const t = performance.now();
  const r = await nftRunner({ netns: ns })(['-f', '-'], text);
  if (r.code !== 0) throw new Error(r.stderr);
  return performance.now() - t;
}

function withSetSize(base: RulesetModel, name: string, n: number, offset = 0): RulesetModel {
  const set = base.sets.get(name);
  if (set === undefined) throw new Error('no set');
  const elements: string[] = [];
  for (let i = offset; i < offset + n; i++) elements.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const sets = new Map(base.sets);
  sets.set(name, { ...set, elements: elements.sort() });
  return { ...base, sets };
}

async function main(): Promise<void> {
  const names = { node: randomNetnsName('bn'), server: randomNetnsName('bs'), client: randomNetnsName('bc'), apply: randomNetnsName('ba') };
  try {
    for (const n of Object.values(names)) await createNetns(n);
    await wirePods(names.node, [
      { netns: names.server, iface: IFACES.server, ip: SERVER },
      { netns: names.client, iface: IFACES.client, ip: CLIENT },
    ]);
    const server = serverIn(names.server);
    await server.ready;
    try {
      if (!ONLY_NFT_APPLY) {
        const nft = nftRunner({ netns: names.node });
        const none = await connRate(names.client);
        emit({ bench: 'dataplane-ruleset', metric: 'tcp-connections/no-table', value: Math.round(none), unit: 'conn/s' });
        for (const rules of RULES) {
          const state = stateWith(rules);
          await nft(['-f', '-'], 'table inet calico\ndelete table inet calico\n');
          await timeNft(names.node, programText(renderModel(state, render)));
          const margay = await connRate(names.client);
          await nft(['-f', '-'], 'table inet margay\ndelete table inet margay\n');
          await timeNft(names.node, calicoLike(state));
          const calico = await connRate(names.client);
          await nft(['-f', '-'], 'table inet calico\ndelete table inet calico\n');
          emit({ bench: 'dataplane-ruleset', metric: `tcp-connections/margay/${rules}-rules`, value: Math.round(margay), unit: 'conn/s', baseline: Math.round(none), ratio: +(margay / none).toFixed(3) });
          emit({ bench: 'dataplane-ruleset', metric: `tcp-connections/calico-like/${rules}-rules`, value: Math.round(calico), unit: 'conn/s', baseline: Math.round(margay), ratio: +(calico / margay).toFixed(3) });
        }
      }
    } finally {
      server.child.kill('SIGKILL');
    }

    // Apply times, in a namespace of their own.
    // Sequential rendering, so the selector peers live in a named set this part grows.
    const base = renderModel(stateWith(10), { ...render, compileMinRules: Infinity });
    const setName = [...base.sets.keys()].find((n) => n.startsWith('s-') && n.endsWith('-4')) as string;
    for (const size of [10_000, 100_000]) {
      const a = withSetSize(base, setName, size);
      const full = await timeNft(names.apply, programText(a));
      emit({ bench: 'dataplane-ruleset', metric: `nft-apply/full-program/${size}-elements`, value: +full.toFixed(1), unit: 'ms' });
      // Delta: 100 members leave, 100 arrive.
      const b = withSetSize(base, setName, size, 100);
      const delta = deltaText(a, b);
      const d = await timeNft(names.apply, delta);
      emit({ bench: 'dataplane-ruleset', metric: `nft-apply/delta-200-elements/${size}-elements`, value: +d.toFixed(1), unit: 'ms', baseline: +full.toFixed(1), ratio: +(d / full).toFixed(3) });
      const again = await timeNft(names.apply, programText(b));
      emit({ bench: 'dataplane-ruleset', metric: `nft-apply/full-replace/${size}-elements`, value: +again.toFixed(1), unit: 'ms' });
    }
  } finally {
    for (const n of Object.values(names)) await deleteNetns(n);
  }
}

await main();
