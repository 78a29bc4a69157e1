// Who may do what, and the record of it: bearer-token authentication, RBAC authorization over the
// Role/ClusterRole/…Binding objects the API itself serves, SelfSubjectAccessReview, and audit
// events for every request. Installed as fastify hooks, so every route goes through them.
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditHandle, Auditor } from '../audit/index.js';
import { bearerToken } from '../auth/index.js';
import { RBAC_GROUP, RbacAuthorizer, forbiddenMessage, toBinding, toRole, withBuiltins, type BindingObject, type RequestAttributes, type RoleObject, type UserInfo } from '../rbac/index.js';
import type { Disposable, Store } from '../store/index.js';
import { isObject, type JsonObject } from './patch.js';
import { attributesOf, requestInfo, type RequestInfo } from './request-info.js';
import { ApiError, badRequest, forbidden } from './status.js';
import type { WatchHub } from './watch-hub.js';

/** Paths anyone may read without credentials (probes and version), as kube's system:public-info-viewer. */
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
/** The console's static files (no data in them; its API calls carry a token). */
const isConsoleAsset = (path: string): boolean => path === '/console' || path.startsWith('/console/');
const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
/** With authentication off every request acts as this user (and is allowed). */
const UNAUTHENTICATED_ADMIN: UserInfo = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const RBAC_PREFIX = `/registry/${RBAC_GROUP}/`;
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface AccessOptions {
  /** Bearer-token lookup (static or issued tokens); undefined turns authentication and authorization off. */
  readonly authenticate?: (token: string) => UserInfo | undefined | Promise<UserInfo | undefined>;
  readonly auditor?: Auditor;
  /** Who a request without a token is (RBAC still applies); undefined: such requests are 401. */
  readonly anonymousUser?: UserInfo;
}

interface RequestContext {
  info: RequestInfo;
  user: UserInfo;
  audit: AuditHandle | undefined;
  responseBody: unknown;
}

/**
 * The user of a verified TLS client certificate (CN = user, O = groups), as kube-apiserver's
 * x509 authenticator. Only certificates the server's client CA signed count (`authorized`).
 */
