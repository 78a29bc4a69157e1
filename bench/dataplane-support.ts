// Helpers for bench/dataplane.ts: a long-lived prober inside a lab pod's namespace (so a probe
// costs one connect, not a Node.js start), and a watch on Nodes that resolves when every node's
// agent reports a revision. Not a bench by itself (scripts/bench.mjs skips *-support).
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { KubeClient, loadKubeconfig } from '../src/client/index.js';
import { findResourceTypeByKind, type JsonObject } from '../src/api/index.js';
import { ANNOTATION_READY, ANNOTATION_REVISION, revisionAtLeast } from '../src/agent/index.js';
import { LAB_PREFIX } from '../src/lab/index.js';
import { CalcEngine, CalcStateRecorder, type CalcState } from '../src/calc/index.js';
import type { RenderOptions } from '../src/dataplane/index.js';
import { decodeManifests } from '../src/resources/index.js';

/** Wall-clock milliseconds with sub-ms precision, comparable across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface ProbeRequest {
  readonly ip: string;
  readonly port: number;
  /** The verdict to wait for: true = a TCP connect completes, false = it does not. */
  readonly expect: boolean;
  /** A new attempt starts every intervalMs (attempts overlap). */
  readonly intervalMs: number;
  /** An attempt with no connect within timeoutMs counts as denied. */
  readonly timeoutMs: number;
  /** Give up after this long (reported as matched: false). */
  readonly deadlineMs: number;
}

export interface ProbeResult {
  readonly matched: boolean;
  /**
   * Epoch ms: for an allow, when the first connect completed; for a deny, when the first attempt
   * that then got no answer sent its SYN (it is only known to be unanswered timeoutMs later).
   */
  readonly at: number;
  readonly attempts: number;
}

// CommonJS run with `node -e` inside the pod's namespace: one JSON request per stdin line, one
// JSON result per stdout line, in order.
const PROBER_CODE = String.raw`
const net = require('net');
const { performance } = require('perf_hooks');
const now = () => performance.timeOrigin + performance.now();
let queue = Promise.resolve();
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  queue = queue.then(() => run(c)).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
});
function run(c) {
  return new Promise((resolve) => {
    const t0 = now();
    const open = new Set();
    let done = false, attempts = 0, iv;
    const finish = (matched, at) => {
      if (done) return;
      done = true;
      clearInterval(iv);
      for (const s of open) s.destroy();
      resolve({ matched, at, attempts });
    };
    const one = () => {
      if (done) return;
      if (now() - t0 > c.deadlineMs) return finish(false, now());
      attempts++;
      const start = now();
      const s = net.connect({ host: c.ip, port: c.port });
      open.add(s);
      const timer = setTimeout(() => { open.delete(s); s.destroy(); if (!c.expect) finish(true, start); }, c.timeoutMs);
      s.on('connect', () => { const at = now(); clearTimeout(timer); open.delete(s); s.destroy(); if (c.expect) finish(true, at); });
      s.on('error', () => { clearTimeout(timer); open.delete(s); if (!c.expect) finish(true, start); });
    };
    iv = setInterval(one, c.intervalMs);
    one();
  });
}
`;

/** A prober process in a lab namespace (`mgy-…` only); requests are answered in order. */
export class Prober {
  private readonly child: ChildProcess;
  private readonly waiting: ((r: ProbeResult) => void)[] = [];
  private exited = false;

  constructor(netns: string) {
    if (!netns.startsWith(LAB_PREFIX)) throw new Error(`not a lab namespace: ${netns}`);
    // Raised priority: on a shared 2-core machine a starved prober would time the scheduler, not the ruleset.
    this.child = spawn('/usr/sbin/ip', ['netns', 'exec', netns, '/usr/bin/nice', '-n', '-10', process.execPath, '-e', PROBER_CODE], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w({ matched: false, at: epochMs(), attempts: 0 });
    });
    if (this.child.stdout === null) throw new Error('prober has no stdout');
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as ProbeResult));
  }

  probe(r: ProbeRequest): Promise<ProbeResult> {
    if (this.exited) return Promise.reject(new Error('the prober exited'));
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin?.write(`${JSON.stringify(r)}\n`);
    });
  }

  stop(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** The lab's API client, from its kubeconfig. */
export function labClient(kubeconfig: string): KubeClient {
  const access = loadKubeconfig(kubeconfig);
  return new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}), userAgent: 'margay-bench/0.1' });
}

interface Waiter {
  readonly revision: string | undefined;
  readonly resolve: (at: number) => void;
}

/**
 * Watches Nodes and keeps each one's agent annotations; `reached(rev)` resolves (with the epoch
 * ms of the event that completed it) once every node is ready and reports rev or later.
 */
