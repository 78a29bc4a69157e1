// Calico's host endpoints, as the evaluator and the data plane both read them: which host
// endpoint governs one end of a flow, and the failsafe ports every host endpoint keeps open
// whatever its policy (Felix's default failsafeInboundHostPorts / failsafeOutboundHostPorts).
import type { IpAddress } from '../net/index.js';
import type { Direction, Entity } from './model.js';
import type { Flow, FlowEnd } from './flow.js';

export interface FailsafePort {
  /** 6 (TCP) or 17 (UDP). */
  readonly protocol: number;
  readonly first: number;
  readonly last: number;
}

const tcp = (first: number, last = first): FailsafePort => ({ protocol: 6, first, last });
const udp = (first: number, last = first): FailsafePort => ({ protocol: 17, first, last });

/** Traffic into a host endpoint: SSH, DHCP client, BGP, etcd, Typha, the API server, self-hosted etcd. */
export const FAILSAFE_INBOUND: readonly FailsafePort[] = [tcp(22), udp(68), tcp(179), tcp(2379, 2380), tcp(5473), tcp(6443), tcp(6666, 6667)];
/** Traffic out of a host endpoint: DNS, DHCP server, BGP, etcd, Typha, the API server, self-hosted etcd. */
export const FAILSAFE_OUTBOUND: readonly FailsafePort[] = [udp(53), udp(67), tcp(179), tcp(2379, 2380), tcp(5473), tcp(6443), tcp(6666, 6667)];

/** The failsafe ports of a host endpoint's direction: ingress is inbound, egress outbound. */
export function failsafePorts(direction: Direction): readonly FailsafePort[] {
  return direction === 'ingress' ? FAILSAFE_INBOUND : FAILSAFE_OUTBOUND;
}

/** The failsafe entry a flow hits in one direction of a host endpoint, if any. */
export function failsafeFor(direction: Direction, flow: Pick<Flow, 'protocol' | 'destinationPort'>): FailsafePort | undefined {
  const port = flow.destinationPort;
  if (port === undefined) return undefined;
  return failsafePorts(direction).find((f) => f.protocol === flow.protocol && port >= f.first && port <= f.last);
}

/** The host's side of a node: the node itself, its host-networked pods, its host endpoints. */
export function isHostSide(e: Entity): boolean {
  return e.kind === 'node' || e.hostNetwork === true || e.kind === 'hostEndpoint';
}

/**
 * Which host endpoint governs one end of a flow. A host endpoint entity governs itself; a node or a
 * host-networked pod is governed by its node's host endpoint whose expectedIPs hold the end's
 * address (the interface that carries it), else by the node's all-interfaces (`*`) endpoint.
 * Traffic whose other end is on the same node (the host and its own pods, or the host talking to
 * itself) never crosses a host endpoint's interface, so none governs it. Ties go to the lowest id.
 */
export class HostEndpointIndex {
  private readonly byNode = new Map<string, Entity[]>();

  constructor(entities: Iterable<Entity>) {
    for (const e of entities) {
      if (e.kind !== 'hostEndpoint' || e.nodeName === undefined) continue;
      const list = this.byNode.get(e.nodeName);
      if (list) list.push(e);
      else this.byNode.set(e.nodeName, [e]);
    }
    for (const list of this.byNode.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  governing(end: FlowEnd, other: FlowEnd): Entity | undefined {
    const e = end.entity;
    if (e === undefined || !isHostSide(e)) return undefined;
    const hep = e.kind === 'hostEndpoint' ? e : this.ofAddress(e.nodeName, end.ip);
    if (hep === undefined) return undefined;
    const otherNode = other.entity?.nodeName;
    if (otherNode !== undefined && otherNode === hep.nodeName) return undefined;
    return hep;
  }

  private ofAddress(node: string | undefined, ip: IpAddress): Entity | undefined {
    if (node === undefined) return undefined;
    const list = this.byNode.get(node) ?? [];
    return list.find((h) => h.interfaceName !== '*' && h.ips.some((a) => a.text === ip.text)) ?? list.find((h) => h.interfaceName === '*');
  }
}
