// The HTTP API of issued tokens, mounted as an api extension under /apis/auth.margay.io/v1/tokens:
// POST issues (the secret is in the response, once), GET lists or reads (never a secret), DELETE
// revokes. The access hooks have already checked RBAC on `tokens.auth.margay.io`; issuing also
// needs `impersonate` on the user and each group, since a token acts as them.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiExtension, ApiExtensionContext } from '../api/index.js';
import { UserError } from '../errors/index.js';
import { IssuedTokens, MAX_TOKEN_TTL_MS, type IssuedTokenRecord } from './issued-tokens.js';

export const TOKEN_GROUP = 'auth.margay.io';
const BASE = `/apis/${TOKEN_GROUP}/v1/tokens`;
const DEFAULT_TTL_SECONDS = 24 * 3600;

/** A Status reply (the api module's ApiError is not imported: api depends on auth). */
function sendStatus(reply: FastifyReply, code: number, reason: string, message: string, details?: Record<string, unknown>): FastifyReply {
  return reply
    .code(code)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details !== undefined ? { details } : {}), code }));
}

export function tokenObject(r: IssuedTokenRecord, token?: string): Record<string, unknown> {
  return {
    apiVersion: `${TOKEN_GROUP}/v1`,
    kind: 'Token',
    metadata: { name: r.id, creationTimestamp: r.creationTimestamp, annotations: { 'auth.margay.io/created-by': r.createdBy } },
    spec: { user: r.user, ...(r.uid !== undefined ? { uid: r.uid } : {}), groups: r.groups, ...(r.description !== undefined ? { description: r.description } : {}) },
    status: {
      expirationTimestamp: r.expirationTimestamp,
      ...(r.revocationTimestamp !== undefined ? { revoked: true, revocationTimestamp: r.revocationTimestamp, revokedBy: r.revokedBy } : { revoked: false }),
      ...(token !== undefined ? { token } : {}),
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a Token create body; problems carry field paths. */
export function parseTokenRequest(body: unknown): { user: string; uid?: string; groups: string[]; ttlMs: number; description?: string } {
  const problems: { path: string; message: string }[] = [];
  if (!isRecord(body)) throw new UserError({ path: '', message: 'expected a Token object: {"apiVersion":"auth.margay.io/v1","kind":"Token","spec":{"user":…}}' });
  if (body.kind !== undefined && body.kind !== 'Token') problems.push({ path: 'kind', message: `expected "Token", got ${JSON.stringify(body.kind)}` });
  if (body.apiVersion !== undefined && body.apiVersion !== `${TOKEN_GROUP}/v1`) problems.push({ path: 'apiVersion', message: `expected "${TOKEN_GROUP}/v1", got ${JSON.stringify(body.apiVersion)}` });
  const spec = body.spec;
  if (!isRecord(spec)) throw new UserError({ path: 'spec', message: 'expected an object with user, groups and expirationSeconds' });
  const known = new Set(['user', 'uid', 'groups', 'expirationSeconds', 'description']);
  for (const k of Object.keys(spec)) if (!known.has(k)) problems.push({ path: `spec.${k}`, message: 'unknown field; expected user, uid, groups, expirationSeconds or description' });
  const user = spec.user;
  if (typeof user !== 'string' || user.trim() === '') problems.push({ path: 'spec.user', message: 'expected a non-empty user name' });
  if (spec.uid !== undefined && typeof spec.uid !== 'string') problems.push({ path: 'spec.uid', message: 'expected a string' });
  if (spec.description !== undefined && typeof spec.description !== 'string') problems.push({ path: 'spec.description', message: 'expected a string' });
  const groups: string[] = [];
  if (spec.groups !== undefined) {
    if (!Array.isArray(spec.groups)) problems.push({ path: 'spec.groups', message: 'expected a list of group names' });
    else spec.groups.forEach((g, i) => (typeof g === 'string' && g !== '' ? groups.push(g) : problems.push({ path: `spec.groups[${i}]`, message: 'expected a non-empty group name' })));
  }
  const secs = spec.expirationSeconds ?? DEFAULT_TTL_SECONDS;
  if (typeof secs !== 'number' || !Number.isInteger(secs) || secs < 1 || secs * 1000 > MAX_TOKEN_TTL_MS) {
    problems.push({ path: 'spec.expirationSeconds', message: `expected a whole number of seconds from 1 to ${MAX_TOKEN_TTL_MS / 1000}, got ${JSON.stringify(secs)}` });
  }
  if (problems.length > 0) throw new UserError(problems);
  return {
    user: user as string,
    ...(typeof spec.uid === 'string' ? { uid: spec.uid } : {}),
    groups,
    ttlMs: (secs as number) * 1000,
    ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
  };
}

function parseBody(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The api extension serving issued tokens. */
export function tokenApi(tokens: IssuedTokens): ApiExtension {
  return (app: FastifyInstance, ctx: ApiExtensionContext) => {
    app.post(BASE, async (req, reply) => {
      let parsed: ReturnType<typeof parseTokenRequest>;
      try {
        parsed = parseTokenRequest(parseBody(req.body));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        const causes = err.problems.map((p) => ({ reason: 'FieldValueInvalid', field: p.path ?? '', message: p.message }));
        return sendStatus(reply, 422, 'Invalid', `Token is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, { group: TOKEN_GROUP, kind: 'Token', causes });
      }
      const caller = ctx.userOf(req);
      // A token acts as its user and groups: minting one is impersonating them.
      for (const [resource, name] of [['users', parsed.user], ...parsed.groups.map((g) => ['groups', g])] as [string, string][]) {
        if (!(await ctx.can(caller, { verb: 'impersonate', apiGroup: '', resource, name }))) {
          return sendStatus(reply, 403, 'Forbidden', `tokens.${TOKEN_GROUP} is forbidden: User "${caller.name}" cannot impersonate ${resource} "${name}", which issuing this token requires`, { group: TOKEN_GROUP, kind: 'tokens' });
        }
      }
      const { token, record } = await tokens.issue({ ...parsed, createdBy: caller.name });
      return reply.code(201).header('content-type', 'application/json').send(JSON.stringify(tokenObject(record, token)));
    });
    app.get(BASE, async (_req, reply) => {
      const items = (await tokens.list()).map((r) => tokenObject(r));
      return reply.header('content-type', 'application/json').send(JSON.stringify({ apiVersion: `${TOKEN_GROUP}/v1`, kind: 'TokenList', metadata: {}, items }));
    });
    app.get(`${BASE}/:id`, async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const r = await tokens.get(id);
      if (r === undefined) return sendStatus(reply, 404, 'NotFound', `tokens.${TOKEN_GROUP} "${id}" not found`, { name: id, group: TOKEN_GROUP, kind: 'tokens' });
      return reply.header('content-type', 'application/json').send(JSON.stringify(tokenObject(r)));
    });
    // Revocation keeps the record (who revoked it, when); the token stops working at once.
    app.delete(`${BASE}/:id`, async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const r = await tokens.revoke(id, ctx.userOf(req).name);
      if (r === undefined) return sendStatus(reply, 404, 'NotFound', `tokens.${TOKEN_GROUP} "${id}" not found`, { name: id, group: TOKEN_GROUP, kind: 'tokens' });
      return reply.header('content-type', 'application/json').send(JSON.stringify(tokenObject(r)));
    });
  };
}
