// `margay up`: the control plane. Opens the datastore, starts the API server, writes
// DIR/kubeconfig, and only then reports ready (/readyz) and prints the URL. Stops cleanly on
// SIGINT or SIGTERM. Requests need a bearer token (the kubeconfig's admin token, or one from
// --token-auth-file) and pass RBAC; every request is audited to DIR/audit.db. Without TLS it
// listens on loopback only, unless --insecure.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { UserError } from '../errors/index.js';
import { createApiServer, findResourceTypeByKind } from '../api/index.js';
import { AUDIT_DB_FILE, AuditLog, Auditor, parseDuration } from '../audit/index.js';
import { TokenAuthenticator, readTokenFile } from '../auth/index.js';
import { BUILTIN_CLUSTER_ROLES, BUILTIN_CLUSTER_ROLE_BINDINGS, MASTERS_GROUP } from '../rbac/index.js';
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
  /** kube-apiserver's --token-auth-file: `token,user,uid,"group1,group2"` lines. */
  readonly tokenAuthFile?: string;
  /** Audit retention: `30d`, `12h`… and a record count. */
  readonly auditMaxAge?: string;
  readonly auditMaxCount?: number;
}

/**
 * Options registered on `up` by another module (src/cli/audit-commands.ts) than the one that
 * declares the command; they are merged into the options `up` receives.
 */
let extraOptions: Partial<UpOptions> = {};
export function setExtraUpOptions(o: Partial<UpOptions>): void {
  extraOptions = o;
}

/** The user of the admin token `margay up` writes into its kubeconfig. */
export const ADMIN_USER = 'admin';
/** Who a token-less loopback request is when no --token-auth-file is given. */
export const LOCAL_ADMIN_USER = 'system:local-admin';

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

export async function up(given: UpOptions, io: CommandIo, signals: SignalSource = process): Promise<number> {
  const o: UpOptions = { ...given, ...extraOptions };
  const { host, port } = parseListen(o.listen);
  if (!isLoopback(host) && !o.insecure) {
    throw new UserError({
      path: '--listen',
      message: `refusing to listen on ${o.listen}: the API has no TLS yet (bearer tokens would cross the network in clear text), so only loopback addresses (127.0.0.1, ::1, localhost) are allowed; pass --insecure to listen there anyway`,
    });
  }
  const authenticator = new TokenAuthenticator(o.tokenAuthFile !== undefined ? readTokenFile(o.tokenAuthFile) : []);
  const maxAgeMs = o.auditMaxAge !== undefined ? parseDuration(o.auditMaxAge, '--audit-max-age') : undefined;
  if (o.auditMaxCount !== undefined && (!Number.isInteger(o.auditMaxCount) || o.auditMaxCount < 1)) {
    throw new UserError({ path: '--audit-max-count', message: `expected a positive whole number, got ${String(o.auditMaxCount)}` });
  }
  const adminToken = randomBytes(24).toString('hex');
  authenticator.add(adminToken, { name: ADMIN_USER, groups: [MASTERS_GROUP] });
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let auditor: Auditor;
  try {
    auditor = new Auditor(
      new AuditLog(join(dataDir, AUDIT_DB_FILE), { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(o.auditMaxCount !== undefined ? { maxCount: o.auditMaxCount } : {}) }),
      undefined,
      undefined,
      (err) => io.err(`margay: cannot write the audit log: ${err instanceof Error ? err.message : String(err)}`),
    );
  } catch (err) {
    throw new UserError({ path: '--data-dir', message: `cannot open the audit log ${join(dataDir, AUDIT_DB_FILE)}: ${err instanceof Error ? err.message : String(err)}` });
  }
  const config = storeConfig(o, dataDir);
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError({ path: '--datastore', message: `cannot open the ${o.datastore} datastore in ${dataDir}: ${err instanceof Error ? err.message : String(err)}` });
  }
  // Single-user mode: without a token file, on loopback, a request with no token is the local admin
  // (as before authentication existed); a wrong token is still 401. A token file turns this off.
  const anonymousUser = o.tokenAuthFile === undefined && isLoopback(host) ? { name: LOCAL_ADMIN_USER, groups: [MASTERS_GROUP] } : undefined;
  const server = await createApiServer({
    store,
    log: (line) => io.err(line),
    authenticate: (token) => authenticator.authenticate(token),
    auditor,
    ...(anonymousUser !== undefined ? { anonymousUser } : {}),
  });
  let bound: { url: string };
  try {
    bound = await server.listen(host, port);
  } catch (err) {
    await server.close();
    await store.close();
    auditor.close();
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
  await bootstrapRbac(server.service);
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, bound.url, adminToken);
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
  auditor.close();
  return 0;
}

/** Writes the built-in ClusterRoles and bindings so they can be listed (they apply regardless). */
async function bootstrapRbac(service: Awaited<ReturnType<typeof createApiServer>>['service']): Promise<void> {
  const objects = [...BUILTIN_CLUSTER_ROLES, ...BUILTIN_CLUSTER_ROLE_BINDINGS];
  for (const object of objects) {
    const type = findResourceTypeByKind(object.apiVersion, object.kind);
    if (type === undefined) continue;
    const body = JSON.parse(JSON.stringify({ ...object, metadata: { ...object.metadata, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } } })) as Parameters<typeof service.create>[2];
    try {
      await service.create(type, undefined, body, { dryRun: false, fieldManager: 'margay', fieldValidation: 'Strict' });
    } catch (err) {
      if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
    }
  }
}
