// The lab's layout without the kernel: nodes, placement, addresses and names from manifests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeManifests } from '../resources/index.js';
import { BlockIpam } from '../ipam/index.js';
import { ipv6Twin, placePods, planLab } from './topology.js';

const decode = (text: string) => decodeManifests(text, 'lab.yaml');

test('nodes come from Node manifests, then pods, then --nodes; pods without a node go round-robin', () => {
  const layout = planLab('ab12', decode(`
apiVersion: v1
kind: Node
metadata: {name: n-a}
status: {addresses: [{type: InternalIP, address: 192.168.7.4}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: x}
spec: {nodeName: n-b, containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 9, protocol: SCTP}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: x}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p3, namespace: x}
spec: {containers: [{name: c}]}
`), 3);
  assert.deepEqual(layout.nodes.map((n) => [n.name, n.ip, n.netns]), [
    ['n-a', '192.168.7.4', 'mgy-ab12-n1'],
    ['n-b', '172.18.0.11', 'mgy-ab12-n2'],
    ['lab-node-1', '172.18.0.12', 'mgy-ab12-n3'],
  ]);
  assert.deepEqual(layout.pods.map((p) => [p.key, p.node, p.ip, p.netns, p.hostInterface]), [
    ['x/p1', 'n-b', '10.244.0.0', 'mgy-ab12-p1', 'mgp1'],
    ['x/p2', 'n-a', '10.244.0.64', 'mgy-ab12-p2', 'mgp2'],
    ['x/p3', 'n-b', '10.244.0.1', 'mgy-ab12-p3', 'mgp3'],
  ]);
  assert.deepEqual([layout.pods[0]?.tcp, layout.pods[0]?.udp, layout.pods[0]?.sctp], [[], [53], [9]]);
  assert.deepEqual([layout.pods[1]?.tcp, layout.pods[1]?.udp], [[80, 81], [80, 81]], 'no declared ports: 80 and 81');
  assert.ok(layout.notes.some((n) => /SCTP/.test(n)));
  for (const p of layout.pods) assert.ok((p.hostInterface ?? '').length <= 15);
});

test('IPPools and stated addresses: a stated address is never handed out again; clashes are errors', () => {
  const docs = decode(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: small}
spec: {cidr: 10.50.0.0/24, blockSize: 30}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec: {nodeName: n1, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.50.0.0}
`);
  const layout = planLab('cd34', docs, undefined);
  assert.deepEqual(layout.nodes.map((n) => n.name), ['n1']);
  assert.deepEqual(layout.pods.map((p) => [p.key, p.ip, p.stated]), [['x/a', '10.50.0.1', false], ['x/b', '10.50.0.0', true]]);
  const ipam = new BlockIpam(layout.pools, layout.blocks);
  const again = placePods('cd34', decode(`
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x}
spec: {containers: [{name: c}]}
status: {podIP: 10.50.0.1}
`), layout.nodes, ipam, layout.pods, 2);
  assert.equal(again.pods.length, 0);
  assert.match(again.problems[0]?.message ?? '', /already used by pod x\/a/);
});

test('an IPv6 IPPool is noted, not an error: IPv4 comes from the IPv4 pool, IPv6 from podIPs or the twin', () => {
  const layout = planLab('ef56', decode(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.60.0.0/24, blockSize: 28}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:beef::/112", blockSize: 122}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec: {nodeName: n1, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIPs: [{ip: "fd00:beef::7"}]}
`), undefined);
  assert.deepEqual(layout.pools.map((p) => p.name), ['v4']);
  assert.ok(layout.notes.some((n) => n.startsWith('IPPool v6 (fd00:beef::/112): the lab') && n.includes('fd00:6d67::/96')), layout.notes.join('\n'));
  const a = layout.pods.find((p) => p.key === 'x/a');
  assert.deepEqual(layout.pods.map((p) => [p.key, p.ip.startsWith('10.60.0.'), p.ip6]), [['x/a', true, ipv6Twin(a?.ip ?? '')], ['x/b', true, 'fd00:beef::7']]);
});
