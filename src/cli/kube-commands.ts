// `margay apply|get|delete|diff`: kubectl-like commands against the cluster in the kubeconfig.
// `apply` validates every document of every file locally first and changes nothing when any is
// invalid; it then server-side-applies each object (namespaces and tiers first).
import { parseAllDocuments } from 'yaml';
import { UserError, type Problem } from '../errors/index.js';
import { decodeManifests } from '../resources/index.js';
import { RESOURCE_TYPES, apiVersionOf, deepEqual, findResourceTypeByKind, type JsonObject, type ResourceType } from '../api/index.js';
import { KubeApiError, KubeClient, loadKubeconfig, type ClusterAccess } from '../client/index.js';
import { asList, forDisplay, kindLabel, qualifiedName, renderTable, toYaml, unifiedDiff } from './kube-output.js';
import type { CommandIo } from './simulate.js';
import { readManifestTexts } from './read-manifests.js';

export const FIELD_MANAGER = 'margay';
/** Exit code when the server refused a request (kubectl uses 1). */
export const EXIT_SERVER = 1;

export interface ClusterOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

export function connect(o: ClusterOptions): { client: KubeClient; access: ClusterAccess } {
  const access = loadKubeconfig(o.kubeconfig, o.context);
  return { client: new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}), ...(access.caPem !== undefined ? { caPem: access.caPem } : {}), userAgent: 'margay/0.1' }), access };
}

export interface RawObject {
  readonly object: JsonObject;
  readonly file: string;
}

/**
 * Reads manifests as the user wrote them (so unmodelled fields reach the server), after checking
 * every document with the resources module: one UserError lists every problem in every file.
 */
export function readObjects(paths: readonly string[], stdin: () => string): RawObject[] {
  const problems: Problem[] = [];
  const out: RawObject[] = [];
  for (const { file, text } of readManifestTexts(paths, stdin, problems)) {
    try {
      decodeManifests(text, file);
    } catch (err) {
      if (err instanceof UserError) {
        problems.push(...err.problems);
        continue;
      }
      throw err;
    }
    let values: unknown[];
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) values = [];
    else if (docs.some((d) => d.errors.length > 0)) values = [JSON.parse(text) as unknown];
    else values = docs.map((d) => d.toJS({ maxAliasCount: 1000 }) as unknown);
    for (const v of values) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
      const o = v as JsonObject;
      if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
        const itemKind = o.kind === 'List' ? undefined : o.kind.slice(0, -4);
        for (const item of o.items) {
          if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
          out.push({ object: itemKind !== undefined ? { apiVersion: o.apiVersion ?? null, kind: itemKind, ...item } : item, file });
        }
      } else out.push({ object: o, file });
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  return out;
}

function typeOf(o: JsonObject, file: string): ResourceType {
  const t = findResourceTypeByKind(String(o.apiVersion), String(o.kind));
  if (t === undefined) throw new UserError({ file, message: `the server does not serve ${String(o.kind)} (${String(o.apiVersion)})` });
  return t;
}

function nameOf(o: JsonObject): string {
  return String((o.metadata as JsonObject | undefined)?.name ?? '');
}

function namespaceFor(type: ResourceType, o: JsonObject | undefined, cli: ClusterOptions, access: Pick<ClusterAccess, 'namespace'>): string | undefined {
  if (!type.namespaced) return undefined;
  const fromObject = (o?.metadata as JsonObject | undefined)?.namespace;
  if (typeof fromObject === 'string' && fromObject !== '') {
    if (cli.namespace !== undefined && cli.namespace !== fromObject) {
      throw new UserError({ message: `the namespace from the provided object "${fromObject}" does not match the namespace "${cli.namespace}". You must pass '--namespace=${fromObject}' to perform this operation.` });
    }
    return fromObject;
  }
  return cli.namespace ?? access.namespace ?? 'default';
}

const APPLY_RANK = (t: ResourceType): number => (t.kind === 'Namespace' ? 0 : t.kind === 'Tier' ? 1 : 2);

function serverError(io: CommandIo, err: unknown, what?: string): number {
  if (!(err instanceof KubeApiError)) throw err;
  const prefix = err.code === 0 ? 'error' : `Error from server (${err.reason})`;
  io.err(`${prefix}: ${what !== undefined ? `${what}: ` : ''}${err.message}`);
  return EXIT_SERVER;
}

export interface ApplyCommandOptions extends ClusterOptions {
  readonly files: readonly string[];
  readonly dryRun?: boolean;
  readonly output?: string;
  readonly forceConflicts?: boolean;
}

