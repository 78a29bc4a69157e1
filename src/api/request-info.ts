// What a request asks to do, in RBAC's terms (Kubernetes' RequestInfoFactory): a resource request
// (verb, group, resource, subresource, namespace, name) or a non-resource request (verb, path).
import type { RequestAttributes, UserInfo } from '../rbac/index.js';

/** Subresources of a namespace (any other segment after a namespace's name is a resource in it). */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

type Query = Record<string, string | string[] | undefined>;

const truthy = (v: string | string[] | undefined): boolean => {
  const x = Array.isArray(v) ? v[0] : v;
  return x === 'true' || x === '1';
};

export interface RequestInfo {
  readonly resourceRequest: boolean;
  readonly verb: string;
  readonly path: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export function requestInfo(method: string, path: string, query: Query): RequestInfo {
  const lower = method.toLowerCase();
  const nonResource = (): RequestInfo => ({ resourceRequest: false, verb: lower === 'head' ? 'get' : lower, path });
  let parts = path.split('/').filter((s) => s !== '');
  try {
    parts = parts.map((s) => decodeURIComponent(s));
  } catch {
    return nonResource();
  }
  let apiGroup: string;
  let apiVersion: string | undefined;
  if (parts[0] === 'api') {
    apiGroup = '';
    apiVersion = parts[1];
    parts = parts.slice(2);
  } else if (parts[0] === 'apis') {
    apiGroup = parts[1] ?? '';
    apiVersion = parts[2];
    parts = parts.slice(3);
  } else return nonResource();
  if (apiVersion === undefined || parts.length === 0) return nonResource();

  let verb: string;
  switch (method) {
    case 'POST': verb = 'create'; break;
    case 'GET': case 'HEAD': verb = 'get'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = 'delete'; break;
    default: verb = lower;
  }
  if (parts[0] === 'watch') {
    if (verb === 'get') verb = 'watch';
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  }
  const [resource, name, subresource] = parts;
  if (name === undefined) {
    if (verb === 'get') verb = 'list';
    if (verb === 'delete') verb = 'deletecollection';
  }
  if (verb === 'get' || verb === 'list') if (truthy(query.watch)) verb = 'watch';
  return {
    resourceRequest: true,
    verb,
    path,
    apiGroup,
    apiVersion,
    ...(resource !== undefined ? { resource } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

export function attributesOf(info: RequestInfo, user: UserInfo): RequestAttributes {
  const { path: _p, apiVersion: _v, ...rest } = info;
  return info.resourceRequest ? { ...rest, user } : { user, verb: info.verb, resourceRequest: false, path: info.path };
}
