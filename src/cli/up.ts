// `margay up`: the control plane. Opens the datastore, starts the API server, writes
// DIR/kubeconfig, and only then reports ready (/readyz) and prints the URL. Stops cleanly on
// SIGINT or SIGTERM. Requests need a bearer token (the kubeconfig's admin token, or one from
// --token-auth-file, or one it issued) and pass RBAC; every request is audited to DIR/audit.db.
// Off loopback (or with --tls) it serves HTTPS with a CA in DIR/pki, named in the kubeconfig.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { UserError } from '../errors/index.js';
import { createApiServer, findResourceTypeByKind } from '../api/index.js';
import { AUDIT_DB_FILE, AuditLog, Auditor, auditApi, parseDuration, readAuditPolicy } from '../audit/index.js';
import { IssuedTokens, TokenAuthenticator, ensureServerTls, isIssuedTokenFormat, readTokenFile, serverNames, tokenApi } from '../auth/index.js';
import { BUILTIN_CLUSTER_ROLES, BUILTIN_CLUSTER_ROLE_BINDINGS, MASTERS_GROUP } from '../rbac/index.js';
import { writeKubeconfig } from '../client/index.js';
import { openStore, type Store, type StoreConfig } from '../store/index.js';
import { FLOWS_DB_FILE, SqliteFlowStore, createFlowsApi, type FlowRetention, type FlowStore } from '../flows/index.js';
import { consoleExtension } from '../console/index.js';
import { ALERTS_DB_FILE, AlertEngine, FiringStore, WebhookSender, alertsApi } from '../alerts/index.js';
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
  /** kube-apiserver's --audit-policy-file (audit.k8s.io/v1 Policy); default: DEFAULT_AUDIT_POLICY. */
  readonly auditPolicyFile?: string;
  /** Also write every audit event as a JSON line to this file. */
  readonly auditLogPath?: string;
  /** Serve HTTPS on loopback too (non-loopback addresses always get TLS unless --insecure). */
  readonly tls?: boolean;
  /** Run the demo (src/demo): a live lab when it can, else recorded flows. */
  readonly demo?: 'auto' | 'live' | 'recorded';
  /** Flow log retention in DIR/flows.db: age (default 7d), row count, used bytes. */
  readonly flowRetention?: string;
  readonly flowMaxRows?: number;
  readonly flowMaxBytes?: number;
}

/**
 * Options registered on `up` by another module (src/cli/audit-commands.ts) than the one that
 * declares the command; they are merged into the options `up` receives.
 */