export async function applyCommand(o: ApplyCommandOptions, io: CommandIo): Promise<number> {
  if (o.files.length === 0) throw new UserError({ path: '-f', message: 'expected at least one manifest file (-f FILE)' });
  const objects = readObjects(o.files, io.stdin);
  const resolved = objects.map((r) => ({ ...r, type: typeOf(r.object, r.file) }));
  const { client, access } = connect(o);
  resolved.sort((a, b) => APPLY_RANK(a.type) - APPLY_RANK(b.type));
  let code = 0;
  for (const { object, type, file } of resolved) {
    const namespace = namespaceFor(type, object, o, access);
    const name = nameOf(object);
    const body: JsonObject = { ...object, metadata: { ...(object.metadata as JsonObject), ...(namespace !== undefined ? { namespace } : {}) } };
    try {
      let before: JsonObject | undefined;
      try {
        before = await client.get(type, namespace, name);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      }
      const { object: after, warnings } = await client.apply(type, namespace, body, { fieldManager: FIELD_MANAGER, force: o.forceConflicts ?? false, fieldValidation: 'Strict', dryRun: o.dryRun ?? false });
      for (const w of warnings) io.err(`Warning: ${w}`);
      const beforeRv = (before?.metadata as JsonObject | undefined)?.resourceVersion;
      const verb = before === undefined ? 'created' : beforeRv === (after.metadata as JsonObject).resourceVersion ? 'unchanged' : 'configured';
      if (o.output === 'yaml') io.out(`${toYaml(forDisplay(after))}\n---`);
      else if (o.output === 'json') io.out(JSON.stringify(forDisplay(after), null, 2));
      else io.out(`${qualifiedName(type, name)} ${verb}${o.dryRun ? ' (server dry run)' : ''}`);
    } catch (err) {
      code = serverError(io, err, `${file}: ${kindLabel(type)} "${name}"`);
    }
  }
  return code;
}

/** Resolves `pods`, `pod`, `po`, `Pod`, `networkpolicies.projectcalico.org`, `gnp` to a type. */
export function resolveType(text: string): ResourceType {
  const [head, ...groupParts] = text.split('.');
  const word = (head ?? '').toLowerCase();
  const group = groupParts.join('.');
  const matches = RESOURCE_TYPES.filter(
    (t) => (group === '' || t.group === group) && (t.plural === word || t.singular === word || t.shortNames.includes(word) || t.kind.toLowerCase() === word),
  );
  const first = matches[0];
  if (first === undefined) {
    throw new UserError({ message: `the server doesn't have a resource type "${text}"; known types: ${RESOURCE_TYPES.map((t) => t.plural + (t.group !== '' ? `.${t.group}` : '')).join(', ')}` });
  }
  return first;
}

export interface GetCommandOptions extends ClusterOptions {
  readonly args: readonly string[];
  readonly files?: readonly string[];
  readonly allNamespaces?: boolean;
  readonly selector?: string;
  readonly output?: string;
  readonly showManagedFields?: boolean;
}

export interface Target {
  type: ResourceType;
  names: string[];
  namespace: string | undefined;
}

/** What a get or delete names: `-f FILE`, `TYPE/NAME…` or `TYPE[,TYPE] [NAME…]`. */
export function targets(o: GetCommandOptions | DeleteCommandOptions, access: Pick<ClusterAccess, 'namespace'>, io: CommandIo): Target[] {
  const files = o.files ?? [];
  if (files.length > 0) {
    return readObjects(files, io.stdin).map(({ object, file }) => {
      const type = typeOf(object, file);
      return { type, names: [nameOf(object)], namespace: namespaceFor(type, object, o, access) };
    });
  }
  const [first, ...rest] = o.args;
  if (first === undefined) throw new UserError({ message: 'expected a resource type such as pods, networkpolicies, gnp (or -f FILE)' });
  if (first.includes('/')) {
    return o.args.map((a) => {
      const [t, n] = a.split('/');
      const type = resolveType(t ?? '');
      return { type, names: [n ?? ''], namespace: type.namespaced ? (o.namespace ?? access.namespace ?? 'default') : undefined };
    });
  }
  return first.split(',').map((t) => {
    const type = resolveType(t);
    const all = 'allNamespaces' in o && o.allNamespaces === true;
    return { type, names: rest, namespace: type.namespaced && !all ? (o.namespace ?? access.namespace ?? 'default') : undefined };
  });
}

