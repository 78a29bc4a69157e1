// The node agent on real traffic: `margay lab up` (2 nodes, 2 namespaces, 4 pods) starts one
// `margay agent` per node; the probed matrices must equal `margay simulate --matrix` on the same
// manifests, before and after policies are applied, for a few random NetworkPolicies, and across an
// agent restart (the ruleset stays while it is down). Needs root, iproute2 and nftables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { listLabNamespaces, loadState, type LabState } from '../../src/lab/index.js';
import type { KubeClient } from '../../src/client/index.js';
import { findResourceTypeByKind, type JsonObject } from '../../src/api/index.js';
import { ANNOTATION_READY } from '../../src/agent/index.js';
import { runMargay } from '../support/margay.js';
import { isAlive, labApiClient, nodeAnnotations, removeLab, waitForAgents as waitForLabAgents, ManifestFiles, type Matrix } from '../support/lab.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db, labels: {team: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {nodeName: node-b, containers: [{name: api}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec: {nodeName: node-a, containers: [{name: pg}]}
---
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: db, labels: {app: cache}}
spec: {nodeName: node-b, containers: [{name: cache}]}
`;

const POLICIES = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: db}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: db}
spec:
  podSelector: {matchLabels: {app: pg}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 80, protocol: TCP}]
`;

const PODS = ['shop/web', 'shop/api', 'db/pg', 'db/cache'];
const PORTS = ['80/TCP', '81/UDP'];
const work = mkdtempSync(join(tmpdir(), 'margay-agent-'));
const labDir = join(work, 'lab');
let state: LabState | undefined;
let pids: number[] = [];
/** A replacement agent this test starts itself (the restart check); killed in `after`. */
let replacement: ChildProcess | undefined;

const manifests = new ManifestFiles(work);
const addFile = (name: string, text: string): string => manifests.add(name, text);

const client = (): KubeClient => labApiClient(state);
const annotations = (node: string): Promise<Record<string, string>> => nodeAnnotations(state, node);
const waitForAgents = (revision: string | undefined, nodes = ['node-a', 'node-b'], timeoutMs = 10_000): Promise<number> => waitForLabAgents(state, revision, nodes, timeoutMs);

