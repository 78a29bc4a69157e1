// A synthetic cluster with realistic shapes, as typed resources, from a seeded PRNG: namespaces
// of skewed sizes, label keys of low (role, version) and high (app, pod-template-hash)
// cardinality, policies mixing Kubernetes and Calico selectors (has / in / not in / !), tiers,
// network sets, host endpoints and a few admin policies. Used by the calc and evaluator benches.
import type {
  AdminNetworkPolicy,
  BaselineAdminNetworkPolicy,
  CalicoNetworkPolicy,
  CalicoRule,
  ContainerPort,
  GlobalNetworkPolicy,
  GlobalNetworkSet,
  HostEndpoint,
  K8sNetworkPolicy,
  K8sNetworkPolicyEgressRule,
  K8sNetworkPolicyIngressRule,
  Namespace,
  NetworkSet,
  Node,
  Pod,
  Resource,
  ServiceAccount,
  StagedGlobalNetworkPolicy,
  StagedKubernetesNetworkPolicy,
  StagedNetworkPolicy,
  Tier,
} from '../src/resources/index.js';

export interface ClusterParams {
  readonly pods: number;
  readonly policies: number;
  readonly namespaces: number;
  readonly nodes: number;
  readonly seed: number;
}

/** Parameters for a cluster of about this many pods, with one policy per ten pods. */
export function clusterParams(pods: number, policies = Math.round(pods / 10), seed = 1): ClusterParams {
  return { pods, policies, namespaces: Math.max(4, Math.round(pods / 100)), nodes: Math.max(2, Math.round(pods / 100)), seed };
}

export interface SyntheticCluster {
  readonly params: ClusterParams;
  /** Everything, in the order a watch would list it: namespaces, accounts, nodes, … pods, policies. */
  readonly resources: readonly Resource[];
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
  readonly policies: readonly Resource[];
  /** Per namespace: its apps (label values of `app`), for churn and edits that stay realistic. */
  readonly apps: ReadonlyMap<string, readonly string[]>;
  /** The next free pod address index (see podAddress). */
  readonly nextAddress: number;
}

/** Mulberry32: small, fast, good enough for shapes, and the same on every machine. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** Picks by weight: `[[value, weight], …]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [v, w] of choices) {
      r -= w;
      if (r < 0) return v;
    }
    return (choices[choices.length - 1] as readonly [T, number])[0];
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
}

const CALICO = 'projectcalico.org/v3' as const;
const TEAMS = ['payments', 'search', 'checkout', 'identity', 'ml', 'data', 'infra', 'mobile', 'web', 'growth', 'ads', 'support'];
const APP_BASES = [
  'frontend', 'api', 'gateway', 'auth', 'cart', 'catalog', 'orders', 'billing', 'search', 'recommend', 'inventory', 'shipping',
  'notify', 'email', 'worker', 'scheduler', 'redis', 'postgres', 'mysql', 'kafka', 'zookeeper', 'elastic', 'kibana', 'grafana',
  'prometheus', 'loki', 'vault', 'consul', 'nginx', 'envoy', 'memcached', 'rabbitmq', 'minio', 'etcd', 'jaeger', 'otel', 'cron',
  'batch', 'importer', 'exporter',
];
const ROLES = ['frontend', 'backend', 'db', 'cache', 'queue'];
const ROLE_OF: Readonly<Record<string, string>> = {
  frontend: 'frontend', gateway: 'frontend', nginx: 'frontend', envoy: 'frontend', redis: 'cache', memcached: 'cache',
  postgres: 'db', mysql: 'db', elastic: 'db', etcd: 'db', minio: 'db', kafka: 'queue', rabbitmq: 'queue', zookeeper: 'queue',
};
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

/** The n-th pod address: 10.0.0.1 upwards, skipping .0 and .255. */
export function podAddress(n: number): string {
  const host = Math.floor(n / 254) * 256 + (n % 254) + 1;
  return `10.${(host >>> 16) & 255}.${(host >>> 8) & 255}.${host & 255}`;
}

