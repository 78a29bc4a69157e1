// Shared by the calc tests (this file holds no tests): resource builders, fast-check arbitraries
// for small random clusters, state transitions as update streams, and a verdict computed only
// from the engine's output (IP sets, active policies, endpoint lists) to hold against the
// evaluator's.
import fc from 'fast-check';
import { cidrContains, parseCidr, type IpAddress } from '../net/index.js';
import { HostEndpointIndex, failsafeFor, isHostSide, type Flow, type NormRule, type PeerMatch, type PortSet } from '../policy/index.js';
import type {
  AdminNetworkPolicy,
  AdminNetworkPolicyIngressPeer,
  AdminNetworkPolicyPort,
  BaselineAdminNetworkPolicy,
  CalicoNetworkPolicy,
  CalicoRule,
  EntityRule,
  GlobalNetworkPolicy,
  GlobalNetworkSet,
  HostEndpoint,
  K8sNetworkPolicy,
  K8sNetworkPolicyPeer,
  LabelSelector,
  Namespace,
  NetworkSet,
  Node,
  Pod,
  Profile,
  Resource,
  ServiceAccount,
  StagedKubernetesNetworkPolicy,
  StagedNetworkPolicy,
  Tier,
  ContainerPort,
} from '../resources/index.js';
import { namedPortMember } from './rule-sets.js';
import { resourceKey, resourceRef, type CalcState, type CalcUpdate, type PeerSets, type RuleSets } from './types.js';

const CALICO = 'projectcalico.org/v3' as const;

// ───────────── builders ─────────────

export function namespace(name: string, labels: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function serviceAccount(ns: string, name: string, labels: Record<string, string> = {}): ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels } };
}

export function node(name: string, ip: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}

export interface PodOptions {
  labels?: Record<string, string>;
  ip?: string;
  node?: string;
  serviceAccount?: string;
  hostNetwork?: boolean;
  ports?: ContainerPort[];
}

export function pod(ns: string, name: string, o: PodOptions = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: o.labels ?? {} },
    spec: {
      ...(o.node !== undefined ? { nodeName: o.node } : {}),
      hostNetwork: o.hostNetwork ?? false,
      serviceAccountName: o.serviceAccount ?? 'default',
      containers: [{ name: 'c', ...(o.ports ? { ports: o.ports } : {}) }],
    },
    status: o.ip !== undefined ? { podIP: o.ip } : {},
  };
}

export function tier(name: string, order: number | undefined, defaultAction: 'Deny' | 'Pass' = 'Deny'): Tier {
  return { apiVersion: CALICO, kind: 'Tier', metadata: { name, labels: {} }, spec: { ...(order !== undefined ? { order } : {}), defaultAction } };
}

export function networkPolicy(ns: string, name: string, spec: Partial<CalicoNetworkPolicy['spec']> = {}): CalicoNetworkPolicy {
  return {
    apiVersion: CALICO,
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: {} },
    spec: { tier: 'default', types: ['Ingress'], ...spec },
  };
}

export function globalNetworkPolicy(name: string, spec: Partial<GlobalNetworkPolicy['spec']> = {}): GlobalNetworkPolicy {
  return { apiVersion: CALICO, kind: 'GlobalNetworkPolicy', metadata: { name, labels: {} }, spec: { tier: 'default', types: ['Ingress'], ...spec } };
}

export function networkSet(ns: string, name: string, nets: string[], labels: Record<string, string> = {}): NetworkSet {
  return { apiVersion: CALICO, kind: 'NetworkSet', metadata: { name, namespace: ns, labels }, spec: { nets } };
}

export function globalNetworkSet(name: string, nets: string[], labels: Record<string, string> = {}): GlobalNetworkSet {
  return { apiVersion: CALICO, kind: 'GlobalNetworkSet', metadata: { name, labels }, spec: { nets } };
}

export function upsert(resource: Resource): CalcUpdate {
  return { type: 'upsert', resource };
}

export function remove(resource: Resource): CalcUpdate {
  return { type: 'delete', ref: resourceRef(resource) };
}

export function keyOf(r: Resource): string {
  return resourceKey(resourceRef(r));
}

