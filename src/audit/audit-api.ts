// The audit log over HTTP, for the console and log pipelines, as an api extension:
//   GET /apis/audit.margay.io/v1/[namespaces/NS/]events    EventList (filters as `margay audit`)
//   GET …/events?watch=1                                  JSON lines: one audit.k8s.io Event per line, live
//   GET /apis/audit.margay.io/v1/[namespaces/NS/]changes  writes with the object before and after
// RBAC is the access hooks' (resource `events`/`changes` in group audit.margay.io): the security
// auditor reads everything; a namespace owner's RoleBinding grants only the /namespaces/NS/ form.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiExtension } from '../api/index.js';
import { UserError } from '../errors/index.js';
import type { Auditor } from './auditor.js';
import { changeDiff, objectChanges } from './changes.js';
import { parseSince } from './duration.js';
import type { AuditEvent } from './event.js';
import type { AuditQuery, StoredAuditEvent } from './log.js';

export const AUDIT_API_GROUP = 'audit.margay.io';
const BASE = `/apis/${AUDIT_API_GROUP}/v1`;
const MAX_LIST = 10_000;

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, k: string): string | undefined => (Array.isArray(q[k]) ? q[k][0] : q[k]);
const many = (q: Query, k: string): string[] | undefined => {
  const v = q[k];
  const list = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');
  return list.length > 0 ? list : undefined;
};

/** The query parameters as an AuditQuery; bad values are UserErrors naming the parameter. */
export function auditQueryOf(q: Query, namespace: string | undefined, now: Date): AuditQuery {
  const int = (k: string): number | undefined => {
    const v = one(q, k);
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new UserError({ path: k, message: `expected a whole number, got ${JSON.stringify(v)}` });
    return Number(v);
  };
  const since = one(q, 'since');
  const until = one(q, 'until');
  const verbs = many(q, 'verb');
  const resources = many(q, 'resource');
  const name = one(q, 'name');
  const user = one(q, 'user');
  const code = int('code');
  const limit = int('limit');
  const afterSeq = int('afterSeq');
  const stage = one(q, 'stage');
  return {
    ...(since !== undefined ? { since: parseSince(since, 'since', now) } : {}),
    ...(until !== undefined ? { until: parseSince(until, 'until', now) } : {}),
    ...(verbs !== undefined ? { verbs } : {}),
    ...(resources !== undefined ? { resources } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(stage !== undefined ? { stage } : {}),
    ...(afterSeq !== undefined ? { afterSeq } : {}),
    limit: Math.min(limit ?? MAX_LIST, MAX_LIST),
  };
}

/** Whether a live event passes the filters of a stream (the SQL filters, in memory). */
function passes(q: AuditQuery, e: AuditEvent): boolean {
  if ((q.stage ?? 'ResponseComplete') !== 'all' && e.stage !== (q.stage ?? 'ResponseComplete')) return false;
  if (q.verbs !== undefined && !q.verbs.includes(e.verb)) return false;
  if (q.resources !== undefined && !q.resources.includes(e.objectRef?.resource ?? '')) return false;
  if (q.namespace !== undefined && e.objectRef?.namespace !== q.namespace) return false;
  if (q.name !== undefined && e.objectRef?.name !== q.name) return false;
  if (q.user !== undefined && e.user.username !== q.user) return false;
  if (q.code !== undefined && e.responseStatus?.code !== q.code) return false;
  return true;
}

/** The exported form: the event with its position in the log (to resume a stream with afterSeq). */
const exported = (s: StoredAuditEvent): AuditEvent => ({ ...s.event, annotations: { ...s.event.annotations, 'audit.margay.io/seq': String(s.seq) } });

function sendStatus(reply: FastifyReply, code: number, reason: string, message: string): FastifyReply {
  return reply.code(code).header('content-type', 'application/json').send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

export function auditApi(auditor: Auditor, clock: () => Date = () => new Date()): ApiExtension {
  return (app: FastifyInstance) => {
    const withQuery = (req: FastifyRequest, reply: FastifyReply, run: (q: AuditQuery) => unknown): unknown => {
      const ns = (req.params as { ns?: string }).ns;
      let query: AuditQuery;
      try {
        query = auditQueryOf(req.query as Query, ns, clock());
      } catch (err) {
        if (err instanceof UserError) return sendStatus(reply, 400, 'BadRequest', err.message);
        throw err;
      }
      return run(query);
    };
    const events = (req: FastifyRequest, reply: FastifyReply) =>
      withQuery(req, reply, (query) => {
        const watch = ['1', 'true'].includes(one(req.query as Query, 'watch') ?? '');
        if (!watch) {
          const items = auditor.log.query(query).map(exported);
          return reply.header('content-type', 'application/json').send(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items }));
        }
        return stream(req, reply, query);
      });
    // A stream: what is already in the log after `afterSeq` (when given), then every new event.
    const stream = (req: FastifyRequest, reply: FastifyReply, query: AuditQuery) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'Content-Type': 'application/jsonl', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
      let last = query.afterSeq ?? Number.MAX_SAFE_INTEGER;
      if (query.afterSeq !== undefined) {
        for (const s of auditor.log.query(query)) {
          res.write(`${JSON.stringify(exported(s))}\n`);
          last = s.seq;
        }
      }
      const sub = auditor.subscribe((batch) => {
        const lines = batch.filter((s) => (query.afterSeq === undefined || s.seq > last) && passes(query, s.event)).map((s) => `${JSON.stringify(exported(s))}\n`);
        if (lines.length > 0) res.write(lines.join(''));
      });
      const end = (): void => {
        sub.dispose();
        if (!res.writableEnded) res.end();
      };
      req.raw.on('close', end);
      res.on('error', end);
      return reply;
    };
    const changes = (req: FastifyRequest, reply: FastifyReply) =>
      withQuery(req, reply, (query) => {
        const items = objectChanges(auditor.log, query).map((c) => ({ seq: c.seq, time: c.event.stageTimestamp, user: c.event.user.username, verb: c.event.verb, objectRef: c.event.objectRef, auditID: c.event.auditID, before: c.before ?? null, after: c.after ?? null, beforeKnown: c.beforeKnown, diff: changeDiff(c) }));
        return reply.header('content-type', 'application/json').send(JSON.stringify({ kind: 'ChangeList', apiVersion: `${AUDIT_API_GROUP}/v1`, metadata: {}, items }));
      });
    app.get(`${BASE}/events`, events);
    app.get(`${BASE}/namespaces/:ns/events`, events);
    app.get(`${BASE}/changes`, changes);
    app.get(`${BASE}/namespaces/:ns/changes`, changes);
  };
}
