// End-to-end data-plane latency on a real lab (`mgy-` network namespaces made by the lab module,
// one `margay agent` per node programming nftables):
//   1. policy write → enforced: N pods on 4 nodes; a NetworkPolicy on one target pod toggles 100
//      times between allowing and denying a source pod on another node. Per change: from the API
//      write returning until every node's agent reports the write's revision on its Node
//      (`margay.io/applied-revision`, seen through a watch), and until a real TCP probe from the
//      source gives the new verdict. p50/p99 of both.
//   2. pod created → reachable: `labApply` of one new pod at a time, until a probe reaches it.
//   3. churn: pods created (`labApply`: namespace, address, responder, API) and deleted (API) at
//      100 operations a minute (deletions with `labDelete`: API, then kernel and IPAM), half of them selected by a deny-all policy, while a prober in the
//      source pod connects to every live test pod each round. Wrong verdicts: a connect to a pod
//      that must be denied, a failure to a stable open pod, or to a new open pod after it was
//      first reached. (A new open pod not reachable yet is fail-closed, not wrong.)
//   4. restart: one node's agent stopped (SIGTERM) and started again with nothing changed; the
//      nft writes it makes until it reports ready and settles (target 0: it adopts its table).
// Then, with the lab gone, in the same run: dataplane-conn (new TCP connections and small UDP
// packets per second at 0/10/1,000/10,000 rules for no table, Margay's and Calico's layouts) and
// dataplane-ruleset --only nft-apply (`nft -f` times at 10k and 100k set elements). `--lab-only`
// skips those two.
// N is 200 when the lab comes up within 90 s, else 100, else 50 (`--pods N` forces one size).
// Needs root, iproute2, nftables, and a built dist/ (run as dist/bench/dataplane.js).
// Always takes the lab down, and checks no namespace of it is left.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { labApply, labDelete, labDown, labUp, listLabNamespaces, type LabState, type RawManifest } from '../src/lab/index.js';
import { findResourceTypeByKind, type JsonObject } from '../src/api/index.js';
import { decodeManifests } from '../src/resources/index.js';
import { emit, numberOption, percentile } from './calc-common.js';
import { ChurnProber, NodeWatch, Prober, epochMs, labClient, type ChurnAttempt, type ProbeRequest } from './dataplane-support.js';

const BENCH = 'dataplane';
const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const NS = 'bench';
const POLICY = 'bench-toggle';
const CHANGES = Math.min(1000, numberOption('changes', 100));
const NEW_PODS = Math.min(20, numberOption('new-pods', 5));
const UP_BUDGET_MS = 90_000;
const CHURN_SECONDS = numberOption('churn-seconds', 60);
const CHURN_PER_MINUTE = numberOption('churn-per-minute', 100);
/** A churn probe that gets no connect within this counts as denied (generous: 2 shared cores). */
const CHURN_TIMEOUT_MS = 1_000;
const CHANGE_TIMEOUT_MS = 5_000;
const PROBE: Omit<ProbeRequest, 'ip' | 'expect'> = { port: 80, intervalMs: 2, timeoutMs: 50, deadlineMs: CHANGE_TIMEOUT_MS };
/** The whole run, lab included; past it the bench tears down and fails. */
const WATCHDOG_MS = 20 * 60_000;

const log = (line: string): void => console.error(`[lab] ${line}`);

function podObject(name: string, node: string, role: string): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { role, app: name } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'responder' }] } };
}

function policyObject(allow: boolean): JsonObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: POLICY, namespace: NS }, spec: { podSelector: { matchLabels: { role: 'target' } }, policyTypes: ['Ingress'], ingress: allow ? allowRules() : [] } };
}

function allowRules(): JsonObject[] {
  return [{ from: [{ podSelector: { matchLabels: { role: 'src' } } }], ports: [{ port: 80, protocol: 'TCP' }] }];
}

function inputs(objects: readonly JsonObject[], file: string): { decoded: ReturnType<typeof decodeManifests>; objects: RawManifest[] } {
  const text = objects.map((o) => JSON.stringify(o)).join('\n---\n');
  return { decoded: decodeManifests(text, file), objects: objects.map((object) => ({ object, file })) };
}

