// The nftables data plane in Felix's two phases: `onUpdate(state)` records the desired ruleset
// (rendered to a model, no I/O); `apply()` writes it in one `nft -f -` transaction — a delta
// from what was last written, or the full atomic replace the first time and after any failure.
// `resync()` reads the table back and repairs drift, writing nothing when nothing drifted.
// Writes, garbage collection, resync and removal run one at a time: a resync that read the table
// while an apply wrote it would take that write for drift.
import type { CalcState } from '../calc/index.js';
import {
  deltaText,
  programText,
  renderModel,
  repairText,
  RuleIdRegistry,
  ruleIdsInRules,
  shortHash,
  withGarbage,
  type RenderOptions,
  type RuleIdSnapshot,
  type RulesetModel,
} from '../dataplane/index.js';
import { nftRunner, type NftRunner } from './runner.js';

export interface NftApplierOptions {
  readonly render: RenderOptions;
  /** Network namespace to program (`ip netns exec NAME nft …`); default: the current one. */
  readonly netns?: string;
  readonly runner?: NftRunner;
}

export interface NftApplierStats {
  /** `nft -f` transactions that changed the ruleset (applies and repairs). */
  writes: number;
  failures: number;
  repairs: number;
  reads: number;
}

/**
 * What a restarted agent needs to adopt the table it left without writing it again: the rule
 * ids it had given out (so the same state renders the same text), a hash of the program it last
 * wrote and a hash of the table as read back after that write (anything changed while no agent
 * ran shows as a different read-back, and is then replaced whole).
 */
export interface AdoptionRecord {
  readonly version: 1;
  readonly table: string;
  readonly program: string;
  readonly readback: string;
  readonly ruleIds: RuleIdSnapshot;
}

export type ApplyResult = { readonly ok: true; readonly wrote: boolean } | { readonly ok: false; readonly error: string };

