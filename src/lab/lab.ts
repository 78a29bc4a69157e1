// `margay lab`: up, apply, probe, down. Orchestrates the pure layout (topology), the kernel work
// (network, netns), the processes (responders, the control plane, node agents) and registration
// in the API as a kubelet would. Whoever makes a namespace or process records it in the state
// file first, and `down` undoes everything recorded, so a crash leaves nothing `down` cannot undo.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors/index.js';
import { parseIp } from '../net/index.js';
import { BlockIpam } from '../ipam/index.js';
import { findResourceTypeByKind, type JsonObject, type ResourceType } from '../api/index.js';
import { KubeApiError, KubeClient, loadKubeconfig } from '../client/index.js';
import { LabCommandError, addNamespace, deleteNamespace, execIn, listLabNamespaces, pidsIn, spawnDetached, spawnIn } from './netns.js';
import { buildFabric, buildPod, dropRoutes, syncRoutes } from './network.js';
import { ipv6Twin, kubernetesNamespaces, placePods, planLab, podInterface, INTERNET_IP, INTERNET_IP6, type DecodedInput, type LabNode, type LabPod } from './topology.js';
import { loadState, processStartTime, requireState, saveState, stateFile, withLabLock, type LabProcess, type LabState } from './state.js';

export const DEFAULT_LAB_DIR = './.margay/lab';
const FIELD_MANAGER = 'margay-lab';
const RESPONDER = fileURLToPath(new URL('./responder.js', import.meta.url));
const PROBER = fileURLToPath(new URL('./prober.js', import.meta.url));
const MARGAY_BIN = fileURLToPath(new URL('../../../bin/margay', import.meta.url));

/** A manifest object as written, with the file it came from (applied to the API unchanged). */
export interface RawManifest {
  readonly object: JsonObject;
  readonly file: string;
}

/** What a node agent gets to know when the lab starts it. */
export interface AgentContext {
  readonly labId: string;
  readonly node: string;
  /** The node's network namespace: apply rules with `ip netns exec NETNS nft -f -`. */
  readonly netns: string;
  readonly kubeconfig: string;
  /** JSON map of pods to their node-side veth (`{"podInterfacePrefix","pods":{"ns/pod":"mgpN"}}`). */
  readonly interfaces: string;
}

/**
 * Starts a node agent: returns the argv to run. The agent runs in the machine's namespace (so it
 * reaches the control plane on loopback) and works on its node through `ctx.netns`.
 */
export type AgentLauncher = (ctx: AgentContext) => readonly string[];

export interface LabUpOptions {
  readonly dir?: string;
  readonly decoded: readonly DecodedInput[];
  readonly objects: readonly RawManifest[];
  readonly nodes?: number;
  /** Register into this cluster instead of starting a control plane. */
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Shell command per node (`sh -c`), with MARGAY_LAB_ID, MARGAY_NODE_NAME, MARGAY_LAB_NETNS, KUBECONFIG. */
  readonly agentCommand?: string;
  readonly agent?: AgentLauncher;
  /** Run the built-in node agent (`margay agent`) per node when no other agent is given. */
  readonly builtinAgent?: boolean;
}

export type Log = (line: string) => void;

export const NO_AGENT_NOTICE = 'no agent: policies are not enforced yet (every connection is allowed)';

function labDir(dir: string | undefined): string {
  return resolve(dir ?? DEFAULT_LAB_DIR);
}

function logFd(state: LabState, name: string): number {
  mkdirSync(join(state.dir, 'logs'), { recursive: true });
  return openSync(join(state.dir, 'logs', `${name}.log`), 'a');
}

function record(state: LabState, pid: number, role: LabProcess['role'], extra: { netns?: string; node?: string; argv?: readonly string[] } = {}): void {
  state.processes.push({ pid, startTime: processStartTime(pid), role, ...extra });
  saveState(state);
}

async function makeNamespace(state: LabState, ns: string): Promise<void> {
  state.namespaces.push(ns);
  saveState(state);
  await addNamespace(ns);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, logPath?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new UserError({ message: `timed out waiting for ${what}${logPath !== undefined ? `; see ${logPath}` : ''}` });
}

function alive(p: LabProcess): boolean {
  const now = processStartTime(p.pid);
  return now !== undefined && (p.startTime === undefined || now === p.startTime);
}

/**
 * The unix socket through which a namespace's first responder probes on request; undefined when
 * the path would be too long for a socket address (probes then start a process).
 */
function controlSocket(state: LabState, netns: string): string | undefined {
  const path = join(state.dir, 'run', `${netns}.sock`);
  return Buffer.byteLength(path) < 100 ? path : undefined;
}

