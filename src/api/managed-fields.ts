// Field ownership (metadata.managedFields, format FieldsV1) and server-side apply. A field set is
// a tree in FieldsV1 form: `f:name` for a map field, `k:{"name":"web"}` for an item of a list
// merged by key, `v:"x"` for a member of a primitive set, `.` for a keyed item itself; `{}` is a
// leaf. Lists are keyed or sets where the kind's patch meta says so, atomic otherwise.
import type { PatchMeta } from './patch-meta.js';
import { deepEqual, isObject, type Json, type JsonObject } from './patch.js';

export type FieldSet = { [element: string]: FieldSet };

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldSet;
  subresource?: string;
}

/** Metadata the server owns: never part of anyone's field set. */
const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName']);

/** The fields an object (or apply configuration) sets, excluding identity and status. */
export function fieldSetOf(obj: JsonObject, meta: PatchMeta): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      const m: FieldSet = {};
      for (const [mk, mv] of Object.entries(v)) {
        if (SERVER_META.has(mk)) continue;
        m[`f:${mk}`] = valueSet(mv, meta.fields?.metadata?.fields?.[mk]);
      }
      if (Object.keys(m).length > 0) out['f:metadata'] = m;
      continue;
    }
    out[`f:${k}`] = valueSet(v, meta.fields?.[k]);
  }
  return out;
}

function valueSet(v: Json, meta: PatchMeta | undefined): FieldSet {
  if (isObject(v)) {
    const out: FieldSet = {};
    for (const [k, x] of Object.entries(v)) out[`f:${k}`] = valueSet(x, meta?.fields?.[k]);
    return out;
  }
  if (Array.isArray(v) && meta?.strategy !== undefined) {
    const out: FieldSet = {};
    const key = meta.mergeKey;
    for (const item of v) {
      if (key === undefined) out[`v:${JSON.stringify(item)}`] = {};
      else if (isObject(item) && item[key] !== undefined) out[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...valueSet(item, meta.items) };
    }
    return out;
  }
  return {};
}

/** Every leaf of a set, as the list of path elements leading to it. */
export function leaves(set: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, child] of Object.entries(set)) {
    const path = [...prefix, k];
    if (Object.keys(child).length === 0) out.push(path);
    else out.push(...leaves(child, path));
  }
  return out;
}

export function hasPath(set: FieldSet, path: readonly string[]): boolean {
  let cur: FieldSet | undefined = set;
  for (const pe of path) {
    cur = cur[pe];
    if (cur === undefined) return false;
  }
  return true;
}

function addPath(set: FieldSet, path: readonly string[]): void {
  let cur = set;
  for (const pe of path) {
    cur[pe] ??= {};
    cur = cur[pe] as FieldSet;
  }
}

/** `set` without the given leaf paths (emptied branches are pruned). */
export function removePaths(set: FieldSet, paths: readonly (readonly string[])[]): FieldSet {
  const drop = new Set(paths.map((p) => JSON.stringify(p)));
  const out: FieldSet = {};
  for (const leaf of leaves(set)) if (!drop.has(JSON.stringify(leaf)) && !isUnder(leaf, paths)) addPath(out, leaf);
  return out;
}

function isUnder(leaf: readonly string[], paths: readonly (readonly string[])[]): boolean {
  // A removed keyed item (`k:…/.`) or removed parent takes everything below it.
  return paths.some((p) => {
    const base = p[p.length - 1] === '.' ? p.slice(0, -1) : p;
    return base.length < leaf.length && base.every((pe, i) => leaf[i] === pe);
  });
}

export function unionSets(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const leaf of [...leaves(a), ...leaves(b)]) addPath(out, leaf);
  return out;
}

