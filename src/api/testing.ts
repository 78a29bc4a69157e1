// Helpers for tests that drive the API over real HTTP on 127.0.0.1 (a random port): start a
// server over a store, send requests, read watch streams line by line.
import { request as httpRequest } from 'node:http';
import type { Store } from '../store/index.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from './server.js';

export interface Harness {
  readonly server: ApiServer;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHarness(store: Store, options: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const server = await createApiServer({ store, log: () => undefined, ...options });
  const bound = await server.listen('127.0.0.1', 0);
  server.setReady(true);
  return { server, url: bound.url, port: bound.port, close: () => server.close() };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export function send(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
      },
    );
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export interface WatchStream {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly events: any[];
  /** Resolves when at least `n` events arrived (rejects after `timeoutMs`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  waitFor(n: number, timeoutMs?: number): Promise<any[]>;
  readonly ended: Promise<void>;
  close(): void;
}

export function openWatch(port: number, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const events: any[] = [];
    let buffered = '';
    let endResolve: () => void = () => undefined;
    const ended = new Promise<void>((r) => (endResolve = r));
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => reject(new Error(`watch answered ${res.statusCode}: ${text}`)));
        return;
      }
      res.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() !== '') events.push(JSON.parse(line));
        }
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      resolve({
        events,
        ended,
        close: () => req.destroy(),
        waitFor: (n, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const started = Date.now();
            const check = (): void => {
              if (events.length >= n) ok(events);
              else if (Date.now() - started > timeoutMs) fail(new Error(`expected ${n} watch events, got ${events.length}: ${JSON.stringify(events)}`));
              else setTimeout(check, 5);
            };
            check();
          }),
      });
    });
    req.on('error', (err) => {
      endResolve();
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** Polls until `check` passes or the time is up. */
export async function eventually(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