/** Starts the responders of these pods (one per pod namespace; one per node for host-network pods). */
async function startResponders(state: LabState, pods: readonly LabPod[]): Promise<void> {
  const runDir = join(state.dir, 'run');
  mkdirSync(runDir, { recursive: true });
  const byNetns = new Map<string, { tcp: Set<number>; udp: Set<number> }>();
  for (const p of pods) {
    const entry = byNetns.get(p.netns) ?? { tcp: new Set<number>(), udp: new Set<number>() };
    for (const port of p.tcp) entry.tcp.add(port);
    for (const port of p.udp) entry.udp.add(port);
    byNetns.set(p.netns, entry);
  }
  const waits: Promise<void>[] = [];
  // Every responder is a Node.js process and they all start at once: give a large lab time to
  // boot them on a small machine (~0.1 s of CPU each) rather than a fixed 10 s.
  const readyTimeoutMs = 10_000 + 150 * byNetns.size;
  for (const [netns, ports] of byNetns) {
    // A node namespace already serving host-network pods gets a second responder for new ports only.
    const served = state.processes.filter((p) => p.role === 'responder' && p.netns === netns).length;
    const ready = join(runDir, `${netns}-${served}.ready`);
    rmSync(ready, { force: true });
    const fd = logFd(state, `${netns}-responder`);
    const control = served === 0 ? controlSocket(state, netns) : undefined;
    const argv = [process.execPath, RESPONDER, '--tcp', [...ports.tcp].join(','), '--udp', [...ports.udp].join(','), '--ready', ready, ...(control !== undefined ? ['--control', control] : [])];
    const pid = spawnIn(netns, argv, fd);
    closeSync(fd);
    record(state, pid, 'responder', { netns });
    waits.push(waitFor(`the responder in ${netns}`, () => existsSync(ready), readyTimeoutMs, join(state.dir, 'logs', `${netns}-responder.log`)));
  }
  await Promise.all(waits);
}

