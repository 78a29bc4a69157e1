// Watch fan-out: 1,000 concurrent HTTP watchers on one resource type; each change made through
// the API is timed from the write to its arrival at every watcher. Reports p50/p99/max delivery
// after a few unmeasured warm-up changes.
import { request } from 'node:http';
import { emit, httpSend, keepAliveAgent, percentile, startBenchServer } from './api-support.js';

const WATCHERS = 1000;
const CHANGES = 20;
/** Changes made first and not measured (JIT warm-up of the write and delivery paths). */
const WARMUP = 5;
const PATH = '/apis/projectcalico.org/v3/globalnetworkpolicies';

const server = await startBenchServer(10);
const watchAgent = keepAliveAgent(WATCHERS + 10);
const requests: ReturnType<typeof request>[] = [];
try {
  /** Arrival times per change (order value) per watcher. */
  const arrivals = new Map<number, number[]>();
  let connected = 0;
  const rv = ((await (await fetch(`${server.url}${PATH}`)).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  await Promise.all(
    Array.from(
      { length: WATCHERS },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: server.port, path: `${PATH}?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3Dpolicy-0`, agent: watchAgent }, (res) => {
            if (res.statusCode !== 200) reject(new Error(`watch answered ${res.statusCode}`));
            connected++;
            let buf = '';
            res.on('data', (c: Buffer) => {
              const now = performance.now();
              buf += c.toString();
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl);
                buf = buf.slice(nl + 1);
                const m = /"order":(\d+)/.exec(line);
                if (m?.[1] !== undefined) {
                  const list = arrivals.get(Number(m[1])) ?? [];
                  list.push(now);
                  arrivals.set(Number(m[1]), list);
                }
              }
            });
            resolve();
          });
          req.on('error', (e) => {
            if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
          });
          req.end();
          requests.push(req);
        }),
    ),
  );
  if (connected !== WATCHERS) throw new Error(`only ${connected} watchers connected`);
  await new Promise((r) => setTimeout(r, 500));
  const writer = keepAliveAgent(1);
  const latencies: number[] = [];
  for (let c = 0; c < WARMUP + CHANGES; c++) {
    const order = 100_000 + c;
    const sent = performance.now();
    const status = await httpSend(writer, server.port, 'PATCH', `${PATH}/policy-0`, JSON.stringify({ spec: { order } }), 'application/merge-patch+json');
    if (status !== 200) throw new Error(`PATCH answered ${status}`);
    const deadline = Date.now() + 10_000;
    while ((arrivals.get(order)?.length ?? 0) < WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    const got = arrivals.get(order) ?? [];
    if (got.length < WATCHERS) throw new Error(`change ${c} reached ${got.length} of ${WATCHERS} watchers`);
    if (c >= WARMUP) for (const t of got) latencies.push(t - sent);
    if (process.env.BENCH_DEBUG) process.stderr.write(`change ${c}: first ${(Math.min(...got) - sent).toFixed(1)} last ${(Math.max(...got) - sent).toFixed(1)}\n`);
    await new Promise((r) => setTimeout(r, 50));
  }
  writer.destroy();
  latencies.sort((a, b) => a - b);
  const extra = { watchers: WATCHERS, changes: CHANGES };
  emit('api-watch', 'fanout_delivery_p50', percentile(latencies, 50), 'ms', extra);
  emit('api-watch', 'fanout_delivery_p99', percentile(latencies, 99), 'ms', { ...extra, target: 100 });
  emit('api-watch', 'fanout_delivery_max', latencies[latencies.length - 1] ?? NaN, 'ms', extra);
} finally {
  for (const r of requests) r.destroy();
  watchAgent.destroy();
  await server.stop();
}
