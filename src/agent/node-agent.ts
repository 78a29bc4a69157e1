// The node agent's core: API objects in (decoded, de-duplicated), the calc engine for one node,
// the recorded calc state out to a data plane in Felix's two phases, batched with a bounded delay.
// No sockets or processes here: the informers, nft and the Node annotation are wired in run.ts,
// and timers are injected so tests control time.
import { bugText, formatProblem, isUserError, type UserError } from '../errors/index.js';
import { decodeObject, type Resource } from '../resources/index.js';
import { CalcEngine, CalcStateRecorder, canonicalJson, localToNode, resourceRef, type CalcState, type ResourceRef } from '../calc/index.js';

/** What the agent needs of a data plane (NftApplier has it; tests pass a fake). */
export interface AgentDataplane {
  onUpdate(state: CalcState): void;
  apply(): Promise<{ readonly ok: true; readonly wrote: boolean } | { readonly ok: false; readonly error: string }>;
  resync(): Promise<{ readonly ok: true; readonly drift: boolean } | { readonly ok: false; readonly error: string }>;
  /** Whether a write left objects nothing names any more (deleted later, when quiet). */
  hasGarbage?(): boolean;
  collectGarbage?(): Promise<{ readonly ok: true; readonly wrote: boolean } | { readonly ok: false; readonly error: string }>;
}

/** Quiet time after the last flush before unreferenced objects are deleted. */
const GARBAGE_QUIET_MS = 300;

export interface AgentTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: AgentTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/** One successful flush: the revision the data plane now reflects, and where the time went. */
export interface AppliedReport {
  readonly revision: string;
  readonly wrote: boolean;
  readonly calcMs: number;
  readonly renderMs: number;
  readonly applyMs: number;
  /** From the first change of the batch to the end of the apply. */
  readonly latencyMs: number;
  readonly changes: number;
}

export interface NodeAgentOptions {
  readonly node: string;
  readonly dataplane: AgentDataplane;
  readonly log: (line: string) => void;
  /**
   * Flushes at most once per this many ms (default 20): a change after a quiet period is applied
   * at once; changes arriving within batchMs of the last flush wait for the next batch.
   */
  readonly batchMs?: number;
  /** Retry delay after a failed apply (default 1000 ms). */
  readonly retryMs?: number;
  readonly timers?: AgentTimers;
  readonly onApplied?: (report: AppliedReport) => void;
}

/** The engine's output recorded as a CalcState, with rejected resources logged. */
class AgentRecorder extends CalcStateRecorder {
  constructor(private readonly log: (line: string) => void) {
    super();
  }

  onResourceRejected(ref: ResourceRef, error: UserError): void {
    this.log(`rejected ${refText(ref)}: ${error.problems.map(formatProblem).join('; ')}`);
  }
}

