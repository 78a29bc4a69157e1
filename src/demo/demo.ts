// `margay up --demo`: the demo cluster on the control plane `up` just started. Live: a lab of two
// nodes (network namespaces, agents enforcing the example policies) with a traffic generator per
// source pod. Recorded (no root, no nftables, or --demo=recorded): the same objects in the API and
// the recorded flows replayed into the flow store, one bucket every 15 s, so the console is live.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ApiExtension, JsonObject } from '../api/index.js';
import { findResourceTypeByKind } from '../api/index.js';
import { KubeClient } from '../client/index.js';
import type { FlowLog } from '../flows/index.js';
import { INTERNET_IP, labDown, labUp, loadState, type LabState } from '../lab/index.js';
import { checkLive } from './environment.js';
import { bucketAt, loadDemoManifests, readRecording, type DemoManifests, type RecordedFlows } from './fixture.js';
import { FlowQueryError, FlowReplayStore } from './flow-replay.js';
import { DEMO_TRAFFIC, INTERNET } from './traffic.js';

export type DemoMode = 'auto' | 'live' | 'recorded';

export interface DemoOptions {
  readonly dataDir: string;
  readonly mode: DemoMode;
  readonly log: (line: string) => void;
}

export interface DemoStartContext {
  /** The API server's URL and the admin token of its kubeconfig. */
  readonly url: string;
  readonly token: string;
  readonly kubeconfig: string;
}

export interface PreparedDemo {
  readonly mode: 'live' | 'recorded';
  /** Mount after every other extension: the replay serves flows only where nothing else does. */
  readonly extensions: readonly ApiExtension[];
  /** Fills the cluster and starts the traffic; resolves with what undoes it. */
  start(ctx: DemoStartContext): Promise<() => Promise<void>>;
}

const FLOWS_PATH = '/apis/flows.margay.io/v1';
const FIELD_MANAGER = 'margay-demo';
const GENERATOR = fileURLToPath(new URL('./traffic-generator.js', import.meta.url));

/** Decides the mode (saying why when it cannot be live) and prepares the flow replay. */
export function prepareDemo(o: DemoOptions): PreparedDemo {
  let mode: 'live' | 'recorded' = 'recorded';
  if (o.mode !== 'recorded') {
    const check = checkLive(o.log);
    if (check.ok) mode = 'live';
    else {
      o.log(`demo: the live demo needs ${check.missing.join('; ')}.`);
      o.log('demo: running the control plane and console on RECORDED demo data instead (examples/demo/flows.recorded.json).');
    }
  }
  const replay = new FlowReplayStore();
  // Whether this server has the real flows API (then recorded flows are POSTed to it).
  let realFlowsApi = false;
  const extension: ApiExtension = (app: FastifyInstance) => {
    realFlowsApi = app.hasRoute({ method: 'GET', url: `${FLOWS_PATH}/flowlogs` });
    // Live without the flows API: an empty replay still answers, so the console works.
    if (!realFlowsApi) mountReplay(app, replay);
  };
  return {
    get mode() {
      return mode;
    },
    extensions: [extension],
    async start(ctx) {
      const manifests = loadDemoManifests();
      if (mode === 'live') {
        try {
          return await startLive(o, ctx, manifests);
        } catch (err) {
          o.log(`demo: the live lab did not start (${err instanceof Error ? err.message : String(err)}); using RECORDED demo data instead.`);
          mode = 'recorded';
        }
      }
      await registerObjects(ctx, manifests);
      return startReplay(o, ctx, readRecording(), realFlowsApi ? postFlows(ctx) : async (logs) => replay.append(logs));
    },
  };
}

function mountReplay(app: FastifyInstance, replay: FlowReplayStore): void {
  const handler = (namespace: string | undefined) => (req: { query: unknown }, reply: { code(c: number): { header(k: string, v: string): { send(b: unknown): unknown } } }) => {
    try {
      const body = replay.query(req.query as Record<string, string | undefined>, Date.now(), namespace);
      return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(body));
    } catch (err) {
      if (!(err instanceof FlowQueryError)) throw err;
      const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'BadRequest', code: 400, details: { causes: [{ field: err.parameter, message: err.message }] } };
      return reply.code(400).header('content-type', 'application/json').send(JSON.stringify(status));
    }
  };
  app.get(`${FLOWS_PATH}/flowlogs`, (req, reply) => handler(undefined)(req, reply));
  app.get(`${FLOWS_PATH}/namespaces/:ns/flowlogs`, (req, reply) => handler((req.params as { ns: string }).ns)(req, reply));
}

function clientFor(ctx: DemoStartContext): KubeClient {
  return new KubeClient({ server: ctx.url, token: ctx.token, userAgent: 'margay-demo/0.1' });
}

