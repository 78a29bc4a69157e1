// RBAC semantics on small snapshots: default deny, scope of bindings, wildcards, subresources,
// resourceNames, non-resource URLs, service accounts, and the Forbidden message.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { authorize, forbiddenMessage, validateRbacObject, withBuiltins, type RbacSnapshot, type RequestAttributes } from './index.js';

const empty: RbacSnapshot = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
const user = (name: string, groups: string[] = []) => ({ name, groups });
const req = (u: ReturnType<typeof user>, verb: string, resource: string, namespace?: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
  user: u,
  verb,
  resourceRequest: true,
  apiGroup: '',
  resource,
  ...(namespace !== undefined ? { namespace } : {}),
  ...extra,
});

describe('rbac authorizer', () => {
  it('denies by default and always allows system:masters', () => {
    assert.equal(authorize(empty, req(user('x'), 'get', 'pods', 'a')).allowed, false);
    assert.equal(authorize(empty, req(user('x', ['system:masters']), 'delete', 'nodes')).allowed, true);
  });

  const snap: RbacSnapshot = {
    roles: [{ metadata: { name: 'r', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'], resourceNames: ['p1'] }] }],
    clusterRoles: [
      { metadata: { name: 'c' }, rules: [{ apiGroups: ['projectcalico.org'], resources: ['*'], verbs: ['list'] }, { nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }] },
      { metadata: { name: 'status' }, rules: [{ apiGroups: [''], resources: ['*/status'], verbs: ['update'] }] },
    ],
    roleBindings: [
      { metadata: { name: 'rb', namespace: 'a' }, subjects: [{ kind: 'User', name: 'u' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } },
      { metadata: { name: 'rb2', namespace: 'b' }, subjects: [{ kind: 'ServiceAccount', name: 'agent' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'c' } },
    ],
    clusterRoleBindings: [{ metadata: { name: 'crb' }, subjects: [{ kind: 'Group', name: 'g' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'status' } }],
  };

  it('RoleBindings grant only in their namespace, with resourceNames and subresources', () => {
    assert.equal(authorize(snap, req(user('u'), 'get', 'pods', 'a', { name: 'p1' })).allowed, true);
    assert.equal(authorize(snap, req(user('u'), 'get', 'pods', 'a', { name: 'p1', subresource: 'log' })).allowed, true);
    assert.equal(authorize(snap, req(user('u'), 'get', 'pods', 'a', { name: 'p2' })).allowed, false);
    assert.equal(authorize(snap, req(user('u'), 'list', 'pods', 'a')).allowed, false);
    assert.equal(authorize(snap, req(user('u'), 'get', 'pods', 'b', { name: 'p1' })).allowed, false);
    assert.equal(authorize(snap, req(user('u'), 'get', 'pods', undefined, { name: 'p1' })).allowed, false);
  });

  it('a RoleBinding to a ClusterRole; service accounts by namespace; wildcards; */status', () => {
    const sa = user('system:serviceaccount:b:agent');
    assert.equal(authorize(snap, req(sa, 'list', 'tiers', 'b', { apiGroup: 'projectcalico.org' })).allowed, true);
    assert.equal(authorize(snap, req(sa, 'list', 'tiers', 'a', { apiGroup: 'projectcalico.org' })).allowed, false);
    assert.equal(authorize(snap, req(user('system:serviceaccount:a:agent'), 'list', 'tiers', 'b', { apiGroup: 'projectcalico.org' })).allowed, false);
    assert.equal(authorize(snap, req(user('v', ['g']), 'update', 'nodes', undefined, { subresource: 'status', name: 'n' })).allowed, true);
    assert.equal(authorize(snap, req(user('v', ['g']), 'update', 'nodes', undefined, { name: 'n' })).allowed, false);
  });

  it('non-resource URLs come only from ClusterRoleBindings', () => {
    const withUrl: RbacSnapshot = { ...snap, clusterRoleBindings: [...snap.clusterRoleBindings, { metadata: { name: 'm' }, subjects: [{ kind: 'User', name: 'm' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'c' } }] };
    const nr = (path: string): RequestAttributes => ({ user: user('m'), verb: 'get', resourceRequest: false, path });
    assert.equal(authorize(withUrl, nr('/metrics')).allowed, true);
    assert.equal(authorize(withUrl, nr('/debug/pprof')).allowed, true);
    assert.equal(authorize(withUrl, nr('/other')).allowed, false);
  });

  it('built-ins: every authenticated user may discover; personas come from groups', () => {
    const b = withBuiltins(empty);
    const u = user('x', ['system:authenticated']);
    assert.equal(authorize(b, { user: u, verb: 'get', resourceRequest: false, path: '/apis/projectcalico.org/v3' }).allowed, true);
    assert.equal(authorize(b, req(u, 'create', 'selfsubjectaccessreviews', undefined, { apiGroup: 'authorization.k8s.io' })).allowed, true);
    assert.equal(authorize(b, req(u, 'list', 'pods', 'a')).allowed, false);
    assert.equal(authorize(b, req(user('n', ['margay:network-admins']), 'delete', 'globalnetworkpolicies', undefined, { apiGroup: 'projectcalico.org', name: 'x' })).allowed, true);
    // A stored object cannot shadow a built-in role.
    const shadowed = withBuiltins({ ...empty, clusterRoles: [{ metadata: { name: 'margay:network-admin' }, rules: [] }] });
    assert.equal(authorize(shadowed, req(user('n', ['margay:network-admins']), 'list', 'tiers', undefined, { apiGroup: 'projectcalico.org' })).allowed, true);
  });

  it('forbidden messages read like Kubernetes', () => {
    assert.equal(forbiddenMessage(req(user('x'), 'list', 'pods', 'y')), 'pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y"');
    assert.equal(
      forbiddenMessage(req(user('x'), 'delete', 'globalnetworkpolicies', undefined, { apiGroup: 'projectcalico.org', name: 'g' })),
      'globalnetworkpolicies.projectcalico.org "g" is forbidden: User "x" cannot delete resource "globalnetworkpolicies" in API group "projectcalico.org" at the cluster scope',
    );
  });

  it('validates RBAC objects with field paths', () => {
    assert.deepEqual(validateRbacObject('ClusterRole', { metadata: { name: 'ok' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }), []);
    const problems = validateRbacObject('Role', { metadata: { name: 'r' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }, { resources: ['pods'], verbs: [] }] }).map((p) => p.path);
    assert.deepEqual(problems, ['rules[0].nonResourceURLs', 'rules[1].verbs', 'rules[1].apiGroups']);
  });
});
