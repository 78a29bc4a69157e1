// Manifest decoding: YAML or JSON text → documents → objects (List and XxxList expanded) →
// validated, defaulted resources. Every problem in the file is collected before throwing, each
// located by document, line and field path.
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { fieldPath, UserError, type Problem } from '../errors/index.js';
import { findKind, isForeignKind, unsupportedKindProblem } from './kinds.js';
import { expectedMessage, issuesToProblems, zodErrorMap, type PathSegment, type RawProblem } from './problems.js';
import type { Decoded, SourceRef } from './source.js';
import type { Resource } from './types.js';

type Outcome = { ok: true; resource: Resource } | { ok: false; problems: RawProblem[]; object?: string };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** "NetworkPolicy ns/name", from the raw object, for messages about an object that failed. */
function rawLabel(kind: string, namespaced: boolean, metadata: unknown): string | undefined {
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') return undefined;
  if (!namespaced) return `${kind} ${metadata.name}`;
  const ns = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default';
  return `${kind} ${ns}/${metadata.name}`;
}

/**
 * Drops `key: null` entries at any depth: Kubernetes' decoder treats an explicit null like an
 * absent field, and YAML writes one for every `key:` left empty.
 */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** Validates one object against its kind's schema. */
function validate(input: unknown): Outcome {
  const raw = dropNulls(input);
  if (!isRecord(raw)) return { ok: false, problems: [{ path: [], message: expectedMessage('a Kubernetes object (a mapping with apiVersion and kind)', raw) }] };
  const def = findKind(raw.apiVersion, raw.kind);
  if (def === undefined) return { ok: false, problems: [unsupportedKindProblem(raw.apiVersion, raw.kind)] };
  const object = rawLabel(def.kind, def.namespaced, raw.metadata);
  const parsed = def.schema.safeParse(raw, { error: zodErrorMap });
  if (parsed.success) return { ok: true, resource: parsed.data };
  return { ok: false, problems: issuesToProblems(parsed.error.issues), ...(object !== undefined ? { object } : {}) };
}

interface Located {
  value: unknown;
  /** Path of the object inside its document (`items[3]` for a List item). */
  prefix: PathSegment[];
}

/**
 * Expands `kind: List` (items carry their own apiVersion and kind) and typed lists such as
 * `NetworkPolicyList` (items may omit them: they are the list's kind without "List").
 */
function expandLists(value: unknown, problems: RawProblem[]): Located[] {
  if (!isRecord(value) || typeof value.kind !== 'string' || !value.kind.endsWith('List') || !('items' in value)) return [{ value, prefix: [] }];
  const items = value.items;
  if (items === null || items === undefined) return [];
  if (!Array.isArray(items)) {
    problems.push({ path: ['items'], message: expectedMessage('a list of objects', items) });
    return [];
  }
  const itemKind = value.kind === 'List' ? undefined : value.kind.slice(0, -'List'.length);
  return items.map((item: unknown, i) => {
    const filled = itemKind !== undefined && isRecord(item) ? { apiVersion: value.apiVersion, kind: itemKind, ...item } : item;
    return { value: filled, prefix: ['items', i] };
  });
}

/** The 1-based line of the deepest node along `path` (a missing field reports its parent). */
function lineOf(doc: Document, lc: LineCounter, path: readonly PathSegment[]): number | undefined {
  const lineAt = (n: unknown): number | undefined => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : undefined);
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

type Locate = (path: readonly PathSegment[]) => number | undefined;

/** Validates every object of one document, appending results and located problems. */
function decodeDocument(
  value: unknown,
  where: { file: string; document: number },
  locate: Locate,
  out: Decoded[],
  problems: Problem[],
  options: DecodeOptions,
): void {
  const listProblems: RawProblem[] = [];
  for (const { value: obj, prefix } of expandLists(value, listProblems)) {
    if (options.onForeign && isRecord(obj) && isForeignKind(obj.apiVersion, obj.kind)) {
      const line = locate(prefix);
      const name = isRecord(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : undefined;
      options.onForeign({
        source: { ...where, ...(line !== undefined ? { line } : {}) },
        apiVersion: obj.apiVersion as string,
        kind: obj.kind as string,
        ...(name !== undefined ? { name } : {}),
      });
      continue;
    }
    const result = validate(obj);
    if (result.ok) {
      const line = locate(prefix);
      out.push({ source: { ...where, ...(line !== undefined ? { line } : {}) }, resource: result.resource });
      continue;
    }
    const located = result.problems.map((p) => place(where, locate, [...prefix, ...p.path], p.message, result.object));
    // Report an object's problems in the order they appear in the file.
    located.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    problems.push(...located);
  }
  problems.push(...listProblems.map((p) => place(where, locate, p.path, p.message, undefined)));
}

function place(where: { file: string; document: number }, locate: Locate, path: PathSegment[], message: string, object: string | undefined): Problem {
  const line = locate(path);
  return {
    ...where,
    ...(line !== undefined ? { line } : {}),
    ...(object !== undefined ? { object } : {}),
    ...(path.length > 0 ? { path: fieldPath(path) } : {}),
    message,
  };
}

/** An object of a kind Margay does not model, passed over when the caller asked for that. */
export interface ForeignObject {
  readonly source: SourceRef;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name?: string;
}

export interface DecodeOptions {
  /**
   * Called for objects of foreign kinds (other API groups, core kinds such as Service) instead of
   * reporting them as problems. Unknown kinds in the groups Margay models stay problems.
   */
  readonly onForeign?: (object: ForeignObject) => void;
}

/**
 * Decodes a YAML (multi-document) or JSON manifest. Throws one UserError listing every problem
 * in the file; empty documents are skipped. Documents are numbered from 1 in file order.
 */
export function decodeManifests(text: string, file: string, options: DecodeOptions = {}): Decoded[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, merge: true, uniqueKeys: true });
  const out: Decoded[] = [];
  const problems: Problem[] = [];
  if (!Array.isArray(docs)) return out; // an empty stream

  // YAML is a superset of JSON except for tab indentation; a JSON file YAML rejects gets a second chance.
  if (docs.some((d) => d.errors.length > 0) && /^\s*[[{]/.test(text)) {
    try {
      decodeDocument(JSON.parse(text) as unknown, { file, document: 1 }, () => undefined, out, problems, options);
      if (problems.length > 0) throw new UserError(problems);
      return out;
    } catch (err) {
      if (err instanceof UserError) throw err;
      // Not JSON either: fall through and report the YAML parser's errors.
    }
  }

  docs.forEach((doc, i) => {
    const where = { file, document: i + 1 };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ ...where, line: lc.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message}` });
      return;
    }
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      // toJS refuses alias bombs ("excessive alias count"); report it like a parse error.
      problems.push({ ...where, message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (value === null || value === undefined) return;
    decodeDocument(value, where, (path) => lineOf(doc, lc, path), out, problems, options);
  });
  if (problems.length > 0) throw new UserError(problems);
  return out;
}

/** Validates and defaults one already-parsed object; problems carry `source` (no field lines). */
export function decodeObject(obj: unknown, source: SourceRef): Resource {
  const result = validate(obj);
  if (result.ok) return result.resource;
  throw new UserError(
    result.problems.map((p) => ({
      file: source.file,
      document: source.document,
      ...(source.line !== undefined ? { line: source.line } : {}),
      ...(result.object !== undefined ? { object: result.object } : {}),
      ...(p.path.length > 0 ? { path: fieldPath(p.path) } : {}),
      message: p.message,
    })),
  );
}