function nodeAddress(n: number): string {
  const host = n + 1;
  return `172.${16 + ((host >>> 16) & 15)}.${(host >>> 8) & 255}.${host & 255}`;
}

export function generateCluster(params: ClusterParams): SyntheticCluster {
  const rnd = new Random(params.seed);
  // About eight namespaces per team, so a team-wide selector picks a share of pods that does not
  // grow with the cluster.
  const teams = Array.from({ length: Math.max(TEAMS.length, Math.round(params.namespaces / 8)) }, (_, i) =>
    i < TEAMS.length ? (TEAMS[i] as string) : `${TEAMS[i % TEAMS.length]}-${Math.floor(i / TEAMS.length)}`,
  );
  const namespaces: Namespace[] = [];
  const serviceAccounts: ServiceAccount[] = [];
  const nodes: Node[] = [];
  const hostEndpoints: HostEndpoint[] = [];
  const networkSets: NetworkSet[] = [];
  const globalNetworkSets: GlobalNetworkSet[] = [];
  const pods: Pod[] = [];
  const policies: Resource[] = [];
  const apps = new Map<string, string[]>();

  for (let i = 0; i < params.nodes; i++) {
    const name = `node-${i}`;
    const zone = rnd.pick(ZONES);
    nodes.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone, 'node-role.kubernetes.io/worker': '', 'instance-type': rnd.pick(['m5.large', 'm5.xlarge', 'c5.2xlarge']) } },
      spec: {},
      status: { addresses: [{ type: 'InternalIP', address: nodeAddress(i) }] },
    });
    hostEndpoints.push({
      apiVersion: CALICO,
      kind: 'HostEndpoint',
      metadata: { name: `${name}-eth0`, labels: { 'host-endpoint': 'true', 'topology.kubernetes.io/zone': zone } },
      spec: { node: name, interfaceName: 'eth0', expectedIPs: [nodeAddress(i)], ports: [{ name: 'ssh', port: 22, protocol: 'TCP' }] },
    });
  }

  // kube-system is small; the other namespaces follow a Zipf-like law: a few big ones, a long
  // tail of small ones.
  const systemSize = Math.min(50, Math.max(1, Math.round(params.pods / 200)));
  const weights = Array.from({ length: params.namespaces - 1 }, (_, i) => 1 / Math.pow(i + 1, 0.8));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const rest = params.pods - systemSize;
  const sizes = [systemSize, ...weights.map((w) => Math.max(1, Math.round((w / totalWeight) * rest)))];
  let excess = sizes.reduce((a, b) => a + b, 0) - params.pods;
  for (let i = sizes.length - 1; excess > 0 && i > 0; i--) {
    const cut = Math.min(excess, (sizes[i] as number) - 1);
    sizes[i] = (sizes[i] as number) - cut;
    excess -= cut;
  }
  if (excess < 0) sizes[1] = (sizes[1] as number) - excess;

  let address = 0;
  for (let i = 0; i < params.namespaces; i++) {
    const ns = i === 0 ? 'kube-system' : `ns-${i}`;
    const labels: Record<string, string> = {
      team: rnd.pick(teams),
      env: rnd.weighted([['prod', 60], ['staging', 25], ['dev', 15]]),
    };
    if (rnd.chance(0.3)) labels['istio-injection'] = 'enabled';
    if (rnd.chance(0.05)) labels['compliance'] = 'pci';
    namespaces.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
    serviceAccounts.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns, labels: {} } });

    const size = sizes[i] as number;
    const appCount = Math.max(1, Math.round(size / 8));
    const nsApps: string[] = [];
    const offset = rnd.int(APP_BASES.length);
    for (let j = 0; j < appCount; j++) {
      const base = i === 0 && j === 0 ? 'kube-dns' : (APP_BASES[(offset + j) % APP_BASES.length] as string);
      const app = j < APP_BASES.length ? base : `${base}-${Math.floor(j / APP_BASES.length)}`;
      nsApps.push(app);
      if (rnd.chance(0.6)) {
        serviceAccounts.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `sa-${app}`, namespace: ns, labels: { role: ROLE_OF[base] ?? rnd.pick(ROLES) } } });
      }
    }
    apps.set(ns, nsApps);
    for (let k = 0; k < size; k++) pods.push(makePod(rnd, ns, `${ns}-pod-${k}`, rnd.pick(nsApps), podAddress(address++), params.nodes));

    if (rnd.chance(0.2)) {
      networkSets.push({
        apiVersion: CALICO,
        kind: 'NetworkSet',
        metadata: { name: 'external-apis', namespace: ns, labels: { role: 'external-api' } },
        spec: { nets: Array.from({ length: 1 + rnd.int(4) }, () => `203.0.${rnd.int(256)}.0/24`) },
      });
    }
  }
  const gnsCount = Math.max(2, Math.round(params.policies / 500));
  for (let i = 0; i < gnsCount; i++) {
    const feed = i % 3 === 0;
    globalNetworkSets.push({
      apiVersion: CALICO,
      kind: 'GlobalNetworkSet',
      metadata: { name: `${feed ? 'threat-feed' : 'partners'}-${i}`, labels: feed ? { feed: 'threat' } : { role: 'trusted-partner' } },
      spec: { nets: Array.from({ length: 2 + rnd.int(20) }, () => `${100 + rnd.int(100)}.${rnd.int(256)}.${rnd.int(256)}.0/24`) },
    });
  }

  const tiers: Tier[] = [
    tier('security', 100, 'Pass'),
    tier('platform', 200, 'Pass'),
    tier('app', 500, 'Pass'),
  ];

  const nsNames = namespaces.map((n) => n.metadata.name);
  // Policies land in namespaces by size, as teams with more pods write more policy; the first
  // Kubernetes policy of a namespace is its default deny.
  const nsBySize = namespaces.map((n, i) => [n.metadata.name, sizes[i] as number] as const);
  const appsIn = (ns: string) => apps.get(ns) ?? ['frontend'];
  const defaultDenied = new Set<string>();
  const shapes: PolicyShapes = { teams, nsNames, appsIn, defaultDenied };
  for (let i = 0; i < params.policies; i++) {
    const ns = rnd.weighted(nsBySize);
    // Two cluster-wide security policies and two admin policies; the rest by weight.
    const kind: PolicyKind =
      i < 2 ? 'admin' : i < 4 ? 'all' : rnd.weighted<PolicyKind>([['knp', 45], ['np', 35], ['gnp', 15], ['staged', 4], ['admin', 0.1]]);
    policies.push(makePolicy(rnd, kind, i, ns, shapes));
  }

  const resources: Resource[] = [
    ...namespaces,
    ...serviceAccounts,
    ...nodes,
    ...hostEndpoints,
    ...tiers,
    ...globalNetworkSets,
    ...networkSets,
    ...pods,
    ...policies,
  ];
  return { params, resources, namespaces, pods, nodes, policies, apps, nextAddress: address };
}

