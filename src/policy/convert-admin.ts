// policy.networking.k8s.io admin policies → the normalized model, placed as Calico places them
// (resources.KUBERNETES_POLICY_TIERS): AdminNetworkPolicy in tier `adminnetworkpolicy` and
// ClusterNetworkPolicy tier Admin in `kube-admin`, ordered by priority; BaselineAdminNetworkPolicy
// in `baselineadminnetworkpolicy` (order 1000) and tier Baseline in `kube-baseline`. All of these
// tiers end in Pass, so an unmatched flow moves on to NetworkPolicy, then to the namespace
// profile (allow).
import type {
  AdminNetworkPolicy,
  AdminNetworkPolicyEgressPeer,
  AdminNetworkPolicyPort,
  AdminNetworkPolicySubject,
  BaselineAdminNetworkPolicy,
  ClusterNetworkPolicy,
  ClusterNetworkPolicyProtocol,
} from '../resources/index.js';
import { KUBERNETES_POLICY_TIERS } from '../resources/index.js';
import { labelSelectorToSelector } from '../selector/index.js';
import type { EntityKind, NormPolicy, NormRule, PeerMatch, PortSet, RuleAction } from './model.js';
import { PROTOCOL_NUMBERS } from './model.js';
import { conjunction, kubernetesNamespaceSelector, kubernetesPods } from './scoping.js';
import { cidrs } from './convert-calico.js';

/** Calico orders the singleton BaselineAdminNetworkPolicy as 1000 within its tier. */
export const BASELINE_ORDER = 1000;

const POD_KINDS: ReadonlySet<EntityKind> = new Set(['pod']);
const NODE_KINDS: ReadonlySet<EntityKind> = new Set(['node']);

/** A port alternative: its protocol (undefined for named ports, which carry their own) and set. */
interface PortChoice {
  readonly protocol?: number;
  readonly ports: PortSet;
}

interface GenericRule {
  readonly name?: string;
  readonly action: RuleAction;
  readonly peers: readonly AdminNetworkPolicyEgressPeer[];
  readonly ports?: readonly PortChoice[];
}

export function convertAdminPolicy(p: AdminNetworkPolicy | BaselineAdminNetworkPolicy | ClusterNetworkPolicy): NormPolicy {
  const tier = p.kind === 'ClusterNetworkPolicy' ? KUBERNETES_POLICY_TIERS.ClusterNetworkPolicy[p.spec.tier] : KUBERNETES_POLICY_TIERS[p.kind];
  const order = p.kind === 'BaselineAdminNetworkPolicy' ? BASELINE_ORDER : p.spec.priority;
  const prefix = p.kind === 'AdminNetworkPolicy' ? 'kanp.adminnetworkpolicy' : p.kind === 'BaselineAdminNetworkPolicy' ? 'kbanp.baselineadminnetworkpolicy' : 'kcnp.clusternetworkpolicy';
  const ingress: GenericRule[] = [];
  const egress: GenericRule[] = [];
  if (p.kind === 'ClusterNetworkPolicy') {
    for (const r of p.spec.ingress ?? []) ingress.push({ ...named(r.name), action: clusterAction(r.action), peers: r.from, ...protocolsOf(r.protocols) });
    for (const r of p.spec.egress ?? []) egress.push({ ...named(r.name), action: clusterAction(r.action), peers: r.to, ...protocolsOf(r.protocols) });
  } else {
    for (const r of p.spec.ingress ?? []) ingress.push({ ...named(r.name), action: r.action, peers: r.from, ...portsOf(r.ports) });
    for (const r of p.spec.egress ?? []) egress.push({ ...named(r.name), action: r.action, peers: r.to, ...portsOf(r.ports) });
  }
  return {
    id: `${tier}|${p.kind}|${p.metadata.name}`,
    name: `${prefix}.${p.metadata.name}`,
    tier,
    order,
    subject: { selector: subjectSelector(p.spec.subject), kinds: POD_KINDS },
    ingress: ingress.flatMap((r, i) => normalizeRule(r, i, 'source', `spec.ingress[${i}].from`)),
    egress: egress.flatMap((r, i) => normalizeRule(r, i, 'destination', `spec.egress[${i}].to`)),
    // Admin policies govern a direction only through rules; with none there is nothing to apply.
    types: { ingress: ingress.length > 0, egress: egress.length > 0 },
    origin: { apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name },
  };
}

function named(name: string | undefined): { name?: string } {
  return name !== undefined ? { name } : {};
}

function clusterAction(a: 'Accept' | 'Deny' | 'Pass'): RuleAction {
  return a === 'Accept' ? 'Allow' : a;
}

