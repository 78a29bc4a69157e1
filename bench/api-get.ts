// GET throughput of one object through the API server (a `margay up` child process on SQLite,
// so the server has one core to itself): keep-alive clients, bounded by time and count.
import { emit, httpGet, keepAliveAgent, startBenchServer } from './api-support.js';

const OBJECTS = 1000;
const CONNECTIONS = 32;
const WARMUP_MS = 1000;
const DURATION_MS = 5000;
const MAX_REQUESTS = 200_000;

const server = await startBenchServer(OBJECTS);
try {
  const agent = keepAliveAgent(CONNECTIONS);
  let done = 0;
  let failed = 0;
  const run = async (until: number, count: boolean): Promise<void> => {
    const worker = async (w: number): Promise<void> => {
      let i = w;
      while (Date.now() < until && done < MAX_REQUESTS) {
        const r = await httpGet(agent, server.port, `/apis/projectcalico.org/v3/globalnetworkpolicies/policy-${(i * 7919) % OBJECTS}`);
        i++;
        if (!count) continue;
        if (r.status === 200) done++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  };
  await run(Date.now() + WARMUP_MS, false);
  const started = performance.now();
  await run(Date.now() + DURATION_MS, true);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (failed > 0) throw new Error(`${failed} GETs failed`);
  emit('api-get', 'get_per_second', done / seconds, 'req/s', { connections: CONNECTIONS, objects: OBJECTS, target: 5000 });
} finally {
  await server.stop();
}