export function clientCertificateUser(req: FastifyRequest): UserInfo | undefined {
  const socket = req.raw.socket as TLSSocket;
  if (socket.encrypted !== true || !socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (name === undefined || name === '') return undefined;
  const o = subject?.O;
  const groups = (Array.isArray(o) ? o : o === undefined ? [] : [o]).filter((g) => g !== '' && g !== 'system:authenticated');
  return { name, groups: [...groups, 'system:authenticated'] };
}

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

function parseJson(payload: unknown): unknown {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : undefined;
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class AccessControl {
  private readonly contexts = new WeakMap<FastifyRequest, RequestContext>();
  private authorizer: RbacAuthorizer | undefined;
  private dirty = true;
  private sub: Disposable | undefined;

  constructor(
    private readonly store: Store,
    private readonly hub: WatchHub,
    private readonly options: AccessOptions,
  ) {}

  get enabled(): boolean {
    return this.options.authenticate !== undefined;
  }

  install(app: FastifyInstance): void {
    if (this.enabled) {
      this.sub = this.hub.subscribe({ prefix: RBAC_PREFIX, fromRevision: this.hub.latestRevision, onEvent: () => (this.dirty = true), onError: () => (this.dirty = true) });
    }
    app.addHook('onRequest', async (req, reply) => this.onRequest(req, reply));
    app.addHook('preHandler', async (req) => {
      const ctx = this.contexts.get(req);
      if (ctx?.audit !== undefined && (ctx.audit.level === 'Request' || ctx.audit.level === 'RequestResponse')) {
        const body = parseJson(req.body);
        if (body !== undefined) ctx.audit.setRequestObject(body);
      }
    });
    app.addHook('onSend', async (req, reply, payload) => {
      const ctx = this.contexts.get(req);
      if (ctx === undefined) return payload;
      const code = reply.statusCode;
      if (ctx.audit !== undefined && (code >= 400 || ctx.audit.level === 'RequestResponse' || ctx.info.verb === 'create')) ctx.responseBody = parseJson(payload);
      // A change to RBAC objects applies to the very next request (not only once the watch sees it).
      if (ctx.info.apiGroup === RBAC_GROUP && WRITES.has(ctx.info.verb) && code < 400) this.dirty = true;
      return payload;
    });
  }

  /** RBAC's answer for `user` (always yes when authentication is off). */
  async can(user: UserInfo, attrs: { verb: string; apiGroup: string; resource: string; namespace?: string; name?: string }): Promise<boolean> {
    if (!this.enabled) return true;
    return (await this.currentAuthorizer()).authorize({ user, resourceRequest: true, ...attrs }).allowed;
  }

  /** The authenticated user of a request (system:admin when authentication is off). */
  userOf(req: FastifyRequest): UserInfo {
    return this.contexts.get(req)?.user ?? UNAUTHENTICATED_ADMIN;
  }

  private async onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = req.url.split('?')[0] ?? '/';
    const info = requestInfo(req.method, path, req.query as Record<string, string | string[] | undefined>);
    let user: UserInfo | undefined = UNAUTHENTICATED_ADMIN;
    let anonymous = false;
    if (this.options.authenticate !== undefined) {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined && (ANONYMOUS_PATHS.has(path) || isConsoleAsset(path))) {
        user = ANONYMOUS;
        anonymous = true;
      } else if (token === undefined && clientCertificateUser(req) !== undefined) {
        user = clientCertificateUser(req);
      } else if (token === undefined && this.options.anonymousUser !== undefined) {
        user = this.options.anonymousUser;
      } else {
        user = token === undefined ? undefined : await this.options.authenticate(token);
      }
    }
    if (user !== undefined && !anonymous && this.enabled) user = await this.impersonate(req, user);
    const who = user ?? ANONYMOUS;
    const ctx: RequestContext = { info, user: who, audit: undefined, responseBody: undefined };
    this.contexts.set(req, ctx);
    const auditor = this.options.auditor;
    if (auditor !== undefined) {
      const ua = req.headers['user-agent'];
      ctx.audit = auditor.begin({
        requestURI: req.url,
        verb: info.verb,
        user: who,
        sourceIP: req.ip,
        ...(typeof ua === 'string' ? { userAgent: ua } : {}),
        ...(info.resourceRequest
          ? {
              objectRef: {
                ...(info.resource !== undefined ? { resource: info.resource } : {}),
                ...(info.namespace !== undefined ? { namespace: info.namespace } : {}),
                ...(info.name !== undefined ? { name: info.name } : {}),
                apiGroup: info.apiGroup ?? '',
                ...(info.apiVersion !== undefined ? { apiVersion: info.apiVersion } : {}),
                ...(info.subresource !== undefined ? { subresource: info.subresource } : {}),
              },
            }
          : {}),
        policyInput: { user: who.name, groups: who.groups, verb: info.verb, resourceRequest: info.resourceRequest, path, ...(info.apiGroup !== undefined ? { apiGroup: info.apiGroup } : {}), ...(info.resource !== undefined ? { resource: info.resource } : {}), ...(info.subresource !== undefined ? { subresource: info.subresource } : {}), ...(info.namespace !== undefined ? { namespace: info.namespace } : {}), ...(info.name !== undefined ? { name: info.name } : {}) },
      });
      const handle = ctx.audit;
      if (handle !== undefined) reply.raw.once('close', () => handle.complete(reply.raw.statusCode, ctx.responseBody));
    }
    if (user === undefined) throw unauthorized();
    if (anonymous || !this.enabled) return;
    const attrs = attributesOf(info, user);
    const decision = (await this.currentAuthorizer()).authorize(attrs);
    if (!decision.allowed) throw this.forbiddenError(attrs);
  }

  /**
   * Impersonate-User / Impersonate-Group (kubectl --as, --as-group): the caller needs the
   * `impersonate` verb on users/NAME and groups/NAME; the request then runs as that user.
   */
  private async impersonate(req: FastifyRequest, user: UserInfo): Promise<UserInfo> {
    const header = (name: string): string[] => {
      const v = req.headers[name];
      return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x) => x !== '');
    };
    const [asUser] = header('impersonate-user');
    const asGroups = header('impersonate-group');
    if (asUser === undefined) {
      if (asGroups.length > 0) throw badRequest('Impersonate-Group requires Impersonate-User');
      return user;
    }
    const authz = await this.currentAuthorizer();
    const checks: RequestAttributes[] = [
      { user, verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'users', name: asUser },
      ...asGroups.map((g): RequestAttributes => ({ user, verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'groups', name: g })),
    ];
    for (const attrs of checks) if (!authz.authorize(attrs).allowed) throw this.forbiddenError(attrs);
    return { name: asUser, groups: [...asGroups.filter((g) => g !== 'system:authenticated'), 'system:authenticated'] };
  }

  private forbiddenError(attrs: RequestAttributes): ApiError {
    const err = forbidden(forbiddenMessage(attrs));
    if (!attrs.resourceRequest) return err;
    return new ApiError(err.code, err.reason, err.message, { ...(attrs.name !== undefined ? { name: attrs.name } : {}), group: attrs.apiGroup ?? '', kind: attrs.resource ?? '' });
  }

  async currentAuthorizer(): Promise<RbacAuthorizer> {
    if (!this.dirty && this.authorizer !== undefined) return this.authorizer;
    this.dirty = false;
    const listed = await this.store.list({ prefix: RBAC_PREFIX });
    const roles: RoleObject[] = [];
    const clusterRoles: RoleObject[] = [];
    const roleBindings: BindingObject[] = [];
    const clusterRoleBindings: BindingObject[] = [];
    for (const item of listed.items) {
      const v = item.value as Record<string, unknown>;
      const plural = item.key.slice(RBAC_PREFIX.length).split('/')[0];
      if (plural === 'roles') roles.push(toRole(v));
      else if (plural === 'clusterroles') clusterRoles.push(toRole(v));
      else {
        const b = toBinding(v);
        if (b === undefined) continue;
        if (plural === 'rolebindings') roleBindings.push(b);
        else if (plural === 'clusterrolebindings') clusterRoleBindings.push(b);
      }
    }
    this.authorizer = new RbacAuthorizer(withBuiltins({ roles, clusterRoles, roleBindings, clusterRoleBindings }));
    return this.authorizer;
  }

  /** POST selfsubjectaccessreviews: may the caller do this? (`kubectl auth can-i`). */
  async selfSubjectAccessReview(req: FastifyRequest, body: unknown): Promise<JsonObject> {
    if (!isObject(body) || !isObject(body.spec)) throw badRequest('expected a SelfSubjectAccessReview with a spec');
    const spec = body.spec;
    const user = this.userOf(req);
    let attrs: RequestAttributes;
    const str = (o: JsonObject, k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
    if (isObject(spec.resourceAttributes)) {
      const r = spec.resourceAttributes;
      const opt = (k: string) => str(r, k);
      attrs = {
        user,
        resourceRequest: true,
        verb: opt('verb') ?? '',
        apiGroup: opt('group') ?? '',
        resource: opt('resource') ?? '',
        ...(opt('subresource') !== undefined ? { subresource: opt('subresource') } : {}),
        ...(opt('namespace') !== undefined ? { namespace: opt('namespace') } : {}),
        ...(opt('name') !== undefined ? { name: opt('name') } : {}),
      };
    } else if (isObject(spec.nonResourceAttributes)) {
      const n = spec.nonResourceAttributes;
      attrs = { user, resourceRequest: false, verb: str(n, 'verb') ?? '', path: str(n, 'path') ?? '' };
    } else throw badRequest('spec: expected resourceAttributes or nonResourceAttributes');
    const decision = this.enabled ? (await this.currentAuthorizer()).authorize(attrs) : { allowed: true, reason: 'authorization is off' };
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: decision.allowed, ...(decision.reason !== '' ? { reason: decision.reason } : {}) },
    } as JsonObject;
  }

  close(): void {
    this.sub?.dispose();
  }
}
