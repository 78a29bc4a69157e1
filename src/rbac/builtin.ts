// The built-in ClusterRoles for Margay's personas and the bindings every cluster starts with.
// They are always in effect (the server writes them to the datastore so they can be listed, and
// ignores stored objects of the same names: built-ins cannot be edited away).
import { AUTHENTICATED_GROUP, RBAC_GROUP, type BindingObject, type PolicyRule, type RoleObject } from './types.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const ALL = [...READ, ...WRITE];

const CALICO = 'projectcalico.org';
const K8S_NET = 'networking.k8s.io';
const POLICY_API = 'policy.networking.k8s.io';
/** Reading the audit log and what changed (a namespace owner's RoleBinding limits it to its namespace). */
const AUDIT_READ: PolicyRule = { apiGroups: ['audit.margay.io'], resources: ['events', 'changes'], verbs: READ };
/** Reading Alert definitions and the alerts that fired. */
const ALERT_READ: PolicyRule = { apiGroups: ['alerts.margay.io'], resources: ['alerts', 'firedalerts'], verbs: READ };
const FLOWS = 'flows.margay.io';
/** Reading flow logs (a namespace owner's RoleBinding limits it to the namespaced URL). */
const FLOW_READ: PolicyRule = { apiGroups: [FLOWS], resources: ['flowlogs'], verbs: ['get', 'list'] };

/** Policy kinds a namespace owner may manage inside a namespace. */
const NAMESPACED_POLICY: PolicyRule[] = [
  { apiGroups: [K8S_NET], resources: ['networkpolicies'], verbs: ALL },
  { apiGroups: [CALICO], resources: ['networkpolicies', 'stagednetworkpolicies', 'stagedkubernetesnetworkpolicies', 'networksets'], verbs: ALL },
];

/** Every policy kind, namespaced and cluster-wide, with tiers and network sets. */
const ALL_POLICY_RESOURCES: PolicyRule[] = [
  { apiGroups: [K8S_NET], resources: ['networkpolicies'], verbs: ALL },
  { apiGroups: [POLICY_API], resources: ['adminnetworkpolicies', 'baselineadminnetworkpolicies', 'clusternetworkpolicies', 'adminnetworkpolicies/status', 'baselineadminnetworkpolicies/status', 'clusternetworkpolicies/status'], verbs: ALL },
  {
    apiGroups: [CALICO],
    resources: ['networkpolicies', 'globalnetworkpolicies', 'stagednetworkpolicies', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'tiers', 'networksets', 'globalnetworksets'],
    verbs: ALL,
  },
];

const readOnly = (rules: PolicyRule[]): PolicyRule[] => rules.map((r) => ({ ...r, verbs: READ }));

const WORKLOAD_READ: PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'pods', 'serviceaccounts', 'nodes'], verbs: READ },
  { apiGroups: [CALICO], resources: ['hostendpoints', 'profiles', 'ippools'], verbs: READ },
];

function clusterRole(name: string, rules: PolicyRule[]): RoleObject & { apiVersion: string; kind: string } {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name }, rules };
}

function clusterRoleBinding(name: string, role: string, groups: string[]): BindingObject & { apiVersion: string; kind: string } {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    subjects: groups.map((g) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: g })),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
  };
}

export const BUILTIN_CLUSTER_ROLES: readonly (RoleObject & { apiVersion: string; kind: string })[] = Object.freeze([
  clusterRole('margay:cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  clusterRole('margay:network-admin', [...ALL_POLICY_RESOURCES, ...WORKLOAD_READ, FLOW_READ]),
  clusterRole('margay:security-auditor', [
    ...readOnly(ALL_POLICY_RESOURCES),
    ...WORKLOAD_READ,
    { apiGroups: [RBAC_GROUP], resources: ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'], verbs: READ },
    AUDIT_READ,
    ALERT_READ,
    FLOW_READ,
  ]),
  clusterRole('margay:namespace-owner', [
    ...NAMESPACED_POLICY,
    { apiGroups: [''], resources: ['pods', 'serviceaccounts'], verbs: READ },
    // A RoleBinding in namespace N makes this `get namespaces N` (a namespace's own namespace is itself).
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    AUDIT_READ,
    FLOW_READ,
  ]),
  clusterRole('margay:agent', [
    ...readOnly(ALL_POLICY_RESOURCES),
    ...WORKLOAD_READ,
    { apiGroups: [''], resources: ['nodes', 'nodes/status'], verbs: ['create', 'update', 'patch'] },
    { apiGroups: [''], resources: ['pods/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [CALICO], resources: ['hostendpoints'], verbs: ['create', 'update', 'patch', 'delete'] },
    // Agents report flows; they do not read them back.
    { apiGroups: [FLOWS], resources: ['flowbatches'], verbs: ['create'] },
  ]),
  // What every authenticated user may do: discovery, OpenAPI, health, and ask what it may do.
  clusterRole('margay:discovery', [
    { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/', '/healthz', '/livez', '/readyz'], verbs: ['get'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
  ]),
]);

/** Groups the token file can name to give a user a persona cluster-wide. */
export const PERSONA_GROUPS = Object.freeze({
  clusterAdmin: 'margay:cluster-admins',
  networkAdmin: 'margay:network-admins',
  securityAuditor: 'margay:security-auditors',
  agent: 'margay:agents',
});

export const BUILTIN_CLUSTER_ROLE_BINDINGS: readonly (BindingObject & { apiVersion: string; kind: string })[] = Object.freeze([
  clusterRoleBinding('margay:discovery', 'margay:discovery', [AUTHENTICATED_GROUP]),
  clusterRoleBinding('margay:cluster-admins', 'margay:cluster-admin', [PERSONA_GROUPS.clusterAdmin]),
  clusterRoleBinding('margay:network-admins', 'margay:network-admin', [PERSONA_GROUPS.networkAdmin]),
  clusterRoleBinding('margay:security-auditors', 'margay:security-auditor', [PERSONA_GROUPS.securityAuditor]),
  clusterRoleBinding('margay:agents', 'margay:agent', [PERSONA_GROUPS.agent]),
]);

const BUILTIN_ROLE_NAMES = new Set(BUILTIN_CLUSTER_ROLES.map((r) => r.metadata.name));
const BUILTIN_BINDING_NAMES = new Set(BUILTIN_CLUSTER_ROLE_BINDINGS.map((b) => b.metadata.name));

/** The stored snapshot with the built-ins laid over it (stored objects cannot shadow them). */
export function withBuiltins(s: { roles: readonly RoleObject[]; clusterRoles: readonly RoleObject[]; roleBindings: readonly BindingObject[]; clusterRoleBindings: readonly BindingObject[] }) {
  return {
    roles: s.roles,
    roleBindings: s.roleBindings,
    clusterRoles: [...BUILTIN_CLUSTER_ROLES, ...s.clusterRoles.filter((r) => !BUILTIN_ROLE_NAMES.has(r.metadata.name))],
    clusterRoleBindings: [...BUILTIN_CLUSTER_ROLE_BINDINGS, ...s.clusterRoleBindings.filter((b) => !BUILTIN_BINDING_NAMES.has(b.metadata.name))],
  };
}
