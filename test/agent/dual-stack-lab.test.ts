// IPv6 on real traffic: the lab is dual-stack (each pod has an IPv4 and an IPv6 address, routed
// as Calico does: /128 per pod, a link-local gateway on the node's side of the veth), and the
// agents render both families from the same policies. The IPv6 matrix probed in the lab must
// equal `margay simulate --matrix --ip-family 6` on the same manifests, for pod selectors,
// namespace selectors and IPv6 ipBlocks, and IPv4-only rules must not open IPv6.
// Needs root, iproute2 and nftables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, type LabState } from '../../src/lab/index.js';
import { runMargay } from '../support/margay.js';
import { removeLab } from '../support/lab.js';

// Every pod states both addresses so simulate knows them too (the lab would otherwise give each
// pod the IPv6 twin of its IPv4 address, fd00:6d67::<v4 bits>).
const pod = (ns: string, name: string, node: string, app: string, v4: string, v6: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${app}}}
spec: {nodeName: ${node}, containers: [{name: ${name}}]}
status: {podIP: ${v4}, podIPs: [{ip: ${v4}}, {ip: "${v6}"}]}
`;

const MANIFESTS = [
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n',
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: db, labels: {team: db}}\n',
  pod('shop', 'web', 'node-a', 'web', '10.244.1.10', 'fd00:6d67::af4:10a'),
  pod('shop', 'api', 'node-b', 'api', '10.244.2.10', 'fd00:6d67::af4:20a'),
  pod('db', 'pg', 'node-a', 'pg', '10.244.1.20', 'fd00:beef::20'),
  pod('db', 'cache', 'node-b', 'cache', '10.244.2.20', 'fd00:beef::21'),
].join('---\n');

const POLICIES = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: db}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 80, protocol: TCP}]
  - from: [{ipBlock: {cidr: "fd00:6d67::/96"}}]
    ports: [{port: 81, protocol: TCP}, {port: 81, protocol: UDP}]
  - from: [{ipBlock: {cidr: 10.244.0.0/16}}]
    ports: [{port: 80, protocol: UDP}]
  egress:
  - to: [{ipBlock: {cidr: "fd00:beef::/64"}}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
`;

const work = mkdtempSync(join(tmpdir(), 'margay-dual-'));
const labDir = join(work, 'lab');
const app = join(work, 'app.yaml');
const policies = join(work, 'policies.yaml');
let state: LabState | undefined;

type Matrix = Record<string, Record<string, boolean>>;

async function probe(port: string, family: 4 | 6): Promise<Matrix> {
  const r = await runMargay(['lab', 'probe', '--matrix', '--port', port, '--ip-family', String(family), '-o', 'json', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Matrix;
}

async function simulate(files: string[], port: string, family: 4 | 6): Promise<Matrix> {
  const r = await runMargay(['simulate', ...files.flatMap((f) => ['-f', f]), '--matrix', '--port', port, '--ip-family', String(family), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Matrix;
}

before(async () => {
  writeFileSync(app, MANIFESTS);
  writeFileSync(policies, POLICIES);
  const r = await runMargay(['lab', 'up', '-f', app, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /agents ready on 2 nodes/);
  state = loadState(labDir);
});

after(async () => {
  await removeLab(labDir, state);
  rmSync(work, { recursive: true, force: true });
});

test('every pod has the IPv6 address it states, and with no policy every pod reaches every other over IPv6', async () => {
  assert.deepEqual(state?.pods.map((p) => [p.key, p.ip6]), [
    ['shop/web', 'fd00:6d67::af4:10a'],
    ['shop/api', 'fd00:6d67::af4:20a'],
    ['db/pg', 'fd00:beef::20'],
    ['db/cache', 'fd00:beef::21'],
  ]);
  for (const port of ['80/TCP', '81/UDP']) {
    const real = await probe(port, 6);
    for (const row of Object.values(real)) assert.ok(Object.values(row).every(Boolean), `${port}: ${JSON.stringify(real)}`);
  }
});

test('policies decide IPv6 as simulate does, and IPv4-only rules do not open IPv6', async () => {
  const r = await runMargay(['lab', 'apply', '-f', policies, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /enforced: every agent applied/);
  for (const port of ['80/TCP', '81/TCP', '80/UDP', '81/UDP']) {
    for (const family of [4, 6] as const) {
      const [real, sim] = await Promise.all([probe(port, family), simulate([app, policies], port, family)]);
      assert.deepEqual(real, sim, `IPv${family} ${port}: lab equals simulate`);
    }
  }
  // The 80/UDP rule names an IPv4 block: over IPv6, nothing from shop reaches db on 80/UDP.
  const udp6 = await probe('80/UDP', 6);
  assert.equal(udp6['shop/web']?.['db/pg'], false);
  const udp4 = await probe('80/UDP', 4);
  assert.equal(udp4['shop/web']?.['db/pg'], true);
});

test('egress to the lab internet: IPv4 allowed by 0.0.0.0/0, IPv6 denied (no IPv6 block covers it)', async () => {
  const go = async (to: string) => {
    const r = await runMargay(['lab', 'probe', '--from', 'db/pg', '--to', to, '--port', '80/TCP', '--timeout-ms', '800', '-o', 'json', '--lab-dir', labDir]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { ok: boolean }).ok;
  };
  assert.equal(await go('203.0.113.1'), true);
  assert.equal(await go('fd00:6d67::cb00:7101'), false);
  // Not enforced on shop (no policy there): shop reaches the internet over IPv6.
  const r = await runMargay(['lab', 'probe', '--from', 'shop/web', '--to', 'fd00:6d67::cb00:7101', '--port', '80/TCP', '-o', 'json', '--lab-dir', labDir]);
  assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, true);
});