export class NodeWatch {
  private readonly annotations = new Map<string, Record<string, string>>();
  private readonly waiters = new Set<Waiter>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly client: KubeClient, private readonly nodes: readonly string[]) {}

  async start(): Promise<void> {
    const type = findResourceTypeByKind('v1', 'Node');
    if (type === undefined) throw new Error('no Node type');
    const list = await this.client.list(type, undefined);
    for (const o of list.items) this.note(o);
    let rv = list.metadata.resourceVersion;
    this.running = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          await this.client.watch(type, undefined, { ...(rv !== undefined ? { resourceVersion: rv } : {}), timeoutSeconds: 600, signal: this.abort.signal }, (e) => {
            const v = (e.object.metadata as JsonObject | undefined)?.resourceVersion;
            if (typeof v === 'string') rv = v;
            if (e.type === 'ADDED' || e.type === 'MODIFIED') this.note(e.object);
          });
        } catch (err) {
          if (this.abort.signal.aborted) return;
          console.error(`bench: node watch failed (${String(err)}); relisting`);
          const again = await this.client.list(type, undefined);
          for (const o of again.items) this.note(o);
          rv = again.metadata.resourceVersion;
        }
      }
    })();
  }

  private note(o: JsonObject): void {
    const meta = (o.metadata ?? {}) as JsonObject;
    const name = String(meta.name);
    this.annotations.set(name, ((meta.annotations ?? {}) as Record<string, string>));
    const at = epochMs();
    for (const w of [...this.waiters]) {
      if (this.satisfied(w.revision)) {
        this.waiters.delete(w);
        w.resolve(at);
      }
    }
  }

  private satisfied(revision: string | undefined): boolean {
    return this.nodes.every((n) => {
      const a = this.annotations.get(n);
      return a !== undefined && a[ANNOTATION_READY] === 'true' && (revision === undefined || revisionAtLeast(a[ANNOTATION_REVISION], revision));
    });
  }

  /** Epoch ms when every node's agent is ready (and has applied `revision`); rejects after timeoutMs. */
  reached(revision: string | undefined, timeoutMs: number): Promise<number> {
    if (this.satisfied(revision)) return Promise.resolve(epochMs());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seen = this.nodes.map((n) => `${n}=${this.annotations.get(n)?.[ANNOTATION_REVISION] ?? '-'}`).join(' ');
        reject(new Error(`agents did not report revision ${revision ?? '(ready)'} within ${timeoutMs} ms: ${seen}`));
      }, timeoutMs);
      const waiter: Waiter = {
        revision,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiters.add(waiter);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}

// Probes a changing list of targets without pause: every round, one TCP connect to each target
// (a fresh source port each), a line per attempt out. The list is replaced by a stdin line.
const CHURN_PROBER_CODE = String.raw`
const net = require('net');
const { performance } = require('perf_hooks');
const now = () => performance.timeOrigin + performance.now();
const [intervalMs, timeoutMs] = process.argv.slice(1).map(Number);
let targets = [];
require('readline').createInterface({ input: process.stdin }).on('line', (line) => { targets = JSON.parse(line); });
function one(t) {
  const start = now();
  const s = net.connect({ host: t.ip, port: t.port });
  let done = false;
  const end = (ok) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); process.stdout.write(JSON.stringify({ ip: t.ip, ok, start, end: now() }) + '\n'); };
  const timer = setTimeout(() => end(false), timeoutMs);
  s.on('connect', () => end(true));
  s.on('error', () => end(false));
}
setInterval(() => { for (const t of targets) one(t); }, intervalMs);
`;

export interface ChurnAttempt {
  readonly ip: string;
  readonly ok: boolean;
  /** Epoch ms the connect started and ended. */
  readonly start: number;
  readonly end: number;
}

/** A continuous prober in a lab pod's namespace; `onAttempt` sees every result. */
export class ChurnProber {
  private readonly child: ChildProcess;

  constructor(netns: string, intervalMs: number, timeoutMs: number, onAttempt: (a: ChurnAttempt) => void) {
    if (!netns.startsWith(LAB_PREFIX)) throw new Error(`not a lab namespace: ${netns}`);
    this.child = spawn('/usr/sbin/ip', ['netns', 'exec', netns, '/usr/bin/nice', '-n', '-10', process.execPath, '-e', CHURN_PROBER_CODE, String(intervalMs), String(timeoutMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    if (this.child.stdout === null) throw new Error('prober has no stdout');
    createInterface({ input: this.child.stdout }).on('line', (line) => onAttempt(JSON.parse(line) as ChurnAttempt));
  }

  setTargets(targets: readonly { ip: string; port: number }[]): void {
    this.child.stdin?.write(`${JSON.stringify(targets)}\n`);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** The two-pod benches' interfaces: the server and client pods' host-side veths. */
export const POD_IFACES: Readonly<Record<'server' | 'client', string>> = { server: 'mgyserver', client: 'mgyclient' };

/** Render options for those benches (their table, their interfaces). */
export const BENCH_RENDER: RenderOptions = { tableName: 'margay', podInterfacePrefix: 'mgy', logGroup: 1, interfaceOf: (e) => (POD_IFACES as Record<string, string>)[e.name] };

/** The calc engine's state for a cluster given as YAML documents. */
export function calcStateOf(docs: readonly string[]): CalcState {
  const recorder = new CalcStateRecorder();
  const engine = new CalcEngine({ callbacks: recorder });
  engine.onUpdates(decodeManifests(docs.join('\n---\n'), 'bench.yaml').map((d) => ({ type: 'upsert' as const, resource: d.resource })));
  engine.flush();
  return recorder.state;
}

/** The two-pod benches' cluster: namespace `app`, pods `server` and `client` on one node. */
export function twoPodDocs(server: string, client: string): string[] {
  const pod = (name: string, ip: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: app, labels: {role: ${name}}}\nspec: {nodeName: n1, containers: [{name: c}]}\nstatus: {podIP: ${ip}}`;
  return ['apiVersion: v1\nkind: Namespace\nmetadata: {name: app}', pod('server', server), pod('client', client)];
}