export async function getCommand(o: GetCommandOptions, io: CommandIo): Promise<number> {
  const { client, access } = connect(o);
  const output = o.output ?? '';
  if (!['', 'wide', 'yaml', 'json', 'name'].includes(output)) throw new UserError({ path: '-o', message: `expected one of yaml, json, wide, name; got ${JSON.stringify(output)}` });
  const ts = targets(o, access, io);
  const collected: JsonObject[] = [];
  let code = 0;
  let printedTable = false;
  for (const t of ts) {
    try {
      if (output === '' || output === 'wide') {
        const withNamespace = t.type.namespaced && t.namespace === undefined;
        if (t.names.length === 0) {
          const table = await client.table(t.type, t.namespace, undefined, o.selector !== undefined ? { labelSelector: o.selector } : {});
          if (((table.rows ?? []) as unknown[]).length === 0) {
            io.err(t.namespace !== undefined ? `No resources found in ${t.namespace} namespace.` : 'No resources found');
            continue;
          }
          if (printedTable) io.out('');
          io.out(renderTable(table, { wide: output === 'wide', withNamespace }));
          printedTable = true;
        } else {
          const rows: JsonObject[] = [];
          for (const name of t.names) rows.push(await client.table(t.type, t.namespace, name));
          const merged = { ...rows[0], rows: rows.flatMap((r) => (r.rows ?? []) as unknown as JsonObject[]) } as JsonObject;
          if (printedTable) io.out('');
          io.out(renderTable(merged, { wide: output === 'wide', withNamespace }));
          printedTable = true;
        }
        continue;
      }
      const objects = t.names.length === 0
        ? (await client.listAll(t.type, t.namespace, o.selector !== undefined ? { labelSelector: o.selector } : {})).items.map((i) => ({ apiVersion: apiVersionOf(t.type), kind: t.type.kind, ...i }))
        : await Promise.all(t.names.map((n) => client.get(t.type, t.namespace, n)));
      if (output === 'name') for (const obj of objects) io.out(qualifiedName(t.type, nameOf(obj)));
      else collected.push(...objects.map((x) => (o.showManagedFields ? x : forDisplay(x))));
    } catch (err) {
      code = serverError(io, err);
    }
  }
  if (output === 'yaml' || output === 'json') {
    const single = ts.length === 1 && (ts[0]?.names.length ?? 0) === 1 && collected.length === 1;
    const doc = single ? collected[0] : asList(collected);
    io.out(output === 'yaml' ? toYaml(doc) : JSON.stringify(doc, null, 4));
  }
  return code;
}

export interface DeleteCommandOptions extends ClusterOptions {
  readonly args: readonly string[];
  readonly files?: readonly string[];
  readonly ignoreNotFound?: boolean;
  readonly dryRun?: boolean;
}

export async function deleteCommand(o: DeleteCommandOptions, io: CommandIo): Promise<number> {
  const { client, access } = connect(o);
  const ts = targets(o, access, io);
  let code = 0;
  for (const t of ts) {
    if (t.names.length === 0) throw new UserError({ message: `expected the name of the ${t.type.singular} to delete (or -f FILE)` });
    for (const name of t.names) {
      try {
        await client.delete(t.type, t.namespace, name, { dryRun: o.dryRun ?? false });
        io.out(`${kindLabel(t.type)} "${name}" deleted${o.dryRun ? ' (server dry run)' : ''}`);
      } catch (err) {
        if (o.ignoreNotFound && err instanceof KubeApiError && err.code === 404) continue;
        code = serverError(io, err);
      }
    }
  }
  return code;
}

/** Fields that change on every write and would only be noise in a diff. */
function forDiff(o: JsonObject | undefined): string {
  if (o === undefined) return '';
  const meta = { ...(o.metadata as JsonObject) };
  for (const k of ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp']) delete meta[k];
  return `${toYaml({ ...o, metadata: meta })}\n`;
}

export interface DiffCommandOptions extends ClusterOptions {
  readonly files: readonly string[];
}

/** Prints what `apply` would change (server-side dry run); exit 1 when there are differences. */
export async function diffCommand(o: DiffCommandOptions, io: CommandIo): Promise<number> {
  if (o.files.length === 0) throw new UserError({ path: '-f', message: 'expected at least one manifest file (-f FILE)' });
  const objects = readObjects(o.files, io.stdin);
  const { client, access } = connect(o);
  let differs = false;
  for (const { object, file } of objects) {
    const type = typeOf(object, file);
    const namespace = namespaceFor(type, object, o, access);
    const name = nameOf(object);
    const body: JsonObject = { ...object, metadata: { ...(object.metadata as JsonObject), ...(namespace !== undefined ? { namespace } : {}) } };
    let live: JsonObject | undefined;
    try {
      try {
        live = await client.get(type, namespace, name);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      }
      const { object: merged } = await client.apply(type, namespace, body, { fieldManager: FIELD_MANAGER, force: true, dryRun: true, fieldValidation: 'Strict' });
      if (live !== undefined && deepEqual(forDiff(live), forDiff(merged))) continue;
      const label = `${apiVersionOf(type)}.${type.kind}.${namespace !== undefined ? `${namespace}.` : ''}${name}`;
      const text = unifiedDiff(forDiff(live).trimEnd(), forDiff(merged).trimEnd(), `LIVE/${label}`, `MERGED/${label}`);
      if (text !== '') {
        io.out(text);
        differs = true;
      }
    } catch (err) {
      return serverError(io, err, `${file}: ${kindLabel(type)} "${name}"`) + 1;
    }
  }
  return differs ? 1 : 0;
}
