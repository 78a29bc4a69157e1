// Real nftables in throwaway `mgy-` network namespaces: the rendered program loads, deltas
// equal full programs in the kernel, resync repairs drift and writes nothing otherwise, and real
// TCP connections between veth-attached pods get the evaluator's verdicts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { CalcEngine, CalcStateRecorder, type CalcState } from '../calc/index.js';
import { renderRuleset, type RenderOptions } from '../dataplane/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, type Entity } from '../policy/index.js';
import { decodeManifests } from '../resources/index.js';
import { createNetns, deleteNetns, netnsExec, nftRunner, NftApplier, parseReadback, randomNetnsName, wirePods, type AdoptionRecord } from './index.js';

const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/nft') && existsSync('/usr/sbin/ip');
const skip = canRun ? false : 'needs root, /usr/sbin/nft and /usr/sbin/ip';

const PODS = { web: '10.65.0.2', client: '10.65.0.3', other: '10.65.0.4' } as const;

function manifests(extraRule = ''): string {
  const pods = Object.entries(PODS)
    .map(
      ([name, ip]) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: app, labels: {role: ${name}}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]}
status: {podIP: ${ip}}
`,
    )
    .join('');
  return `apiVersion: v1
kind: Namespace
metadata: {name: app}
${pods}---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-in, namespace: app}
spec:
  selector: role == 'web'
  types: [Ingress]
  ingress:
  - action: Log
    source: {selector: role == 'other'}
  - action: Allow
    protocol: TCP
    source: {selector: role == 'client'}
    destination: {ports: [http, 9000]}
  - action: Deny
    protocol: TCP
    source: {nets: [10.0.0.0/8], notNets: [10.66.0.0/16]}
---
# A run of simple rules: compiled into one verdict-map lookup per family.
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: client-out, namespace: app}
spec:
  selector: role == 'client'
  types: [Egress]
  egress:
  - action: Deny
    protocol: TCP
    destination: {selector: role == 'other', ports: [7000]}
  - action: Allow
    protocol: TCP
    destination: {selector: role == 'web', ports: [8080, 9000]}
  - action: Allow
    protocol: TCP
    destination: {nets: [10.65.0.0/24], notPorts: [9000]}