async function startControlPlane(state: LabState, log: Log): Promise<void> {
  const dir = join(state.dir, 'control-plane');
  state.controlPlaneDir = dir;
  mkdirSync(dir, { recursive: true });
  const kubeconfig = join(dir, 'kubeconfig');
  rmSync(kubeconfig, { force: true });
  const fd = logFd(state, 'control-plane');
  const pid = spawnDetached([process.execPath, MARGAY_BIN, 'up', '--data-dir', dir, '--listen', '127.0.0.1:0', '--datastore', 'sqlite'], fd);
  closeSync(fd);
  record(state, pid, 'control-plane');
  const logPath = join(state.dir, 'logs', 'control-plane.log');
  await waitFor('the control plane', async () => {
    if (!alive({ pid, startTime: undefined, role: 'control-plane' })) throw new UserError({ message: `the lab's control plane exited; see ${logPath}` });
    if (!existsSync(kubeconfig)) return false;
    try {
      const access = loadKubeconfig(kubeconfig);
      return (await fetch(`${access.server}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, 20_000, logPath);
  state.kubeconfig = kubeconfig;
  saveState(state);
  log(`control plane: ${loadKubeconfig(kubeconfig).server} (export KUBECONFIG=${kubeconfig})`);
}

function clientFor(state: LabState): KubeClient {
  if (state.kubeconfig === undefined) throw new UserError({ message: 'the lab has no cluster to register into' });
  const access = loadKubeconfig(state.kubeconfig, state.context);
  return new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}), userAgent: 'margay-lab/0.1' });
}

function typeFor(apiVersion: string, kind: string): ReturnType<typeof findResourceTypeByKind> {
  return findResourceTypeByKind(apiVersion, kind);
}

async function applyObject(client: KubeClient, object: JsonObject): Promise<JsonObject | undefined> {
  const type = typeFor(String(object.apiVersion), String(object.kind));
  if (type === undefined) return undefined;
  const meta = (object.metadata ?? {}) as JsonObject;
  const namespace = type.namespaced ? (typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default') : undefined;
  const body: JsonObject = { ...object, metadata: { ...meta, ...(namespace !== undefined ? { namespace } : {}) } };
  return (await client.apply(type, namespace, body, { fieldManager: FIELD_MANAGER, force: true })).object;
}

/** Creates an object unless it exists (a 409 leaves the existing one untouched). */
async function createIfMissing(client: KubeClient, object: JsonObject): Promise<JsonObject | undefined> {
  const type = typeFor(String(object.apiVersion), String(object.kind));
  if (type === undefined) return undefined;
  try {
    return (await client.create(type, undefined, object)).object;
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 409) return undefined;
    throw err;
  }
}

async function patchStatus(client: KubeClient, apiVersion: string, kind: string, namespace: string | undefined, name: string, status: JsonObject): Promise<JsonObject | undefined> {
  const type = typeFor(apiVersion, kind);
  if (type === undefined) return undefined;
  return (await client.patch(type, namespace, name, 'merge', { status }, { fieldManager: FIELD_MANAGER }, 'status')).object as JsonObject | undefined;
}

/** Remembers the highest resourceVersion among the objects the lab wrote. */
class RevisionTracker {
  private highest: number | undefined;
  note(o: JsonObject | undefined): void {
    const rv = Number((o?.metadata as JsonObject | undefined)?.resourceVersion);
    if (Number.isFinite(rv) && (this.highest === undefined || rv > this.highest)) this.highest = rv;
  }
  get revision(): string | undefined {
    return this.highest === undefined ? undefined : String(this.highest);
  }
}

/**
 * Registers Namespaces, Nodes and Pods as a kubelet would (pods with their node and address), then
 * applies every other manifest. Kinds the API does not serve are passed over with a note. Returns
 * the revision of the last write, which is what agents must have applied for it to be enforced
 * (the store's current revision may already be an agent's own status annotation, which agents
 * never report, so waiting on it could never end).
 */
async function register(state: LabState, decoded: readonly DecodedInput[], objects: readonly RawManifest[], pods: readonly LabPod[], nodes: readonly LabNode[], log: Log): Promise<string | undefined> {
  const client = clientFor(state);
  const written = new RevisionTracker();
  const podByKey = new Map(pods.map((p) => [p.key, p]));
  const rank = (o: JsonObject): number => ({ Namespace: 0, Tier: 1, Node: 2, Pod: 4 } as Record<string, number>)[String(o.kind)] ?? 3;
  const skipped = new Set<string>();
  // Namespaces and Nodes no manifest describes are created if missing, never applied: an apply
  // by the lab's field manager would take back the labels an earlier manifest gave them.
  for (const ns of kubernetesNamespaces(decoded, pods)) {
    if (!objects.some((o) => o.object.kind === 'Namespace' && (o.object.metadata as JsonObject | undefined)?.name === ns)) {
      written.note(await createIfMissing(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    }
  }
  for (const n of nodes) {
    if (!objects.some((o) => o.object.kind === 'Node' && (o.object.metadata as JsonObject | undefined)?.name === n.name)) {
      await createIfMissing(client, { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } } });
    }
  }
  for (const { object } of [...objects].sort((a, b) => rank(a.object) - rank(b.object))) {
    const kind = String(object.kind);
    const meta = (object.metadata ?? {}) as JsonObject;
    if (kind === 'Pod' && object.apiVersion === 'v1') {
      const key = `${typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default'}/${String(meta.name)}`;
      const pod = podByKey.get(key);
      const { status: _ignored, ...rest } = object;
      if (pod === undefined) {
        // Already in the lab: its labels (and annotations) change as a kubelet would see them;
        // its node, address and ports stay.
        const running = state.pods.find((p) => p.key === key);
        if (running !== undefined) written.note(await applyObject(client, { ...rest, metadata: { ...meta, namespace: running.namespace }, spec: { ...((object.spec ?? {}) as JsonObject), nodeName: running.node } }));
        continue;
      }
      const spec: JsonObject = { ...((object.spec ?? {}) as JsonObject), nodeName: pod.node };
      written.note(await applyObject(client, { ...rest, metadata: { ...meta, namespace: pod.namespace }, spec }));
      const node = nodes.find((n) => n.name === pod.node);
      written.note(await patchStatus(client, 'v1', 'Pod', pod.namespace, pod.name, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: ((spec.containers ?? []) as JsonObject[]).map((c) => ({ name: String(c.name ?? 'main'), ready: true, restartCount: 0, image: String(c.image ?? 'margay-lab-responder'), imageID: '', started: true, state: { running: {} } })),
        podIP: pod.ip,
        podIPs: [{ ip: pod.ip }, ...(pod.ip6 !== undefined ? [{ ip: pod.ip6 }] : [])],
        ...(node !== undefined ? { hostIP: node.ip, hostIPs: [{ ip: node.ip }, ...(node.ip6 !== undefined ? [{ ip: node.ip6 }] : [])] } : {}),
      }));
      continue;
    }
    if (typeFor(String(object.apiVersion), kind) === undefined) {
      skipped.add(`${String(object.apiVersion)} ${kind}`);
      continue;
    }
    const { status: _status, ...withoutStatus } = object;
    // Node writes are not waited on: agents do not report a revision for a Node change that
    // changes nothing they compute (such as the lab's own status refresh).
    const result = await applyObject(client, kind === 'Node' ? withoutStatus : object);
    if (kind !== 'Node') written.note(result);
  }
  for (const n of nodes) {
    await patchStatus(client, 'v1', 'Node', undefined, n.name, {
      addresses: [{ type: 'InternalIP', address: n.ip }, ...(n.ip6 !== undefined ? [{ type: 'InternalIP', address: n.ip6 }] : []), { type: 'Hostname', address: n.name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'LabNodeReady', message: 'lab node namespace is up' }],
    });
  }
  for (const s of skipped) log(`note: the API does not serve ${s}; not applied`);
  return written.revision;
}

/** Where the lab lists each pod's node-side veth for agents (`interfaceOf`). */
function interfacesFile(state: LabState): string {
  return join(state.dir, 'run', 'interfaces.json');
}

/** Writes the pod → veth map; called before pods reach the API, so an agent never misses one. */
function writeInterfaces(state: LabState): void {
  const pods: Record<string, string> = {};
  for (const p of state.pods) if (p.hostInterface !== undefined) pods[p.key] = p.hostInterface;
  const file = interfacesFile(state);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ podInterfacePrefix: podInterface(0).replace(/\d+$/, ''), pods }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The built-in agent: `margay agent` for the node, in the machine's namespace. */
// Restarted when it dies, as a kubelet would: the lab's waits then see it catch up, not a dead node.
const builtinAgent: AgentLauncher = (ctx) => [process.execPath, MARGAY_BIN, 'agent', '--restart-on-failure', '--node', ctx.node, '--kubeconfig', ctx.kubeconfig, '--netns', ctx.netns, '--interfaces', ctx.interfaces, '--state-file', join(dirname(ctx.interfaces), `agent-${ctx.node}.json`)];

const AGENT_READY = 'margay.io/agent-ready';
const AGENT_REVISION = 'margay.io/applied-revision';

function revisionAtLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) >= BigInt(b) : a >= b;
}

/**
 * Waits until every node's built-in agent reports ready (and, given a revision, has applied it),
 * from the annotations the agents keep on their Node. Undefined when they all did; otherwise
 * which nodes lag and why (an agent that exited is named with its log's last line at once).
 */
async function waitForAgents(state: LabState, revision: string | undefined, timeoutMs: number): Promise<string | undefined> {
  const client = clientFor(state);
  const type = typeFor('v1', 'Node');
  if (type === undefined) return 'the API serves no Nodes';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await Promise.all(state.nodes.map((n) => client.get(type, undefined, n.name).catch(() => undefined)));
    const lagging = state.nodes.flatMap((n, i) => {
      const ann = ((nodes[i]?.metadata as JsonObject | undefined)?.annotations ?? {}) as Record<string, unknown>;
      const applied = typeof ann[AGENT_REVISION] === 'string' ? ann[AGENT_REVISION] : undefined;
      if (ann[AGENT_READY] === 'true' && (revision === undefined || revisionAtLeast(applied, revision))) return [];
      return [{ node: n.name, applied }];
    });
    if (lagging.length === 0) return undefined;
    const dead = state.processes.filter((p) => p.role === 'agent' && !alive(p));
    if (dead.length > 0 || Date.now() >= deadline) {
      const exited = dead.map((p) => `the agent on ${p.node ?? '?'} (pid ${p.pid}) is not running; its log ends ${logTail(state, `agent-${p.node ?? ''}`)}`);
      const behind = lagging.filter((l) => !dead.some((p) => p.node === l.node)).map((l) => `${l.node} ${l.applied !== undefined ? `is at revision ${l.applied}` : 'has not reported'}`);
      const waited = dead.length === 0 ? `after ${timeoutMs / 1000} s, ` : '';
      return [...exited, ...(behind.length > 0 ? [`${waited}${behind.join(', ')}`] : [])].join('; ');
    }
    await sleep(20);
  }
}

