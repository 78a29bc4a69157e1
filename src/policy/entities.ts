// Turns Namespaces, Pods, ServiceAccounts, Nodes, HostEndpoints and network sets into entities
// with the effective labels Calico gives them, and the per-namespace profiles (`kns.<ns>`) that
// let an unselected Kubernetes pod talk freely.
import { UserError } from '../errors/index.js';
import { nthAddress, parseCidr, parseIp, type Cidr, type IpAddress } from '../net/index.js';
import type {
  GlobalNetworkSet,
  HostEndpoint,
  Namespace,
  NetworkSet,
  Node,
  Pod,
  ServiceAccount,
  Labels as ResourceLabels,
} from '../resources/index.js';
import type { Entity, NamedPortBinding, NormProfile } from './model.js';
import { PROTOCOL_NUMBERS } from './model.js';
import {
  KUBERNETES_NAMESPACE_NAME_LABEL,
  LABEL_NAME,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
} from './scoping.js';
import { protocolNumber } from './ports.js';

export interface EndpointInputs {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly nodes: readonly Node[];
  readonly hostEndpoints: readonly HostEndpoint[];
  readonly networkSets: readonly NetworkSet[];
  readonly globalNetworkSets: readonly GlobalNetworkSet[];
  /** CIDRs to assign addresses from when a pod has none (IPPools, else a default). */
  readonly podCidrs: readonly Cidr[];
}

export interface EndpointModel {
  readonly entities: Entity[];
  readonly profiles: NormProfile[];
  /** Pods by `ns/name`, in input order. */
  readonly pods: Map<string, Entity>;
  readonly notes: string[];
}

const DEFAULT_POD_CIDR = '10.244.0.0/16';
const DEFAULT_NODE_CIDR = '172.18.0.0/24';
const allowAll = [{ action: 'Allow' as const, source: {}, destination: {}, index: 0 }];

export function buildEndpoints(input: EndpointInputs): EndpointModel {
  const notes: string[] = [];
  const namespaceLabels = new Map<string, ResourceLabels>();
  for (const ns of input.namespaces) namespaceLabels.set(ns.metadata.name, namespaceLabelsOf(ns.metadata.name, ns.metadata.labels));
  // A pod's namespace exists in any real cluster; give a missing one its implicit labels.
  for (const p of input.pods) {
    const ns = p.metadata.namespace;
    if (!namespaceLabels.has(ns)) namespaceLabels.set(ns, namespaceLabelsOf(ns, {}));
  }
  const saLabels = new Map<string, ResourceLabels>();
  for (const sa of input.serviceAccounts) saLabels.set(`${sa.metadata.namespace}/${sa.metadata.name}`, sa.metadata.labels);

  const entities: Entity[] = [];
  const profiles: NormProfile[] = [...namespaceLabels.keys()].map(namespaceProfile);

  const usedAddresses = new Set<string>();
  for (const p of input.pods) for (const ip of podAddresses(p)) usedAddresses.add(ip.text);
  for (const n of input.nodes) for (const a of n.status.addresses ?? []) usedAddresses.add(a.address);
  const podAllocator = allocator(input.podCidrs.length > 0 ? input.podCidrs : [parseCidr(DEFAULT_POD_CIDR) as Cidr], usedAddresses);
  const nodeAllocator = allocator([parseCidr(DEFAULT_NODE_CIDR) as Cidr], usedAddresses);

  const nodeIps = new Map<string, IpAddress[]>();
  for (const n of input.nodes) {
    let ips = nodeAddresses(n);
    if (ips.length === 0) {
      ips = [nodeAllocator()];
      notes.push(`node ${n.metadata.name} has no InternalIP; assigned ${ips[0]?.text}`);
    }
    nodeIps.set(n.metadata.name, ips);
    entities.push(entityForNode(n, ips));
  }

  const pods = new Map<string, Entity>();
  for (const p of input.pods) {
    const ns = p.metadata.namespace;
    const key = `${ns}/${p.metadata.name}`;
    const nodeName = p.spec.nodeName;
    let ips = podIps(p, nodeName !== undefined ? nodeIps.get(nodeName) : undefined);
    if (ips.length === 0 && p.spec.hostNetwork) {
      ips = [nodeAllocator()];
      notes.push(`host-network pod ${key} has no node address; assigned ${ips[0]?.text}`);
    } else if (ips.length === 0) {
      ips = [podAllocator()];
      notes.push(`pod ${key} has no status.podIP; assigned ${ips[0]?.text}`);
    }
    const entity = entityForPod(p, namespaceLabels.get(ns), saLabels.get(`${ns}/${p.spec.serviceAccountName}`), ips);
    pods.set(key, entity);
    entities.push(entity);
  }

  for (const h of input.hostEndpoints) entities.push(entityForHostEndpoint(h));
  for (const s of input.networkSets) entities.push(entityForNetworkSet(s, namespaceLabels.get(s.metadata.namespace)));
  for (const s of input.globalNetworkSets) entities.push(entityForGlobalNetworkSet(s));
  return { entities, profiles, pods, notes };
}

