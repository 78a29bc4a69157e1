// The one table of resource types the API serves. Routes, discovery, OpenAPI, Table columns and
// storage keys are all derived from it, so adding a kind here is the whole of serving it.

/** How a kind treats `status` on create (Kubernetes' PrepareForCreate). */
export type StatusOnCreate = 'keep' | 'reset';

export interface ResourceType {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** URL segment and storage name: `networkpolicies`. */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly namespaced: boolean;
  /** The kind has a `status` subresource: main-resource writes keep the old status. */
  readonly hasStatus: boolean;
  /** What happens to a `status` sent with create (only meaningful with hasStatus). */
  readonly statusOnCreate: StatusOnCreate;
  /** Column set for Table output (see table.ts). */
  readonly columns: ColumnSet;
  /** Kubernetes' built-in types: kubectl sends strategic merge patches for these. */
  readonly builtin: boolean;
  /** Extra field selectors beyond metadata.name and metadata.namespace. */
  readonly fieldSelectors: readonly string[];
}

export type ColumnSet =
  | 'namespace'
  | 'pod'
  | 'serviceaccount'
  | 'node'
  | 'k8s-networkpolicy'
  | 'calico-policy'
  | 'calico-global-policy'
  | 'tier'
  | 'networkset'
  | 'hostendpoint'
  | 'ippool'
  | 'admin-policy'
  | 'baseline-policy'
  | 'cluster-policy'
  | 'plain';

const CALICO = 'projectcalico.org';
const POLICY_API = 'policy.networking.k8s.io';
const RBAC = 'rbac.authorization.k8s.io';

function rt(
  group: string,
  version: string,
  kind: string,
  plural: string,
  shortNames: string[],
  namespaced: boolean,
  opts: Partial<Pick<ResourceType, 'hasStatus' | 'statusOnCreate' | 'columns' | 'builtin' | 'fieldSelectors' | 'categories'>> = {},
): ResourceType {
  return Object.freeze({
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames: Object.freeze(shortNames),
    categories: Object.freeze(opts.categories ?? (group === CALICO ? ['calico'] : [])),
    namespaced,
    hasStatus: opts.hasStatus ?? false,
    statusOnCreate: opts.statusOnCreate ?? 'reset',
    columns: opts.columns ?? 'plain',
    builtin: opts.builtin ?? false,
    fieldSelectors: Object.freeze(opts.fieldSelectors ?? []),
  });
}