/** The last lines of a lab log, joined (a crash's error sits a few lines above Node's version line), for a note that says why. */
function logTail(state: LabState, name: string): string {
  try {
    const lines = readFileSync(join(state.dir, 'logs', `${name}.log`), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('Node.js v'));
    return JSON.stringify(lines.slice(-4).join(' | '));
  } catch {
    return '(no log)';
  }
}


async function startAgents(state: LabState, o: LabUpOptions, log: Log): Promise<void> {
  const launcher = o.agent ?? (o.agentCommand === undefined && o.builtinAgent ? builtinAgent : undefined);
  if (launcher === undefined && o.agentCommand === undefined) {
    log(NO_AGENT_NOTICE);
    return;
  }
  for (const n of state.nodes) {
    const ctx: AgentContext = { labId: state.id, node: n.name, netns: n.netns, kubeconfig: state.kubeconfig ?? '', interfaces: interfacesFile(state) };
    const argv = launcher !== undefined ? launcher(ctx) : ['sh', '-c', o.agentCommand ?? ''];
    const env = { ...process.env, MARGAY_LAB_ID: ctx.labId, MARGAY_NODE_NAME: ctx.node, MARGAY_LAB_NETNS: ctx.netns, KUBECONFIG: ctx.kubeconfig, MARGAY_LAB_INTERFACES: ctx.interfaces };
    const fd = logFd(state, `agent-${n.name}`);
    const pid = spawnDetached(argv, fd, env);
    closeSync(fd);
    record(state, pid, 'agent', { node: n.name, argv });
    log(`agent on ${n.name}: pid ${pid} (log ${join(state.dir, 'logs', `agent-${n.name}.log`)})`);
  }
  state.agent = true;
  if (launcher === builtinAgent) state.agentReports = true;
  saveState(state);
  if (!state.agentReports) return;
  const t0 = Date.now();
  const lag = await waitForAgents(state, undefined, 20_000);
  if (lag === undefined) log(`agents ready on ${state.nodes.length} nodes in ${Date.now() - t0} ms: policies are enforced`);
  else log(`note: not every agent is ready: ${lag}; see ${join(state.dir, 'logs')}`);
}

function describe(state: LabState, log: Log): void {
  log(`lab ${state.id} (state in ${stateFile(state.dir)})`);
  log(`  fabric ${state.fabricNetns}, internet ${state.internetNetns} ${INTERNET_IP} ${INTERNET_IP6} (TCP/UDP 80, 81)`);
  for (const n of state.nodes) {
    log(`  node ${n.name}: ${n.netns} ${n.ip} ${n.ip6 ?? ''}  blocks ${state.blocks.filter((b) => b.affinity === n.name).map((b) => b.cidr).join(', ') || '-'}`);
    for (const p of state.pods.filter((x) => x.node === n.name)) {
      const ports = [...p.tcp.map((x) => `${x}/TCP`), ...p.udp.map((x) => `${x}/UDP`)].join(' ');
      log(`    pod ${p.key}: ${p.hostNetwork ? 'host network' : p.netns} ${p.ip} ${p.ip6 ?? ''}${p.stated ? ' (stated)' : ''}  ${ports}`);
    }
  }
}

