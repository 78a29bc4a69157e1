// The rbac.authorization.k8s.io/v1 object model as the authorizer reads it, and the request
// attributes it decides on (Kubernetes' authorizer.Attributes, in small).

export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
}

export interface RoleObject {
  readonly metadata: ObjectMeta;
  readonly rules?: readonly PolicyRule[];
}

export interface Subject {
  readonly kind: 'User' | 'Group' | 'ServiceAccount';
  readonly name: string;
  readonly namespace?: string;
  readonly apiGroup?: string;
}

export interface RoleRef {
  readonly apiGroup: string;
  readonly kind: 'Role' | 'ClusterRole';
  readonly name: string;
}

export interface BindingObject {
  readonly metadata: ObjectMeta;
  readonly subjects?: readonly Subject[];
  readonly roleRef: RoleRef;
}

/** Every RBAC object the authorizer decides over. */
export interface RbacSnapshot {
  readonly roles: readonly RoleObject[];
  readonly clusterRoles: readonly RoleObject[];
  readonly roleBindings: readonly BindingObject[];
  readonly clusterRoleBindings: readonly BindingObject[];
}

/** What a request asks to do. Resource requests name a resource; others a URL path. */
export interface RequestAttributes {
  readonly user: UserInfo;
  readonly verb: string;
  readonly resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  readonly path?: string;
  readonly apiGroup?: string;
  readonly resource?: string;
  readonly subresource?: string;
  /** '' or undefined: cluster scope (or all namespaces). */
  readonly namespace?: string;
  readonly name?: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** Which binding and role allowed it, or why nothing did. */
  readonly reason: string;
}

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const MASTERS_GROUP = 'system:masters';
export const AUTHENTICATED_GROUP = 'system:authenticated';