function subjectSelector(subject: AdminNetworkPolicySubject) {
  if (subject.pods) {
    return conjunction([
      kubernetesPods,
      kubernetesNamespaceSelector(subject.pods.namespaceSelector, 'spec.subject.pods.namespaceSelector'),
      labelSelectorToSelector(subject.pods.podSelector, 'spec.subject.pods.podSelector'),
    ]);
  }
  return conjunction([kubernetesPods, kubernetesNamespaceSelector(subject.namespaces ?? {}, 'spec.subject.namespaces')]);
}

function portsOf(ports: readonly AdminNetworkPolicyPort[] | undefined): { ports?: PortChoice[] } {
  if (ports === undefined) return {};
  return {
    ports: ports.map((p): PortChoice => {
      if (p.portNumber) {
        return { protocol: PROTOCOL_NUMBERS[p.portNumber.protocol], ports: { ranges: [{ first: p.portNumber.port, last: p.portNumber.port }], named: [] } };
      }
      if (p.portRange) {
        return { protocol: PROTOCOL_NUMBERS[p.portRange.protocol], ports: { ranges: [{ first: p.portRange.start, last: p.portRange.end }], named: [] } };
      }
      return { ports: { ranges: [], named: [{ name: p.namedPort ?? '' }] } };
    }),
  };
}

function protocolsOf(protocols: readonly ClusterNetworkPolicyProtocol[] | undefined): { ports?: PortChoice[] } {
  if (protocols === undefined) return {};
  const choices: PortChoice[] = [];
  for (const p of protocols) {
    if (p.destinationNamedPort !== undefined) {
      choices.push({ ports: { ranges: [], named: [{ name: p.destinationNamedPort }] } });
      continue;
    }
    for (const [key, number] of [['tcp', PROTOCOL_NUMBERS.TCP], ['udp', PROTOCOL_NUMBERS.UDP], ['sctp', PROTOCOL_NUMBERS.SCTP]] as const) {
      const proto = p[key];
      if (!proto) continue;
      const dp = proto.destinationPort;
      const ranges = dp === undefined ? [{ first: 0, last: 65535 }] : dp.range ? [{ first: dp.range.start, last: dp.range.end }] : [{ first: dp.number ?? 0, last: dp.number ?? 65535 }];
      choices.push({ protocol: number, ports: { ranges, named: [] } });
    }
  }
  return { ports: choices };
}

/** Each (peer, port choice) is one normalized rule; all share the user's rule index and name. */
function normalizeRule(r: GenericRule, index: number, side: 'source' | 'destination', path: string): NormRule[] {
  const rules: NormRule[] = [];
  r.peers.forEach((peer, i) => {
    for (const match of peerMatches(peer, `${path}[${i}]`)) {
      const base = { action: r.action, index, ...(r.name !== undefined ? { name: r.name } : {}) };
      if (r.ports === undefined) {
        rules.push({ ...base, source: side === 'source' ? match : {}, destination: side === 'destination' ? match : {} });
        continue;
      }
      for (const choice of r.ports) {
        const destination: PeerMatch = side === 'destination' ? { ...match, ports: choice.ports } : { ports: choice.ports };
        rules.push({
          ...base,
          ...(choice.protocol !== undefined ? { protocol: choice.protocol } : {}),
          source: side === 'source' ? match : {},
          destination,
        });
      }
    }
  });
  return rules;
}

function peerMatches(peer: AdminNetworkPolicyEgressPeer, path: string): PeerMatch[] {
  const out: PeerMatch[] = [];
  if (peer.namespaces) {
    out.push({ selector: { selector: conjunction([kubernetesPods, kubernetesNamespaceSelector(peer.namespaces, `${path}.namespaces`)]), kinds: POD_KINDS } });
  }
  if (peer.pods) {
    out.push({
      selector: {
        selector: conjunction([
          kubernetesPods,
          kubernetesNamespaceSelector(peer.pods.namespaceSelector, `${path}.pods.namespaceSelector`),
          labelSelectorToSelector(peer.pods.podSelector, `${path}.pods.podSelector`),
        ]),
        kinds: POD_KINDS,
      },
    });
  }
  if (peer.nodes) out.push({ selector: { selector: labelSelectorToSelector(peer.nodes, `${path}.nodes`), kinds: NODE_KINDS } });
  if (peer.networks && peer.networks.length > 0) out.push({ nets: cidrs(peer.networks) });
  if (peer.domainNames && peer.domainNames.length > 0) out.push({ domains: peer.domainNames });
  return out;
}
