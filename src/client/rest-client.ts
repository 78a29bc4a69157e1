// A typed REST client for the Margay API (and any Kubernetes-style API): paths come from the
// resource registry, failures arrive as KubeApiError carrying the server's Status, and watch is
// a stream of typed events read line by line.
import { Agent, fetch as undiciFetch } from 'undici';
import { resourcePath, type ResourceType } from '../api/index.js';
import type { Json, JsonObject, Status } from '../api/index.js';

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status: Partial<Status> | undefined,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFoundError = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
export const isConflictError = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409;
export const isGoneError = (err: unknown): boolean => err instanceof KubeApiError && err.code === 410;

export interface ClientConfig {
  readonly server: string;
  readonly token?: string;
  /** PEM of the CA that signed an https server's certificate (the kubeconfig's certificate-authority-data). */
  readonly caPem?: string;
  readonly userAgent?: string;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface ObjectList {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  readonly items: JsonObject[];
}

export interface WriteOptions {
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  readonly fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  readonly force?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface ClientWatchEvent {
  readonly type: WatchEventType;
  readonly object: JsonObject;
}

export interface WatchOptions {
  readonly resourceVersion?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

export type PatchKind = 'merge' | 'json' | 'strategic';
const PATCH_TYPES: Record<PatchKind, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== false) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function writeQuery(o: WriteOptions | undefined): Record<string, string | boolean | undefined> {
  return { dryRun: o?.dryRun ? 'All' : undefined, fieldManager: o?.fieldManager, fieldValidation: o?.fieldValidation, force: o?.force };
}

export class KubeClient {
  private readonly headers: Record<string, string>;
  /** undici's own fetch with an Agent trusting the cluster's CA; the global fetch otherwise. */
  private readonly fetch: (url: string, init: RequestInit) => Promise<Response>;

  constructor(readonly config: ClientConfig) {
    this.headers = {
      Accept: 'application/json',
      'User-Agent': config.userAgent ?? 'margay-client/0.1',
      ...(config.token !== undefined ? { Authorization: `Bearer ${config.token}` } : {}),
    };
    const ca = config.caPem;
    if (ca === undefined) this.fetch = (url, init) => fetch(url, init);
    else {
      const dispatcher = new Agent({ connect: { ca } });
      this.fetch = (url, init) => undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
    }
  }

