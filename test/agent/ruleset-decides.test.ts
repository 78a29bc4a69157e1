// The rendered ruleset against the policy core's evaluator, without a kernel: for random clusters
// (every kind the calc engine reads), every flow between endpoints and outside addresses is run
// through the nftables program (an interpreter of the rules Margay writes) and must get the
// evaluator's verdict in each direction — with the compiled verdict maps and with every rule
// written sequentially. The deciding rule must be attributable: an allow's id in the ct mark,
// a drop's id in its `mgy D` log prefix, each naming what the evaluator says decided.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp, type IpAddress } from '../../src/net/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, type DirectionVerdict, type Entity, type Flow, type FlowRequest } from '../../src/policy/index.js';
import type { Resource } from '../../src/resources/index.js';
import { CalcEngine, CalcStateRecorder, type CalcState } from '../../src/calc/index.js';
import { NODE_IPS, clusterArb, globalNetworkSet, keyOf, node, pod, tier, upsert } from '../../src/calc/fixtures.test.js';
import {
  CHAIN_FORWARD_EGRESS,
  CHAIN_FORWARD_INGRESS,
  RuleIdRegistry,
  parseLogPrefix,
  renderModel,
  ruleIdsOfCtMark,
  type RuleIdEntry,
  type RulesetModel,
} from '../../src/dataplane/index.js';
import { runBaseChain, type Packet } from '../../src/dataplane/nft-interpreter.test.js';

const REQUESTS: readonly FlowRequest[] = [
  { protocol: 6, port: 80 },
  { protocol: 6, port: 8080 },
  { protocol: 6, port: 9090 },
  { protocol: 17, port: 53 },
  { protocol: 132, port: 80 },
  { protocol: 6, port: 443, sourcePort: 8080 },
  { protocol: 1, icmp: { type: 8, code: 0 } },
];
const OUTSIDE = ['172.16.3.4', '10.0.0.5', '8.8.8.8', 'fd00::3', 'fd00::99', '2001:db8::1'].map((t) => parseIp(t) as IpAddress);

function withNodes(resources: readonly Resource[]): Resource[] {
  const out = [...resources];
  const keys = new Set(out.map(keyOf));
  for (const [name, ip] of Object.entries(NODE_IPS)) {
    const n = node(name, ip);
    if (!keys.has(keyOf(n))) out.unshift(n);
  }
  return out;
}

function isHostSide(e: Entity): boolean {
  return e.kind === 'node' || e.hostNetwork === true || e.kind === 'hostEndpoint';
}

function packetOf(flow: Flow, iif: string, oif: string): Packet {
  const v = (ip: IpAddress) => BigInt(ip.value);
  // A portless protocol still has bytes where ports would be (ICMP: the checksum).
  return {
    family: flow.source.ip.family,
    saddr: v(flow.source.ip),
    daddr: v(flow.destination.ip),
    proto: flow.protocol,
    sport: flow.sourcePort ?? (flow.destinationPort !== undefined ? 40000 : 0xbeef),
    dport: flow.destinationPort ?? 0x1234,
    ...(flow.icmp !== undefined ? { icmp: { type: flow.icmp.type, code: flow.icmp.code ?? 0 } } : {}),
    iif,
    oif,
  };
}

/** What the ruleset says for one direction of a flow: undefined when the direction is not enforced here. */
function decide(m: RulesetModel, ifaces: ReadonlyMap<string, string>, flow: Flow, d: 'egress' | 'ingress') {
  const end = d === 'egress' ? flow.source.entity : flow.destination.entity;
  const iface = end !== undefined ? ifaces.get(end.id) : undefined;
  if (iface === undefined) return undefined;
  if (d === 'ingress') {
    const src = flow.source.entity;
    // The node's own traffic to its pods leaves through the output hook, which Margay does not filter.
    if (src && end?.nodeName !== undefined && src.nodeName === end.nodeName && isHostSide(src)) return undefined;
  }
  const p = d === 'egress' ? packetOf(flow, iface, 'eth0') : packetOf(flow, 'eth0', iface);
  return runBaseChain(m, d === 'egress' ? CHAIN_FORWARD_EGRESS : CHAIN_FORWARD_INGRESS, p);
}