function tier(name: string, order: number, defaultAction: 'Deny' | 'Pass'): Tier {
  return { apiVersion: CALICO, kind: 'Tier', metadata: { name, labels: {} }, spec: { order, defaultAction } };
}

/** A pod of an app, with the labels and ports pods of that app get. */
export function makePod(rnd: Random, ns: string, name: string, app: string, ip: string, nodeCount: number): Pod {
  const base = app.replace(/-\d+$/, '');
  const version = rnd.weighted([['v1', 50], ['v2', 35], ['v3', 15]]);
  const labels: Record<string, string> = {
    app,
    role: ROLE_OF[base] ?? (base === 'kube-dns' ? 'dns' : 'backend'),
    version,
    // One ReplicaSet per (namespace, app, version), as a Deployment rollout leaves it.
    'pod-template-hash': templateHash(`${ns}/${app}/${version}`),
  };
  if (base === 'kube-dns') labels['k8s-app'] = 'kube-dns';
  if (rnd.chance(0.05)) labels['release'] = 'canary';
  else if (rnd.chance(0.5)) labels['release'] = 'stable';
  if (rnd.chance(0.3)) labels['monitoring'] = 'enabled';
  const ports: ContainerPort[] = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];
  if (rnd.chance(0.5)) ports.push({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
  if (rnd.chance(0.2)) ports.push({ name: 'grpc', containerPort: 50051, protocol: 'TCP' });
  if (base === 'kube-dns') ports.push({ name: 'dns', containerPort: 53, protocol: 'UDP' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      nodeName: `node-${rnd.int(nodeCount)}`,
      hostNetwork: false,
      serviceAccountName: rnd.chance(0.6) ? `sa-${app}` : 'default',
      containers: [{ name: base, ports }],
    },
    status: { podIP: ip },
  };
}

function templateHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `${h.toString(16).padStart(8, '0')}${(text.length % 256).toString(16).padStart(2, '0')}`;
}

