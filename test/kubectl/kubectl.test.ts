// End to end: `bin/margay up` as a child process, driven by the real kubectl (1.32) and by
// `margay apply|get|diff|delete`, through the kubeconfig the server writes.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MARGAY, runMargay, startMargayUp, type MargayServer } from '../support/margay.js';

const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(cmd, args, { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      done({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

type Server = MargayServer;

/** `margay up` on a data dir; the kubeconfig must exist before the server reports ready. */
async function startServer(dataDir: string): Promise<Server> {
  const server = await startMargayUp(['--data-dir', dataDir]);
  assert.ok(existsSync(join(dataDir, 'kubeconfig')));
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  return server;
}

async function stopServer(s: Server): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all
spec:
  selector: all()
  order: 100
  types: [Ingress]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: shop
spec:
  selector: app == "web"
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - podSelector: {}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
`;

describe('kubectl against margay up', { timeout: 180_000 }, () => {
  let dir: string;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  const kubectl = (...args: string[]): Promise<Run> => run(KUBECTL, args, env);
  const margay = (...args: string[]): Promise<Run> => run(process.execPath, [MARGAY, ...args], env);
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-kubectl-'));
    server = await startServer(join(dir, 'data'));
    env = { ...process.env, KUBECONFIG: join(dir, 'data', 'kubeconfig'), HOME: dir };
  });
  after(async () => {
    if (server.child.exitCode === null) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists api-resources with short names', async () => {
    const r = await kubectl('api-resources');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /globalnetworkpolicies\s+gnp,cgnp,calicoglobalnetworkpolicies\s+projectcalico\.org\/v3\s+false\s+GlobalNetworkPolicy/);
    assert.match(r.stdout, /networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy/);
    assert.match(r.stdout, /adminnetworkpolicies\s+anp\s+policy\.networking\.k8s\.io\/v1alpha1/);
  });

  it('applies (created), re-applies (unchanged) and applies a change (configured)', async () => {
    const path = file('app.yaml', MANIFESTS);
    const first = await kubectl('apply', '-f', path);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /namespace\/shop created/);
    assert.match(first.stdout, /globalnetworkpolicy\.projectcalico\.org\/deny-all created/);
    assert.match(first.stdout, /networkpolicy\.networking\.k8s\.io\/web created/);
    assert.match(first.stdout, /pod\/web created/);
    assert.equal(first.stderr, '', 'no warnings');
    const again = await kubectl('apply', '-f', path);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /globalnetworkpolicy\.projectcalico\.org\/deny-all unchanged/);
    const changed = await kubectl('apply', '-f', file('app2.yaml', MANIFESTS.replace('order: 100', 'order: 200').replace('image: nginx', 'image: nginx:1.27')));
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /globalnetworkpolicy\.projectcalico\.org\/deny-all configured/);
    assert.match(changed.stdout, /pod\/web configured/);
    assert.match(changed.stdout, /networkpolicy\.projectcalico\.org\/allow-web unchanged/);
  });

  it('gets in every output format', async () => {
    const table = await kubectl('get', 'gnp');
    assert.match(table.stdout, /^NAME\s+TIER\s+ORDER\s+SELECTOR\s+AGE\ndeny-all\s+default\s+200\s+all\(\)\s+\d+s\n$/);
    const wide = await kubectl('get', 'pods', '-n', 'shop', '-o', 'wide');
    assert.match(wide.stdout, /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    const netpol = await kubectl('get', 'netpol', '-A');
    assert.match(netpol.stdout, /NAMESPACE\s+NAME\s+POD-SELECTOR\s+AGE\nshop\s+web\s+app=web/);
    const yaml = await kubectl('get', 'networkpolicies.projectcalico.org', 'allow-web', '-n', 'shop', '-o', 'yaml');
    assert.match(yaml.stdout, /tier: default/);
    assert.match(yaml.stdout, /resourceVersion: "\d+"/);
    const json = JSON.parse((await kubectl('get', 'pod', 'web', '-n', 'shop', '-o', 'json')).stdout) as { spec: { containers: { image: string; ports: { protocol: string }[] }[] } };
    assert.equal(json.spec.containers[0]?.image, 'nginx:1.27');
    assert.equal(json.spec.containers[0]?.ports[0]?.protocol, 'TCP');
    const names = await kubectl('get', 'gnp,netpol', '-A', '-o', 'name');
    assert.equal(names.stdout, 'globalnetworkpolicy.projectcalico.org/deny-all\nnetworkpolicy.networking.k8s.io/web\n');
    const explain = await kubectl('explain', 'gnp.spec.selector');
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /KIND:\s+GlobalNetworkPolicy/);
  });

  it('get -w sees a change', async () => {
    const watcher = spawn(KUBECTL, ['get', 'gnp', 'deny-all', '-w'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watcher.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      const deadline = Date.now() + 10_000;
      while (!/deny-all/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const patched = await kubectl('patch', 'gnp', 'deny-all', '--type', 'merge', '-p', '{"spec":{"order":250}}');
      assert.equal(patched.code, 0, patched.stderr);
      while (!/\b250\b/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /deny-all\s+default\s+200[\s\S]*deny-all\s+default\s+250/);
      assert.equal((out.match(/^NAME/gm) ?? []).length, 1, 'headers printed once');
    } finally {
      watcher.kill();
    }
  });

  it('labels and edits', async () => {
    const label = await kubectl('label', 'gnp', 'deny-all', 'team=sec');
    assert.match(label.stdout, /labeled/);
    const podLabel = await kubectl('label', 'pod', 'web', '-n', 'shop', 'tier=frontend');
    assert.match(podLabel.stdout, /labeled/);
    const shown = await kubectl('get', 'gnp', '-l', 'team=sec', '-o', 'name');
    assert.equal(shown.stdout.trim(), 'globalnetworkpolicy.projectcalico.org/deny-all');
    const editor = file('editor.sh', '#!/bin/sh\nsed -i "s/order: 250/order: 300/" "$1"\n');
    chmodSync(editor, 0o755);
    const edit = await run(KUBECTL, ['edit', 'gnp', 'deny-all'], { ...env, EDITOR: editor, KUBE_EDITOR: editor });
    assert.equal(edit.code, 0, edit.stderr);
    assert.match(edit.stdout, /edited/);
    const podEditor = file('pod-editor.sh', '#!/bin/sh\nsed -i "s/image: nginx:1.27/image: nginx:1.28/" "$1"\n');
    chmodSync(podEditor, 0o755);
    const podEdit = await run(KUBECTL, ['edit', 'pod', 'web', '-n', 'shop'], { ...env, EDITOR: podEditor, KUBE_EDITOR: podEditor });
    assert.equal(podEdit.code, 0, podEdit.stderr);
    const order = await kubectl('get', 'gnp', 'deny-all', '-o', 'jsonpath={.spec.order} {.metadata.generation}');
    assert.match(order.stdout, /^300 \d+$/);
  });

  it('diffs against the server (server-side dry run)', async () => {
    const path = file('diff.yaml', MANIFESTS.replace('order: 100', 'order: 400'));
    const diff = await kubectl('diff', '-f', path);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /-\s+order: 300\n\+\s+order: 400/);
    const unchanged = await kubectl('get', 'gnp', 'deny-all', '-o', 'jsonpath={.spec.order}');
    assert.equal(unchanged.stdout, '300', 'diff changed nothing');
  });

  it('rejects an invalid Calico selector with a clear message', async () => {
    const bad = file('bad.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: bad\nspec:\n  selector: app ==\n');
    const r = await kubectl('apply', '-f', bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GlobalNetworkPolicy "bad" is invalid: spec\.selector: Invalid value: "app ==": invalid selector "app ==": expected a quoted string/);
  });

  it('applies server-side and reports conflicts', async () => {
    const ssa = file('ssa.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: ssa\nspec:\n  selector: all()\n  order: 1\n');
    const created = await kubectl('apply', '--server-side', '-f', ssa);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /serverside-applied/);
    await kubectl('patch', 'gnp', 'ssa', '--type', 'merge', '-p', '{"spec":{"order":5}}');
    const conflict = await kubectl('apply', '--server-side', '-f', file('ssa2.yaml', readFileSync(ssa, 'utf8').replace('order: 1', 'order: 2')));
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict with "kubectl-patch".*\.spec\.order/);
    const forced = await kubectl('apply', '--server-side', '--force-conflicts', '-f', join(dir, 'ssa2.yaml'));
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('concurrent updates with one resourceVersion: exactly one wins, the rest get 409', async () => {
    const cur = JSON.parse((await kubectl('get', 'gnp', 'ssa', '-o', 'json')).stdout) as { spec: Record<string, unknown> };
    const url = `${server.url}/apis/projectcalico.org/v3/globalnetworkpolicies/ssa`;
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...cur, spec: { ...cur.spec, order: 50 + i } }) }).then((r) => r.status),
      ),
    );
    assert.deepEqual(codes.sort(), [200, ...Array<number>(9).fill(409)]);
  });

  it('margay apply|get|diff|delete work against the same kubeconfig', async () => {
    const path = file('m.yaml', 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 10\n---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: m1\nspec:\n  tier: security\n  selector: all()\n');
    const applied = await margay('apply', '-f', path);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, 'tier.projectcalico.org/security created\nglobalnetworkpolicy.projectcalico.org/m1 created\n');
    assert.match((await margay('apply', '-f', path)).stdout, /m1 unchanged/);
    const table = await margay('get', 'gnp');
    assert.match(table.stdout, /^NAME\s+TIER\s+ORDER\s+SELECTOR\s+AGE\n/);
    assert.match(table.stdout, /m1\s+security\s+<none>\s+all\(\)/);
    assert.match((await margay('get', 'tier', 'security', '-o', 'yaml')).stdout, /defaultAction: Deny/);
    assert.equal(JSON.parse((await margay('get', 'gnp', 'm1', '-o', 'json')).stdout).spec.tier, 'security');
    const changedPath = file('m2.yaml', readFileSync(path, 'utf8').replace('order: 10', 'order: 20'));
    const diff = await margay('diff', '-f', changedPath);
    assert.equal(diff.code, 1);
    assert.match(diff.stdout, /-\s+order: 10\n\+\s+order: 20/);
    const bad = file('mbad.yaml', readFileSync(changedPath, 'utf8') + '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: m2\nspec:\n  selector: "a =="\n');
    const rejected = await margay('apply', '-f', bad);
    assert.equal(rejected.code, 2);
    assert.match(rejected.stderr, /mbad\.yaml \(document 3, line \d+\): GlobalNetworkPolicy m2: spec\.selector: invalid selector/);
    assert.match((await margay('get', 'tier', 'security', '-o', 'json')).stdout, /"order": 10/, 'a file with errors changes nothing');
    const deleted = await margay('delete', '-f', path);
    assert.equal(deleted.stdout, 'tier.projectcalico.org "security" deleted\nglobalnetworkpolicy.projectcalico.org "m1" deleted\n');
    const missing = await margay('get', 'gnp', 'm1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NotFound/);
  });

  it('creates namespaces, service accounts, roles and bindings with kubectl create (protobuf bodies)', async () => {
    // kubectl's typed clients send these built-in kinds as application/vnd.kubernetes.protobuf.
    for (const args of [
      ['create', 'namespace', 'team-a'],
      ['create', 'serviceaccount', 'robot', '-n', 'team-a'],
      ['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '--resource-name=web', '-n', 'team-a'],
      ['create', 'rolebinding', 'readers', '--role=pod-reader', '--user=alice', '--group=auditors', '--serviceaccount=team-a:robot', '-n', 'team-a'],
      ['create', 'clusterrole', 'log-reader', '--verb=get', '--non-resource-url=/logs'],
      ['create', 'clusterrolebinding', 'bob-views', '--clusterrole=view', '--user=bob'],
    ]) {
      const r = await kubectl(...args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /created/);
    }
    const role = JSON.parse((await kubectl('get', 'role', 'pod-reader', '-n', 'team-a', '-o', 'json')).stdout) as { rules: unknown[] };
    assert.deepEqual(role.rules, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] }]);
    const binding = JSON.parse((await kubectl('get', 'rolebinding', 'readers', '-n', 'team-a', '-o', 'json')).stdout) as { subjects: unknown[]; roleRef: unknown };
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
    assert.deepEqual(binding.subjects, [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'auditors' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'team-a' },
    ]);
    const cr = JSON.parse((await kubectl('get', 'clusterrole', 'log-reader', '-o', 'json')).stdout) as { rules: unknown[] };
    assert.deepEqual(cr.rules, [{ verbs: ['get'], nonResourceURLs: ['/logs'] }]);
    // The binding takes effect: alice may read that one pod in team-a, nothing else.
    const yes = await kubectl('auth', 'can-i', 'get', 'pods/web', '-n', 'team-a', '--as', 'alice');
    assert.equal(yes.stdout.trim(), 'yes', yes.stderr);
    const no = await kubectl('auth', 'can-i', 'get', 'pods/db', '-n', 'team-a', '--as', 'alice');
    assert.equal(no.stdout.trim(), 'no');
  });

  it('deletes', async () => {
    const r = await kubectl('delete', 'gnp', 'ssa');
    assert.match(r.stdout, /globalnetworkpolicy\.projectcalico\.org "ssa" deleted/);
    const gone = await kubectl('get', 'gnp', 'ssa');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NotFound/);
  });

  it('keeps everything across a restart', async () => {
    assert.equal(await stopServer(server), 0, 'clean exit on SIGTERM');
    server = await startServer(join(dir, 'data'));
    const r = await kubectl('get', 'gnp,netpol,pods', '-A', '-o', 'name');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /globalnetworkpolicy\.projectcalico\.org\/deny-all/);
    assert.match(r.stdout, /networkpolicy\.networking\.k8s\.io\/web/);
    assert.match(r.stdout, /pod\/web/);
    const again = await kubectl('apply', '-f', join(dir, 'app.yaml'));
    assert.match(again.stdout, /networkpolicy\.projectcalico\.org\/allow-web unchanged/);
  });

  it('refuses --tls together with --insecure (TLS off loopback is tested in test/auth/tls.test.ts)', async () => {
    const r = await margay('up', '--data-dir', join(dir, 'other'), '--listen', '0.0.0.0:0', '--insecure', '--tls');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tls or --insecure, not both/);
  });
});

describe('margay CLI against a TLS server', { timeout: 60_000 }, () => {
  it('apply, get and flows trust the CA from the kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-tls-cli-'));
    const up = await startMargayUp(['--data-dir', join(dir, 'data'), '--tls']);
    try {
      assert.match(up.url, /^https:\/\//);
      const kubeconfig = join(dir, 'data', 'kubeconfig');
      const manifest = join(dir, 'gnp.yaml');
      writeFileSync(manifest, 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: tls-check}\nspec: {selector: all()}\n');
      const applied = await runMargay(['apply', '-f', manifest, '--kubeconfig', kubeconfig]);
      assert.equal(applied.code, 0, applied.stderr);
      const got = await runMargay(['get', 'gnp', '--kubeconfig', kubeconfig]);
      assert.equal(got.code, 0, got.stderr);
      assert.match(got.stdout, /tls-check/);
      const flows = await runMargay(['flows', '--kubeconfig', kubeconfig]);
      assert.equal(flows.code, 0, flows.stderr);
    } finally {
      await up.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
