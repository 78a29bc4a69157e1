// The agent's batching and state flow, with a fake data plane and fake timers. The fake stands in
// for nft only because this test runs without root or namespaces; the real NftApplier is driven
// end to end by test/agent/agent-lab.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcState } from '../calc/index.js';
import { NodeAgent, revisionAtLeast, type AgentDataplane, type AgentTimers, type AppliedReport } from './node-agent.js';

class FakeTimers implements AgentTimers {
  private t = 0;
  private seq = 0;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.queue.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.queue.delete(h as number);
  }
  now(): number {
    return this.t;
  }
  get armed(): number {
    return this.queue.size;
  }
  /** Moves time forward, running due timers (and letting the async applies they start settle). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.queue].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.queue.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Records what it is asked to program; fails on demand. */
class FakeDataplane implements AgentDataplane {
  snapshots: { endpoints: string[]; policies: string[] }[] = [];
  applies = 0;
  resyncs = 0;
  failNext = 0;
  throwNext = 0;
  onUpdate(state: CalcState): void {
    this.snapshots.push({ endpoints: [...state.endpoints.keys()].sort(), policies: [...state.policies.keys()].sort() });
  }
  async apply() {
    this.applies++;
    if (this.throwNext > 0) {
      this.throwNext--;
      throw new TypeError('a bug in the data plane');
    }
    if (this.failNext > 0) {
      this.failNext--;
      return { ok: false as const, error: 'nft: boom' };
    }
    return { ok: true as const, wrote: true };
  }
  async resync() {
    this.resyncs++;
    if (this.throwNext > 0) {
      this.throwNext--;
      throw new TypeError('a bug in resync');
    }
    return { ok: true as const, drift: false };
  }
  get last() {
    return this.snapshots.at(-1);
  }
}

let rv = 0;
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: String(++rv) } });
const pod = (namespace: string, name: string, node: string, ip: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels, resourceVersion: String(++rv) },
  spec: { nodeName: node, containers: [{ name: 'c' }] },
  status: { podIP: ip, phase: 'Running' },
});
const denyAll = (namespace: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'deny', namespace, resourceVersion: String(++rv) },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
});

function setup() {
  const timers = new FakeTimers();
  const dataplane = new FakeDataplane();
  const logs: string[] = [];
  const reports: AppliedReport[] = [];
  const agent = new NodeAgent({ node: 'n1', dataplane, timers, log: (l) => logs.push(l), batchMs: 20, retryMs: 1000, onApplied: (r) => reports.push(r) });
  return { timers, dataplane, logs, reports, agent };
}

test('nothing is applied before every kind has synced; then one flush with the whole state', async () => {
  const { timers, dataplane, agent, reports } = setup();
  agent.onUpsert(ns('a'));
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  agent.onUpsert(pod('a', 'p2', 'n2', '10.0.0.2'));
  const policy = denyAll('a');
  agent.onUpsert(policy);
  await timers.advance(1000);
  assert.equal(dataplane.applies, 0, 'a partial list must never reach the data plane (it could open traffic)');
  agent.onSynced();
  await timers.advance(0);
  assert.equal(dataplane.applies, 1);
  assert.deepEqual(dataplane.last?.endpoints, ['pod:a/p1'], 'only the local pod is an endpoint');
  assert.equal(dataplane.last?.policies.length, 1);
  assert.equal(reports.at(-1)?.revision, policy.metadata.resourceVersion);
  assert.equal(agent.applied, policy.metadata.resourceVersion);
});

test('changes are batched: one apply at most batchMs after the first change', async () => {
  const { timers, dataplane, agent, reports } = setup();
  agent.onUpsert(ns('a'));
  agent.onSynced();
  await timers.advance(0);
  const before = dataplane.applies;
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  await timers.advance(5);
  agent.onUpsert(pod('a', 'p3', 'n1', '10.0.0.3'));
  agent.onUpsert(pod('a', 'p4', 'n1', '10.0.0.4'));
  await timers.advance(14);
  assert.equal(dataplane.applies, before, 'not yet: the batch is still open');
  await timers.advance(1);
  assert.equal(dataplane.applies, before + 1, 'one apply for three changes');
  assert.equal(reports.at(-1)?.changes, 3);
  assert.equal(reports.at(-1)?.latencyMs, 20);
  assert.deepEqual(dataplane.last?.endpoints, ['pod:a/p1', 'pod:a/p3', 'pod:a/p4']);
});

