// One store watch for the whole registry, fanned out to every HTTP watcher (the apiserver's watch
// cache, in small). It keeps the latest value of every key, so a filtered watch can turn "stopped
// matching" into DELETED and "started matching" into ADDED, and a window of recent events, so a
// watcher resuming from a recent resourceVersion is served from memory. Older resumes fall back
// to a direct store watch, which answers GoneError when history is compacted.
import type { Disposable, Store, WatchEvent } from '../store/index.js';

export const REGISTRY_PREFIX = '/registry/';

export interface HubEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly value: Readonly<Record<string, unknown>>;
  /** The key's value before this event (undefined when it did not exist or is unknown). */
  readonly previous: Readonly<Record<string, unknown>> | undefined;
  readonly revision: number;
  /** Per-event memo for serialised forms shared by every watcher (e.g. the JSON line). */
  readonly memo: Map<string, string>;
}

export interface Subscriber {
  readonly prefix: string;
  readonly fromRevision: number;
  onEvent(event: HubEvent): void;
  /** The watch can no longer continue (history lost, backend failed). */
  onError(error: Error): void;
}

interface Live {
  sub: Subscriber;
  closed: boolean;
}

export interface WatchHubOptions {
  /** How many recent events to keep for resuming watchers. */
  readonly historySize?: number;
  readonly log?: (message: string) => void;
}

export class WatchHub {
  private readonly subscribers = new Set<Live>();
  private readonly state = new Map<string, Readonly<Record<string, unknown>>>();
  private history: HubEvent[] = [];
  /** Every event with revision > coveredFrom is in `history` (or was delivered before any subscriber). */
  private coveredFrom = 0;
  private revision = 0;
  private storeWatch: Disposable | undefined;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly historySize: number;
  private readonly log: (message: string) => void;
  private startPromise: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    options: WatchHubOptions = {},
  ) {
    this.historySize = options.historySize ?? 10_000;
    this.log = options.log ?? (() => undefined);
  }

  /** The newest revision the hub has seen (for bookmarks). */
  get latestRevision(): number {
    return this.revision;
  }

  get watcherCount(): number {
    return this.subscribers.size;
  }

  start(): Promise<void> {
    this.startPromise ??= this.connect();
    return this.startPromise;
  }

  private async connect(): Promise<void> {
    const listed = await this.store.list({ prefix: REGISTRY_PREFIX });
    let items = [...listed.items];
    let cont = listed.continue;
    while (cont !== undefined) {
      const page = await this.store.list({ prefix: REGISTRY_PREFIX, continue: cont });
      items = items.concat(page.items);
      cont = page.continue;
    }
    this.state.clear();
    for (const item of items) this.state.set(item.key, item.value);
    this.revision = Math.max(this.revision, listed.revision);
    this.coveredFrom = listed.revision;
    this.history = [];
    this.storeWatch = await this.store.watch({
      prefix: REGISTRY_PREFIX,
      fromRevision: listed.revision,
      onEvent: (e) => this.onStoreEvent(e),
      onError: (err) => this.onStoreError(err),
    });
  }

  private onStoreEvent(e: WatchEvent): void {
    if (this.closed) return;
    const previous = this.state.get(e.key);
    if (e.type === 'DELETED') this.state.delete(e.key);
    else this.state.set(e.key, e.value);
    if (e.revision > this.revision) this.revision = e.revision;
    const event: HubEvent = { type: e.type, key: e.key, value: e.value, previous, revision: e.revision, memo: new Map() };
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.coveredFrom = dropped[dropped.length - 1]?.revision ?? this.coveredFrom;
    }
    for (const live of this.subscribers) {
      if (live.closed || e.revision <= live.sub.fromRevision || !e.key.startsWith(live.sub.prefix)) continue;
      try {
        live.sub.onEvent(event);
      } catch (err) {
        this.log(`watcher failed on an event: ${String(err)}`);
      }
    }
  }

  private onStoreError(err: Error): void {
    if (this.closed) return;
    this.log(`registry watch ended: ${err.message}; watchers will relist`);
    this.storeWatch = undefined;
    // Events may be lost: end every watcher (they resume or relist) and reconnect from scratch.
    const ended = [...this.subscribers];
    this.subscribers.clear();
    for (const live of ended) {
      live.closed = true;
      live.sub.onError(err);
    }
    this.startPromise = undefined;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closed) this.start().catch((e: unknown) => this.onStoreError(e instanceof Error ? e : new Error(String(e))));
    }, 1000);
    this.restartTimer.unref();
  }

  /** Can a watch from `revision` be served from memory? */
  covers(revision: number): boolean {
    return this.storeWatch !== undefined && revision >= this.coveredFrom;
  }

  /**
   * Subscribes from `sub.fromRevision`: replays remembered events after it, then delivers live
   * ones. Returns undefined when the hub's window does not reach back that far.
   */
  subscribe(sub: Subscriber): Disposable | undefined {
    if (!this.covers(sub.fromRevision)) return undefined;
    const live: Live = { sub, closed: false };
    // Replay and registration happen in one synchronous step, so no event slips between them.
    for (const event of this.history) {
      if (event.revision > sub.fromRevision && event.key.startsWith(sub.prefix)) sub.onEvent(event);
    }
    this.subscribers.add(live);
    return {
      dispose: () => {
        live.closed = true;
        this.subscribers.delete(live);
      },
    };
  }

  /** Iterates the current value of every key under `prefix` (as of latestRevision). */
  *current(prefix: string): Iterable<[string, Readonly<Record<string, unknown>>]> {
    for (const entry of this.state) if (entry[0].startsWith(prefix)) yield entry;
  }

  /** Ends all watchers and the store watch. */
  close(): void {
    this.closed = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.storeWatch?.dispose();
    this.storeWatch = undefined;
    for (const live of this.subscribers) live.closed = true;
    this.subscribers.clear();
  }
}
