// Resources → entities, one object at a time: Pods, Namespaces, ServiceAccounts, Nodes,
// HostEndpoints and network sets become Entities with the effective labels Calico gives them.
// Objects may arrive in any order: a pod in a namespace not yet seen gets the implicit namespace
// labels until the namespace arrives (and again after it is deleted), as the batch builder does.
import {
  entityForGlobalNetworkSet,
  entityForHostEndpoint,
  entityForNetworkSet,
  entityForNode,
  entityForPod,
  namespaceLabelsOf,
  nodeAddresses,
  podIps,
  type Entity,
} from '../policy/index.js';
import type {
  GlobalNetworkSet,
  HostEndpoint,
  Labels,
  Namespace,
  NetworkSet,
  Node,
  Pod,
  ServiceAccount,
} from '../resources/index.js';
import type { IpAddress } from '../net/index.js';
import { labelsEqual } from './label-index.js';

/** Where entity changes go. */
export interface EntitySink {
  onEntityUpsert(entity: Entity, previous: Entity | undefined): void;
  onEntityRemove(entity: Entity): void;
  /** A namespace is known or has pods (so its `kns.<ns>` profile exists), or stopped being so. */
  onNamespacePresence(namespace: string, present: boolean): void;
}

interface NamespaceMembers {
  readonly pods: Set<string>;
  readonly networkSets: Set<string>;
}

export class EntityCalculator {
  /** Effective labels of known namespaces. */
  private readonly namespaces = new Map<string, Labels>();
  private readonly members = new Map<string, NamespaceMembers>();
  private readonly serviceAccounts = new Map<string, Labels>();
  /** `ns/sa` → pods using it. */
  private readonly serviceAccountPods = new Map<string, Set<string>>();
  private readonly nodeIps = new Map<string, IpAddress[]>();
  /** node → host-networked pods on it (their addresses may come from the node). */
  private readonly hostNetworkPods = new Map<string, Set<string>>();
  private readonly pods = new Map<string, Pod>();
  private readonly networkSets = new Map<string, NetworkSet>();
  /** The entities emitted, by id, to skip updates that change nothing. */
  private readonly current = new Map<string, Entity>();
  /** Parsed addresses per pod object and node address list, so re-labelling reparses nothing. */
  private readonly podAddressCache = new WeakMap<Pod, { nodeIps: readonly IpAddress[] | undefined; ips: IpAddress[] }>();

  constructor(private readonly sink: EntitySink) {}

  get entityCount(): number {
    return this.current.size;
  }

  upsertNamespace(ns: Namespace): void {
    const name = ns.metadata.name;
    const labels = namespaceLabelsOf(name, ns.metadata.labels);
    const previous = this.namespaces.get(name);
    if (previous !== undefined && labelsEqual(previous, labels)) return;
    const wasPresent = this.isPresent(name);
    this.namespaces.set(name, labels);
    this.refreshNamespaceMembers(name);
    if (!wasPresent) this.sink.onNamespacePresence(name, true);
  }

  deleteNamespace(name: string): void {
    if (!this.namespaces.delete(name)) return;
    this.refreshNamespaceMembers(name);
    if (!this.isPresent(name)) this.sink.onNamespacePresence(name, false);
  }

  upsertServiceAccount(sa: ServiceAccount): void {
    const key = `${sa.metadata.namespace}/${sa.metadata.name}`;
    const previous = this.serviceAccounts.get(key);
    if (previous !== undefined && labelsEqual(previous, sa.metadata.labels)) return;
    this.serviceAccounts.set(key, sa.metadata.labels);
    for (const pod of this.serviceAccountPods.get(key) ?? []) this.refreshPod(pod);
  }

