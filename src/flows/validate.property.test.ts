// Property: the hand-written fast check accepts a batch only if the zod schema does, over valid
// batches with random damage (fields removed, replaced by other JSON values, unknown fields).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { syntheticFlowLogs } from './synthetic.js';
import { isWellFormedBatch, validateFlowBatch, zodAccepts } from './validate.js';

const base = [...Array.from({ length: 3 }, ((g) => () => g.next().value)(syntheticFlowLogs({ start: 1_767_225_600_000, logsPerBucket: 3 })))];

const jsonValue = fc.oneof(
  fc.constantFrom(null, true, '', 'x'.repeat(70), 'allow', 'deny', 'src', 'wep', 'tcp', 'flows.margay.io/v1', 'FlowBatch', 0, -1, -2, 1.5, 65535, 65536, 2 ** 53, 8_640_000_000_000_001),
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.constant([]),
  fc.constant({}),
  fc.constant(['0|default|p|allow|0']),
  fc.constant({ app: 'x' }),
);

/** Paths to every field of a batch (objects and arrays walked). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

type Damage = { kind: 'delete' | 'set' | 'add'; pick: number; value: unknown; key: string };
const damage: fc.Arbitrary<Damage> = fc.record({
  kind: fc.constantFrom('delete' as const, 'set' as const, 'add' as const),
  pick: fc.nat(),
  value: jsonValue,
  key: fc.constantFrom('extra', 'serviceAccount', 'pendingAction', 'pendingPolicies', 'labels', 'port'),
});

function apply(batch: unknown, damage: Damage): void {
  // fast-check hands out the same constant objects again: never let the batch share them.
  const d = { ...damage, value: structuredClone(damage.value) };
  const all = paths(batch).filter((p) => p.length > 0);
  const path = all[d.pick % all.length]!;
  let parent = batch as Record<string | number, unknown>;
  for (const seg of path.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (d.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (d.kind === 'set') parent[last] = d.value;
  else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[d.key] = d.value;
    else parent[last] = d.value;
  }
}

describe('the fast batch check agrees with zod', () => {
  it('accepts the undamaged batch, and never accepts what zod rejects', () => {
    const ok = { apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host: 'n1', logs: JSON.parse(JSON.stringify(base)), dropped: 0 };
    assert.ok(isWellFormedBatch(ok));
    assert.ok(zodAccepts(ok));
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(damage, { minLength: 1, maxLength: 3 }), (damages) => {
        const b = JSON.parse(JSON.stringify(ok)) as unknown;
        for (const d of damages) apply(b, d);
        const zod = zodAccepts(b);
        if (!zod) rejected++;
        assert.equal(isWellFormedBatch(b), zod, JSON.stringify(b).slice(0, 400));
        // Whatever the path, the answer is zod's.
        assert.equal('batch' in validateFlowBatch(b), zod);
      }),
      { numRuns: 2000 },
    );
    assert.ok(rejected > 500, `only ${rejected} damaged batches were invalid`);
  });
});
