// LIST latency through the API server over 10,000 GlobalNetworkPolicies (SQLite): the full
// list as JSON, the same as a Table (what `kubectl get` asks for), and a list paged by 500.
import { emit, httpGet, keepAliveAgent, percentile, startBenchServer } from './api-support.js';

const OBJECTS = 10_000;
const ROUNDS = 15;
const PATH = '/apis/projectcalico.org/v3/globalnetworkpolicies';

const server = await startBenchServer(OBJECTS);
try {
  const agent = keepAliveAgent(1);
  const measure = async (metric: string, once: () => Promise<void>): Promise<void> => {
    await once();
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await once();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    emit('api-list', `${metric}_p50`, percentile(times, 50), 'ms', { objects: OBJECTS, rounds: ROUNDS });
    emit('api-list', `${metric}_p99`, percentile(times, 99), 'ms', { objects: OBJECTS, rounds: ROUNDS });
  };
  let bytes = 0;
  await measure('list_10k', async () => {
    const r = await httpGet(agent, server.port, PATH);
    if (r.status !== 200) throw new Error(`LIST answered ${r.status}`);
    bytes = r.bytes;
  });
  emit('api-list', 'list_10k_bytes', bytes, 'bytes');
  await measure('list_10k_table', async () => {
    const r = await httpGet(agent, server.port, PATH, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    if (r.status !== 200) throw new Error(`LIST answered ${r.status}`);
  });
  await measure('list_10k_paged_500', async () => {
    let cont = '';
    let pages = 0;
    do {
      const res = await fetch(`${server.url}${PATH}?limit=500${cont !== '' ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      const body = (await res.json()) as { metadata: { continue?: string } };
      cont = body.metadata.continue ?? '';
      pages++;
    } while (cont !== '' && pages < 100);
  });
  await measure('list_10k_label_selector', async () => {
    const r = await httpGet(agent, server.port, `${PATH}?labelSelector=tier%3Ddb`);
    if (r.status !== 200) throw new Error(`LIST answered ${r.status}`);
  });
  agent.destroy();
} finally {
  await server.stop();
}
