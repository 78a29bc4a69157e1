// The flows API as an extension of the api server: POST flowbatches (validated, through the
// bounded ingest queue, 429 + Retry-After when full) and GET flowlogs (list, top, graph). The
// server's hooks have already authenticated, authorized by URL (list flowlogs cluster-wide or
// in the URL's namespace; create flowbatches) and audited the request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, toStatus, type ApiExtension } from '../api/index.js';
import { UserError } from '../errors/index.js';
import { IngestQueue, type IngestQueueOptions } from './ingest-queue.js';
import { endpointMatchers } from './query.js';
import { DEFAULT_FLOW_LIMIT, MAX_FLOW_LIMIT, type FlowFilter, type FlowStore, type FlowTopBy, type FlowTopGroup } from './types.js';
import { validateFlowBatch } from './validate.js';

export const FLOWS_GROUP = 'flows.margay.io';
export const FLOWS_API_VERSION = `${FLOWS_GROUP}/v1`;
const PREFIX = `/apis/${FLOWS_API_VERSION}`;
const HOUR = 3_600_000;
const DEFAULT_TOP_LIMIT = 20;

export interface FlowsApiOptions extends IngestQueueOptions {
  readonly store: FlowStore;
  readonly clock?: () => number;
  /** Seconds a refused agent is told to wait (default 1). */
  readonly retryAfterSeconds?: number;
}

export interface FlowsApi {
  readonly extension: ApiExtension;
  readonly queue: IngestQueue;
}

type Query = Record<string, string | string[] | undefined>;

const badParam = (param: string, message: string): ApiError =>
  new ApiError(400, 'BadRequest', `invalid query parameter ${param}: ${message}`, { causes: [{ reason: 'FieldValueInvalid', field: param, message }] });

const STRING_PARAMS = ['namespace', 'srcNamespace', 'dstNamespace', 'pod', 'srcName', 'dstName', 'selector', 'srcSelector', 'dstSelector', 'policy', 'tier', 'host'] as const;
const KNOWN = new Set<string>([...STRING_PARAMS, 'from', 'to', 'action', 'port', 'proto', 'reporter', 'pendingAction', 'limit', 'continue', 'afterId', 'view', 'by', 'group']);

function one(query: Query, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) {
    if (v.length > 1) throw badParam(key, 'given more than once');
    return v[0];
  }
  return v;
}

/** RFC 3339 or unix milliseconds. */
export function parseTime(text: string, param: string): number {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw badParam(param, `expected an RFC 3339 time (2026-01-02T15:04:05Z) or unix milliseconds, got ${JSON.stringify(text)}`);
  return ms;
}

