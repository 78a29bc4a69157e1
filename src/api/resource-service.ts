// The verbs on one resource type, independent of HTTP: get, list, create, update, patch (four
// formats), delete, deletecollection. Writes go validate → default → manage metadata → store with
// optimistic concurrency; a write without a client precondition is retried on conflict, as the
// apiserver's GuaranteedUpdate does, and a write that changes nothing is not stored at all.
import { parse as parseYaml } from 'yaml';
import { isAlreadyExists, isConflict, isFutureRevision, isGone, isInvalidContinue, isNotFound, isStoreError, type Store, type StoredValue } from '../store/index.js';
import { serverSideApply, updateManagedFields } from './managed-fields.js';
import { dropNulls, generateName, prepareCreate, prepareUpdate, timestamp, validateObject, withResourceVersion, type FieldValidation } from './objects.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, deepEqual, isObject, type Json, type JsonObject } from './patch.js';
import { patchMetaFor } from './patch-meta.js';
import { apiVersionOf, RESOURCE_TYPES, storageKey, storagePrefix, type ResourceType } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { alreadyExists, ApiError, badRequest, conflict, expired, invalid, notFound, unsupportedMediaType, type Qualified } from './status.js';

export interface WriteOptions {
  readonly dryRun: boolean;
  readonly fieldManager: string;
  readonly fieldValidation: FieldValidation;
  /** Server-side apply: take over conflicting fields. */
  readonly force?: boolean;
}

export interface WriteResult {
  readonly object: JsonObject;
  readonly warnings: readonly string[];
  /** True when the write created the object (HTTP 201). */
  readonly created: boolean;
}

export interface ListParams {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: string;
}

export interface ListOutcome {
  readonly items: JsonObject[];
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

const MAX_RETRIES = 5;

export function qualified(type: ResourceType): Qualified {
  return { group: type.group, resource: type.plural, kind: type.kind };
}

/** A client-supplied resourceVersion: a decimal revision; anything else is a 400. */
export function parseResourceVersion(rv: unknown, what = 'resourceVersion'): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (typeof rv !== 'string' || !/^\d+$/.test(rv)) throw badRequest(`invalid ${what} ${JSON.stringify(rv)}: expected a value returned by the server`);
  return Number(rv);
}

/** Maps store failures to Status errors named after the object. */
export function storeFailure(err: unknown, type: ResourceType, name: string): unknown {
  if (!isStoreError(err)) return err;
  if (isNotFound(err)) return notFound(qualified(type), name);
  if (isAlreadyExists(err)) return alreadyExists(qualified(type), name);
  if (isConflict(err)) return conflict(qualified(type), name, 'the object has been modified; please apply your changes to the latest version and try again');
  if (isGone(err)) return expired(err.message);
  if (isInvalidContinue(err)) return badRequest(err.message);
  if (isFutureRevision(err)) return new ApiError(504, 'Timeout', err.message);
  return new ApiError(err.code, err.reason === 'Timeout' ? 'Timeout' : 'BadRequest', err.message);
}

const isStoreConflict = (err: unknown): boolean => isConflict(err);