/** Builds a lab. On any failure, removes whatever it made and rethrows. */
export async function labUp(o: LabUpOptions, log: Log): Promise<LabState> {
  const dir = labDir(o.dir);
  const existing = loadState(dir);
  if (existing !== undefined) throw new UserError({ path: '--lab-dir', message: `a lab (${existing.id}) is already up in ${dir}; run \`margay lab down\` first` });
  if (o.nodes !== undefined && (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 50)) throw new UserError({ path: '--nodes', message: `expected a number of nodes from 1 to 50, got ${o.nodes}` });
  const id = randomBytes(2).toString('hex');
  const layout = planLab(id, o.decoded, o.nodes);
  for (const n of layout.notes) log(`note: ${n}`);
  const state: LabState = {
    version: 1,
    id,
    dir,
    createdAt: new Date().toISOString(),
    fabricNetns: layout.fabricNetns,
    internetNetns: layout.internetNetns,
    namespaces: [],
    processes: [],
    nodes: [...layout.nodes],
    pods: [...layout.pods],
    nextPodIndex: layout.pods.filter((p) => !p.hostNetwork).length,
    pools: [...layout.pools],
    blocks: [...layout.blocks],
    ...(o.kubeconfig !== undefined ? { kubeconfig: resolve(o.kubeconfig) } : {}),
    ...(o.context !== undefined ? { context: o.context } : {}),
    agent: false,
  };
  state.madeDirs = missingAncestors(dir);
  saveState(state);
  try {
    if (state.kubeconfig !== undefined) loadKubeconfig(state.kubeconfig, state.context);
    const controlPlane = state.kubeconfig === undefined ? startControlPlane(state, log) : Promise.resolve();
    for (const ns of [state.fabricNetns, state.internetNetns, ...state.nodes.map((n) => n.netns)]) await makeNamespace(state, ns);
    await buildFabric(state);
    state.namespaces.push(...state.pods.filter((p) => !p.hostNetwork).map((p) => p.netns));
    saveState(state);
    await Promise.all(state.pods.map((p) => buildPod(p, nodeOf(state, p))));
    await syncRoutes(state, state.pods, state.blocks);
    await startResponders(state, [...state.pods, { key: 'internet', namespace: '', name: 'internet', node: '', hostNetwork: true, netns: state.internetNetns, ip: INTERNET_IP, stated: true, tcp: [80, 81], udp: [80, 81], sctp: [] }]);
    await controlPlane;
    writeInterfaces(state);
    await register(state, o.decoded, o.objects, state.pods, state.nodes, log);
    await startAgents(state, o, log);
  } catch (err) {
    log(`lab up failed; removing what it made`);
    await labDown({ dir }, () => undefined).catch(() => undefined);
    throw asUserError(err);
  }
  describe(state, log);
  return state;
}

/** A kernel command that failed is the machine's problem, not a bug: say what the lab needs. */
function asUserError(err: unknown): unknown {
  if (err instanceof KubeApiError) return new UserError({ message: `registering the lab in the API failed: ${err.message}` });
  if (!(err instanceof LabCommandError)) return err;
  return new UserError({ message: `${err.message} (the lab needs root, iproute2 and network namespaces)` });
}

/** `dir` and its ancestors that do not exist yet, deepest first (what `down` may remove again). */
function missingAncestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) out.push(d);
  return out;
}

function nodeOf(state: LabState, p: LabPod): LabNode {
  const n = state.nodes.find((x) => x.name === p.node);
  if (n === undefined) throw new UserError({ message: `pod ${p.key}: node ${p.node} is not in the lab` });
  return n;
}

/** Adds new pods (and namespaces) to a running lab and applies every manifest to its cluster. */
export async function labApply(o: { dir?: string; decoded: readonly DecodedInput[]; objects: readonly RawManifest[] }, log: Log): Promise<LabState> {
  try {
    return await applyToLab(o, log);
  } catch (err) {
    throw asUserError(err);
  }
}

async function applyToLab(o: { dir?: string; decoded: readonly DecodedInput[]; objects: readonly RawManifest[] }, log: Log): Promise<LabState> {
  const dir = labDir(o.dir);
  requireState(dir);
  const t0 = Date.now();
  const { state, written } = await withLabLock(dir, () => addToLab(dir, o, log));
  if (!state.agent) log(NO_AGENT_NOTICE);
  else if (state.agentReports) {
    const lag = await waitForAgents(state, written, 10_000);
    if (lag === undefined) log(`enforced: every agent applied revision ${written ?? '?'} (${Date.now() - t0} ms)`);
    else log(`note: not every agent applied revision ${written ?? '?'}: ${lag}; see ${join(state.dir, 'logs')}`);
  }
  return state;
}

