// The HTTP face of the API: fastify routes for health, version, discovery, OpenAPI and every
// resource type in the registry, with one error handler that turns anything thrown into a
// Kubernetes Status (a client's mistake is 4xx; only a bug is a 500, and it is logged).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Auditor } from '../audit/index.js';
import { bugText, UserError } from '../errors/index.js';
import type { UserInfo } from '../rbac/index.js';
import type { Disposable, Store } from '../store/index.js';
import { AccessControl } from './access.js';
import { acceptsProtobuf, decodeProtobufObject, decodeSelfSubjectAccessReview, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { openApiDocument, openApiIndex } from './openapi.js';
import { isObject, type Json, type JsonObject } from './patch.js';
import { apiVersionOf, findResourceType, storagePrefix, type ResourceType } from './registry.js';
import { PATCH_CONTENT_TYPES, ResourceService, storeFailure, parseResourceVersion, type ListParams, type WriteOptions } from './resource-service.js';
import { ApiError, badRequest, internalError, methodNotAllowed, notAcceptable, toStatus, tooLarge, unsupportedMediaType } from './status.js';
import { toTable, type IncludeObject } from './table.js';
import { WatchHub, type HubEvent } from './watch-hub.js';
import { withResourceVersion, type FieldValidation } from './objects.js';

export interface ApiServerOptions {
  readonly store: Store;
  /** Largest request body accepted, in bytes (default 3 MiB, as Kubernetes). */
  readonly bodyLimit?: number;
  /** How often a watch that allows bookmarks gets one (default 60 s). */
  readonly bookmarkIntervalMs?: number;
  /** Where bugs and notable events are logged (default stderr). */
  readonly log?: (line: string) => void;
  /** Events kept in memory for watchers resuming from a recent resourceVersion. */
  readonly watchHistory?: number;
  readonly clock?: () => Date;
  /**
   * Bearer-token authentication. When set, every request except anonymous health probes needs
   * a known token (401 otherwise) and RBAC decides what it may do (403 otherwise).
   */
  readonly authenticate?: (token: string) => UserInfo | undefined | Promise<UserInfo | undefined>;
  /** Records an audit event for every request. */
  readonly auditor?: Auditor;
  /** With `authenticate`: who a request without a token is (default: none, such requests are 401). */
  readonly anonymousUser?: UserInfo;
  /**
   * More routes, mounted before the generic `/api/*` and `/apis/*` handlers (flows, console,
   * tokens…). They pass through the same authentication, RBAC and audit hooks; throw an
   * ApiError for a Status answer.
   */
  readonly extensions?: readonly ApiExtension[];
  /**
   * Serve HTTPS with this key and certificate (PEM). With `clientCa`, clients may present a
   * certificate signed by it (CN = user, O = groups; see access.ts); it is asked for, not required.
   */
  readonly tls?: { readonly key: string; readonly cert: string; readonly clientCa?: string };
}

/** What an extension gets: the fastify app and the caller of a request. */
export interface ApiExtensionContext {
  readonly store: Store;
  /** The authenticated user of a request (system:admin when authentication is off). */
  userOf(req: FastifyRequest): UserInfo;
  /** Whether `user` may do `verb` on `resource` of `apiGroup` (in `namespace` when given), by RBAC. */
  can(user: UserInfo, attrs: { verb: string; apiGroup: string; resource: string; namespace?: string; name?: string }): Promise<boolean>;
}

export type ApiExtension = (app: FastifyInstance, ctx: ApiExtensionContext) => void | Promise<void>;

export interface ApiServer {
  readonly app: FastifyInstance;
  readonly service: ResourceService;
  /** Starts listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number; url: string }>;
  /** /readyz answers 200 only after this (the kubeconfig exists by then). */
  setReady(ready: boolean): void;
  /** Open HTTP watches (tests check that none leak). */
  watchCount(): number;
  /** Ends every watch, stops listening and stops the registry watch (the store stays open). */
  close(): Promise<void>;
}

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-margay', platform: `${process.platform}/${process.arch}` };

const TABLE_ACCEPT = /as=Table/;
const BOOKMARK_DEFAULT_MS = 60_000;
const SLOW_WATCHER_BYTES = 16 * 1024 * 1024;

type Query = Record<string, string | string[] | undefined>;

function q(query: Query, key: string): string | undefined {
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
}

function boolParam(query: Query, key: string): boolean {
  const v = q(query, key);
  return v === 'true' || v === '1';
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watchPath: boolean;
}

/** Parses `/api/v1/...` or `/apis/<g>/<v>/...` below the group/version into a resource route. */
function parseResourceRoute(group: string, version: string, rest: string[]): Route | undefined {
  let watchPath = false;
  let segs = rest;
  if (segs[0] === 'watch') {
    watchPath = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [plural, name, subresource, ...extra] = segs;
  if (plural === undefined || extra.length > 0) return undefined;
  const type = findResourceType(group, version, plural);
  if (type === undefined) return undefined;
  if (!type.namespaced && namespace !== undefined) return undefined;
  return { type, namespace, name, subresource, watchPath };
}

function fieldValidation(query: Query): FieldValidation {
  const v = q(query, 'fieldValidation');
  if (v === undefined || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`invalid fieldValidation ${JSON.stringify(v)}: expected Strict, Warn or Ignore`);
}

function dryRun(query: Query): boolean {
  const v = query.dryRun;
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  for (const x of values) if (x !== 'All') throw badRequest(`invalid dryRun ${JSON.stringify(x)}: only "All" is supported`);
  return values.length > 0;
}

function fieldManager(req: FastifyRequest, query: Query): string {
  const explicit = q(query, 'fieldManager');
  // Server-side apply needs a named manager; other writes default to the client's name.
  if (req.method === 'PATCH' && (req.headers['content-type'] ?? '').startsWith('application/apply-patch') && (explicit === undefined || explicit === '')) return '';
  if (explicit !== undefined && explicit !== '') {
    if (explicit.length > 128) throw badRequest('fieldManager must be at most 128 characters');
    return explicit;
  }
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' && ua !== '' ? (ua.split('/')[0] ?? 'unknown').slice(0, 128) : 'unknown';
}

function listParams(query: Query): ListParams {
  const limit = q(query, 'limit');
  if (limit !== undefined && limit !== '' && !/^\d+$/.test(limit)) throw badRequest(`invalid limit ${JSON.stringify(limit)}: expected a non-negative integer`);
  const p: Record<string, string | number> = {};
  for (const key of ['labelSelector', 'fieldSelector', 'continue', 'resourceVersion', 'resourceVersionMatch']) {
    const v = q(query, key);
    if (v !== undefined) p[key] = v;
  }
  if (limit !== undefined && limit !== '') p.limit = Number(limit);
  return p as ListParams;
}

interface Negotiated {
  table: boolean;
  includeObject: IncludeObject;
}

function negotiate(req: FastifyRequest, query: Query): Negotiated {
  const accept = req.headers.accept ?? '';
  const include = q(query, 'includeObject');
  const includeObject: IncludeObject = include === 'None' || include === 'Object' ? include : 'Metadata';
  if (TABLE_ACCEPT.test(accept)) {
    const parts = accept.split(',').map((p) => p.replace(/\s/g, ''));
    const table = parts.some((p) => p.includes('as=Table') && p.includes('g=meta.k8s.io') && (p.includes('v=v1;') || p.endsWith('v=v1') || p.includes('v=v1beta1')));
    if (table) return { table: true, includeObject };
  }
  if (accept !== '' && !/(application\/json|\*\/\*|application\/\*|application\/yaml)/.test(accept)) {
    throw notAcceptable(`only application/json is served, not ${accept}`);
  }
  return { table: false, includeObject };
}

const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** A request body as JSON; protobuf only for the built-in kinds kubectl sends that way (`protobufKind`). */
function bodyJson(raw: unknown, contentType: string | undefined, protobufKind?: ResourceType): Json {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  const ct = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (ct === PROTOBUF_CONTENT_TYPE && protobufKind !== undefined && acceptsProtobuf(apiVersionOf(protobufKind), protobufKind.kind)) return decodeProtobufObject(buf);
  if (ct !== 'application/json' && ct !== '' && ct !== '*/*') {
    throw unsupportedMediaType('application/json');
  }
  try {
    return JSON.parse(buf.toString('utf8')) as Json;
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const bodyLimit = options.bodyLimit ?? 3 * 1024 * 1024;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bookmarkMs = options.bookmarkIntervalMs ?? BOOKMARK_DEFAULT_MS;
  const service = new ResourceService(options.store, options.clock);
  const hub = new WatchHub(options.store, { log, ...(options.watchHistory !== undefined ? { historySize: options.watchHistory } : {}) });
  await hub.start();
  let ready = false;
  const watches = new Set<() => void>();

  const tls = options.tls;
  const https = tls === undefined ? {} : { https: { key: tls.key, cert: tls.cert, ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) } };
  const app = Fastify({ bodyLimit, logger: false, routerOptions: { maxParamLength: 1000 }, return503OnClosing: false, forceCloseConnections: true, ...https }) as unknown as FastifyInstance;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, req, reply) => {
    let apiErr: ApiError;
    if (err instanceof ApiError) apiErr = err;
    else {
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') apiErr = tooLarge(bodyLimit);
      else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') apiErr = unsupportedMediaType('application/json');
      else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) apiErr = new ApiError(e.statusCode, 'BadRequest', e.message ?? 'bad request');
      else {
        const mapped = storeFailure(err, { group: '', plural: '', kind: '' } as unknown as ResourceType, '');
        if (mapped instanceof ApiError) apiErr = mapped;
        else if (err instanceof UserError) apiErr = badRequest(err.message);
        else {
          log(`margay api: internal error on ${req.method} ${req.url}: ${bugText(err)}`);
          apiErr = internalError(err instanceof Error ? err.message : String(err));
        }
      }
    }
    void reply.code(apiErr.code).header('content-type', 'application/json').send(JSON.stringify(toStatus(apiErr)));
  });
  const access = new AccessControl(options.store, hub, {
    ...(options.authenticate !== undefined ? { authenticate: options.authenticate } : {}),
    ...(options.auditor !== undefined ? { auditor: options.auditor } : {}),
    ...(options.anonymousUser !== undefined ? { anonymousUser: options.anonymousUser } : {}),
  });
  access.install(app);
  app.setNotFoundHandler((req, reply) => {
    const err = new ApiError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${req.url.split('?')[0] ?? ''})`);
    void reply.code(404).header('content-type', 'application/json').send(JSON.stringify(toStatus(err)));
  });

  const sendJson = (reply: FastifyReply, code: number, body: unknown, contentType = 'application/json'): FastifyReply =>
    reply.code(code).header('content-type', contentType).send(Buffer.from(JSON.stringify(body)));

  const text = (reply: FastifyReply, code: number, body: string): FastifyReply => reply.code(code).type('text/plain; charset=utf-8').send(body);
  app.get('/healthz', (_req, reply) => text(reply, 200, 'ok'));
  app.get('/livez', (_req, reply) => text(reply, 200, 'ok'));
  app.get('/readyz', (_req, reply) => (ready ? text(reply, 200, 'ok') : text(reply, 503, 'not ready: starting')));
  app.get('/version', (_req, reply) => sendJson(reply, 200, { ...SERVER_VERSION, goVersion: `node${process.versions.node}`, compiler: 'node', buildDate: '' }));

  const discovery = (legacy: boolean) => (req: FastifyRequest, reply: FastifyReply) => {
    if (wantsAggregated(req.headers.accept)) return sendJson(reply, 200, aggregatedDiscovery(legacy), AGGREGATED_CONTENT_TYPE);
    return sendJson(reply, 200, legacy ? apiVersions(req.headers.host ?? '') : apiGroupList());
  };
  app.get('/api', discovery(true));
  app.get('/apis', discovery(false));

  app.get('/openapi/v3', (_req, reply) => sendJson(reply, 200, openApiIndex()));
  app.get('/openapi/v3/*', (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const doc = openApiDocument(path);
    if (doc === undefined) throw new ApiError(404, 'NotFound', `no OpenAPI document for ${path}`);
    return sendJson(reply, 200, doc);
  });

  const resourceHandler = (legacy: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.params as { '*': string })['*'];
    const segs = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    const query = req.query as Query;
    let group: string;
    let version: string | undefined;
    let rest: string[];
    if (legacy) {
      group = '';
      version = segs[0];
      rest = segs.slice(1);
    } else {
      group = segs[0] ?? '';
      version = segs[1];
      rest = segs.slice(2);
      if (version === undefined) {
        if (req.method !== 'GET') throw methodNotAllowed(`${req.method} is not supported on ${req.url}`);
        const doc = apiGroup(group);
        if (doc === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (group ${group})`);
        return sendJson(reply, 200, doc);
      }
    }
    if (version === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) {
      if (req.method !== 'GET') throw methodNotAllowed(`${req.method} is not supported on ${req.url}`);
      const doc = apiResourceList(group, version);
      if (doc === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${legacy ? 'api' : group}/${version})`);
      return sendJson(reply, 200, doc);
    }
    const route = parseResourceRoute(group, version, rest);
    if (route === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${req.url.split('?')[0] ?? ''})`);
    return handleResource(req, reply, route, query);
  };

  const handleResource = async (req: FastifyRequest, reply: FastifyReply, route: Route, query: Query): Promise<unknown> => {
    const { type, namespace, name, subresource } = route;
    if (subresource !== undefined && (subresource !== 'status' || !type.hasStatus)) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource: ${type.plural} has no subresource ${subresource}`);
    }
    const status = subresource === 'status' ? 'status' : undefined;
    const method = req.method;
    const writeOpts = (): WriteOptions => ({
      dryRun: dryRun(query),
      fieldManager: fieldManager(req, query),
      fieldValidation: fieldValidation(query),
      force: boolParam(query, 'force'),
    });
    const respond = (code: number, object: JsonObject, warnings: readonly string[] = []): FastifyReply => {
      if (warnings.length > 0) void reply.header('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', '));
      const neg = negotiate(req, query);
      if (neg.table && method === 'GET') {
        return sendJson(reply, code, toTable(type, [object], { resourceVersion: String((object.metadata as JsonObject).resourceVersion ?? '') }, { includeObject: neg.includeObject }), TABLE_CONTENT_TYPE);
      }
      return sendJson(reply, code, object);
    };

    if (name === undefined) {
      switch (method) {
        case 'GET': {
          if (route.watchPath || boolParam(query, 'watch')) return serveWatch(req, reply, type, namespace, query);
          const neg = negotiate(req, query);
          const listed = await service.list(type, namespace, listParams(query));
          const listMeta: JsonObject = {
            resourceVersion: listed.resourceVersion,
            ...(listed.continue !== undefined ? { continue: listed.continue } : {}),
            ...(listed.remainingItemCount !== undefined ? { remainingItemCount: listed.remainingItemCount } : {}),
          };
          if (neg.table) return sendJson(reply, 200, toTable(type, listed.items, listMeta, { includeObject: neg.includeObject }), TABLE_CONTENT_TYPE);
          return sendJson(reply, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items: listed.items });
        }
        case 'POST': {
          const result = await service.create(type, namespace, bodyJson(req.body, req.headers['content-type'], type), writeOpts());
          return respond(201, result.object, result.warnings);
        }
        case 'DELETE': {
          const listed = await service.deleteCollection(type, namespace, listParams(query), { dryRun: dryRun(query) });
          return sendJson(reply, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: listed.resourceVersion }, items: listed.items });
        }
        default:
          throw methodNotAllowed(`${method} is not supported on a collection of ${type.plural}`);
      }
    }
    if (type.namespaced && namespace === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource: ${type.plural} are namespaced; use .../namespaces/NAMESPACE/${type.plural}/${name}`);
    switch (method) {
      case 'GET': {
        if (route.watchPath || boolParam(query, 'watch')) {
          const selector = q(query, 'fieldSelector');
          return serveWatch(req, reply, type, namespace, { ...query, fieldSelector: `metadata.name=${name}${selector ? `,${selector}` : ''}` });
        }
        return respond(200, await service.get(type, namespace, name));
      }
      case 'PUT': {
        const result = await service.update(type, namespace, name, bodyJson(req.body, req.headers['content-type'], type), writeOpts(), status);
        return respond(200, result.object, result.warnings);
      }
      case 'PATCH': {
        const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        const patchType = PATCH_CONTENT_TYPES[ct];
        if (patchType === undefined) throw unsupportedMediaType(type.builtin ? Object.keys(PATCH_CONTENT_TYPES).join(', ') : 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const result = await service.patch(type, namespace, name, patchType, raw, writeOpts(), status);
        return respond(result.created ? 201 : 200, result.object, result.warnings);
      }
      case 'DELETE': {
        if (status !== undefined) throw methodNotAllowed('DELETE is not supported on the status subresource');
        let preconditions: { uid?: string; resourceVersion?: string } | undefined;
        let dry = dryRun(query);
        const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
        if (raw !== undefined && raw.length > 0) {
          const opts = bodyJson(raw, req.headers['content-type']);
          if (isObject(opts)) {
            if (isObject(opts.preconditions)) {
              const p = opts.preconditions;
              preconditions = {
                ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
                ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
              };
            }
            if (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')) dry = true;
          }
        }
        const deleted = await service.delete(type, namespace, name, { dryRun: dry, ...(preconditions !== undefined ? { preconditions } : {}) });
        return respond(200, deleted);
      }
      default:
        throw methodNotAllowed(`${method} is not supported on ${type.plural}/${name}`);
    }
  };

  const serveWatch = async (req: FastifyRequest, reply: FastifyReply, type: ResourceType, namespace: string | undefined, query: Query): Promise<unknown> => {
    const neg = negotiate(req, query);
    const filter = service.filterFor(type, q(query, 'labelSelector'), q(query, 'fieldSelector'));
    const rvText = q(query, 'resourceVersion');
    const rv = parseResourceVersion(rvText);
    const sendInitial = q(query, 'sendInitialEvents') === 'true' || rv === undefined || rv === 0;
    const bookmarks = boolParam(query, 'allowWatchBookmarks');
    const timeoutParam = q(query, 'timeoutSeconds');
    const timeoutMs = timeoutParam !== undefined && /^\d+$/.test(timeoutParam) && Number(timeoutParam) > 0 ? Number(timeoutParam) * 1000 : (1800 + Math.random() * 1800) * 1000;
    const prefix = storagePrefix(type, namespace);
    const matches = (v: Readonly<Record<string, unknown>>): boolean => filter === undefined || filter(v);

    let initial: JsonObject[] = [];
    let from: number;
    if (sendInitial) {
      const listed = await service.list(type, namespace, { ...(q(query, 'labelSelector') !== undefined ? { labelSelector: q(query, 'labelSelector') } : {}), ...(q(query, 'fieldSelector') !== undefined ? { fieldSelector: q(query, 'fieldSelector') } : {}) } as ListParams);
      initial = listed.items;
      from = Number(listed.resourceVersion);
    } else {
      from = rv as number;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': neg.table ? TABLE_CONTENT_TYPE : 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let ended = false;
    let lastRevision = from;
    let sub: Disposable | undefined;
    let headersSent = false;

    const serialize = (kind: string, object: JsonObject): string => {
      if (!neg.table) return `{"type":"${kind}","object":${JSON.stringify(object)}}\n`;
      const table = toTable(type, [object], { resourceVersion: String((object.metadata as JsonObject).resourceVersion ?? '') }, { includeObject: neg.includeObject, noHeaders: headersSent });
      headersSent = true;
      return `{"type":"${kind}","object":${JSON.stringify(table)}}\n`;
    };
    const write = (line: string): void => {
      if (ended) return;
      res.write(line);
      if (res.writableLength > SLOW_WATCHER_BYTES) {
        log(`margay api: closing a watch on ${type.plural} that fell ${res.writableLength} bytes behind`);
        end();
      }
    };
    const end = (): void => {
      if (ended) return;
      ended = true;
      sub?.dispose();
      clearInterval(bookmarkTimer);
      clearTimeout(timeoutTimer);
      watches.delete(end);
      if (!res.writableEnded) res.end();
    };
    const sendError = (err: unknown): void => {
      const apiErr = err instanceof ApiError ? err : (storeFailure(err, type, '') as ApiError);
      const status = apiErr instanceof ApiError ? toStatus(apiErr) : toStatus(internalError(String(err)));
      write(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
      end();
    };
    const bookmark = (annotations?: Record<string, string>): void => {
      const revision = Math.max(lastRevision, sub === undefined ? 0 : hub.latestRevision);
      const object = { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(revision), ...(annotations !== undefined ? { annotations } : {}) } };
      write(`{"type":"BOOKMARK","object":${JSON.stringify(object)}}\n`);
    };

    const onEvent = (ev: HubEvent): void => {
      let kind: string = ev.type;
      if (filter !== undefined) {
        const now = matches(ev.value);
        const before = ev.previous === undefined ? (ev.type === 'MODIFIED' ? now : false) : matches(ev.previous);
        if (ev.type === 'MODIFIED') {
          if (now && !before) kind = 'ADDED';
          else if (!now && before) kind = 'DELETED';
          else if (!now) return;
        } else if (!now) return;
      }
      lastRevision = ev.revision;
      // Every watcher of this event gets the same bytes: serialise once per event and form.
      const memoKey = neg.table ? `table:${kind}:${neg.includeObject}:${headersSent}` : kind;
      let line = ev.memo.get(memoKey);
      if (line === undefined) {
        line = serialize(kind, withResourceVersion(ev.value, ev.revision));
        ev.memo.set(memoKey, line);
      } else if (neg.table) {
        headersSent = true;
      }
      write(line);
    };

    watches.add(end);
    req.raw.on('close', end);
    res.on('error', end);
    const bookmarkTimer = setInterval(() => { if (bookmarks) bookmark(); }, bookmarkMs);
    bookmarkTimer.unref();
    const timeoutTimer = setTimeout(end, timeoutMs);
    timeoutTimer.unref();

    for (const object of initial) write(serialize('ADDED', object));
    if (bookmarks && q(query, 'sendInitialEvents') === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });

    const subscriber = { prefix, fromRevision: from, onEvent, onError: sendError };
    sub = hub.subscribe(subscriber);
    if (sub === undefined) {
      // Older than the hub's window: ask the store directly (it answers 410 when compacted).
      try {
        const direct = await options.store.watch({
          prefix,
          fromRevision: from,
          onEvent: (e) => onEvent({ ...e, previous: undefined, memo: new Map() }),
          onError: sendError,
        });
        if (ended) direct.dispose();
        else sub = direct;
      } catch (err) {
        sendError(err);
      }
    }
    return reply;
  };

  // SelfSubjectAccessReview is not stored: the answer is computed for the caller (`kubectl auth can-i`).
  app.post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', async (req, reply) =>
    sendJson(
      reply,
      201,
      await access.selfSubjectAccessReview(
        req,
        (req.headers['content-type'] ?? '').startsWith(PROTOBUF_CONTENT_TYPE) ? decodeSelfSubjectAccessReview(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)) : bodyJson(req.body, req.headers['content-type']),
      ),
    ),
  );
  const extensionContext: ApiExtensionContext = {
    store: options.store,
    userOf: (req) => access.userOf(req),
    can: (user, attrs) => access.can(user, attrs),
  };
  for (const extend of options.extensions ?? []) await extend(app, extensionContext);
  app.all('/api/*', resourceHandler(true));
  app.all('/apis/*', resourceHandler(false));

  await app.ready();

  return {
    app,
    service,
    async listen(host: string, port: number) {
      await app.listen({ host, port });
      const addr = app.server.address();
      const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      return { host, port: bound, url: `${tls !== undefined ? 'https' : 'http'}://${urlHost}:${bound}` };
    },
    setReady(r: boolean) {
      ready = r;
    },
    watchCount: () => watches.size,
    async close() {
      ready = false;
      for (const end of [...watches]) end();
      access.close();
      hub.close();
      await app.close();
    },
  };
}