type PolicyKind = 'knp' | 'np' | 'gnp' | 'staged' | 'admin' | 'all';

interface PolicyShapes {
  readonly teams: readonly string[];
  readonly nsNames: readonly string[];
  readonly appsIn: (ns: string) => readonly string[];
  readonly defaultDenied: Set<string>;
}

function makePolicy(rnd: Random, kind: PolicyKind, i: number, ns: string, shapes: PolicyShapes): Resource {
  const apps = shapes.appsIn(ns);
  const { teams, nsNames } = shapes;
  switch (kind) {
    case 'knp':
      if (!shapes.defaultDenied.has(ns)) {
        shapes.defaultDenied.add(ns);
        return defaultDeny(`default-deny-${i}`, ns);
      }
      return kubernetesPolicy(rnd, `knp-${i}`, ns, apps, teams);
    case 'np':
      return calicoPolicy(rnd, `np-${i}`, ns, apps, teams);
    case 'gnp':
      return globalPolicy(rnd, `gnp-${i}`, nsNames, teams);
    case 'all':
      return gnp(`security-baseline-${i}`, 'security', i, {
        selector: 'all()',
        types: ['Ingress', 'Egress'],
        ingress: [{ action: 'Deny', source: { selector: `feed == 'threat'` } }, { action: 'Pass' }],
        egress: [{ action: 'Deny', destination: { selector: `feed == 'threat'` } }, { action: 'Pass' }],
      });
    case 'staged': {
      const which = rnd.int(3);
      if (which === 0) {
        const p = calicoPolicy(rnd, `np-staged-${i}`, ns, apps, teams);
        const staged: StagedNetworkPolicy = { ...p, kind: 'StagedNetworkPolicy', spec: { ...p.spec, stagedAction: rnd.chance(0.8) ? 'Set' : 'Delete' } };
        return staged;
      }
      if (which === 1) {
        const p = globalPolicy(rnd, `gnp-staged-${i}`, nsNames, teams);
        const staged: StagedGlobalNetworkPolicy = { ...p, kind: 'StagedGlobalNetworkPolicy', spec: { ...p.spec, stagedAction: 'Set' } };
        return staged;
      }
      const p = kubernetesPolicy(rnd, `knp-staged-${i}`, ns, apps, teams);
      const staged: StagedKubernetesNetworkPolicy = { apiVersion: CALICO, kind: 'StagedKubernetesNetworkPolicy', metadata: p.metadata, spec: { ...p.spec, stagedAction: 'Set' } };
      return staged;
    }
    case 'admin':
      return adminPolicy(rnd, i);
  }
}

function defaultDeny(name: string, ns: string): K8sNetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: {} },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  };
}

