// Host endpoints on real traffic: a lab of two nodes with `margay agent`s, a HostEndpoint on
// node-a's uplink `fab0`, and real connections to and from node-a's own address (a host-network
// pod there runs the listener and makes the host's outgoing connections). Default deny with
// Calico's failsafe ports open, an ingress allow from one source, an egress deny to the internet;
// pods (forwarded traffic) untouched throughout. Every probe is compared with `margay simulate`.
// Needs root, iproute2 and nftables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { INTERNET_IP, labProbe, loadState, type LabState } from '../../src/lab/index.js';
import type { KubeClient } from '../../src/client/index.js';
import { findResourceTypeByKind, type JsonObject } from '../../src/api/index.js';
import { runMargay } from '../support/margay.js';
import { labApiClient, removeLab, waitForAgents as waitForLabAgents, ManifestFiles, type Matrix } from '../support/lab.js';

const NODE_A_IP = '172.18.0.11';
const NODE_B_IP = '172.18.0.12';

const CLUSTER = `
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: ${NODE_A_IP}}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: ${NODE_B_IP}}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: peer, namespace: app, labels: {app: peer}}
spec: {nodeName: node-a, containers: [{name: peer}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: app, labels: {app: client}}
spec: {nodeName: node-b, containers: [{name: client}]}
---
apiVersion: v1
kind: Pod
metadata: {name: host-a, namespace: app, labels: {app: host-a}}
spec:
  nodeName: node-a
  hostNetwork: true
  containers:
  - name: listener
    ports: [{containerPort: 22, protocol: TCP}, {containerPort: 80, protocol: TCP}, {containerPort: 81, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: host-b, namespace: app, labels: {app: host-b}}
spec: {nodeName: node-b, hostNetwork: true, containers: [{name: listener}]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-a-fab0, labels: {hep: node-a}}
spec: {node: node-a, interfaceName: fab0, expectedIPs: [${NODE_A_IP}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: internet, labels: {zone: internet}}
spec: {nets: [${INTERNET_IP}/32]}
`;

const ALLOW_IN = `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: hep-in}
spec:
  selector: hep == 'node-a'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {selector: zone == 'internet'}, destination: {ports: [80]}}
`;

const EGRESS = `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: hep-out}
spec:
  selector: hep == 'node-a'
  types: [Egress]
  egress:
  - {action: Deny, protocol: TCP, destination: {selector: zone == 'internet', ports: [81]}}
  - {action: Allow}
`;

const labDir = '/tmp/mgy-hep-lab';
const work = join(labDir + '-files');
let state: LabState | undefined;

const manifests = new ManifestFiles(work);
const addFile = (name: string, text: string): string => manifests.add(name, text);

const client = (): KubeClient => labApiClient(state);
const waitForAgents = async (revision: string | undefined): Promise<void> => {
  await waitForLabAgents(state, revision, ['node-a', 'node-b'], 15_000);
};

