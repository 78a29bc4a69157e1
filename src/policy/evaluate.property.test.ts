// Properties of the evaluator over random clusters (fast-check): facts that must hold whatever the
// policies say. The matrix suites pin exact answers; these catch whole classes of mistakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeObject, type Decoded } from '../resources/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, reachabilityMatrix, PROTOCOL_NUMBERS } from './index.js';

const NAMESPACES = ['x', 'y', 'z'];
const LABEL_VALUES = ['a', 'b', 'c'];
const PORTS = [80, 81, 443];

type Obj = Record<string, unknown>;

const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'env'), fc.constantFrom(...LABEL_VALUES), { maxKeys: 3 });
const labelSelector = fc.oneof(
  fc.constant({}),
  labels.map((matchLabels) => ({ matchLabels })),
  fc.record({
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({ key: fc.constantFrom('app', 'tier'), operator: fc.constantFrom('In', 'NotIn'), values: fc.subarray(LABEL_VALUES, { minLength: 1 }) }),
        fc.record({ key: fc.constantFrom('app', 'env'), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  }),
);
const calicoSelector = fc.constantFrom('all()', 'app == "a"', 'has(tier)', 'app in {"a", "b"}', '!has(env)', 'tier != "c"', 'app == "b" || env == "a"');

const k8sPort = fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(...PORTS) });
const k8sPeer = fc.oneof(
  fc.record({ podSelector: labelSelector }),
  fc.record({ namespaceSelector: labelSelector }),
  fc.record({ podSelector: labelSelector, namespaceSelector: labelSelector }),
  fc.record({ ipBlock: fc.record({ cidr: fc.constantFrom('10.0.0.0/16', '10.0.1.0/24', '0.0.0.0/0') }) }),
);
const k8sRule = (side: 'from' | 'to') =>
  fc.record({ [side]: fc.array(k8sPeer, { maxLength: 2 }), ports: fc.array(k8sPort, { maxLength: 2 }) }, { requiredKeys: [] });
const k8sPolicy = (i: number) =>
  fc.record({
    namespace: fc.constantFrom(...NAMESPACES),
    podSelector: labelSelector,
    ingress: fc.option(fc.array(k8sRule('from'), { maxLength: 2 }), { nil: undefined }),
    egress: fc.option(fc.array(k8sRule('to'), { maxLength: 2 }), { nil: undefined }),
  }).map((p): Obj => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `knp-${i}`, namespace: p.namespace },
    spec: {
      podSelector: p.podSelector,
      ...(p.ingress ? { ingress: p.ingress } : {}),
      ...(p.egress ? { egress: p.egress, policyTypes: ['Ingress', 'Egress'] } : {}),
    },
  }));
const calicoRule = fc.record({
  action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log'),
  protocol: fc.constantFrom('TCP', 'UDP'),
  source: fc.record({ selector: calicoSelector }, { requiredKeys: [] }),
  destination: fc.record({ ports: fc.subarray(PORTS, { minLength: 1 }) }, { requiredKeys: [] }),
});
const calicoPolicy = (i: number, staged: boolean) =>
  fc.record({
    global: fc.boolean(),
    tier: fc.constantFrom('default', 'security'),
    order: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    selector: calicoSelector,
    ingress: fc.array(calicoRule, { maxLength: 3 }),
    egress: fc.array(calicoRule, { maxLength: 2 }),
  }).map((p): Obj => ({
    apiVersion: 'projectcalico.org/v3',
    kind: `${staged ? 'Staged' : ''}${p.global ? 'GlobalNetworkPolicy' : 'NetworkPolicy'}`,
    metadata: { name: `${p.tier === 'default' ? '' : `${p.tier}.`}cnp-${i}`, ...(p.global ? {} : { namespace: 'x' }) },
    spec: { tier: p.tier, ...(p.order !== undefined ? { order: p.order } : {}), selector: p.selector, ingress: p.ingress, egress: p.egress },
  }));

const cluster = fc
  .record({
    pods: fc.array(fc.record({ namespace: fc.constantFrom(...NAMESPACES), labels }), { minLength: 2, maxLength: 6 }),
    nsLabels: fc.array(labels, { minLength: 3, maxLength: 3 }),
    knps: fc.array(fc.nat(), { maxLength: 3 }),
    cnps: fc.array(fc.nat(), { maxLength: 3 }),
  })
  .chain((c) =>
    fc.record({
      pods: fc.constant(c.pods),
      nsLabels: fc.constant(c.nsLabels),
      knps: fc.tuple(...c.knps.map((_, i) => k8sPolicy(i))),
      cnps: fc.tuple(...c.cnps.map((_, i) => calicoPolicy(i, false))),
      staged: fc.array(fc.nat(), { maxLength: 2 }).chain((s) => fc.tuple(...s.map((_, i) => calicoPolicy(i + 100, true)))),
      defaultAction: fc.constantFrom('Deny', 'Pass'),
    }),
  );

function manifests(c: { pods: { namespace: string; labels: Record<string, string> }[]; nsLabels: Record<string, string>[]; knps: Obj[]; cnps: Obj[]; staged?: Obj[]; defaultAction: string }): Obj[] {
  const objects: Obj[] = NAMESPACES.map((name, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: c.nsLabels[i] ?? {} } }));
  objects.push({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100, defaultAction: c.defaultAction } });
  c.pods.forEach((p, i) =>
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: p.namespace, labels: p.labels },
      spec: { nodeName: `n${i % 2}`, containers: [{ name: 'c' }] },
      status: { podIP: `10.0.${i % 2}.${i + 1}` },
    }),
  );
  return [...objects, ...c.knps, ...c.cnps, ...(c.staged ?? [])];
}

