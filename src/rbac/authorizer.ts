// Kubernetes RBAC semantics over a snapshot of Roles, ClusterRoles and their bindings: default
// deny, rules only add. ClusterRoleBindings grant everywhere; RoleBindings grant inside their
// own namespace (referring to a Role there or to a ClusterRole). system:masters is always allowed.
import { MASTERS_GROUP, type BindingObject, type Decision, type PolicyRule, type RbacSnapshot, type RequestAttributes, type RoleObject, type Subject, type UserInfo } from './types.js';

const SA_PREFIX = 'system:serviceaccount:';

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace ?? bindingNamespace ?? '';
      return user.name === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

const has = (list: readonly string[] | undefined, value: string): boolean => list !== undefined && (list.includes('*') || list.includes(value));

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const resources = rule.resources ?? [];
  if (subresource === undefined || subresource === '') return resources.includes('*') || resources.includes(resource);
  const combined = `${resource}/${subresource}`;
  return resources.includes('*') || resources.includes(combined) || resources.includes(`*/${subresource}`);
}

function urlMatches(patterns: readonly string[] | undefined, path: string): boolean {
  for (const p of patterns ?? []) {
    if (p === '*' || p === path) return true;
    if (p.endsWith('*') && path.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request (RBAC's RuleAllows). */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) return urlMatches(rule.nonResourceURLs, attrs.path ?? '');
  if (!has(rule.apiGroups, attrs.apiGroup ?? '')) return false;
  if (!resourceMatches(rule, attrs.resource ?? '', attrs.subresource)) return false;
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return attrs.name !== undefined && attrs.name !== '' && names.includes(attrs.name);
}

/** An index over a snapshot so a decision does not scan every role. */
export class RbacAuthorizer {
  private readonly clusterRoles = new Map<string, RoleObject>();
  private readonly roles = new Map<string, RoleObject>();
  private readonly roleBindingsByNs = new Map<string, BindingObject[]>();

  constructor(private readonly snapshot: RbacSnapshot) {
    for (const r of snapshot.clusterRoles) this.clusterRoles.set(r.metadata.name, r);
    for (const r of snapshot.roles) this.roles.set(`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r);
    for (const b of snapshot.roleBindings) {
      const ns = b.metadata.namespace ?? '';
      const list = this.roleBindingsByNs.get(ns) ?? [];
      list.push(b);
      this.roleBindingsByNs.set(ns, list);
    }
  }

  private rulesOf(binding: BindingObject, namespace: string | undefined): readonly PolicyRule[] | undefined {
    const ref = binding.roleRef;
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name)?.rules ?? undefined;
    if (ref.kind === 'Role' && namespace !== undefined) return this.roles.get(`${namespace}/${ref.name}`)?.rules ?? undefined;
    return undefined;
  }

  authorize(attrs: RequestAttributes): Decision {
    const user = attrs.user;
    if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: `group ${MASTERS_GROUP} is always allowed` };
    for (const b of this.snapshot.clusterRoleBindings) {
      if (b.roleRef.kind !== 'ClusterRole' || !(b.subjects ?? []).some((s) => subjectMatches(s, user, undefined))) continue;
      const rules = this.rulesOf(b, undefined) ?? [];
      if (rules.some((r) => ruleAllows(attrs, r))) return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${b.roleRef.name}"` };
    }
    const ns = attrs.namespace;
    if (attrs.resourceRequest && ns !== undefined && ns !== '') {
      for (const b of this.roleBindingsByNs.get(ns) ?? []) {
        if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, ns))) continue;
        const rules = this.rulesOf(b, ns) ?? [];
        if (rules.some((r) => ruleAllows(attrs, r))) return { allowed: true, reason: `RBAC: allowed by RoleBinding "${b.metadata.name}/${ns}" of ${b.roleRef.kind} "${b.roleRef.name}"` };
      }
    }
    return { allowed: false, reason: '' };
  }
}

/** The message of a 403, in Kubernetes' words. */
export function forbiddenMessage(attrs: RequestAttributes): string {
  const user = `User "${attrs.user.name}"`;
  if (!attrs.resourceRequest) return `forbidden: ${user} cannot ${attrs.verb} path "${attrs.path ?? ''}"`;
  const group = attrs.apiGroup ?? '';
  const res = attrs.resource ?? '';
  const qualified = group === '' ? res : `${res}.${group}`;
  const full = attrs.subresource !== undefined && attrs.subresource !== '' ? `${res}/${attrs.subresource}` : res;
  const subject = attrs.name !== undefined && attrs.name !== '' ? `${qualified} "${attrs.name}"` : qualified;
  const scope = attrs.namespace !== undefined && attrs.namespace !== '' ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: ${user} cannot ${attrs.verb} resource "${full}" in API group "${group}" ${scope}`;
}

export function authorize(snapshot: RbacSnapshot, attrs: RequestAttributes): Decision {
  return new RbacAuthorizer(snapshot).authorize(attrs);
}
