// Does one normalized rule match one flow, seen from the endpoint the policy applies to.
// Every field present in a rule must match; Calico's semantics, field by field.
import { cidrContains, type Cidr, type IpAddress } from '../net/index.js';
import type { Entity, IcmpMatch, NormRule, PeerMatch, PortSet } from './model.js';
import { entityMatches, type AddressIndex } from './address-index.js';
import type { Flow } from './flow.js';

export function ruleMatches(rule: NormRule, flow: Flow, addresses: AddressIndex): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== flow.destination.ip.family) return false;
  if (rule.protocol !== undefined && rule.protocol !== flow.protocol) return false;
  if (rule.notProtocol !== undefined && rule.notProtocol === flow.protocol) return false;
  if (rule.icmp !== undefined && !icmpMatches(rule.icmp, flow)) return false;
  if (rule.notIcmp !== undefined && icmpMatches(rule.notIcmp, flow)) return false;
  return (
    peerMatches(rule.source, flow.source.ip, flow.sourcePort, flow, addresses) &&
    peerMatches(rule.destination, flow.destination.ip, flow.destinationPort, flow, addresses)
  );
}

function icmpMatches(m: IcmpMatch, flow: Flow): boolean {
  if (flow.icmp === undefined) return false;
  if (m.type !== undefined && m.type !== flow.icmp.type) return false;
  if (m.code !== undefined && m.code !== flow.icmp.code) return false;
  return true;
}

function peerMatches(
  peer: PeerMatch,
  ip: IpAddress,
  port: number | undefined,
  flow: Flow,
  addresses: AddressIndex,
): boolean {
  if (peer.nets !== undefined && !anyContains(peer.nets, ip)) return false;
  if (peer.notNets !== undefined && anyContains(peer.notNets, ip)) return false;
  if (peer.selector !== undefined && !addresses.selectorMatches(peer.selector, ip)) return false;
  if (peer.notSelector !== undefined && addresses.selectorMatches(peer.notSelector, ip)) return false;
  if (peer.ports !== undefined && !portInSet(peer.ports, peer, ip, port, flow, addresses)) return false;
  if (peer.notPorts !== undefined && portInSet(peer.notPorts, peer, ip, port, flow, addresses)) return false;
  // Services need Service and EndpointSlice objects, which a snapshot does not carry yet.
  if (peer.services !== undefined) return false;
  if (peer.domains !== undefined) {
    const domain = flow.domain;
    if (domain === undefined || !peer.domains.some((d) => domainMatches(d, domain))) return false;
  }
  return true;
}

function anyContains(nets: readonly Cidr[], ip: IpAddress): boolean {
  for (const n of nets) if (cidrContains(n, ip)) return true;
  return false;
}

/**
 * Numeric ranges match the port directly. A named port matches when an entity behind the
 * address (restricted by the peer's selector, as Calico's named-port IP sets are) declares a
 * port of that name with the flow's protocol and number.
 */
function portInSet(
  set: PortSet,
  peer: PeerMatch,
  ip: IpAddress,
  port: number | undefined,
  flow: Flow,
  addresses: AddressIndex,
): boolean {
  if (port === undefined) return false;
  for (const r of set.ranges) if (port >= r.first && port <= r.last) return true;
  if (set.named.length === 0) return false;
  for (const e of addresses.entitiesAt(ip)) {
    if (peer.selector !== undefined && !entityMatches(peer.selector, e)) continue;
    if (namedPortOn(e, set, port, flow.protocol)) return true;
  }
  return false;
}

function namedPortOn(e: Entity, set: PortSet, port: number, protocol: number): boolean {
  for (const binding of e.namedPorts) {
    if (binding.port !== port || binding.protocol !== protocol) continue;
    for (const n of set.named) {
      if (n.name === binding.name && (n.protocol === undefined || n.protocol === binding.protocol)) return true;
    }
  }
  return false;
}

/** `*.example.com` matches one or more labels in front; otherwise an exact, case-blind match. */
function domainMatches(pattern: string, domain: string): boolean {
  const p = pattern.toLowerCase();
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) return d.endsWith(p.slice(1)) && d.length > p.length - 1;
  return p === d;
}
