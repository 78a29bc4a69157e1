// The collector's pure parts: parsing what ulogd and conntrack print, connection accounting
// across events and snapshots, and aggregation. Property tests check the invariants that make
// flow logs trustworthy: counters are never lost or double counted, whatever the interleaving.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { aggregateEndpoint, AGGREGATION_LEVELS, FlowAggregator, type FlowHalf } from './aggregate.js';
import { FlowCollector, parseDenyPrefix } from './collector.js';
import { ClusterView } from './cluster-view.js';
import type { FlowShipper } from './shipper.js';
import { parseConntrackLine, parseUlogdLine, type ConnSnapshot, type ConnTuple, type Counters } from './events.js';
import { ConnTracker } from './tracker.js';
import type { FlowEndpoint, FlowLog } from '../flows/index.js';

// Lines as Debian's ulogd2 2.0.8 prints them (captured in a lab namespace).
const NEW_LINE = '{"timestamp": "2026-11-21T23:06:15", "dvc": "Netfilter", "orig.ip.protocol": 6, "orig.l4.sport": 45388, "orig.l4.dport": 80, "orig.raw.pktlen": 0, "orig.raw.pktcount": 0, "reply.ip.protocol": 6, "reply.l4.sport": 80, "reply.l4.dport": 45388, "reply.raw.pktlen": 0, "reply.raw.pktcount": 0, "ct.mark": 327687, "ct.id": 4189538244, "ct.event": 1, "flow.start.sec": 1795302375, "flow.start.usec": 352740, "oob.family": 2, "oob.protocol": 0, "src_ip": "10.9.0.1", "dest_ip": "10.9.0.2", "reply.ip.saddr.str": "10.9.0.2", "reply.ip.daddr.str": "10.9.0.1"}';
const DESTROY_LINE = '{"timestamp": "2026-11-21T23:06:19", "dvc": "Netfilter", "orig.ip.protocol": 6, "orig.l4.sport": 45388, "orig.l4.dport": 80, "orig.raw.pktlen": 444, "orig.raw.pktcount": 7, "reply.ip.protocol": 6, "reply.l4.sport": 80, "reply.l4.dport": 45388, "reply.raw.pktlen": 1325, "reply.raw.pktcount": 5, "ct.mark": 327687, "ct.id": 4189538244, "ct.event": 4, "flow.end.sec": 1795302379, "flow.end.usec": 657747, "oob.family": 2, "oob.protocol": 0, "src_ip": "10.9.0.1", "dest_ip": "10.9.0.2", "reply.ip.saddr.str": "10.9.0.2", "reply.ip.daddr.str": "10.9.0.1"}';
const DENY_LINE = '{"timestamp": "2026-11-21T23:06:15.362814", "dvc": "Netfilter", "raw.pktlen": 60, "raw.pktcount": 1, "oob.prefix": "mgy D i 7 ", "oob.time.sec": 1795302375, "oob.time.usec": 362814, "oob.mark": 0, "oob.ifindex_in": 2, "oob.hook": 1, "oob.family": 2, "oob.protocol": 2048, "ip.protocol": 6, "ip.totlen": 60, "src_port": 53734, "dest_port": 81, "tcp.syn": 1, "src_ip": "10.9.0.1", "dest_ip": "10.9.0.2"}';
const LINES = [
  'tcp      6 115 TIME_WAIT src=10.9.0.1 dst=10.9.0.2 sport=45388 dport=80 packets=7 bytes=444 src=10.9.0.2 dst=10.9.0.1 sport=80 dport=45388 packets=5 bytes=1325 [ASSURED] mark=327687 use=1 id=4189538244',
  'icmp     1 29 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=17 packets=1 bytes=84 src=10.9.0.2 dst=10.9.0.1 type=0 code=0 id=17 packets=1 bytes=84 mark=0 use=1 id=77',
  'udp      17 29 src=127.0.0.1 dst=127.0.0.1 sport=33722 dport=9 packets=1 bytes=30 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=9 dport=33722 packets=0 bytes=0 mark=65537 use=1 id=1711908513',
];