function choice<T extends string>(query: Query, key: string, values: readonly T[]): T | undefined {
  const v = one(query, key);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw badParam(key, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function integer(query: Query, key: string, min: number, max: number): number | undefined {
  const v = one(query, key);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) throw badParam(key, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The filter a request asks for; `scope` is the namespace of a namespaced URL. */
export function parseFlowFilter(query: Query, scope: string | undefined, now: number): FlowFilter {
  for (const key of Object.keys(query)) if (!KNOWN.has(key)) throw badParam(key, `unknown parameter; expected one of ${[...KNOWN].sort().join(', ')}`);
  const fromText = one(query, 'from');
  const toText = one(query, 'to');
  const to = toText !== undefined ? parseTime(toText, 'to') : now;
  const from = fromText !== undefined ? parseTime(fromText, 'from') : to - HOUR;
  if (from > to) throw badParam('from', 'expected from at or before to');
  const f: Record<string, unknown> = { from, to };
  if (scope !== undefined) f.scopeNamespace = scope;
  for (const key of STRING_PARAMS) {
    const v = one(query, key);
    if (v === undefined) continue;
    if (v === '') throw badParam(key, 'expected a non-empty value');
    f[key] = v;
  }
  const action = choice(query, 'action', ['allow', 'deny'] as const);
  if (action !== undefined) f.action = action;
  const pending = choice(query, 'pendingAction', ['allow', 'deny'] as const);
  if (pending !== undefined) f.pendingAction = pending;
  const reporter = choice(query, 'reporter', ['src', 'dst'] as const);
  if (reporter !== undefined) f.reporter = reporter;
  const port = integer(query, 'port', 0, 65535);
  if (port !== undefined) f.port = port;
  const proto = one(query, 'proto');
  if (proto !== undefined) {
    if (!/^[a-z0-9]{1,16}$/i.test(proto)) throw badParam('proto', `expected a protocol name (tcp, udp, icmp…) or number, got ${JSON.stringify(proto)}`);
    f.proto = proto.toLowerCase();
  }
  const filter = f as unknown as FlowFilter;
  endpointMatchers(filter); // parses the selectors now: a bad one is a 400 naming its parameter
  return filter;
}

function userErrorToBadParam(err: unknown): never {
  if (err instanceof UserError) {
    const p = err.problems[0];
    throw badParam(p?.path ?? 'query', p?.message ?? err.message);
  }
  throw err;
}

export function createFlowsApi(options: FlowsApiOptions): FlowsApi {
  const store = options.store;
  const clock = options.clock ?? Date.now;
  const queue = new IngestQueue(store, options);
  const retryAfter = options.retryAfterSeconds ?? 1;

  const listFlows = async (req: FastifyRequest, reply: FastifyReply, scope: string | undefined): Promise<unknown> => {
    const query = req.query as Query;
    let filter: FlowFilter;
    try {
      filter = parseFlowFilter(query, scope, clock());
    } catch (err) {
      return userErrorToBadParam(err);
    }
    const view = choice(query, 'view', ['list', 'top', 'graph'] as const) ?? 'list';
    if (view !== 'top') for (const key of ['by', 'group']) if (one(query, key) !== undefined) throw badParam(key, 'only with view=top');
    try {
      if (view === 'top') {
        const by = choice<FlowTopBy>(query, 'by', ['bytes', 'packets', 'flows', 'denied']) ?? 'bytes';
        const group = choice<FlowTopGroup>(query, 'group', ['pair', 'source', 'dest']) ?? 'pair';
        const limit = integer(query, 'limit', 1, MAX_FLOW_LIMIT) ?? DEFAULT_TOP_LIMIT;
        const items = await store.top({ ...filter, by, group, limit });
        return reply.code(200).send({ apiVersion: FLOWS_API_VERSION, kind: 'FlowTopList', metadata: {}, items });
      }
      if (view === 'graph') {
        const g = await store.graph(filter);
        return reply.code(200).send({ apiVersion: FLOWS_API_VERSION, kind: 'FlowGraph', metadata: {}, nodes: g.nodes, edges: g.edges });
      }
      const limit = integer(query, 'limit', 1, MAX_FLOW_LIMIT) ?? DEFAULT_FLOW_LIMIT;
      const cont = one(query, 'continue');
      const afterId = one(query, 'afterId');
      if (cont !== undefined && afterId !== undefined) throw badParam('continue', 'cannot be combined with afterId');
      const result = await store.list({ ...filter, limit, ...(cont !== undefined && cont !== '' ? { continue: cont } : {}), ...(afterId !== undefined ? { afterId } : {}) });
      return reply.code(200).send({
        apiVersion: FLOWS_API_VERSION,
        kind: 'FlowLogList',
        metadata: { ...(result.continue !== undefined ? { continue: result.continue } : {}), lastId: result.lastId },
        items: result.items,
      });
    } catch (err) {
      return userErrorToBadParam(err);
    }
  };

  const extension: ApiExtension = (app) => {
    app.post(`${PREFIX}/flowbatches`, async (req, reply) => {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (ct !== 'application/json') throw new ApiError(415, 'UnsupportedMediaType', 'a FlowBatch must be sent as application/json');
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch (err) {
        throw new ApiError(400, 'BadRequest', `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const checked = validateFlowBatch(body);
      if ('problems' in checked) {
        throw new ApiError(422, 'Invalid', `FlowBatch is invalid: ${checked.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
          kind: 'FlowBatch',
          group: FLOWS_GROUP,
          causes: checked.problems.map((p) => ({ reason: 'FieldValueInvalid', field: p.field, message: p.message })),
        });
      }
      const committed = queue.offer(checked.batch);
      if (committed === undefined) {
        // Status reason TooManyRequests, as Kubernetes answers 429 (not in the api module's reasons yet).
        const status = { ...toStatus(new ApiError(429, 'ServiceUnavailable', `the flow ingest queue is full (${queue.pending} records waiting); retry after ${retryAfter}s`, { retryAfterSeconds: retryAfter })), reason: 'TooManyRequests' };
        return reply.code(429).header('Retry-After', String(retryAfter)).send(status);
      }
      await committed;
      return reply.code(201).send({ apiVersion: FLOWS_API_VERSION, kind: 'FlowBatchResult', accepted: checked.batch.logs.length });
    });
    app.get(`${PREFIX}/flowlogs`, (req, reply) => listFlows(req, reply, undefined));
    app.get(`${PREFIX}/namespaces/:namespace/flowlogs`, (req, reply) => listFlows(req, reply, (req.params as { namespace: string }).namespace));
  };

  return { extension, queue };
}