// ───────────── random clusters ─────────────

const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'] as const;
const NODES = ['n1', 'n2'] as const;
export const NODE_IPS: Readonly<Record<string, string>> = { n1: '192.168.0.1', n2: '192.168.0.2' };
const POD_IPS = Array.from({ length: 14 }, (_, i) => `10.0.0.${i + 1}`);

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function labelsArb(vocab: Readonly<Record<string, readonly string[]>>): fc.Arbitrary<Record<string, string>> {
  const entries = Object.entries(vocab).map(([k, values]) => optional(fc.constantFrom(...values)).map((v) => [k, v] as const));
  return fc.tuple(...entries).map((pairs) => {
    const out: Record<string, string> = {};
    for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
    return out;
  });
}

const POD_LABELS = { app: ['web', 'db', 'api'], tier: ['fe', 'be'], version: ['v1', 'v2'], canary: ['true'] } as const;
const NS_LABELS = { team: ['x', 'y'], env: ['prod', 'dev'] } as const;
const SA_LABELS = { role: ['admin', 'web'] } as const;

const podSelectorText = fc.oneof(
  fc.constantFrom(
    "app == 'web'",
    "app == 'db'",
    "app in {'web', 'api'}",
    "app not in {'db'}",
    'has(tier)',
    '!has(canary)',
    "tier != 'fe'",
    "version == 'v1'",
    'all()',
    "app starts with 'w'",
    "role == 'gw'",
    "kind == 'ext'",
    'has(kind)',
  ),
  fc
    .tuple(
      fc.constantFrom("app == 'web'", 'has(tier)', "version in {'v2'}", '!has(canary)', "app != 'api'", "kind == 'feed'"),
      fc.constantFrom("tier == 'be'", 'has(version)', "app == 'db'", "canary == 'true'", "kind in {'ext', 'int'}"),
      fc.constantFrom('&&', '||'),
      fc.boolean(),
    )
    .map(([a, b, op, negate]) => (negate ? `!(${a} ${op} ${b})` : `${a} ${op} ${b}`)),
);
const namespaceSelectorText = fc.constantFrom("team == 'x'", 'has(env)', "env in {'prod'}", 'all()', 'global()', '!has(team)', "team != 'y'");
const serviceAccountSelectorText = fc.constantFrom("role == 'admin'", 'has(role)', "role != 'web'");

const namedPortNames = fc.constantFrom('http', 'dns', 'metrics');
const calicoPorts = fc.array(fc.oneof(fc.constantFrom(80, 53, 8080, 9090, '80:90', '8000:9000'), namedPortNames), { minLength: 1, maxLength: 2 });
const nets = fc.array(fc.constantFrom('10.0.0.0/29', '10.0.0.8/29', '172.16.0.0/16', '192.168.0.0/24', '0.0.0.0/0'), { minLength: 1, maxLength: 2 });

const entityRuleArb: fc.Arbitrary<EntityRule | undefined> = optional(
  fc
    .record(
      {
        selector: podSelectorText,
        notSelector: podSelectorText,
        namespaceSelector: namespaceSelectorText,
        serviceAccounts: fc.record(
          { names: fc.array(fc.constantFrom('default', 'admin'), { minLength: 1, maxLength: 2 }), selector: serviceAccountSelectorText },
          { requiredKeys: [] },
        ),
        nets,
        notNets: nets,
        ports: calicoPorts,
        notPorts: calicoPorts,
      },
      { requiredKeys: [] },
    )
    .map((r) => r as EntityRule),
);