describe('collector: parsing', () => {
  it('reads conntrack NEW and DESTROY events with mark and counters', () => {
    const n = parseUlogdLine(NEW_LINE);
    assert.deepEqual(n, { kind: 'new', id: 4189538244, tuple: { proto: 6, srcIp: '10.9.0.1', dstIp: '10.9.0.2', srcPort: 45388, dstPort: 80 }, mark: 327687, timeMs: 1795302375352 });
    const d = parseUlogdLine(DESTROY_LINE);
    assert.equal(d?.kind, 'destroy');
    assert.deepEqual(d?.kind === 'destroy' ? d.counters : undefined, { packetsOut: 7, bytesOut: 444, packetsIn: 5, bytesIn: 1325 });
  });

  it('reads an NFLOG packet with its prefix', () => {
    const p = parseUlogdLine(DENY_LINE);
    assert.equal(p?.kind, 'denied');
    if (p?.kind !== 'denied') return;
    assert.equal(p.prefix, 'mgy D i 7 ');
    assert.deepEqual(p.tuple, { proto: 6, srcIp: '10.9.0.1', dstIp: '10.9.0.2', srcPort: 53734, dstPort: 81 });
    assert.equal(p.bytes, 60);
    assert.deepEqual(parseDenyPrefix(p.prefix), { direction: 'ingress', ruleId: 7 });
    assert.equal(parseDenyPrefix('mgy L e 7 '), undefined, "a Log rule's prefix is not a deny");
  });

  it('reads conntrack -L lines, including protocols without ports (whose own id= comes first)', () => {
    const flows = LINES.map(parseConntrackLine);
    assert.equal(flows.length, 3);
    assert.deepEqual(flows[0], { id: 4189538244, tuple: { proto: 6, srcIp: '10.9.0.1', dstIp: '10.9.0.2', srcPort: 45388, dstPort: 80 }, mark: 327687, counters: { packetsOut: 7, bytesOut: 444, packetsIn: 5, bytesIn: 1325 } });
    assert.deepEqual(flows[1], { id: 77, tuple: { proto: 1, srcIp: '10.9.0.1', dstIp: '10.9.0.2', srcPort: 0, dstPort: 0 }, mark: 0, counters: { packetsOut: 1, bytesOut: 84, packetsIn: 1, bytesIn: 84 } });
    assert.deepEqual(flows[2]?.counters, { packetsOut: 1, bytesOut: 30, packetsIn: 0, bytesIn: 0 });
    assert.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.'), undefined);
  });

  it('never throws on arbitrary or truncated input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.nat(NEW_LINE.length).map((n) => NEW_LINE.slice(0, n)), fc.nat(LINES[0]?.length ?? 0).map((n) => (LINES[0] ?? '').slice(0, n))), (text) => {
        parseUlogdLine(text);
        parseConntrackLine(text);
      }),
      { numRuns: 500 },
    );
  });
});

const tuple: ConnTuple = { proto: 6, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1000, dstPort: 80 };
const add = (a: Counters, b: Counters): Counters => ({ packetsOut: a.packetsOut + b.packetsOut, bytesOut: a.bytesOut + b.bytesOut, packetsIn: a.packetsIn + b.packetsIn, bytesIn: a.bytesIn + b.bytesIn });
const ZERO: Counters = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0 };