/** Registers the demo's objects as the lab would: pods with their node and address (status), then the rest. */
async function registerObjects(ctx: DemoStartContext, m: DemoManifests): Promise<void> {
  const client = clientFor(ctx);
  const rank: Record<string, number> = { Namespace: 0, Tier: 1, Node: 2, Pod: 4 };
  const objects = [...m.objects].sort((a, b) => (rank[String(a.object.kind)] ?? 3) - (rank[String(b.object.kind)] ?? 3));
  for (const { object } of objects) {
    const type = findResourceTypeByKind(String(object.apiVersion), String(object.kind));
    if (type === undefined) continue;
    const meta = (object.metadata ?? {}) as JsonObject;
    const namespace = type.namespaced ? String(meta.namespace ?? 'default') : undefined;
    const { status, ...rest } = object as JsonObject;
    await client.apply(type, namespace, rest, { fieldManager: FIELD_MANAGER, force: true });
    if (status !== undefined && (object.kind === 'Pod' || object.kind === 'Node')) {
      const podStatus = object.kind === 'Pod'
        ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], podIP: (status as JsonObject).podIP, podIPs: [{ ip: (status as JsonObject).podIP }] }
        : { ...(status as JsonObject), conditions: [{ type: 'Ready', status: 'True', reason: 'DemoNode', message: 'recorded demo node' }] };
      await client.patch(type, namespace, String(meta.name), 'merge', { status: podStatus } as JsonObject, { fieldManager: FIELD_MANAGER }, 'status');
    }
  }
}

/** Sends flow logs to the real flows API as one agent batch per host (retrying on 429). */
function postFlows(ctx: DemoStartContext): (logs: FlowLog[]) => Promise<void> {
  return async (logs) => {
    const byHost = new Map<string, FlowLog[]>();
    for (const l of logs) byHost.set(l.host, [...(byHost.get(l.host) ?? []), l]);
    for (const [host, hostLogs] of byHost) {
      for (let i = 0; i < hostLogs.length; i += 500) {
        const batch = { apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host, logs: hostLogs.slice(i, i + 500), dropped: 0 };
        for (let attempt = 0; attempt < 5; attempt++) {
          const res = await fetch(`${ctx.url}${FLOWS_PATH}/flowbatches`, { method: 'POST', headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
          await res.arrayBuffer();
          if (res.status !== 429) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  };
}

/** The recording placed to end now, then one more bucket (in a loop) every bucket length. */
async function startReplay(o: DemoOptions, _ctx: DemoStartContext, r: RecordedFlows, sink: (logs: FlowLog[]) => Promise<void>): Promise<() => Promise<void>> {
  const start = Date.now();
  const initial: FlowLog[] = [];
  for (let b = 0; b < r.buckets; b++) initial.push(...bucketAt(r, b, start - (r.buckets - 1 - b) * r.bucketMs));
  await sink(initial);
  let next = r.buckets;
  let pending = Promise.resolve();
  const timer = setInterval(() => {
    const logs = bucketAt(r, next, start + (next - r.buckets + 1) * r.bucketMs);
    next++;
    pending = pending.then(() => sink(logs)).catch((err: unknown) => o.log(`demo: replaying recorded flows failed: ${err instanceof Error ? err.message : String(err)}`));
  }, r.bucketMs);
  timer.unref();
  o.log(`demo: ${initial.length} recorded flow logs loaded; one more bucket every ${r.bucketMs / 1000} s`);
  return async () => {
    clearInterval(timer);
    await pending;
  };
}

/** The live lab: two nodes, agents, and one traffic generator per source pod (and the internet). */
async function startLive(o: DemoOptions, ctx: DemoStartContext, m: DemoManifests): Promise<() => Promise<void>> {
  const dir = join(o.dataDir, 'demo-lab');
  if (loadState(dir) !== undefined) await labDown({ dir }, o.log);
  const state = await labUp({ dir, kubeconfig: ctx.kubeconfig, decoded: m.decoded, objects: m.objects as { object: JsonObject; file: string }[], builtinAgent: true }, o.log);
  const generators = startGenerators(state, o.log);
  // `up` stops on the first SIGINT/SIGTERM; a second one (a double Ctrl-C) must not kill the
  // process before the lab is down, so later ones are ignored from here on.
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  o.log(`demo: live lab ${state.id} up with ${state.pods.length} pods on ${state.nodes.length} nodes; ${generators.length} traffic generators running`);
  return async () => {
    for (const g of generators) if (g.exitCode === null) g.kill('SIGTERM');
    await labDown({ dir }, o.log);
  };
}

function startGenerators(state: LabState, log: (line: string) => void): ChildProcess[] {
  const podsOf = (end: string) => {
    const [ns, app] = end.split('/');
    return state.pods.filter((p) => p.namespace === ns && p.name.startsWith(`${app}-`));
  };
  const sources = new Map<string, { netns: string; targets: { ip: string; port: number; proto: string; everyMs: number }[] }>();
  for (const route of DEMO_TRAFFIC) {
    const from = route.from === INTERNET ? [{ key: INTERNET, netns: state.internetNetns }] : podsOf(route.from);
    const to = route.to === INTERNET ? [INTERNET_IP] : podsOf(route.to).map((p) => p.ip);
    for (const src of from) {
      const entry = sources.get(src.key) ?? { netns: src.netns, targets: [] };
      for (const ip of to) entry.targets.push({ ip, port: route.port, proto: route.proto, everyMs: Math.round((60_000 / route.perMinute) * to.length) });
      sources.set(src.key, entry);
    }
  }
  const children: ChildProcess[] = [];
  for (const [key, { netns, targets }] of sources) {
    // Only ever inside the lab's own namespaces (src/lab's safety rule).
    if (!netns.startsWith('mgy-')) continue;
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, GENERATOR, JSON.stringify(targets)], { stdio: 'ignore' });
    child.on('error', (err) => log(`demo: traffic generator for ${key}: ${err.message}`));
    children.push(child);
  }
  return children;
}
