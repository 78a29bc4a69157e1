// The flow collector of one node: kernel events in, attributed and aggregated flow logs out.
// Each connection in the node's conntrack table is reported by the side(s) whose pod lives here:
// the source pod's half (`reporter: src`, egress rule id from the ct mark's high 16 bits) and the
// destination pod's half (`dst`, the low 16 bits). A denied packet's log prefix names the
// direction and the rule; egress denies are the source's half, ingress denies the destination's.
import { bugText } from '../errors/index.js';
import { parseLogPrefix, ruleIdsOfCtMark } from '../dataplane/index.js';
import type { FlowAction } from '../flows/index.js';
import { FlowAggregator, type AggregationLevel, type FlowHalf } from './aggregate.js';
import type { ClusterView, KernelRule } from './cluster-view.js';
import { parseUlogdLine, type ConnEvent, type ConnSnapshot, type ConnTuple, type DeniedPacket } from './events.js';
import type { FlowShipper } from './shipper.js';
import { ConnTracker, type ConnActivity } from './tracker.js';

export interface CollectorOptions {
  readonly node: string;
  readonly view: ClusterView;
  readonly shipper: FlowShipper;
  /** What a rule id (from a ct mark or a log prefix) stands for, in the ruleset now programmed. */
  readonly ruleOf: (id: number) => KernelRule | undefined;
  /** Counters of live connections (a conntrack dump); undefined: events only. */
  readonly snapshot?: () => Promise<readonly ConnSnapshot[]>;
  readonly flushMs?: number;
  readonly allowedLevel?: AggregationLevel;
  readonly deniedLevel?: AggregationLevel;
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

export interface CollectorStats {
  events: number;
  denied: number;
  ignored: number;
  flushes: number;
  logs: number;
  lastFlushMs: number;
}

const PROTO_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
export const protoName = (n: number): string => PROTO_NAMES[n] ?? String(n);

/** A deny's direction and rule id from its log prefix (the dataplane's format); a Log rule's or a foreign prefix → undefined. */
export function parseDenyPrefix(prefix: string): { direction: 'egress' | 'ingress'; ruleId: number } | undefined {
  const p = parseLogPrefix(prefix);
  return p?.action === 'deny' ? { direction: p.direction, ruleId: p.ruleId } : undefined;
}

/** How long a denied 5-tuple counts as the same attempt (TCP gives up on a SYN after ~2 minutes). */
const DENIED_MEMORY_MS = 130_000;

const tupleKey = (t: ConnTuple): string => `${t.proto}|${t.srcIp}|${t.srcPort}|${t.dstIp}|${t.dstPort}`;

export class FlowCollector {
  private readonly tracker = new ConnTracker();
  private readonly aggregator: FlowAggregator;
  private timer: ReturnType<typeof setInterval> | undefined;
  private windowStart: number;
  private flushing: Promise<void> | undefined;
  /** Denied 5-tuples seen lately: a retransmitted SYN in a later bucket is the same attempt, not a new flow. */
  private deniedSeen = new Map<string, number>();
  readonly stats: CollectorStats = { events: 0, denied: 0, ignored: 0, flushes: 0, logs: 0, lastFlushMs: 0 };