describe('collector: connection accounting', () => {
  it('reports each connection once as started and once as completed, and its counters exactly once, whatever the snapshots and drains', () => {
    // A connection's counters only grow; snapshots see some prefix of that growth; drains happen anywhere.
    const step = fc.oneof(fc.constant<'snap'>('snap'), fc.constant<'drain'>('drain'), fc.record({ grow: fc.record({ packetsOut: fc.nat(5), bytesOut: fc.nat(500), packetsIn: fc.nat(5), bytesIn: fc.nat(500) }) }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.boolean(), (steps, seenNew) => {
        const t = new ConnTracker();
        let live = ZERO;
        if (seenNew) t.onEvent({ kind: 'new', id: 1, tuple, mark: 5, timeMs: 0 });
        let total = ZERO;
        let started = 0;
        let completed = 0;
        let snapped = false;
        const drain = (): void => {
          for (const a of t.drain()) {
            total = add(total, a.delta);
            if (a.started) started++;
            if (a.completed) completed++;
          }
        };
        for (const s of steps) {
          if (s === 'snap') {
            t.onSnapshot([{ id: 1, tuple, mark: 5, counters: live }]);
            snapped = true;
          } else if (s === 'drain') drain();
          else live = add(live, s.grow);
        }
        t.onEvent({ kind: 'destroy', id: 1, tuple, mark: 5, timeMs: 1, counters: live });
        drain();
        assert.equal(t.size, 0);
        assert.equal(started, seenNew ? 1 : 0);
        assert.equal(completed, 1);
        // A connection first seen in a snapshot predates the collector: only what it did afterwards counts.
        if (seenNew || !snapped) assert.deepEqual(total, live);
      }),
      { numRuns: 300 },
    );
  });

  it('counts a connection whose NEW event was lost as started, once a later snapshot lists it', () => {
    const t = new ConnTracker();
    t.onSnapshot([{ id: 1, tuple, mark: 0, counters: { packetsOut: 5, bytesOut: 500, packetsIn: 5, bytesIn: 500 } }]);
    const other = { ...tuple, srcPort: 2000 };
    t.onSnapshot([
      { id: 1, tuple, mark: 0, counters: { packetsOut: 6, bytesOut: 600, packetsIn: 5, bytesIn: 500 } },
      { id: 2, tuple: other, mark: 0, counters: { packetsOut: 1, bytesOut: 60, packetsIn: 0, bytesIn: 0 } },
    ]);
    const byId = new Map(t.drain().map((a) => [a.id, a]));
    assert.equal(byId.get(1)?.started, false, 'in the first snapshot: older than the collector');
    assert.deepEqual(byId.get(1)?.delta, { packetsOut: 1, bytesOut: 100, packetsIn: 0, bytesIn: 0 });
    assert.equal(byId.get(2)?.started, true, 'new since the previous snapshot');
    assert.deepEqual(byId.get(2)?.delta, { packetsOut: 1, bytesOut: 60, packetsIn: 0, bytesIn: 0 });
  });

  it('ends a connection whose destroy event was lost after two snapshots without it', () => {
    const t = new ConnTracker();
    t.onEvent({ kind: 'new', id: 9, tuple, mark: 0, timeMs: 0 });
    t.onSnapshot([{ id: 9, tuple, mark: 0, counters: { packetsOut: 2, bytesOut: 100, packetsIn: 1, bytesIn: 60 } }]);
    t.onSnapshot([]);
    assert.equal(t.drain()[0]?.completed, false);
    t.onSnapshot([]);
    const [a] = t.drain();
    assert.equal(a?.completed, true);
    assert.equal(t.size, 0);
  });
});

const endpointArb = (side: string): fc.Arbitrary<FlowEndpoint> =>
  fc.record({
    type: fc.constantFrom('wep' as const, 'net' as const),
    namespace: fc.constantFrom('a', 'b'),
    name: fc.constantFrom(`${side}1`, `${side}2`, `${side}3`),
    nameAggr: fc.constantFrom(`${side}-*`, `${side}x-*`),
    labels: fc.dictionary(fc.constantFrom('app', 'tier', 'v'), fc.constantFrom('x', 'y')),
    ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3'),
    port: fc.constantFrom(80, 443, 40000, 40001),
  });

const halfArb: fc.Arbitrary<FlowHalf> = fc.record({
  host: fc.constant('n1'),
  reporter: fc.constantFrom('src' as const, 'dst' as const),
  action: fc.constantFrom('allow' as const, 'deny' as const),
  proto: fc.constantFrom('tcp', 'udp'),
  source: endpointArb('s'),
  dest: endpointArb('d'),
  tier: fc.constant('default'),
  policy: fc.constantFrom('p1', 'p2'),
  ruleIndex: fc.constantFrom(0, 1),
  policies: fc.constant([]),
  connection: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
  started: fc.boolean(),
  completed: fc.boolean(),
  packetsIn: fc.nat(10),
  packetsOut: fc.nat(10),
  bytesIn: fc.nat(1000),
  bytesOut: fc.nat(1000),
});

