// Flow logs on real traffic: a two-node lab with agents collecting (conntrack events and NFLOG
// through ulogd2), a scripted traffic pattern — allowed and denied, TCP and UDP, pod to pod across
// nodes, the lab internet to pods, pods to the lab internet — and every expected flow must come
// back from the flows API with the reporter, action, tier, policy and rule that `margay simulate`
// names for the same flow, the number of connections made, and counters both kernels agree on.
// Staged verdicts recorded in the flows must equal simulate's staged verdicts.
// Needs root, iproute2, nftables, conntrack and ulogd2 (installed by .ci/run).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, type LabState } from '../../src/lab/index.js';
import { KubeClient, loadKubeconfig } from '../../src/client/index.js';
import type { FlowLog } from '../../src/flows/index.js';
import { runMargay } from '../support/margay.js';
import { removeLab } from '../support/lab.js';

const APP = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db, labels: {team: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec: {nodeName: node-b, containers: [{name: pg}]}
---
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: db, labels: {app: cache}}
spec: {nodeName: node-a, containers: [{name: cache}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-shop, namespace: db}
spec:
  podSelector: {matchLabels: {app: pg}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}}]
    ports: [{port: 80, protocol: TCP}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-udp-to-internet}
spec:
  order: 10
  selector: app == 'web'
  types: [Egress]
  egress:
  - action: Deny
    protocol: UDP
    destination: {nets: [203.0.113.0/24]}
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: lockdown, namespace: db}
spec:
  selector: app == 'pg'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'nothing'}