const calicoRuleArb: fc.Arbitrary<CalicoRule> = fc
  .record({
    action: fc.constantFrom('Allow', 'Allow', 'Deny', 'Pass', 'Log'),
    protocol: optional(fc.constantFrom('TCP', 'UDP')),
    source: entityRuleArb,
    destination: entityRuleArb,
  })
  .map(({ action, protocol, source, destination }) => ({
    action: action as CalicoRule['action'],
    ...(protocol !== undefined ? { protocol: protocol as 'TCP' | 'UDP' } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(destination !== undefined ? { destination } : {}),
  }));

const typesArb = fc.constantFrom<('Ingress' | 'Egress')[]>(['Ingress'], ['Egress'], ['Ingress', 'Egress'], []);
const tierNameArb = fc.constantFrom('default', 'default', 't1', 't2', 't-missing', 'kube-admin');
const orderArb = optional(fc.constantFrom(1, 10, 100, 1000));

const calicoSpecArb = fc.record({
  tier: tierNameArb,
  order: orderArb,
  selector: optional(podSelectorText),
  types: typesArb,
  ingress: fc.array(calicoRuleArb, { maxLength: 2 }),
  egress: fc.array(calicoRuleArb, { maxLength: 2 }),
  serviceAccountSelector: optional(serviceAccountSelectorText),
});

function cleanSpec<T extends object>(spec: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) if (v !== undefined) out[k] = v;
  return out as T;
}

const labelSelectorArb: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  labelsArb({ app: ['web', 'db'], tier: ['be'] }).map((matchLabels) => ({ matchLabels })),
  fc
    .tuple(fc.constantFrom('app', 'tier', 'canary'), fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'))
    .map(([key, operator]) => ({
      matchExpressions: [
        operator === 'In' || operator === 'NotIn'
          ? { key, operator: operator as 'In' | 'NotIn', values: key === 'app' ? ['web', 'api'] : ['be', 'true'] }
          : { key, operator: operator as 'Exists' | 'DoesNotExist' },
      ],
    })),
);
const namespaceLabelSelectorArb: fc.Arbitrary<LabelSelector> = fc.oneof(
  fc.constant({}),
  fc.constantFrom<LabelSelector>({ matchLabels: { team: 'x' } }, { matchLabels: { 'kubernetes.io/metadata.name': 'ns-b' } }, {
    matchExpressions: [{ key: 'env', operator: 'Exists' }],
  }),
);