function kubernetesPolicy(rnd: Random, name: string, ns: string, apps: readonly string[], teams: readonly string[]): K8sNetworkPolicy {
  const app = rnd.pick(apps);
  const podSelector = rnd.weighted<K8sNetworkPolicy['spec']['podSelector']>([
    [{ matchLabels: { app } }, 75],
    [{ matchLabels: { app, version: rnd.pick(['v1', 'v2']) } }, 8],
    [{ matchLabels: { app }, matchExpressions: [{ key: 'role', operator: 'In', values: [rnd.pick(ROLES), rnd.pick(ROLES)] }] }, 7],
    [{ matchLabels: { app }, matchExpressions: [{ key: 'release', operator: 'NotIn', values: ['canary'] }] }, 5],
    [{ matchExpressions: [{ key: 'role', operator: 'In', values: ['db'] }, { key: 'monitoring', operator: 'DoesNotExist' }] }, 2],
  ]);
  const ingress: K8sNetworkPolicyIngressRule[] = [];
  const ruleCount = 1 + rnd.int(2);
  for (let r = 0; r < ruleCount; r++) {
    const from = rnd.weighted<NonNullable<K8sNetworkPolicyIngressRule['from']>>([
      [[{ podSelector: { matchLabels: { app: rnd.pick(apps) } } }], 45],
      [[{ podSelector: { matchLabels: { role: 'frontend' } } }], 10],
      [[{ namespaceSelector: { matchLabels: { team: rnd.pick(teams) } }, podSelector: { matchLabels: { role: rnd.pick(ROLES) } } }], 15],
      [[{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] } }], 5],
      [[{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], 5],
      [[{ podSelector: { matchExpressions: [{ key: 'monitoring', operator: 'Exists' }] } }], 10],
      [[{ ipBlock: { cidr: '172.16.0.0/12', except: ['172.16.255.0/24'] } }], 5],
      [[], 5],
    ]);
    const ports = rnd.weighted<K8sNetworkPolicyIngressRule['ports']>([
      [[{ protocol: 'TCP', port: 8080 }], 40],
      [[{ protocol: 'TCP', port: 'http' }], 30],
      [[{ protocol: 'TCP', port: 'metrics' }, { protocol: 'TCP', port: 9090 }], 10],
      [undefined, 20],
    ]);
    ingress.push({ from, ...(ports ? { ports } : {}) });
  }
  const withEgress = rnd.chance(0.3);
  const egress: K8sNetworkPolicyEgressRule[] = withEgress
    ? [
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
        rnd.chance(0.7)
          ? { to: [{ podSelector: { matchLabels: { app: rnd.pick(apps) } } }], ports: [{ protocol: 'TCP', port: rnd.pick([5432, 6379, 8080]) }] }
          : { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12'] } }] },
      ]
    : [];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: {} },
    spec: { podSelector, policyTypes: withEgress ? ['Ingress', 'Egress'] : ['Ingress'], ingress, ...(withEgress ? { egress } : {}) },
  };
}

function calicoPolicy(rnd: Random, name: string, ns: string, apps: readonly string[], teams: readonly string[]): CalicoNetworkPolicy {
  const app = rnd.pick(apps);
  const selector = rnd.weighted<string>([
    [`app == '${app}'`, 50],
    [`app == '${app}' && version in {'v1', 'v2'}`, 12],
    [`role in {'backend', 'db'} && !has(release) && has(monitoring)`, 2],
    [`app == '${app}' && release not in {'canary'}`, 10],
    [`has(monitoring) && app == '${app}'`, 8],
    [`app in {'${app}', '${rnd.pick(apps)}'}`, 10],
    [`!(role == 'frontend') && app == '${app}'`, 4],
  ]);
  const ingress: CalicoRule[] = [];
  const egress: CalicoRule[] = [];
  const ruleCount = 1 + rnd.int(3);
  for (let r = 0; r < ruleCount; r++) {
    const action = rnd.weighted<CalicoRule['action']>([['Allow', 75], ['Deny', 12], ['Log', 5], ['Pass', 8]]);
    const source = rnd.weighted<NonNullable<CalicoRule['source']>>([
      [{ selector: `app == '${rnd.pick(apps)}'` }, 40],
      [{ selector: `role == 'frontend'`, notSelector: `release == 'canary'` }, 10],
      [{ namespaceSelector: `team == '${rnd.pick(teams)}'`, selector: `role in {'frontend', 'backend'}` }, 15],
      [{ serviceAccounts: { names: [`sa-${rnd.pick(apps)}`] } }, 10],
      [{ namespaceSelector: `env == 'prod' && !has(compliance)` }, 5],
      [{ nets: ['10.0.0.0/8'], notNets: ['10.255.0.0/16'] }, 10],
      [{ selector: `has(monitoring)` }, 10],
    ]);
    ingress.push({
      action,
      protocol: 'TCP',
      source,
      destination: { ports: rnd.weighted<(string | number)[]>([[['http'], 35], [[8080], 35], [['metrics', 9090], 10], [['8000:8100'], 10], [['grpc'], 10]]) },
    });
  }
  if (rnd.chance(0.35)) {
    egress.push({
      action: 'Allow',
      protocol: 'TCP',
      destination: rnd.weighted<NonNullable<CalicoRule['destination']>>([
        [{ selector: `role == 'external-api'` }, 30],
        [{ selector: `app == '${rnd.pick(apps)}'`, ports: [5432, 6379] }, 40],
        [{ nets: ['0.0.0.0/0'], notNets: ['10.0.0.0/8'] }, 30],
      ]),
    });
    egress.push({ action: 'Allow', protocol: 'UDP', destination: { namespaceSelector: `projectcalico.org/name == 'kube-system'`, selector: `k8s-app == 'kube-dns'`, ports: [53] } });
  }
  const tierName = rnd.weighted([['app', 50], ['default', 30], ['platform', 20]]);
  return {
    apiVersion: CALICO,
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: {} },
    spec: {
      tier: tierName,
      order: 100 + rnd.int(900),
      selector,
      types: egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress,
      ...(egress.length > 0 ? { egress } : {}),
    },
  };
}