`;

const INTERNET = '203.0.113.1';
const work = mkdtempSync(join(tmpdir(), 'margay-flows-lab-'));
const labDir = join(work, 'lab');
const appFile = join(work, 'app.yaml');
let state: LabState | undefined;

// A client run inside a namespace: COUNT connections (TCP: send PAYLOAD bytes, read until the
// responder closes; UDP: send PAYLOAD bytes from a fresh port, wait for the echo), one at a time.
const CLIENT = `
const net = require('node:net'), dgram = require('node:dgram');
const [ip, port, proto, count, size, timeout] = process.argv.slice(1);
const payload = Buffer.alloc(Number(size), 120);
const once = () => new Promise((resolve) => {
  const done = (ok) => { clearTimeout(t); resolve(ok); };
  let t;
  if (proto === 'tcp') {
    const s = net.connect({ host: ip, port: Number(port) });
    t = setTimeout(() => { s.destroy(); done(false); }, Number(timeout));
    s.on('connect', () => s.write(payload));
    s.on('data', () => {});
    s.on('error', () => done(false));
    s.on('close', () => done(true));
  } else {
    const s = dgram.createSocket('udp4');
    t = setTimeout(() => { s.close(); done(false); }, Number(timeout));
    s.on('message', () => { s.close(); done(true); });
    s.on('error', () => { s.close(); done(false); });
    s.send(payload, Number(port), ip);
  }
});
(async () => { let ok = 0; for (let i = 0; i < Number(count); i++) if (await once()) ok++; console.log(ok); })();
`;

function traffic(netns: string, ip: string, port: number, proto: 'tcp' | 'udp', count: number, size: number): Promise<number> {
  return new Promise((resolve, reject) =>
    execFile('ip', ['netns', 'exec', netns, process.execPath, '-e', CLIENT, ip, String(port), proto, String(count), String(size), '700'], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(Number(stdout.trim())),
    ),
  );
}

function pod(name: string): { netns: string; ip: string } {
  const p = state?.pods.find((x) => `${x.namespace}/${x.name}` === name);
  assert.ok(p, `pod ${name}`);
  return { netns: p.netns, ip: p.ip };
}

async function flows(query: string): Promise<FlowLog[]> {
  assert.ok(state?.kubeconfig);
  const access = loadKubeconfig(state.kubeconfig);
  const client = new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}) });
  const r = await client.send('GET', `/apis/flows.margay.io/v1/flowlogs?limit=10000&${query}`);
  assert.equal(r.code, 200, JSON.stringify(r.json));
  return (r.json as unknown as { items: FlowLog[] }).items;
}

interface Expect {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly proto: 'tcp' | 'udp';
  readonly count: number;
  readonly size: number;
}

interface Decision {
  allowed: boolean;
  decidedBy: { kind: string; tier?: string; policy?: string; profile?: string; ruleIndex?: number };
}

interface SimVerdict {
  allowed: boolean;
  egress: Decision;
  ingress: Decision;
  staged: { egress: Decision; ingress: Decision };
}

async function simulate(from: string, to: string, port: number, proto: string): Promise<SimVerdict> {
  const r = await runMargay(['simulate', '-f', appFile, '--from', from, '--to', to, '--port', `${port}/${proto.toUpperCase()}`, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SimVerdict;
}

/** The (tier, policy, ruleIndex) a flow log should name for simulate's decision. */
function expectedHit(d: Decision): { tier: string; policy: string; ruleIndex: number } | undefined {
  const b = d.decidedBy;
  if (b.kind === 'profile') return { tier: '__PROFILE__', policy: `__PROFILE__.${b.profile ?? ''}`, ruleIndex: b.ruleIndex ?? 0 };
  if (b.kind === 'rule') return { tier: b.tier ?? '', policy: b.policy ?? '', ruleIndex: b.ruleIndex ?? 0 };
  if (b.kind === 'end-of-tier') return { tier: b.tier ?? '', policy: '', ruleIndex: -1 };
  return undefined;
}

before(async () => {
  writeFileSync(appFile, APP);
  const r = await runMargay(['lab', 'up', '-f', appFile, '--lab-dir', labDir], undefined, { env: { MARGAY_FLOW_FLUSH_MS: '500', MARGAY_FLOW_AGGREGATION: 'port,port' } });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  state = loadState(labDir);
  assert.ok(state);
});

after(async () => {
  await removeLab(labDir, state);
  rmSync(work, { recursive: true, force: true });
});

test('a scripted traffic pattern yields every expected flow, attributed as simulate decides, with counts both kernels agree on', { timeout: 120_000 }, async () => {
  assert.ok(state);
  const cases: Expect[] = [
    { name: 'pod → pod across nodes, allowed', from: 'shop/web', to: 'db/pg', port: 80, proto: 'tcp', count: 3, size: 1000 },
    { name: 'pod → pod across nodes, denied port', from: 'shop/web', to: 'db/pg', port: 81, proto: 'tcp', count: 2, size: 10 },
    { name: 'pod → pod across nodes, denied protocol', from: 'shop/web', to: 'db/pg', port: 80, proto: 'udp', count: 2, size: 20 },
    { name: 'pod → pod on one node, denied namespace', from: 'db/cache', to: 'db/pg', port: 80, proto: 'tcp', count: 1, size: 10 },
    { name: 'pod → pod on one node, allowed (no policy)', from: 'db/pg', to: 'db/cache', port: 81, proto: 'udp', count: 2, size: 300 },
    { name: 'internet → pod, allowed', from: INTERNET, to: 'shop/web', port: 80, proto: 'tcp', count: 2, size: 500 },
    { name: 'internet → pod, denied', from: INTERNET, to: 'db/pg', port: 80, proto: 'tcp', count: 1, size: 10 },
    { name: 'pod → internet, allowed', from: 'shop/web', to: INTERNET, port: 80, proto: 'tcp', count: 2, size: 200 },
    { name: 'pod → internet, denied by a Calico Deny rule', from: 'shop/web', to: INTERNET, port: 81, proto: 'udp', count: 2, size: 50 },
  ];
  const t0 = Date.now();
  for (const c of cases) {
    const src = c.from === INTERNET ? { netns: state.internetNetns, ip: INTERNET } : pod(c.from);
    const dst = c.to === INTERNET ? { ip: INTERNET } : pod(c.to);
    const ok = await traffic(src.netns, dst.ip, c.port, c.proto, c.count, c.size);
    const sim = await simulate(c.from, c.to, c.port, c.proto);
    assert.equal(ok === c.count, sim.allowed, `${c.name}: ${ok}/${c.count} connections succeeded but simulate says allowed=${sim.allowed}`);
  }

  // Every half a node reports: the source's (egress) where the source is a pod, the destination's
  // (ingress) where the destination is one. Wait until all have arrived.
  const expected: { c: Expect; reporter: 'src' | 'dst'; action: 'allow' | 'deny'; hit: ReturnType<typeof expectedHit>; pending?: 'allow' | 'deny'; srcIp: string; dstIp: string }[] = [];
  for (const c of cases) {
    const sim = await simulate(c.from, c.to, c.port, c.proto);
    const srcIp = c.from === INTERNET ? INTERNET : pod(c.from).ip;
    const dstIp = c.to === INTERNET ? INTERNET : pod(c.to).ip;
    if (c.from !== INTERNET) {
      expected.push({ c, reporter: 'src', action: sim.egress.allowed ? 'allow' : 'deny', hit: expectedHit(sim.egress), srcIp, dstIp });
    }
    // A flow denied at the source never reaches the destination.
    if (c.to !== INTERNET && sim.egress.allowed) {
      const stagedDiffers = JSON.stringify(sim.staged.ingress) !== JSON.stringify(sim.ingress);
      expected.push({ c, reporter: 'dst', action: sim.ingress.allowed ? 'allow' : 'deny', hit: expectedHit(sim.ingress), srcIp, dstIp, ...(stagedDiffers || c.to.startsWith('db/') ? { pending: sim.staged.ingress.allowed ? 'allow' : 'deny' } : {}) });
    }
  }

  const find = (logs: FlowLog[], e: (typeof expected)[number]): FlowLog[] =>
    logs.filter((l) => l.reporter === e.reporter && l.proto === e.c.proto && l.dest.port === e.c.port && l.source.ip === e.srcIp && l.dest.ip === e.dstIp);
  let logs: FlowLog[] = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    logs = await flows(`from=${t0 - 1000}`);
    const missing = expected.filter((e) => {
      const got = find(logs, e);
      const flowsSeen = got.reduce((a, l) => a + l.numFlowsStarted, 0);
      return flowsSeen < e.c.count;
    });
    if (missing.length === 0) break;
    if (Date.now() > deadline) assert.fail(`flows never arrived for: ${missing.map((m) => `${m.c.name} (${m.reporter})`).join('; ')}\nwe have:\n${logs.map((l) => `${l.reporter} ${l.action} ${l.proto} ${l.source.ip}:${l.source.port} -> ${l.dest.ip}:${l.dest.port} x${l.numFlows}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  // Counters of live connections arrive with the next snapshot: at least one more bucket, and
  // on a loaded machine as many as it takes both nodes to report the same counts (up to 10 s).
  type Counter = 'packetsOut' | 'bytesOut' | 'packetsIn' | 'bytesIn';
  const COUNTERS: readonly Counter[] = ['packetsOut', 'bytesOut', 'packetsIn', 'bytesIn'];
  const sum = (ls: FlowLog[], k: Counter): number => ls.reduce((a, l) => a + l[k], 0);
  const bothHalves = expected.flatMap((e) => {
    const dst = e.reporter === 'src' && e.action === 'allow' ? expected.find((x) => x.c === e.c && x.reporter === 'dst' && x.action === 'allow') : undefined;
    return dst === undefined ? [] : [{ src: e, dst }];
  });
  const agree = (ls: FlowLog[]): boolean => bothHalves.every(({ src, dst }) => COUNTERS.every((k) => sum(find(ls, src), k) === sum(find(ls, dst), k)));
  await new Promise((r) => setTimeout(r, 1500));
  const settleBy = Date.now() + 10_000;
  for (;;) {
    logs = await flows(`from=${t0 - 1000}`);
    if (agree(logs) || Date.now() > settleBy) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  for (const e of expected) {
    const got = find(logs, e);
    const what = `${e.c.name} (${e.reporter})`;
    assert.ok(got.length > 0, what);
    for (const l of got) {
      assert.equal(l.action, e.action, `${what}: action`);
      assert.ok(e.hit, `${what}: simulate names a decision`);
      assert.equal(l.tier, e.hit.tier, `${what}: tier`);
      if (e.hit.policy !== '') assert.equal(l.policy, e.hit.policy, `${what}: policy`);
      assert.equal(l.ruleIndex, e.hit.ruleIndex, `${what}: rule index`);
      assert.equal(l.host, e.reporter === 'src' ? state.pods.find((p) => p.ip === e.srcIp)?.node : state.pods.find((p) => p.ip === e.dstIp)?.node, `${what}: reported by the pod's node`);
      if (e.pending !== undefined) assert.equal(l.pendingAction, e.pending, `${what}: staged verdict as simulate`);
    }
    // A connection is active in every bucket it spans (numFlows) but starts in one.
    const n = got.reduce((a, l) => a + l.numFlowsStarted, 0);
    assert.equal(n, e.c.count, `${what}: one flow started per connection made`);
    const packetsOut = got.reduce((a, l) => a + l.packetsOut, 0);
    const bytesOut = got.reduce((a, l) => a + l.bytesOut, 0);
    // Each connection carried its payload plus IP/TCP or IP/UDP headers (≥ 28 bytes a packet).
    if (e.action === 'allow') {
      assert.ok(bytesOut >= e.c.count * (e.c.size + 28), `${what}: ${bytesOut} bytes out for ${e.c.count} × ${e.c.size}`);
      assert.ok(packetsOut >= e.c.count, `${what}: packets out`);
    } else assert.ok(packetsOut >= e.c.count, `${what}: at least one dropped packet logged per connection (${packetsOut})`);
  }

  // Where both halves of an allowed flow were reported (pod to pod), both kernels counted the same.
  assert.ok(bothHalves.length > 0, 'some flows are reported by both halves');
  for (const { src, dst } of bothHalves) {
    const s = find(logs, src);
    const d = find(logs, dst);
    for (const k of COUNTERS) assert.equal(sum(s, k), sum(d, k), `${src.c.name}: ${k} at the source equals ${k} at the destination`);
  }
});
