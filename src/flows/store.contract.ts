// The behaviour every FlowStore must show, written once and run against each implementation
// (memory, SQLite; a distributed store later). Each test gets a fresh, empty store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors/index.js';
import type { FlowBatch, FlowEndpoint, FlowFilter, FlowListQuery, FlowLog, FlowStore, StoredFlowLog } from './types.js';

export type FlowStoreFactory = () => FlowStore | Promise<FlowStore>;

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const B = 15_000;

export function pod(namespace: string, name: string, labels: Record<string, string> = {}, port = 0): FlowEndpoint {
  return { type: 'wep', namespace, name, nameAggr: `${name.replace(/-[^-]*$/, '')}-*`, labels, ip: '10.0.0.1', port, serviceAccount: 'default' };
}

export const INTERNET: FlowEndpoint = { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip: '-', port: 0 };

/** A log with sensible defaults; `over` replaces fields. */
export function flowLog(over: Partial<FlowLog> = {}): FlowLog {
  const policy = over.policy ?? 'a/knp.default.allow-web';
  const action = over.action ?? 'allow';
  return {
    startTime: T0,
    endTime: T0 + B,
    host: 'node-1',
    reporter: 'dst',
    action,
    proto: 'tcp',
    source: pod('a', 'client-1', { app: 'client' }),
    dest: pod('a', 'web-1', { app: 'web', tier: 'front' }, 80),
    tier: 'default',
    policy,
    ruleIndex: 0,
    policies: [`0|default|${policy}|${action}|0`],
    packetsIn: 10,
    packetsOut: 12,
    bytesIn: 1000,
    bytesOut: 2000,
    numFlows: 1,
    numFlowsStarted: 1,
    numFlowsCompleted: 1,
    ...over,
  };
}

export function batch(logs: readonly FlowLog[], dropped = 0): FlowBatch {
  return { apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host: 'node-1', logs, dropped };
}

const WINDOW: FlowFilter = { from: T0 - 86_400_000, to: T0 + 86_400_000 };

export function query(over: Partial<FlowListQuery> = {}): FlowListQuery {
  return { ...WINDOW, limit: 1000, ...over };
}

const strip = ({ id: _id, ...log }: StoredFlowLog): FlowLog => log;

