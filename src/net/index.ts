// IP addresses and CIDRs as compact numbers, so the evaluator and calc engine can test
// membership without reparsing strings. Parsing and validation come from ipaddr.js.
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** A parsed address: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit bigint. */
export type IpAddress =
  | { readonly family: 4; readonly value: number; readonly text: string }
  | { readonly family: 6; readonly value: bigint; readonly text: string };

export interface Cidr {
  readonly family: IpFamily;
  readonly prefix: number;
  /** Network address with host bits cleared (number for IPv4, bigint for IPv6). */
  readonly network: number | bigint;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

/** Parses an address, returning undefined when it is not a valid IPv4 or IPv6 address. */
export function parseIp(text: string): IpAddress | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v4Of(v6.toIPv4Address().toByteArray());
    let value = 0n;
    for (const byte of v6.toByteArray()) value = (value << 8n) | BigInt(byte);
    return { family: 6, value, text: v6.toString() };
  }
  const bytes = (parsed as ipaddr.IPv4).toByteArray();
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return v4Of(bytes);
}

function v4Of(bytes: number[]): IpAddress {
  const [a = 0, b = 0, c = 0, d = 0] = bytes;
  const value = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  return { family: 4, value, text: `${a}.${b}.${c}.${d}` };
}

/**
 * Parses `addr/prefix` (or a bare address as a host route). Host bits set in the address are
 * cleared, as Calico and Kubernetes do when they match.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  if (ip.family === 4) {
    const network = prefix === 0 ? 0 : ((ip.value >>> (32 - prefix)) << (32 - prefix)) >>> 0;
    return { family: 4, prefix, network, text: `${v4Text(network)}/${prefix}` };
  }
  const shift = BigInt(128 - prefix);
  const network = (ip.value >> shift) << shift;
  return { family: 6, prefix, network, text: `${v6Text(network)}/${prefix}` };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  if (cidr.prefix === 0) return true;
  if (ip.family === 4) {
    const shift = 32 - cidr.prefix;
    return shift === 0 ? ip.value === cidr.network : ip.value >>> shift === (cidr.network as number) >>> shift;
  }
  const shift = BigInt(128 - cidr.prefix);
  return ip.value >> shift === (cidr.network as bigint) >> shift;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false;
  const asIp = (inner.family === 4
    ? { family: 4, value: inner.network as number, text: '' }
    : { family: 6, value: inner.network as bigint, text: '' }) as IpAddress;
  return cidrContains(outer, asIp);
}

/** The n-th address (0-based) of a CIDR, for deterministic address assignment. */
export function nthAddress(cidr: Cidr, n: number): IpAddress | undefined {
  if (cidr.family === 4) {
    const size = 2 ** (32 - cidr.prefix);
    if (n < 0 || n >= size) return undefined;
    return parseIp(v4Text(((cidr.network as number) + n) >>> 0));
  }
  const size = 1n << BigInt(128 - cidr.prefix);
  if (n < 0 || BigInt(n) >= size) return undefined;
  return parseIp(v6Text((cidr.network as bigint) + BigInt(n)));
}

function v4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function v6Text(v: bigint): string {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((v >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}
