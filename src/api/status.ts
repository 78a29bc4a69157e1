// Errors as Kubernetes `Status` objects: one constructor per reason, one class carrying the HTTP
// code, and `toStatus` for the body. Everything a client can cause ends up as an ApiError; any
// other exception reaching the top is a bug and becomes a 500 InternalError.
import { UserError, type Problem } from '../errors/index.js';

export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'Forbidden'
  | 'Unauthorized'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function toStatus(err: ApiError): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details !== undefined ? { details: err.details } : {}),
    code: err.code,
  };
}

export function successStatus(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details !== undefined ? { details } : {}), code: 200 };
}

/** What an error names: the resource (`pods`, `networkpolicies.projectcalico.org`) and object. */
export interface Qualified {
  group: string;
  /** The plural resource name, as Kubernetes puts it in messages. */
  resource: string;
  kind?: string;
}

function qualifiedResource(q: Qualified): string {
  return q.group === '' ? q.resource : `${q.resource}.${q.group}`;
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const notFound = (q: Qualified, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(q)} "${name}" not found`, { name, group: q.group, kind: q.resource });

export const alreadyExists = (q: Qualified, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(q)} "${name}" already exists`, { name, group: q.group, kind: q.resource });

export const conflict = (q: Qualified, name: string, why: string, causes?: StatusCause[]): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(q)} "${name}": ${why}`, {
    name,
    group: q.group,
    kind: q.resource,
    ...(causes !== undefined ? { causes } : {}),
  });

/** A resourceVersion or continue token older than the store's history: clients relist. */
export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const gone = (message: string): ApiError => new ApiError(410, 'Gone', message);

export const methodNotAllowed = (message: string): ApiError => new ApiError(405, 'MethodNotAllowed', message);

export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${contentType}`);

export const notAcceptable = (message: string): ApiError => new ApiError(406, 'NotAcceptable', message);

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`);

export const forbidden = (message: string): ApiError => new ApiError(403, 'Forbidden', message);

export const internalError = (message: string): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

/** The object being validated, for naming it in an Invalid error. */
export interface InvalidTarget {
  group: string;
  kind: string;
  name: string;
}

/** Kubernetes cause types, picked from the wording of our problem messages. */
function causeReason(message: string): string {
  if (message.startsWith('required field is missing')) return 'FieldValueRequired';
  if (message.startsWith('unknown field')) return 'FieldValueNotFound';
  if (message.startsWith('duplicate value')) return 'FieldValueDuplicate';
  if (/^expected at most \d+ item/.test(message)) return 'FieldValueTooMany';
  if (/^expected (one of|"[^"]*"(, |$))/.test(message)) return 'FieldValueNotSupported';
  return 'FieldValueInvalid';
}

function renderValue(v: unknown): string {
  if (v === undefined) return '';
  const text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? (Array.isArray(v) ? '[…]' : '{…}') : String(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * 422 Invalid from validation problems (each with a field path), the message in Kubernetes'
 * shape: `GlobalNetworkPolicy "x" is invalid: spec.selector: Invalid value: "a ==": …`.
 * `valueAt` looks up what was sent at a path, so the message can show it.
 */
export function invalid(target: InvalidTarget, problems: readonly Problem[], valueAt?: (path: string) => unknown): ApiError {
  const causes: StatusCause[] = problems.map((p) => {
    const reason = causeReason(p.message);
    const field = p.path ?? '';
    let message = p.message;
    if (reason === 'FieldValueRequired') message = `Required value: ${p.message.replace(/^required field is missing;?\s*/, '')}`;
    else if (reason === 'FieldValueNotFound') message = p.message.replace(/^unknown field;?\s*/, 'Unsupported value: unknown field; ');
    else if (field !== '') {
      const v = valueAt?.(field);
      message = v === undefined ? `Invalid value: ${p.message}` : `Invalid value: ${renderValue(v)}: ${p.message}`;
    }
    return { reason, message, ...(field !== '' ? { field } : {}) };
  });
  const parts = causes.map((c) => (c.field !== undefined ? `${c.field}: ${c.message ?? ''}` : (c.message ?? '')));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${target.kind} "${target.name}" is invalid: ${list}`, {
    name: target.name,
    group: target.group,
    kind: target.kind,
    causes,
  });
}

/** Turns a UserError from validation into 422 Invalid, and passes anything else through. */
export function invalidFromUserError(target: InvalidTarget, err: unknown, valueAt?: (path: string) => unknown): unknown {
  return err instanceof UserError ? invalid(target, err.problems, valueAt) : err;
}

export function isApiError(err: unknown, reason?: StatusReason): err is ApiError {
  return err instanceof ApiError && (reason === undefined || err.reason === reason);
}
export const isNotFound = (err: unknown): boolean => isApiError(err, 'NotFound');
export const isConflict = (err: unknown): boolean => isApiError(err, 'Conflict');
export const isAlreadyExists = (err: unknown): boolean => isApiError(err, 'AlreadyExists');
export const isInvalid = (err: unknown): boolean => isApiError(err, 'Invalid');
export const isGone = (err: unknown): boolean => err instanceof ApiError && err.code === 410;
