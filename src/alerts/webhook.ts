// Webhook delivery: a JSON POST, retried with exponential backoff on network errors, timeouts,
// 408, 429 and 5xx (another 4xx will not get better by retrying). Timers are injected so tests
// can run the schedule without waiting; every pending retry is cancelled on close.

export interface RetryPolicy {
  /** Attempts in all, the first included (default 6). */
  readonly maxAttempts: number;
  /** Delay before the second attempt; doubles each time (default 250 ms). */
  readonly baseDelayMs: number;
  /** Longest delay between attempts (default 30 s). */
  readonly maxDelayMs: number;
  /** One attempt's time limit (default 5 s). */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 30_000, timeoutMs: 5_000 };

/** The delay before attempt `n` (n ≥ 2): base · 2^(n-2), capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
}

export interface DeliveryOutcome {
  readonly delivered: boolean;
  readonly attempts: number;
  readonly lastError?: string;
}

const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export class WebhookSender {
  /** Scheduled retries, each with how to settle its delivery if the sender closes first. */
  private readonly timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  private closed = false;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly post: (url: string, body: string, timeoutMs: number) => Promise<number> = defaultPost,
  ) {}

  /**
   * Delivers `payload`; `onAttempt` reports each failed attempt (for the firing's record).
   * Resolves when delivered, given up, or the sender is closed.
   */
  send(url: string, payload: unknown, onAttempt: (attempt: number, error: string) => void = () => undefined): Promise<DeliveryOutcome> {
    const body = JSON.stringify(payload);
    return new Promise((resolve) => {
      const attempt = async (n: number): Promise<void> => {
        if (this.closed) return resolve({ delivered: false, attempts: n - 1, lastError: 'shutting down' });
        let error: string;
        let retry = true;
        try {
          const status = await this.post(url, body, this.policy.timeoutMs);
          if (status >= 200 && status < 300) return resolve({ delivered: true, attempts: n });
          error = `HTTP ${status}`;
          retry = retryable(status);
        } catch (err) {
          error = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
        }
        onAttempt(n, error);
        if (!retry || n >= this.policy.maxAttempts || this.closed) return resolve({ delivered: false, attempts: n, lastError: error });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void attempt(n + 1);
        }, backoffDelay(this.policy, n + 1));
        this.timers.set(timer, () => resolve({ delivered: false, attempts: n, lastError: `${error} (not retried: shutting down)` }));
      };
      void attempt(1);
    });
  }

  close(): void {
    this.closed = true;
    for (const [t, settle] of this.timers) {
      clearTimeout(t);
      settle();
    }
    this.timers.clear();
  }
}

async function defaultPost(url: string, body: string, timeoutMs: number): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'margay-alerts' }, body, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}
