// Talking to the Margay API from the browser: the bearer token (from the URL fragment `#token=…`
// that `margay up` prints, kept in sessionStorage), JSON requests, and Status errors with causes.

const TOKEN_KEY = 'margay.token';

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly causes: readonly { field?: string; message?: string; reason?: string }[] = [],
  ) {
    super(message);
  }
}

/** Takes `#token=…` out of the address (so it is not bookmarked or shown) into sessionStorage. */
export function adoptTokenFromLocation(): void {
  const m = /(?:^#|[#&])token=([^&]+)/.exec(window.location.hash);
  if (m?.[1] !== undefined) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    window.history.replaceState(null, '', `${window.location.pathname}#/graph`);
  }
}

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string): void => sessionStorage.setItem(TOKEN_KEY, t.trim());
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; contentType?: string; signal?: AbortSignal } = {}): Promise<T> {
  const token = getToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    ...(init.signal !== undefined ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const s = json as { message?: string; details?: { causes?: { field?: string; message?: string; reason?: string }[] } } | undefined;
    throw new ApiError(res.status, s?.message ?? `${res.status} ${res.statusText}`, s?.details?.causes ?? []);
  }
  return json as T;
}

export interface ObjectList<T = Record<string, unknown>> {
  items: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

/** Lists a kind, or an empty list when the server does not serve it (404). */
export async function listOrEmpty<T>(path: string): Promise<T[]> {
  try {
    return (await api<ObjectList<T>>(path)).items ?? [];
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return [];
    throw err;
  }
}