/** Does the registry entry name what the evaluator says decided? */
function sameDecision(state: CalcState, e: RuleIdEntry | undefined, v: DirectionVerdict): boolean {
  if (e === undefined) return false;
  const by = v.decidedBy;
  switch (by.kind) {
    case 'rule':
      return e.owner === 'policy' && state.policies.get(e.name)?.policy.name === by.policy && e.ruleIndex === by.ruleIndex && e.action === by.action;
    case 'profile':
      return e.owner === 'profile' && e.name === by.profile && e.ruleIndex === by.ruleIndex && e.action === by.action;
    case 'end-of-tier':
      return e.owner === 'implicit' && e.implicit === 'end-of-tier' && e.tier === by.tier;
    case 'default-deny':
      return e.owner === 'implicit' && (e.implicit === 'no-profile' || e.implicit === 'no-profile-match');
    case 'not-enforced':
      return false;
  }
}

// Clusters made for the run compiler: dual-stack and IPv6-only pods, a network set, two tiers,
// and policies of many simple rules (peer selectors and nets with their negations, protocols,
// port ranges) with the odd Log or ICMP rule splitting the runs.
const LABELS = ['x', 'y', 'z'] as const;
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const simpleRuleArb = fc
  .record({
    action: fc.constantFrom('Allow', 'Allow', 'Deny', 'Pass', 'Log'),
    protocol: maybe(fc.constantFrom('TCP', 'UDP', 'ICMP', 'ICMPv6')),
    notProtocol: maybe(fc.constantFrom('TCP', 'UDP')),
    selector: maybe(fc.constantFrom("l == 'x'", "l == 'y'", "kind == 'ext'", "l in {'x', 'z'}")),
    notSelector: maybe(fc.constantFrom("l == 'z'", "kind == 'ext'")),
    nets: maybe(fc.constantFrom(['10.0.0.0/30'], ['fd00::/126'], ['10.0.0.4/31', '10.0.0.8/32'], ['fd00::5/128', 'fd00::8/125'], ['0.0.0.0/0'])),
    notNets: maybe(fc.constantFrom(['10.0.0.2/32'], ['fd00::4/127'])),
    ports: maybe(fc.constantFrom([80], ['80:90'], [53, 8080], ['1:1000'])),
    notPorts: maybe(fc.constantFrom([81], ['8000:9000'])),
    icmpType: maybe(fc.constantFrom(8, 0)),
  })
  .map((r) => {
    const portProto = r.protocol === 'TCP' || r.protocol === 'UDP';
    const icmp = r.protocol === 'ICMP' || r.protocol === 'ICMPv6';
    const peer: Record<string, unknown> = {
      ...(r.selector !== undefined ? { selector: r.selector } : {}),
      ...(r.notSelector !== undefined ? { notSelector: r.notSelector } : {}),
      ...(r.nets !== undefined ? { nets: r.nets } : {}),
      ...(r.notNets !== undefined ? { notNets: r.notNets } : {}),
    };
    const ports = portProto ? { ...(r.ports !== undefined ? { ports: r.ports } : {}), ...(r.notPorts !== undefined ? { notPorts: r.notPorts } : {}) } : {};
    return {
      action: r.action,
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
      ...(r.notProtocol !== undefined && r.protocol === undefined ? { notProtocol: r.notProtocol } : {}),
      ...(icmp && r.icmpType !== undefined ? { icmp: { type: r.icmpType } } : {}),
      peer,
      ports,
    };
  });
const runClusterArb: fc.Arbitrary<Resource[]> = fc
  .record({
    pods: fc.array(fc.record({ l: fc.constantFrom(...LABELS), v4: fc.boolean(), node: fc.constantFrom('n1', 'n2') }), { minLength: 2, maxLength: 6 }),
    t1Default: fc.constantFrom('Deny', 'Pass'),
    policies: fc.array(
      fc.record({ tier: fc.constantFrom('default', 't1'), subject: fc.constantFrom("l == 'x'", "l == 'y'", 'all()'), order: fc.integer({ min: 1, max: 3 }), rules: fc.array(simpleRuleArb, { minLength: 1, maxLength: 6 }) }),
      { maxLength: 3 },
    ),
  })
  .map((c) => {
    const out: Resource[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: {} } } as Resource, tier('t1', 1, c.t1Default as 'Deny' | 'Pass')];
    c.pods.forEach((p, i) => {
      const v6 = `fd00::${i + 2}`;
      const r = pod('a', `p${i}`, { labels: { l: p.l }, node: p.node, ip: p.v4 ? `10.0.0.${i + 2}` : v6 });
      out.push(p.v4 ? { ...r, status: { podIP: `10.0.0.${i + 2}`, podIPs: [{ ip: `10.0.0.${i + 2}` }, { ip: v6 }] } } : r);
    });
    out.push(globalNetworkSet('ext', ['10.0.0.0/29', 'fd00::/126'], { kind: 'ext' }));
    c.policies.forEach((p, i) => {
      const rules = (d: 'in' | 'out') => p.rules.map((r) => ({ action: r.action, ...(r.protocol ? { protocol: r.protocol } : {}), ...(r.notProtocol ? { notProtocol: r.notProtocol } : {}), ...(r.icmp ? { icmp: r.icmp } : {}), source: d === 'in' ? r.peer : {}, destination: d === 'in' ? r.ports : { ...r.peer, ...r.ports } }));
      out.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name: p.tier === 'default' ? `g${i}` : `t1.g${i}`, labels: {} },
        spec: { tier: p.tier, order: p.order, selector: p.subject, types: ['Ingress', 'Egress'], ingress: rules('in'), egress: rules('out') },
      } as unknown as Resource);
    });
    return out;
  });