test('a change after a quiet batchMs is applied at once (leading edge); a storm still batches', async () => {
  const { timers, dataplane, agent, reports } = setup();
  agent.onUpsert(ns('a'));
  agent.onSynced();
  await timers.advance(0);
  await timers.advance(50);
  const before = dataplane.applies;
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  await timers.advance(0);
  assert.equal(dataplane.applies, before + 1, 'no batch delay after a quiet period');
  assert.equal(reports.at(-1)?.latencyMs, 0);
  agent.onUpsert(pod('a', 'p2', 'n1', '10.0.0.2'));
  await timers.advance(5);
  agent.onUpsert(pod('a', 'p3', 'n1', '10.0.0.3'));
  await timers.advance(14);
  assert.equal(dataplane.applies, before + 1, 'within batchMs of the last flush: waits');
  await timers.advance(1);
  assert.equal(dataplane.applies, before + 2);
  assert.equal(reports.at(-1)?.changes, 2);
});

test('an update that changes nothing the engine sees (e.g. an annotation) triggers no apply', async () => {
  const { timers, dataplane, agent } = setup();
  const n = ns('a');
  agent.onUpsert(n);
  agent.onSynced();
  await timers.advance(0);
  const before = dataplane.applies;
  agent.onUpsert({ ...n, metadata: { ...n.metadata, resourceVersion: String(++rv), annotations: { 'margay.io/agent-ready': 'true' } } });
  await timers.advance(100);
  assert.equal(dataplane.applies, before, 'an agent annotation is not reported back (no write loop)');
  assert.equal(timers.armed, 0);
  // A write the engine ignores but someone made (here a label-free status change) is reported.
  agent.onUpsert({ ...n, metadata: { ...n.metadata, resourceVersion: String(++rv) }, status: { phase: 'Active' } });
  await timers.advance(20);
  assert.equal(dataplane.applies, before + 1);
  assert.equal(agent.applied, String(rv));
});

test('a bad object is logged and treated as absent; the agent keeps going', async () => {
  const { timers, dataplane, agent, logs } = setup();
  agent.onUpsert(ns('a'));
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  agent.onSynced();
  await timers.advance(0);
  assert.deepEqual(dataplane.last?.endpoints, ['pod:a/p1']);
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1', { 'bad key!': 'x' }));
  await timers.advance(20);
  assert.ok(logs.some((l) => l.startsWith('rejected v1 Pod a/p1')), logs.join('\n'));
  assert.deepEqual(dataplane.last?.endpoints, [], 'the rejected pod is gone from the engine (its interface falls to the drop)');
  agent.onUpsert({ apiVersion: 'v1', kind: 'Pod', metadata: null });
  agent.onDelete(pod('a', 'p1', 'n1', '10.0.0.1'));
  await timers.advance(20);
});

test('a failed apply is retried after retryMs; deletes flow through', async () => {
  const { timers, dataplane, agent, logs } = setup();
  agent.onUpsert(ns('a'));
  const p = pod('a', 'p1', 'n1', '10.0.0.1');
  agent.onUpsert(p);
  dataplane.failNext = 1;
  agent.onSynced();
  await timers.advance(0);
  assert.equal(dataplane.applies, 1);
  assert.equal(agent.applied, undefined, 'nothing reported while the kernel may not hold the state');
  assert.ok(logs.some((l) => l.includes('apply failed')));
  await timers.advance(999);
  assert.equal(dataplane.applies, 1);
  await timers.advance(1);
  assert.equal(dataplane.applies, 2);
  assert.ok(agent.applied !== undefined);
  agent.onDelete(p);
  await timers.advance(20);
  assert.deepEqual(dataplane.last?.endpoints, []);
});

test('after stop nothing more is applied (the data plane keeps its rules)', async () => {
  const { timers, dataplane, agent } = setup();
  agent.onUpsert(ns('a'));
  agent.onSynced();
  await timers.advance(0);
  const before = dataplane.applies;
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  await agent.stop();
  await timers.advance(100);
  await agent.resync();
  assert.equal(dataplane.applies, before);
  assert.equal(dataplane.resyncs, 0);
});

test('a data plane that throws is a failed apply, retried: the agent lives on and catches up', async () => {
  const { timers, dataplane, agent, logs } = setup();
  agent.onUpsert(ns('a'));
  agent.onSynced();
  await timers.advance(0);
  dataplane.throwNext = 1;
  agent.onUpsert(pod('a', 'p1', 'n1', '10.0.0.1'));
  await timers.advance(20);
  assert.ok(logs.some((l) => l.includes('apply failed') && l.includes('a bug in the data plane')), logs.join('\n'));
  const applied = agent.applied;
  await timers.advance(1000);
  assert.deepEqual(dataplane.last?.endpoints, ['pod:a/p1']);
  assert.notEqual(agent.applied, applied, 'the retry applied the newer revision');
  dataplane.throwNext = 1;
  await agent.resync();
  assert.ok(logs.some((l) => l.includes('resync failed') && l.includes('a bug in resync')));
});

test('revisions compare numerically when they are numbers', () => {
  assert.equal(revisionAtLeast('10', '9'), true);
  assert.equal(revisionAtLeast('9', '10'), false);
  assert.equal(revisionAtLeast(undefined, '1'), false);
});