async function probe(port: string): Promise<Matrix> {
  const r = await runMargay(['lab', 'probe', '--matrix', '--port', port, '--timeout-ms', '1000', '-o', 'json', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Matrix;
}

async function simulate(port: string): Promise<Matrix> {
  const r = await runMargay(['simulate', ...manifests.paths.flatMap((f) => ['-f', f]), '--matrix', '--port', port, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Matrix;
}

/** The lab's matrix equals the simulator's, cells and keys (in order), on every port. */
async function assertMatchesSimulate(what: string): Promise<Matrix[]> {
  const out: Matrix[] = [];
  for (const port of PORTS) {
    const [real, sim] = await Promise.all([probe(port), simulate(port)]);
    assert.deepEqual(Object.keys(real), Object.keys(sim), `${what} ${port}: same sources`);
    for (const k of Object.keys(sim)) assert.deepEqual(Object.keys(real[k] ?? {}), Object.keys(sim[k] ?? {}), `${what} ${port}: same targets of ${k}`);
    assert.deepEqual(real, sim, `${what} ${port}: lab matrix equals simulate`);
    out.push(real);
  }
  return out;
}

async function revisionOf(kind: string, apiVersion: string, namespace: string, name: string): Promise<string> {
  const type = findResourceTypeByKind(apiVersion, kind);
  assert.ok(type);
  const obj = await client().get(type, namespace, name);
  return String((obj.metadata as JsonObject).resourceVersion);
}

before(async () => {
  const manifest = addFile('app.yaml', MANIFESTS);
  const r = await runMargay(['lab', 'up', '-f', manifest, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /no agent/);
  assert.match(r.stdout, /agents ready on 2 nodes/);
  state = loadState(labDir);
  assert.ok(state);
  pids = state.processes.map((p) => p.pid);
});

after(async () => {
  // Whatever happened above, leave nothing behind: our own agent first, then the lab.
  if (replacement?.pid !== undefined && replacement.exitCode === null) replacement.kill('SIGKILL');
  await removeLab(labDir, state);
  rmSync(work, { recursive: true, force: true });
});

test('with agents and no policies, the lab matrix equals simulate (all open)', async () => {
  await waitForAgents(undefined);
  const [tcp] = await assertMatchesSimulate('no policies');
  assert.ok(Object.values(tcp ?? {}).every((row) => Object.values(row).every(Boolean)));
  assert.deepEqual(Object.keys(tcp ?? {}), PODS);
});

test('lab apply of default-deny + allow: enforced as soon as the agents report its revision', async (t) => {
  const policies = addFile('policies.yaml', POLICIES);
  const t0 = performance.now();
  const r = await runMargay(['lab', 'apply', '-f', policies, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /no agent/);
  const revision = await revisionOf('NetworkPolicy', 'networking.k8s.io/v1', 'db', 'allow-web');
  await waitForAgents(revision);
  t.diagnostic(`lab apply → both agents applied revision ${revision}: ${(performance.now() - t0).toFixed(0)} ms (${r.stdout.trim().split('\n').at(-1)})`);
  const [tcp, udp] = await assertMatchesSimulate('after default-deny + allow');
  assert.equal(tcp?.['shop/web']?.['db/pg'], true, 'the allowed flow passes');
  assert.equal(tcp?.['shop/api']?.['db/pg'], false, 'the rest of db is closed');
  assert.equal(udp?.['shop/web']?.['db/pg'], false, 'the allow is 80/TCP only');
});

test('a policy written to the API is enforced by every agent (time reported; bench/dataplane measures it)', async (t) => {
  const type = findResourceTypeByKind('networking.k8s.io/v1', 'NetworkPolicy');
  assert.ok(type);
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-cache-egress', namespace: 'db' },
    spec: { podSelector: { matchLabels: { app: 'cache' } }, policyTypes: ['Egress'] },
  };
  addFile('deny-cache-egress.yaml', JSON.stringify(policy));
  const t0 = performance.now();
  const written = await client().apply(type, 'db', policy, { fieldManager: 'agent-test', force: true });
  const revision = String((written.object.metadata as JsonObject).resourceVersion);
  const waited = await waitForAgents(revision);
  const total = performance.now() - t0;
  t.diagnostic(`policy write → both agents report revision ${revision}: ${total.toFixed(0)} ms (after the write returned: ${waited.toFixed(0)} ms)`);
  const [tcp] = await assertMatchesSimulate('after egress deny');
  assert.equal(tcp?.['db/cache']?.['shop/web'], false);
});

test('random NetworkPolicies applied in the lab match simulate', async () => {
  const selector = fc.constantFrom<Record<string, unknown>>({}, { matchLabels: { app: 'web' } }, { matchLabels: { app: 'pg' } }, { matchLabels: { app: 'api' } }, { matchLabels: { app: 'cache' } });
  const peer = fc.oneof(
    fc.record({ podSelector: selector }),
    fc.record({ namespaceSelector: fc.constantFrom<Record<string, unknown>>({}, { matchLabels: { team: 'shop' } }, { matchLabels: { team: 'db' } }) }),
    fc.record({ namespaceSelector: fc.constantFrom<Record<string, unknown>>({ matchLabels: { team: 'shop' } }), podSelector: selector }),
  );
  const ports = fc.constantFrom<unknown[] | undefined>(undefined, [{ port: 80, protocol: 'TCP' }], [{ port: 81, protocol: 'UDP' }], [{ port: 80, protocol: 'UDP' }]);
  const rule = fc.record({ peers: fc.array(peer, { maxLength: 2 }), ports });
  const policy = fc.record({
    namespace: fc.constantFrom('shop', 'db'),
    podSelector: selector,
    types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
    ingress: fc.array(rule, { maxLength: 2 }),
    egress: fc.array(rule, { maxLength: 2 }),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(policy, async (p) => {
      n++;
      const toRules = (rs: { peers: unknown[]; ports: unknown[] | undefined }[], side: 'from' | 'to') =>
        rs.map((r) => ({ ...(r.peers.length > 0 ? { [side]: r.peers } : {}), ...(r.ports !== undefined ? { ports: r.ports } : {}) }));
      const np = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `random-${n}`, namespace: p.namespace },
        spec: { podSelector: p.podSelector, policyTypes: p.types, ingress: toRules(p.ingress, 'from'), egress: toRules(p.egress, 'to') },
      };
      const file = addFile(`random-${n}.json`, JSON.stringify(np));
      const r = await runMargay(['lab', 'apply', '-f', file, '--lab-dir', labDir]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      await waitForAgents(await revisionOf('NetworkPolicy', 'networking.k8s.io/v1', p.namespace, `random-${n}`));
      await assertMatchesSimulate(`random policy ${JSON.stringify(np.spec)}`);
    }),
    { numRuns: 3, endOnFailure: true },
  );
});

/** The agent process under a lab agent's supervisor (`--restart-on-failure`). */
function childOf(pid: number): number | undefined {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).trim();
  return out === '' ? undefined : Number(out.split(/\s+/)[0]);
}

let restartedChild: number | undefined;

test('an agent that dies is started again by its supervisor and catches up', async () => {
  assert.ok(state);
  const supervisor = state.processes.find((p) => p.role === 'agent' && p.node === 'node-b');
  assert.ok(supervisor);
  assert.ok(supervisor.argv?.includes('--restart-on-failure'), 'the lab runs its agents supervised');
  const first = childOf(supervisor.pid);
  assert.ok(first !== undefined, 'the supervisor runs the agent as its child');
  process.kill(first, 'SIGKILL');
  // A change while it is down: lab apply waits for node-b's new agent to apply it.
  const file = addFile('while-down.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: while-down, namespace: shop}\nspec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress]}\n');
  const r = await runMargay(['lab', 'apply', '-f', file, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout + r.stderr, /enforced: every agent applied revision/, r.stdout + r.stderr);
  restartedChild = childOf(supervisor.pid);
  assert.ok(restartedChild !== undefined && restartedChild !== first, 'a new agent process');
  const log = readFileSync(join(labDir, 'logs', 'agent-node-b.log'), 'utf8');
  assert.match(log, /the agent exited \(SIGKILL\); starting it again in 1 s \(restart 1\)/);
  // The policy written while it was down is part of simulate's input (addFile) and enforced.
  await assertMatchesSimulate('after node-b agent was killed and restarted');
});

test('SIGTERM leaves the ruleset in place; a restarted agent adopts it and reports ready', async () => {
  assert.ok(state);
  const agent = state.processes.find((p) => p.role === 'agent' && p.node === 'node-a');
  const node = state.nodes.find((x) => x.name === 'node-a');
  assert.ok(agent && node);
  process.kill(agent.pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (isAlive(agent.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(isAlive(agent.pid), false, 'the agent exits on SIGTERM');
  assert.equal((await annotations('node-a'))[ANNOTATION_READY], 'false', 'it reports not ready on its way out');
  const table = execFileSync('ip', ['netns', 'exec', node.netns, 'nft', 'list', 'table', 'inet', 'margay'], { encoding: 'utf8' });
  assert.match(table, /egress-dispatch/, 'the ruleset stays (fail closed)');
  await assertMatchesSimulate('agent on node-a stopped');

  const logFile = join(work, 'replacement.log');
  // Started as the lab started the first one, with its state file: its rule ids and what it left in the kernel.
  const [cmd, ...args] = agent.argv ?? [];
  assert.ok(cmd !== undefined, 'the lab recorded how it started the agent');
  const stateFile = args[args.indexOf('--state-file') + 1] ?? '';
  assert.equal(stateFile, join(labDir, 'run', 'agent-node-a.json'));
  assert.ok(existsSync(stateFile), 'the first agent recorded what it wrote');
  replacement = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  replacement.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  replacement.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  await waitForAgents(undefined, ['node-a']);
  assert.match(out, /adopting the existing table/, out);
  await assertMatchesSimulate('restarted agent on node-a');
  const exited = new Promise((r) => replacement?.once('exit', r));
  replacement.kill('SIGTERM');
  await exited;
  writeFileSync(logFile, out);
  assert.match(readFileSync(logFile, 'utf8'), /applied revision/);
  // Nothing changed while it was down: the table is adopted as it is, not written again.
  assert.match(readFileSync(logFile, 'utf8'), /stopped \(\d+ flushes, 0 nft writes/);
});

test('with an agent gone, lab apply says which one at once, with the end of its log', async () => {
  // node-a's recorded agent was stopped above (and its replacement too).
  const file = addFile('after-stop.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: after-stop, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n');
  const r = await runMargay(['lab', 'apply', '-f', file, '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr + r.stdout, /not every agent applied revision \d+: the agent on node-a \(pid \d+\) is not running; its log ends ".*stopped \(\d+ flushes/, r.stderr + r.stdout);
  assert.doesNotMatch(r.stderr + r.stdout, /after 10 s/, 'no waiting out the timeout for an agent that is gone');
});

test('lab down removes every namespace and process, agents included', async () => {
  assert.ok(state);
  const r = await runMargay(['lab', 'down', '--lab-dir', labDir]);
  assert.equal(r.code, 0, r.stderr);
  const left = (await listLabNamespaces()).filter((n) => n.startsWith(`mgy-${state?.id}-`));
  assert.deepEqual(left, []);
  await new Promise((res) => setTimeout(res, 100));
  for (const pid of pids) {
    const role: string = state?.processes.find((p) => p.pid === pid)?.role ?? '?';
    assert.equal(isAlive(pid), false, `process ${pid} (${role}) is gone`);
  }
  if (replacement?.pid !== undefined) assert.equal(isAlive(replacement.pid), false);
  if (restartedChild !== undefined) assert.equal(isAlive(restartedChild), false, 'the restarted agent went with its supervisor');
});
