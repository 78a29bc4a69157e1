// The bounded ingest queue between POSTs and the store: a batch is accepted only if the records
// waiting stay under the bound (else the caller answers 429), and its POST is answered once the
// store has committed it, so nothing acknowledged is lost. One writer drains the queue, merging
// waiting batches (up to `mergeRecords`) into one store append to amortize the transaction.
import type { FlowBatch, FlowStore } from './types.js';

export interface IngestQueueOptions {
  /** Records that may wait for the store (default 200,000). */
  readonly maxRecords?: number;
  /** Records merged into one append (default 20,000). */
  readonly mergeRecords?: number;
}

interface Waiting {
  batch: FlowBatch;
  done: (err?: unknown) => void;
}

export class IngestQueue {
  private readonly waiting: Waiting[] = [];
  private queued = 0;
  private writing = false;
  private readonly maxRecords: number;
  private readonly mergeRecords: number;
  rejected = 0;

  constructor(private readonly store: FlowStore, options: IngestQueueOptions = {}) {
    this.maxRecords = options.maxRecords ?? 200_000;
    this.mergeRecords = options.mergeRecords ?? 20_000;
  }

  /** Records accepted but not yet committed. */
  get pending(): number {
    return this.queued;
  }

  /**
   * Undefined when the queue is full (nothing was taken); otherwise resolves once the batch is
   * committed (or rejects with the store's error).
   */
  offer(batch: FlowBatch): Promise<void> | undefined {
    const n = Math.max(1, batch.logs.length);
    // An empty queue takes any batch, so one larger than the bound is not refused forever.
    if (this.queued > 0 && this.queued + n > this.maxRecords) {
      this.rejected++;
      return undefined;
    }
    this.queued += n;
    const p = new Promise<void>((resolve, reject) => this.waiting.push({ batch, done: (err) => (err === undefined ? resolve() : reject(err)) }));
    if (!this.writing) void this.drain();
    return p;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const group: Waiting[] = [];
        let records = 0;
        while (this.waiting.length > 0 && (group.length === 0 || records + this.waiting[0]!.batch.logs.length <= this.mergeRecords)) {
          const w = this.waiting.shift()!;
          group.push(w);
          records += w.batch.logs.length;
        }
        const merged: FlowBatch = group.length === 1
          ? group[0]!.batch
          : { ...group[0]!.batch, logs: group.flatMap((w) => w.batch.logs), dropped: group.reduce((s, w) => s + w.batch.dropped, 0) };
        let error: unknown;
        try {
          await this.store.append(merged);
        } catch (err) {
          error = err ?? new Error('append failed');
        }
        for (const w of group) {
          this.queued -= Math.max(1, w.batch.logs.length);
          w.done(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Resolves once everything accepted so far is committed. */
  async flush(): Promise<void> {
    while (this.writing || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
