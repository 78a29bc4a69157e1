// Kubeconfig files: the one `margay up` writes (a cluster, an `admin` user with a placeholder
// token until authentication lands, a `margay` context) and loading the current context from
// --kubeconfig, $KUBECONFIG or ~/.kube/config, as kubectl does.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { UserError } from '../errors/index.js';

export interface ClusterAccess {
  /** `http://127.0.0.1:6443` */
  readonly server: string;
  readonly token?: string;
  /** PEM of the CA that signed the server's certificate (certificate-authority-data), for https servers. */
  readonly caPem?: string;
  /** The context's namespace, when it names one. */
  readonly namespace?: string;
  readonly context: string;
  /** The file it came from. */
  readonly file: string;
}

export function kubeconfigYaml(server: string, token: string, caPem?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'margay', cluster: { server, ...(caPem !== undefined ? { 'certificate-authority-data': Buffer.from(caPem).toString('base64') } : {}) } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'margay', context: { cluster: 'margay', user: 'admin' } }],
    'current-context': 'margay',
    preferences: {},
  });
}

/** Writes atomically (temp file + rename) with owner-only permissions. */
export function writeKubeconfig(path: string, server: string, token: string, caPem?: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, kubeconfigYaml(server, token, caPem), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function named(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e) => isRecord(e) && e.name === name);
  return isRecord(entry) && isRecord(entry[field]) ? (entry[field] as Record<string, unknown>) : undefined;
}

/** The kubeconfig path kubectl would use. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((p) => p !== '');
  return fromEnv ?? join(homedir(), '.kube', 'config');
}

/** Loads the current (or named) context of a kubeconfig. Problems are UserErrors naming the file. */
export function loadKubeconfig(path: string = defaultKubeconfigPath(), contextName?: string): ClusterAccess {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError({ file: path, message: `cannot read kubeconfig (${(err as NodeJS.ErrnoException).code ?? String(err)}); start the control plane with \`margay up\` or pass --kubeconfig` });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UserError({ file: path, message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` });
  }
  if (!isRecord(doc)) throw new UserError({ file: path, message: 'expected a kubeconfig mapping' });
  const ctxName = contextName ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined);
  if (ctxName === undefined || ctxName === '') throw new UserError({ file: path, path: 'current-context', message: 'no current context; pass --context' });
  const ctx = named(doc.contexts, ctxName, 'context');
  if (ctx === undefined) throw new UserError({ file: path, path: 'contexts', message: `no context named ${JSON.stringify(ctxName)}` });
  const cluster = named(doc.clusters, String(ctx.cluster), 'cluster');
  if (cluster === undefined || typeof cluster.server !== 'string') throw new UserError({ file: path, path: 'clusters', message: `no cluster named ${JSON.stringify(ctx.cluster)} with a server URL` });
  const user = ctx.user !== undefined ? named(doc.users, String(ctx.user), 'user') : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ...(user !== undefined && typeof user.token === 'string' ? { token: user.token } : {}),
    ...(typeof cluster['certificate-authority-data'] === 'string' ? { caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') } : {}),
    ...(typeof ctx.namespace === 'string' && ctx.namespace !== '' ? { namespace: ctx.namespace } : {}),
    context: ctxName,
    file: path,
  };
}