const k8sPeerArb: fc.Arbitrary<K8sNetworkPolicyPeer> = fc.oneof(
  labelSelectorArb.map((podSelector) => ({ podSelector })),
  namespaceLabelSelectorArb.map((namespaceSelector) => ({ namespaceSelector })),
  fc.tuple(labelSelectorArb, namespaceLabelSelectorArb).map(([podSelector, namespaceSelector]) => ({ podSelector, namespaceSelector })),
  fc.constantFrom<K8sNetworkPolicyPeer>({ ipBlock: { cidr: '10.0.0.0/28', except: ['10.0.0.4/30'] } }, { ipBlock: { cidr: '0.0.0.0/0' } }),
);
const k8sPortsArb = optional(
  fc.array(
    fc.oneof(
      fc.constantFrom(80, 53, 8080).map((port) => ({ protocol: 'TCP' as const, port })),
      namedPortNames.map((port) => ({ protocol: 'TCP' as const, port })),
      fc.constant({ protocol: 'UDP' as const, port: 'dns' }),
      fc.constant({ protocol: 'TCP' as const, port: 8000, endPort: 9000 }),
      fc.constant({ protocol: 'UDP' as const }),
    ),
    { minLength: 1, maxLength: 2 },
  ),
);
const k8sSpecArb = fc
  .record({
    podSelector: labelSelectorArb,
    types: fc.constantFrom<('Ingress' | 'Egress')[]>(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
    ingress: fc.array(fc.record({ from: optional(fc.array(k8sPeerArb, { maxLength: 2 })), ports: k8sPortsArb }), { maxLength: 2 }),
    egress: fc.array(fc.record({ to: optional(fc.array(k8sPeerArb, { maxLength: 2 })), ports: k8sPortsArb }), { maxLength: 2 }),
  })
  .map(({ podSelector, types, ingress, egress }) => ({
    podSelector,
    policyTypes: types,
    ingress: ingress.map((r) => cleanSpec(r)),
    egress: egress.map((r) => cleanSpec(r)),
  }));

function nsResources(): fc.Arbitrary<Resource[]> {
  const perNamespace = (ns: string) =>
    fc
      .record({
        present: fc.boolean(),
        labels: labelsArb(NS_LABELS),
        sas: fc.array(fc.tuple(fc.constantFrom('default', 'admin'), labelsArb(SA_LABELS)), { maxLength: 2 }),
        pods: fc.array(
          fc.record({
            name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
            labels: labelsArb(POD_LABELS),
            ip: fc.constantFrom(...POD_IPS),
            node: optional(fc.constantFrom(...NODES)),
            sa: fc.constantFrom('default', 'admin', 'missing'),
            hostNetwork: fc.constantFrom(false, false, false, false, true),
            ports: fc.subarray<ContainerPort>([
              { name: 'http', containerPort: 80, protocol: 'TCP' },
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
              { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
            ]),
            altHttp: fc.boolean(),
          }),
          { maxLength: 4 },
        ),
        netset: optional(fc.tuple(nets, labelsArb({ kind: ['ext', 'int'] }))),
        calico: fc.array(fc.tuple(fc.constantFrom('np1', 'np2'), calicoSpecArb), { maxLength: 2 }),
        staged: fc.array(fc.tuple(fc.constantFrom('np1', 'np2'), calicoSpecArb, fc.constantFrom('Set', 'Delete', 'Learn')), { maxLength: 1 }),
        k8s: fc.array(fc.tuple(fc.constantFrom('k1', 'k2'), k8sSpecArb), { maxLength: 2 }),
        stagedK8s: fc.array(fc.tuple(fc.constantFrom('k1'), k8sSpecArb, fc.constantFrom('Set', 'Delete')), { maxLength: 1 }),
      })
      .map((x) => {
        const out: Resource[] = [];
        if (x.present) out.push(namespace(ns, x.labels));
        for (const [name, labels] of x.sas) out.push(serviceAccount(ns, name, labels));
        for (const p of x.pods) {
          const ports = p.ports.map((port) => (port.name === 'http' && p.altHttp ? { ...port, containerPort: 8080 } : port));
          // A host-networked pod on a node may take the node's address.
          const ip = p.hostNetwork && p.node !== undefined && p.altHttp ? undefined : p.ip;
          out.push(
            pod(ns, p.name, {
              labels: p.labels,
              ...(ip !== undefined ? { ip } : {}),
              ...(p.node !== undefined ? { node: p.node } : {}),
              serviceAccount: p.sa,
              hostNetwork: p.hostNetwork,
              ports,
            }),
          );
        }
        if (x.netset) out.push(networkSet(ns, 's1', x.netset[0], x.netset[1]));
        for (const [name, spec] of x.calico) out.push(networkPolicy(ns, name, cleanSpec(spec)));
        for (const [name, spec, stagedAction] of x.staged) {
          const staged: StagedNetworkPolicy = {
            apiVersion: CALICO,
            kind: 'StagedNetworkPolicy',
            metadata: { name, namespace: ns, labels: {} },
            spec: { ...cleanSpec(spec), stagedAction: stagedAction as 'Set' | 'Delete' | 'Learn' },
          };
          out.push(staged);
        }
        for (const [name, spec] of x.k8s) {
          const knp: K8sNetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns, labels: {} }, spec };
          out.push(knp);
        }
        for (const [name, spec, stagedAction] of x.stagedK8s) {
          const sknp: StagedKubernetesNetworkPolicy = {
            apiVersion: CALICO,
            kind: 'StagedKubernetesNetworkPolicy',
            metadata: { name, namespace: ns, labels: {} },
            spec: { ...spec, stagedAction: stagedAction as 'Set' | 'Delete' },
          };
          out.push(sknp);
        }
        return out;
      });
  return fc.tuple(...NAMESPACES.map(perNamespace)).map((lists) => lists.flat());
}

const adminPeer = fc.constantFrom<AdminNetworkPolicyIngressPeer>(
  { namespaces: {} },
  { namespaces: { matchLabels: { team: 'x' } } },
  { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'db' } } } },
);

