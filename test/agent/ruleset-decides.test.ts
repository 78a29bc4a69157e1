// The rendered ruleset against the policy core's evaluator, without a kernel: for random clusters
// (every kind the calc engine reads), every flow between endpoints and outside addresses is run
// through the nftables program (an interpreter of the rules Margay writes) and must get the
// evaluator's verdict in each direction — with the compiled verdict maps and with every rule
// written sequentially. The deciding rule must be attributable: an allow's id in the ct mark,
// a drop's id in its `mgy D` log prefix, each naming what the evaluator says decided. The host's
// own traffic (nodes, host-networked pods, host endpoints) goes through the input and output
// chains of its node's ruleset, crossing the node's uplink `eth0`, a local pod's veth, or lo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp, type IpAddress } from '../../src/net/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, isHostSide, type DirectionVerdict, type Entity, type Flow, type FlowRequest } from '../../src/policy/index.js';
import type { Resource } from '../../src/resources/index.js';
import { CalcEngine, CalcStateRecorder, type CalcState } from '../../src/calc/index.js';
import { NODE_IPS, clusterArb, globalNetworkSet, keyOf, node, pod, tier, upsert } from '../../src/calc/fixtures.test.js';
import {
  CHAIN_FORWARD_EGRESS,
  CHAIN_FORWARD_INGRESS,
  CHAIN_INPUT_HOST,
  CHAIN_OUTPUT_HOST,
  RuleIdRegistry,
  parseLogPrefix,
  renderModel,
  ruleIdsOfCtMark,
  type LogPrefixInfo,
  type RuleIdEntry,
  type RulesetModel,
} from '../../src/dataplane/index.js';
import { runBaseChain, type Outcome, type Packet } from '../../src/dataplane/nft-interpreter.test.js';

const REQUESTS: readonly FlowRequest[] = [
  { protocol: 6, port: 80 },
  { protocol: 6, port: 8080 },
  { protocol: 6, port: 9090 },
  { protocol: 17, port: 53 },
  { protocol: 132, port: 80 },
  { protocol: 6, port: 443, sourcePort: 8080 },
  { protocol: 1, icmp: { type: 8, code: 0 } },
  // Failsafe ports of host endpoints, inbound (22, 68/UDP) and outbound (53/UDP above, 67/UDP), and 6443 both ways.
  { protocol: 6, port: 22 },
  { protocol: 17, port: 68 },
  { protocol: 17, port: 67 },
  { protocol: 6, port: 6443 },
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
function decide(m: RulesetModel, ifaces: ReadonlyMap<string, string>, flow: Flow, d: 'egress' | 'ingress'): Outcome | undefined {
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

/**
 * The host's half of a flow, in the ruleset of the host's node: into the host through the input
 * chain, out of it through the output chain, by the interface the packet crosses there: a local
 * pod's veth, lo for the host itself, else the interface holding the host's address (the node's
 * address is on the uplink eth0, any other on eth1). Undefined for an end that is no host.
 */
function decideHost(models: ReadonlyMap<string, RulesetModel>, ifaces: ReadonlyMap<string, string>, flow: Flow, d: 'egress' | 'ingress'): Outcome | undefined {
  const end = d === 'egress' ? flow.source : flow.destination;
  const other = d === 'egress' ? flow.destination : flow.source;
  const e = end.entity;
  if (e === undefined || !isHostSide(e) || e.nodeName === undefined || flow.source.entity === flow.destination.entity) return undefined;
  const m = models.get(e.nodeName);
  if (m === undefined) return undefined;
  const o = other.entity;
  const iface = o !== undefined && o.nodeName === e.nodeName ? (ifaces.get(o.id) ?? 'lo') : end.ip.text === NODE_IPS[e.nodeName] ? 'eth0' : 'eth1';
  return d === 'egress' ? runBaseChain(m, CHAIN_OUTPUT_HOST, packetOf(flow, 'lo', iface)) : runBaseChain(m, CHAIN_INPUT_HOST, packetOf(flow, iface, 'lo'));
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
      return by.failsafe !== undefined && e.owner === 'implicit' && e.implicit === 'failsafe' && e.action === 'Allow';
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

// Hosts: at most one host endpoint per node (its uplink by name or all interfaces), host-networked
// and ordinary pods on both nodes, policies selecting host endpoints, pods or both, and a profile.
const hostClusterArb: fc.Arbitrary<Resource[]> = fc
  .record({
    heps: fc.subarray(['n1', 'n2'] as const, { minLength: 1 }).chain((nodes) =>
      fc.tuple(...nodes.map((n) => fc.record({ node: fc.constant(n), iface: fc.constantFrom('eth0', '*'), l: fc.constantFrom(...LABELS), profile: fc.boolean() }))),
    ),
    pods: fc.array(fc.record({ l: fc.constantFrom(...LABELS), node: fc.constantFrom('n1', 'n2'), host: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    profileAction: fc.constantFrom('Allow', 'Deny'),
    policies: fc.array(
      fc.record({ subject: fc.constantFrom("l == 'x'", "l == 'y'", 'has(hep)', 'all()'), order: fc.integer({ min: 1, max: 3 }), rules: fc.array(simpleRuleArb, { minLength: 1, maxLength: 4 }), types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']) }),
      { maxLength: 3 },
    ),
  })
  .map((c) => {
    const out: Resource[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: {} } } as Resource];
    for (const h of c.heps) {
      out.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'HostEndpoint',
        metadata: { name: `hep-${h.node}`, labels: { l: h.l, hep: 'true' } },
        spec: { node: h.node, interfaceName: h.iface, expectedIPs: [NODE_IPS[h.node] as string], ...(h.profile ? { profiles: ['hp'] } : {}) },
      } as unknown as Resource);
    }
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'hp', labels: {} },
      spec: { ingress: [{ action: c.profileAction, protocol: 'TCP', source: {}, destination: { ports: [80] } }], egress: [{ action: 'Allow', source: {}, destination: { nets: ['10.0.0.0/8'] } }] },
    } as unknown as Resource);
    c.pods.forEach((p, i) => out.push(pod('a', `p${i}`, { labels: { l: p.l }, node: p.node, ...(p.host ? { hostNetwork: true } : { ip: `10.0.0.${i + 2}` }) })));
    c.policies.forEach((p, i) => {
      const rules = (d: 'in' | 'out') => p.rules.map((r) => ({ action: r.action, ...(r.protocol ? { protocol: r.protocol } : {}), ...(r.notProtocol ? { notProtocol: r.notProtocol } : {}), ...(r.icmp ? { icmp: r.icmp } : {}), source: d === 'in' ? r.peer : {}, destination: d === 'in' ? r.ports : { ...r.peer, ...r.ports } }));
      out.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `h${i}`, labels: {} },
        spec: { tier: 'default', order: p.order, selector: p.subject, types: p.types, ingress: rules('in'), egress: rules('out') },
      } as unknown as Resource);
    });
    return out;
  });