  deleteServiceAccount(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.serviceAccounts.delete(key)) return;
    for (const pod of this.serviceAccountPods.get(key) ?? []) this.refreshPod(pod);
  }

  upsertNode(node: Node): void {
    const name = node.metadata.name;
    const ips = nodeAddresses(node);
    this.nodeIps.set(name, ips);
    this.emit(entityForNode(node, ips));
    for (const pod of this.hostNetworkPods.get(name) ?? []) this.refreshPod(pod);
  }

  deleteNode(name: string): void {
    if (!this.nodeIps.delete(name)) return;
    this.remove(`node:${name}`);
    for (const pod of this.hostNetworkPods.get(name) ?? []) this.refreshPod(pod);
  }

  upsertPod(pod: Pod): void {
    const ns = pod.metadata.namespace;
    const key = `${ns}/${pod.metadata.name}`;
    const previous = this.pods.get(key);
    const wasPresent = this.isPresent(ns);
    if (previous !== undefined) this.unlinkPod(key, previous);
    this.pods.set(key, pod);
    this.linkPod(key, pod);
    this.refreshPod(key);
    if (!wasPresent) this.sink.onNamespacePresence(ns, true);
  }

  deletePod(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const previous = this.pods.get(key);
    if (previous === undefined) return;
    this.pods.delete(key);
    this.unlinkPod(key, previous);
    this.remove(`pod:${key}`);
    if (!this.isPresent(namespace)) this.sink.onNamespacePresence(namespace, false);
  }

  upsertHostEndpoint(h: HostEndpoint): void {
    this.emit(entityForHostEndpoint(h));
  }

  deleteHostEndpoint(name: string): void {
    this.remove(`hep:${name}`);
  }

  upsertNetworkSet(s: NetworkSet): void {
    const ns = s.metadata.namespace;
    const key = `${ns}/${s.metadata.name}`;
    this.networkSets.set(key, s);
    this.membersOf(ns).networkSets.add(key);
    this.emit(entityForNetworkSet(s, this.namespaces.get(ns)));
  }

  deleteNetworkSet(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.networkSets.delete(key)) return;
    const m = this.members.get(namespace);
    m?.networkSets.delete(key);
    this.pruneMembers(namespace);
    this.remove(`netset:${key}`);
  }

  upsertGlobalNetworkSet(s: GlobalNetworkSet): void {
    this.emit(entityForGlobalNetworkSet(s));
  }

  deleteGlobalNetworkSet(name: string): void {
    this.remove(`gnetset:${name}`);
  }

  private isPresent(namespace: string): boolean {
    return this.namespaces.has(namespace) || (this.members.get(namespace)?.pods.size ?? 0) > 0;
  }

  private refreshNamespaceMembers(namespace: string): void {
    const m = this.members.get(namespace);
    if (m === undefined) return;
    for (const pod of m.pods) this.refreshPod(pod);
    for (const key of m.networkSets) {
      const s = this.networkSets.get(key);
      if (s !== undefined) this.emit(entityForNetworkSet(s, this.namespaces.get(namespace)));
    }
  }

  private refreshPod(key: string): void {
    const pod = this.pods.get(key);
    if (pod === undefined) return;
    const ns = pod.metadata.namespace;
    const nodeName = pod.spec.nodeName;
    const nodeIps = nodeName !== undefined ? this.nodeIps.get(nodeName) : undefined;
    let cached = this.podAddressCache.get(pod);
    if (cached === undefined || cached.nodeIps !== nodeIps) {
      cached = { nodeIps, ips: podIps(pod, nodeIps) };
      this.podAddressCache.set(pod, cached);
    }
    const ips = cached.ips;
    this.emit(entityForPod(pod, this.namespaces.get(ns), this.serviceAccounts.get(`${ns}/${pod.spec.serviceAccountName}`), ips));
  }

  private linkPod(key: string, pod: Pod): void {
    const ns = pod.metadata.namespace;
    this.membersOf(ns).pods.add(key);
    addTo(this.serviceAccountPods, `${ns}/${pod.spec.serviceAccountName}`, key);
    if (pod.spec.hostNetwork && pod.spec.nodeName !== undefined) addTo(this.hostNetworkPods, pod.spec.nodeName, key);
  }

  private unlinkPod(key: string, pod: Pod): void {
    const ns = pod.metadata.namespace;
    this.members.get(ns)?.pods.delete(key);
    this.pruneMembers(ns);
    removeFrom(this.serviceAccountPods, `${ns}/${pod.spec.serviceAccountName}`, key);
    if (pod.spec.hostNetwork && pod.spec.nodeName !== undefined) removeFrom(this.hostNetworkPods, pod.spec.nodeName, key);
  }

  private membersOf(namespace: string): NamespaceMembers {
    let m = this.members.get(namespace);
    if (m === undefined) {
      m = { pods: new Set(), networkSets: new Set() };
      this.members.set(namespace, m);
    }
    return m;
  }

  private pruneMembers(namespace: string): void {
    const m = this.members.get(namespace);
    if (m !== undefined && m.pods.size === 0 && m.networkSets.size === 0) this.members.delete(namespace);
  }

  private emit(entity: Entity): void {
    const previous = this.current.get(entity.id);
    if (previous !== undefined && entitiesEqual(previous, entity)) return;
    this.current.set(entity.id, entity);
    this.sink.onEntityUpsert(entity, previous);
  }

  private remove(id: string): void {
    const previous = this.current.get(id);
    if (previous === undefined) return;
    this.current.delete(id);
    this.sink.onEntityRemove(previous);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** Addresses, nets, named ports and host networking: what IP-set members are made of. */
export function entityPayloadEqual(a: Entity, b: Entity): boolean {
  return (
    a.hostNetwork === b.hostNetwork &&
    sameList(a.ips, b.ips, (x, y) => x.text === y.text) &&
    sameList(a.nets ?? [], b.nets ?? [], (x, y) => x.text === y.text) &&
    sameList(a.namedPorts, b.namedPorts, (x, y) => x.name === y.name && x.port === y.port && x.protocol === y.protocol)
  );
}

export function entitiesEqual(a: Entity, b: Entity): boolean {
  return (
    a.id === b.id &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.nodeName === b.nodeName &&
    a.hostNetwork === b.hostNetwork &&
    a.enforced === b.enforced &&
    a.interfaceName === b.interfaceName &&
    labelsEqual(a.labels, b.labels) &&
    sameList(a.profiles, b.profiles, (x, y) => x === y) &&
    entityPayloadEqual(a, b)
  );
}

function sameList<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!eq(a[i] as T, b[i] as T)) return false;
  return true;
}