const adminArb: fc.Arbitrary<Resource[]> = fc
  .record({
    anp: optional(
      fc.record({
        priority: fc.integer({ min: 1, max: 50 }),
        subject: fc.constantFrom<AdminNetworkPolicy['spec']['subject']>(
          { namespaces: { matchLabels: { env: 'prod' } } },
          { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } } },
        ),
        action: fc.constantFrom('Allow', 'Deny', 'Pass'),
        from: fc.array(adminPeer, { minLength: 1, maxLength: 2 }),
        ports: optional(fc.constantFrom<AdminNetworkPolicyPort[]>([{ portNumber: { protocol: 'TCP', port: 80 } }], [{ namedPort: 'http' }])),
        egressNetworks: fc.boolean(),
      }),
    ),
    banp: optional(fc.record({ action: fc.constantFrom('Allow', 'Deny'), from: fc.array(adminPeer, { minLength: 1, maxLength: 1 }) })),
  })
  .map(({ anp, banp }) => {
    const out: Resource[] = [];
    if (anp) {
      const r: AdminNetworkPolicy = {
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'AdminNetworkPolicy',
        metadata: { name: 'a1', labels: {} },
        spec: {
          priority: anp.priority,
          subject: anp.subject,
          ingress: [{ name: 'r0', action: anp.action as 'Allow' | 'Deny' | 'Pass', from: anp.from, ...(anp.ports ? { ports: anp.ports } : {}) }],
          ...(anp.egressNetworks ? { egress: [{ name: 'e0', action: 'Deny' as const, to: [{ networks: ['172.16.0.0/16'] }, { nodes: { matchLabels: { zone: 'a' } } }] }] } : {}),
        },
      };
      out.push(r);
    }
    if (banp) {
      const r: BaselineAdminNetworkPolicy = {
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'BaselineAdminNetworkPolicy',
        metadata: { name: 'default', labels: {} },
        spec: { subject: { namespaces: {} }, ingress: [{ action: banp.action as 'Allow' | 'Deny', from: banp.from }] },
      };
      out.push(r);
    }
    return out;
  });

const clusterWideArb: fc.Arbitrary<Resource[]> = fc
  .record({
    nodes: fc.subarray([...NODES]),
    nodeLabels: fc.tuple(labelsArb({ zone: ['a', 'b'] }), labelsArb({ zone: ['a', 'b'] })),
    tiers: fc.array(fc.tuple(fc.constantFrom('t1', 't2', 'default'), orderArb, fc.constantFrom('Deny', 'Pass')), { maxLength: 3 }),
    heps: fc.subarray(['h1', 'h2']),
    hepInterfaces: fc.tuple(fc.constantFrom('eth0', '*'), fc.constantFrom('eth0', '*')),
    hepLabels: labelsArb({ role: ['gw', 'db'] }),
    gnetset: optional(fc.tuple(nets, labelsArb({ kind: ['ext', 'feed'] }))),
    gnps: fc.array(
      fc.tuple(
        fc.constantFrom('g1', 'g2'),
        calicoSpecArb,
        optional(namespaceSelectorText),
        fc.constantFrom<undefined | 'Set' | 'Delete'>(undefined, undefined, 'Set', 'Delete'),
      ),
      { maxLength: 3 },
    ),
    profiles: fc.subarray(['kns.ns-a', 'ksa.ns-b.admin']),
    profileRule: calicoRuleArb,
  })
  .map((x) => {
    const out: Resource[] = [];
    x.nodes.forEach((n, i) => out.push(node(n, NODE_IPS[n] as string, x.nodeLabels[i] ?? {})));
    for (const [name, order, action] of x.tiers) out.push(tier(name, order, action as 'Deny' | 'Pass'));
    x.heps.forEach((name, i) => {
      const h: HostEndpoint = {
        apiVersion: CALICO,
        kind: 'HostEndpoint',
        metadata: { name, labels: x.hepLabels },
        spec: {
          node: NODES[i] as string,
          // The node's uplink, named or as the all-interfaces endpoint, holding the node's address.
          interfaceName: x.hepInterfaces[i] as string,
          expectedIPs: [NODE_IPS[NODES[i] as string] as string],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        },
      };
      out.push(h);
    });
    if (x.gnetset) out.push(globalNetworkSet('gs1', x.gnetset[0], x.gnetset[1]));
    for (const [name, spec, nsSel, staged] of x.gnps) {
      const s = cleanSpec({ ...spec, namespaceSelector: nsSel });
      if (staged === undefined) out.push(globalNetworkPolicy(name, s));
      else out.push({ apiVersion: CALICO, kind: 'StagedGlobalNetworkPolicy', metadata: { name, labels: {} }, spec: { ...s, stagedAction: staged } });
    }
    for (const name of x.profiles) {
      const p: Profile = { apiVersion: CALICO, kind: 'Profile', metadata: { name, labels: {} }, spec: { ingress: [x.profileRule], egress: [] } };
      out.push(p);
    }
    return out;
  });

