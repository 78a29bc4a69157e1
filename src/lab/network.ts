// Builds the lab's network inside its namespaces, as Calico routes a cluster: each pod's eth0
// holds its address as a /32 with a default route via 169.254.1.1, which the node answers by
// proxy ARP on its side of the veth; the node routes `podIP/32 dev <veth>`. Nodes are joined by a
// bridge in the fabric namespace and route other nodes' blocks via those nodes; the internet
// namespace hangs off the same bridge. No command here runs outside a `mgy-` namespace.
import { addNamespace, assertInterfaceName, assertLabNamespace, ipBatch, ipBatchForced, sysctl } from './netns.js';
import { INTERNET_IP, INTERNET_IP6, POD_GATEWAY, POD_GATEWAY6, ipv6Twin, type LabNode, type LabPod } from './topology.js';
import type { AllocationBlock } from '../ipam/index.js';

export interface Fabric {
  readonly fabricNetns: string;
  readonly internetNetns: string;
  readonly nodes: readonly LabNode[];
}

/** The fabric bridge, the internet namespace and each node's uplink. */
export async function buildFabric(f: Fabric): Promise<void> {
  for (const ns of [f.fabricNetns, f.internetNetns, ...f.nodes.map((n) => n.netns)]) assertLabNamespace(ns);
  for (const n of f.nodes) assertInterfaceName(`n${n.index}`);
  // No multicast snooping: IPv6 neighbour discovery must reach every port of the fabric.
  await ipBatch(f.fabricNetns, ['link add br0 type bridge mcast_snooping 0', 'link set br0 up']);
  // `nodad`: an address is usable at once instead of after duplicate detection (~1 s).
  await ipBatch(f.internetNetns, [`link add eth0 type veth peer name inet netns ${f.fabricNetns}`, `addr add ${INTERNET_IP}/32 dev eth0`, `addr add ${INTERNET_IP6}/128 dev eth0 nodad`, 'link set eth0 up']);
  const fabricSide = ['link set inet master br0', 'link set inet up'];
  for (const n of f.nodes) {
    await ipBatch(n.netns, [`link add fab0 type veth peer name n${n.index} netns ${f.fabricNetns}`, `addr add ${n.ip}/32 dev fab0`, `addr add ${node6(n)}/128 dev fab0 nodad`, 'link set fab0 up']);
    fabricSide.push(`link set n${n.index} master br0`, `link set n${n.index} up`);
    await sysctl(n.netns, 'net.ipv4.ip_forward', '1');
    await sysctl(n.netns, 'net.ipv6.conf.all.forwarding', '1');
  }
  await ipBatch(f.fabricNetns, fabricSide);
  // Nodes reach each other and the internet directly on the bridge; the internet is their default.
  for (const n of f.nodes) {
    const peers = f.nodes.filter((o) => o !== n).flatMap((o) => [`route replace ${o.ip}/32 dev fab0 scope link`, `route replace ${node6(o)}/128 dev fab0`]);
    await ipBatch(n.netns, [
      ...peers,
      `route replace ${INTERNET_IP}/32 dev fab0 scope link`,
      `route replace default via ${INTERNET_IP} dev fab0 onlink`,
      `route replace ${INTERNET_IP6}/128 dev fab0`,
      `route replace ::/0 via ${INTERNET_IP6} dev fab0`,
    ]);
  }
  await ipBatch(f.internetNetns, f.nodes.flatMap((n) => [`route replace ${n.ip}/32 dev eth0 scope link`, `route replace ${node6(n)}/128 dev eth0`]));
}

/** A node's IPv6 address (older labs' nodes have only the twin). */
function node6(n: LabNode): string {
  return n.ip6 ?? ipv6Twin(n.ip);
}