${extraRule}`;
}

interface Cluster {
  state: CalcState;
  evaluator: PolicyEvaluator;
  entities: Map<string, Entity>;
}

function cluster(yaml: string): Cluster {
  const decoded = decodeManifests(yaml, 'test.yaml');
  const recorder = new CalcStateRecorder();
  const engine = new CalcEngine({ callbacks: recorder });
  engine.onUpdates(decoded.map((d) => ({ type: 'upsert' as const, resource: d.resource })));
  engine.flush();
  const built = buildSnapshot(decoded);
  return { state: recorder.state, evaluator: new PolicyEvaluator(built.snapshot), entities: new Map(built.snapshot.entities.map((e) => [e.id, e])) };
}

const IFACE: Record<string, string> = { web: 'mgyweb', client: 'mgyclient', other: 'mgyother' };
const render: RenderOptions = {
  tableName: 'margay',
  podInterfacePrefix: 'mgy',
  logGroup: 3,
  interfaceOf: (e) => IFACE[e.name],
};

describe('nftables in network namespaces', { skip }, () => {
  const created: string[] = [];
  async function netns(tag: string): Promise<string> {
    const name = randomNetnsName(tag);
    created.push(name);
    await createNetns(name);
    return name;
  }
  after(async () => {
    for (const name of created.reverse()) await deleteNetns(name);
  });

  test('the rendered program passes nft -c and loads with nft -f', async () => {
    const ns = await netns('load');
    const program = renderRuleset(cluster(manifests()).state, render);
    const nft = nftRunner({ netns: ns });
    const check = await nft(['-c', '-f', '-'], program);
    assert.equal(check.code, 0, check.stderr);
    const load = await nft(['-f', '-'], program);
    assert.equal(load.code, 0, load.stderr);
    // Loading it again replaces it (the program is idempotent).
    assert.equal((await nft(['-f', '-'], program)).code, 0);
    const listed = await nft(['list', 'table', 'inet', 'margay']);
    assert.match(listed.stdout, /iifname vmap @egress-dispatch/);
  });

  test('a delta leaves the kernel exactly as the full program does; resync repairs drift and otherwise writes nothing', async () => {
    const a = cluster(manifests());
    const b = cluster(
      manifests()
        .replace('destination: {ports: [http, 9000]}', 'destination: {ports: [http, 9001]}')
        .replace("role == 'other'", "role != 'client'")
        .replace('ports: [7000]}', 'ports: [7000, 7001]}'),
    );
    const nsDelta = await netns('delta');
    const nsFull = await netns('full');
    const applier = new NftApplier({ netns: nsDelta, render });
    applier.onUpdate(a.state);
    assert.deepEqual(await applier.apply(), { ok: true, wrote: true });
    applier.onUpdate(b.state);
    const delta = applier.pendingText();
    assert.ok(!delta.includes('delete table'), 'a delta, not a replace');
    assert.match(delta, /element inet margay v-\S+-4/, 'the compiled map changes by elements');
    assert.deepEqual(await applier.apply(), { ok: true, wrote: true });
    assert.equal(applier.stats.writes, 2);
    assert.ok(!delta.includes('delete set') && !delta.includes('delete chain'), 'a change deletes nothing (RCU waits stay off its path)');
    // What B no longer names stays until the quiet-time collection, which deletes it in one write.
    assert.equal(applier.hasGarbage(), true);
    assert.deepEqual(await applier.collectGarbage(), { ok: true, wrote: true });
    assert.equal(applier.hasGarbage(), false);
    assert.equal(applier.stats.writes, 3);

    // Same rule ids (one node's registry), so the two tables must be identical.
    const full = new NftApplier({ netns: nsFull, render: { ...render, ruleIds: applier.ruleIds } });
    full.onUpdate(b.state);
    await full.apply();
    const list = async (ns: string) => parseReadback((await nftRunner({ netns: ns })(['-j', 'list', 'table', 'inet', 'margay'])).stdout);
    assert.deepEqual(await list(nsDelta), await list(nsFull));

    // Nothing changed: no write.
    assert.deepEqual(await applier.apply(), { ok: true, wrote: false });
    assert.deepEqual(await applier.resync(), { ok: true, drift: false });
    assert.equal(applier.stats.writes, 3);

    // Someone flushes a chain and deletes a set element behind our back.
    const nft = nftRunner({ netns: nsDelta });
    assert.equal((await nft(['flush', 'chain', 'inet', 'margay', 'fwd-ingress'])).code, 0);
    const r = await applier.resync();
    assert.equal(r.ok && r.drift, true);
    assert.equal(applier.stats.writes, 4);
    assert.deepEqual(await list(nsDelta), await list(nsFull));
    assert.deepEqual(await applier.resync(), { ok: true, drift: false });
    assert.equal(applier.stats.writes, 4);

    // The whole table deleted: rewritten.
    assert.equal((await nft(['delete', 'table', 'inet', 'margay'])).code, 0);
    const again = await applier.resync();
    assert.equal(again.ok && again.drift, true);
    assert.deepEqual(await list(nsDelta), await list(nsFull));
  });

  test('applies, resyncs and collections started together run one at a time: a resync never takes our own write for drift', async () => {
    // The agent's resync timer fires whenever it likes; before operations queued, a resync that
    // read the table while an apply wrote it threw (nothing to compare with) and killed the agent.
    const a = cluster(manifests());
    const b = cluster(manifests().replace('ports: [7000]}', 'ports: [7000, 7001]}').replace("role == 'other'", "role != 'client'"));
    const ns = await netns('queue');
    const applier = new NftApplier({ netns: ns, render });
    applier.onUpdate(a.state);
    assert.deepEqual(await applier.apply(), { ok: true, wrote: true });
    await applier.settled();
    for (let i = 0; i < 12; i++) {
      applier.onUpdate((i % 2 === 0 ? b : a).state);
      const [applied, resynced, collected] = await Promise.all([applier.apply(), applier.resync(), applier.collectGarbage()]);
      assert.deepEqual(applied, { ok: true, wrote: true }, `round ${i}: apply`);
      assert.deepEqual(resynced, { ok: true, drift: false }, `round ${i}: our own write is not drift`);
      assert.equal(collected.ok, true, `round ${i}: collection`);
    }
    assert.equal(applier.stats.repairs, 0);
    // The last round left A (and collected B's leftovers): the kernel holds what A's full program gives.
    const nsFull = await netns('queue-full');
    const full = new NftApplier({ netns: nsFull, render: { ...render, ruleIds: applier.ruleIds } });
    full.onUpdate(a.state);
    await full.apply();
    const list = async (n: string) => parseReadback((await nftRunner({ netns: n })(['-j', 'list', 'table', 'inet', 'margay'])).stdout);
    assert.deepEqual(await list(ns), await list(nsFull));
  });

  test('a restarted applier adopts the table with no write only when it is exactly what was left and what it would write', async () => {
    const a = cluster(manifests());
    const b = cluster(manifests().replace('ports: [7000]}', 'ports: [7000, 7001]}'));
    const ns = await netns('adopt');
    const first = new NftApplier({ netns: ns, render: { ...render, ruleIds: undefined } });
    const records: AdoptionRecord[] = [];
    first.onRecord = (r) => records.push(r);
    first.onUpdate(a.state);
    assert.deepEqual(await first.apply(), { ok: true, wrote: true });
    await first.settled();
    const record = records.at(-1);
    assert.ok(record, 'a record after the write was read back');
    // A JSON round trip, as the agent's state file does.
    const saved = JSON.parse(JSON.stringify(record)) as AdoptionRecord;
    const restarted = (): NftApplier => {
      const x = new NftApplier({ netns: ns, render: { ...render, ruleIds: undefined } });
      x.restore(saved);
      return x;
    };

    const same = restarted();
    same.onUpdate(a.state);
    assert.deepEqual(await same.apply(), { ok: true, wrote: false }, 'nothing changed: adopted');
    assert.equal(same.stats.writes, 0);
    assert.deepEqual(same.ruleIds.entries(), first.ruleIds.entries(), 'the same rule ids');
    assert.deepEqual(await same.resync(), { ok: true, drift: false });

    // Policy changed while no agent ran: written.
    const changed = restarted();
    changed.onUpdate(b.state);
    assert.deepEqual(await changed.apply(), { ok: true, wrote: true });
    // Back to A with the table drifted (someone flushed a chain) while it was down: written.
    const back = new NftApplier({ netns: ns, render: { ...render, ruleIds: undefined } });
    back.onUpdate(a.state);
    back.ruleIds.load(saved.ruleIds);
    await back.apply();
    assert.equal((await nftRunner({ netns: ns })(['flush', 'chain', 'inet', 'margay', 'fwd-ingress'])).code, 0);
    const drifted = restarted();
    drifted.onUpdate(a.state);
    assert.deepEqual(await drifted.apply(), { ok: true, wrote: true });
  });

  test('real TCP connections between pods get the evaluator verdicts', async () => {
    const node = await netns('node');
    const podNs: Record<string, string> = {};
    for (const name of Object.keys(PODS)) podNs[name] = await netns(name);
    await wirePods(
      node,
      Object.entries(PODS).map(([name, ip]) => ({ netns: podNs[name] as string, iface: IFACE[name] as string, ip })),
    );
    const c = cluster(manifests());
    const applier = new NftApplier({ netns: node, render });
    applier.onUpdate(c.state);
    assert.deepEqual(await applier.apply(), { ok: true, wrote: true });

    const servers = Object.keys(PODS).map((name) => serve(podNs[name] as string, PODS[name as keyof typeof PODS], [8080, 9000, 7000]));
    try {
      await Promise.all(servers.map((s) => s.ready));
      const cases: [string, string, number][] = [];
      for (const from of Object.keys(PODS)) for (const to of Object.keys(PODS)) if (from !== to) for (const port of [8080, 9000, 7000]) cases.push([from, to, port]);
      let allowed = 0;
      const results = await Promise.all(
        cases.map(async ([from, to, port]) => ({ from, to, port, ok: await connects(podNs[from] as string, PODS[to as keyof typeof PODS], port) })),
      );
      for (const { from, to, port, ok } of results) {
        const flow = flowBetween(c.entities.get(`pod:app/${from}`) as Entity, c.entities.get(`pod:app/${to}`) as Entity, { protocol: 6, port });
        assert.ok(flow);
        const expected = c.evaluator.evaluate(flow).allowed;
        assert.equal(ok, expected, `${from} → ${to}:${port}: connected=${ok}, evaluator allows=${expected}`);
        if (ok) allowed++;
      }
      assert.ok(allowed > 0 && allowed < cases.length, `both outcomes exercised (${allowed}/${cases.length})`);
      // The allowed connection carries the deciding rule's id in its ct mark (ingress: low 16 bits).
      const conntrack = existsSync('/usr/sbin/conntrack');
      if (conntrack) {
        const ct = await netnsExec(node, '/usr/sbin/conntrack', ['-L', '-p', 'tcp', '--dport', '9000', '-d', PODS.web]);
        assert.match(ct.stdout, /mark=\d+/);
      }
    } finally {
      for (const s of servers) s.stop();
    }
  });
});

function serve(ns: string, ip: string, ports: number[]): { ready: Promise<void>; stop: () => void } {
  const code = `const net=require('net');let n=0;for(const p of ${JSON.stringify(ports)}){net.createServer(s=>{s.end('ok')}).listen(p,'${ip}',()=>{if(++n===${ports.length})console.log('ready')})}`;
  const child = spawnIn(ns, code);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve();
    });
    child.on('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
  ready.catch(() => undefined);
  return { ready, stop: () => child.kill('SIGKILL') };
}

async function connects(ns: string, ip: string, port: number): Promise<boolean> {
  const code = `const s=require('net').connect(${port},'${ip}');const t=setTimeout(()=>{console.log('timeout');process.exit(0)},1500);s.on('data',d=>{console.log('connected');process.exit(0)});s.on('error',e=>{console.log('error '+e.code);process.exit(0)})`;
  const r = await netnsExec(ns, process.execPath, ['-e', code]);
  return r.stdout.includes('connected');
}


function spawnIn(ns: string, code: string): ChildProcess {
  return spawn('/usr/sbin/ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