function globalPolicy(rnd: Random, name: string, nsNames: readonly string[], teams: readonly string[]): GlobalNetworkPolicy {
  const shape = rnd.weighted<'feed' | 'team' | 'hosts' | 'ns' | 'monitoring'>([
    ['feed', 10], ['team', 30], ['hosts', 10], ['ns', 40], ['monitoring', 10],
  ]);
  const ns = rnd.pick(nsNames);
  switch (shape) {
    case 'feed':
      return gnp(name, 'security', rnd.int(100), {
        selector: `projectcalico.org/namespace == '${ns}' || role == 'frontend' && projectcalico.org/namespace == '${rnd.pick(nsNames)}'`,
        types: ['Ingress', 'Egress'],
        ingress: [{ action: 'Deny', source: { selector: `feed == 'threat'` } }, { action: 'Pass' }],
        egress: [{ action: 'Deny', destination: { selector: `feed == 'threat'` } }, { action: 'Pass' }],
      });
    case 'team':
      return gnp(name, 'platform', rnd.int(1000), {
        namespaceSelector: `team == '${rnd.pick(teams)}' && env in {'prod', 'staging'}`,
        selector: `role == '${rnd.pick(ROLES)}'`,
        types: ['Ingress'],
        ingress: [
          { action: 'Allow', source: { selector: `role == 'trusted-partner'` } },
          { action: 'Allow', protocol: 'TCP', source: { namespaceSelector: `team == '${rnd.pick(teams)}'` }, destination: { ports: ['http'] } },
          { action: 'Pass' },
        ],
      });
    case 'hosts':
      return gnp(name, 'security', rnd.int(100), {
        selector: `has(host-endpoint) && topology.kubernetes.io/zone == '${rnd.pick(ZONES)}'`,
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: ['172.16.0.0/12'] }, destination: { ports: [22] } }, { action: 'Pass' }],
      });
    case 'ns':
      return gnp(name, rnd.pick(['platform', 'default']), rnd.int(1000), {
        selector: `projectcalico.org/namespace == '${ns}' && role in {'db', 'cache'}`,
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `projectcalico.org/namespace == '${ns}' && role == 'backend'` } }, { action: 'Deny' }],
      });
    case 'monitoring':
      return gnp(name, 'platform', rnd.int(1000), {
        selector: `projectcalico.org/namespace == '${ns}' && has(monitoring)`,
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { namespaceSelector: `projectcalico.org/name == 'kube-system'`, selector: `app == 'prometheus'` }, destination: { ports: ['metrics'] } }, { action: 'Pass' }],
      });
  }
}