let extraOptions: Partial<UpOptions> = {};
export function setExtraUpOptions(o: Partial<UpOptions>): void {
  extraOptions = { ...extraOptions, ...o };
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
  // Off loopback, bearer tokens must not cross the network in clear text: TLS, unless --insecure.
  const useTls = o.tls === true || (!isLoopback(host) && !o.insecure);
  if (o.tls === true && o.insecure) throw new UserError({ path: '--insecure', message: 'expected either --tls or --insecure, not both' });
  const authenticator = new TokenAuthenticator(o.tokenAuthFile !== undefined ? readTokenFile(o.tokenAuthFile) : []);
  const maxAgeMs = o.auditMaxAge !== undefined ? parseDuration(o.auditMaxAge, '--audit-max-age') : undefined;
  if (o.auditMaxCount !== undefined && (!Number.isInteger(o.auditMaxCount) || o.auditMaxCount < 1)) {
    throw new UserError({ path: '--audit-max-count', message: `expected a positive whole number, got ${String(o.auditMaxCount)}` });
  }
  const adminToken = randomBytes(24).toString('hex');
  authenticator.add(adminToken, { name: ADMIN_USER, groups: [MASTERS_GROUP] });
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const auditPolicy = o.auditPolicyFile !== undefined ? readAuditPolicy(o.auditPolicyFile) : undefined;
  let auditor: Auditor;
  try {
    auditor = new Auditor(
      new AuditLog(join(dataDir, AUDIT_DB_FILE), { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(o.auditMaxCount !== undefined ? { maxCount: o.auditMaxCount } : {}) }),
      auditPolicy,
      undefined,
      (err) => io.err(`margay: cannot write the audit log: ${err instanceof Error ? err.message : String(err)}`),
      o.auditLogPath !== undefined ? resolve(o.auditLogPath) : undefined,
    );
  } catch (err) {
    throw new UserError({ path: '--data-dir', message: `cannot open the audit log ${join(dataDir, AUDIT_DB_FILE)}: ${err instanceof Error ? err.message : String(err)}` });
  }
  const flowRetention: FlowRetention = {
    maxAgeMs: parseDuration(o.flowRetention ?? '7d', '--flow-retention'),
    ...(o.flowMaxRows !== undefined ? { maxRows: o.flowMaxRows } : {}),
    ...(o.flowMaxBytes !== undefined ? { maxBytes: o.flowMaxBytes } : {}),
  };
  let flowStore: FlowStore;
  try {
    flowStore = new SqliteFlowStore({ file: join(dataDir, FLOWS_DB_FILE) });
  } catch (err) {
    throw new UserError({ path: '--data-dir', message: `cannot open the flow store ${join(dataDir, FLOWS_DB_FILE)}: ${err instanceof Error ? err.message : String(err)}` });
  }
  const flows = createFlowsApi({ store: flowStore });
  const pruneFlows = (): void => {
    flowStore.prune(flowRetention, Date.now()).catch((err: unknown) => io.err(`margay: cannot prune flow logs: ${err instanceof Error ? err.message : String(err)}`));
  };
  pruneFlows();
  const flowPruneTimer = setInterval(pruneFlows, 60_000);
  flowPruneTimer.unref();
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
  // A CA made once in DIR/pki signs the server certificate and the client certificates it accepts.
  const pki = useTls ? ensureServerTls(join(dataDir, 'pki'), serverNames(host)) : undefined;
  // Issued tokens live in the datastore (hashed); the static ones (file, admin) in memory.
  const issued = new IssuedTokens(store);
  // Alerts match every audit batch as it is written; fired alerts are kept in DIR/alerts.db.
  const firings = new FiringStore(join(dataDir, ALERTS_DB_FILE));
  const alerts = new AlertEngine({ store, auditor, firings, sender: new WebhookSender(), log: (line) => io.err(line) });
  const demo = o.demo !== undefined ? (await import('../demo/index.js')).prepareDemo({ dataDir, mode: o.demo, log: (line) => io.err(line) }) : undefined;
  const server = await createApiServer({
    store,
    log: (line) => io.err(line),
    authenticate: (token) => (isIssuedTokenFormat(token) ? issued.authenticate(token) : authenticator.authenticate(token)),
    // The demo's go last: its flow replay mounts only where no flows API is.
    extensions: [tokenApi(issued), auditApi(auditor), alertsApi(firings), flows.extension, consoleExtension(), ...(demo?.extensions ?? [])],
    ...(pki !== undefined ? { tls: { key: pki.serverKey, cert: pki.serverCert, clientCa: pki.caCert } } : {}),
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
    firings.close();
    clearInterval(flowPruneTimer);
    await flowStore.close();
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
  await alerts.start();
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, bound.url, adminToken, pki?.caCert);
  server.setReady(true);
  io.out(`Margay API server listening on ${bound.url}`);
  io.out(`kubeconfig: ${kubeconfig} (export KUBECONFIG=${kubeconfig})`);

  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      signals.removeListener('SIGINT', stop);
      signals.removeListener('SIGTERM', stop);
      done();
    };
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
  });
  const stopDemo = demo !== undefined ? await demo.start({ url: bound.url, token: adminToken, kubeconfig }) : undefined;
  // The console authenticates with the admin token from the URL fragment (never sent to the server).
  io.out(`console: ${bound.url}/console/#token=${adminToken}`);
  await stopped;
  io.err('margay: shutting down');
  await stopDemo?.();
  await server.close();
  await alerts.close();
  await store.close();
  auditor.close();
  firings.close();
  clearInterval(flowPruneTimer);
  await flows.queue.flush();
  await flowStore.close();
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