for (const [compile, arb, name] of [
  [true, clusterArb, 'random clusters, compiled runs'],
  [false, clusterArb, 'random clusters, sequential rules'],
  [true, runClusterArb, 'runs of simple rules, dual stack, compiled'],
  [true, hostClusterArb, 'host endpoints and failsafe ports, compiled'],
  [false, hostClusterArb, 'host endpoints and failsafe ports, sequential rules'],
] as const) {
  test(`the ruleset decides like the evaluator, and names the deciding rule (${name})`, () => {
    let checked = 0;
    let allowed = 0;
    let compiledMaps = 0;
    let maxSteps = 0;
    const hep = { decided: 0, denied: 0, failsafe: 0 };
    fc.assert(
      fc.property(arb, (generated) => {
        const resources = withNodes(generated);
        const built = buildSnapshot(resources.map((resource, i) => ({ source: { file: 'generated.yaml', document: i + 1 }, resource })));
        if (arb === hostClusterArb) assert.deepEqual(built.problems, []);
        const evaluator = new PolicyEvaluator(built.snapshot);
        const recorder = new CalcStateRecorder();
        const engine = new CalcEngine({ callbacks: recorder });
        engine.onUpdates(resources.map(upsert));
        engine.flush();
        const state = recorder.state;
        const ifaces = new Map([...state.endpoints.keys()].filter((id) => id.startsWith('pod:')).sort().map((id, i) => [id, `mgy${i}`]));
        const ruleIds = new RuleIdRegistry();
        const options = {
          tableName: 'margay',
          podInterfacePrefix: 'mgy',
          logGroup: 1,
          interfaceOf: (e: Entity) => ifaces.get(e.id),
          ruleIds,
          ...(compile ? {} : { compileMinRules: Infinity }),
        };
        const m = renderModel(state, options);
        // Each node's own ruleset, for the host's traffic: its host endpoints only.
        const models = new Map(
          Object.keys(NODE_IPS).map((n) => [n, renderModel({ ...state, endpoints: new Map([...state.endpoints].filter(([, ep]) => ep.endpoint.nodeName === n)) }, options)]),
        );
        for (const model of [m, ...models.values()]) compiledMaps += [...model.maps.keys()].filter((k) => k.startsWith('v-')).length;
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
                const out: Outcome | undefined = decide(m, ifaces, flow, d) ?? decideHost(models, ifaces, flow, d);
                const v = verdict[d];
                const what = () => `${d} ${'kind' in from ? from.id : from.text} → ${'kind' in to ? to.id : to.text} ${request.protocol}/${request.port ?? '-'}: evaluator ${JSON.stringify(v.decidedBy)}`;
                if (out === undefined) {
                  assert.equal(v.allowed, true, `not enforced here but denied: ${what()}`);
                  continue;
                }
                maxSteps = Math.max(maxSteps, out.steps);
                if (v.endpoint?.startsWith('hep:')) {
                  hep.decided++;
                  if (!v.allowed) hep.denied++;
                  if (v.decidedBy.kind === 'not-enforced' && v.decidedBy.failsafe !== undefined) hep.failsafe++;
                }
                assert.equal(out.verdict === 'accept', v.allowed, what());
                checked++;
                if (v.allowed) {
                  allowed++;
                  const ids = ruleIdsOfCtMark(out.ctMark);
                  const id = d === 'egress' ? ids.egress : ids.ingress;
                  if (v.decidedBy.kind === 'not-enforced' && v.decidedBy.failsafe === undefined) {
                    assert.equal(id, 0, `no policy applies, yet the ct mark names rule ${id}: ${what()}`);
                    continue;
                  }
                  const entry = ruleIds.lookup(id);
                  assert.ok(sameDecision(state, entry, v), `ct mark names ${JSON.stringify(entry)}: ${what()}`);
                } else {
                  const deny: (LogPrefixInfo | undefined)[] = out.logs.map(parseLogPrefix).filter((x) => x?.action === 'deny');
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
    if (arb === hostClusterArb) assert.ok(hep.denied > 0 && hep.failsafe > 0 && hep.decided > hep.denied, `host endpoints: ${JSON.stringify(hep)}`);
    console.log(`# ${name}: ${checked} direction verdicts, ${allowed} allowed, ${compiledMaps} compiled maps, max ${maxSteps} rules per packet; host endpoints decided ${hep.decided}, denied ${hep.denied}, failsafe ${hep.failsafe}`);
  });
}
