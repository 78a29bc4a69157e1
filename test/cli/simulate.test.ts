// `margay simulate` end to end through the real command: output shapes are contracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMargay, tempFiles } from '../support/margay.js';

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.10}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: shop, labels: {app: cache}}
spec: {containers: [{name: c}]}
`;
const POLICY = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
`;

test('--matrix -o json prints exactly {"ns/pod": {"ns/pod": bool}} for every ordered pair', async () => {
  const f = tempFiles({ 'cluster.yaml': CLUSTER, 'policy.yaml': POLICY });
  try {
    const r = await runMargay(['simulate', '-f', f.path('cluster.yaml'), '-f', f.path('policy.yaml'), '--matrix', '--port', '5432/TCP', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as Record<string, Record<string, boolean>>;
    const pods = ['shop/web', 'shop/db', 'shop/cache'];
    assert.deepEqual(Object.keys(m).sort(), [...pods].sort());
    for (const from of pods) assert.deepEqual(Object.keys(m[from] ?? {}).sort(), [...pods].sort());
    assert.equal(m['shop/web']?.['shop/db'], true);
    assert.equal(m['shop/cache']?.['shop/db'], false);
    assert.equal(m['shop/db']?.['shop/db'], true, 'a pod reaches itself');
    assert.equal(m['shop/db']?.['shop/web'], true);
  } finally {
    f.cleanup();
  }
});

test('--from/--to -o json carries the verdict and the deciding rule', async () => {
  const f = tempFiles({ 'all.yaml': `${CLUSTER}\n---\n${POLICY}` });
  try {
    const r = await runMargay(['simulate', '-f', f.path('all.yaml'), '--from', 'shop/cache', '--to', 'shop/db', '--port', '5432', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { allowed: boolean; ingress: { decidedBy: { kind: string; tier: string } }; staged: { allowed: boolean } };
    assert.equal(v.allowed, false);
    assert.deepEqual(v.ingress.decidedBy, { kind: 'end-of-tier', tier: 'default', action: 'Deny' });
    assert.equal(v.staged.allowed, false);
  } finally {
    f.cleanup();
  }
});

test('text output names the verdict, the tier and the policy', async () => {
  const f = tempFiles({ 'all.yaml': `${CLUSTER}\n---\n${POLICY}` });
  try {
    const r = await runMargay(['simulate', '-f', f.path('all.yaml'), '--from', 'shop/web', '--to', 'shop/db', '--port', '5432/TCP']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOWED {2}shop\/web -> shop\/db {2}5432\/TCP/);
    assert.match(r.stdout, /Allow by rule 0 of shop\/knp\.default\.db in tier default/);
    assert.match(r.stderr, /note: pod shop\/cache has no status\.podIP; assigned /);
  } finally {
    f.cleanup();
  }
});

test('manifests can come from stdin and from a directory', async () => {
  const f = tempFiles({ 'a.yaml': CLUSTER, 'b.yml': POLICY, 'ignored.txt': 'not yaml: [' });
  try {
    const fromDir = await runMargay(['simulate', '-f', f.dir, '--matrix', '--port', '5432', '-o', 'json']);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    const fromStdin = await runMargay(['simulate', '-f', '-', '--matrix', '--port', '5432', '-o', 'json'], `${CLUSTER}\n---\n${POLICY}`);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.deepEqual(JSON.parse(fromStdin.stdout), JSON.parse(fromDir.stdout));
  } finally {
    f.cleanup();
  }
});

test('an address outside the cluster can be a destination', async () => {
  const f = tempFiles({ 'all.yaml': CLUSTER });
  try {
    const r = await runMargay(['simulate', '-f', f.path('all.yaml'), '--from', 'shop/web', '--to', '8.8.8.8', '--port', '53/UDP', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { allowed: boolean; destinationIP: string; ingress: { decidedBy: { kind: string } } };
    assert.equal(v.allowed, true);
    assert.equal(v.destinationIP, '8.8.8.8');
    assert.equal(v.ingress.decidedBy.kind, 'not-enforced');
  } finally {
    f.cleanup();
  }
});

test('objects of kinds simulate does not use are passed over with a note, not an error', async () => {
  const extra = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
`;
  const f = tempFiles({ 'all.yaml': `${CLUSTER}\n---\n${extra}` });
  try {
    const r = await runMargay(['simulate', '-f', f.path('all.yaml'), '--matrix', '--port', '80']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /note: ignoring apps\/v1 Deployment web in .*all\.yaml \(document 5\)/);
    assert.match(r.stderr, /note: ignoring v1 Service web/);
  } finally {
    f.cleanup();
  }
});