  /** One exchange: the response and its body as JSON (null when empty or not JSON). Only an unreachable server throws. */
  private async exchange(method: string, path: string, body: { type: string; data: string } | undefined, extraHeaders: Record<string, string> = {}): Promise<{ res: Response; text: string; json: Json }> {
    let res: Response;
    try {
      res = await this.fetch(`${this.config.server}${path}`, {
        method,
        headers: { ...this.headers, ...extraHeaders, ...(body !== undefined ? { 'Content-Type': body.type } : {}) },
        ...(body !== undefined ? { body: body.data } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new KubeApiError(0, 'ServiceUnavailable', `cannot reach the API server at ${this.config.server}: ${cause?.code ?? cause?.message ?? String(err)}`, undefined);
    }
    const text = await res.text();
    let json: Json;
    try {
      json = text === '' ? null : (JSON.parse(text) as Json);
    } catch {
      json = null;
    }
    return { res, text, json };
  }

  private async request(method: string, path: string, body?: { type: string; data: string }, extraHeaders: Record<string, string> = {}): Promise<{ json: Json; warnings: string[] }> {
    const { res, text, json } = await this.exchange(method, path, body, extraHeaders);
    if (!res.ok) {
      const status = json !== null && typeof json === 'object' && !Array.isArray(json) && json.kind === 'Status' ? (json as unknown as Partial<Status>) : undefined;
      throw new KubeApiError(res.status, status?.reason ?? res.statusText, status?.message ?? (text.slice(0, 200) || res.statusText), status);
    }
    const warning = res.headers.get('warning');
    const warnings = warning === null ? [] : [...warning.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
    return { json, warnings };
  }

  /**
   * A JSON request to any path that does not throw on an HTTP error: the caller reads the code
   * (the flow shipper honours 429 + Retry-After). Only an unreachable server throws.
   */
  async send(method: string, path: string, body?: unknown): Promise<{ code: number; retryAfterMs?: number; json: Json }> {
    const { res, json } = await this.exchange(method, path, body === undefined ? undefined : { type: 'application/json', data: JSON.stringify(body) });
    const retry = Number(res.headers.get('retry-after'));
    return { code: res.status, json, ...(Number.isFinite(retry) && retry > 0 ? { retryAfterMs: retry * 1000 } : {}) };
  }

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<JsonObject> {
    return (await this.request('GET', resourcePath(type, namespace, name))).json as JsonObject;
  }

  async list(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList> {
    return (await this.request('GET', `${resourcePath(type, namespace)}${query({ ...options })}`)).json as unknown as ObjectList;
  }

  /** Every item, following `continue` tokens page by page. */
  async listAll(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList> {
    let page = await this.list(type, namespace, { limit: 500, ...options });
    const items = [...page.items];
    const first = page;
    while (page.metadata.continue !== undefined && page.metadata.continue !== '') {
      page = await this.list(type, namespace, { ...options, limit: 500, continue: page.metadata.continue });
      items.push(...page.items);
    }
    return { ...first, items, metadata: { ...(first.metadata.resourceVersion !== undefined ? { resourceVersion: first.metadata.resourceVersion } : {}) } };
  }

  /** The server-printed Table for `kubectl get`-style output. */
  async table(type: ResourceType, namespace: string | undefined, name: string | undefined, options: ListOptions = {}): Promise<JsonObject> {
    const path = name !== undefined ? resourcePath(type, namespace, name) : `${resourcePath(type, namespace)}${query({ ...options })}`;
    return (await this.request('GET', path, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).json as JsonObject;
  }

  async create(type: ResourceType, namespace: string | undefined, object: JsonObject, options?: WriteOptions): Promise<{ object: JsonObject; warnings: string[] }> {
    const r = await this.request('POST', `${resourcePath(type, namespace)}${query(writeQuery(options))}`, { type: 'application/json', data: JSON.stringify(object) });
    return { object: r.json as JsonObject, warnings: r.warnings };
  }

  async update(type: ResourceType, namespace: string | undefined, name: string, object: JsonObject, options?: WriteOptions, subresource?: 'status'): Promise<JsonObject> {
    const path = `${resourcePath(type, namespace, name)}${subresource !== undefined ? `/${subresource}` : ''}${query(writeQuery(options))}`;
    return (await this.request('PUT', path, { type: 'application/json', data: JSON.stringify(object) })).json as JsonObject;
  }

  async patch(type: ResourceType, namespace: string | undefined, name: string, kind: PatchKind, patch: Json, options?: WriteOptions, subresource?: 'status'): Promise<JsonObject> {
    const path = `${resourcePath(type, namespace, name)}${subresource !== undefined ? `/${subresource}` : ''}${query(writeQuery(options))}`;
    return (await this.request('PATCH', path, { type: PATCH_TYPES[kind], data: JSON.stringify(patch) })).json as JsonObject;
  }

  /** Server-side apply; creates the object when it does not exist. */
  async apply(type: ResourceType, namespace: string | undefined, object: JsonObject, options: WriteOptions & { fieldManager: string }): Promise<{ object: JsonObject; warnings: string[] }> {
    const meta = object.metadata as JsonObject | undefined;
    const name = String(meta?.name ?? '');
    const r = await this.request('PATCH', `${resourcePath(type, namespace, name)}${query(writeQuery(options))}`, { type: 'application/apply-patch+yaml', data: JSON.stringify(object) });
    return { object: r.json as JsonObject, warnings: r.warnings };
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: { dryRun?: boolean; resourceVersion?: string } = {}): Promise<JsonObject> {
    const body = options.resourceVersion !== undefined ? { type: 'application/json', data: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: options.resourceVersion } }) } : undefined;
    return (await this.request('DELETE', `${resourcePath(type, namespace, name)}${query({ dryRun: options.dryRun ? 'All' : undefined })}`, body)).json as JsonObject;
  }

  /**
   * Streams watch events to `onEvent` until the server ends the stream, `signal` aborts, or the
   * connection fails (rejects). An ERROR event is delivered like any other.
   */
  async watch(type: ResourceType, namespace: string | undefined, options: WatchOptions, onEvent: (event: ClientWatchEvent) => void): Promise<void> {
    const path = `${resourcePath(type, namespace)}${query({
      watch: 'true',
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      allowWatchBookmarks: options.allowWatchBookmarks,
      timeoutSeconds: options.timeoutSeconds,
    })}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.config.server}${path}`, { headers: this.headers, ...(options.signal !== undefined ? { signal: options.signal } : {}) });
    } catch (err) {
      if (options.signal?.aborted) return;
      throw new KubeApiError(0, 'ServiceUnavailable', `cannot reach the API server at ${this.config.server}: ${String((err as { cause?: unknown }).cause ?? err)}`, undefined);
    }
    if (!res.ok || res.body === null) {
      const text = await res.text();
      let status: Partial<Status> | undefined;
      try {
        status = JSON.parse(text) as Partial<Status>;
      } catch {
        status = undefined;
      }
      throw new KubeApiError(res.status, status?.reason ?? res.statusText, status?.message ?? text, status);
    }
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line !== '') onEvent(JSON.parse(line) as ClientWatchEvent);
        }
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    }
  }
}