/** A small random cluster: every kind the engine reads, dangling references included. */
export const clusterArb: fc.Arbitrary<Resource[]> = fc
  .tuple(nsResources(), clusterWideArb, adminArb)
  .map(([a, b, c]) => dedupe([...b, ...a, ...c]));

/** Last one wins, as `kubectl apply` would have it. */
function dedupe(resources: Resource[]): Resource[] {
  const m = new Map<string, Resource>();
  for (const r of resources) m.set(keyOf(r), r);
  return [...m.values()];
}

/** The updates that take a datastore holding `from` to one holding `to` (upserts for all of `to`). */
export function transition(from: readonly Resource[], to: readonly Resource[]): CalcUpdate[] {
  const next = new Set(to.map(keyOf));
  return [...from.filter((r) => !next.has(keyOf(r))).map(remove), ...to.map(upsert)];
}

// ───────────── verdicts from the engine's output ─────────────

/**
 * Whether a flow is allowed, decided only from what the engine emitted, the way a data plane
 * would: endpoint lists pick policies, rules test addresses by IP-set membership.
 */
export function calcAllows(state: CalcState, flow: Flow, staged: boolean): boolean {
  const s = flow.source.entity;
  if (s !== undefined && s === flow.destination.entity) return true;
  return directionAllows(state, flow, 'egress', staged) && directionAllows(state, flow, 'ingress', staged);
}

function directionAllows(state: CalcState, flow: Flow, direction: 'ingress' | 'egress', staged: boolean): boolean {
  const end = direction === 'egress' ? flow.source : flow.destination;
  const other = direction === 'egress' ? flow.destination : flow.source;
  // The host's side is governed by the host endpoint of the interface it crosses, failsafe ports first.
  const hep = new HostEndpointIndex([...state.endpoints.values()].map((e) => e.endpoint)).governing(end, other);
  if (hep !== undefined && failsafeFor(direction, flow) !== undefined) return true;
  const entity = hep ?? end.entity;
  if (entity === undefined || !entity.enforced) return true;
  if (hep === undefined && entity.kind === 'hostEndpoint') return true;
  if (direction === 'ingress') {
    const src = flow.source.entity;
    if (src && entity.nodeName !== undefined && src.nodeName === entity.nodeName && isHostSide(src)) return true;
  }
  const ep = state.endpoints.get(entity.id);
  if (ep === undefined) throw new Error(`no endpoint output for ${entity.id}`);
  const view = staged && ep.staged ? ep.staged : ep;
  for (const t of view[direction]) {
    const tierState = state.tiers.get(t.tier);
    if (tierState === undefined) throw new Error(`tier ${t.tier} not active`);
    let passed = false;
    let decided: boolean | undefined;
    for (const id of t.policies) {
      const active = state.policies.get(id);
      if (active === undefined) throw new Error(`policy ${id} not active`);
      const rule = firstRule(state, active.policy[direction] ?? [], active[direction], flow);
      if (rule === undefined) continue;
      if (rule.action === 'Pass') passed = true;
      else decided = rule.action === 'Allow';
      break;
    }
    if (decided !== undefined) return decided;
    if (!passed && tierState.defaultAction === 'Deny') return false;
  }
  for (const name of entity.profiles) {
    const profile = state.profiles.get(name);
    if (profile === undefined) continue;
    const rule = firstRule(state, profile.profile[direction], profile[direction], flow);
    if (rule !== undefined && rule.action !== 'Pass') return rule.action === 'Allow';
  }
  return false;
}

