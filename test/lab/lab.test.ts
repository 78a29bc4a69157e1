// A real lab: two nodes, two namespaces, four pods (one with a stated address, one host-network),
// built from manifests with `margay lab up`, probed for real, then removed with `margay lab down`.
// Nothing enforces policy yet, so every open port answers; closed ports must not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp, listLabNamespaces, loadState, type LabPod, type LabState } from '../../src/lab/index.js';
import { runMargay } from '../support/margay.js';
import { isAlive, removeLab } from '../support/lab.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec:
  nodeName: node-b
  containers: [{name: api, ports: [{containerPort: 80}, {containerPort: 81, protocol: UDP}]}]
status: {podIP: 10.244.200.7}
---
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec:
  nodeName: node-a
  containers: [{name: pg, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: metrics, namespace: db, labels: {app: metrics}}
spec: {nodeName: node-b, hostNetwork: true, containers: [{name: m}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: db}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;



const PODS = ['shop/web', 'shop/api', 'db/pg', 'db/metrics'];
const work = mkdtempSync(join(tmpdir(), 'margay-lab-'));
const labDir = join(work, 'lab');
const manifest = join(work, 'lab.yaml');
let state: LabState | undefined;
/** Pids of every process the lab recorded, for the leak check after `down`. */
let pids: number[] = [];

before(async () => {
  writeFileSync(manifest, MANIFESTS);
  const r = await runMargay(['lab', 'up', '-f', manifest, '--nodes', '2', '--no-agent', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /no agent: policies are not enforced yet/);
  state = loadState(labDir);
  assert.ok(state, 'lab up wrote its state');
  pids = state.processes.map((p) => p.pid);
});

after(async () => {
  await removeLab(labDir, state);
  rmSync(work, { recursive: true, force: true });
});

test('lab up lays out nodes, namespaces and addresses as asked', () => {
  assert.ok(state);
  assert.deepEqual(state.nodes.map((n) => n.name), ['node-a', 'node-b']);
  const pod = (key: string) => state?.pods.find((p) => p.key === key);
  assert.equal(pod('shop/api')?.ip, '10.244.200.7', 'a stated status.podIP is kept');
  assert.equal(pod('db/metrics')?.ip, state.nodes[1]?.ip, 'a host-network pod has its node address');
  assert.equal(pod('db/metrics')?.netns, state.nodes[1]?.netns, 'and lives in its node namespace');
  const nodeA = state.blocks.filter((b) => b.affinity === 'node-a').map((b) => b.cidr);
  assert.deepEqual(nodeA, ['10.244.0.0/26'], 'node-a claimed one block');
  for (const key of ['shop/web', 'db/pg']) assert.ok(pod(key)?.ip.startsWith('10.244.0.'), `${key} got an address from node-a's block`);
  for (const ns of state.namespaces) assert.match(ns, new RegExp(`^mgy-${state.id}-`));
});

test('the pods are registered in the API with node and address, and the policy is applied', async () => {
  assert.ok(state?.kubeconfig);
  const pods = await runMargay(['get', 'pods', '-A', '-o', 'json', '--kubeconfig', state.kubeconfig]);
  assert.equal(pods.code, 0, pods.stderr);
  const items = (JSON.parse(pods.stdout) as { items: { metadata: { namespace: string; name: string }; spec: { nodeName?: string }; status: { podIP?: string } }[] }).items;
  const byKey = new Map(items.map((i) => [`${i.metadata.namespace}/${i.metadata.name}`, i]));
  for (const key of PODS) {
    const mine: LabPod | undefined = state.pods.find((p) => p.key === key);
    assert.equal(byKey.get(key)?.status.podIP, mine?.ip, `${key} podIP`);
    assert.equal(byKey.get(key)?.spec.nodeName, mine?.node, `${key} nodeName`);
  }
  const nps = await runMargay(['get', 'networkpolicies', '-n', 'db', '-o', 'name', '--kubeconfig', state.kubeconfig]);
  assert.match(nps.stdout, /deny-all/);
});

test('probe --matrix on 80/TCP and 81/UDP: everything open answers, closed ports do not', async () => {
  const tcp = await runMargay(['lab', 'probe', '--matrix', '--port', '80/TCP', '-o', 'json', '--lab-dir', labDir]);
  const udp = await runMargay(['lab', 'probe', '--matrix', '--port', '81/UDP', '-o', 'json', '--lab-dir', labDir]);
  assert.equal(tcp.code, 0, tcp.stderr);
  assert.equal(udp.code, 0, udp.stderr);
  // db/pg serves only 5432/TCP: its 80/TCP and 81/UDP are closed. Everyone else answers.
  const expected = Object.fromEntries(PODS.map((from) => [from, Object.fromEntries(PODS.map((to) => [to, to !== 'db/pg']))]));
  assert.deepEqual(JSON.parse(tcp.stdout), expected);
  assert.deepEqual(JSON.parse(udp.stdout), expected);
  // The same shape as simulate --matrix, so the two compare directly (simulate applies deny-all).
  const sim = await runMargay(['simulate', '-f', manifest, '--matrix', '--port', '80/TCP', '-o', 'json']);
  assert.equal(sim.code, 0, sim.stderr);
  const simulated = JSON.parse(sim.stdout) as Record<string, Record<string, boolean>>;
  assert.deepEqual(Object.keys(simulated), PODS);
  for (const row of Object.values(simulated)) assert.deepEqual(Object.keys(row), PODS);
});

test('single probes: a pod to the internet, a closed port, and SCTP as an error', async () => {
  const inet = await runMargay(['lab', 'probe', '--from', 'shop/web', '--to', '203.0.113.1', '--port', '80/TCP', '-o', 'json', '--lab-dir', labDir]);
  assert.equal(inet.code, 0, inet.stderr);
  assert.equal((JSON.parse(inet.stdout) as { ok: boolean }).ok, true);
  const closed = await runMargay(['lab', 'probe', '--from', 'db/metrics', '--to', 'shop/api', '--port', '81/TCP', '-o', 'json', '--lab-dir', labDir]);
  assert.deepEqual((({ ok, detail }) => ({ ok, detail }))(JSON.parse(closed.stdout) as { ok: boolean; detail: string }), { ok: false, detail: 'refused' });
  const sctp = await runMargay(['lab', 'probe', '--matrix', '--port', '80/SCTP', '--lab-dir', labDir]);
  assert.equal(sctp.code, 2);
  assert.match(sctp.stderr, /cannot probe SCTP/);
});

test('lab apply of a running pod changes its labels in the API, not its address', async () => {
  assert.ok(state?.kubeconfig);
  const file = join(work, 'relabel.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web, tier: front}}\nspec: {containers: [{name: web}]}\n');
  const r = await runMargay(['lab', 'apply', '-f', file, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const got = await runMargay(['get', 'pod', 'web', '-n', 'shop', '-o', 'json', '--kubeconfig', state.kubeconfig]);
  const pod = JSON.parse(got.stdout) as { metadata: { labels: Record<string, string> }; spec: { nodeName: string }; status: { podIP: string } };
  assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'front' });
  const before = state.pods.find((p) => p.key === 'shop/web');
  assert.equal(pod.spec.nodeName, before?.node);
  assert.equal(pod.status.podIP, before?.ip);
  assert.deepEqual(loadState(labDir)?.pods.find((p) => p.key === 'shop/web'), before);
  // The pod's namespace keeps the labels its manifest gave it (the lab once re-applied a bare
  // Namespace here, which took them back).
  const ns = await runMargay(['get', 'namespace', 'shop', '-o', 'json', '--kubeconfig', state.kubeconfig]);
  assert.equal((JSON.parse(ns.stdout) as { metadata: { labels: Record<string, string> } }).metadata.labels.team, 'shop');
});

test('lab delete: a pod leaves the API, the kernel and IPAM; its address is handed out again', async () => {
  assert.ok(state?.kubeconfig);
  const add = join(work, 'extra.yaml');
  writeFileSync(add, 'apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: shop, labels: {app: extra}}\nspec: {nodeName: node-a, containers: [{name: x}]}\n');
  assert.equal((await runMargay(['lab', 'apply', '-f', add, '--lab-dir', labDir])).code, 0);
  const extra = loadState(labDir)?.pods.find((p) => p.key === 'shop/extra');
  assert.ok(extra?.hostInterface);
  const reach = await runMargay(['lab', 'probe', '--from', 'shop/api', '--to', 'shop/extra', '--port', '80/TCP', '-o', 'json', '--lab-dir', labDir]);
  assert.equal((JSON.parse(reach.stdout) as { ok: boolean }).ok, true, reach.stdout + reach.stderr);

  const del = await runMargay(['lab', 'delete', 'pod/extra', '-n', 'shop', '--lab-dir', labDir]);
  assert.equal(del.code, 0, del.stderr + del.stdout);
  assert.match(del.stdout, new RegExp(`pod shop/extra: ${extra.netns} removed, ${extra.ip.replace(/\./g, '\\.')} released`));
  const after = loadState(labDir);
  assert.equal(after?.pods.some((p) => p.key === 'shop/extra'), false);
  assert.ok(!(await listLabNamespaces()).includes(extra.netns), 'the pod namespace is gone');
  const get = await runMargay(['get', 'pod', 'extra', '-n', 'shop', '--kubeconfig', state.kubeconfig]);
  assert.notEqual(get.code, 0);
  assert.match(get.stderr, /not found/i);
  // Deleting it again is an error unless told to ignore it, as with kubectl.
  const again = await runMargay(['lab', 'delete', 'pod/extra', '-n', 'shop', '--lab-dir', labDir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not found/);
  assert.equal((await runMargay(['lab', 'delete', 'pod/extra', '-n', 'shop', '--ignore-not-found', '--lab-dir', labDir])).code, 0);

  // The freed address goes to the next pod on that node (IPAM hands out the lowest free one).
  const next = join(work, 'next.yaml');
  writeFileSync(next, 'apiVersion: v1\nkind: Pod\nmetadata: {name: next, namespace: shop}\nspec: {nodeName: node-a, containers: [{name: x}]}\n');
  assert.equal((await runMargay(['lab', 'apply', '-f', next, '--lab-dir', labDir])).code, 0);
  assert.equal(loadState(labDir)?.pods.find((p) => p.key === 'shop/next')?.ip, extra.ip);
  assert.equal((await runMargay(['lab', 'delete', '-f', next, '--lab-dir', labDir])).code, 0);
});

test('concurrent lab applies and deletes never hand out an address twice or lose a pod', async () => {
  const batch = (tag: string) => {
    const file = join(work, `concurrent-${tag}.yaml`);
    writeFileSync(file, [0, 1, 2].map((i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: c${tag}${i}, namespace: shop}\nspec: {nodeName: node-a, containers: [{name: x}]}\n`).join('---\n'));
    return file;
  };
  const files = ['a', 'b', 'c'].map(batch);
  const results = await Promise.all(files.map((f) => runMargay(['lab', 'apply', '-f', f, '--lab-dir', labDir])));
  for (const r of results) assert.equal(r.code, 0, r.stderr + r.stdout);
  const after = loadState(labDir);
  const added = after?.pods.filter((p) => /^shop\/c[abc]\d$/.test(p.key)) ?? [];
  assert.equal(added.length, 9, 'every pod of every apply is in the state');
  const ips = after?.pods.filter((p) => !p.hostNetwork).map((p) => p.ip) ?? [];
  assert.equal(new Set(ips).size, ips.length, `no address twice: ${ips.join(' ')}`);
  const namespaces = new Set(await listLabNamespaces());
  for (const p of added) assert.ok(namespaces.has(p.netns), `${p.key} has its namespace`);
  // And all of them go again, concurrently.
  const gone = await Promise.all(files.map((f) => runMargay(['lab', 'delete', '-f', f, '--lab-dir', labDir])));
  for (const r of gone) assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(loadState(labDir)?.pods.filter((p) => /^shop\/c[abc]\d$/.test(p.key)), []);
});

test('a node agent hook runs per node with its namespace and goes with its lab', async () => {
  assert.ok(state?.kubeconfig);
  const dir = join(work, 'agent-lab');
  const extra = await labUp(
    {
      dir,
      decoded: [],
      objects: [],
      nodes: 1,
      kubeconfig: state.kubeconfig,
      agent: (ctx) => [process.execPath, '-e', `if (process.env.MARGAY_LAB_NETNS !== ${JSON.stringify(ctx.netns)}) process.exit(3); setInterval(() => {}, 1000)`],
    },
    () => undefined,
  );
  try {
    const agents = extra.processes.filter((p) => p.role === 'agent');
    assert.equal(agents.length, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(isAlive(agents[0]?.pid ?? 0), 'the agent runs (and saw its MARGAY_LAB_NETNS)');
    assert.equal(extra.agent, true);
  } finally {
    const report = await labDown({ dir }, () => undefined);
    assert.equal(report.id, extra.id);
  }
  for (const p of extra.processes) assert.equal(isAlive(p.pid), false, `pid ${p.pid} (${p.role}) is gone`);
  assert.deepEqual((await listLabNamespaces()).filter((n) => n.startsWith(`mgy-${extra.id}-`)), []);
});

test('a lab up that fails part way removes what it made', async () => {
  const dir = join(work, 'failing-lab');
  const kubeconfig = join(work, 'dead-kubeconfig');
  // A cluster nobody listens on: registration fails after the namespaces exist.
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
  const before = new Set(await listLabNamespaces());
  await assert.rejects(labUp({ dir, decoded: [], objects: [], nodes: 1, kubeconfig }, () => undefined), /cannot reach the API server/);
  assert.equal(loadState(dir), undefined, 'no state is left');
  assert.deepEqual((await listLabNamespaces()).filter((n) => !before.has(n)), [], 'no namespace is left');
});

test('lab down removes every namespace, process and file, including strays left by a crash', async () => {
  assert.ok(state);
  // What a crash could leave: a namespace not yet in the state, a process nobody recorded.
  const stray = `mgy-${state.id}-stray`;
  execFileSync('ip', ['netns', 'add', stray]);
  const podNs = state.pods.find((p) => p.key === 'shop/web')?.netns ?? '';
  const orphan = spawn('ip', ['netns', 'exec', podNs, 'sleep', '300'], { detached: true, stdio: 'ignore' });
  orphan.unref();
  await new Promise((r) => setTimeout(r, 100));
  const r = await runMargay(['lab', 'down', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr);
  const left = (await listLabNamespaces()).filter((n) => n.startsWith(`mgy-${state?.id}-`));
  assert.deepEqual(left, []);
  await new Promise((res) => setTimeout(res, 100));
  for (const pid of [...pids, orphan.pid ?? 0]) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
  assert.equal(existsSync(labDir), false, 'the lab dir is gone');
  const again = await runMargay(['lab', 'down', '--lab-dir', labDir]);
  assert.equal(again.code, 0, 'down twice is fine');
});

