// networking.k8s.io/v1 NetworkPolicy → the normalized model, placed where Calico places it: tier
// `default`, order 1000, named `knp.default.<name>`. Each (peer, protocol) pair becomes one Allow
// rule; a pod selected in a direction with no matching rule meets the tier's end: deny.
import type {
  K8sNetworkPolicy,
  K8sNetworkPolicyPeer,
  K8sNetworkPolicyPort,
  StagedKubernetesNetworkPolicy,
} from '../resources/index.js';
import { KUBERNETES_POLICY_TIERS } from '../resources/index.js';
import { labelSelectorToSelector } from '../selector/index.js';
import type { EntityKind, NormPolicy, NormRule, PeerMatch, PortSet } from './model.js';
import { PROTOCOL_NUMBERS } from './model.js';
import { mergePortSets, singlePortSet } from './ports.js';
import { conjunction, inNamespace, kubernetesNamespaceSelector, kubernetesPods } from './scoping.js';
import { cidrs } from './convert-calico.js';

export const KUBERNETES_POLICY_TIER = KUBERNETES_POLICY_TIERS.NetworkPolicy;
export const KUBERNETES_POLICY_ORDER = 1000;
const POD_KINDS: ReadonlySet<EntityKind> = new Set(['pod']);

export function kubernetesPolicyId(namespace: string, name: string): string {
  return `${KUBERNETES_POLICY_TIER}|knp|${namespace}/${name}`;
}

export function convertKubernetesPolicy(p: K8sNetworkPolicy | StagedKubernetesNetworkPolicy): NormPolicy | undefined {
  const { namespace, name } = p.metadata;
  let staged: 'Set' | 'Delete' | undefined;
  if ('stagedAction' in p.spec) {
    if (p.spec.stagedAction !== 'Set' && p.spec.stagedAction !== 'Delete') return undefined;
    staged = p.spec.stagedAction;
  }
  const spec = p.spec;
  const id = kubernetesPolicyId(namespace, name);
  const subject = conjunction([inNamespace(namespace), kubernetesPods, labelSelectorToSelector(spec.podSelector, 'spec.podSelector')]);
  return {
    id: staged ? `staged:${id}` : id,
    name: `${namespace}/knp.default.${name}`,
    namespace,
    tier: KUBERNETES_POLICY_TIER,
    order: KUBERNETES_POLICY_ORDER,
    subject: { selector: subject, kinds: POD_KINDS },
    ingress: (spec.ingress ?? []).flatMap((r, i) => rulesFor('source', r.from, r.ports, i, namespace, `spec.ingress[${i}].from`)),
    egress: (spec.egress ?? []).flatMap((r, i) => rulesFor('destination', r.to, r.ports, i, namespace, `spec.egress[${i}].to`)),
    types: { ingress: spec.policyTypes.includes('Ingress'), egress: spec.policyTypes.includes('Egress') },
    ...(staged ? { staged, stagedTarget: id } : {}),
    origin: { apiVersion: p.apiVersion, kind: p.kind, name, namespace },
  };
}

/**
 * One rule per (peer, protocol). No peers (absent or empty) means every source/destination; no
 * ports means every port and protocol.
 */
function rulesFor(
  side: 'source' | 'destination',
  peers: readonly K8sNetworkPolicyPeer[] | undefined,
  ports: readonly K8sNetworkPolicyPort[] | undefined,
  index: number,
  namespace: string,
  path: string,
): NormRule[] {
  const peerMatches: PeerMatch[] =
    peers === undefined || peers.length === 0 ? [{}] : peers.map((peer, i) => peerMatch(peer, namespace, `${path}[${i}]`));
  const byProtocol = portsByProtocol(ports);
  const rules: NormRule[] = [];
  for (const peer of peerMatches) {
    if (byProtocol === undefined) {
      rules.push({ action: 'Allow', source: side === 'source' ? peer : {}, destination: side === 'destination' ? peer : {}, index });
      continue;
    }
    for (const [protocol, portSet] of byProtocol) {
      const destination: PeerMatch =
        side === 'destination' ? { ...peer, ...(portSet ? { ports: portSet } : {}) } : portSet ? { ports: portSet } : {};
      rules.push({ action: 'Allow', protocol, source: side === 'source' ? peer : {}, destination, index });
    }
  }
  return rules;
}

/** Ports grouped by protocol; a protocol with a port-less entry matches all its ports. */
function portsByProtocol(ports: readonly K8sNetworkPolicyPort[] | undefined): Map<number, PortSet | undefined> | undefined {
  if (ports === undefined || ports.length === 0) return undefined;
  const groups = new Map<number, PortSet[] | 'all'>();
  for (const port of ports) {
    const protocol = PROTOCOL_NUMBERS[port.protocol];
    const current = groups.get(protocol);
    if (port.port === undefined) {
      groups.set(protocol, 'all');
      continue;
    }
    if (current === 'all') continue;
    const set = singlePortSet(port.port, port.endPort, protocol);
    if (current) current.push(set);
    else groups.set(protocol, [set]);
  }
  const out = new Map<number, PortSet | undefined>();
  for (const [protocol, sets] of groups) out.set(protocol, sets === 'all' ? undefined : mergePortSets(sets));
  return out;
}

function peerMatch(peer: K8sNetworkPolicyPeer, namespace: string, path: string): PeerMatch {
  if (peer.ipBlock) {
    const except = peer.ipBlock.except ?? [];
    return { nets: cidrs([peer.ipBlock.cidr]), ...(except.length > 0 ? { notNets: cidrs(except) } : {}) };
  }
  const pods = peer.podSelector ? labelSelectorToSelector(peer.podSelector, `${path}.podSelector`) : undefined;
  const namespaces = peer.namespaceSelector
    ? kubernetesNamespaceSelector(peer.namespaceSelector, `${path}.namespaceSelector`)
    : inNamespace(namespace);
  return { selector: { selector: conjunction([kubernetesPods, namespaces, pods]), kinds: POD_KINDS } };
}
