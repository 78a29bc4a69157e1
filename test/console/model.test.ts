// The console's pure parts and the demo's data: layout, impact preview, field lines, the flow
// replay's counting and filters, and that the committed recording is what the plan produces now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { EXTERNAL_GROUP, groupOf, layoutGraph, syntheticGraph, type FlowGraphNode } from '../../console/index.js';
import { changedEdges, clusterModel, impactOf, policyBoard, resolveEnd, type ApiObject } from '../../console/index.js';
import { fieldPathSegments, lineOfField } from '../../console/index.js';
import { bucketAt, FlowQueryError, FlowReplayStore, flowGraph, loadDemoManifests, readRecording, recordDemo, recordingText } from '../../src/demo/index.js';

const nodeArb = fc.record({
  ns: fc.constantFrom('a', 'b', 'c', '-'),
  name: fc.stringMatching(/^[a-z]{1,6}$/),
  type: fc.constantFrom('wep', 'ns', 'net'),
});

function nodesOf(list: { ns: string; name: string; type: string }[]): FlowGraphNode[] {
  const seen = new Map<string, FlowGraphNode>();
  for (const n of list) {
    const type = n.ns === '-' && n.type === 'wep' ? 'net' : n.type;
    const id = `${type}/${n.ns}/${n.name}`;
    seen.set(id, { id, type, namespace: n.ns, name: n.name, labels: {} });
  }
  return [...seen.values()];
}

test('layout: every workload sits inside its namespace disc, and discs do not overlap', () => {
  fc.assert(
    fc.property(fc.array(nodeArb, { maxLength: 120 }), (list) => {
      const nodes = nodesOf(list);
      const layout = layoutGraph(nodes);
      assert.equal(layout.nodes.length, nodes.length);
      const groups = new Map(layout.groups.map((g) => [g.name, g]));
      for (const n of layout.nodes) {
        const g = groups.get(n.group);
        assert.ok(g !== undefined);
        assert.equal(n.group, groupOf(n));
        assert.ok(Math.hypot(n.x - g.x, n.y - g.y) <= g.r + 1e-9, `${n.id} inside ${g.name}`);
      }
      for (const a of layout.groups) for (const b of layout.groups) if (a !== b) assert.ok(Math.hypot(a.x - b.x, a.y - b.y) >= a.r + b.r - 1e-9, `${a.name} and ${b.name} apart`);
      if (layout.groups.some((g) => g.name === EXTERNAL_GROUP)) assert.equal(layout.groups.at(-1)?.name, EXTERNAL_GROUP, 'external endpoints come last');
    }),
  );
});

test('layout: a workload keeps its place in its disc when other namespaces change', () => {
  fc.assert(
    fc.property(fc.array(nodeArb, { maxLength: 60 }), fc.array(nodeArb, { maxLength: 60 }), (base, more) => {
      const nodes = nodesOf(base);
      const groupsOfBase = new Set(nodes.map(groupOf));
      const extra = nodesOf(more).filter((n) => !groupsOfBase.has(groupOf(n)));
      const offsets = (l: ReturnType<typeof layoutGraph>) => {
        const centers = new Map(l.groups.map((g) => [g.name, g]));
        return new Map(l.nodes.map((n) => [n.id, [n.x - (centers.get(n.group)?.x ?? 0), n.y - (centers.get(n.group)?.y ?? 0)]]));
      };
      const before = offsets(layoutGraph(nodes));
      const after = offsets(layoutGraph([...nodes, ...extra]));
      for (const [id, [dx = 0, dy = 0]] of before) {
        const [ax = NaN, ay = NaN] = after.get(id) ?? [];
        assert.ok(Math.abs(ax - dx) < 1e-6 && Math.abs(ay - dy) < 1e-6, `${id} moved inside its disc`);
      }
    }),
  );
});