// Per-object builders, shared by buildEndpoints (a whole snapshot) and the calc engine (one
// object at a time): an object's entity depends only on the object and the labels passed in.

/** The profile Calico gives every namespace (`kns.<ns>`): allow everything both ways. */
export function namespaceProfile(namespace: string): NormProfile {
  return { name: `kns.${namespace}`, ingress: allowAll, egress: allowAll };
}

/**
 * A pod's effective labels: namespace labels under `pcns.`, service-account labels under `pcsa.`,
 * its own labels, then the implicit namespace, orchestrator and service-account labels.
 * `namespaceLabels` are the namespace's effective labels (see namespaceLabelsOf); undefined for a
 * namespace not (yet) known, which gets its implicit labels only.
 */
export function podEffectiveLabels(
  p: Pod,
  namespaceLabels: ResourceLabels | undefined,
  serviceAccountLabels: ResourceLabels | undefined,
): Record<string, string> {
  const ns = p.metadata.namespace;
  const sa = p.spec.serviceAccountName;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(namespaceLabels ?? namespaceLabelsOf(ns, {}))) labels[NAMESPACE_LABEL_PREFIX + k] = v;
  // Service-account labels exist only when the ServiceAccount object does.
  if (serviceAccountLabels) {
    for (const [k, v] of Object.entries(serviceAccountLabels)) labels[SERVICE_ACCOUNT_LABEL_PREFIX + k] = v;
    labels[SERVICE_ACCOUNT_LABEL_PREFIX + LABEL_NAME] = sa;
  }
  Object.assign(labels, p.metadata.labels);
  labels[LABEL_NAMESPACE] = ns;
  labels[LABEL_ORCHESTRATOR] = 'k8s';
  labels[LABEL_SERVICE_ACCOUNT] = sa;
  return labels;
}

/**
 * A pod's addresses: its own, or for a host-networked pod without any, its node's. Empty when
 * neither is known (buildEndpoints then assigns one; the calc engine waits for one).
 */
export function podIps(p: Pod, nodeIps: readonly IpAddress[] | undefined): IpAddress[] {
  const ips = podAddresses(p);
  if (ips.length === 0 && p.spec.hostNetwork) return [...(nodeIps ?? [])];
  return ips;
}

export function entityForPod(
  p: Pod,
  namespaceLabels: ResourceLabels | undefined,
  serviceAccountLabels: ResourceLabels | undefined,
  ips: readonly IpAddress[],
): Entity {
  const ns = p.metadata.namespace;
  const sa = p.spec.serviceAccountName;
  const nodeName = p.spec.nodeName;
  return {
    id: `pod:${ns}/${p.metadata.name}`,
    kind: 'pod',
    name: p.metadata.name,
    namespace: ns,
    labels: podEffectiveLabels(p, namespaceLabels, serviceAccountLabels),
    ips,
    namedPorts: p.spec.hostNetwork ? [] : podNamedPorts(p),
    enforced: !p.spec.hostNetwork,
    profiles: p.spec.hostNetwork ? [] : [`kns.${ns}`, `ksa.${ns}.${sa}`],
    ...(nodeName !== undefined ? { nodeName } : {}),
    ...(p.spec.hostNetwork ? { hostNetwork: true } : {}),
  };
}

/** A node's InternalIP and ExternalIP addresses. */
export function nodeAddresses(n: Node): IpAddress[] {
  return (n.status.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => parseIp(a.address))
    .filter((ip): ip is IpAddress => ip !== undefined);
}

