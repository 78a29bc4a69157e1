// Fired alerts over HTTP (an api extension): GET /apis/alerts.margay.io/v1/firedalerts
// [?alert=NAME&since=24h&limit=N]. RBAC (resource `firedalerts`) is checked by the access hooks;
// the Alert objects themselves are ordinary resources of the registry.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiExtension } from '../api/index.js';
import { parseSince } from '../audit/index.js';
import { UserError } from '../errors/index.js';
import { ALERT_GROUP, firedAlertObject } from './engine.js';
import type { FiringStore } from './firings.js';

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, k: string): string | undefined => (Array.isArray(q[k]) ? q[k][0] : q[k]);

export function alertsApi(firings: FiringStore, clock: () => Date = () => new Date()): ApiExtension {
  return (app: FastifyInstance) => {
    app.get(`/apis/${ALERT_GROUP}/v1/firedalerts`, (req: FastifyRequest, reply: FastifyReply) => {
      const q = req.query as Query;
      try {
        const since = one(q, 'since');
        const limit = one(q, 'limit');
        if (limit !== undefined && !/^\d+$/.test(limit)) throw new UserError({ path: 'limit', message: `expected a whole number, got ${JSON.stringify(limit)}` });
        const alert = one(q, 'alert');
        const items = firings.list({ ...(alert !== undefined ? { alert } : {}), ...(since !== undefined ? { since: parseSince(since, 'since', clock()) } : {}), ...(limit !== undefined ? { limit: Number(limit) } : {}) }).map((f) => firedAlertObject(f));
        return reply.header('content-type', 'application/json').send(JSON.stringify({ apiVersion: `${ALERT_GROUP}/v1`, kind: 'FiredAlertList', metadata: {}, items }));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        return reply.code(400).header('content-type', 'application/json').send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'BadRequest', code: 400 }));
      }
    });
  };
}