function gnp(name: string, tierName: string, order: number, spec: Omit<GlobalNetworkPolicy['spec'], 'tier' | 'order'>): GlobalNetworkPolicy {
  return { apiVersion: CALICO, kind: 'GlobalNetworkPolicy', metadata: { name, labels: {} }, spec: { tier: tierName, order, ...spec } };
}

function adminPolicy(rnd: Random, i: number): Resource {
  if (i === 1) {
    const banp: BaselineAdminNetworkPolicy = {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default', labels: {} },
      spec: {
        subject: { namespaces: { matchLabels: { env: 'prod' } } },
        ingress: [{ name: 'deny-from-dev', action: 'Deny', from: [{ namespaces: { matchLabels: { env: 'dev' } } }] }],
      },
    };
    return banp;
  }
  const anp: AdminNetworkPolicy = {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: `anp-${i}`, labels: {} },
    spec: {
      priority: 1 + rnd.int(50),
      subject: { namespaces: { matchLabels: { compliance: 'pci' } } },
      ingress: [
        { name: 'allow-monitoring', action: 'Allow', from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ namedPort: 'metrics' }] },
        { name: 'pass-same-team', action: 'Pass', from: [{ namespaces: { matchLabels: { compliance: 'pci' } } }] },
        { name: 'deny-rest', action: 'Deny', from: [{ namespaces: {} }] },
      ],
    },
  };
  return anp;
}

export type PodChange =
  | { readonly op: 'add'; readonly pod: Pod }
  | { readonly op: 'delete'; readonly pod: Pod }
  | { readonly op: 'relabel'; readonly pod: Pod };

/**
 * Pod churn over a generated cluster: adds, deletes and label changes in equal parts, keeping
 * the pod count steady. Label changes touch what policies select on (version, release, app).
 */
export class PodChurn {
  private readonly rnd: Random;
  private readonly live: Pod[];
  private readonly index = new Map<string, number>();
  private nextAddress: number;
  private serial = 0;

  constructor(private readonly cluster: SyntheticCluster, seed: number) {
    this.rnd = new Random(seed);
    this.live = [...cluster.pods];
    this.live.forEach((p, i) => this.index.set(keyOf(p), i));
    this.nextAddress = cluster.nextAddress;
  }

  next(): PodChange {
    const op = this.rnd.pick(['add', 'delete', 'relabel'] as const);
    if (op === 'add' || this.live.length === 0) {
      const ns = this.rnd.pick(this.cluster.namespaces).metadata.name;
      const apps = this.cluster.apps.get(ns) ?? ['frontend'];
      const pod = makePod(this.rnd, ns, `${ns}-churn-${this.serial++}`, this.rnd.pick(apps), podAddress(this.nextAddress++), this.cluster.params.nodes);
      this.index.set(keyOf(pod), this.live.length);
      this.live.push(pod);
      return { op: 'add', pod };
    }
    const i = this.rnd.int(this.live.length);
    const pod = this.live[i] as Pod;
    if (op === 'delete') {
      const last = this.live.pop() as Pod;
      if (last !== pod) {
        this.live[i] = last;
        this.index.set(keyOf(last), i);
      }
      this.index.delete(keyOf(pod));
      return { op: 'delete', pod };
    }
    const labels = { ...pod.metadata.labels };
    const what = this.rnd.int(3);
    if (what === 0) labels['version'] = this.rnd.pick(['v1', 'v2', 'v3'].filter((v) => v !== labels['version']));
    else if (what === 1) {
      if (labels['release'] === 'canary') delete labels['release'];
      else labels['release'] = 'canary';
    } else labels['app'] = this.rnd.pick(this.cluster.apps.get(pod.metadata.namespace) ?? ['frontend']);
    const next: Pod = { ...pod, metadata: { ...pod.metadata, labels } };
    this.live[i] = next;
    return { op: 'relabel', pod: next };
  }
}

function keyOf(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}