/** The part of an apply that changes the lab's state: run under its lock. */
async function addToLab(dir: string, o: { decoded: readonly DecodedInput[]; objects: readonly RawManifest[] }, log: Log): Promise<{ state: LabState; written: string | undefined }> {
  const state = requireState(dir);
  const ipam = new BlockIpam(state.pools, state.blocks);
  const placed = placePods(state.id, o.decoded, state.nodes, ipam, state.pods, state.nextPodIndex);
  if (placed.problems.length > 0) throw new UserError(placed.problems);
  for (const n of placed.notes) log(`note: ${n}`);
  for (const d of o.decoded) if (d.resource.kind === 'Node' && !state.nodes.some((n) => n.name === d.resource.metadata.name)) log(`note: node ${d.resource.metadata.name} is registered in the API but the lab cannot add node namespaces yet`);
  state.pods.push(...placed.pods);
  state.nextPodIndex += placed.pods.filter((p) => !p.hostNetwork).length;
  state.blocks = ipam.blocks();
  state.namespaces.push(...placed.pods.filter((p) => !p.hostNetwork).map((p) => p.netns));
  saveState(state);
  await Promise.all(placed.pods.map((p) => buildPod(p, nodeOf(state, p))));
  await syncRoutes(state, state.pods, state.blocks);
  await startResponders(state, placed.pods);
  writeInterfaces(state);
  const written = await register(state, o.decoded, o.objects, placed.pods, state.nodes, log);
  for (const p of placed.pods) log(`pod ${p.key}: ${p.hostNetwork ? `host network on ${p.node}` : p.netns} ${p.ip}`);
  return { state, written };
}

/** An object to delete: its API type, namespace (namespaced types) and name. */
export interface LabDeleteTarget {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string;
}

export interface LabDeleteReport {
  readonly deleted: string[];
  readonly notFound: string[];
}

/**
 * Deletes objects from the lab's cluster as `kubectl delete` would; a Pod of the lab (or every
 * pod of a deleted Namespace) also leaves the kernel: once every agent has applied the deletion,
 * its responder stops, its namespace and veth go, its address returns to IPAM (an emptied block
 * is released and its routes removed).
 */
export async function labDelete(o: { dir?: string; targets: readonly LabDeleteTarget[]; ignoreNotFound?: boolean }, log: Log): Promise<LabDeleteReport> {
  try {
    return await deleteFromLab(o, log);
  } catch (err) {
    throw asUserError(err);
  }
}

function label(t: LabDeleteTarget): string {
  return `${t.type.singular}${t.namespace !== undefined ? ` ${t.namespace}/` : ' '}${t.name}`;
}

async function deleteFromLab(o: { dir?: string; targets: readonly LabDeleteTarget[]; ignoreNotFound?: boolean }, log: Log): Promise<LabDeleteReport> {
  const state = requireState(labDir(o.dir));
  const client = clientFor(state);
  const podType = typeFor('v1', 'Pod');
  if (podType === undefined) throw new UserError({ message: 'the API does not serve pods' });
  // A namespace's pods go first, as pods: the lab must take them out of the kernel too.
  const expanded: LabDeleteTarget[] = [];
  for (const t of o.targets) {
    if (t.type.group === '' && t.type.kind === 'Namespace') {
      for (const p of state.pods.filter((x) => x.namespace === t.name)) expanded.push({ type: podType, namespace: p.namespace, name: p.name });
    }
    expanded.push(t);
  }
  const written = new RevisionTracker();
  const deleted: string[] = [];
  const notFound: string[] = [];
  const leaving: LabPod[] = [];
  for (const t of expanded) {
    const isLabPod = t.type.group === '' && t.type.kind === 'Pod';
    const pod = isLabPod ? state.pods.find((p) => p.key === `${t.namespace ?? 'default'}/${t.name}`) : undefined;
    if (pod !== undefined && leaving.includes(pod)) continue;
    try {
      written.note(await client.delete(t.type, t.namespace, t.name));
      deleted.push(label(t));
      log(`${label(t)} deleted`);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.code !== 404) throw err;
      notFound.push(label(t));
    }
    if (pod !== undefined) leaving.push(pod);
  }
  const revision = written.revision;
  const t0 = Date.now();
  if (state.agentReports && revision !== undefined) {
    const lag = await waitForAgents(state, revision, 10_000);
    if (lag === undefined) log(`enforced: every agent applied revision ${revision} (${Date.now() - t0} ms)`);
    else log(`note: not every agent applied revision ${revision}: ${lag}; see ${join(state.dir, 'logs')}`);
  }
  if (leaving.length > 0) {
    const keys = new Set(leaving.map((p) => p.key));
    await withLabLock(state.dir, async () => {
      const current = requireState(state.dir);
      await removePods(current, current.pods.filter((p) => keys.has(p.key)), log);
    });
  }
  return { deleted, notFound };
}

