// What the server does to an object on every write: check identity against the URL, validate and
// default through the resources module (turning problems into 422 Invalid), keep fields the model
// does not know (core kinds), and manage metadata as Kubernetes does (uid, creationTimestamp,
// generation, resourceVersion, managedFields).
import { randomUUID } from 'node:crypto';
import { isUserError, type Problem } from '../errors/index.js';
import { RBAC_GROUP, validateRbacObject } from '../rbac/index.js';
import { decodeObject } from '../resources/index.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { badRequest, invalid, type InvalidTarget } from './status.js';
import { deepEqual, isObject, type Json, type JsonObject } from './patch.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Drops `key: null` at any depth: Kubernetes' decoder treats an explicit null as absent. */
export function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** Parses a field path as `fieldPath` renders it: `spec.ingress[0]["a/b"].x` → segments. */
export function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\./g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

export function valueAtFieldPath(obj: Json, path: string): Json | undefined {
  let cur: Json | undefined = obj;
  for (const seg of parseFieldPath(path)) {
    if (typeof seg === 'number') cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = isObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function deleteAtFieldPath(obj: Json, path: string): void {
  const segs = parseFieldPath(path);
  const last = segs.pop();
  let cur: Json | undefined = obj;
  for (const seg of segs) {
    cur = typeof seg === 'number' ? (Array.isArray(cur) ? cur[seg] : undefined) : isObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) return;
  }
  if (typeof last === 'string' && isObject(cur)) delete cur[last];
}

/**
 * Adds what decoding defaulted to the object the user sent: keys the user left out are filled
 * from `decoded`, maps recurse, same-length lists recurse item by item, and where both have a
 * scalar the decoded (normalised) one wins. Keys only the user sent are kept.
 */
export function mergeDefaults(raw: Json, decoded: Json): Json {
  if (isObject(raw) && isObject(decoded)) {
    const out: JsonObject = { ...raw };
    for (const [k, v] of Object.entries(decoded)) out[k] = k in raw ? mergeDefaults(raw[k] as Json, v) : v;
    return out;
  }
  if (Array.isArray(raw) && Array.isArray(decoded) && raw.length === decoded.length) return raw.map((x, i) => mergeDefaults(x, decoded[i] as Json));
  return decoded;
}

export interface Validated {
  object: JsonObject;
  warnings: string[];
}

const isUnknownField = (p: Problem): boolean => p.message.startsWith('unknown field');

/**
 * Validates and defaults a body for `type`; returns the object to store (metadata as sent) and
 * any warnings. Identity is checked first (400), then the schema (422).
 */
export function validateObject(type: ResourceType, body: JsonObject, namespace: string | undefined, fieldValidation: FieldValidation): Validated {
  const object = dropNulls(body) as JsonObject;
  const apiVersion = apiVersionOf(type);
  if (object.apiVersion === undefined) object.apiVersion = apiVersion;
  if (object.kind === undefined) object.kind = type.kind;
  if (object.apiVersion !== apiVersion || object.kind !== type.kind) {
    throw badRequest(`the API version and kind in the data (${String(object.apiVersion)}, ${String(object.kind)}) do not match the expected ${apiVersion}, ${type.kind}`);
  }
  if (!isObject(object.metadata)) object.metadata = {};
  const meta = object.metadata as JsonObject;
  if (type.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (namespace !== undefined) meta.namespace = namespace;
  } else {
    delete meta.namespace;
  }
  const name = typeof meta.name === 'string' ? meta.name : '';
  const target = { group: type.group, kind: type.kind, name };
  const warnings: string[] = [];
  if (type.group === RBAC_GROUP) return validateRbac(type, object, target, fieldValidation, warnings);
  const source = { file: 'request body', document: 1 };
  let decoded: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      decoded = decodeObject(object, source);
      break;
    } catch (err) {
      if (!isUserError(err)) throw err;
      const unknown = err.problems.filter(isUnknownField);
      const other = err.problems.filter((p) => !isUnknownField(p));
      if (other.length > 0 || fieldValidation === 'Strict' || attempt > 0) {
        throw invalid(target, fieldValidation === 'Strict' || attempt > 0 ? err.problems : other, (path) => valueAtFieldPath(object, path));
      }
      // Warn / Ignore: drop the unknown fields, as a Kubernetes decoder would, and decode again.
      for (const p of unknown) {
        if (p.path === undefined) continue;
        if (fieldValidation === 'Warn') warnings.push(`unknown field "${p.path}"`);
        deleteAtFieldPath(object, p.path);
      }
    }
  }
  const { metadata: _m, ...decodedRest } = decoded as JsonObject;
  const merged = mergeDefaults(object, decodedRest) as JsonObject;
  merged.metadata = meta;
  return { object: merged, warnings };
}