function refText(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace !== undefined ? `${ref.namespace}/` : ''}${ref.name}`;
}

type JsonLike = Record<string, unknown>;

function metaOf(o: JsonLike): JsonLike {
  const m = o.metadata;
  return m !== null && typeof m === 'object' ? (m as JsonLike) : {};
}

function objectId(o: JsonLike): string {
  const m = metaOf(o);
  return `${String(o.apiVersion)} ${String(o.kind)} ${typeof m.namespace === 'string' ? `${m.namespace}/` : ''}${String(m.name)}`;
}

/** An object's JSON without its version, field managers and `margay.io/` annotations (agents write those). */
function withoutEchoes(o: JsonLike): string {
  const { resourceVersion: _rv, managedFields: _mf, annotations, ...meta } = metaOf(o);
  const kept = Object.entries((annotations ?? {}) as JsonLike).filter(([k]) => !k.startsWith('margay.io/'));
  return canonicalJson({ ...o, metadata: { ...meta, annotations: Object.fromEntries(kept) } });
}

/** Compares resourceVersions: numeric when both are (this API's store), else as strings. */
export function revisionAtLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a >= b;
}

export class NodeAgent {
  private readonly recorder: AgentRecorder;
  private readonly engine: CalcEngine;
  private readonly timers: AgentTimers;
  private readonly batchMs: number;
  private readonly retryMs: number;
  /** Canonical JSON of each object as fed to the engine, to drop updates that change nothing for it. */
  private readonly fed = new Map<string, { ref: ResourceRef; canonical: string }>();
  /** Each object as received, less what agents write themselves (to tell their own echoes apart). */
  private readonly raw = new Map<string, string>();
  private revision: string | undefined;
  private synced = false;
  private stopped = false;
  private timer: unknown;
  private gcTimer: unknown;
  private flushing: Promise<void> | undefined;
  /** Changes not yet flushed (and when the first arrived). */
  private pending = 0;
  private firstChangeAt: number | undefined;
  private renderDirty = false;
  private lastFlushEnd = -Infinity;
  private appliedRevision: string | undefined;
  readonly counts = { objects: 0, skipped: 0, rejected: 0, flushes: 0, writes: 0, failures: 0 };

  constructor(private readonly o: NodeAgentOptions) {
    this.recorder = new AgentRecorder(o.log);
    this.engine = new CalcEngine({ isLocal: localToNode(o.node), callbacks: this.recorder });
    this.timers = o.timers ?? realTimers;
    this.batchMs = o.batchMs ?? 20;
    this.retryMs = o.retryMs ?? 1000;
  }

  /** The revision the data plane reflects (after the last successful flush). */
  get applied(): string | undefined {
    return this.appliedRevision;
  }

  get state(): CalcState {
    return this.recorder.state;
  }

  /** An object was added or changed in the API. Bad objects are logged and treated as absent. */
  onUpsert(object: JsonLike): void {
    this.noteRevision(object);
    this.counts.objects++;
    const id = objectId(object);
    let resource: Resource;
    try {
      resource = decodeObject(object, { file: `api ${id}`, document: 1 });
    } catch (err) {
      this.counts.rejected++;
      this.o.log(`rejected ${id}: ${isUserError(err) ? err.problems.map(formatProblem).join('; ') : String(err)}`);
      this.remove(id);
      return;
    }
    const canonical = canonicalJson(resource);
    const raw = withoutEchoes(object);
    const rawChanged = this.raw.get(id) !== raw;
    this.raw.set(id, raw);
    if (this.fed.get(id)?.canonical === canonical) {
      this.counts.skipped++;
      // Nothing for the engine. A real write elsewhere in the object (a Node's status) still gets
      // its revision reported, by an apply that writes nothing; an agent's own annotation does not
      // (reporting it would write the Node again, forever).
      if (rawChanged) this.touch();
      return;
    }
    try {
      this.engine.onUpdate({ type: 'upsert', resource });
    } catch (err) {
      this.counts.rejected++;
      this.o.log(`rejected ${id}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.fed.set(id, { ref: resourceRef(resource), canonical });
    this.changed();
  }

  onDelete(object: JsonLike): void {
    this.noteRevision(object);
    this.counts.objects++;
    this.remove(objectId(object));
  }

  /** Every watched kind has a complete list: from now on the engine's state may be applied. */
  onSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.renderDirty = true;
    this.firstChangeAt ??= this.timers.now();
    this.schedule(0);
  }

  /** Something outside the API changed how the state renders (e.g. the pod-interface map). */
  onRenderInputsChanged(): void {
    this.renderDirty = true;
    this.firstChangeAt ??= this.timers.now();
    this.schedule(this.batchDelay());
  }

  /** Applies what is pending now (also what the batch timer calls). */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing.then(() => this.flush());
    this.clearTimer();
    if (!this.synced || this.stopped) return Promise.resolve();
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
      this.lastFlushEnd = this.timers.now();
      if ((this.pending > 0 || this.renderDirty) && !this.stopped) this.schedule(this.batchMs);
      this.scheduleGarbage();
    });
    return this.flushing;
  }

  /**
   * Deleting sets and chains costs the kernel an RCU grace period per transaction, so a change
   * leaves unreferenced objects in place and they go in a transaction of their own once the
   * node has been quiet for GARBAGE_QUIET_MS (any change first waits for it, ~15-30 ms, rarely).
   */
  private scheduleGarbage(): void {
    if (this.stopped || this.o.dataplane.hasGarbage?.() !== true) return;
    if (this.gcTimer !== undefined) this.timers.clearTimeout(this.gcTimer);
    this.gcTimer = this.timers.setTimeout(() => {
      this.gcTimer = undefined;
      if (this.stopped) return;
      if (this.flushing !== undefined || this.pending > 0 || this.renderDirty) {
        this.scheduleGarbage();
        return;
      }
      const collect = this.o.dataplane.collectGarbage;
      if (collect === undefined) return;
      this.flushing = collect.call(this.o.dataplane).then(
        (r) => {
          if (r.ok) return;
          this.o.log(`deleting unreferenced objects failed; rewriting the table: ${r.error}`);
          this.renderDirty = true;
        },
        () => undefined,
      ).finally(() => {
        this.flushing = undefined;
        if ((this.pending > 0 || this.renderDirty) && !this.stopped) this.schedule(this.batchDelay());
      });
    }, GARBAGE_QUIET_MS);
  }

  /** Periodic repair: the data plane compares the kernel with what it wrote (no write when equal). */
  async resync(): Promise<void> {
    if (!this.synced || this.stopped) return;
    await this.flushing;
    const t0 = this.timers.now();
    const r = await this.o.dataplane.resync().catch((err: unknown) => ({ ok: false as const, error: bugText(err) }));
    if (!r.ok) this.o.log(`resync failed: ${r.error}`);
    else if (r.drift) this.o.log(`resync repaired drift in ${(this.timers.now() - t0).toFixed(1)} ms`);
  }

  /** Stops scheduling; waits for an apply in flight. The data plane keeps what it holds (fail closed). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    if (this.gcTimer !== undefined) this.timers.clearTimeout(this.gcTimer);
    this.gcTimer = undefined;
    await this.flushing;
  }

  private async doFlush(): Promise<void> {
    const revision = this.revision ?? '0';
    const changes = this.pending;
    const started = this.firstChangeAt ?? this.timers.now();
    this.pending = 0;
    this.firstChangeAt = undefined;
    this.renderDirty = false;
    this.counts.flushes++;
    const t0 = this.timers.now();
    let t1 = t0;
    let t2 = t0;
    let r: Awaited<ReturnType<AgentDataplane['apply']>>;
    try {
      this.engine.flush();
      t1 = this.timers.now();
      this.o.dataplane.onUpdate(this.recorder.state);
      t2 = this.timers.now();
      r = await this.o.dataplane.apply();
    } catch (err) {
      // A throw here is a bug, not a verdict: treat it as a failed apply (retried) so the agent lives on.
      r = { ok: false, error: bugText(err) };
    }
    const t3 = this.timers.now();
    if (!r.ok) {
      this.counts.failures++;
      this.o.log(`apply failed (retrying in ${this.retryMs} ms): ${r.error}`);
      this.renderDirty = true;
      this.firstChangeAt = started;
      this.clearTimer();
      this.timer = this.timers.setTimeout(() => void this.flush(), this.retryMs);
      return;
    }
    if (r.wrote) this.counts.writes++;
    this.appliedRevision = revision;
    const report: AppliedReport = { revision, wrote: r.wrote, calcMs: t1 - t0, renderMs: t2 - t1, applyMs: t3 - t2, latencyMs: t3 - started, changes };
    this.o.log(
      `applied revision ${revision}: ${changes} changes, ${r.wrote ? 'wrote' : 'no change to'} the ruleset; calc ${report.calcMs.toFixed(1)} ms, render ${report.renderMs.toFixed(1)} ms, nft ${report.applyMs.toFixed(1)} ms, ${report.latencyMs.toFixed(1)} ms since the first change`,
    );
    this.o.onApplied?.(report);
  }

  private remove(id: string): void {
    const fed = this.fed.get(id);
    if (fed === undefined) return;
    this.fed.delete(id);
    this.raw.delete(id);
    this.engine.onUpdate({ type: 'delete', ref: fed.ref });
    this.changed();
  }

  private noteRevision(object: JsonLike): void {
    const rv = metaOf(object).resourceVersion;
    if (typeof rv === 'string' && rv !== '' && !revisionAtLeast(this.revision, rv)) this.revision = rv;
  }

  private changed(): void {
    this.pending++;
    this.touch();
  }

  /** Asks for a flush (and so a report of the current revision) within the batch delay. */
  private touch(): void {
    this.renderDirty = true;
    this.firstChangeAt ??= this.timers.now();
    this.schedule(this.batchDelay());
  }

  /**
   * Leading edge: after a quiet batchMs the change goes out at once (a lone policy write should
   * not wait for a batch that never fills); within batchMs of the last flush it waits, so a storm
   * still costs one flush per batchMs.
   */
  private batchDelay(): number {
    return Math.max(0, this.lastFlushEnd + this.batchMs - this.timers.now());
  }

  /** Arms the batch timer unless one is armed or a flush runs (it re-arms when it ends). */
  private schedule(ms: number): void {
    if (!this.synced || this.stopped || this.flushing !== undefined || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