/** A pod's namespace and veth (host-network pods have neither). */
export async function buildPod(pod: LabPod, node: LabNode): Promise<void> {
  if (pod.hostNetwork || pod.hostInterface === undefined) return;
  const veth = pod.hostInterface;
  assertInterfaceName(veth);
  assertLabNamespace(node.netns);
  await addNamespace(pod.netns);
  await ipBatch(node.netns, [`link add ${veth} type veth peer name eth0 netns ${pod.netns}`, `link set ${veth} up`, `route replace ${pod.ip}/32 dev ${veth} scope link`]);
  await sysctl(node.netns, `net.ipv4.conf.${veth}.proxy_arp`, '1');
  // Linux delays proxy-ARP answers by up to proxy_delay (0.8 s): a pod's first packet would wait
  // that long for its gateway's address. Calico sets it to 0 on its veths too.
  await sysctl(node.netns, `net.ipv4.neigh.${veth}.proxy_delay`, '0');
  await ipBatch(pod.netns, [`addr add ${pod.ip}/32 dev eth0`, 'link set eth0 up', `route add ${POD_GATEWAY} dev eth0 scope link`, `route add default via ${POD_GATEWAY} dev eth0`]);
  if (pod.ip6 === undefined) return;
  // IPv6 as Calico does it: the pod's /128, a default route via a link-local address the node's
  // side of the veth owns (so neighbour discovery answers it), the node routing the /128 back.
  await ipBatch(node.netns, [`addr add ${POD_GATEWAY6}/64 dev ${veth} nodad`, `route replace ${pod.ip6}/128 dev ${veth}`]);
  await ipBatch(pod.netns, [`addr add ${pod.ip6}/128 dev eth0 nodad`, `route add ::/0 via ${POD_GATEWAY6} dev eth0`]);
}

/**
 * Routes to pods on other nodes: each node's IPAM blocks via that node, plus a /32 for each pod
 * outside its node's blocks (stated addresses). On every node and in the internet namespace.
 */
export async function syncRoutes(f: Fabric, pods: readonly LabPod[], blocks: readonly AllocationBlock[]): Promise<void> {
  const routesTo = (target: LabNode): string[] => {
    const own = blocks.filter((b) => b.affinity === target.name).flatMap((b) => [b.cidr, ipv6Twin(b.cidr)]);
    const mine = pods.filter((p) => p.node === target.name && !p.hostNetwork);
    const stray = mine.filter((p) => p.stated).map((p) => `${p.ip}/32`);
    const stray6 = mine.filter((p) => p.ip6 !== undefined && (p.stated || p.ip6 !== ipv6Twin(p.ip))).map((p) => `${p.ip6}/128`);
    return [...own, ...stray, ...stray6];
  };
  const all = f.nodes.map((n) => ({ node: n, dests: routesTo(n) }));
  await Promise.all([
    ...f.nodes.map((n) =>
      ipBatch(
        n.netns,
        all.filter((t) => t.node !== n).flatMap((t) => t.dests.map((d) => via(d, t.node, 'fab0'))),
      ),
    ),
    ipBatch(f.internetNetns, all.flatMap((t) => t.dests.map((d) => via(d, t.node, 'eth0')))),
  ]);
}

function via(dest: string, node: LabNode, dev: string): string {
  return dest.includes(':') ? `route replace ${dest} via ${node6(node)} dev ${dev}` : `route replace ${dest} via ${node.ip} dev ${dev} onlink`;
}

/**
 * Removes routes to addresses no longer in the lab (a deleted pod's stated /32, a released
 * block) from every node but its own and from the internet namespace; a route already gone is fine.
 */
export async function dropRoutes(f: Fabric, gone: readonly { node: string; dest: string }[]): Promise<void> {
  if (gone.length === 0) return;
  await Promise.all([
    ...f.nodes.map((n) => ipBatchForced(n.netns, gone.filter((g) => g.node !== n.name).map((g) => `route del ${g.dest}`))),
    ipBatchForced(f.internetNetns, gone.map((g) => `route del ${g.dest}`)),
  ]);
}
