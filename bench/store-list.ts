// LIST latency over 10,000 stored objects on each store backend (memory, SQLite, and etcd when
// /usr/bin/etcd exists): a full list, a list walked in pages of 500, and a filtered list, as the
// API server issues them. Prints one JSON line per metric.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ETCD_BINARY, EtcdStore, MemoryStore, SqliteStore, startEtcdServer, type Store } from '../src/store/index.js';

const OBJECTS = 10_000;
const NAMESPACES = 10;
const PREFIX = '/registry/core/pods/';
const ROUNDS = 21;

/** A pod-sized document (~700 bytes of JSON). */
function pod(i: number): Record<string, unknown> {
  const namespace = `ns-${i % NAMESPACES}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app: `app-${i % 50}`, tier: i % 10 === 0 ? 'db' : 'web', 'pod-template-hash': (i * 7919).toString(16) },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      nodeName: `node-${i % 20}`,
      serviceAccountName: 'default',
      containers: [{ name: 'main', image: 'registry.example/app:1.2.3', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
    status: { phase: 'Running', podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hostIP: `192.168.0.${i % 20}` },
  };
}

async function load(store: Store, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < OBJECTS) {
      const i = next++;
      await store.create(`${PREFIX}ns-${i % NAMESPACES}/pod-${i}`, pod(i));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function time(rounds: number, run: () => Promise<void>): Promise<number[]> {
  await run(); // warm up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function emit(backend: string, metric: string, value: number): void {
  console.log(JSON.stringify({ bench: 'store-list', metric, value: Math.round(value * 100) / 100, unit: 'ms', backend, objects: OBJECTS }));
}

async function measure(backend: string, store: Store): Promise<void> {
  const full = await time(ROUNDS, async () => {
    const result = await store.list({ prefix: PREFIX });
    if (result.items.length !== OBJECTS) throw new Error(`${backend}: listed ${result.items.length} objects`);
  });
  emit(backend, 'list_10k_ms_p50', quantile(full, 0.5));
  emit(backend, 'list_10k_ms_p90', quantile(full, 0.9));

  const paged = await time(ROUNDS, async () => {
    let seen = 0;
    let token: string | undefined;
    do {
      const page = await store.list({ prefix: PREFIX, limit: 500, ...(token === undefined ? {} : { continue: token }) });
      seen += page.items.length;
      token = page.continue;
    } while (token !== undefined);
    if (seen !== OBJECTS) throw new Error(`${backend}: paged through ${seen} objects`);
  });
  emit(backend, 'list_10k_paged500_ms_p50', quantile(paged, 0.5));

  const isDb = (v: Readonly<Record<string, unknown>>): boolean =>
    (v.metadata as { labels?: Record<string, string> } | undefined)?.labels?.tier === 'db';
  const filtered = await time(ROUNDS, async () => {
    const result = await store.list({ prefix: PREFIX, filter: isDb });
    if (result.items.length !== OBJECTS / 10) throw new Error(`${backend}: filter kept ${result.items.length} objects`);
  });
  emit(backend, 'list_10k_filtered_ms_p50', quantile(filtered, 0.5));

  const namespace = await time(ROUNDS, async () => {
    await store.list({ prefix: `${PREFIX}ns-3/` });
  });
  emit(backend, 'list_1k_of_10k_namespace_ms_p50', quantile(namespace, 0.5));
}

async function main(): Promise<void> {
  const memory = new MemoryStore();
  await load(memory, 1);
  await measure('memory', memory);
  await memory.close();

  const dir = mkdtempSync(join(tmpdir(), 'margay-bench-sqlite-'));
  try {
    // Loading 10k objects with an fsync each takes half a minute and says nothing about LIST;
    // the reads measured below do not depend on the synchronous setting.
    const sqlite = new SqliteStore({ dataDir: dir, synchronous: 'normal' });
    await load(sqlite, 1);
    await measure('sqlite', sqlite);
    await sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (!existsSync(DEFAULT_ETCD_BINARY)) {
    console.error(`store-list: ${DEFAULT_ETCD_BINARY} not found, skipping the etcd backend`);
    return;
  }
  const server = await startEtcdServer();
  try {
    const etcd = new EtcdStore({ endpoints: server.endpoints, prefix: '/bench' });
    await load(etcd, 64);
    await measure('etcd', etcd);
    await etcd.close();
  } finally {
    await server.close();
  }
}

await main();