describe('collector: aggregation', () => {
  it('conserves packets and bytes at every level, and coarser levels never produce more logs', () => {
    fc.assert(
      fc.property(fc.array(halfArb, { maxLength: 60 }), (halves) => {
        let previous = Infinity;
        for (const level of AGGREGATION_LEVELS) {
          const agg = new FlowAggregator({ allowed: level, denied: level });
          for (const h of halves) agg.add(h);
          const logs = agg.flush(0, 15_000);
          const sum = (f: (x: { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number }) => number, xs: readonly { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number }[]): number => xs.reduce((a, x) => a + f(x), 0);
          for (const f of [(x: { packetsIn: number }) => x.packetsIn, (x: { bytesOut: number }) => x.bytesOut] as const) assert.equal(sum(f as never, logs), sum(f as never, halves));
          assert.ok(logs.length <= previous, `${level}: ${logs.length} logs after ${previous}`);
          previous = logs.length;
          for (const l of logs) {
            assert.ok(l.numFlows >= 1 && l.numFlowsStarted <= l.numFlows && l.numFlowsCompleted <= l.numFlows);
            assert.equal(l.startTime, 0);
            assert.equal(l.endTime, 15_000);
          }
          assert.equal(agg.pending, 0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('drops what each level hides and keeps the common labels of merged workloads', () => {
    const e: FlowEndpoint = { type: 'wep', namespace: 'shop', name: 'web-1', nameAggr: 'web-*', labels: { app: 'web' }, ip: '10.0.0.1', port: 40000, serviceAccount: 'web' };
    assert.equal(aggregateEndpoint(e, 'none', 'source').port, 40000);
    assert.equal(aggregateEndpoint(e, 'port', 'source').port, 0);
    assert.equal(aggregateEndpoint(e, 'port', 'dest').port, 40000);
    assert.deepEqual(aggregateEndpoint(e, 'prefix', 'source'), { type: 'wep', namespace: 'shop', name: '-', nameAggr: 'web-*', labels: { app: 'web' }, ip: '-', port: 0, serviceAccount: 'web' });
    assert.deepEqual(aggregateEndpoint(e, 'namespace', 'dest'), { type: 'wep', namespace: 'shop', name: '-', nameAggr: '-', labels: {}, ip: '-', port: 40000 });
    const agg = new FlowAggregator({ allowed: 'prefix', denied: 'prefix' });
    const base = fc.sample(halfArb, 1)[0] as FlowHalf;
    agg.add({ ...base, action: 'allow', source: { ...e, labels: { app: 'web', pod: 'a' } } });
    agg.add({ ...base, action: 'allow', source: { ...e, name: 'web-2', labels: { app: 'web', pod: 'b' } } });
    const [log] = agg.flush(0, 1);
    assert.deepEqual(log?.source.labels, { app: 'web' });
  });
});

describe('collector: startup', () => {
  const podObj = (name: string, ip: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'app', labels: { app: name } }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] }, status: { podIP: ip, phase: 'Running' } });
  const old: ConnTuple = { proto: 6, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1111, dstPort: 80 };
  const fresh: ConnTuple = { ...old, srcPort: 2222 };
  const counters = (n: number): Counters => ({ packetsOut: n, bytesOut: 100 * n, packetsIn: n, bytesIn: 100 * n });

  /** A collector on n1 whose snapshots come from `tables` in turn; returns what it ships per flush. */
  async function run(tables: ConnSnapshot[][], withBaseline: boolean): Promise<FlowLog[]> {
    const view = new ClusterView();
    view.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } });
    view.upsert(podObj('a', '10.0.0.1'));
    view.upsert(podObj('b', '10.0.0.2'));
    const shipped: FlowLog[] = [];
    const shipper = { enqueue: (logs: readonly FlowLog[]) => shipped.push(...logs) } as unknown as FlowShipper;
    let next = 0;
    const collector = new FlowCollector({ node: 'n1', view, shipper, ruleOf: () => undefined, snapshot: async () => tables[Math.min(next++, tables.length - 1)] ?? [], log: () => undefined, allowedLevel: 'port' });
    if (withBaseline) await collector.baseline();
    else next++; // the same table sequence, its first table unread
    await collector.flush();
    await collector.flush();
    return shipped;
  }

  it('a connection that starts before events are subscribed, its NEW event missed, still counts as started', async () => {
    // Table before the subscription: only the old connection. Then the fresh one appears, unannounced.
    const tables: ConnSnapshot[][] = [
      [{ id: 1, tuple: old, mark: 0, counters: counters(1) }],
      [
        { id: 1, tuple: old, mark: 0, counters: counters(2) },
        { id: 2, tuple: fresh, mark: 0, counters: counters(3) },
      ],
    ];
    const started = (logs: FlowLog[], t: ConnTuple) => logs.filter((l) => l.reporter === 'src' && l.source.ip === t.srcIp && l.dest.port === t.dstPort).reduce((n, l) => n + l.numFlowsStarted, 0);
    const logs = await run(tables, true);
    // Both share src ip and port 80 at port aggregation: 1 start among 2 connections.
    assert.equal(started(logs, fresh), 1, 'the fresh connection started after the baseline');
    assert.equal(logs.filter((l) => l.reporter === 'src').reduce((n, l) => n + l.numFlows, 0) >= 2, true);
    // Without the baseline the first bucket's snapshot is taken for the table before the collector.
    assert.equal(started(await run(tables, false), fresh), 0, 'what the baseline fixes');
  });
});
