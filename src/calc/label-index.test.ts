// The label index against brute force: after any interleaving of selector registrations and
// entity adds, updates and removals, each registration's members are exactly the entities its
// selector matches, and the observer heard exactly the starts and stops that got it there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSelector } from '../selector/index.js';
import type { Entity, EntityKind, EntitySelector } from '../policy/index.js';
import { LabelIndex, type MatchObserver, type Registration } from './label-index.js';

const SELECTORS = [
  'all()', "a == 'x'", "a == 'y'", "a in {'x', 'y'}", "a not in {'x'}", 'has(a)', '!has(a)', "a != 'x'",
  "a == 'x' && b == 'p'", "a == 'x' || b == 'p'", "!(a == 'x' && has(b))", "b in {'p', 'q'} && c == 'z'",
  "a == 'x' && a == 'y'", "has(a) && !has(a)", "c starts with 'z'", "(a == 'x' || a == 'y') && !has(c)",
];

const labelsArb = fc.record(
  { a: fc.constantFrom('x', 'y', 'w'), b: fc.constantFrom('p', 'q'), c: fc.constantFrom('z', 'zz') },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

type Op =
  | { op: 'register'; selector: string; kinds?: EntityKind[]; localOnly: boolean }
  | { op: 'unregister'; which: number }
  | { op: 'upsert'; id: number; labels: Record<string, string>; kind: EntityKind; local: boolean }
  | { op: 'remove'; id: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('register' as const),
    selector: fc.constantFrom(...SELECTORS),
    kinds: fc.option(fc.constantFrom<EntityKind[]>(['pod'], ['pod', 'hostEndpoint']), { nil: undefined }),
    localOnly: fc.boolean(),
  }),
  fc.record({ op: fc.constant('unregister' as const), which: fc.nat() }),
  fc.record({
    op: fc.constant('upsert' as const),
    id: fc.nat(5),
    labels: labelsArb,
    kind: fc.constantFrom<EntityKind>('pod', 'networkSet'),
    local: fc.boolean(),
  }),
  fc.record({ op: fc.constant('remove' as const), id: fc.nat(5) }),
);

function entity(id: number, kind: EntityKind, labels: Record<string, string>): Entity {
  return { id: `e${id}`, kind, name: `e${id}`, labels, ips: [], namedPorts: [], enforced: true, profiles: [] };
}

class Recorder implements MatchObserver {
  readonly members = new Set<string>();
  onMatchStarted(e: Entity): void {
    assert.ok(!this.members.has(e.id), `started twice: ${e.id}`);
    this.members.add(e.id);
  }
  onMatchStopped(e: Entity): void {
    assert.ok(this.members.delete(e.id), `stopped without a start: ${e.id}`);
  }
  onMatchUpdated(): void {}
}

test('label index memberships equal brute-force matching under any sequence of changes', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const index = new LabelIndex();
      const regs: { reg: Registration; sel: EntitySelector; localOnly: boolean; rec: Recorder }[] = [];
      const entities = new Map<string, { e: Entity; local: boolean }>();
      for (const o of ops) {
        switch (o.op) {
          case 'register': {
            const sel: EntitySelector = o.kinds ? { selector: parseSelector(o.selector), kinds: new Set(o.kinds) } : { selector: parseSelector(o.selector) };
            const rec = new Recorder();
            regs.push({ reg: index.register(sel, o.localOnly, rec), sel, localOnly: o.localOnly, rec });
            break;
          }
          case 'unregister': {
            if (regs.length === 0) break;
            const [r] = regs.splice(o.which % regs.length, 1);
            if (r) index.unregister(r.reg, false);
            break;
          }
          case 'upsert': {
            const e = entity(o.id, o.kind, o.labels);
            entities.set(e.id, { e, local: o.local });
            index.upsertEntity(e, o.local, false);
            break;
          }
          case 'remove':
            entities.delete(`e${o.id}`);
            index.removeEntity(`e${o.id}`);
            break;
        }
        for (const { reg, sel, localOnly, rec } of regs) {
          const expected = [...entities.values()]
            .filter(({ e, local }) => (!localOnly || local) && (sel.kinds === undefined || sel.kinds.has(e.kind)) && sel.selector.matches(e.labels))
            .map(({ e }) => e.id)
            .sort();
          const actual: string[] = [];
          reg.forEachMember((e) => actual.push(e.id));
          assert.deepStrictEqual(actual.sort(), expected, `${sel.selector.toString()} (localOnly ${localOnly})`);
          assert.deepStrictEqual([...rec.members].sort(), expected, `observer of ${sel.selector.toString()}`);
        }
      }
      for (const { reg } of regs) index.unregister(reg, false);
      for (const id of entities.keys()) index.removeEntity(id);
      assert.equal(index.registrationCount, 0);
      assert.equal(index.entityCount, 0);
    }),
    { numRuns: 400 },
  );
});
