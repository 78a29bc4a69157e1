// The rbac module: a pure authorizer with Kubernetes RBAC semantics (Role, ClusterRole,
// RoleBinding, ClusterRoleBinding), Margay's built-in persona roles, and RBAC object validation.
export { RbacAuthorizer, authorize, ruleAllows, subjectMatches, forbiddenMessage } from './authorizer.js';
export { BUILTIN_CLUSTER_ROLES, BUILTIN_CLUSTER_ROLE_BINDINGS, PERSONA_GROUPS, withBuiltins } from './builtin.js';
export { validateRbacObject, toRole, toBinding } from './validate.js';
export {
  RBAC_GROUP,
  MASTERS_GROUP,
  AUTHENTICATED_GROUP,
  type UserInfo,
  type PolicyRule,
  type RoleObject,
  type BindingObject,
  type Subject,
  type RoleRef,
  type RbacSnapshot,
  type RequestAttributes,
  type Decision,
} from './types.js';