test('the whole cluster lays out: 50,000 workloads, each at a finite place (time in bench/console-graph)', (t) => {
  const g = syntheticGraph(50_000);
  const t0 = performance.now();
  const layout = layoutGraph(g.nodes);
  t.diagnostic(`layout of 50,000 workloads: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(layout.nodes.length, 50_000);
  assert.ok(layout.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y)), 'every workload has a place');
});

test('field paths map to the YAML line of the field (or its deepest present parent)', () => {
  const yaml = 'apiVersion: v1\nkind: X\nspec:\n  selector: app ==\n  ingress:\n    - action: Allow\n      destination:\n        ports: [80, 81]\n';
  assert.deepEqual(fieldPathSegments('spec.ingress[0].destination.ports[1]'), ['spec', 'ingress', 0, 'destination', 'ports', 1]);
  assert.equal(lineOfField(yaml, 'spec.selector'), 4);
  assert.equal(lineOfField(yaml, 'spec.ingress[0].action'), 6);
  assert.equal(lineOfField(yaml, 'spec.ingress[0].destination.ports[1]'), 8);
  assert.equal(lineOfField(yaml, 'spec.ingress[0].source.selector'), 6, 'missing field: its nearest present parent');
  assert.equal(lineOfField(yaml, 'metadata.name'), undefined);
  fc.assert(
    fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.integer(), { minKeys: 1 }), { minKeys: 1 }), (o) => {
      const text = Object.entries(o).map(([k, v]) => `${k}:\n${Object.entries(v).map(([k2, n]) => `  ${k2}: ${n}`).join('\n')}`).join('\n');
      const lines = text.split('\n');
      for (const [k, v] of Object.entries(o)) {
        for (const k2 of Object.keys(v)) {
          const line = lineOfField(text, `${k}.${k2}`);
          assert.ok(line !== undefined && (lines[line - 1] ?? '').trimStart().startsWith(`${k2}:`), `${k}.${k2} → line ${line}`);
        }
      }
    }),
    { numRuns: 30 },
  );
});

test('the committed recording is what the demo plan and policies produce (regenerate: writeRecording())', () => {
  const fresh = recordDemo();
  const committed = readRecording();
  assert.equal(recordingText(committed), recordingText(fresh), 'examples/demo/flows.recorded.json is stale: run node -e "import(\'./dist/src/demo/index.js\').then((m) => m.writeRecording())"');
  const denied = new Set(fresh.logs.filter((l) => l.action === 'deny').map((l) => `${l.source.nameAggr}>${l.dest.nameAggr}:${l.dest.port}`));
  assert.deepEqual([...denied].sort(), ['catalog-*>internet:80', 'debug-*>cart-*:8080', 'debug-*>database-*:5432', 'frontend-*>database-*:5432']);
  assert.ok(fresh.logs.some((l) => l.pendingAction === 'deny' && l.source.nameAggr === 'frontend-*' && l.dest.nameAggr === 'internet'), 'the staged policy would cut the frontend off the internet');
});

test('the replay counts each connection once and answers the flows filters', () => {
  const r = readRecording();
  const store = new FlowReplayStore();
  const now = 1_800_000_000_000;
  for (let b = 0; b < r.buckets; b++) store.append(bucketAt(r, b, now - (r.buckets - 1 - b) * r.bucketMs));
  const graph = flowGraph(store.query({ limit: '10000' }, now) ? (store.query({ limit: '10000' }, now) as { items: never[] }).items : []);
  const edge = graph.edges.find((e) => e.id === 'wep/storefront/frontend-*>wep/storefront/database-*');
  assert.ok(edge !== undefined);
  assert.equal(edge.allowed, 0, 'the egress half allowed, the ingress half denied: one denied connection');
  assert.ok(edge.denied > 0);
  const denied = store.query({ action: 'deny', limit: '10000' }, now) as { items: { action: string }[] };
  assert.ok(denied.items.length > 0 && denied.items.every((i) => i.action === 'deny'));
  assert.throws(() => store.query({ action: 'maybe' }, now), (e: unknown) => e instanceof FlowQueryError && e.parameter === 'action');
  assert.throws(() => store.query({ selector: 'app ==' }, now), (e: unknown) => e instanceof FlowQueryError && e.parameter === 'selector');
  const list = store.query({ limit: '5' }, now) as { metadata: { lastId: number }; items: unknown[] };
  assert.equal(list.items.length, 5);
  const after = store.query({ afterId: String(list.metadata.lastId) }, now) as { items: unknown[] };
  assert.equal(after.items.length, 0, 'nothing newer than lastId');
});

test('impact preview: dropping cart from the database policy denies exactly cart → database', () => {
  const m = loadDemoManifests();
  const objects = m.objects.map((o) => o.object as ApiObject);
  const logs = readRecording().logs;
  const current = clusterModel(objects);
  assert.deepEqual(current.skipped, []);
  assert.deepEqual([...changedEdges(impactOf(current.built, logs)).keys()], [], 'the recording agrees with the policies it was made from');
  const edited = objects.map((o) => (o.metadata?.name === 'security.restrict-database' && o.kind === 'GlobalNetworkPolicy' ? (parse(JSON.stringify(o).replace('\\"cart\\", ', '')) as ApiObject) : o));
  const changed = changedEdges(impactOf(clusterModel(edited).built, logs));
  assert.deepEqual([...changed.keys()], ['wep/storefront/cart-*>wep/storefront/database-*']);
  assert.ok((changed.get('wep/storefront/cart-*>wep/storefront/database-*')?.nowDenied ?? 0) > 0);
  const board = policyBoard(current.built).filter((c) => c.policies.length > 0).map((c) => [c.tier.name, c.policies.map((p) => `${p.name}${p.staged !== undefined ? ' (staged)' : ''}`)]);
  assert.deepEqual(board, [
    ['security', ['security.restrict-database', 'security.internet-egress', 'security.internet-egress (staged)']],
    ['default', ['storefront/knp.default.backend-from-storefront', 'storefront/knp.default.web-from-anywhere']],
  ]);
  // Aggregated logs (the live collector drops addresses) resolve to a pod of the workload.
  const pod = resolveEnd(current.built, new Map(), { type: 'wep', namespace: 'storefront', name: '-', nameAggr: 'catalog-*', labels: {}, ip: '-', port: 0 });
  assert.ok(pod !== undefined && 'kind' in pod && pod.name.startsWith('catalog-'));
});

test('impact preview: halves aggregated at different levels (live collector) are one connection', () => {
  const m = loadDemoManifests();
  const current = clusterModel(m.objects.map((o) => o.object as ApiObject));
  const end = (nameAggr: string, name: string, ip: string, port: number) => ({ type: 'wep' as const, namespace: 'storefront', name, nameAggr, labels: {}, ip, port });
  const base = { startTime: 0, endTime: 15_000, proto: 'tcp', tier: '-', policy: '-', ruleIndex: -1, policies: [], packetsIn: 0, packetsOut: 1, bytesIn: 0, bytesOut: 60, numFlows: 1, numFlowsStarted: 1, numFlowsCompleted: 0 };
  const logs = [
    { ...base, host: 'node-a', reporter: 'src' as const, action: 'allow' as const, source: end('frontend-*', '-', '-', 0), dest: end('database-*', '-', '-', 5432) },
    { ...base, host: 'node-b', reporter: 'dst' as const, action: 'deny' as const, source: end('frontend-*', 'frontend-1', '10.244.0.10', 0), dest: end('database-*', 'database-1', '10.244.1.13', 5432) },
  ];
  assert.deepEqual([...changedEdges(impactOf(current.built, logs)).keys()], []);
});