/** What is at a path in an object: `{found: false}` when absent. */
export function valueAtPath(obj: Json, path: readonly string[]): { found: boolean; value?: Json } {
  let cur: Json | undefined = obj;
  for (const pe of path) {
    if (pe === '.') return { found: cur !== undefined, value: cur as Json };
    if (pe.startsWith('f:')) {
      if (!isObject(cur)) return { found: false };
      cur = cur[pe.slice(2)];
    } else if (pe.startsWith('k:')) {
      const key = JSON.parse(pe.slice(2)) as JsonObject;
      if (!Array.isArray(cur)) return { found: false };
      cur = cur.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(item[k], v)));
    } else if (pe.startsWith('v:')) {
      const want = JSON.parse(pe.slice(2)) as Json;
      if (!Array.isArray(cur)) return { found: false };
      return { found: cur.some((x) => deepEqual(x, want)), value: want };
    } else {
      return { found: false };
    }
    if (cur === undefined) return { found: false };
  }
  return { found: true, value: cur };
}

/** Removes the field at a leaf path from an object (in place). */
function deleteAtPath(obj: JsonObject, path: readonly string[]): void {
  const parentPath = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const last = parentPath[parentPath.length - 1];
  if (last === undefined) return;
  let holder: Json | undefined = obj;
  for (const pe of parentPath.slice(0, -1)) {
    if (pe.startsWith('f:') && isObject(holder)) holder = holder[pe.slice(2)];
    else if (pe.startsWith('k:') && Array.isArray(holder)) {
      const key = JSON.parse(pe.slice(2)) as JsonObject;
      holder = holder.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(item[k], v)));
    } else return;
    if (holder === undefined) return;
  }
  if (last.startsWith('f:') && isObject(holder)) delete holder[last.slice(2)];
  else if (Array.isArray(holder)) {
    const arr = holder;
    const idx = arr.findIndex((item) => {
      if (last.startsWith('v:')) return deepEqual(item, JSON.parse(last.slice(2)) as Json);
      const key = JSON.parse(last.slice(2)) as JsonObject;
      return isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(item[k], v));
    });
    if (idx >= 0) arr.splice(idx, 1);
  }
}