/** RBAC kinds: the rbac module's rules; unknown fields follow fieldValidation as elsewhere. */
function validateRbac(type: ResourceType, object: JsonObject, target: InvalidTarget, fieldValidation: FieldValidation, warnings: string[]): Validated {
  const problems = validateRbacObject(type.kind, object);
  const unknown = problems.filter(isUnknownField);
  const other = problems.filter((p) => !isUnknownField(p));
  if (other.length > 0 || (unknown.length > 0 && fieldValidation === 'Strict')) throw invalid(target, fieldValidation === 'Strict' ? problems : other, (path) => valueAtFieldPath(object, path));
  for (const p of unknown) {
    if (p.path === undefined) continue;
    if (fieldValidation === 'Warn') warnings.push(`unknown field "${p.path}"`);
    deleteAtFieldPath(object, p.path);
  }
  return { object, warnings };
}

/** Kubernetes timestamps: RFC 3339 in UTC, whole seconds. */
export function timestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `generateName` + 5 random characters, as the apiserver's name generator does. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return `${base.slice(0, 58)}${suffix}`;
}

/** The object without metadata and status: what `generation` counts changes of. */
function specOf(o: JsonObject): JsonObject {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

/** Server-managed metadata for a new object. Status follows the kind's create rule. */
export function prepareCreate(type: ResourceType, object: JsonObject, now: Date): JsonObject {
  const meta = { ...(object.metadata as JsonObject) };
  for (const k of ['resourceVersion', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']) delete meta[k];
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp(now);
  meta.generation = 1;
  const out: JsonObject = { ...object, metadata: meta };
  if (type.hasStatus && type.statusOnCreate === 'reset') {
    const initial = initialStatus(type);
    if (initial === undefined) delete out.status;
    else out.status = initial;
  }
  return out;
}

function initialStatus(type: ResourceType): JsonObject | undefined {
  if (type.group === '' && type.kind === 'Namespace') return { phase: 'Active' };
  if (type.group === '' && type.kind === 'Pod') return { phase: 'Pending' };
  return undefined;
}

/**
 * Carries server-managed metadata from `old` into an update and bumps generation when anything
 * outside metadata and status changed. A main-resource write keeps the old status; a status write
 * keeps everything but status (and labels/annotations stay as stored).
 */
export function prepareUpdate(type: ResourceType, old: JsonObject, next: JsonObject, subresource: 'status' | undefined): JsonObject {
  const oldMeta = old.metadata as JsonObject;
  let out: JsonObject;
  if (subresource === 'status') {
    out = { ...old, metadata: { ...oldMeta } };
    if (next.status === undefined) delete out.status;
    else out.status = next.status;
    return out;
  }
  const meta: JsonObject = { ...(next.metadata as JsonObject) };
  meta.uid = oldMeta.uid ?? null;
  meta.creationTimestamp = oldMeta.creationTimestamp ?? null;
  if (meta.uid === null) delete meta.uid;
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  delete meta.resourceVersion;
  delete meta.selfLink;
  out = { ...next, metadata: meta };
  if (type.hasStatus) {
    if (old.status === undefined) delete out.status;
    else out.status = old.status;
  }
  const generation = typeof oldMeta.generation === 'number' ? oldMeta.generation : 1;
  meta.generation = deepEqual(specOf(old), specOf(out)) ? generation : generation + 1;
  return out;
}

/** The object as clients see it: with its resourceVersion. */
export function withResourceVersion(value: Readonly<Record<string, unknown>>, revision: number): JsonObject {
  const obj = value as JsonObject;
  return { ...obj, metadata: { ...(obj.metadata as JsonObject), resourceVersion: String(revision) } };
}
