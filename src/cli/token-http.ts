// One JSON request to the API server the kubeconfig names, over http or https (trusting the
// kubeconfig's certificate-authority-data), for the CLI commands that are not plain CRUD
// (`margay token`, `margay alerts`). Failures become UserErrors carrying the server's message.
import { KubeClient, loadKubeconfig, type ClusterAccess } from '../client/index.js';
import { UserError } from '../errors/index.js';

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
}

export function clusterAccess(f: KubeconfigFlags): ClusterAccess {
  return loadKubeconfig(f.kubeconfig, f.context);
}

/** One request through the REST client (which trusts the kubeconfig's CA); unreachable → UserError. */
async function apiRequest(access: ClusterAccess, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const client = new KubeClient({ server: access.server, userAgent: 'margay-cli', ...(access.token !== undefined ? { token: access.token } : {}), ...(access.caPem !== undefined ? { caPem: access.caPem } : {}) });
  try {
    const r = await client.send(method, path, body);
    return { status: r.code, json: r.json };
  } catch (err) {
    throw new UserError({ file: access.file, message: err instanceof Error ? err.message : String(err) });
  }
}

/** The body of a 2xx reply; otherwise a UserError with the Status message. */
export async function apiCall(access: ClusterAccess, method: string, path: string, body?: unknown): Promise<unknown> {
  const { status, json } = await apiRequest(access, method, path, body);
  if (status >= 200 && status < 300) return json;
  const message = typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string' ? (json as { message: string }).message : String(json);
  throw new UserError({ message: `the server answered ${status}: ${message}` });
}
