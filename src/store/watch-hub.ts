// Watch delivery shared by every backend: each watcher has its own queue, drained on a later
// turn so a slow or throwing handler never runs inside a write and never sees an event before
// `watch()` has resolved. The in-process fan-out (memory, SQLite) is a set of such queues.
import { parseValue } from './keys.js';
import type { Disposable, WatchEvent, WatchEventType, WatchOptions } from './types.js';

/** A change as the backends record it; the value stays JSON text until delivery. */
export interface RecordedEvent {
  readonly type: WatchEventType;
  readonly key: string;
  /** The new value, or for DELETED the last value. */
  readonly json: string;
  readonly revision: number;
}

type Entry = RecordedEvent | { readonly error: Error };

/** One watcher's ordered delivery; after `dispose()` nothing more is delivered. */
export class WatchQueue implements Disposable {
  private queue: Entry[] = [];
  private next = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private ended = false;

  constructor(
    private readonly handlers: Pick<WatchOptions, 'onEvent' | 'onError'>,
    private readonly onDisposed: () => void,
  ) {}

  get disposed(): boolean {
    return this.ended;
  }

  push(event: RecordedEvent): void {
    this.enqueue(event);
  }

  /** Ends the watch with `error` once the events queued before it are delivered. */
  fail(error: Error): void {
    this.enqueue({ error });
  }

  dispose(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.onDisposed();
  }

  private enqueue(entry: Entry): void {
    if (this.ended) return;
    this.queue.push(entry);
    this.scheduled ??= setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = undefined;
    while (!this.ended && this.next < this.queue.length) {
      const entry = this.queue[this.next++]!;
      if ('error' in entry) {
        this.dispose();
        this.handlers.onError(entry.error);
        return;
      }
      const event: WatchEvent = { type: entry.type, key: entry.key, value: parseValue(entry.key, entry.json), revision: entry.revision };
      try {
        this.handlers.onEvent(event);
      } catch (err) {
        // A handler that throws has lost track of the stream: end the watch rather than skip.
        this.dispose();
        this.handlers.onError(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
    this.queue = [];
    this.next = 0;
  }
}

/** In-process fan-out for the backends that own their data. */
export class WatchHub {
  private readonly watchers = new Map<WatchQueue, string>();

  /** Registers a watcher of `dir` that first receives `replay` (in revision order), then live events. */
  subscribe(dir: string, replay: Iterable<RecordedEvent>, options: WatchOptions): Disposable {
    const queue: WatchQueue = new WatchQueue(options, () => this.watchers.delete(queue));
    for (const event of replay) queue.push(event);
    this.watchers.set(queue, dir);
    return queue;
  }

  publish(event: RecordedEvent): void {
    for (const [queue, dir] of this.watchers) {
      if (event.key.startsWith(dir)) queue.push(event);
    }
  }

  /** Number of live watchers (for leak checks in tests). */
  get size(): number {
    return this.watchers.size;
  }

  disposeAll(): void {
    for (const queue of [...this.watchers.keys()]) queue.dispose();
  }
}
