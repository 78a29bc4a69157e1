// A list+watch cache of one resource type (client-go's informer, in small): list, then watch
// from the list's resourceVersion; resume the watch from the last seen version when the stream
// ends; relist when the server answers 410 (history compacted); back off exponentially while the
// server is unreachable. Handlers see every change once, in order, against a consistent cache.
import type { JsonObject, ResourceType } from '../api/index.js';
import { KubeApiError, type KubeClient } from './rest-client.js';

export interface InformerHandlers {
  onAdd?(object: JsonObject): void;
  onUpdate?(object: JsonObject, previous: JsonObject): void;
  onDelete?(object: JsonObject): void;
  /** The cache holds a complete list (after the first list and every relist). */
  onSynced?(): void;
  /** A failure that will be retried (for logging). */
  onError?(error: Error): void;
}

export interface InformerOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** First retry delay; doubles up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Server-side watch timeout, after which the watch is resumed (default 300 s). */
  readonly watchTimeoutSeconds?: number;
}

export function objectKey(o: JsonObject): string {
  const meta = (o.metadata ?? {}) as JsonObject;
  return meta.namespace !== undefined ? `${String(meta.namespace)}/${String(meta.name)}` : String(meta.name);
}

export class Informer {
  private readonly cache = new Map<string, JsonObject>();
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private running = false;
  private synced = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** How many times the informer listed (tests check relist on 410). */
  listCount = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType,
    private readonly handlers: InformerHandlers = {},
    private readonly options: InformerOptions = {},
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  list(): JsonObject[] {
    return [...this.cache.values()];
  }

  get(key: string): JsonObject | undefined {
    return this.cache.get(key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Resolves when the cache is complete (or rejects if stopped first). */
  waitForSync(timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.synced) resolve();
        else if (!this.running) reject(new Error('informer stopped before it synced'));
        else if (Date.now() - started > timeoutMs) reject(new Error(`informer for ${this.type.plural} did not sync within ${timeoutMs} ms`));
        else setTimeout(check, 10);
      };
      check();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async relist(): Promise<void> {
    const listed = await this.client.listAll(this.type, this.options.namespace, {
      ...(this.options.labelSelector !== undefined ? { labelSelector: this.options.labelSelector } : {}),
      ...(this.options.fieldSelector !== undefined ? { fieldSelector: this.options.fieldSelector } : {}),
    });
    this.listCount++;
    const seen = new Set<string>();
    for (const item of listed.items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (old === undefined) this.handlers.onAdd?.(item);
      else if ((old.metadata as JsonObject).resourceVersion !== (item.metadata as JsonObject).resourceVersion) this.handlers.onUpdate?.(item, old);
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.handlers.onDelete?.(old);
    }
    this.resourceVersion = listed.metadata.resourceVersion;
    this.synced = true;
    this.handlers.onSynced?.();
  }

  private apply(type: string, object: JsonObject): void {
    const rv = (object.metadata as JsonObject | undefined)?.resourceVersion;
    if (typeof rv === 'string') this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = objectKey(object);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      if (old !== undefined) this.handlers.onDelete?.(object);
      return;
    }
    this.cache.set(key, object);
    if (old === undefined) this.handlers.onAdd?.(object);
    else this.handlers.onUpdate?.(object, old);
  }

  private async run(): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    let backoff = initial;
    let needList = true;
    while (this.running) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        this.abort = new AbortController();
        let gone = false;
        let delivered = 0;
        const watchStarted = Date.now();
        await this.client.watch(
          this.type,
          this.options.namespace,
          {
            ...(this.resourceVersion !== undefined ? { resourceVersion: this.resourceVersion } : {}),
            ...(this.options.labelSelector !== undefined ? { labelSelector: this.options.labelSelector } : {}),
            ...(this.options.fieldSelector !== undefined ? { fieldSelector: this.options.fieldSelector } : {}),
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
            signal: this.abort.signal,
          },
          (event) => {
            if (event.type === 'ERROR') {
              const code = (event.object as { code?: number }).code;
              if (code === 410) gone = true;
              else this.handlers.onError?.(new Error(`watch error: ${String((event.object as { message?: string }).message)}`));
              this.abort?.abort();
              return;
            }
            this.apply(event.type, event.object);
            delivered++;
            backoff = initial;
          },
        );
        if (gone) needList = true;
        else if (delivered === 0 && Date.now() - watchStarted < 1000 && this.running) {
          // A stream that ends at once with nothing in it: do not spin, back off.
          await this.sleep(backoff);
          backoff = Math.min(max, backoff * 2);
        }
      } catch (err) {
        if (!this.running) break;
        if (err instanceof KubeApiError && err.code === 410) {
          needList = true;
          continue;
        }
        this.handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
        await this.sleep(backoff);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }
}
