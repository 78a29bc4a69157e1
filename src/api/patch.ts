// The three patch formats Kubernetes accepts besides apply: JSON merge patch (RFC 7386), JSON
// patch (RFC 6902, via fast-json-patch) and strategic merge patch with the directives kubectl
// sends ($patch, $retainKeys, $setElementOrder/…, $deleteFromPrimitiveList/…). Pure functions;
// a patch the client got wrong throws ApiError (400 malformed, 422 cannot be applied).
import fastJsonPatch from 'fast-json-patch';
import { ApiError, badRequest } from './status.js';
import type { PatchMeta } from './patch-meta.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

const unprocessable = (message: string): ApiError => new ApiError(422, 'Invalid', message);

// ───────────────────────────── JSON merge patch ─────────────────────────────

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** The merge patch that turns `from` into `to` (objects recurse, lists are replaced whole). */
export function createMergePatch(from: Json, to: Json): Json | undefined {
  if (!isObject(from) || !isObject(to)) return deepEqual(from, to) ? undefined : to;
  const patch: JsonObject = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (old === undefined) patch[k] = v;
    else {
      const sub = createMergePatch(old, v);
      if (sub !== undefined) patch[k] = sub;
    }
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

// ───────────────────────────── JSON patch ─────────────────────────────

/** RFC 6902. A malformed patch is 400; an operation that cannot apply (failed test, bad path) is 422. */
export function applyJsonPatch(target: JsonObject, patch: unknown): Json {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be a list of operations');
  const error = fastJsonPatch.validate(patch as fastJsonPatch.Operation[], target);
  if (error !== undefined) {
    const structural = ['OPERATION_NOT_AN_OBJECT', 'OPERATION_OP_INVALID', 'OPERATION_PATH_INVALID', 'OPERATION_FROM_REQUIRED', 'OPERATION_VALUE_REQUIRED', 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED'];
    const message = `JSON patch operation ${error.index ?? 0}: ${error.message.split('\n')[0] ?? error.name}`;
    throw structural.includes(error.name) ? badRequest(message) : unprocessable(message);
  }
  try {
    return fastJsonPatch.applyPatch(structuredClone(target), patch as fastJsonPatch.Operation[], false, false).newDocument as Json;
  } catch (err) {
    throw unprocessable(`JSON patch could not be applied: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`);
  }
}

// ───────────────────────────── strategic merge patch ─────────────────────────────

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/** Applies a strategic merge patch to `original` using the kind's patch meta. */
export function applyStrategicMergePatch(original: JsonObject, patch: Json, meta: PatchMeta): JsonObject {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  return mergeMap(original, patch, meta);
}

function mergeMap(original: JsonObject, patch: JsonObject, meta: PatchMeta | undefined): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined) {
    if (directive === 'replace') {
      const { [DIRECTIVE]: _, ...rest } = patch;
      return stripDirectives(rest) as JsonObject;
    }
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw badRequest(`unknown patch directive ${JSON.stringify(directive)} ($patch must be replace, delete or merge)`);
  }
  let out: JsonObject = { ...original };
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) throw badRequest('$retainKeys must be a list of field names');
    out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k) || patch[k] !== undefined));
  }
  // Deletions from primitive lists first, so the list's own patch sees the result.
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_PRIMITIVE)) continue;
    const field = k.slice(DELETE_PRIMITIVE.length);
    if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
    const cur = out[field];
    if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (k.startsWith('$')) throw badRequest(`unknown strategic merge patch directive ${JSON.stringify(k)}`);
    const fieldMeta = meta?.fields?.[k];
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (isObject(v)) {
      if (v[DIRECTIVE] === 'delete') {
        delete out[k];
        continue;
      }
      out[k] = mergeMap(isObject(cur) ? cur : {}, v, fieldMeta);
    } else if (Array.isArray(v) && fieldMeta?.strategy !== undefined) {
      out[k] = mergeList(Array.isArray(cur) ? cur : [], v, fieldMeta);
    } else {
      out[k] = stripDirectives(v);
    }
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    const list = out[field];
    if (!Array.isArray(order)) throw badRequest(`${k} must be a list`);
    if (Array.isArray(list)) out[field] = applyOrder(list, order, meta?.fields?.[field]?.mergeKey);
  }
  return out;
}

function keyOf(item: Json, mergeKey: string | undefined): Json | undefined {
  if (mergeKey === undefined) return item;
  return isObject(item) ? item[mergeKey] : undefined;
}

function mergeList(original: Json[], patch: Json[], meta: PatchMeta): Json[] {
  if (patch.some((p) => isObject(p) && p[DIRECTIVE] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  const key = meta.mergeKey;
  if (key === undefined) {
    // A set of primitives: union, keeping the original order and appending new values.
    const out = [...original];
    for (const p of patch) if (!out.some((x) => deepEqual(x, p))) out.push(p);
    return out;
  }
  const out = [...original];
  for (const p of patch) {
    if (!isObject(p)) throw badRequest(`expected a list of objects merged by ${JSON.stringify(key)}`);
    const k = p[key];
    if (k === undefined) throw badRequest(`list item is missing its merge key ${JSON.stringify(key)}`);
    const at = out.findIndex((x) => deepEqual(keyOf(x, key), k));
    if (p[DIRECTIVE] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (p[DIRECTIVE] === 'replace') {
      const { [DIRECTIVE]: _, ...rest } = p;
      if (at >= 0) out[at] = rest;
      else out.push(rest);
      continue;
    }
    const base = at >= 0 ? out[at] : undefined;
    const merged = mergeMap(isObject(base) ? base : {}, p, meta.items);
    if (at >= 0) out[at] = merged;
    else out.push(merged);
  }
  return out;
}

/** `$setElementOrder`: listed items first in the listed order, then the rest in their order. */
function applyOrder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const orderKeys = order.map((o) => keyOf(o, mergeKey));
  const rank = (item: Json): number => {
    const k = keyOf(item, mergeKey);
    const i = orderKeys.findIndex((o) => deepEqual(o, k));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list.map((item, i) => ({ item, i, r: rank(item) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.item);
}

/** Removes directive keys from a value taken whole from a patch. */
function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && x[DIRECTIVE] === 'delete')).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
