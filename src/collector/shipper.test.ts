// The shipper's promises: the buffer never grows past its bound (the oldest go, and are counted
// in the next accepted batch), nothing accepted is lost or sent twice, 429 and failures wait
// before retrying, and a batch the server will never take does not block the ones after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { FlowBatch, FlowLog } from '../flows/index.js';
import { FlowShipper } from './shipper.js';

const log = (n: number): FlowLog =>
  ({ startTime: n, endTime: n + 1, host: 'n1', reporter: 'src', action: 'allow', proto: 'tcp', tier: '-', policy: '-', ruleIndex: 0, policies: [], packetsIn: 0, packetsOut: 1, bytesIn: 0, bytesOut: n, numFlows: 1, numFlowsStarted: 1, numFlowsCompleted: 0,
    source: { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip: '1.1.1.1', port: 0 }, dest: { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip: '2.2.2.2', port: 80 } }) as FlowLog;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('collector: shipper', () => {
  it('delivers every log exactly once, in order, or counts it as dropped, whatever the server answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(201, 201, 201, 429, 503, 400, 'down'), { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }), async (answers, enqueues) => {
        const delivered: number[] = [];
        let reportedDropped = 0;
        let call = 0;
        const timers: (() => void)[] = [];
        let clock = 0;
        const shipper = new FlowShipper({
          host: 'n1',
          now: () => clock,
          maxBuffered: 50,
          maxBatch: 7,
          setTimer: (fn) => timers.push(fn),
          post: async (b: FlowBatch) => {
            const cycle = [...answers, 201 as const];
            const a = cycle[call++ % cycle.length];
            if (a === 'down') throw new Error('ECONNREFUSED');
            if (a === 201) {
              delivered.push(...b.logs.map((l) => l.bytesOut));
              reportedDropped += b.dropped;
            }
            return { code: typeof a === 'number' ? a : 201, ...(a === 429 ? { retryAfterMs: 5 } : {}) };
          },
        });
        let next = 0;
        for (const n of enqueues) {
          shipper.enqueue(Array.from({ length: n }, () => log(next++)));
          await tick();
        }
        // Let every backoff expire until the buffer is empty (bounded: the answers cycle and include 201).
        for (let i = 0; i < 500 && shipper.stats.buffered > 0; i++) {
          clock += 60_000;
          for (const t of timers.splice(0)) t();
          await shipper.flush();
          await tick();
        }
        assert.equal(shipper.stats.buffered, 0);
        // Order kept, no duplicates; everything not delivered was counted as dropped.
        for (let i = 1; i < delivered.length; i++) assert.ok((delivered[i] ?? 0) > (delivered[i - 1] ?? 0));
        assert.equal(delivered.length + shipper.stats.dropped, next);
        assert.ok(reportedDropped <= shipper.stats.dropped);
        assert.equal(shipper.stats.shipped, delivered.length);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps at most maxBuffered logs while the server is down, dropping the oldest', async () => {
    const timers: (() => void)[] = [];
    let up = false;
    let clock = 0;
    const got: FlowBatch[] = [];
    const shipper = new FlowShipper({ host: 'n1', maxBuffered: 10, now: () => clock, setTimer: (fn) => timers.push(fn), post: async (b) => {
      if (!up) throw new Error('down');
      got.push(b);
      return { code: 201 };
    } });
    shipper.enqueue(Array.from({ length: 25 }, (_, i) => log(i)));
    await tick();
    assert.equal(shipper.stats.buffered, 10);
    assert.equal(shipper.stats.dropped, 15);
    up = true;
    clock += 60_000;
    for (const t of timers.splice(0)) t();
    await shipper.flush();
    assert.deepEqual(got[0]?.logs.map((l) => l.bytesOut), [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    assert.equal(got[0]?.dropped, 15, 'the drop count travels with the next accepted batch');
  });
});