function firstRule(state: CalcState, rules: readonly NormRule[], sets: readonly RuleSets[], flow: Flow): NormRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as NormRule;
    if (rule.action === 'Log') continue;
    if (ruleMatches(state, rule, sets[i] as RuleSets, flow)) return rule;
  }
  return undefined;
}

function ruleMatches(state: CalcState, rule: NormRule, sets: RuleSets, flow: Flow): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== flow.destination.ip.family) return false;
  if (rule.protocol !== undefined && rule.protocol !== flow.protocol) return false;
  if (rule.notProtocol !== undefined && rule.notProtocol === flow.protocol) return false;
  if (rule.icmp !== undefined || rule.notIcmp !== undefined) throw new Error('icmp rules are not generated');
  return (
    peerMatches(state, rule.source, sets.source, flow.source.ip, flow.sourcePort, flow.protocol) &&
    peerMatches(state, rule.destination, sets.destination, flow.destination.ip, flow.destinationPort, flow.protocol)
  );
}

function peerMatches(state: CalcState, peer: PeerMatch, sets: PeerSets, ip: IpAddress, port: number | undefined, protocol: number): boolean {
  if (peer.nets !== undefined && !peer.nets.some((n) => cidrContains(n, ip))) return false;
  if (peer.notNets !== undefined && peer.notNets.some((n) => cidrContains(n, ip))) return false;
  if (sets.selector !== undefined && !inSet(state, sets.selector, ip)) return false;
  if (sets.notSelector !== undefined && inSet(state, sets.notSelector, ip)) return false;
  if (peer.ports !== undefined && !portIn(state, peer.ports, sets.namedPorts ?? [], ip, port, protocol)) return false;
  if (peer.notPorts !== undefined && portIn(state, peer.notPorts, sets.notNamedPorts ?? [], ip, port, protocol)) return false;
  if (peer.services !== undefined || peer.domains !== undefined) return false;
  return true;
}

function members(state: CalcState, id: string): ReadonlySet<string> {
  const set = state.ipSets.get(id);
  if (set === undefined) throw new Error(`IP set ${id} missing`);
  return set.members;
}

function inSet(state: CalcState, id: string, ip: IpAddress): boolean {
  const m = members(state, id);
  if (m.has(ip.text)) return true;
  for (const member of m) {
    if (!member.includes('/')) continue;
    const cidr = parseCidr(member);
    if (cidr !== undefined && cidrContains(cidr, ip)) return true;
  }
  return false;
}

function portIn(state: CalcState, set: PortSet, named: readonly string[], ip: IpAddress, port: number | undefined, protocol: number): boolean {
  if (port === undefined) return false;
  for (const r of set.ranges) if (port >= r.first && port <= r.last) return true;
  const member = namedPortMember(ip.text, protocol, port);
  return named.some((id) => members(state, id).has(member));
}

/**
 * A sequence of states where each one keeps most of the previous one: every object is, with
 * some probability, replaced by (or swapped in or out for) its version in a fresh random state,
 * so labels, selectors, orders and tiers change under objects that stay, as in a real cluster.
 */
export const clusterSequenceArb: fc.Arbitrary<Resource[][]> = fc
  .tuple(clusterArb, fc.array(fc.tuple(clusterArb, fc.infiniteStream(fc.nat(9))), { maxLength: 4 }), fc.nat(9))
  .map(([first, steps, churn]) => {
    const states = [first];
    let prev = first;
    for (const [fresh, bits] of steps) {
      const it = bits[Symbol.iterator]();
      const before = new Map(prev.map((r) => [keyOf(r), r]));
      const after = new Map(fresh.map((r) => [keyOf(r), r]));
      const next: Resource[] = [];
      for (const key of new Set([...before.keys(), ...after.keys()])) {
        const takeFresh = (it.next().value as number) <= churn / 3;
        const r = takeFresh ? after.get(key) : before.get(key);
        if (r !== undefined) next.push(r);
      }
      states.push(next);
      prev = next;
    }
    return states;
  });
