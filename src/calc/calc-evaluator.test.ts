// The engine against the policy core's evaluator: for random clusters, a verdict computed only
// from the engine's output (endpoint lists, active policies, IP-set membership, named-port sets)
// agrees with the evaluator's, enforced and staged, for every pair of endpoints and a few
// outside addresses, ports and protocols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp, type IpAddress } from '../net/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, type Entity, type FlowRequest } from '../policy/index.js';
import type { Resource } from '../resources/index.js';
import { CalcEngine, CalcStateRecorder } from './index.js';
import { NODE_IPS, calcAllows, clusterArb, keyOf, node, upsert } from './fixtures.test.js';

const REQUESTS: readonly FlowRequest[] = [
  { protocol: 6, port: 80 },
  { protocol: 6, port: 8080 },
  { protocol: 6, port: 9090 },
  { protocol: 17, port: 53 },
  { protocol: 6, port: 443, sourcePort: 8080 },
];
const OUTSIDE = ['172.16.3.4', '10.0.0.5', '8.8.8.8'].map((t) => parseIp(t) as IpAddress);

/** Both nodes exist, so host-networked pods without an address of their own take the node's. */
function withNodes(resources: readonly Resource[]): Resource[] {
  const out = [...resources];
  const keys = new Set(out.map(keyOf));
  for (const [name, ip] of Object.entries(NODE_IPS)) {
    const n = node(name, ip);
    if (!keys.has(keyOf(n))) out.unshift(n);
  }
  return out;
}

test('a verdict from the engine output equals the evaluator verdict, enforced and staged', () => {
  let flows = 0;
  let allowed = 0;
  let stagedDiffers = 0;
  fc.assert(
    fc.property(clusterArb, (generated) => {
      const resources = withNodes(generated);
      const built = buildSnapshot(resources.map((resource, i) => ({ source: { file: 'generated.yaml', document: i + 1 }, resource })));
      const evaluator = new PolicyEvaluator(built.snapshot);
      const recorder = new CalcStateRecorder();
      const engine = new CalcEngine({ callbacks: recorder });
      engine.onUpdates(resources.map(upsert));
      engine.flush();

      const ends: (Entity | IpAddress)[] = built.snapshot.entities.filter((e) => e.kind !== 'networkSet' && e.ips.length > 0);
      ends.push(...OUTSIDE);
      for (const from of ends) {
        for (const to of ends) {
          if (!('kind' in from) && !('kind' in to)) continue;
          for (const request of REQUESTS) {
            const flow = flowBetween(from, to, request);
            if (flow === undefined) continue;
            const verdict = evaluator.evaluate(flow);
            const what = `${'kind' in from ? from.id : from.text} → ${'kind' in to ? to.id : to.text} ${request.protocol}/${request.port}`;
            assert.equal(calcAllows(recorder.state, flow, false), verdict.allowed, `enforced: ${what}`);
            assert.equal(calcAllows(recorder.state, flow, true), verdict.staged.allowed, `staged: ${what}`);
            flows++;
            if (verdict.allowed) allowed++;
            if (verdict.allowed !== verdict.staged.allowed) stagedDiffers++;
          }
        }
      }
    }),
    { numRuns: 150 },
  );
  // The generator must exercise both outcomes and staged policies, or the agreement says little.
  assert.ok(allowed > flows * 0.1 && allowed < flows * 0.9, `allowed ${allowed} of ${flows}`);
  assert.ok(stagedDiffers > 0, 'no flow where staged policies change the verdict');
});
