// IP address and CIDR checks for manifest fields, on top of ipaddr.js. Only four-part dotted IPv4
// and zone-free IPv6 are accepted, as Go's net.ParseIP / net.ParseCIDR (used upstream) do.
import ipaddr from 'ipaddr.js';

type IpFamily = 4 | 6;

interface ParsedNet {
  family: IpFamily;
  prefix: number;
  address: ipaddr.IPv4 | ipaddr.IPv6;
  /** No bits set after the prefix (what Calico calls "strictly masked"). */
  masked: boolean;
  /** The network with host bits cleared, e.g. "10.0.0.0/8". */
  network: string;
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  return ipaddr.IPv6.parse(text);
}

/** The family of a valid IP address, or undefined. */
export function ipFamily(text: string): IpFamily | undefined {
  const a = parseAddress(text);
  return a === undefined ? undefined : a.kind() === 'ipv4' ? 4 : 6;
}

/** Parses `addr/prefix`; a bare address is accepted (as a host route) only when allowBareIp. */
export function parseNet(text: string, allowBareIp: boolean): ParsedNet | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 && !allowBareIp) return undefined;
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const family: IpFamily = address.kind() === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  const network =
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
  return { family, prefix, address, masked: network.toString() === address.toString(), network: `${network.toString()}/${prefix}` };
}

/** True when `inner` lies inside `outer` and is strictly smaller (Kubernetes ipBlock.except rule). */
export function isStrictSubnet(inner: ParsedNet, outer: ParsedNet): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  return inner.address.kind() === 'ipv4'
    ? (inner.address as ipaddr.IPv4).match(outer.address as ipaddr.IPv4, outer.prefix)
    : (inner.address as ipaddr.IPv6).match(outer.address as ipaddr.IPv6, outer.prefix);
}

/** True when two networks share at least one address. */
export function overlaps(a: ParsedNet, b: ParsedNet): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.prefix, b.prefix);
  return a.address.kind() === 'ipv4'
    ? (a.address as ipaddr.IPv4).match(b.address as ipaddr.IPv4, bits)
    : (a.address as ipaddr.IPv6).match(b.address as ipaddr.IPv6, bits);
}