function evaluatorFor(objects: Obj[]) {
  const decoded: Decoded[] = objects.map((o, i) => ({ source: { file: 'gen', document: i + 1 }, resource: decodeObject(o, { file: 'gen', document: i + 1 }) }));
  const built = buildSnapshot(decoded);
  assert.deepEqual(built.problems, []);
  return { built, ev: new PolicyEvaluator(built.snapshot) };
}

function matrixOf(objects: Obj[], port: number, protocol: number) {
  const { built, ev } = evaluatorFor(objects);
  return reachabilityMatrix(ev, built.pods, { protocol, port });
}

const RUNS = { numRuns: 150 };

test('staged policies never change a verdict', () => {
  fc.assert(
    fc.property(cluster, fc.constantFrom(...PORTS), (c, port) => {
      const without = matrixOf(manifests({ ...c, staged: [] }), port, PROTOCOL_NUMBERS.TCP);
      const withStaged = matrixOf(manifests(c), port, PROTOCOL_NUMBERS.TCP);
      assert.deepEqual(withStaged, without);
    }),
    RUNS,
  );
});

test('the traced evaluation and the fast path always agree, and the trace explains the verdict', () => {
  fc.assert(
    fc.property(cluster, fc.constantFrom(...PORTS), fc.constantFrom(PROTOCOL_NUMBERS.TCP, PROTOCOL_NUMBERS.UDP), (c, port, protocol) => {
      const { built, ev } = evaluatorFor(manifests(c));
      for (const from of built.pods.values()) {
        for (const to of built.pods.values()) {
          const flow = flowBetween(from, to, { protocol, port });
          assert.ok(flow);
          const v = ev.evaluate(flow);
          assert.equal(ev.isAllowed(flow), v.allowed);
          assert.equal(v.allowed, v.egress.allowed && v.ingress.allowed);
          for (const d of [v.egress, v.ingress]) {
            const decisive = d.decidedBy.kind === 'rule' || d.decidedBy.kind === 'profile' ? d.decidedBy.action === 'Allow' : d.decidedBy.kind === 'not-enforced';
            assert.equal(d.allowed, decisive);
          }
        }
      }
    }),
    { numRuns: 80 },
  );
});

test('the order manifests arrive in does not change any verdict', () => {
  fc.assert(
    fc.property(cluster, fc.integer(), (c, seed) => {
      const objects = manifests(c);
      const shuffled = [...objects].sort((a, b) => hash(JSON.stringify(a), seed) - hash(JSON.stringify(b), seed));
      assert.deepEqual(matrixOf(shuffled, 443, PROTOCOL_NUMBERS.TCP), matrixOf(objects, 443, PROTOCOL_NUMBERS.TCP));
    }),
    RUNS,
  );
});

test('a Kubernetes policy changes no pair whose ends are both outside its namespace', () => {
  fc.assert(
    fc.property(cluster, k8sPolicy(99), (c, extra) => {
      const base = { ...c, cnps: [], staged: [] };
      const before = matrixOf(manifests(base), 80, PROTOCOL_NUMBERS.TCP);
      const after = matrixOf(manifests({ ...base, knps: [...base.knps, extra] }), 80, PROTOCOL_NUMBERS.TCP);
      const home = (extra.metadata as { namespace: string }).namespace;
      for (const [from, row] of Object.entries(before)) {
        for (const [to, was] of Object.entries(row)) {
          if (from.startsWith(`${home}/`) || to.startsWith(`${home}/`)) continue;
          assert.equal(after[from]?.[to], was, `${from} -> ${to} changed though the new policy selects neither`);
        }
      }
    }),
    RUNS,
  );
});

test('adding an ingress allow-all Kubernetes policy never denies a pair that was allowed', () => {
  fc.assert(
    fc.property(cluster, fc.constantFrom(...NAMESPACES), (c, ns) => {
      const base = { ...c, cnps: [], staged: [] };
      const allowAll: Obj = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-all-ingress', namespace: ns },
        spec: { podSelector: {}, ingress: [{}] },
      };
      const before = matrixOf(manifests(base), 80, PROTOCOL_NUMBERS.TCP);
      const after = matrixOf([...manifests(base), allowAll], 80, PROTOCOL_NUMBERS.TCP);
      for (const [from, row] of Object.entries(before)) {
        for (const [to, was] of Object.entries(row)) {
          if (was) assert.equal(after[from]?.[to], true, `${from} -> ${to}`);
        }
      }
    }),
    RUNS,
  );
});

test('an allow-everything policy in the first tier allows every pair', () => {
  fc.assert(
    fc.property(cluster, (c) => {
      const allowAll: Obj = {
        apiVersion: 'projectcalico.org/v3',
        kind: 'Tier',
        metadata: { name: 'first' },
        spec: { order: 1 },
      };
      const policy: Obj = {
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name: 'first.allow-all' },
        spec: { tier: 'first', selector: 'all()', types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
      };
      const m = matrixOf([...manifests(c), allowAll, policy], 81, PROTOCOL_NUMBERS.UDP);
      for (const row of Object.values(m)) for (const cell of Object.values(row)) assert.equal(cell, true);
    }),
    RUNS,
  );
});

function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}
