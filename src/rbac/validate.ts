// Validation of rbac.authorization.k8s.io/v1 objects (the API's write path) and conversion of a
// stored value into the typed form the authorizer reads (tolerant: bad stored data grants nothing).
import type { Problem } from '../errors/index.js';
import type { BindingObject, PolicyRule, RoleObject, Subject } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

const ROLE_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'aggregationRule']);
const BINDING_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'subjects', 'roleRef']);
const RULE_FIELDS = new Set(['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']);

function unknownFields(o: Obj, allowed: Set<string>, at: string, out: Problem[]): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) out.push({ path: `${at}${k}`, message: 'unknown field' });
}

function stringList(v: unknown, path: string, out: Problem[], required: boolean): void {
  if (v === undefined) {
    if (required) out.push({ path, message: 'required field is missing; expected a list of strings' });
    return;
  }
  if (!isStrings(v)) out.push({ path, message: 'expected a list of strings' });
  else if (required && v.length === 0) out.push({ path, message: 'required field is missing; expected at least one value' });
}

/** Problems with a Role, ClusterRole, RoleBinding or ClusterRoleBinding (empty: valid). */
export function validateRbacObject(kind: string, o: Obj): Problem[] {
  const out: Problem[] = [];
  const meta = isObj(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== 'string' || meta.name === '') out.push({ path: 'metadata.name', message: 'required field is missing; expected a name' });
  if (kind === 'Role' || kind === 'ClusterRole') {
    unknownFields(o, ROLE_FIELDS, '', out);
    if (o.rules !== undefined && !Array.isArray(o.rules)) out.push({ path: 'rules', message: 'expected a list of rules' });
    (Array.isArray(o.rules) ? o.rules : []).forEach((r: unknown, i) => {
      const at = `rules[${i}]`;
      if (!isObj(r)) return void out.push({ path: at, message: 'expected an object' });
      unknownFields(r, RULE_FIELDS, `${at}.`, out);
      stringList(r.verbs, `${at}.verbs`, out, true);
      for (const f of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']) stringList(r[f], `${at}.${f}`, out, false);
      const nonRes = isStrings(r.nonResourceURLs) && r.nonResourceURLs.length > 0;
      const res = isStrings(r.resources) && r.resources.length > 0;
      if (nonRes && kind === 'Role') out.push({ path: `${at}.nonResourceURLs`, message: 'expected no nonResourceURLs: namespaced roles cannot grant them' });
      if (nonRes && res) out.push({ path: `${at}.nonResourceURLs`, message: 'expected either resources or nonResourceURLs, not both' });
      if (!nonRes && res && r.apiGroups === undefined) out.push({ path: `${at}.apiGroups`, message: 'required field is missing; expected the API groups of the resources ("" for the core group)' });
      if (!nonRes && !res) out.push({ path: `${at}.resources`, message: 'required field is missing; expected resources or nonResourceURLs' });
    });
    return out;
  }
  unknownFields(o, BINDING_FIELDS, '', out);
  const ref = o.roleRef;
  if (!isObj(ref)) out.push({ path: 'roleRef', message: 'required field is missing; expected {apiGroup, kind, name}' });
  else {
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') out.push({ path: 'roleRef.apiGroup', message: 'expected "rbac.authorization.k8s.io"' });
    const kinds = kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (typeof ref.kind !== 'string' || !kinds.includes(ref.kind)) out.push({ path: 'roleRef.kind', message: `expected ${kinds.map((k) => JSON.stringify(k)).join(' or ')}` });
    if (typeof ref.name !== 'string' || ref.name === '') out.push({ path: 'roleRef.name', message: 'required field is missing; expected a role name' });
  }
  if (o.subjects !== undefined && !Array.isArray(o.subjects)) out.push({ path: 'subjects', message: 'expected a list of subjects' });
  (Array.isArray(o.subjects) ? o.subjects : []).forEach((s: unknown, i) => {
    const at = `subjects[${i}]`;
    if (!isObj(s)) return void out.push({ path: at, message: 'expected an object' });
    unknownFields(s, new Set(['kind', 'name', 'namespace', 'apiGroup']), `${at}.`, out);
    if (s.kind !== 'User' && s.kind !== 'Group' && s.kind !== 'ServiceAccount') out.push({ path: `${at}.kind`, message: 'expected one of "User", "Group", "ServiceAccount"' });
    if (typeof s.name !== 'string' || s.name === '') out.push({ path: `${at}.name`, message: 'required field is missing; expected a name' });
    if (s.kind === 'ServiceAccount' && kind === 'ClusterRoleBinding' && (typeof s.namespace !== 'string' || s.namespace === '')) {
      out.push({ path: `${at}.namespace`, message: 'required field is missing; expected the service account\'s namespace' });
    }
  });
  return out;
}

const strings = (v: unknown): string[] | undefined => (isStrings(v) ? v : undefined);

function meta(o: Obj): { name: string; namespace?: string } {
  const m = isObj(o.metadata) ? o.metadata : {};
  return { name: typeof m.name === 'string' ? m.name : '', ...(typeof m.namespace === 'string' ? { namespace: m.namespace } : {}) };
}

export function toRole(o: Obj): RoleObject {
  const rules: PolicyRule[] = [];
  for (const r of Array.isArray(o.rules) ? o.rules : []) {
    if (!isObj(r)) continue;
    const verbs = strings(r.verbs);
    if (verbs === undefined) continue;
    const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { verbs };
    for (const f of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
      const v = strings(r[f]);
      if (v !== undefined) rule[f] = v;
    }
    rules.push(rule);
  }
  return { metadata: meta(o), rules };
}

export function toBinding(o: Obj): BindingObject | undefined {
  const ref = o.roleRef;
  if (!isObj(ref) || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') || typeof ref.name !== 'string') return undefined;
  const subjects: Subject[] = [];
  for (const s of Array.isArray(o.subjects) ? o.subjects : []) {
    if (!isObj(s) || typeof s.name !== 'string' || (s.kind !== 'User' && s.kind !== 'Group' && s.kind !== 'ServiceAccount')) continue;
    subjects.push({ kind: s.kind, name: s.name, ...(typeof s.namespace === 'string' ? { namespace: s.namespace } : {}) });
  }
  return { metadata: meta(o), subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: ref.kind, name: ref.name } };
}
