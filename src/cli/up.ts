// `margay up`: the control plane. Opens the datastore, starts the API server, writes
// DIR/kubeconfig, and only then reports ready (/readyz) and prints the URL. Stops cleanly on
// SIGINT or SIGTERM. Until authentication lands it listens on loopback only, unless --insecure.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { UserError } from '../errors/index.js';
import { createApiServer, findResourceTypeByKind } from '../api/index.js';
import { writeKubeconfig } from '../client/index.js';
import { openStore, type Store, type StoreConfig } from '../store/index.js';
import type { CommandIo } from './simulate.js';

export interface UpOptions {
  readonly dataDir: string;
  readonly listen: string;
  readonly datastore: 'sqlite' | 'etcd' | 'memory';
  readonly etcdEndpoints?: readonly string[];
  readonly etcdPrefix?: string;
  readonly insecure?: boolean;
}

/** Something that delivers SIGINT/SIGTERM (process, or a test's emitter). */
export interface SignalSource {
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  removeListener(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || host === '' || !Number.isInteger(port) || port > 65535) {
    throw new UserError({ path: '--listen', message: `expected HOST:PORT such as 127.0.0.1:6443 or [::1]:6443, got ${JSON.stringify(listen)}` });
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function storeConfig(o: UpOptions, dataDir: string): StoreConfig {
  switch (o.datastore) {
    case 'memory': return { kind: 'memory' };
    case 'sqlite': return { kind: 'sqlite', dataDir };
    case 'etcd': {
      const endpoints = (o.etcdEndpoints ?? []).flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== '');
      if (endpoints.length === 0) throw new UserError({ path: '--etcd-endpoints', message: 'expected at least one etcd endpoint with --datastore etcd, e.g. --etcd-endpoints http://127.0.0.1:2379' });
      return { kind: 'etcd', endpoints, ...(o.etcdPrefix !== undefined ? { prefix: o.etcdPrefix } : {}) };
    }
  }
}

/** The namespaces every cluster starts with. */
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export async function up(o: UpOptions, io: CommandIo, signals: SignalSource = process): Promise<number> {
  const { host, port } = parseListen(o.listen);
  if (!isLoopback(host) && !o.insecure) {
    throw new UserError({
      path: '--listen',
      message: `refusing to listen on ${o.listen}: the API has no authentication yet, so only loopback addresses (127.0.0.1, ::1, localhost) are allowed; pass --insecure to listen there anyway`,
    });
  }
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const config = storeConfig(o, dataDir);
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError({ path: '--datastore', message: `cannot open the ${o.datastore} datastore in ${dataDir}: ${err instanceof Error ? err.message : String(err)}` });
  }
  const server = await createApiServer({ store, log: (line) => io.err(line) });
  let bound: { url: string };
  try {
    bound = await server.listen(host, port);
  } catch (err) {
    await server.close();
    await store.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError({ path: '--listen', message: `cannot listen on ${o.listen}: ${code === 'EADDRINUSE' ? 'the address is already in use' : code ?? String(err)}` });
  }
  const nsType = findResourceTypeByKind('v1', 'Namespace');
  if (nsType !== undefined) {
    for (const name of INITIAL_NAMESPACES) {
      try {
        await server.service.create(nsType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false, fieldManager: 'margay', fieldValidation: 'Strict' });
      } catch (err) {
        if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
      }
    }
  }
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, bound.url, randomBytes(24).toString('hex'));
  server.setReady(true);
  io.out(`Margay API server listening on ${bound.url}`);
  io.out(`kubeconfig: ${kubeconfig} (export KUBECONFIG=${kubeconfig})`);

  await new Promise<void>((done) => {
    const stop = (): void => {
      signals.removeListener('SIGINT', stop);
      signals.removeListener('SIGTERM', stop);
      done();
    };
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
  });
  io.err('margay: shutting down');
  await server.close();
  await store.close();
  return 0;
}
