// Felix-style calc tests: sequences of datastore states, replayed forwards, reversed, squashed,
// split across flushes and interleaved; after every flush the engine's emitted state must equal
// the full recompute of what the datastore holds then, through a stream with no redundant delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Entity } from '../policy/index.js';
import type { Resource } from '../resources/index.js';
import { CalcEngine, CalcStateRecorder, NaiveCalcEngine, computeCalcState, describeCalcState, localToNode, type CalcUpdate } from './index.js';
import { clusterArb, clusterSequenceArb, keyOf, transition } from './fixtures.test.js';

type IsLocal = (e: Entity) => boolean;
const LOCALITIES: readonly [string, IsLocal | undefined][] = [
  ['all endpoints', undefined],
  ['node n1', localToNode('n1')],
];

class Harness {
  readonly recorder = new CalcStateRecorder();
  readonly engine: CalcEngine;
  readonly datastore = new Map<string, Resource>();

  constructor(private readonly isLocal: IsLocal | undefined) {
    this.engine = new CalcEngine({ callbacks: this.recorder, ...(isLocal ? { isLocal } : {}) });
  }

  apply(u: CalcUpdate): void {
    if (u.type === 'upsert') this.datastore.set(keyOf(u.resource), u.resource);
    else this.datastore.delete(`${u.ref.apiVersion}|${u.ref.kind}|${u.ref.namespace ?? ''}|${u.ref.name}`);
    this.engine.onUpdate(u);
  }

  flushAndCheck(context: string): void {
    this.engine.flush();
    const expected = computeCalcState(this.datastore.values(), this.isLocal ? { isLocal: this.isLocal } : {});
    assert.deepStrictEqual(describeCalcState(this.recorder.state), describeCalcState(expected), context);
    assert.equal(this.recorder.redundant, 0, `${context}: redundant deltas`);
  }

  /** Everything deleted: no output left, and no index entry lingers anywhere. */
  checkEmpty(): void {
    const s = this.engine.stats();
    assert.deepStrictEqual(
      { ...s, emitted: undefined },
      { entities: 0, localEndpoints: 0, selectorRegistrations: 0, indexBuckets: 0, ipSets: 0, policies: 0, activePolicies: 0, profileRecords: 0, emitted: undefined },
    );
    assert.deepStrictEqual(s.emitted, { ipSets: 0, tiers: 0, policies: 0, profiles: 0, endpoints: 0 });
  }
}

function replayStates(states: readonly Resource[][], isLocal: IsLocal | undefined, shuffle: (u: CalcUpdate[]) => CalcUpdate[], split: boolean): void {
  const h = new Harness(isLocal);
  let current: Resource[] = [];
  states.forEach((state, i) => {
    const updates = shuffle(transition(current, state));
    if (split) {
      const half = Math.floor(updates.length / 2);
      for (const u of updates.slice(0, half)) h.apply(u);
      h.flushAndCheck(`state ${i}, first half`);
      for (const u of updates.slice(half)) h.apply(u);
    } else {
      for (const u of updates) h.apply(u);
    }
    h.flushAndCheck(`state ${i}`);
    current = state;
  });
  for (const u of shuffle(transition(current, []))) h.apply(u);
  h.flushAndCheck('all deleted');
  h.checkEmpty();
}

const statesArb = fc.oneof(clusterSequenceArb, fc.array(clusterArb, { minLength: 1, maxLength: 4 }));
const runs = { numRuns: 60 };

for (const [where, isLocal] of LOCALITIES) {
  test(`state sequences replayed in order (${where})`, () => {
    fc.assert(
      fc.property(statesArb, fc.boolean(), (states, split) => replayStates(states, isLocal, (u) => u, split)),
      runs,
    );
  });

  test(`state sequences replayed reversed (${where})`, () => {
    fc.assert(
      fc.property(statesArb, fc.boolean(), (states, split) => replayStates([...states].reverse(), isLocal, (u) => u, split)),
      runs,
    );
  });

  test(`state sequences with updates shuffled (dangling references) (${where})`, () => {
    fc.assert(
      fc.property(statesArb, fc.boolean(), fc.infiniteStream(fc.nat()), (states, split, randoms) => {
        const shuffle = (u: CalcUpdate[]) => shuffled(u, randoms);
        replayStates(states, isLocal, shuffle, split);
      }),
      runs,
    );
  });

  test(`squashed: the last state straight from empty (${where})`, () => {
    fc.assert(
      fc.property(statesArb, (states) => replayStates([states[states.length - 1] as Resource[]], isLocal, (u) => u, false)),
      runs,
    );
  });

  test(`interleaved: the whole update stream merged out of order per object, flushed anywhere (${where})`, () => {
    fc.assert(
      fc.property(statesArb, fc.infiniteStream(fc.nat()), fc.array(fc.nat(), { maxLength: 6 }), (states, randoms, flushPoints) => {
        const stream: CalcUpdate[] = [];
        let current: Resource[] = [];
        for (const state of [...states, []]) {
          stream.push(...transition(current, state));
          current = state;
        }
        const merged = interleavePerObject(stream, randoms);
        const h = new Harness(isLocal);
        const flushAt = new Set(flushPoints.map((n) => n % (merged.length + 1)));
        merged.forEach((u, i) => {
          if (flushAt.has(i)) h.flushAndCheck(`after ${i} updates`);
          h.apply(u);
        });
        h.flushAndCheck('end');
        h.checkEmpty();
      }),
      runs,
    );
  });
}

test('the naive engine emits the same safe, minimal stream', () => {
  fc.assert(
    fc.property(statesArb, (states) => {
      const recorder = new CalcStateRecorder();
      const naive = new NaiveCalcEngine({ callbacks: recorder });
      const datastore: Resource[][] = [];
      let current: Resource[] = [];
      for (const state of [...states, []]) {
        naive.onUpdates(transition(current, state));
        naive.flush();
        datastore.push(state);
        assert.deepStrictEqual(describeCalcState(recorder.state), describeCalcState(computeCalcState(state)));
        assert.equal(recorder.redundant, 0);
        current = state;
      }
    }),
    { numRuns: 30 },
  );
});

/** Fisher–Yates driven by fast-check's stream, so failures shrink and replay. */
function shuffled<T>(items: readonly T[], randoms: fc.Stream<number>): T[] {
  const out = [...items];
  const it = randoms[Symbol.iterator]();
  for (let i = out.length - 1; i > 0; i--) {
    const j = (it.next().value as number) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * A random merge of the stream that keeps each object's own updates in order (the only order a
 * watch guarantees), so updates of different objects overtake one another freely.
 */
function interleavePerObject(stream: readonly CalcUpdate[], randoms: fc.Stream<number>): CalcUpdate[] {
  const queues = new Map<string, CalcUpdate[]>();
  for (const u of stream) {
    const key = u.type === 'upsert' ? keyOf(u.resource) : `${u.ref.apiVersion}|${u.ref.kind}|${u.ref.namespace ?? ''}|${u.ref.name}`;
    const q = queues.get(key);
    if (q) q.push(u);
    else queues.set(key, [u]);
  }
  const lanes = [...queues.values()];
  const out: CalcUpdate[] = [];
  const it = randoms[Symbol.iterator]();
  while (lanes.length > 0) {
    const i = (it.next().value as number) % lanes.length;
    const lane = lanes[i] as CalcUpdate[];
    out.push(lane.shift() as CalcUpdate);
    if (lane.length === 0) lanes.splice(i, 1);
  }
  return out;
}
