// OpenAPI v3: the discovery index (/openapi/v3) and one document per group/version, with paths
// for every verb and a schema per kind carrying x-kubernetes-group-version-kind, which is how
// kubectl finds a kind for `explain` and learns that PATCH accepts `fieldValidation` (so it
// validates on the server instead of downloading OpenAPI v2).
import { createHash } from 'node:crypto';
import { kindSchemaFor, schemaName } from './openapi-schemas.js';
import { servedGroups, typesIn, type ResourceType } from './registry.js';

type Doc = Record<string, unknown>;

const STATUS_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';

function docPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const queryParam = (name: string, description: string, type = 'string'): Doc => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const PARAMS = {
  dryRun: queryParam('dryRun', 'When present ("All"), validate and default without persisting.'),
  fieldManager: queryParam('fieldManager', 'Name of the actor making the change (server-side apply ownership).'),
  fieldValidation: queryParam('fieldValidation', 'Ignore, Warn or Strict: what to do with unknown or duplicate fields.'),
  force: queryParam('force', 'Server-side apply: take over conflicting fields.', 'boolean'),
  labelSelector: queryParam('labelSelector', 'Restrict the list by labels (a=b,c!=d,e in (x,y),!f).'),
  fieldSelector: queryParam('fieldSelector', 'Restrict the list by fields (metadata.name=x).'),
  limit: queryParam('limit', 'Maximum number of items per page.', 'integer'),
  continue: queryParam('continue', 'Token from the previous page.'),
  resourceVersion: queryParam('resourceVersion', 'Where a list or watch starts.'),
  watch: queryParam('watch', 'Stream changes as watch events.', 'boolean'),
  allowWatchBookmarks: queryParam('allowWatchBookmarks', 'Send BOOKMARK events.', 'boolean'),
  timeoutSeconds: queryParam('timeoutSeconds', 'End the list or watch after this long.', 'integer'),
};

function ref(name: string): Doc {
  return { $ref: `#/components/schemas/${name}` };
}

function jsonBody(schema: Doc, types: string[]): Doc {
  return { content: Object.fromEntries(types.map((t) => [t, { schema }])), required: true };
}

function responses(code: string, schema: Doc): Doc {
  return {
    [code]: { description: 'OK', content: { 'application/json': { schema } } },
    default: { description: 'Failure', content: { 'application/json': { schema: ref(STATUS_SCHEMA) } } },
  };
}

function pathsFor(t: ResourceType): Record<string, Doc> {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  const nsParam = { name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: { type: 'string', uniqueItems: true } };
  const nameParam = { name: 'name', in: 'path', required: true, description: `name of the ${t.kind}`, schema: { type: 'string', uniqueItems: true } };
  const collection = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}` : `${base}/${t.plural}`;
  const item = `${collection}/{name}`;
  const schema = ref(schemaName(t.group, t.version, t.kind));
  const listSchema = ref(`${schemaName(t.group, t.version, t.kind)}List`);
  const op = (action: string, description: string, extra: Doc): Doc => ({ description, operationId: `${action}${t.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...extra });
  const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  const common = t.namespaced ? [nsParam] : [];
  const out: Record<string, Doc> = {
    [collection]: {
      parameters: common,
      get: op('list', `list or watch ${t.plural}`, { parameters: [PARAMS.labelSelector, PARAMS.fieldSelector, PARAMS.limit, PARAMS.continue, PARAMS.resourceVersion, PARAMS.watch, PARAMS.allowWatchBookmarks, PARAMS.timeoutSeconds], responses: responses('200', listSchema) }),
      post: op('post', `create a ${t.kind}`, { parameters: [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation], requestBody: jsonBody(schema, ['*/*']), responses: responses('201', schema) }),
      delete: op('deletecollection', `delete a collection of ${t.plural}`, { parameters: [PARAMS.labelSelector, PARAMS.fieldSelector, PARAMS.dryRun], responses: responses('200', ref(STATUS_SCHEMA)) }),
    },
    [item]: {
      parameters: [nameParam, ...common],
      get: op('get', `read the specified ${t.kind}`, { responses: responses('200', schema) }),
      put: op('put', `replace the specified ${t.kind}`, { parameters: [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation], requestBody: jsonBody(schema, ['*/*']), responses: responses('200', schema) }),
      patch: op('patch', `partially update the specified ${t.kind}`, { parameters: [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation, PARAMS.force], requestBody: jsonBody({ type: 'object' }, patchTypes), responses: responses('200', schema) }),
      delete: op('delete', `delete a ${t.kind}`, { parameters: [PARAMS.dryRun], responses: responses('200', schema) }),
    },
  };
  if (t.hasStatus) {
    out[`${item}/status`] = {
      parameters: [nameParam, ...common],
      get: op('get', `read status of the specified ${t.kind}`, { responses: responses('200', schema) }),
      put: op('put', `replace status of the specified ${t.kind}`, { parameters: [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation], requestBody: jsonBody(schema, ['*/*']), responses: responses('200', schema) }),
      patch: op('patch', `partially update status of the specified ${t.kind}`, { parameters: [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation, PARAMS.force], requestBody: jsonBody({ type: 'object' }, patchTypes), responses: responses('200', schema) }),
    };
  }
  return out;
}

const statusSchema: Doc = {
  type: 'object',
  description: 'Status is a return value for calls that do not return other objects.',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    status: { type: 'string', description: 'Success or Failure.' },
    message: { type: 'string' },
    reason: { type: 'string' },
    code: { type: 'integer', format: 'int32' },
    details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
  'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
};

const documents = new Map<string, Doc>();
for (const g of servedGroups()) {
  for (const v of g.versions) {
    const types = typesIn(g.name, v);
    const schemas: Record<string, Doc> = { [STATUS_SCHEMA]: statusSchema };
    let paths: Record<string, Doc> = {};
    for (const t of types) {
      const name = schemaName(t.group, t.version, t.kind);
      schemas[name] = kindSchemaFor(t.group, t.version, t.kind);
      schemas[`${name}List`] = {
        type: 'object',
        description: `A list of ${t.kind} objects.`,
        properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, items: { type: 'array', items: ref(name) } },
        required: ['items'],
        'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: `${t.kind}List` }],
      };
      paths = { ...paths, ...pathsFor(t) };
    }
    documents.set(docPath(g.name, v), { openapi: '3.0.0', info: { title: 'Margay', version: 'v1.32.0-margay' }, paths, components: { schemas } });
  }
}

const hashes = new Map<string, string>([...documents].map(([p, d]) => [p, createHash('sha512').update(JSON.stringify(d)).digest('hex').slice(0, 64).toUpperCase()]));

/** `/openapi/v3`: where each group/version's document is. */
export function openApiIndex(): Doc {
  return { paths: Object.fromEntries([...documents.keys()].map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${hashes.get(p) ?? ''}` }])) };
}

/** The document for `api/v1` or `apis/<group>/<version>`, or undefined. */
export function openApiDocument(path: string): Doc | undefined {
  return documents.get(path.replace(/^\/+|\/+$/g, ''));
}

export const SERVED_OPENAPI_PATHS: readonly string[] = [...documents.keys()];