for (const [compile, arb, name] of [
  [true, clusterArb, 'random clusters, compiled runs'],
  [false, clusterArb, 'random clusters, sequential rules'],
  [true, runClusterArb, 'runs of simple rules, dual stack, compiled'],
] as const) {
  test(`the ruleset decides like the evaluator, and names the deciding rule (${name})`, () => {
    let checked = 0;
    let allowed = 0;
    let compiledMaps = 0;
    let maxSteps = 0;
    fc.assert(
      fc.property(arb, (generated) => {
        const resources = withNodes(generated);
        const built = buildSnapshot(resources.map((resource, i) => ({ source: { file: 'generated.yaml', document: i + 1 }, resource })));
        const evaluator = new PolicyEvaluator(built.snapshot);
        const recorder = new CalcStateRecorder();
        const engine = new CalcEngine({ callbacks: recorder });
        engine.onUpdates(resources.map(upsert));
        engine.flush();
        const state = recorder.state;
        const ifaces = new Map([...state.endpoints.keys()].sort().map((id, i) => [id, `mgy${i}`]));
        const ruleIds = new RuleIdRegistry();
        const m = renderModel(state, {
          tableName: 'margay',
          podInterfacePrefix: 'mgy',
          logGroup: 1,
          interfaceOf: (e) => ifaces.get(e.id),
          ruleIds,
          ...(compile ? {} : { compileMinRules: Infinity }),
        });
        compiledMaps += [...m.maps.keys()].filter((k) => k.startsWith('v-')).length;
        const ends: (Entity | IpAddress)[] = built.snapshot.entities.filter((e) => e.kind !== 'networkSet' && e.ips.length > 0);
        ends.push(...OUTSIDE);
        for (const from of ends) {
          for (const to of ends) {
            if (!('kind' in from) && !('kind' in to)) continue;
            if (from === to) continue;
            for (const request of REQUESTS) {
              const flow = flowBetween(from, to, request);
              if (flow === undefined) continue;
              const verdict = evaluator.evaluate(flow);
              for (const d of ['egress', 'ingress'] as const) {
                const out = decide(m, ifaces, flow, d);
                const v = verdict[d];
                const what = () => `${d} ${'kind' in from ? from.id : from.text} → ${'kind' in to ? to.id : to.text} ${request.protocol}/${request.port ?? '-'}: evaluator ${JSON.stringify(v.decidedBy)}`;
                if (out === undefined) {
                  assert.equal(v.allowed, true, `not enforced here but denied: ${what()}`);
                  continue;
                }
                maxSteps = Math.max(maxSteps, out.steps);
                assert.equal(out.verdict === 'accept', v.allowed, what());
                checked++;
                if (v.allowed) {
                  allowed++;
                  const ids = ruleIdsOfCtMark(out.ctMark);
                  const entry = ruleIds.lookup(d === 'egress' ? ids.egress : ids.ingress);
                  assert.ok(sameDecision(state, entry, v), `ct mark names ${JSON.stringify(entry)}: ${what()}`);
                } else {
                  const deny = out.logs.map(parseLogPrefix).filter((x) => x?.action === 'deny');
                  assert.equal(deny.length, 1, `one deny log, got ${JSON.stringify(out.logs)}: ${what()}`);
                  assert.equal(deny[0]?.direction, d);
                  const entry = ruleIds.lookup(deny[0]?.ruleId ?? 0);
                  assert.ok(sameDecision(state, entry, v), `deny log names ${JSON.stringify(entry)}: ${what()}`);
                }
              }
            }
          }
        }
      }),
      { numRuns: 120 },
    );
    assert.ok(allowed > checked * 0.1 && allowed < checked * 0.9, `allowed ${allowed} of ${checked}`);
    if (compile) assert.ok(compiledMaps > 0, 'the generator never made a compiled run');
    console.log(`# ${name}: ${checked} direction verdicts, ${allowed} allowed, ${compiledMaps} compiled maps, max ${maxSteps} rules per packet`);
  });
}