/** Every served type, in discovery order (built-in groups first, as kubectl resolves plurals by it). */
export const RESOURCE_TYPES: readonly ResourceType[] = Object.freeze([
  rt('', 'v1', 'Namespace', 'namespaces', ['ns'], false, { hasStatus: true, columns: 'namespace', builtin: true, fieldSelectors: ['status.phase'] }),
  rt('', 'v1', 'Node', 'nodes', ['no'], false, { hasStatus: true, statusOnCreate: 'keep', columns: 'node', builtin: true, fieldSelectors: ['spec.unschedulable'] }),
  rt('', 'v1', 'Pod', 'pods', ['po'], true, {
    hasStatus: true,
    columns: 'pod',
    builtin: true,
    categories: ['all'],
    fieldSelectors: ['spec.nodeName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP'],
  }),
  rt('', 'v1', 'ServiceAccount', 'serviceaccounts', ['sa'], true, { columns: 'serviceaccount', builtin: true }),
  rt('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', ['netpol'], true, { columns: 'k8s-networkpolicy', builtin: true }),
  rt(POLICY_API, 'v1alpha1', 'AdminNetworkPolicy', 'adminnetworkpolicies', ['anp'], false, { hasStatus: true, columns: 'admin-policy' }),
  rt(POLICY_API, 'v1alpha1', 'BaselineAdminNetworkPolicy', 'baselineadminnetworkpolicies', ['banp'], false, { hasStatus: true, columns: 'baseline-policy' }),
  rt(POLICY_API, 'v1alpha2', 'ClusterNetworkPolicy', 'clusternetworkpolicies', ['cnp'], false, { hasStatus: true, columns: 'cluster-policy' }),
  rt(CALICO, 'v3', 'NetworkPolicy', 'networkpolicies', ['caliconetworkpolicy', 'caliconetworkpolicies'], true, { columns: 'calico-policy' }),
  rt(CALICO, 'v3', 'GlobalNetworkPolicy', 'globalnetworkpolicies', ['gnp', 'cgnp', 'calicoglobalnetworkpolicies'], false, { columns: 'calico-global-policy' }),
  rt(CALICO, 'v3', 'StagedNetworkPolicy', 'stagednetworkpolicies', ['snp'], true, { columns: 'calico-policy' }),
  rt(CALICO, 'v3', 'StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', ['sgnp'], false, { columns: 'calico-global-policy' }),
  rt(CALICO, 'v3', 'StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies', ['sknp'], true, { columns: 'k8s-networkpolicy' }),
  rt(CALICO, 'v3', 'Tier', 'tiers', [], false, { columns: 'tier' }),
  rt(CALICO, 'v3', 'NetworkSet', 'networksets', ['netsets'], true, { columns: 'networkset' }),
  rt(CALICO, 'v3', 'GlobalNetworkSet', 'globalnetworksets', [], false, { columns: 'networkset' }),
  rt(CALICO, 'v3', 'HostEndpoint', 'hostendpoints', ['hep', 'heps'], false, { columns: 'hostendpoint' }),
  rt(CALICO, 'v3', 'Profile', 'profiles', ['pro'], false),
  rt(CALICO, 'v3', 'IPPool', 'ippools', [], false, { columns: 'ippool' }),
  // RBAC objects are validated by the rbac module (see objects.ts), not by resources.
  rt(RBAC, 'v1', 'ClusterRole', 'clusterroles', [], false, { builtin: true }),
  rt(RBAC, 'v1', 'ClusterRoleBinding', 'clusterrolebindings', [], false, { builtin: true }),
  rt(RBAC, 'v1', 'Role', 'roles', [], true, { builtin: true }),
  rt(RBAC, 'v1', 'RoleBinding', 'rolebindings', [], true, { builtin: true }),
  // Alerts over audit events (src/alerts watches them; fired alerts are served beside them).
  rt('alerts.margay.io', 'v1', 'Alert', 'alerts', [], false),
]);

/** `v1` or `networking.k8s.io/v1`. */
export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export interface GroupInfo {
  readonly name: string;
  /** Versions, preferred first. */
  readonly versions: readonly string[];
}

/** The served groups in discovery order, each with its versions (preferred first: the newest). */
export function servedGroups(): readonly GroupInfo[] {
  const groups = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions: [...versions].sort(compareVersions) }));
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return [3, 0, 0];
    const stage = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [x, y] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return a.localeCompare(b);
}

const byPath = new Map<string, ResourceType>(RESOURCE_TYPES.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));
const byKind = new Map<string, ResourceType>(RESOURCE_TYPES.map((t) => [`${apiVersionOf(t)} ${t.kind}`, t]));

/** The type served at `/apis/<group>/<version>/<plural>` (group '' for `/api/v1`). */
export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return byPath.get(`${group}/${version}/${plural}`);
}

export function findResourceTypeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion} ${kind}`);
}

/** Types in one group/version, in table order. */
export function typesIn(group: string, version: string): readonly ResourceType[] {
  return RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
}

/**
 * Storage keys: `/registry/<group>/<plural>/<namespace>/<name>`, `core` standing for the empty
 * group; cluster-scoped objects have no namespace segment. The version is not part of the key.
 */
export function storageKey(t: ResourceType, namespace: string | undefined, name: string): string {
  return t.namespaced ? `${storagePrefix(t, namespace)}${name}` : `${storagePrefix(t, undefined)}${name}`;
}

/** The prefix of every key of `t` (in one namespace when given). Always ends with `/`. */
export function storagePrefix(t: ResourceType, namespace: string | undefined): string {
  const base = `/registry/${t.group === '' ? 'core' : t.group}/${t.plural}/`;
  return t.namespaced && namespace !== undefined ? `${base}${namespace}/` : base;
}

/** The path prefix of a type's REST endpoints, without namespace: `/apis/projectcalico.org/v3`. */
export function groupVersionPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
}

/** The URL of an object or a collection. */
export function resourcePath(t: ResourceType, namespace: string | undefined, name?: string): string {
  const ns = t.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(t)}${ns}/${t.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}