/** Applies a manifest to the lab and waits until both agents have applied the object it defines. */
async function applyPolicy(name: string, text: string, kind = 'GlobalNetworkPolicy'): Promise<void> {
  const r = await runMargay(['lab', 'apply', '-f', addFile(`${name}.yaml`, text), '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const type = findResourceTypeByKind('projectcalico.org/v3', kind);
  assert.ok(type);
  await waitForAgents(String(((await client().get(type, undefined, name)).metadata as JsonObject).resourceVersion));
}

/** `margay simulate` on the same manifests: is the flow allowed, and what decided each half? */
async function simulate(from: string, to: string, port: string): Promise<{ allowed: boolean; why: string }> {
  const r = await runMargay(['simulate', ...manifests.paths.flatMap((f) => ['-f', f]), '--from', from, '--to', to, '--port', port, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { allowed: boolean; egress: { decidedBy: unknown }; ingress: { decidedBy: unknown } };
  return { allowed: v.allowed, why: JSON.stringify({ egress: v.egress.decidedBy, ingress: v.ingress.decidedBy }) };
}

/** A real connection (from `internet` or a pod, to a pod or an address) must be `expected`, as simulate says. */
async function expectFlow(from: string, to: string, port: number, expected: boolean, what: string): Promise<string> {
  const out = await labProbe({ dir: labDir, from, to, port, protocol: 'TCP', timeoutMs: 800 });
  const sim = await simulate(from === 'internet' ? INTERNET_IP : from, to, `${port}/TCP`);
  assert.equal(out.ok, expected, `${what}: ${from} → ${to}:${port}/TCP probed ${out.ok} (${out.detail})`);
  assert.equal(sim.allowed, expected, `${what}: simulate says ${sim.allowed} for ${from} → ${to}:${port}/TCP: ${sim.why}`);
  return sim.why;
}

async function matrix(port: string): Promise<{ real: Matrix; sim: Matrix }> {
  const [probe, sim] = await Promise.all([
    runMargay(['lab', 'probe', '--matrix', '--port', port, '--timeout-ms', '800', '-o', 'json', '--lab-dir', labDir]),
    runMargay(['simulate', ...manifests.paths.flatMap((f) => ['-f', f]), '--matrix', '--port', port, '-o', 'json']),
  ]);
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(sim.code, 0, sim.stderr);
  return { real: JSON.parse(probe.stdout) as Matrix, sim: JSON.parse(sim.stdout) as Matrix };
}

/** Pod-to-pod traffic (forwarded, or within node-a) never meets the host endpoint. */
async function assertPodsUnaffected(what: string): Promise<void> {
  for (const port of ['80/TCP', '81/TCP']) {
    const { real, sim } = await matrix(port);
    assert.deepEqual(real, sim, `${what} ${port}: the lab matrix equals simulate`);
    for (const [a, b] of [['app/web', 'app/peer'], ['app/peer', 'app/web'], ['app/web', 'app/client'], ['app/client', 'app/web'], ['app/client', 'app/peer']]) {
      assert.equal(real[a as string]?.[b as string], true, `${what} ${port}: ${a} → ${b} stays open`);
    }
    // The host and its own pods talk past the host endpoint.
    assert.equal(real['app/web']?.['app/host-a'], true, `${what} ${port}: a pod reaches its own node`);
    assert.equal(real['app/host-a']?.['app/web'], true, `${what} ${port}: the node reaches its own pod`);
  }
}

before(async () => {
  await removeLab(labDir, loadState(labDir)); // a leftover of an interrupted run of this suite
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const r = await runMargay(['lab', 'up', '-f', addFile('cluster.yaml', CLUSTER), '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /agents ready on 2 nodes/);
  state = loadState(labDir);
  assert.ok(state);
  assert.deepEqual(
    state.nodes.map((n) => [n.name, n.ip]),
    [['node-a', NODE_A_IP], ['node-b', NODE_B_IP]],
  );
  await waitForAgents(undefined);
});

after(async () => {
  await runMargay(['lab', 'down', '--lab-dir', labDir]);
  await removeLab(labDir, state);
  rmSync(work, { recursive: true, force: true });
  if (existsSync(labDir)) rmSync(labDir, { recursive: true, force: true });
});

test('the host endpoint is programmed on fab0 of node-a only, from the input and output hooks', async () => {
  assert.ok(state);
  const list = (node: string) => execFileSync('ip', ['netns', 'exec', state?.nodes.find((n) => n.name === node)?.netns ?? '', 'nft', 'list', 'table', 'inet', 'margay'], { encoding: 'utf8' });
  const a = list('node-a');
  assert.match(a, /map host-ingress-dispatch \{[^}]*"fab0" : goto e-/);
  assert.match(a, /chain in-host \{\s*type filter hook input priority filter; policy accept;/);
  assert.match(a, /tcp dport \{ 22, 179, 2379-2380, 5473, 6443, 6666-6667 \} ct mark set/);
  assert.doesNotMatch(list('node-b'), /"fab0"/, 'node-b has no host endpoint');
});

test('no policy: the host endpoint denies all but the failsafe ports, both ways', async () => {
  const why = await expectFlow('internet', NODE_A_IP, 80, false, 'default deny');
  assert.match(why, /no policy selects the endpoint/);
  await expectFlow('app/client', NODE_A_IP, 80, false, 'default deny from another node\'s pod');
  assert.match(await expectFlow('internet', NODE_A_IP, 22, true, 'failsafe inbound SSH'), /failsafe/);
  await expectFlow('app/client', NODE_A_IP, 22, true, 'failsafe inbound SSH from a pod');
  await expectFlow('app/host-a', INTERNET_IP, 80, false, 'host egress denied by default');
  // node-b has no host endpoint: its host is open, and so is its own traffic to node-a's failsafe.
  await expectFlow('internet', NODE_B_IP, 80, true, 'node-b without a host endpoint');
  await expectFlow('app/host-b', NODE_A_IP, 80, false, 'another node\'s host');
  await expectFlow('app/host-b', NODE_A_IP, 22, true, 'another node\'s host, failsafe');
  await assertPodsUnaffected('no policy');
});

test('an ingress allow opens port 80 from the chosen source only', async () => {
  await applyPolicy('hep-in', ALLOW_IN);
  assert.match(await expectFlow('internet', NODE_A_IP, 80, true, 'allowed source and port'), /hep-in/);
  await expectFlow('internet', NODE_A_IP, 81, false, 'another port');
  await expectFlow('app/client', NODE_A_IP, 80, false, 'another source');
  await expectFlow('internet', NODE_A_IP, 22, true, 'failsafe still open');
  await expectFlow('app/host-a', NODE_B_IP, 80, false, 'host egress still default deny (the policy is Ingress only)');
  await assertPodsUnaffected('ingress allow');
});

test('an egress policy on the host endpoint blocks the host reaching the internet on one port', async () => {
  await applyPolicy('hep-out', EGRESS);
  await expectFlow('app/host-a', INTERNET_IP, 81, false, 'denied egress port');
  await expectFlow('app/host-a', INTERNET_IP, 80, true, 'other egress allowed');
  await expectFlow('app/host-a', 'app/client', 80, true, 'host to a pod on another node');
  await expectFlow('app/host-a', NODE_B_IP, 80, true, 'host to another host');
  await assertPodsUnaffected('egress policy');
});

test('an all-interfaces host endpoint on node-b catches fab0 but not its pods', async () => {
  const hep = `
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-b-all, labels: {hep: node-b}}
spec: {node: node-b, interfaceName: "*"}
`;
  await applyPolicy('node-b-all', hep, 'HostEndpoint');
  await expectFlow('internet', NODE_B_IP, 80, false, 'node-b default deny through the catch-all');
  await expectFlow('app/host-a', NODE_B_IP, 80, false, 'another host through the catch-all');
  await expectFlow('app/client', NODE_B_IP, 80, true, 'a pod to its own node');
  await expectFlow('app/host-b', 'app/client', 80, true, 'the node to its own pod');
  await expectFlow('app/host-b', INTERNET_IP, 80, false, 'node-b egress default deny');
  await assertPodsUnaffected('all-interfaces host endpoint on node-b');
});

test('a host endpoint with expectedIPs and no interfaceName governs the interface holding that address', async () => {
  // Replace node-b's catch-all with one that names only the node's address: the agent finds
  // fab0 by that address (`ip -j addr` in the node's namespace), as Calico does.
  const r = await runMargay(['lab', 'delete', 'hostendpoint/node-b-all', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  manifests.paths.splice(manifests.paths.indexOf(join(work, 'node-b-all.yaml')), 1); // and out of what simulate reads
  await expectFlow('internet', NODE_B_IP, 80, true, 'node-b open again without a host endpoint');
  const hep = `
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-b-by-ip, labels: {hep: node-b}}
spec: {node: node-b, expectedIPs: [${NODE_B_IP}]}
`;
  await applyPolicy('node-b-by-ip', hep, 'HostEndpoint');
  await expectFlow('internet', NODE_B_IP, 80, false, 'node-b default deny through the address-found interface');
  await expectFlow('app/host-b', INTERNET_IP, 80, false, 'node-b egress default deny');
  await expectFlow('app/client', NODE_B_IP, 80, true, 'a pod to its own node');
  await assertPodsUnaffected('expectedIPs-only host endpoint on node-b');
});
