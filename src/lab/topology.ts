// What a lab is made of, worked out from manifests before anything touches the kernel: which
// nodes exist, where each pod runs, its address (stated, or from block IPAM), its ports, and the
// names of the namespaces and interfaces. Pure, so the layout can be tested without root.
import { parseIp } from '../net/index.js';
import { BlockIpam, type AllocationBlock, type IpPoolConfig } from '../ipam/index.js';
import type { Namespace, Node, Pod, Resource } from '../resources/index.js';
import { UserError, type Problem } from '../errors/index.js';
import type { SourceRef } from '../resources/index.js';

export const DEFAULT_POOL: IpPoolConfig = { name: 'lab-default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 26 };
/** The lab's "internet" (TEST-NET-3: documentation addresses, never routed on a real network). */
export const INTERNET_IP = '203.0.113.1';
/** Calico's link-local gateway every pod routes through (answered by proxy ARP on the node). */
export const POD_GATEWAY = '169.254.1.1';
const NODE_SUBNET_BASE = [172, 18, 0];
/**
 * The lab is dual-stack: every address also has an IPv6 twin, its IPv4 bits under this unique
 * local /96 (10.244.1.10 → fd00:6d67::af4:10a), so a /26 block is a /122 and routes the same way.
 */
export const LAB_IPV6_PREFIX = 'fd00:6d67::';
/** The link-local gateway every pod's IPv6 default route uses (the node's side of each veth). */
export const POD_GATEWAY6 = 'fe80::1';

/** The IPv6 twin of a lab IPv4 address or CIDR (`a.b.c.d[/n]` → `fd00:6d67::hi:lo[/96+n]`). */
export function ipv6Twin(v4: string): string {
  const [addr = '', len] = v4.split('/');
  const o = addr.split('.').map(Number);
  const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
  const text = `${LAB_IPV6_PREFIX}${hex(o[0] ?? 0, o[1] ?? 0)}:${hex(o[2] ?? 0, o[3] ?? 0)}`;
  return len === undefined ? text : `${text}/${96 + Number(len)}`;
}

export const INTERNET_IP6 = ipv6Twin(INTERNET_IP);
export const DEFAULT_PORTS = [80, 81];

export interface LabNode {
  readonly name: string;
  readonly index: number;
  readonly netns: string;
  /** The node's address on the lab fabric (its InternalIP). */
  readonly ip: string;
  /** Its IPv6 address on the fabric (labs made before dual-stack have none). */
  readonly ip6?: string;
  /** Labels and other metadata from a Node manifest, if there was one. */
  readonly manifest?: Node;
}

export interface LabPod {
  /** `ns/name` */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly hostNetwork: boolean;
  /** The namespace it runs in: its own, or its node's when host-networked. */
  readonly netns: string;
  readonly ip: string;
  /** Its IPv6 address: stated in `status.podIPs`, else the twin of `ip` (absent in older labs). */
  readonly ip6?: string;
  /** Whether the address came from `status.podIP` (else from IPAM or the node). */
  readonly stated: boolean;
  /** The node-side veth, absent for host-network pods. */
  readonly hostInterface?: string;
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
  /** SCTP ports declared but not served (no SCTP in the lab kernel). */
  readonly sctp: readonly number[];
}

export interface LabLayout {
  readonly id: string;
  readonly fabricNetns: string;
  readonly internetNetns: string;
  readonly nodes: readonly LabNode[];
  readonly pods: readonly LabPod[];
  readonly pools: readonly IpPoolConfig[];
  readonly blocks: readonly AllocationBlock[];
  readonly notes: readonly string[];
}

export interface DecodedInput {
  readonly resource: Resource;
  readonly source: SourceRef;
}

export const netnsName = {
  fabric: (id: string) => `mgy-${id}-fabric`,
  internet: (id: string) => `mgy-${id}-inet`,
  node: (id: string, index: number) => `mgy-${id}-n${index}`,
  pod: (id: string, index: number) => `mgy-${id}-p${index}`,
};
/** The node-side veth of the pod with this global index (`mgp12`; at most 15 characters). */
export const podInterface = (index: number): string => `mgp${index}`;

function portsOf(p: Pod): { tcp: number[]; udp: number[]; sctp: number[] } {
  const tcp = new Set<number>();
  const udp = new Set<number>();
  const sctp = new Set<number>();
  for (const c of [...p.spec.containers, ...(p.spec.initContainers ?? [])]) {
    for (const port of c.ports ?? []) {
      (port.protocol === 'UDP' ? udp : port.protocol === 'SCTP' ? sctp : tcp).add(port.containerPort);
    }
  }
  if (tcp.size === 0 && udp.size === 0 && sctp.size === 0) return { tcp: [...DEFAULT_PORTS], udp: [...DEFAULT_PORTS], sctp: [] };
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { tcp: sorted(tcp), udp: sorted(udp), sctp: sorted(sctp) };
}

function problemAt(d: DecodedInput, path: string, message: string): Problem {
  return { file: d.source.file, document: d.source.document, ...(d.source.line !== undefined ? { line: d.source.line } : {}), object: `${d.resource.kind} ${d.resource.metadata.name}`, path, message };
}

function ipv4Of(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ip = parseIp(text);
  return ip?.family === 4 ? ip.text : undefined;
}

/** IPPools of the manifests (enabled, IPv4), or the lab's default pool. */
export function poolsOf(decoded: readonly DecodedInput[]): IpPoolConfig[] {
  const pools: IpPoolConfig[] = [];
  for (const d of decoded) {
    const r = d.resource;
    if (r.kind !== 'IPPool' || r.spec.disabled) continue;
    if (parseIp(r.spec.cidr.split('/')[0] ?? '')?.family !== 4) continue;
    pools.push({ name: r.metadata.name, cidr: r.spec.cidr, blockSize: r.spec.blockSize });
  }
  return pools.length > 0 ? pools : [DEFAULT_POOL];
}

/**
 * Lays out a new lab: nodes from Node manifests, then nodes pods name, then `lab-node-N` up to
 * `nodeCount`; pods without a node go round-robin.
 */
export function planLab(id: string, decoded: readonly DecodedInput[], nodeCount: number | undefined): LabLayout {
  const notes: string[] = [];
  const problems: Problem[] = [];
  const nodeManifests = new Map<string, Node>();
  const nodeIps = new Map<string, string>();
  for (const d of decoded) {
    if (d.resource.kind !== 'Node') continue;
    nodeManifests.set(d.resource.metadata.name, d.resource);
    const internal = d.resource.status.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const ip = ipv4Of(internal);
    if (ip !== undefined) nodeIps.set(d.resource.metadata.name, ip);
    else if (internal !== undefined) notes.push(`node ${d.resource.metadata.name}: InternalIP ${internal} is not IPv4; the lab assigns one`);
  }
  const names = [...nodeManifests.keys()];
  for (const d of decoded) {
    if (d.resource.kind === 'Pod' && d.resource.spec.nodeName !== undefined && !names.includes(d.resource.spec.nodeName)) names.push(d.resource.spec.nodeName);
  }
  const wanted = nodeCount ?? (names.length > 0 ? names.length : 2);
  for (let k = 1; names.length < wanted; k++) if (!names.includes(`lab-node-${k}`)) names.push(`lab-node-${k}`);
  if (nodeCount !== undefined && nodeCount < names.length) notes.push(`--nodes ${nodeCount}: the manifests name ${names.length} nodes; the lab has all of them`);

  const used = new Set(nodeIps.values());
  let hostOctet = 10;
  const nodes: LabNode[] = names.map((name, i) => {
    let ip = nodeIps.get(name);
    if (ip === undefined) {
      do ip = `${NODE_SUBNET_BASE.join('.')}.${++hostOctet}`;
      while (used.has(ip));
      used.add(ip);
    }
    const manifest = nodeManifests.get(name);
    const stated6 = manifest?.status.addresses?.find((a) => a.type === 'InternalIP' && parseIp(a.address)?.family === 6)?.address;
    return { name, index: i + 1, netns: netnsName.node(id, i + 1), ip, ip6: stated6 ?? ipv6Twin(ip), ...(manifest !== undefined ? { manifest } : {}) };
  });

  const pools = poolsOf(decoded);
  for (const d of decoded) {
    const r = d.resource;
    if (r.kind === 'IPPool' && !r.spec.disabled && parseIp(r.spec.cidr.split('/')[0] ?? '')?.family === 6) {
      notes.push(`IPPool ${r.metadata.name} (${r.spec.cidr}): the lab's IPAM allocates IPv4 only; a pod gets the IPv6 address its status.podIPs states, else the twin of its IPv4 address under ${LAB_IPV6_PREFIX}/96`);
    }
  }
  const ipam = new BlockIpam(pools);
  const { pods, notes: podNotes, problems: podProblems } = placePods(id, decoded, nodes, ipam, [], 0);
  notes.push(...podNotes);
  problems.push(...podProblems);
  if (problems.length > 0) throw new UserError(problems);
  return { id, fabricNetns: netnsName.fabric(id), internetNetns: netnsName.internet(id), nodes, pods, pools, blocks: ipam.blocks(), notes };
}

/**
 * Places the Pods of `decoded` that are not in `existing` onto nodes and gives them addresses.
 * `firstIndex` continues the global pod numbering (namespace and interface names).
 */
export function placePods(
  id: string,
  decoded: readonly DecodedInput[],
  nodes: readonly LabNode[],
  ipam: BlockIpam,
  existing: readonly LabPod[],
  firstIndex: number,
): { pods: LabPod[]; notes: string[]; problems: Problem[] } {
  const notes: string[] = [];
  const problems: Problem[] = [];
  const known = new Set(existing.map((p) => p.key));
  const reserved = new Set<string>([...existing.map((p) => p.ip), ...nodes.map((n) => n.ip), INTERNET_IP]);
  const podDocs = decoded.filter((d): d is DecodedInput & { resource: Pod } => d.resource.kind === 'Pod');
  for (const d of podDocs) {
    const ip = ipv4Of(d.resource.status.podIP);
    if (ip !== undefined && !d.resource.spec.hostNetwork) reserved.add(ip);
  }
  const out: LabPod[] = [];
  let index = firstIndex;
  let roundRobin = existing.length;
  const taken = new Map(existing.map((p) => [p.ip, p.key]));
  for (const d of podDocs) {
    const p = d.resource;
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (known.has(key)) {
      notes.push(`pod ${key} is already in the lab: its labels are updated; its address, node and ports stay as they are`);
      continue;
    }
    known.add(key);
    let node: LabNode | undefined;
    if (p.spec.nodeName !== undefined) {
      node = nodes.find((n) => n.name === p.spec.nodeName);
      if (node === undefined) {
        problems.push(problemAt(d, 'spec.nodeName', `node ${JSON.stringify(p.spec.nodeName)} is not in the lab (nodes: ${nodes.map((n) => n.name).join(', ')})`));
        continue;
      }
    } else {
      node = nodes[roundRobin++ % nodes.length];
      if (node === undefined) continue;
    }
    const ports = portsOf(p);
    if (ports.sctp.length > 0) notes.push(`pod ${key}: SCTP ports ${ports.sctp.join(', ')} are not served (no SCTP in the lab)`);
    if (p.spec.hostNetwork) {
      if (p.status.podIP !== undefined && p.status.podIP !== node.ip) notes.push(`host-network pod ${key} states ${p.status.podIP} but shares node ${node.name}'s address ${node.ip}`);
      out.push({ key, namespace: p.metadata.namespace, name: p.metadata.name, node: node.name, hostNetwork: true, netns: node.netns, ip: node.ip, ...(node.ip6 !== undefined ? { ip6: node.ip6 } : {}), stated: false, ...ports });
      continue;
    }
    // An IPv6-only statement keeps its IPv6 address and gets an IPv4 one from IPAM (the lab is dual-stack).
    const stated = ipv4Of(p.status.podIP) ?? (p.status.podIPs ?? []).map((x) => ipv4Of(x.ip)).find((x) => x !== undefined);
    if (p.status.podIP !== undefined && parseIp(p.status.podIP) === undefined) {
      problems.push(problemAt(d, 'status.podIP', `not an IP address: ${p.status.podIP}`));
      continue;
    }
    let ip = stated;
    if (ip === undefined) {
      const r = ipam.assign(node.name, key, reserved);
      if ('error' in r) {
        problems.push(problemAt(d, 'status.podIP', r.error));
        continue;
      }
      ip = r.ip;
    }
    const clash = taken.get(ip);
    if (clash !== undefined) {
      problems.push(problemAt(d, 'status.podIP', `address ${ip} is already used by pod ${clash}`));
      continue;
    }
    taken.set(ip, key);
    index++;
    out.push({
      key,
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      node: node.name,
      hostNetwork: false,
      netns: netnsName.pod(id, index),
      ip,
      stated: stated !== undefined,
      ip6: statedIpv6(p) ?? ipv6Twin(ip),
      hostInterface: podInterface(index),
      ...ports,
    });
  }
  return { pods: out, notes, problems };
}

/** A pod's stated IPv6 address (`status.podIPs`), if any. */
function statedIpv6(p: Pod): string | undefined {
  const texts = [p.status.podIP, ...(p.status.podIPs ?? []).map((x) => x.ip)];
  for (const t of texts) {
    const ip = t !== undefined ? parseIp(t) : undefined;
    if (ip?.family === 6) return ip.text;
  }
  return undefined;
}

/** Namespaces (Kubernetes ones) the lab registers: those in manifests and those pods live in. */
export function kubernetesNamespaces(decoded: readonly DecodedInput[], pods: readonly LabPod[]): string[] {
  const names = new Set<string>();
  for (const d of decoded) if (d.resource.kind === 'Namespace') names.add((d.resource as Namespace).metadata.name);
  for (const p of pods) names.add(p.namespace);
  return [...names];
}
