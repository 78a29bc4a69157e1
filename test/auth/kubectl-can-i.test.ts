// `kubectl auth can-i` agrees with the persona model: `margay up` in single-user mode (no token
// file: token-less loopback requests are the local admin), one kubeconfig per persona that
// impersonates it (kubectl sends no bearer token over plain HTTP, but it does send Impersonate-*).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KUBECTL, OTHER, OWNED, PERSONAS, RESOURCES, call, expected, run, startMargay, type Persona, type Server, type Verb } from './support.js';

const CASES: [Exclude<Persona, 'masters'>, Verb, string, string | undefined][] = [
  ['network-admin', 'create', 'globalnetworkpolicies.projectcalico.org', undefined],
  ['network-admin', 'delete', 'networkpolicies.networking.k8s.io', OTHER],
  ['network-admin', 'delete', 'pods', OWNED],
  ['network-admin', 'list', 'clusterroles.rbac.authorization.k8s.io', undefined],
  ['security-auditor', 'list', 'networkpolicies.projectcalico.org', OTHER],
  ['security-auditor', 'watch', 'adminnetworkpolicies.policy.networking.k8s.io', undefined],
  ['security-auditor', 'patch', 'globalnetworkpolicies.projectcalico.org', undefined],
  ['namespace-owner', 'create', 'networkpolicies.networking.k8s.io', OWNED],
  ['namespace-owner', 'create', 'networkpolicies.networking.k8s.io', OTHER],
  ['namespace-owner', 'deletecollection', 'networksets.projectcalico.org', OWNED],
  ['namespace-owner', 'list', 'globalnetworkpolicies.projectcalico.org', undefined],
  ['agent', 'watch', 'pods', OTHER],
  ['agent', 'update', 'nodes', undefined],
  ['agent', 'delete', 'nodes', undefined],
  ['agent', 'create', 'networkpolicies.networking.k8s.io', OWNED],
  ['nobody', 'get', 'pods', OWNED],
  ['cluster-admin', 'delete', 'clusterroles.rbac.authorization.k8s.io', undefined],
];

describe('kubectl auth can-i per persona', { timeout: 180_000 }, () => {
  let dir: string;
  let server: Server;
  const kubeconfig = (p: Exclude<Persona, 'masters'>): string => join(dir, `${p}.kubeconfig`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-can-i-'));
    server = await startMargay(['--data-dir', join(dir, 'data')]);
    for (const ns of [OWNED, OTHER]) {
      assert.equal((await call(server.url, 'POST', '/api/v1/namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status, 201);
    }
    const binding = await call(server.url, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${OWNED}/rolebindings`, undefined, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'owner' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'margay:namespace-owner' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: PERSONAS['namespace-owner'].user }],
    });
    assert.equal(binding.status, 201);
    for (const [p, def] of Object.entries(PERSONAS) as [Exclude<Persona, 'masters'>, (typeof PERSONAS)['agent']][]) {
      const groups = def.groups.length > 0 ? `\n      as-groups: [${def.groups.map((g) => JSON.stringify(g)).join(', ')}]` : '';
      writeFileSync(
        kubeconfig(p),
        `apiVersion: v1\nkind: Config\nclusters:\n  - name: margay\n    cluster:\n      server: ${server.url}\nusers:\n  - name: ${p}\n    user:\n      as: ${JSON.stringify(def.user)}${groups}\ncontexts:\n  - name: ${p}\n    context:\n      cluster: margay\n      user: ${p}\ncurrent-context: ${p}\n`,
      );
    }
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const [persona, verb, resource, namespace] of CASES) {
    const res = RESOURCES.find((r) => r.kubectl === resource);
    if (res === undefined) throw new Error(`no resource ${resource} in the model`);
    const want = expected(persona, res, verb, namespace, undefined);
    it(`${persona}: can-i ${verb} ${resource}${namespace !== undefined ? ` -n ${namespace}` : ''} → ${want ? 'yes' : 'no'}`, async () => {
      const r = await run(KUBECTL, ['auth', 'can-i', verb, resource, ...(namespace !== undefined ? ['-n', namespace] : [])], { ...process.env, KUBECONFIG: kubeconfig(persona), HOME: dir });
      assert.equal(r.stdout.trim(), want ? 'yes' : 'no', r.stderr);
      assert.equal(r.code, want ? 0 : 1);
    });
  }

  it('a denied kubectl get prints the Kubernetes Forbidden message', async () => {
    const r = await run(KUBECTL, ['get', 'networkpolicies', '-n', OTHER], { ...process.env, KUBECONFIG: kubeconfig('namespace-owner'), HOME: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(Forbidden\): networkpolicies\.networking\.k8s\.io is forbidden: User "dave" cannot list resource "networkpolicies" in API group "networking\.k8s\.io" in the namespace "team-b"/);
  });
});