export function entityForNode(n: Node, ips: readonly IpAddress[]): Entity {
  return {
    id: `node:${n.metadata.name}`,
    kind: 'node',
    name: n.metadata.name,
    labels: n.metadata.labels,
    ips,
    namedPorts: [],
    enforced: false,
    profiles: [],
    nodeName: n.metadata.name,
  };
}

export function entityForHostEndpoint(h: HostEndpoint): Entity {
  return {
    id: `hep:${h.metadata.name}`,
    kind: 'hostEndpoint',
    name: h.metadata.name,
    labels: h.metadata.labels,
    ips: (h.spec.expectedIPs ?? []).map(parseIp).filter((ip): ip is IpAddress => ip !== undefined),
    namedPorts: (h.spec.ports ?? []).map((port) => ({
      name: port.name,
      port: port.port,
      protocol: protocolNumber(port.protocol),
    })),
    enforced: true,
    profiles: h.spec.profiles ?? [],
    nodeName: h.spec.node,
    ...(h.spec.interfaceName ? { interfaceName: h.spec.interfaceName } : {}),
  };
}

/** A namespaced NetworkSet: its labels plus the namespace's under `pcns.` and the namespace label. */
export function entityForNetworkSet(s: NetworkSet, namespaceLabels: ResourceLabels | undefined): Entity {
  const ns = s.metadata.namespace;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(namespaceLabels ?? namespaceLabelsOf(ns, {}))) labels[NAMESPACE_LABEL_PREFIX + k] = v;
  Object.assign(labels, s.metadata.labels);
  labels[LABEL_NAMESPACE] = ns;
  return networkSetEntity(`netset:${ns}/${s.metadata.name}`, s.metadata.name, labels, s.spec.nets, ns);
}

export function entityForGlobalNetworkSet(s: GlobalNetworkSet): Entity {
  return networkSetEntity(`gnetset:${s.metadata.name}`, s.metadata.name, s.metadata.labels, s.spec.nets);
}

/** A namespace's effective labels: its own plus those the API server and Calico add. */
export function namespaceLabelsOf(name: string, labels: ResourceLabels): ResourceLabels {
  return { ...labels, [KUBERNETES_NAMESPACE_NAME_LABEL]: name, [LABEL_NAME]: name };
}

function networkSetEntity(id: string, name: string, labels: ResourceLabels, nets: readonly string[] | undefined, namespace?: string): Entity {
  return {
    id,
    kind: 'networkSet',
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    labels,
    ips: [],
    nets: (nets ?? []).map(parseCidr).filter((c): c is Cidr => c !== undefined),
    namedPorts: [],
    enforced: false,
    profiles: [],
  };
}

/** The addresses in a pod's status (podIP and podIPs), without duplicates. */
export function podAddresses(p: Pod): IpAddress[] {
  const texts = new Set<string>();
  if (p.status.podIP) texts.add(p.status.podIP);
  for (const { ip } of p.status.podIPs ?? []) texts.add(ip);
  return [...texts].map(parseIp).filter((ip): ip is IpAddress => ip !== undefined);
}

function podNamedPorts(p: Pod): NamedPortBinding[] {
  const out: NamedPortBinding[] = [];
  for (const c of [...p.spec.containers, ...(p.spec.initContainers ?? [])]) {
    for (const port of c.ports ?? []) {
      if (port.name === undefined || port.name === '') continue;
      out.push({ name: port.name, port: port.containerPort, protocol: PROTOCOL_NUMBERS[port.protocol] });
    }
  }
  return out;
}

/** Hands out the next unused address from a list of CIDRs (skipping network addresses). */
function allocator(cidrs: readonly Cidr[], used: Set<string>): () => IpAddress {
  let cidrIndex = 0;
  let n = 1;
  return () => {
    for (;;) {
      const cidr = cidrs[cidrIndex];
      if (!cidr) throw new UserError({ message: 'no free pod address left in the IP pools; give pods status.podIP or add an IPPool' });
      const ip = nthAddress(cidr, n++);
      if (!ip) {
        cidrIndex++;
        n = 1;
        continue;
      }
      if (used.has(ip.text)) continue;
      used.add(ip.text);
      return ip;
    }
  };
}
