// One JSON request to the API server the kubeconfig names, over http or https (trusting the
// kubeconfig's certificate-authority-data), for the CLI commands that are not plain CRUD
// (`margay token`, `margay alerts`). Failures become UserErrors carrying the server's message.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { loadKubeconfig, type ClusterAccess } from '../client/index.js';
import { UserError } from '../errors/index.js';

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
}

export function clusterAccess(f: KubeconfigFlags): ClusterAccess {
  return loadKubeconfig(f.kubeconfig, f.context);
}

export function apiRequest(access: ClusterAccess, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, `${access.server}/`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'User-Agent': 'margay-cli',
    ...(access.token !== undefined ? { Authorization: `Bearer ${access.token}` } : {}),
    ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
  };
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, ...(url.protocol === 'https:' && access.caPem !== undefined ? { ca: access.caPem } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', (err) => reject(new UserError({ file: access.file, message: `cannot reach the API server ${access.server}: ${(err as NodeJS.ErrnoException).code ?? err.message}` })));
    req.end(payload);
  });
}

/** The body of a 2xx reply; otherwise a UserError with the Status message. */
export async function apiCall(access: ClusterAccess, method: string, path: string, body?: unknown): Promise<unknown> {
  const { status, json } = await apiRequest(access, method, path, body);
  if (status >= 200 && status < 300) return json;
  const message = typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string' ? (json as { message: string }).message : String(json);
  throw new UserError({ message: `the server answered ${status}: ${message}` });
}
