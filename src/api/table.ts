// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with columns chosen
// per kind (NAME and AGE always; policy kinds add tier, order, selector and the like).
import type { ColumnSet, ResourceType } from './registry.js';
import { isObject, type Json, type JsonObject } from './patch.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  /** 0: always shown; 1: only with -o wide. */
  priority: number;
}

interface Column extends TableColumn {
  cell(o: JsonObject, now: number): Json;
}

const get = (o: Json | undefined, path: string): Json | undefined => {
  let cur: Json | undefined = o;
  for (const seg of path.split('.')) cur = isObject(cur) ? cur[seg] : undefined;
  return cur;
};
const str = (v: Json | undefined, empty = '<none>'): string => (v === undefined || v === '' ? empty : typeof v === 'string' ? v : JSON.stringify(v));

/** Kubernetes' HumanDuration: 45s, 5m, 3h5m, 2d, 3y… */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function col(name: string, description: string, cell: (o: JsonObject, now: number) => Json, opts: { type?: TableColumn['type']; priority?: number; format?: string } = {}): Column {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description, priority: opts.priority ?? 0, cell };
}

const NAME = col('Name', 'Name must be unique within a namespace.', (o) => str(get(o, 'metadata.name'), ''), { format: 'name' });
const AGE = col('Age', 'Time since the object was created.', (o, now) => {
  const t = get(o, 'metadata.creationTimestamp');
  return typeof t === 'string' ? humanDuration(now - Date.parse(t)) : '<unknown>';
});