/** `.spec.containers[name="web"].image`: how conflicts name a field. */
export function renderPath(path: readonly string[]): string {
  let out = '';
  for (const pe of path) {
    if (pe === '.') continue;
    if (pe.startsWith('f:')) out += `.${pe.slice(2)}`;
    else if (pe.startsWith('k:')) {
      const key = JSON.parse(pe.slice(2)) as JsonObject;
      out += `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } else if (pe.startsWith('v:')) out += `[=${pe.slice(2)}]`;
  }
  return out;
}

/** Merges an apply configuration onto an object: maps recurse, keyed lists merge, the rest replaces. */
function mergeApplied(base: Json | undefined, config: Json, meta: PatchMeta | undefined): Json {
  if (isObject(config)) {
    const out: JsonObject = isObject(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(config)) out[k] = mergeApplied(out[k], v, meta?.fields?.[k]);
    return out;
  }
  if (Array.isArray(config) && meta?.strategy !== undefined && Array.isArray(base)) {
    const key = meta.mergeKey;
    const out = [...base];
    for (const item of config) {
      const at = out.findIndex((x) => (key === undefined ? deepEqual(x, item) : isObject(x) && isObject(item) && deepEqual(x[key], item[key])));
      if (at < 0) out.push(item);
      else if (key !== undefined) out[at] = mergeApplied(out[at], item, meta.items);
    }
    return out;
  }
  return config;
}

export interface ApplyConflict {
  manager: string;
  apiVersion: string;
  field: string;
}

export interface ApplyResult {
  object: JsonObject;
  managedFields: ManagedFieldsEntry[];
  conflicts: ApplyConflict[];
}

/**
 * Server-side apply of `config` by `manager` onto `current` (undefined: the object is new).
 * Fields another manager owns with a different value are conflicts unless `force`, which takes
 * them over. Fields the manager applied before and no longer applies are removed, unless
 * someone else also owns them.
 */
export function serverSideApply(
  current: JsonObject | undefined,
  config: JsonObject,
  manager: string,
  force: boolean,
  meta: PatchMeta,
  apiVersion: string,
  now: string,
): ApplyResult {
  const entries = readManagedFields(current);
  const applied = fieldSetOf(config, meta);
  const appliedLeaves = leaves(applied);
  const conflicts: ApplyConflict[] = [];
  const stolen: string[][] = [];
  if (current !== undefined) {
    for (const e of entries) {
      if (e.manager === manager && e.operation === 'Apply') continue;
      for (const leaf of appliedLeaves) {
        // A keyed item itself (`.`) conflicts on nothing: its fields are compared one by one.
        if (leaf[leaf.length - 1] === '.' || !hasPath(e.fieldsV1, leaf)) continue;
        const mine = valueAtPath(config, leaf);
        const theirs = valueAtPath(current, leaf);
        if (mine.found === theirs.found && deepEqual(mine.value, theirs.value)) continue;
        if (force) stolen.push(leaf);
        else conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, field: renderPath(leaf) });
      }
    }
  }
  if (conflicts.length > 0) return { object: current ?? config, managedFields: entries, conflicts };

  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  let object: JsonObject = current !== undefined ? (structuredClone(current) as JsonObject) : {};
  if (previous !== undefined) {
    for (const leaf of leaves(previous.fieldsV1)) {
      if (hasPath(applied, leaf)) continue;
      const ownedElsewhere = entries.some((e) => e !== previous && hasPath(e.fieldsV1, leaf));
      if (!ownedElsewhere) deleteAtPath(object, leaf);
    }
  }
  object = mergeApplied(object, config, meta) as JsonObject;

  const next: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === previous) continue;
    const fieldsV1 = stolen.length > 0 ? removePaths(e.fieldsV1, stolen) : e.fieldsV1;
    if (Object.keys(fieldsV1).length > 0) next.push({ ...e, fieldsV1 });
  }
  next.push({ manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: applied });
  return { object, managedFields: next, conflicts: [] };
}

/**
 * Ownership after a non-apply write by `manager`: it gains every field it changed; fields it
 * changed or removed leave every other manager.
 */
export function updateManagedFields(
  old: JsonObject | undefined,
  next: JsonObject,
  manager: string,
  meta: PatchMeta,
  apiVersion: string,
  now: string,
): ManagedFieldsEntry[] {
  const entries = readManagedFields(old);
  const before = old === undefined ? {} : fieldSetOf(old, meta);
  const after = fieldSetOf(next, meta);
  const changed = leaves(after).filter((leaf) => {
    if (old === undefined) return true;
    const a = valueAtPath(old, leaf);
    const b = valueAtPath(next, leaf);
    // A keyed item itself (`.`) changes only by appearing; its fields are compared one by one.
    if (leaf[leaf.length - 1] === '.') return a.found !== b.found;
    return a.found !== b.found || !deepEqual(a.value, b.value);
  });
  const removed = leaves(before).filter((leaf) => !hasPath(after, leaf));
  if (changed.length === 0 && removed.length === 0 && old !== undefined) return entries;
  const touched = [...changed, ...removed];
  const out: ManagedFieldsEntry[] = [];
  let mine: FieldSet = {};
  for (const e of entries) {
    if (e.manager === manager && e.operation === 'Update' && e.subresource === undefined) {
      mine = e.fieldsV1;
      continue;
    }
    const fieldsV1 = removePaths(e.fieldsV1, touched);
    if (Object.keys(fieldsV1).length > 0) out.push({ ...e, fieldsV1 });
  }
  const gained: FieldSet = {};
  for (const leaf of changed) addPath(gained, leaf);
  const fieldsV1 = removePaths(unionSets(mine, gained), removed);
  if (Object.keys(fieldsV1).length > 0) out.push({ manager, operation: 'Update', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1 });
  return out;
}

/** The managedFields stored on an object, ignoring malformed entries. */
export function readManagedFields(obj: JsonObject | undefined): ManagedFieldsEntry[] {
  const meta = obj?.metadata;
  if (!isObject(meta) || !Array.isArray(meta.managedFields)) return [];
  return meta.managedFields.filter(
    (e): e is ManagedFieldsEntry & JsonObject =>
      isObject(e) && typeof e.manager === 'string' && (e.operation === 'Apply' || e.operation === 'Update') && isObject(e.fieldsV1),
  ) as ManagedFieldsEntry[];
}