  constructor(private readonly o: CollectorOptions) {
    this.aggregator = new FlowAggregator({ allowed: o.allowedLevel ?? 'prefix', denied: o.deniedLevel ?? 'port' });
    this.windowStart = this.now();
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  get flushMs(): number {
    return this.o.flushMs ?? 15_000;
  }

  /**
   * Reads the table once before kernel events are subscribed. What it lists predates the
   * collector; a connection a later snapshot finds that is neither here nor announced started
   * since (its NEW event came before the subscription did). Without a baseline the first bucket's
   * snapshot played that part, and a connection starting in the collector's first moments, its
   * NEW event missed, counted as older than the collector (seen in CI as a flow with 3
   * connections and 2 starts).
   */
  async baseline(): Promise<void> {
    if (this.o.snapshot === undefined) return;
    try {
      this.tracker.onSnapshot(await this.o.snapshot());
    } catch (err) {
      this.o.log(`flow logs: conntrack baseline failed (the first bucket's snapshot stands in): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref?.();
  }

  /** One ulogd JSON line. */
  onLine(line: string): void {
    const e = parseUlogdLine(line);
    if (e === undefined) this.stats.ignored++;
    else this.onKernelEvent(e);
  }

  /** One parsed kernel event (from the reader thread). */
  onKernelEvent(e: ConnEvent | DeniedPacket): void {
    if (e.kind === 'denied') this.onDenied(e);
    else {
      this.stats.events++;
      this.tracker.onEvent(e);
    }
  }

  onDenied(p: DeniedPacket): void {
    const deny = parseDenyPrefix(p.prefix);
    if (deny === undefined) {
      this.stats.ignored++;
      return;
    }
    this.stats.denied++;
    const reporter = deny.direction === 'egress' ? 'src' : 'dst';
    if (!this.local(reporter === 'src' ? p.tuple.srcIp : p.tuple.dstIp)) return;
    this.o.view.refresh();
    const key = tupleKey(p.tuple);
    const first = !this.deniedSeen.has(key);
    this.deniedSeen.set(key, this.now());
    const half = this.half(p.tuple, reporter, 'deny', this.o.ruleOf(deny.ruleId), key, first, first, { packetsOut: 1, bytesOut: p.bytes, packetsIn: 0, bytesIn: 0 });
    this.aggregator.add(half);
  }

  private local(ip: string): boolean {
    return this.o.view.nodeOf(ip) === this.o.node;
  }

  private half(tuple: ConnTuple, reporter: 'src' | 'dst', action: FlowAction, rule: KernelRule | undefined, connection: string, started: boolean, completed: boolean, c: { packetsOut: number; bytesOut: number; packetsIn: number; bytesIn: number }): FlowHalf {
    const ex = this.o.view.explain(tuple, reporter, action, rule);
    const ports = tuple.proto === 6 || tuple.proto === 17 || tuple.proto === 132;
    return {
      host: this.o.node,
      reporter,
      action,
      proto: protoName(tuple.proto),
      source: this.o.view.endpointAt(tuple.srcIp, ports ? tuple.srcPort : 0),
      dest: this.o.view.endpointAt(tuple.dstIp, ports ? tuple.dstPort : 0),
      tier: ex.tier,
      policy: ex.policy,
      ruleIndex: ex.ruleIndex,
      policies: ex.policies,
      ...(ex.pendingAction !== undefined ? { pendingAction: ex.pendingAction, pendingPolicies: ex.pendingPolicies ?? [] } : {}),
      connection,
      started,
      completed,
      ...c,
    };
  }

  private addActivity(a: ConnActivity): void {
    const { egress: egressId, ingress: ingressId } = ruleIdsOfCtMark(a.mark);
    const key = `${a.id}`;
    if (this.local(a.tuple.srcIp)) this.aggregator.add(this.half(a.tuple, 'src', 'allow', egressId === 0 ? undefined : this.o.ruleOf(egressId), key, a.started, a.completed, a.delta));
    if (this.local(a.tuple.dstIp)) this.aggregator.add(this.half(a.tuple, 'dst', 'allow', ingressId === 0 ? undefined : this.o.ruleOf(ingressId), key, a.started, a.completed, a.delta));
  }

  /** Closes the current bucket: counters from a table snapshot, every log handed to the shipper. */
  flush(): Promise<void> {
    // Never rejects: a failed flush is logged and the next one starts afresh (an unhandled
    // rejection would end the agent, and enforcement with it).
    this.flushing ??= this.doFlush()
      .catch((err: unknown) => this.o.log(`flow logs: flush failed: ${bugText(err)}`))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const started = performance.now();
    if (this.o.snapshot !== undefined) {
      try {
        this.tracker.onSnapshot(await this.o.snapshot());
      } catch (err) {
        this.o.log(`flow logs: conntrack snapshot failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.o.view.refresh();
    for (const a of this.tracker.drain()) this.addActivity(a);
    const end = this.now();
    for (const [key, at] of this.deniedSeen) if (end - at > DENIED_MEMORY_MS) this.deniedSeen.delete(key);
    const logs = this.aggregator.flush(this.windowStart, end);
    this.windowStart = end;
    this.stats.flushes++;
    this.stats.logs += logs.length;
    if (logs.length > 0) this.o.shipper.enqueue(logs);
    this.stats.lastFlushMs = performance.now() - started;
  }

  /**
   * Ships what has been seen, within `deadlineMs` (the agent must stop promptly; whatever does
   * not make it is lost, as when the node goes down). No final table snapshot: events suffice.
   */
  async stop(deadlineMs = 1000): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const final = (async () => {
      await this.flushing;
      this.o.view.refresh();
      for (const a of this.tracker.drain()) this.addActivity(a);
      const end = this.now();
      const logs = this.aggregator.flush(this.windowStart, end);
      this.windowStart = end;
      if (logs.length > 0) this.o.shipper.enqueue(logs);
      await this.o.shipper.flush();
    })().catch((err: unknown) => this.o.log(`flow logs: final flush failed: ${err instanceof Error ? err.message : String(err)}`));
    await Promise.race([final, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
  }

  /** Connections tracked now (for the agent's status line). */
  get tracked(): number {
    return this.tracker.size;
  }
}