/** A label selector rendered as kubectl does: `app=web,tier in (a,b)`; empty is `<none>`. */
export function formatLabelSelector(sel: Json | undefined): string {
  if (!isObject(sel)) return '<none>';
  const parts: string[] = [];
  if (isObject(sel.matchLabels)) for (const [k, v] of Object.entries(sel.matchLabels)) parts.push(`${k}=${String(v)}`);
  if (Array.isArray(sel.matchExpressions)) {
    for (const e of sel.matchExpressions) {
      if (!isObject(e)) continue;
      const values = Array.isArray(e.values) ? e.values.join(',') : '';
      switch (e.operator) {
        case 'In': parts.push(`${String(e.key)} in (${values})`); break;
        case 'NotIn': parts.push(`${String(e.key)} notin (${values})`); break;
        case 'Exists': parts.push(String(e.key)); break;
        case 'DoesNotExist': parts.push(`!${String(e.key)}`); break;
      }
    }
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

const TIER = col('Tier', 'The tier the policy belongs to.', (o) => str(get(o, 'spec.tier'), 'default'));
const ORDER = col('Order', 'Order within the tier; lower applies first.', (o) => str(get(o, 'spec.order')), { type: 'string' });
const SELECTOR = col('Selector', 'Endpoints the policy applies to.', (o) => str(get(o, 'spec.selector'), 'all()'));
const TYPES = col('Types', 'Policy types.', (o) => str((get(o, 'spec.types') as Json[] | undefined)?.join(',')), { priority: 1 });

const COLUMNS: Record<ColumnSet, Column[]> = {
  namespace: [NAME, col('Status', 'The namespace phase.', (o) => str(get(o, 'status.phase'), 'Active')), AGE],
  pod: [
    NAME,
    col('Ready', 'Ready containers / containers.', (o) => {
      const containers = get(o, 'spec.containers');
      const statuses = get(o, 'status.containerStatuses');
      const ready = Array.isArray(statuses) ? statuses.filter((s) => isObject(s) && s.ready === true).length : 0;
      return `${ready}/${Array.isArray(containers) ? containers.length : 0}`;
    }),
    col('Status', 'The pod phase.', (o) => str(get(o, 'status.phase'), 'Pending')),
    col('Restarts', 'Container restarts.', (o) => {
      const statuses = get(o, 'status.containerStatuses');
      return Array.isArray(statuses) ? statuses.reduce<number>((n, s) => n + (isObject(s) && typeof s.restartCount === 'number' ? s.restartCount : 0), 0) : 0;
    }, { type: 'integer' }),
    AGE,
    col('IP', 'The pod IP.', (o) => str(get(o, 'status.podIP')), { priority: 1 }),
    col('Node', 'The node the pod runs on.', (o) => str(get(o, 'spec.nodeName')), { priority: 1 }),
  ],
  serviceaccount: [NAME, col('Secrets', 'Number of secrets.', (o) => (Array.isArray(get(o, 'secrets')) ? (get(o, 'secrets') as Json[]).length : 0), { type: 'integer' }), AGE],
  node: [
    NAME,
    col('Status', 'Node readiness.', (o) => {
      const conds = get(o, 'status.conditions');
      const ready = Array.isArray(conds) ? conds.find((c) => isObject(c) && c.type === 'Ready') : undefined;
      return isObject(ready) ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
    }),
    col('Roles', 'Node roles.', (o) => {
      const labels = get(o, 'metadata.labels');
      const roles = isObject(labels) ? Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length)) : [];
      return roles.length > 0 ? roles.join(',') : '<none>';
    }),
    AGE,
    col('Version', 'Kubelet version.', (o) => str(get(o, 'status.nodeInfo.kubeletVersion'), '')),
    col('Internal-IP', 'The node InternalIP address.', (o) => {
      const addrs = get(o, 'status.addresses');
      const a = Array.isArray(addrs) ? addrs.find((x) => isObject(x) && x.type === 'InternalIP') : undefined;
      return isObject(a) ? str(a.address) : '<none>';
    }, { priority: 1 }),
    col('Pod-CIDR', 'The pod CIDR of the node.', (o) => str(get(o, 'spec.podCIDR')), { priority: 1 }),
  ],
  'k8s-networkpolicy': [NAME, col('Pod-Selector', 'Pods the policy applies to.', (o) => formatLabelSelector(get(o, 'spec.podSelector'))), AGE, col('Policy-Types', 'Policy types.', (o) => str((get(o, 'spec.policyTypes') as Json[] | undefined)?.join(',')), { priority: 1 })],
  'calico-policy': [NAME, TIER, ORDER, SELECTOR, AGE, TYPES],
  'calico-global-policy': [NAME, TIER, ORDER, SELECTOR, AGE, TYPES, col('Namespace-Selector', 'Namespaces the policy applies in.', (o) => str(get(o, 'spec.namespaceSelector')), { priority: 1 })],
  tier: [NAME, ORDER, col('Default-Action', 'What happens to traffic no policy in the tier decides.', (o) => str(get(o, 'spec.defaultAction'), 'Deny')), AGE],
  networkset: [NAME, col('Nets', 'Member networks.', (o) => str((get(o, 'spec.nets') as Json[] | undefined)?.join(','))), AGE],
  hostendpoint: [NAME, col('Node', 'The host.', (o) => str(get(o, 'spec.node'))), col('Interface', 'The interface.', (o) => str(get(o, 'spec.interfaceName'), '*')), AGE],
  ippool: [
    NAME,
    col('CIDR', 'The pool.', (o) => str(get(o, 'spec.cidr'))),
    AGE,
    col('Block-Size', 'Allocation block size.', (o) => str(get(o, 'spec.blockSize')), { priority: 1 }),
    col('IPIP', 'IP-in-IP mode.', (o) => str(get(o, 'spec.ipipMode')), { priority: 1 }),
    col('VXLAN', 'VXLAN mode.', (o) => str(get(o, 'spec.vxlanMode')), { priority: 1 }),
    col('NAT', 'NAT outgoing.', (o) => str(get(o, 'spec.natOutgoing'), 'false'), { priority: 1 }),
  ],
  'admin-policy': [NAME, col('Priority', 'Lower applies first.', (o) => (get(o, 'spec.priority') as Json) ?? 0, { type: 'integer' }), AGE],
  'baseline-policy': [NAME, AGE],
  'cluster-policy': [NAME, col('Tier', 'Admin or Baseline.', (o) => str(get(o, 'spec.tier'))), col('Priority', 'Lower applies first.', (o) => (get(o, 'spec.priority') as Json) ?? 0, { type: 'integer' }), AGE],
  plain: [NAME, AGE],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** Omit column definitions (watch events after the first, kubectl's noHeaders). */
  noHeaders?: boolean;
  now?: number;
}

export function columnsFor(type: ResourceType): TableColumn[] {
  return COLUMNS[type.columns].map(({ cell: _c, ...def }) => def);
}

function rowObject(o: JsonObject, include: IncludeObject): Json | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata as Json };
}

export function toTable(type: ResourceType, objects: readonly JsonObject[], listMeta: JsonObject, opts: TableOptions): JsonObject {
  const cols = COLUMNS[type.columns];
  const now = opts.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    ...(opts.noHeaders ? {} : { columnDefinitions: columnsFor(type) as unknown as Json }),
    rows: objects.map((o) => {
      const object = rowObject(o, opts.includeObject);
      return { cells: cols.map((c) => c.cell(o, now)), ...(object !== undefined ? { object } : {}) };
    }),
  };
}
