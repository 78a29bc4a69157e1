// Property: whatever the logs and the filter, the SQLite store answers exactly what the naive
// predicate (matchesFilter) says, across pages, and top/graph agree with the memory store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryFlowStore } from './memory-store.js';
import { matchesFilter } from './query.js';
import { SqliteFlowStore } from './sqlite-store.js';
import { batch, listAll, T0 } from './store.contract.js';
import type { FlowEndpoint, FlowFilter, FlowLog } from './types.js';

const NS = ['a', 'b', 'c', '-'];
const APPS = ['web', 'db', 'api'];
const B = 15_000;

const endpoint: fc.Arbitrary<FlowEndpoint> = fc.record({
  type: fc.constantFrom('wep' as const, 'net' as const, 'ns' as const),
  namespace: fc.constantFrom(...NS),
  name: fc.constantFrom('web-1', 'web-2', 'db-1', 'api-1', '-'),
  nameAggr: fc.constantFrom('web-*', 'db-*', 'api-*', 'pub'),
  labels: fc.dictionary(fc.constantFrom('app', 'env', 'tier'), fc.constantFrom(...APPS, 'prod'), { noNullPrototype: true }),
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '-'),
  port: fc.constantFrom(0, 53, 80, 443),
});

const hitFor = (policy: string, action: string) => `0|default|${policy}|${action}|0`;
const POLICIES = ['a/knp.default.allow-web', 'b/knp.default.deny-all', 'security.block', 'allow-dns'];

const flowLog: fc.Arbitrary<FlowLog> = fc
  .record({
    bucket: fc.integer({ min: 0, max: 20 }),
    len: fc.constantFrom(1, 1, 1, 4),
    host: fc.constantFrom('n1', 'n2'),
    reporter: fc.constantFrom('src' as const, 'dst' as const),
    action: fc.constantFrom('allow' as const, 'deny' as const),
    proto: fc.constantFrom('tcp', 'udp'),
    source: endpoint,
    dest: endpoint,
    tier: fc.constantFrom('default', 'security'),
    policy: fc.constantFrom(...POLICIES),
    pass: fc.option(fc.constantFrom(...POLICIES), { nil: undefined }),
    pending: fc.option(fc.constantFrom('allow' as const, 'deny' as const), { nil: undefined }),
    n: fc.nat({ max: 1000 }),
  })
  .map((r): FlowLog => ({
    startTime: T0 + r.bucket * B,
    endTime: T0 + (r.bucket + r.len) * B,
    host: r.host,
    reporter: r.reporter,
    action: r.action,
    proto: r.proto,
    source: r.source,
    dest: r.dest,
    tier: r.tier,
    policy: r.policy,
    ruleIndex: 0,
    policies: [...(r.pass !== undefined ? [hitFor(r.pass, 'pass')] : []), hitFor(r.policy, r.action)],
    ...(r.pending !== undefined ? { pendingAction: r.pending, pendingPolicies: [hitFor('staged', r.pending)] } : {}),
    packetsIn: r.n,
    packetsOut: 1,
    bytesIn: r.n * 10,
    bytesOut: 7,
    numFlows: 1 + (r.n % 3),
    numFlowsStarted: 1,
    numFlowsCompleted: 1,
  }));

const condition = fc.oneof(
  fc.record({ scopeNamespace: fc.constantFrom(...NS) }),
  fc.record({ namespace: fc.constantFrom(...NS) }),
  fc.record({ srcNamespace: fc.constantFrom(...NS) }),
  fc.record({ dstNamespace: fc.constantFrom(...NS) }),
  fc.record({ pod: fc.constantFrom('web-1', 'a/web-1', 'b/db-1') }),
  fc.record({ srcName: fc.constantFrom('web-*', 'db-1', 'pub') }),
  fc.record({ dstName: fc.constantFrom('web-*', 'db-1', 'pub') }),
  fc.record({ selector: fc.constantFrom('app == "web"', 'has(env)', '!has(app)', 'app in {"db", "api"}') }),
  fc.record({ srcSelector: fc.constantFrom('app == "web"', 'has(tier)', 'all()') }),
  fc.record({ dstSelector: fc.constantFrom('app == "db"', 'env == "prod"', '!has(env)') }),
  fc.record({ action: fc.constantFrom('allow' as const, 'deny' as const) }),
  fc.record({ policy: fc.constantFrom('allow-web', 'a/knp.default.allow-web', 'deny-all', 'block', 'security.block', 'allow-dns', 'staged', 'nothing') }),
  fc.record({ tier: fc.constantFrom('default', 'security') }),
  fc.record({ port: fc.constantFrom(0, 53, 80, 8080) }),
  fc.record({ proto: fc.constantFrom('tcp', 'udp', 'icmp') }),
  fc.record({ reporter: fc.constantFrom('src' as const, 'dst' as const) }),
  fc.record({ host: fc.constantFrom('n1', 'n2') }),
  fc.record({ pendingAction: fc.constantFrom('allow' as const, 'deny' as const) }),
);

/** A window and zero to three conditions (more would match almost nothing). */
const filter: fc.Arbitrary<FlowFilter> = fc
  .record({ from: fc.integer({ min: -2, max: 22 }), span: fc.integer({ min: 0, max: 25 }), conditions: fc.array(condition, { maxLength: 3 }) })
  .map(({ from, span, conditions }) => Object.assign({ from: T0 + from * B, to: T0 + (from + span) * B }, ...conditions) as FlowFilter);

describe('SqliteFlowStore agrees with the naive filter', () => {
  it('list (paged), top and graph', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(flowLog, { maxLength: 60 }), fc.array(filter, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 7 }), async (generated, filters, limit) => {
        // Plain objects, as an agent's JSON would give (fast-check may make null-prototype ones).
        const logs = JSON.parse(JSON.stringify(generated)) as FlowLog[];
        const sqlite = new SqliteFlowStore({ file: ':memory:' });
        const memory = new MemoryFlowStore();
        try {
          await sqlite.append(batch(logs.slice(0, 30)));
          await sqlite.append(batch(logs.slice(30)));
          await memory.append(batch(logs));
          for (const f of filters) {
            const expected = logs.map((l, i) => ({ l, i })).filter(({ l }) => matchesFilter(l, f)).reverse();
            const got = await listAll(sqlite, { ...f, limit });
            if (expected.length > 0) nonEmpty++;
            assert.deepEqual(got.map(({ id: _id, ...l }) => l), expected.map(({ l }) => l));
            assert.deepEqual(got.map((l) => Number(l.id)), expected.map(({ i }) => i + 1));
            for (const by of ['bytes', 'denied'] as const) {
              const q = { ...f, by, group: 'pair' as const, limit: 5 };
              assert.deepEqual(await sqlite.top(q), await memory.top(q));
            }
            assert.deepEqual(await sqlite.graph(f), await memory.graph(f));
          }
        } finally {
          await sqlite.close();
        }
      }),
      { numRuns: 80 },
    );
    // The generators must make filters that match something, or the property proves little.
    assert.ok(nonEmpty > 50, `only ${nonEmpty} non-empty answers`);
  });
});