export type ResyncResult =
  | { readonly ok: true; readonly drift: false }
  | { readonly ok: true; readonly drift: true; readonly repaired: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** A table's content as nft lists it, without handles: per object name, canonical JSON. */
type Readback = Map<string, string>;

type ReadResult = { readonly ok: true; readonly value: Readback } | { readonly ok: false };

/** A resync's read-back taken outside the queue, with the write generation it saw. */
interface EarlyRead {
  readonly gen: number;
  readonly back: ReadResult;
}

/** Quiet time after a write before reading the table back (drift detection's reference). */
const READBACK_DELAY_MS = 250;
/** Unreferenced objects left by changes are deleted when quiet, or with the next write after this. */
const MAX_GARBAGE_AGE_MS = 5_000;

export class NftApplier {
  readonly stats: NftApplierStats = { writes: 0, failures: 0, repairs: 0, reads: 0 };
  readonly ruleIds: RuleIdRegistry;
  private readonly run: NftRunner;
  private readonly render: RenderOptions;
  private desired: RulesetModel | undefined;
  /** What the kernel holds as far as we know; undefined = unknown (write the full program). */
  private applied: RulesetModel | undefined;
  /** The table as read back right after our last write: what resync compares against. */
  private expected: Readback | undefined;
  /**
   * The read-back after a write runs in the background (it used to double the time before an
   * apply returned and the agent could report); resync waits for it. `writeGen` tells a read
   * that raced a later write, which is then dropped (that write's own read replaces it).
   */
  private pendingRead: Promise<void> | undefined;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private writeGen = 0;
  /** A previous process's record, until the first apply decides whether to adopt. */
  private adoptable: AdoptionRecord | undefined;
  /** Since when the kernel holds objects the desired state no longer names (see withGarbage). */
  private garbageSince: number | undefined;
  /** Called with a fresh record each time a write's read-back is in (to persist it). */
  onRecord: ((record: AdoptionRecord) => void) | undefined;
  /** The tail of the queue of table operations (see exclusive). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: NftApplierOptions) {
    this.ruleIds = options.render.ruleIds ?? new RuleIdRegistry();
    this.render = { ...options.render, ruleIds: this.ruleIds };
    this.run = options.runner ?? nftRunner(options.netns !== undefined ? { netns: options.netns } : {});
  }

  get tableName(): string {
    return this.render.tableName;
  }

  /** Records the desired state. No I/O; the state may be mutated after this returns. */
  onUpdate(state: CalcState): void {
    this.desired = renderModel(state, this.render);
  }

  /** True while the kernel may differ from the desired state (garbage aside). */
  get dirty(): boolean {
    return this.desired !== undefined && (this.applied === undefined || deltaText(this.applied, this.target(this.desired)) !== '');
  }

  /** The program `apply()` would write now ('' when nothing). */
  pendingText(): string {
    if (this.desired === undefined) return '';
    return this.applied === undefined ? programText(this.desired) : deltaText(this.applied, this.target(this.desired));
  }

  /**
   * What a write leaves in the kernel: the desired state, plus (for a while) the objects it no
   * longer names, so deletions and their RCU waits stay off the path of a policy change.
   */
  private target(desired: RulesetModel): RulesetModel {
    if (this.applied === undefined) return desired;
    const fresh = this.garbageSince === undefined || performance.now() - this.garbageSince < MAX_GARBAGE_AGE_MS;
    return fresh ? withGarbage(this.applied, desired) : desired;
  }

  /** The kernel's content is unknown: the next apply writes the full program. */
  private forget(): void {
    this.applied = undefined;
    this.garbageSince = undefined;
  }

  /** Whether the kernel holds objects the desired state no longer names. */
  hasGarbage(): boolean {
    return this.garbageSince !== undefined;
  }

  /** Deletes what the desired state no longer names (one transaction); call when quiet. */
  collectGarbage(): Promise<ApplyResult> {
    return this.exclusive(() => this.collectGarbageNow());
  }

  private async collectGarbageNow(): Promise<ApplyResult> {
    const desired = this.desired;
    if (this.applied === undefined || desired === undefined || this.garbageSince === undefined) return { ok: true, wrote: false };
    const error = await this.write(deltaText(this.applied, desired));
    if (error !== undefined) return { ok: false, error };
    this.applied = desired;
    this.garbageSince = undefined;
    this.expectAfterWrite();
    return { ok: true, wrote: true };
  }

  /**
   * Writes the desired state in one transaction. A failed delta leaves the state dirty and the
   * kernel's content unknown, so the next attempt writes the full program (up to `attempts`).
   */
  apply(attempts = 2): Promise<ApplyResult> {
    return this.exclusive(() => this.applyNow(attempts));
  }

  private async applyNow(attempts = 2): Promise<ApplyResult> {
    if (this.adoptable !== undefined && this.desired !== undefined) {
      const record = this.adoptable;
      this.adoptable = undefined;
      if (await this.adopt(record, this.desired)) return { ok: true, wrote: false };
    }
    let error = '';
    for (let i = 0; i < attempts; i++) {
      const desired = this.desired;
      if (desired === undefined) return { ok: true, wrote: false };
      const target = this.target(desired);
      const text = this.applied === undefined ? programText(desired) : deltaText(this.applied, target);
      if (text === '') return { ok: true, wrote: false };
      const failed = await this.write(text);
      if (failed === undefined) {
        this.applied = this.applied === undefined ? desired : target;
        if (this.applied === desired) this.garbageSince = undefined;
        else this.garbageSince ??= performance.now();
        this.ruleIds.retain(usedRuleIds(desired));
        this.expectAfterWrite();
        return { ok: true, wrote: true };
      }
      error = failed;
    }
    return { ok: false, error };
  }

  /**
   * Reads the table back and compares it with what the last write left. Equal: no write.
   * Missing or structurally different (objects added or removed): the full program. Otherwise
   * only the chains, sets and maps whose content drifted are flushed and refilled.
   */
  resync(): Promise<ResyncResult> {
    return this.readForResync().then((early) => this.exclusive(() => this.resyncNow(early)));
  }

  /**
   * The table read outside the queue, so the read (tens of ms on a large table) never holds up a
   * policy change. It counts only if the generation is unchanged when the queue reaches the
   * resync: every write (done or failed) moves `writeGen`, and a write that overlapped the read
   * was queued before the resync, so it has moved the generation by then.
   */
  private async readForResync(): Promise<EarlyRead | undefined> {
    await this.settled();
    if (this.applied === undefined || this.expected === undefined) return undefined;
    const gen = this.writeGen;
    const back = await this.readback();
    return { gen, back };
  }

  private async resyncNow(early?: EarlyRead): Promise<ResyncResult> {
    await this.settled();
    if (this.applied !== undefined && this.expected === undefined) {
      // The read after the last write was lost (it raced another write): take the table as it is now.
      const back = await this.readback();
      if (back.ok) this.expected = back.value;
    }
    if (this.applied === undefined || this.expected === undefined) {
      const r = await this.applyNow();
      return r.ok ? (r.wrote ? { ok: true, drift: true, repaired: ['table'] } : { ok: true, drift: false }) : r;
    }
    // Held here: the comparison must use what the last write left, whatever awaits come between.
    const expected = this.expected;
    const model = this.applied;
    const back = early !== undefined && early.gen === this.writeGen ? early.back : await this.readback();
    if (!back.ok) {
      this.forget(); // the table is gone or unreadable: rewrite it whole
      const r = await this.applyNow();
      if (r.ok) this.stats.repairs++;
      return r.ok ? { ok: true, drift: true, repaired: ['table'] } : r;
    }
    const now = back.value;
    const changed = [...new Set([...expected.keys(), ...now.keys()])].filter((k) => expected.get(k) !== now.get(k)).sort();
    if (changed.length === 0) return { ok: true, drift: false };
    const structural = changed.some((k) => !expected.has(k) || !now.has(k) || k.startsWith('table:'));
    const pick = (kind: string) => changed.filter((k) => k.startsWith(kind + ':')).map((k) => k.slice(kind.length + 1));
    const text = structural ? programText(model) : repairText(model, pick('chain'), pick('set'), pick('map'));
    const failed = await this.write(text);
    if (failed !== undefined) return { ok: false, error: failed };
    this.stats.repairs++;
    this.writeGen++;
    const again = await this.readback();
    this.expected = again.ok ? again.value : undefined;
    return { ok: true, drift: true, repaired: changed };
  }

  /**
   * Takes a previous process's record: its rule ids from now on (call before the first render),
   * and, at the first apply, adoption of the table without a write when it is exactly what that
   * process left and what this one would write.
   */
  restore(record: AdoptionRecord): void {
    if (record.version !== 1 || record.table !== this.tableName) return;
    this.ruleIds.load(record.ruleIds);
    this.adoptable = record;
  }

  private async adopt(record: AdoptionRecord, desired: RulesetModel): Promise<boolean> {
    if (shortHash(programText(desired)) !== record.program) return false;
    const back = await this.readback();
    if (!back.ok || readbackHash(back.value) !== record.readback) return false;
    this.applied = desired;
    this.expected = back.value;
    this.ruleIds.retain(usedRuleIds(desired));
    return true;
  }

  /** Deletes the table (the agent's uninstall; a dying agent leaves it in place, fail closed). */
  remove(): Promise<void> {
    return this.exclusive(() => this.removeNow());
  }

  private async removeNow(): Promise<void> {
    await this.settled();
    this.writeGen++;
    await this.run(['-f', '-'], `table inet ${this.tableName}\ndelete table inet ${this.tableName}\n`);
    this.forget();
    this.expected = undefined;
  }

  /**
   * Schedules the read-back of what a write left, after a quiet READBACK_DELAY_MS: a read right
   * after a write competed (CPU, the nft lock) with the next write of a burst and made its tail
   * slow. A later write restarts the wait; only the last write's state is read.
   */
  private expectAfterWrite(): void {
    const gen = ++this.writeGen;
    this.expected = undefined;
    if (this.readTimer !== undefined) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.startRead(gen), READBACK_DELAY_MS);
    this.readTimer.unref?.();
  }

  private startRead(gen: number): void {
    this.readTimer = undefined;
    const read: Promise<void> = this.readback()
      .then((back) => {
        if (gen !== this.writeGen) return;
        this.expected = back.ok ? back.value : undefined;
        if (back.ok && this.applied !== undefined && this.onRecord !== undefined) {
          this.onRecord({ version: 1, table: this.tableName, program: shortHash(programText(this.applied)), readback: readbackHash(back.value), ruleIds: this.ruleIds.snapshot() });
        }
      })
      .finally(() => {
        if (this.pendingRead === read) this.pendingRead = undefined;
      });
    this.pendingRead = read;
  }

  /** Runs a scheduled read-back now and waits for any in flight (resync, tests and shutdown). */
  async settled(): Promise<void> {
    if (this.readTimer !== undefined) {
      clearTimeout(this.readTimer);
      this.startRead(this.writeGen);
    }
    await this.pendingRead;
  }

  /**
   * One `nft -f` transaction: counted, and on failure the kernel's content is unknown (the next
   * apply writes the full program) and any read-back in flight is stale. The error, or undefined.
   */
  private async write(text: string): Promise<string | undefined> {
    const r = await this.run(['-f', '-'], text);
    if (r.code === 0) {
      this.stats.writes++;
      return undefined;
    }
    this.stats.failures++;
    this.writeGen++;
    this.forget();
    return r.stderr.trim() || `nft exited ${r.code}`;
  }

  /** Runs table operations one after another, whatever their callers do; a failure does not stop the queue. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readback(): Promise<ReadResult> {
    this.stats.reads++;
    const r = await this.run(['-j', 'list', 'table', 'inet', this.tableName]);
    if (r.code !== 0) return { ok: false };
    try {
      return { ok: true, value: parseReadback(r.stdout) };
    } catch {
      return { ok: false };
    }
  }
}

function usedRuleIds(m: RulesetModel): Set<number> {
  return ruleIdsInRules([...m.chains.values()].flatMap((c) => c.rules));
}

function readbackHash(r: Readback): string {
  return shortHash(JSON.stringify([...r].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** `nft -j list table` output → per object (`chain:NAME`, `set:NAME`, `map:NAME`, `table:`) canonical JSON without handles. */
export function parseReadback(json: string): Readback {
  const out = new Map<string, string>();
  const rules = new Map<string, unknown[]>();
  const parsed = JSON.parse(json) as { nftables?: Record<string, unknown>[] };
  for (const item of parsed.nftables ?? []) {
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (kind === undefined || kind === 'metainfo') continue;
    const b = stripHandles(body) as Record<string, unknown>;
    if (kind === 'rule') {
      const chain = String(b.chain);
      const list = rules.get(chain) ?? [];
      list.push(b.expr);
      rules.set(chain, list);
    } else if (kind === 'table') {
      out.set('table:', JSON.stringify(b));
    } else {
      out.set(`${kind}:${String(b.name)}`, JSON.stringify(sortElems(b)));
    }
  }
  for (const [chain, list] of rules) {
    const key = `chain:${chain}`;
    out.set(key, (out.get(key) ?? '') + JSON.stringify(list));
  }
  return out;
}

function stripHandles(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripHandles);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'handle') o[k] = stripHandles(x);
    return o;
  }
  return v;
}

/** nft lists set elements in hash order; compare them as sets. */
function sortElems(b: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(b.elem)) return b;
  return { ...b, elem: b.elem.map((e) => JSON.stringify(e)).sort() };
}