/** Takes pods out of the kernel and the state: responders, namespaces, addresses, routes. */
async function removePods(state: LabState, pods: readonly LabPod[], log: Log): Promise<void> {
  const ipam = new BlockIpam(state.pools, state.blocks);
  const blocksBefore = ipam.blocks();
  const netnsGone = new Set(pods.filter((p) => !p.hostNetwork).map((p) => p.netns));
  await stopProcesses(state.processes.filter((p) => p.role === 'responder' && p.netns !== undefined && netnsGone.has(p.netns)));
  for (const ns of netnsGone) {
    for (const pid of await pidsIn(ns)) await stopProcesses([{ pid, startTime: processStartTime(pid), role: 'responder' }]);
    await deleteNamespace(ns);
    const control = controlSocket(state, ns);
    if (control !== undefined) rmSync(control, { force: true });
  }
  for (const p of pods) if (!p.hostNetwork && !p.stated) ipam.release(p.key);
  const blocksAfter = new Set(ipam.blocks().map((b) => b.cidr));
  const gone = [
    ...pods.filter((p) => !p.hostNetwork && p.stated).map((p) => ({ node: p.node, dest: `${p.ip}/32` })),
    ...pods.filter((p) => !p.hostNetwork && p.ip6 !== undefined && (p.stated || p.ip6 !== ipv6Twin(p.ip))).map((p) => ({ node: p.node, dest: `${p.ip6}/128` })),
    ...blocksBefore.filter((b) => !blocksAfter.has(b.cidr)).flatMap((b) => [{ node: b.affinity, dest: b.cidr }, { node: b.affinity, dest: ipv6Twin(b.cidr) }]),
  ];
  await dropRoutes(state, gone);
  const keys = new Set(pods.map((p) => p.key));
  state.pods = state.pods.filter((p) => !keys.has(p.key));
  state.namespaces = state.namespaces.filter((n) => !netnsGone.has(n));
  state.processes = state.processes.filter((p) => !(p.role === 'responder' && p.netns !== undefined && netnsGone.has(p.netns)));
  state.blocks = ipam.blocks();
  saveState(state);
  writeInterfaces(state);
  for (const p of pods) {
    log(`pod ${p.key}: ${p.hostNetwork ? `removed (host network: the node's responder keeps its ports)` : `${p.netns} removed, ${p.ip} released`}`);
  }
  for (const b of blocksBefore.filter((x) => !blocksAfter.has(x.cidr))) log(`block ${b.cidr} released by ${b.affinity}`);
}

// ───────────────────────────── probes ─────────────────────────────

export type ProbeProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ProbeOutcome {
  readonly from: string;
  readonly to: string;
  readonly ip: string;
  readonly port: number;
  readonly protocol: ProbeProtocol;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

interface Target {
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

function checkProtocol(protocol: ProbeProtocol, path: string): 'TCP' | 'UDP' {
  if (protocol === 'SCTP') throw new UserError({ path, message: 'the lab cannot probe SCTP: this kernel has no SCTP, so there is no answer to give rather than a guess' });
  return protocol;
}

/** Probes from inside `netns`: through its responder's control socket, else a prober process. */
async function runProber(state: LabState, netns: string, targets: readonly Target[], timeoutMs: number): Promise<{ ok: boolean; detail: string; ms: number }[]> {
  const control = controlSocket(state, netns);
  if (control !== undefined && existsSync(control)) {
    const answer = await askResponder(control, targets, timeoutMs).catch(() => undefined);
    if (answer !== undefined) return answer;
  }
  const r = await execIn(netns, [process.execPath, PROBER, '--timeout-ms', String(timeoutMs)], JSON.stringify(targets), timeoutMs + 10_000);
  if (r.code !== 0) throw new UserError({ message: `probing from ${netns} failed: ${r.stderr.trim()}` });
  return JSON.parse(r.stdout) as { ok: boolean; detail: string; ms: number }[];
}

function askResponder(path: string, targets: readonly Target[], timeoutMs: number): Promise<{ ok: boolean; detail: string; ms: number }[]> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let out = '';
    const timer = setTimeout(() => conn.destroy(new Error('the responder did not answer')), timeoutMs + 10_000);
    conn.on('connect', () => conn.write(`${JSON.stringify({ timeoutMs, targets })}\n`));
    conn.on('data', (chunk) => (out += chunk.toString('utf8')));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(out) as unknown;
        if (Array.isArray(parsed) && parsed.length === targets.length) resolve(parsed as { ok: boolean; detail: string; ms: number }[]);
        else reject(new Error(`unexpected answer: ${out.slice(0, 200)}`));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

function findPod(state: LabState, ref: string, path: string): LabPod {
  const key = ref.includes('/') ? ref : `default/${ref}`;
  const pod = state.pods.find((p) => p.key === key);
  if (pod === undefined) throw new UserError({ path, message: `no pod ${key} in the lab (pods: ${state.pods.map((p) => p.key).join(', ')})` });
  return pod;
}

/** One real connection from a pod to a pod or address. */
export async function labProbe(o: { dir?: string; from: string; to: string; port: number; protocol: ProbeProtocol; timeoutMs?: number; family?: 4 | 6 }): Promise<ProbeOutcome> {
  const state = requireState(labDir(o.dir));
  const protocol = checkProtocol(o.protocol, '--port');
  // The lab internet can be a source too (`--from internet` or its address): traffic from outside.
  const from = o.from === 'internet' || o.from === INTERNET_IP || o.from === INTERNET_IP6 ? { key: 'internet', netns: state.internetNetns } : findPod(state, o.from, '--from');
  const ip = parseIp(o.to);
  let to: { key: string; ip: string };
  if (ip !== undefined) to = { key: ip.text, ip: ip.text };
  else {
    const pod = findPod(state, o.to, '--to');
    to = { key: pod.key, ip: addressOf(pod, o.family ?? 4, '--to') };
  }
  const [r] = await runProber(state, from.netns, [{ ip: to.ip, port: o.port, protocol }], o.timeoutMs ?? 1000);
  if (r === undefined) throw new UserError({ message: 'the prober returned no result' });
  return { from: from.key, to: to.key, ip: to.ip, port: o.port, protocol, ...r };
}

/** A pod's address of the family asked for. */
function addressOf(pod: LabPod, family: 4 | 6, path: string): string {
  if (family === 4) return pod.ip;
  if (pod.ip6 === undefined) throw new UserError({ path, message: `pod ${pod.key} has no IPv6 address (a lab made before the lab was dual-stack; make it again)` });
  return pod.ip6;
}

/** Every ordered pair of pods (from → to), probed for real: `{"ns/pod": {"ns/pod": true|false}}`. */
export async function labMatrix(o: { dir?: string; port: number; protocol: ProbeProtocol; timeoutMs?: number; family?: 4 | 6 }): Promise<Record<string, Record<string, boolean>>> {
  const state = requireState(labDir(o.dir));
  const protocol = checkProtocol(o.protocol, '--port');
  const targets = state.pods.map((p) => ({ ip: addressOf(p, o.family ?? 4, '--ip-family'), port: o.port, protocol }));
  const rows = await Promise.all(state.pods.map((p) => runProber(state, p.netns, targets, o.timeoutMs ?? 1000)));
  const matrix: Record<string, Record<string, boolean>> = {};
  state.pods.forEach((from, i) => {
    const row: Record<string, boolean> = {};
    state.pods.forEach((to, j) => (row[to.key] = rows[i]?.[j]?.ok ?? false));
    matrix[from.key] = row;
  });
  return matrix;
}

// ───────────────────────────── down ─────────────────────────────

export interface DownReport {
  readonly id: string | undefined;
  readonly namespaces: string[];
  readonly killed: number[];
}

async function stopProcesses(pids: readonly LabProcess[]): Promise<number[]> {
  const live = pids.filter(alive);
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && live.some(alive)) await sleep(50);
  for (const p of live.filter(alive)) {
    try {
      // An agent leads its own process group (spawned detached) with its supervised child in it.
      process.kill(p.role === 'agent' ? -p.pid : p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return live.map((p) => p.pid);
}

/**
 * Removes a lab: stops the processes it recorded (by pid, checking each is still the same process)
 * and any process still inside its namespaces, deletes its namespaces (recorded, and any
 * `mgy-<id>-*` that exists), then its files. Safe to run twice and after a crash.
 */
export async function labDown(o: { dir?: string }, log: Log): Promise<DownReport> {
  try {
    return await takeDown(o, log);
  } catch (err) {
    throw asUserError(err);
  }
}

async function takeDown(o: { dir?: string }, log: Log): Promise<DownReport> {
  const dir = labDir(o.dir);
  const state = loadState(dir);
  if (state === undefined) {
    log(`no lab in ${dir}; nothing to do`);
    return { id: undefined, namespaces: [], killed: [] };
  }
  const prefix = `mgy-${state.id}-`;
  const existing = await listLabNamespaces();
  const namespaces = [...new Set([...state.namespaces.filter((n) => n.startsWith(prefix)), ...existing.filter((n) => n.startsWith(prefix))])];
  // Agents and the control plane first, so nothing re-creates what is being removed.
  const ordered = [...state.processes].sort((a, b) => order(a) - order(b));
  const killed = await stopProcesses(ordered);
  const present = new Set(existing);
  for (const ns of namespaces.filter((n) => present.has(n))) {
    const inside = (await pidsIn(ns)).map((pid) => ({ pid, startTime: processStartTime(pid), role: 'responder' as const }));
    killed.push(...(await stopProcesses(inside)));
  }
  for (const ns of namespaces) await deleteNamespace(ns);
  const left = (await listLabNamespaces()).filter((n) => n.startsWith(prefix));
  if (left.length > 0) throw new UserError({ message: `could not delete ${left.join(', ')}; run \`margay lab down\` again or \`ip netns delete\` them` });
  for (const sub of ['logs', 'run', 'control-plane']) rmSync(join(dir, sub), { recursive: true, force: true });
  rmSync(stateFile(dir), { force: true });
  rmSync(join(dir, 'state.lock'), { force: true });
  for (const d of state.madeDirs ?? [dir]) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // not empty, or already gone
    }
  }
  log(`lab ${state.id} down: deleted ${namespaces.length} namespaces, stopped ${killed.length} processes`);
  return { id: state.id, namespaces, killed };
}

function order(p: LabProcess): number {
  return p.role === 'agent' ? 0 : p.role === 'responder' ? 1 : 2;
}