export class ResourceService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<JsonObject> {
    const stored = await this.store.get(storageKey(type, namespace, name));
    if (stored === undefined) throw notFound(qualified(type), name);
    return withResourceVersion(stored.value, stored.modRevision);
  }

  /** A filter over stored values for the label and field selectors (undefined: everything). */
  filterFor(type: ResourceType, labelSelector: string | undefined, fieldSelector: string | undefined): ((v: Readonly<Record<string, unknown>>) => boolean) | undefined {
    const labels = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector, ['metadata.name', ...(type.namespaced ? ['metadata.namespace'] : []), ...type.fieldSelectors]);
    if (labels === undefined && fields === undefined) return undefined;
    return (v) => {
      if (labels !== undefined) {
        const meta = v.metadata as JsonObject | undefined;
        const l = meta !== undefined && isObject(meta.labels) ? (meta.labels as Record<string, string>) : {};
        if (!labels(l)) return false;
      }
      return fields === undefined || fields(v);
    };
  }

  async list(type: ResourceType, namespace: string | undefined, params: ListParams): Promise<ListOutcome> {
    const filter = this.filterFor(type, params.labelSelector, params.fieldSelector);
    const rv = parseResourceVersion(params.resourceVersion);
    if (params.continue !== undefined && params.continue !== '' && rv !== undefined && rv !== 0) {
      throw badRequest('specifying resource version is not allowed when using continue');
    }
    if (params.resourceVersionMatch !== undefined && !['Exact', 'NotOlderThan', ''].includes(params.resourceVersionMatch)) {
      throw badRequest(`invalid resourceVersionMatch ${JSON.stringify(params.resourceVersionMatch)}: expected Exact or NotOlderThan`);
    }
    const revision = params.resourceVersionMatch === 'Exact' ? rv : undefined;
    if (params.resourceVersionMatch === 'Exact' && (rv === undefined || rv === 0)) throw badRequest('resourceVersionMatch=Exact requires a non-zero resourceVersion');
    try {
      const result = await this.store.list({
        prefix: storagePrefix(type, namespace),
        ...(filter !== undefined ? { filter } : {}),
        ...(params.limit !== undefined && params.limit > 0 ? { limit: params.limit } : {}),
        ...(params.continue !== undefined && params.continue !== '' ? { continue: params.continue } : {}),
        ...(revision !== undefined ? { revision } : {}),
      });
      return {
        items: result.items.map((i) => withResourceVersion(i.value, i.modRevision)),
        resourceVersion: String(result.revision),
        ...(result.continue !== undefined ? { continue: result.continue } : {}),
        ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
      };
    } catch (err) {
      if (isGone(err) && params.continue !== undefined && params.continue !== '') {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      throw storeFailure(err, type, '');
    }
  }

  async create(type: ResourceType, namespace: string | undefined, body: Json, opts: WriteOptions): Promise<WriteResult> {
    if (!isObject(body)) throw badRequest(`expected a ${type.kind} object in the request body`);
    if (type.namespaced && namespace === undefined) throw badRequest(`a ${type.kind} is created in a namespace: POST to ${type.group === '' ? '/api' : `/apis/${type.group}`}/${type.version}/namespaces/NAMESPACE/${type.plural}`);
    const { object, warnings } = validateObject(type, body, namespace, opts.fieldValidation);
    const meta = object.metadata as JsonObject;
    if (typeof meta.name !== 'string' || meta.name === '') {
      if (typeof meta.generateName === 'string' && meta.generateName !== '') meta.name = generateName(meta.generateName);
      else throw invalid({ group: type.group, kind: type.kind, name: '' }, [{ path: 'metadata.name', message: 'required field is missing; name or generateName is required' }]);
    }
    const name = meta.name as string;
    const now = this.clock();
    const prepared = prepareCreate(type, object, now);
    this.setManagedFields(prepared, updateManagedFields(undefined, prepared, opts.fieldManager, patchMetaFor(apiVersionOf(type), type.kind), apiVersionOf(type), timestamp(now)));
    if (opts.dryRun) {
      if ((await this.store.get(storageKey(type, namespace, name))) !== undefined) throw alreadyExists(qualified(type), name);
      return { object: prepared, warnings, created: true };
    }
    let stored: StoredValue;
    try {
      stored = await this.store.create(storageKey(type, namespace, name), prepared);
    } catch (err) {
      throw storeFailure(err, type, name);
    }
    return { object: withResourceVersion(stored.value, stored.modRevision), warnings, created: true };
  }

  async update(type: ResourceType, namespace: string | undefined, name: string, body: Json, opts: WriteOptions, subresource?: 'status'): Promise<WriteResult> {
    if (!isObject(body)) throw badRequest(`expected a ${type.kind} object in the request body`);
    const bodyMeta = isObject(body.metadata) ? body.metadata : {};
    if (bodyMeta.name !== undefined && bodyMeta.name !== name) {
      throw badRequest(`the name of the object (${String(bodyMeta.name)}) does not match the name on the URL (${name})`);
    }
    const precondition = parseResourceVersion(bodyMeta.resourceVersion, 'metadata.resourceVersion');
    const withName: JsonObject = { ...body, metadata: { ...bodyMeta, name } };
    return this.guaranteedUpdate(type, namespace, name, opts, precondition, subresource, () => withName);
  }

  async patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, raw: Buffer, opts: WriteOptions, subresource?: 'status'): Promise<WriteResult> {
    if (patchType === 'strategic' && !type.builtin) {
      throw unsupportedMediaType('application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
    }
    let patch: Json;
    try {
      patch = (patchType === 'apply' ? parseYaml(raw.toString('utf8')) : JSON.parse(raw.toString('utf8'))) as Json;
    } catch (err) {
      throw badRequest(`the patch is not valid ${patchType === 'apply' ? 'YAML' : 'JSON'}: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`);
    }
    if (patchType === 'apply') return this.apply(type, namespace, name, patch, opts, subresource);
    const meta = patchMetaFor(apiVersionOf(type), type.kind);
    return this.guaranteedUpdate(type, namespace, name, opts, undefined, subresource, (current) => {
      switch (patchType) {
        case 'json': return applyJsonPatch(current, patch);
        case 'merge': return applyMergePatch(current, patch);
        default: return applyStrategicMergePatch(current, patch, meta);
      }
    });
  }

  /**
   * Reads, transforms, validates and writes with the read revision as precondition; on a
   * conflict the whole cycle repeats unless the client named a resourceVersion itself.
   */
  private async guaranteedUpdate(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: WriteOptions,
    precondition: number | undefined,
    subresource: 'status' | undefined,
    transform: (current: JsonObject) => Json,
  ): Promise<WriteResult> {
    const key = storageKey(type, namespace, name);
    const apiVersion = apiVersionOf(type);
    const meta = patchMetaFor(apiVersion, type.kind);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(key);
      if (current === undefined) throw notFound(qualified(type), name);
      const currentObj = withResourceVersion(current.value, current.modRevision);
      const next = transform(currentObj);
      if (!isObject(next)) throw new ApiError(422, 'Invalid', `the patched ${type.kind} is not an object`);
      const nextMeta = isObject(next.metadata) ? next.metadata : {};
      const rv = precondition ?? parseResourceVersion(nextMeta.resourceVersion, 'metadata.resourceVersion');
      const clientPrecondition = rv !== undefined && rv !== current.modRevision ? rv : precondition;
      if (clientPrecondition !== undefined && clientPrecondition !== current.modRevision) {
        throw conflict(qualified(type), name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      if (nextMeta.name !== undefined && nextMeta.name !== name) throw badRequest(`the name of the object (${String(nextMeta.name)}) does not match the name on the URL (${name})`);
      const oldUid = (current.value.metadata as JsonObject | undefined)?.uid;
      if (nextMeta.uid !== undefined && nextMeta.uid !== '' && nextMeta.uid !== oldUid) {
        throw conflict(qualified(type), name, `Precondition failed: UID in precondition: ${String(nextMeta.uid)}, UID in object meta: ${String(oldUid)}`);
      }
      const { object: validated, warnings } = validateObject(type, { ...next, metadata: { ...nextMeta, name } }, namespace, opts.fieldValidation);
      const old = current.value as JsonObject;
      const prepared = prepareUpdate(type, old, validated, subresource);
      const oldManaged = (old.metadata as JsonObject).managedFields;
      (prepared.metadata as JsonObject).managedFields = oldManaged ?? null;
      if (oldManaged === undefined) delete (prepared.metadata as JsonObject).managedFields;
      if (deepEqual(prepared, old)) return { object: currentObj, warnings, created: false };
      if (subresource === undefined) {
        const now = this.clock();
        this.setManagedFields(prepared, updateManagedFields(old, prepared, opts.fieldManager, meta, apiVersion, timestamp(now)));
      }
      if (opts.dryRun) return { object: withResourceVersion(prepared, current.modRevision), warnings, created: false };
      try {
        const stored = await this.store.update(key, prepared, current.modRevision);
        return { object: withResourceVersion(stored.value, stored.modRevision), warnings, created: false };
      } catch (err) {
        if (isStoreConflict(err) && clientPrecondition === undefined && attempt < MAX_RETRIES) continue;
        throw storeFailure(err, type, name);
      }
    }
  }

  private async apply(type: ResourceType, namespace: string | undefined, name: string, config: Json, opts: WriteOptions, subresource: 'status' | undefined): Promise<WriteResult> {
    if (!isObject(config)) throw badRequest('an apply configuration must be a YAML or JSON object');
    if (opts.fieldManager === '' || opts.fieldManager === undefined) throw badRequest('PATCH with application/apply-patch+yaml requires the fieldManager parameter');
    const cfg = dropNulls(config) as JsonObject;
    const apiVersion = apiVersionOf(type);
    if (cfg.apiVersion !== apiVersion || cfg.kind !== type.kind) {
      throw badRequest(`the apply configuration must have apiVersion ${apiVersion} and kind ${type.kind}, got ${String(cfg.apiVersion)} and ${String(cfg.kind)}`);
    }
    const cfgMeta = isObject(cfg.metadata) ? cfg.metadata : {};
    if (cfgMeta.name !== undefined && cfgMeta.name !== name) throw badRequest(`the name of the object (${String(cfgMeta.name)}) does not match the name on the URL (${name})`);
    cfg.metadata = { ...cfgMeta, name, ...(type.namespaced && namespace !== undefined ? { namespace } : {}) };
    if (!type.namespaced) delete (cfg.metadata as JsonObject).namespace;
    const meta = patchMetaFor(apiVersion, type.kind);
    const key = storageKey(type, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(key);
      const now = this.clock();
      const time = timestamp(now);
      const currentObj = current === undefined ? undefined : (current.value as JsonObject);
      const result = serverSideApply(currentObj, cfg, opts.fieldManager, opts.force === true, meta, apiVersion, time);
      if (result.conflicts.length > 0) {
        const n = result.conflicts.length;
        const lines = result.conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${c.field}`);
        const message = n === 1 ? `Apply failed with 1 conflict: ${lines[0] ?? ''}` : `Apply failed with ${n} conflicts: ${lines.join('\n')}`;
        throw new ApiError(409, 'Conflict', message, {
          name,
          group: type.group,
          kind: type.plural,
          causes: result.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: c.field })),
        });
      }
      if (current === undefined) {
        const { object, warnings } = validateObject(type, result.object, namespace, opts.fieldValidation);
        const prepared = prepareCreate(type, object, now);
        this.setManagedFields(prepared, result.managedFields);
        if (opts.dryRun) return { object: prepared, warnings, created: true };
        try {
          const stored = await this.store.create(key, prepared);
          return { object: withResourceVersion(stored.value, stored.modRevision), warnings, created: true };
        } catch (err) {
          if (isAlreadyExists(err) && attempt < MAX_RETRIES) continue;
          throw storeFailure(err, type, name);
        }
      }
      const { object, warnings } = validateObject(type, result.object, namespace, opts.fieldValidation);
      const prepared = prepareUpdate(type, current.value as JsonObject, object, subresource);
      this.setManagedFields(prepared, result.managedFields);
      const sameObject = deepEqual({ ...prepared, metadata: { ...(prepared.metadata as JsonObject), managedFields: null } }, { ...current.value, metadata: { ...(current.value.metadata as JsonObject), managedFields: null } });
      const sameOwners = deepEqual(stripTimes(result.managedFields), stripTimes((current.value.metadata as JsonObject).managedFields));
      if (sameObject && sameOwners) return { object: withResourceVersion(current.value, current.modRevision), warnings, created: false };
      if (opts.dryRun) return { object: withResourceVersion(prepared, current.modRevision), warnings, created: false };
      try {
        const stored = await this.store.update(key, prepared, current.modRevision);
        return { object: withResourceVersion(stored.value, stored.modRevision), warnings, created: false };
      } catch (err) {
        if (isStoreConflict(err) && attempt < MAX_RETRIES) continue;
        throw storeFailure(err, type, name);
      }
    }
  }

  private setManagedFields(obj: JsonObject, entries: readonly unknown[]): void {
    const meta = obj.metadata as JsonObject;
    if (entries.length === 0) delete meta.managedFields;
    else meta.managedFields = entries as Json;
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, opts: { dryRun: boolean; preconditions?: DeletePreconditions }): Promise<JsonObject> {
    const key = storageKey(type, namespace, name);
    const rvPrecondition = parseResourceVersion(opts.preconditions?.resourceVersion, 'preconditions.resourceVersion');
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.get(key);
      if (current === undefined) throw notFound(qualified(type), name);
      const uid = (current.value.metadata as JsonObject | undefined)?.uid;
      if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== uid) {
        throw conflict(qualified(type), name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${String(uid)}`);
      }
      if (rvPrecondition !== undefined && rvPrecondition !== current.modRevision) {
        throw conflict(qualified(type), name, `Precondition failed: ResourceVersion in precondition: ${rvPrecondition}, ResourceVersion in object meta: ${current.modRevision}`);
      }
      if (opts.dryRun) return withResourceVersion(current.value, current.modRevision);
      try {
        const deleted = await this.store.delete(key, current.modRevision);
        if (type.group === '' && type.kind === 'Namespace') await this.deleteNamespaceContents(name);
        return withResourceVersion(deleted.value, deleted.modRevision);
      } catch (err) {
        if (isStoreConflict(err) && rvPrecondition === undefined && attempt < MAX_RETRIES) continue;
        throw storeFailure(err, type, name);
      }
    }
  }

  /** Namespace deletion removes everything in it (Kubernetes' namespace controller, synchronously). */
  private async deleteNamespaceContents(namespace: string): Promise<void> {
    for (const t of RESOURCE_TYPES) {
      if (!t.namespaced) continue;
      const listed = await this.store.list({ prefix: storagePrefix(t, namespace) });
      for (const item of listed.items) {
        try {
          await this.store.delete(item.key);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  }

  async deleteCollection(type: ResourceType, namespace: string | undefined, params: ListParams, opts: { dryRun: boolean }): Promise<ListOutcome> {
    const listed = await this.list(type, namespace, { ...(params.labelSelector !== undefined ? { labelSelector: params.labelSelector } : {}), ...(params.fieldSelector !== undefined ? { fieldSelector: params.fieldSelector } : {}) });
    const items: JsonObject[] = [];
    for (const item of listed.items) {
      const name = String((item.metadata as JsonObject).name);
      try {
        items.push(await this.delete(type, namespace ?? ((item.metadata as JsonObject).namespace as string | undefined), name, opts));
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      }
    }
    return { items, resourceVersion: String(await this.store.currentRevision()) };
  }
}

function stripTimes(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((e) => (isObject(e as Json) ? { ...(e as JsonObject), time: null } : e));
}