/** Every page of a list, following continue tokens. */
export async function listAll(store: FlowStore, q: FlowListQuery): Promise<StoredFlowLog[]> {
  const out: StoredFlowLog[] = [];
  let cont: string | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await store.list({ ...q, ...(cont !== undefined ? { continue: cont } : {}) });
    out.push(...page.items);
    cont = page.continue;
    if (cont === undefined) return out;
  }
  throw new Error('pagination did not end');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export function runFlowStoreContract(name: string, makeStore: FlowStoreFactory): void {
  const withStore = (fn: (store: FlowStore) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  /** Names (dest pod names) of what a filter returns, sorted. */
  const names = async (store: FlowStore, f: Partial<FlowListQuery>): Promise<string[]> =>
    (await listAll(store, query(f))).map((l) => `${l.source.name}>${l.dest.name}`).sort();

  describe(`FlowStore contract: ${name}`, () => {
    it('an empty store lists nothing, lastId "0"', withStore(async (store) => {
      const r = await store.list(query());
      assert.deepEqual(r.items, []);
      assert.equal(r.lastId, '0');
      assert.equal(r.continue, undefined);
      assert.equal((await store.stats()).rows, 0);
    }));

    it('stores logs unchanged and lists them newest first with increasing ids', withStore(async (store) => {
      const a = flowLog();
      const b = flowLog({ reporter: 'src', pendingAction: 'deny', pendingPolicies: ['0|default|a/staged:knp.default.x|deny|0'], source: INTERNET });
      const { serviceAccount: _sa, ...noAccount } = pod('b', 'db-1', {}, 5432);
      const c = flowLog({ dest: noAccount });
      assert.deepEqual(await store.append(batch([a, b])), { accepted: 2 });
      await store.append(batch([c], 3));
      const r = await store.list(query());
      assert.deepEqual(r.items.map(strip), [c, b, a]);
      const ids = r.items.map((l) => Number(l.id));
      assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, `ids ${ids}`);
      assert.equal(r.lastId, r.items[0]!.id);
      const stats = await store.stats();
      assert.equal(stats.rows, 3);
      assert.equal(stats.records, 3);
      assert.equal(stats.batches, 2);
      assert.equal(stats.droppedByAgents, 3);
      assert.equal(stats.lastId, r.lastId);
      assert.equal(stats.oldestStartTime, T0);
      assert.equal(stats.newestEndTime, T0 + B);
    }));

    it('returned logs are copies', withStore(async (store) => {
      await store.append(batch([flowLog()]));
      const first = (await store.list(query())).items[0]!;
      (first.source.labels as Record<string, string>).app = 'changed';
      (first.policies as string[]).push('x');
      assert.deepEqual((await store.list(query())).items[0]!.source.labels, { app: 'client' });
      assert.equal((await store.list(query())).items[0]!.policies.length, 1);
    }));

    it('the time window keeps logs whose bucket overlaps it (closed interval)', withStore(async (store) => {
      const at = (i: number, name: string) => flowLog({ startTime: T0 + i * B, endTime: T0 + (i + 1) * B, dest: pod('a', name, {}, 80) });
      await store.append(batch([at(0, 'w0-x'), at(1, 'w1-x'), at(2, 'w2-x'), flowLog({ startTime: T0, endTime: T0 + 10 * B, dest: pod('a', 'long-x', {}, 80) })]));
      assert.deepEqual(await names(store, { from: T0 + B + 1, to: T0 + 2 * B - 1 }), ['client-1>long-x', 'client-1>w1-x']);
      assert.deepEqual(await names(store, { from: T0 + 2 * B, to: T0 + 2 * B }), ['client-1>long-x', 'client-1>w1-x', 'client-1>w2-x']);
      assert.deepEqual(await names(store, { from: T0 + 5 * B, to: T0 + 6 * B }), ['client-1>long-x']);
      assert.deepEqual(await names(store, { from: T0 + 11 * B, to: T0 + 12 * B }), []);
    }));

    it('filters by namespace (either side), scope, source and destination namespace', withStore(async (store) => {
      await store.append(batch([
        flowLog({ source: pod('a', 'c-1'), dest: pod('a', 'w-1', {}, 80) }),
        flowLog({ source: pod('a', 'c-2'), dest: pod('b', 'w-2', {}, 80) }),
        flowLog({ source: pod('b', 'c-3'), dest: pod('c', 'w-3', {}, 80) }),
        flowLog({ source: INTERNET, dest: pod('c', 'w-4', {}, 80) }),
      ]));
      assert.deepEqual(await names(store, { namespace: 'a' }), ['c-1>w-1', 'c-2>w-2']);
      assert.deepEqual(await names(store, { scopeNamespace: 'b' }), ['c-2>w-2', 'c-3>w-3']);
      assert.deepEqual(await names(store, { scopeNamespace: 'b', namespace: 'a' }), ['c-2>w-2']);
      assert.deepEqual(await names(store, { srcNamespace: 'a' }), ['c-1>w-1', 'c-2>w-2']);
      assert.deepEqual(await names(store, { dstNamespace: 'c' }), ['-' + '>w-4', 'c-3>w-3'].sort());
      assert.deepEqual(await names(store, { srcNamespace: 'b', dstNamespace: 'c' }), ['c-3>w-3']);
      assert.deepEqual(await names(store, { namespace: 'nowhere' }), []);
    }));

    it('filters by pod, endpoint name or nameAggr, and label selectors', withStore(async (store) => {
      await store.append(batch([
        flowLog({ source: pod('a', 'client-1', { app: 'client' }), dest: pod('a', 'web-1', { app: 'web' }, 80) }),
        flowLog({ source: pod('b', 'client-1', { app: 'client', env: 'prod' }), dest: pod('a', 'db-1', { app: 'db' }, 5432) }),
        flowLog({ source: pod('a', 'web-1', { app: 'web' }), dest: pod('a', 'db-1', { app: 'db' }, 5432) }),
      ]));
      assert.deepEqual(await names(store, { pod: 'web-1' }), ['client-1>web-1', 'web-1>db-1']);
      assert.deepEqual(await names(store, { pod: 'b/client-1' }), ['client-1>db-1']);
      assert.deepEqual(await names(store, { pod: 'c/client-1' }), []);
      assert.deepEqual(await names(store, { srcName: 'client-*' }), ['client-1>db-1', 'client-1>web-1']);
      assert.deepEqual(await names(store, { dstName: 'db-1' }), ['client-1>db-1', 'web-1>db-1']);
      assert.deepEqual(await names(store, { selector: 'app == "web"' }), ['client-1>web-1', 'web-1>db-1']);
      assert.deepEqual(await names(store, { srcSelector: 'has(env)' }), ['client-1>db-1']);
      assert.deepEqual(await names(store, { dstSelector: 'app in {"db", "web"}', srcSelector: 'app == "client"' }), ['client-1>db-1', 'client-1>web-1']);
      assert.deepEqual(await names(store, { selector: 'app == "nothing"' }), []);
    }));

    it('filters by action, policy (full, bare or in the trace), tier, port, proto, reporter, host, pending action', withStore(async (store) => {
      await store.append(batch([
        flowLog({ dest: pod('a', 'w-1', {}, 80), policy: 'a/knp.default.allow-web', tier: 'default' }),
        flowLog({ dest: pod('a', 'w-2', {}, 53), proto: 'udp', action: 'deny', policy: 'a/knp.default.deny-all', ruleIndex: -1, reporter: 'src', host: 'node-2' }),
        flowLog({
          dest: pod('a', 'w-3', {}, 443),
          tier: 'security',
          policy: 'security.block-bad',
          policies: ['0|platform|platform.pass-all|pass|0', '1|security|security.block-bad|allow|2'],
          pendingAction: 'deny',
        }),
      ]));
      assert.deepEqual(await names(store, { action: 'deny' }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { action: 'allow' }), ['client-1>w-1', 'client-1>w-3']);
      assert.deepEqual(await names(store, { policy: 'a/knp.default.allow-web' }), ['client-1>w-1']);
      assert.deepEqual(await names(store, { policy: 'allow-web' }), ['client-1>w-1']);
      assert.deepEqual(await names(store, { policy: 'knp.default.deny-all' }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { policy: 'pass-all' }), ['client-1>w-3']);
      assert.deepEqual(await names(store, { policy: 'block-bad' }), ['client-1>w-3']);
      assert.deepEqual(await names(store, { policy: 'web' }), []);
      assert.deepEqual(await names(store, { tier: 'security' }), ['client-1>w-3']);
      assert.deepEqual(await names(store, { port: 53 }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { proto: 'udp' }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { reporter: 'src' }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { host: 'node-2' }), ['client-1>w-2']);
      assert.deepEqual(await names(store, { pendingAction: 'deny' }), ['client-1>w-3']);
      assert.deepEqual(await names(store, { pendingAction: 'allow' }), []);
      assert.deepEqual(await names(store, { action: 'allow', port: 443, proto: 'tcp' }), ['client-1>w-3']);
    }));

    it('pages with continue: every log exactly once, newest first, in a window fixed by the first page', withStore(async (store) => {
      const logs = Array.from({ length: 25 }, (_, i) => flowLog({ dest: pod('a', `w-${i}`, {}, 80), bytesIn: i }));
      await store.append(batch(logs.slice(0, 10)));
      await store.append(batch(logs.slice(10)));
      const first = await store.list(query({ limit: 10 }));
      assert.equal(first.items.length, 10);
      assert.ok(first.continue !== undefined);
      const all = await listAll(store, query({ limit: 10 }));
      assert.deepEqual(all.map((l) => l.bytesIn), Array.from({ length: 25 }, (_, i) => 24 - i));
      // The token carries the window: a later page ignores a changed from/to.
      const second = await store.list(query({ limit: 10, continue: first.continue!, from: 0, to: 1 }));
      assert.equal(second.items.length, 10);
      assert.equal(second.items[0]!.bytesIn, 14);
      // An exactly full last page says there is no more.
      const exact = await store.list(query({ limit: 25 }));
      assert.equal(exact.items.length, 25);
      assert.equal(exact.continue, undefined);
    }));

    it('afterId lists what was stored after it, oldest first; lastId lets a follower resume without gaps', withStore(async (store) => {
      await store.append(batch([flowLog({ bytesIn: 1 }), flowLog({ bytesIn: 2 })]));
      const start = await store.list(query({ limit: 1 }));
      let cursor = start.lastId;
      await store.append(batch([flowLog({ bytesIn: 3 }), flowLog({ bytesIn: 4, action: 'deny' }), flowLog({ bytesIn: 5 })]));
      const seen: number[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await store.list(query({ afterId: cursor, limit: 2 }));
        seen.push(...r.items.map((l) => l.bytesIn));
        if (r.lastId === cursor) break;
        cursor = r.lastId;
      }
      assert.deepEqual(seen, [3, 4, 5]);
      // With a filter, lastId still moves past what did not match.
      const denied = await store.list(query({ afterId: start.lastId, action: 'deny' }));
      assert.deepEqual(denied.items.map((l) => l.bytesIn), [4]);
      assert.equal(denied.lastId, (await store.stats()).lastId);
      const none = await store.list(query({ afterId: denied.lastId }));
      assert.deepEqual(none.items, []);
      assert.equal(none.lastId, denied.lastId);
    }));

    it('rejects a malformed continue token or afterId with a UserError naming the parameter', withStore(async (store) => {
      const c = await rejection(store.list(query({ continue: 'not-a-token' })));
      assert.ok(c instanceof UserError, String(c));
      assert.equal(c.problems[0]?.path, 'continue');
      const a = await rejection(store.list(query({ afterId: 'abc' })));
      assert.ok(a instanceof UserError, String(a));
      assert.equal(a.problems[0]?.path, 'afterId');
      const s = await rejection(store.list(query({ selector: 'app ==' })));
      assert.ok(s instanceof UserError, String(s));
      assert.equal(s.problems[0]?.path, 'selector');
    }));

    it('top sums per workload pair, source or destination and ranks by the metric', withStore(async (store) => {
      await store.append(batch([
        flowLog({ source: pod('a', 'client-1'), dest: pod('a', 'web-1', {}, 80), bytesIn: 100, bytesOut: 0, packetsIn: 1, packetsOut: 0 }),
        flowLog({ source: pod('a', 'client-2'), dest: pod('a', 'web-2', {}, 80), bytesIn: 100, bytesOut: 0, packetsIn: 1, packetsOut: 0 }),
        flowLog({ source: pod('a', 'client-1'), dest: pod('b', 'db-1', {}, 5432), bytesIn: 150, bytesOut: 0, packetsIn: 9, packetsOut: 0 }),
        flowLog({ source: INTERNET, dest: pod('a', 'web-1', {}, 80), action: 'deny', bytesIn: 0, bytesOut: 10, packetsIn: 0, packetsOut: 1, numFlows: 7 }),
      ]));
      const w = { from: WINDOW.from, to: WINDOW.to };
      const byBytes = await store.top({ ...w, by: 'bytes', group: 'pair', limit: 10 });
      assert.deepEqual(byBytes.map((i) => [i.source?.nameAggr, i.dest?.nameAggr, i.bytes]), [['client-*', 'web-*', 200], ['client-*', 'db-*', 150], ['pub', 'web-*', 10]]);
      assert.deepEqual(byBytes[0], { source: { type: 'wep', namespace: 'a', nameAggr: 'client-*' }, dest: { type: 'wep', namespace: 'a', nameAggr: 'web-*' }, packets: 2, bytes: 200, numFlows: 2, denied: 0 });
      const denied = await store.top({ ...w, by: 'denied', group: 'pair', limit: 10 });
      assert.deepEqual(denied.map((i) => [i.source?.nameAggr, i.denied]), [['pub', 7]]);
      const bySource = await store.top({ ...w, by: 'packets', group: 'source', limit: 1 });
      assert.deepEqual(bySource, [{ source: { type: 'wep', namespace: 'a', nameAggr: 'client-*' }, packets: 11, bytes: 350, numFlows: 3, denied: 0 }]);
      const byDest = await store.top({ ...w, by: 'flows', group: 'dest', limit: 10, namespace: 'a' });
      assert.deepEqual(byDest.map((i) => [i.source, i.dest?.nameAggr, i.numFlows]), [[undefined, 'web-*', 9], [undefined, 'db-*', 1]]);
    }));

    it('graph: workload nodes with shared labels, edges with counts, ports and policies', withStore(async (store) => {
      await store.append(batch([
        flowLog({ source: pod('a', 'client-1', { app: 'c', v: '1' }), dest: pod('a', 'web-1', { app: 'w' }, 80) }),
        flowLog({ source: pod('a', 'client-2', { app: 'c', v: '2' }), dest: pod('a', 'web-2', { app: 'w' }, 443), policy: 'a/knp.default.tls', policies: ['0|default|a/knp.default.tls|allow|0'] }),
        flowLog({ source: pod('a', 'client-1', { app: 'c', v: '1' }), dest: pod('a', 'web-1', { app: 'w' }, 80), action: 'deny', numFlows: 4, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }),
      ]));
      const g = await store.graph({ ...WINDOW });
      assert.deepEqual(g.nodes, [
        { id: 'wep/a/client-*', type: 'wep', namespace: 'a', name: 'client-*', labels: { app: 'c' } },
        { id: 'wep/a/web-*', type: 'wep', namespace: 'a', name: 'web-*', labels: { app: 'w' } },
      ]);
      assert.deepEqual(g.edges, [{
        id: 'wep/a/client-*>wep/a/web-*',
        source: 'wep/a/client-*',
        target: 'wep/a/web-*',
        allowed: 2,
        denied: 4,
        bytes: 6000,
        packets: 44,
        ports: ['tcp/443', 'tcp/80'],
        policies: ['0|default|a/knp.default.allow-web|allow|0', '0|default|a/knp.default.allow-web|deny|0', '0|default|a/knp.default.tls|allow|0'],
      }]);
      assert.deepEqual(await store.graph({ ...WINDOW, namespace: 'zzz' }), { nodes: [], edges: [] });
    }));

    it('prune by age drops logs whose bucket ended before the cutoff; by rows keeps the newest', withStore(async (store) => {
      const at = (i: number) => flowLog({ startTime: T0 + i * B, endTime: T0 + (i + 1) * B, bytesIn: i });
      await store.append(batch(Array.from({ length: 10 }, (_, i) => at(i))));
      const lastBefore = (await store.stats()).lastId;
      // Cutoff = T0 + 3B: buckets 0..1 ended before it (bucket 2 ends exactly at it and stays).
      assert.deepEqual(await store.prune({ maxAgeMs: 1000 }, T0 + 3 * B + 1000), { deleted: 2 });
      assert.deepEqual((await listAll(store, query())).map((l) => l.bytesIn), [9, 8, 7, 6, 5, 4, 3, 2]);
      assert.deepEqual(await store.prune({ maxRows: 5 }, T0), { deleted: 3 });
      assert.deepEqual((await listAll(store, query())).map((l) => l.bytesIn), [9, 8, 7, 6, 5]);
      assert.deepEqual(await store.prune({ maxRows: 5, maxAgeMs: 86_400_000 }, T0), { deleted: 0 });
      const stats = await store.stats();
      assert.equal(stats.rows, 5);
      assert.equal(stats.lastId, lastBefore, 'pruning does not move lastId');
      await store.append(batch([at(20)]));
      assert.ok(Number((await store.stats()).lastId) > Number(lastBefore), 'ids are not reused after pruning');
    }));
  });
}
