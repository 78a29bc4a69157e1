// Agent → API: flow logs leave in batches over a bounded buffer. The data plane never waits on
// this: when the buffer is full the oldest logs are dropped and counted, and the count travels
// with the next accepted batch. 429 (the server's ingest queue is full) and failures back off.
import type { FlowBatch, FlowLog } from '../flows/index.js';

export interface ShipperOptions {
  readonly host: string;
  /** POSTs a batch; resolves with the HTTP code (and Retry-After), rejects when unreachable. */
  readonly post: (batch: FlowBatch) => Promise<{ code: number; retryAfterMs?: number }>;
  readonly maxBuffered?: number;
  readonly maxBatch?: number;
  readonly log?: (line: string) => void;
  readonly setTimer?: (fn: () => void, ms: number) => { unref?: () => void } | unknown;
  readonly now?: () => number;
}

export interface ShipperStats {
  shipped: number;
  dropped: number;
  batches: number;
  failures: number;
  buffered: number;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;

export class FlowShipper {
  private buffer: FlowLog[] = [];
  private droppedUnreported = 0;
  private sending: Promise<void> | undefined;
  private backoffMs = 0;
  private waitUntil = 0;
  private closed = false;
  readonly stats: ShipperStats = { shipped: 0, dropped: 0, batches: 0, failures: 0, buffered: 0 };

  constructor(private readonly o: ShipperOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private get maxBuffered(): number {
    return this.o.maxBuffered ?? 50_000;
  }

  enqueue(logs: readonly FlowLog[]): void {
    for (const l of logs) this.buffer.push(l);
    const over = this.buffer.length - this.maxBuffered;
    if (over > 0) {
      this.buffer.splice(0, over);
      this.droppedUnreported += over;
      this.stats.dropped += over;
    }
    this.stats.buffered = this.buffer.length;
    this.kick();
  }

  /** Sends what is buffered now (if not backing off); resolves when the buffer is empty or sending paused. */
  flush(): Promise<void> {
    this.kick();
    return this.sending ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }

  private kick(): void {
    if (this.sending !== undefined || this.closed || this.buffer.length === 0) return;
    const wait = this.waitUntil - this.now();
    if (wait > 0) {
      const t = (this.o.setTimer ?? setTimeout)(() => this.kick(), wait) as { unref?: () => void };
      t.unref?.();
      return;
    }
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      if (this.buffer.length > 0 && this.waitUntil <= this.now()) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      const logs = this.buffer.slice(0, this.o.maxBatch ?? 2000);
      const dropped = this.droppedUnreported;
      let result: { code: number; retryAfterMs?: number };
      try {
        result = await this.o.post({ apiVersion: 'flows.margay.io/v1', kind: 'FlowBatch', host: this.o.host, logs, dropped });
      } catch (err) {
        this.fail(`flow logs: cannot ship (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      if (result.code >= 200 && result.code < 300) {
        this.buffer.splice(0, logs.length);
        this.droppedUnreported -= dropped;
        this.stats.shipped += logs.length;
        this.stats.batches++;
        this.stats.buffered = this.buffer.length;
        this.backoffMs = 0;
        continue;
      }
      if (result.code === 429) {
        this.fail(undefined, result.retryAfterMs);
        return;
      }
      if (result.code >= 400 && result.code < 500 && result.code !== 401 && result.code !== 403 && result.code !== 408) {
        // The server will never take this batch: dropping it is the only way forward.
        this.buffer.splice(0, logs.length);
        this.droppedUnreported += logs.length;
        this.stats.dropped += logs.length;
        this.stats.buffered = this.buffer.length;
        this.o.log?.(`flow logs: the API rejected a batch of ${logs.length} (HTTP ${result.code}); dropped`);
        continue;
      }
      this.fail(`flow logs: the API answered HTTP ${result.code}; retrying`);
      return;
    }
  }

  private fail(message: string | undefined, retryAfterMs?: number): void {
    this.stats.failures++;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? MIN_BACKOFF_MS : this.backoffMs * 2);
    const wait = retryAfterMs ?? this.backoffMs;
    this.waitUntil = this.now() + wait;
    if (message !== undefined && (this.stats.failures === 1 || this.stats.failures % 20 === 0)) this.o.log?.(`${message} (${this.stats.failures} failures so far)`);
    const t = (this.o.setTimer ?? setTimeout)(() => this.kick(), wait) as { unref?: () => void };
    t.unref?.();
  }
}
