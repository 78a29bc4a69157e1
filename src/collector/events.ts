// What the kernel tells the collector, parsed: conntrack events and snapshots (connections with
// their ct mark and byte/packet counters) and NFLOG'd packets of denied flows. ulogd2 delivers
// both as JSON lines; `conntrack -L -o xml` gives the periodic counter snapshot.

/** A connection as conntrack sees it, in its original direction. */
export interface ConnTuple {
  /** IANA protocol number. */
  readonly proto: number;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface Counters {
  /** Original direction (source → destination). */
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Reply direction. */
  readonly packetsIn: number;
  readonly bytesIn: number;
}

export type ConnEvent =
  | { readonly kind: 'new'; readonly id: number; readonly tuple: ConnTuple; readonly mark: number; readonly timeMs: number }
  | { readonly kind: 'destroy'; readonly id: number; readonly tuple: ConnTuple; readonly mark: number; readonly timeMs: number; readonly counters: Counters };

/** One logged (dropped) packet: the log prefix names the direction and the deciding rule. */
export interface DeniedPacket {
  readonly kind: 'denied';
  readonly prefix: string;
  readonly tuple: ConnTuple;
  readonly bytes: number;
  readonly timeMs: number;
}

/** A connection in a conntrack table dump. */
export interface ConnSnapshot {
  readonly id: number;
  readonly tuple: ConnTuple;
  readonly mark: number;
  readonly counters: Counters;
}

const CT_EVENT_NEW = 1;
const CT_EVENT_DESTROY = 4;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Parses one ulogd2 JSON line (NFCT or NFLOG stack). Anything else — a line from another stack,
 * a truncated line, an IPv6 packet the collector cannot attribute — is `undefined`, never a throw.
 */
export function parseUlogdLine(line: string): ConnEvent | DeniedPacket | undefined {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    o = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const srcIp = str(o['src_ip']) ?? str(o['orig.ip.saddr.str']);
  const dstIp = str(o['dest_ip']) ?? str(o['orig.ip.daddr.str']);
  if (srcIp === undefined || dstIp === undefined) return undefined;
  const prefix = o['oob.prefix'];
  if (typeof prefix === 'string') {
    const proto = num(o['ip.protocol']) ?? num(o['ip6.nexthdr']);
    const sec = num(o['oob.time.sec']);
    if (proto === undefined || sec === undefined) return undefined;
    return {
      kind: 'denied',
      prefix,
      tuple: { proto, srcIp, dstIp, srcPort: num(o['src_port']) ?? 0, dstPort: num(o['dest_port']) ?? 0 },
      bytes: num(o['raw.pktlen']) ?? num(o['ip.totlen']) ?? 0,
      timeMs: sec * 1000 + Math.floor((num(o['oob.time.usec']) ?? 0) / 1000),
    };
  }
  const event = num(o['ct.event']);
  const id = num(o['ct.id']);
  const proto = num(o['orig.ip.protocol']);
  if (event === undefined || id === undefined || proto === undefined) return undefined;
  const tuple: ConnTuple = { proto, srcIp, dstIp, srcPort: num(o['orig.l4.sport']) ?? 0, dstPort: num(o['orig.l4.dport']) ?? 0 };
  const mark = num(o['ct.mark']) ?? 0;
  if (event & CT_EVENT_DESTROY) {
    const sec = num(o['flow.end.sec']) ?? Date.now() / 1000;
    return {
      kind: 'destroy',
      id,
      tuple,
      mark,
      timeMs: Math.floor(sec * 1000 + (num(o['flow.end.usec']) ?? 0) / 1000),
      counters: {
        packetsOut: num(o['orig.raw.pktcount']) ?? 0,
        bytesOut: num(o['orig.raw.pktlen']) ?? 0,
        packetsIn: num(o['reply.raw.pktcount']) ?? 0,
        bytesIn: num(o['reply.raw.pktlen']) ?? 0,
      },
    };
  }
  if (event & CT_EVENT_NEW) {
    const sec = num(o['flow.start.sec']) ?? Date.now() / 1000;
    return { kind: 'new', id, tuple, mark, timeMs: Math.floor(sec * 1000 + (num(o['flow.start.usec']) ?? 0) / 1000) };
  }
  return undefined;
}

/**
 * Parses one line of `conntrack -L -o id` (accounting on): `udp 17 29 src=… dst=… sport=… dport=…
 * packets=1 bytes=44 [UNREPLIED] src=… dst=… sport=… dport=… packets=0 bytes=0 mark=65537 use=1
 * id=1711908513`. The first src/dst/ports/counters are the original direction, the second the
 * reply; ICMP's own `id=` comes before the connection id, which is last. Unreadable → undefined.
 */
export function parseConntrackLine(line: string): ConnSnapshot | undefined {
  const parts = line.trim().split(/\s+/);
  const proto = Number(parts[1]);
  if (parts.length < 6 || !Number.isInteger(proto)) return undefined;
  const orig: Record<string, string> = {};
  const reply: Record<string, string> = {};
  let mark = 0;
  let id: number | undefined;
  for (let i = 2; i < parts.length; i++) {
    const p = parts[i] ?? '';
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (k === 'mark') mark = Number(v);
    else if (k === 'id') id = Number(v);
    else if (k === 'src' && orig['src'] !== undefined) reply[k] = v;
    else if (reply['src'] !== undefined) reply[k] ??= v;
    else orig[k] ??= v;
  }
  const srcIp = orig['src'];
  const dstIp = orig['dst'];
  if (srcIp === undefined || dstIp === undefined || id === undefined || !Number.isFinite(id)) return undefined;
  const n = (v: string | undefined): number => (v === undefined || !/^\d+$/.test(v) ? 0 : Number(v));
  return {
    id,
    tuple: { proto, srcIp, dstIp, srcPort: n(orig['sport']), dstPort: n(orig['dport']) },
    mark: Number.isFinite(mark) ? mark : 0,
    counters: { packetsOut: n(orig['packets']), bytesOut: n(orig['bytes']), packetsIn: n(reply['packets']), bytesIn: n(reply['bytes']) },
  };
}