/** Pod 0 is the target (node-1), pod 1 the probe source (node-2), the rest fill the nodes. */
function manifests(pods: number): JsonObject[] {
  const out: JsonObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }];
  for (let i = 0; i < pods; i++) out.push(podObject(`p${i}`, NODES[i % NODES.length] as string, i === 0 ? 'target' : i === 1 ? 'src' : 'filler'));
  out.push(policyObject(false));
  return out;
}

function summary(values: readonly number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(values).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

function podOf(state: LabState, key: string): { ip: string; netns: string; node: string } {
  const p = state.pods.find((x) => x.key === key);
  if (p === undefined) throw new Error(`no pod ${key} in the lab`);
  return p;
}

let labDir: string | undefined;
let labId: string | undefined;
let prober: Prober | undefined;
let churnProber: ChurnProber | undefined;
let watch: NodeWatch | undefined;
let cleaning: Promise<void> | undefined;
let keepLogs = false;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (replacement !== undefined && replacement.exitCode === null) replacement.kill('SIGKILL');
    prober?.stop();
    churnProber?.stop();
    await watch?.stop();
    if (labDir !== undefined) {
      // A failed run keeps the agents' logs (where the time went) before the lab goes.
      const logs = join(labDir, 'lab', 'logs');
      if (keepLogs && existsSync(logs)) {
        const kept = mkdtempSync(join(tmpdir(), 'margay-bench-dataplane-logs-'));
        for (const f of readdirSync(logs).filter((n) => n.startsWith('agent-') || n.startsWith('control-plane'))) copyFileSync(join(logs, f), join(kept, f));
        console.error(`bench: agent logs kept in ${kept}`);
      }
      await labDown({ dir: join(labDir, 'lab') }, log).catch((err: unknown) => console.error(`bench: lab down failed: ${String(err)}`));
      rmSync(labDir, { recursive: true, force: true });
    }
  })();
  await cleaning;
}

/** Brings the lab up with the largest size that fits the budget; returns its state and size. */
async function bringUp(): Promise<{ state: LabState; pods: number; upMs: number; tried: string[] }> {
  const forced = numberOption('pods', 0);
  const sizes = forced > 0 ? [Math.max(2, Math.round(forced))] : [200, 100, 50];
  const tried: string[] = [];
  for (const [i, pods] of sizes.entries()) {
    labDir = mkdtempSync(join(tmpdir(), 'margay-bench-dataplane-'));
    const t0 = epochMs();
    try {
      const state = await labUp({ dir: join(labDir, 'lab'), ...inputs(manifests(pods), 'bench-dataplane.yaml'), builtinAgent: true }, log);
      labId = state.id;
      const upMs = epochMs() - t0;
      const last = i === sizes.length - 1;
      if (upMs <= UP_BUDGET_MS || last) return { state, pods, upMs, tried };
      tried.push(`${pods} pods: up in ${Math.round(upMs)} ms (over ${UP_BUDGET_MS} ms)`);
    } catch (err) {
      tried.push(`${pods} pods: ${String(err)}`);
      if (i === sizes.length - 1) throw err;
    }
    console.error(`bench: ${tried.at(-1) ?? ''}; trying fewer pods`);
    await labDown({ dir: join(labDir, 'lab') }, log).catch(() => undefined);
    rmSync(labDir, { recursive: true, force: true });
    labDir = undefined;
    labId = undefined;
  }
  throw new Error('no lab size fits');
}

async function main(): Promise<void> {
  const { state, pods, upMs, tried } = await bringUp();
  labDir = state.dir.replace(/\/lab$/, '');
  const extra = { pods, nodes: NODES.length, lab_up_ms: Math.round(upMs), ...(tried.length > 0 ? { fallback: tried.join('; ') } : {}) };
  console.error(`bench: lab ${state.id} up with ${pods} pods on ${NODES.length} nodes in ${Math.round(upMs)} ms`);
  emit(BENCH, 'lab-up', upMs, 'ms', extra);

  if (state.kubeconfig === undefined) throw new Error('the lab has no kubeconfig');
  const client = labClient(state.kubeconfig);
  watch = new NodeWatch(client, NODES);
  await watch.start();
  await watch.reached(undefined, 30_000);

  const src = podOf(state, `${NS}/p1`);
  const target = podOf(state, `${NS}/p0`);
  prober = new Prober(src.netns);
  const initial = await prober.probe({ ...PROBE, ip: target.ip, expect: false });
  if (!initial.matched) throw new Error('the initial deny policy is not enforced (the probe still connects)');

  // 1. Policy toggles.
  const type = findResourceTypeByKind('networking.k8s.io/v1', 'NetworkPolicy');
  if (type === undefined) throw new Error('the API does not serve NetworkPolicy');
  const agentMs: number[] = [];
  const probeMs: number[] = [];
  const byVerdict: Record<'allow' | 'deny', { agent: number[]; probe: number[] }> = { allow: { agent: [], probe: [] }, deny: { agent: [], probe: [] } };
  const changes: Change[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const allow = k % 2 === 0;
    const verdict = prober.probe({ ...PROBE, ip: target.ip, expect: allow });
    const written = await client.patch(type, NS, POLICY, 'merge', { spec: { ingress: allow ? allowRules() : [] } });
    const t0 = epochMs();
    const revision = String((written.metadata as JsonObject).resourceVersion);
    const [agentsAt, probed] = await Promise.all([watch.reached(revision, CHANGE_TIMEOUT_MS), verdict]);
    if (!probed.matched) throw new Error(`change ${k}: the probe never saw ${allow ? 'allow' : 'deny'} within ${CHANGE_TIMEOUT_MS} ms`);
    agentMs.push(agentsAt - t0);
    probeMs.push(Math.max(0, probed.at - t0));
    changes.push({ revision, t0, agentsAt, probeAt: probed.at, allow });
    const split = byVerdict[allow ? 'allow' : 'deny'];
    split.agent.push(agentsAt - t0);
    split.probe.push(Math.max(0, probed.at - t0));
    await sleep(20);
  }
  const a = summary(agentMs);
  const p = summary(probeMs);
  const split = (xs: number[]) => {
    const m = summary(xs);
    return `p50 ${m.p50.toFixed(1)} / p99 ${m.p99.toFixed(1)} ms`;
  };
  const common = { ...extra, changes: CHANGES, target_ms: 100 };
  const agentSplit = { allow: split(byVerdict.allow.agent), deny: split(byVerdict.deny.agent) };
  const probeSplit = { allow: split(byVerdict.allow.probe), deny: split(byVerdict.deny.probe) };
  emit(BENCH, 'policy-write-to-all-agents-applied/p50', a.p50, 'ms', common);
  emit(BENCH, 'policy-write-to-all-agents-applied/p99', a.p99, 'ms', { ...common, ...agentSplit, max: a.max, meets_target: a.p99 < 100 });
  const probeNote = { probe: `TCP from ${src.node} to ${target.node}; new attempt every ${PROBE.intervalMs} ms; deny = SYN of the first attempt unanswered within ${PROBE.timeoutMs} ms` };
  emit(BENCH, 'policy-write-to-probe-verdict/p50', p.p50, 'ms', { ...common, ...probeNote });
  emit(BENCH, 'policy-write-to-probe-verdict/p99', p.p99, 'ms', { ...common, ...probeNote, ...probeSplit, max: p.max });
  breakdown(state, changes, common);

  // 2. Pods created with labApply → reachable from the source pod.
  const createMs: number[] = [];
  const applyMs: number[] = [];
  for (let i = 0; i < NEW_PODS; i++) {
    const name = `new${i}`;
    const t0 = epochMs();
    const after = await labApply({ dir: state.dir, ...inputs([podObject(name, NODES[(i + 1) % NODES.length] as string, 'new')], `bench-new-${i}.yaml`) }, log);
    const applied = epochMs();
    const pod = podOf(after, `${NS}/${name}`);
    const r = await prober.probe({ ...PROBE, ip: pod.ip, expect: true });
    if (!r.matched) throw new Error(`pod ${name} (${pod.ip}) not reachable within ${CHANGE_TIMEOUT_MS} ms of labApply returning`);
    createMs.push(r.at - t0);
    applyMs.push(applied - t0);
  }
  const c = summary(createMs);
  emit(BENCH, 'pod-create-to-reachable/p50', c.p50, 'ms', { ...extra, new_pods: NEW_PODS, max: c.max, lab_apply_p50_ms: summary(applyMs).p50, from: 'labApply call (netns, responder, API, agents) to first TCP connect from the source pod' });

  // 3. Churn with probes running.
  const denied = await client.patch(type, NS, POLICY, 'merge', { spec: { ingress: [] } });
  await watch.reached(String((denied.metadata as JsonObject).resourceVersion), CHANGE_TIMEOUT_MS);
  await churn(state, src.netns, extra);

  // 4. An agent restarted with nothing changed.
  await restartAgent(state, extra);
}

let replacement: ChildProcess | undefined;

/** Stops node-1's agent, starts it again as the lab does, and counts what it writes. */
async function restartAgent(state: LabState, extra: Record<string, unknown>): Promise<void> {
  const node = NODES[0] as string;
  const agent = state.processes.find((p) => p.role === 'agent' && p.node === node);
  const [cmd, ...args] = agent?.argv ?? [];
  if (agent === undefined || cmd === undefined) throw new Error(`no agent on ${node} to restart`);
  process.kill(agent.pid, 'SIGTERM');
  for (let i = 0; i < 250 && isRunning(agent.pid); i++) await sleep(20);
  const t0 = epochMs();
  let out = '';
  // Started as the lab started it (same state file), so it can adopt what the first one left.
  replacement = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  replacement.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  replacement.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  while (!/ready: the ruleset is current/.test(out) && epochMs() - t0 < 30_000) await sleep(10);
  const readyMs = epochMs() - t0;
  await sleep(2_000); // a read-back and a few status echoes later
  const exited = new Promise((r) => replacement?.once('exit', r));
  replacement.kill('SIGTERM');
  await exited;
  replacement = undefined;
  const m = /stopped \((\d+) flushes, (\d+) nft writes/.exec(out);
  if (m === null) throw new Error(`the restarted agent did not report its writes:\n${out.slice(-2000)}`);
  emit(BENCH, 'restart/nft-writes-when-nothing-changed', Number(m[2]), 'count', { ...extra, target: 0, node, flushes: Number(m[1]), restart_to_ready_ms: Math.round(readyMs), adopted: /no change to the ruleset/.test(out) });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Change {
  readonly revision: string;
  readonly t0: number;
  readonly agentsAt: number;
  readonly probeAt: number;
  readonly allow: boolean;
}

interface Flush {
  readonly at: number;
  readonly revision: string;
  readonly renderMs: number;
  readonly nftMs: number;
  readonly sinceFirstChangeMs: number;
}

/** The agents' own log lines (`applied revision R: … render X ms, nft Y ms, Z ms since the first change`), per node. */
function agentFlushes(state: LabState): Map<string, Flush[]> {
  const out = new Map<string, Flush[]>();
  const re = /^(\S+) agent (\S+): applied revision (\d+): .* render ([\d.]+) ms, nft ([\d.]+) ms, ([\d.]+) ms since the first change/;
  for (const node of NODES) {
    const file = join(state.dir, 'logs', `agent-${node}.log`);
    if (!existsSync(file)) continue;
    const list: Flush[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = re.exec(line);
      if (m === null) continue;
      list.push({ at: Date.parse(m[1] as string), revision: m[3] as string, renderMs: Number(m[4]), nftMs: Number(m[5]), sinceFirstChangeMs: Number(m[6]) });
    }
    out.set(node, list);
  }
  return out;
}

/**
 * Where write → enforced goes, from the agents' logs: write → the last agent's flush done (event
 * delivery + batch + calc + render + nft), the nft and render time of that flush, and flush done →
 * the bench seeing every report (status patch + watch). And, for allows, how long after every
 * agent reported the probe first connected.
 */
function breakdown(state: LabState, changes: readonly Change[], common: Record<string, unknown>): void {
  const flushes = agentFlushes(state);
  const toFlush: number[] = [];
  const nft: number[] = [];
  const render: number[] = [];
  const report: number[] = [];
  const allowAfterReport: number[] = [];
  for (const c of changes) {
    let last: Flush | undefined;
    for (const list of flushes.values()) {
      const f = list.find((x) => BigInt(x.revision) >= BigInt(c.revision) && x.at >= c.t0 - 5);
      if (f !== undefined && (last === undefined || f.at > last.at)) last = f;
    }
    if (last !== undefined) {
      toFlush.push(last.at - c.t0);
      nft.push(last.nftMs);
      render.push(last.renderMs);
      report.push(c.agentsAt - last.at);
    }
    if (c.allow) allowAfterReport.push(c.probeAt - c.agentsAt);
  }
  if (toFlush.length === 0) return;
  const line = (metric: string, xs: number[], extra: Record<string, unknown> = {}) => {
    const m = summary(xs);
    emit(BENCH, `${metric}/p50`, m.p50, 'ms', { ...common, p99: +m.p99.toFixed(1), max: +m.max.toFixed(1), ...extra });
  };
  line('breakdown/write-to-last-agent-flushed', toFlush, { what: 'API write returned → the slowest agent logged its flush (ms clock of the log line)' });
  line('breakdown/nft-apply-of-that-flush', nft);
  line('breakdown/render-of-that-flush', render);
  line('breakdown/flush-to-reports-seen', report, { what: 'status patch on the Node + the bench watch' });
  line('breakdown/allow-probe-after-reports', allowAfterReport, { what: 'first connect after every agent reported (negative: before)' });
}

interface ChurnTarget {
  readonly key: string;
  readonly expect: 'allow' | 'deny';
  readonly churned: boolean;
  readonly createdAt: number;
  firstOkAt?: number;
  /** Taken out of the probe list at this time; later attempts are not judged. */
  removedAt?: number;
}

async function churn(state: LabState, srcNetns: string, extra: Record<string, unknown>): Promise<void> {
  const podType = findResourceTypeByKind('v1', 'Pod');
  if (podType === undefined) throw new Error('the API does not serve Pod');
  const targets = new Map<string, ChurnTarget>(); // by IP
  const wrong: string[] = [];
  let attempts = 0;
  let pendingFailures = 0;
  const firstReach: number[] = [];
  const judge = (a: ChurnAttempt) => {
    const t = targets.get(a.ip);
    // Addresses are reused once a deleted pod releases them: an attempt older than the pod now
    // holding its address was aimed at the old one.
    if (t === undefined || a.start < t.createdAt || (t.removedAt !== undefined && a.start >= t.removedAt - CHURN_TIMEOUT_MS)) return;
    attempts++;
    if (t.expect === 'deny') {
      if (a.ok) wrong.push(`${t.key} (deny) connected at +${Math.round(a.start - t.createdAt)} ms`);
      return;
    }
    if (a.ok) {
      if (t.firstOkAt === undefined && t.churned) firstReach.push(a.end - t.createdAt);
      t.firstOkAt ??= a.end;
      return;
    }
    if (!t.churned || (t.firstOkAt !== undefined && a.start > t.firstOkAt)) wrong.push(`${t.key} (allow) failed at +${Math.round(a.start - t.createdAt)} ms`);
    else pendingFailures++;
  };
  churnProber = new ChurnProber(srcNetns, 200, CHURN_TIMEOUT_MS, judge);
  const publish = () => churnProber?.setTargets([...targets].filter(([, t]) => t.removedAt === undefined).map(([ip]) => ({ ip, port: 80 })));
  // Stable: the denied target and four open fillers on every node.
  const t0 = epochMs();
  targets.set(podOf(state, `${NS}/p0`).ip, { key: `${NS}/p0`, expect: 'deny', churned: false, createdAt: t0 });
  for (const k of [2, 3, 4, 5]) targets.set(podOf(state, `${NS}/p${k}`).ip, { key: `${NS}/p${k}`, expect: 'allow', churned: false, createdAt: t0 });
  publish();
  await sleep(2_000);
  const live: { name: string; ip: string }[] = [];
  const fillers = state.pods.filter((p) => /^bench\/p\d+$/.test(p.key) && Number(p.key.slice('bench/p'.length)) >= 6).map((p) => ({ name: p.name, ip: p.ip }));
  // Creations and deletions each at half the rate, in two loops (a slow labApply must not hold
  // the deletions back); creations are sequential because labApply owns the lab's state file.
  const slotMs = 120_000 / CHURN_PER_MINUTE;
  const end = epochMs() + CHURN_SECONDS * 1000;
  let created = 0;
  let deleted = 0;
  const started = epochMs();
  const creates = (async () => {
    while (epochMs() < end) {
      const slot = epochMs();
      const name = `churn${created}`;
      const role = created % 2 === 0 ? 'target' : 'open';
      const after = await labApply({ dir: state.dir, ...inputs([podObject(name, NODES[created % NODES.length] as string, role)], `bench-churn-${created}.yaml`) }, () => undefined);
      const pod = podOf(after, `${NS}/${name}`);
      // Judged from the moment labApply returns (the API has it): a deny pod must never answer.
      targets.set(pod.ip, { key: `${NS}/${name}`, expect: role === 'target' ? 'deny' : 'allow', churned: true, createdAt: slot });
      publish();
      live.push({ name, ip: pod.ip });
      created++;
      // Paced on a fixed schedule: a slow apply is caught up by the next ones, so the rate holds.
      const wait = started + created * slotMs - epochMs();
      if (wait > 0) await sleep(wait);
    }
  })();
  const deletes = (async () => {
    for (let tick = 1; epochMs() < end; tick++) {
      // Churned pods once a few live, before that the lab's unprobed filler pods.
      const victim = live.length > 2 ? live.shift() : fillers.shift();
      if (victim !== undefined) {
        const t = targets.get(victim.ip);
        if (t !== undefined) t.removedAt = epochMs();
        publish();
        // As a user would: the pod leaves the API, then (once agents applied it) the kernel and IPAM.
        await labDelete({ dir: state.dir, targets: [{ type: podType, namespace: NS, name: victim.name }] }, () => undefined);
        deleted++;
      }
      const wait = started + slotMs * tick - epochMs();
      if (wait > 0) await sleep(wait);
    }
  })();
  await Promise.all([creates, deletes]);
  const activeMinutes = (epochMs() - started) / 60_000;
  await sleep(CHURN_TIMEOUT_MS + 500);
  churnProber.stop();
  churnProber = undefined;
  const reach = firstReach.length > 0 ? summary(firstReach) : undefined;
  emit(BENCH, 'churn/wrong-verdicts', wrong.length, 'count', {
    ...extra,
    target: 0,
    seconds: CHURN_SECONDS,
    operations_per_minute: +((created + deleted) / activeMinutes).toFixed(1),
    created,
    deleted,
    probe_attempts: attempts,
    not_yet_programmed_failures: pendingFailures,
    new_open_pod_first_reached_p50_ms: reach?.p50,
    new_open_pod_first_reached_p99_ms: reach?.p99,
    ...(wrong.length > 0 ? { examples: wrong.slice(0, 5).join('; ') } : {}),
  });
}

const watchdog = setTimeout(() => {
  console.error(`bench: over ${WATCHDOG_MS / 60_000} min; tearing down`);
  void cleanup().finally(() => process.exit(2));
}, WATCHDOG_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}; tearing down`);
    void cleanup().finally(() => process.exit(130));
  });
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  keepLogs = true;
  console.error(`bench: failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
const prefix = labId !== undefined ? `mgy-${labId}-` : undefined;
const left = prefix === undefined ? [] : (await listLabNamespaces()).filter((n) => n.startsWith(prefix));
const all = execFileSync('/usr/sbin/ip', ['netns', 'list'], { encoding: 'utf8' });
console.error(`bench: after lab down, ${left.length} namespaces of lab ${labId ?? '-'} left; ip netns list shows ${all.split('\n').filter((l) => l.startsWith('mgy-')).length} mgy- namespaces in all`);
if (left.length > 0) {
  console.error(`bench: left behind: ${left.join(', ')}`);
  failed = true;
}
// The per-packet and nft-apply parts, with the lab gone (its processes would only add noise).
if (!failed && !process.argv.includes('--lab-only')) {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const [file, args] of [['dataplane-conn.js', []], ['dataplane-ruleset.js', ['--only', 'nft-apply']]] as const) {
    const r = spawnSync(process.execPath, [join(here, file), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
