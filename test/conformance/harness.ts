// The conformance suite's own machinery: the truth-table format, the merge of a base cluster with a
// case's documents, case discovery and the readable diff. Nothing here knows how policy is evaluated.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** One expected matrix: rows are sources, columns destinations, `true` = connection allowed. */
export interface TruthTable {
  readonly port: number;
  readonly protocol: Protocol;
  /** 1-based line of the `# port` header, for messages. */
  readonly line: number;
  /** Full `namespace/pod` names in table order. */
  readonly pods: readonly string[];
  readonly allowed: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
}

export interface Expectations {
  readonly tables: readonly TruthTable[];
  /** Short name -> full `namespace/pod`, including inherited aliases. */
  readonly aliases: ReadonlyMap<string, string>;
}

/** A mistake in a case file: names the file and line. */
export class CaseFormatError extends Error {
  constructor(source: string, line: number | undefined, message: string) {
    super(line === undefined ? `${source}: ${message}` : `${source}:${line}: ${message}`);
    this.name = 'CaseFormatError';
  }
}

const PORT_HEADER = /^#\s*port\s+(\S+)\s*$/;
const ALIAS_LINE = /^#\s*alias\s+(\S+)\s*=\s*(\S+)\s*$/;
const POD_NAME = /^[^/\s]+\/[^/\s]+$/;

/** Reads the `# alias SHORT = ns/pod` lines of a file (everything else is ignored). */
export function parseAliases(text: string, source: string): Map<string, string> {
  const aliases = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const match = ALIAS_LINE.exec(raw.trim());
    if (match) defineAlias(aliases, match, source, index + 1);
  });
  return aliases;
}

function defineAlias(aliases: Map<string, string>, match: RegExpExecArray, source: string, line: number): void {
  const short = match[1] ?? '';
  const full = match[2] ?? '';
  if (!POD_NAME.test(full)) throw new CaseFormatError(source, line, `alias ${short} must name a pod as namespace/pod, got "${full}"`);
  if (short.includes('/')) throw new CaseFormatError(source, line, `alias name "${short}" must not contain "/"`);
  const previous = aliases.get(short);
  if (previous !== undefined && previous !== full) {
    throw new CaseFormatError(source, line, `alias ${short} is already defined as ${previous}`);
  }
  aliases.set(short, full);
}

/** Parses a probe header's `PORT/PROTOCOL`, e.g. `80/TCP`. */
export function parseProbe(text: string): { port: number; protocol: Protocol } | undefined {
  const match = /^(\d{1,5})\/([A-Z]+)$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[1]);
  const protocol = PROTOCOLS.find((p) => p === match[2]);
  if (protocol === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { port, protocol };
}

interface OpenTable {
  port: number;
  protocol: Protocol;
  line: number;
  header: string[] | undefined;
  rows: Map<string, Map<string, boolean>>;
  rowOrder: string[];
}

/**
 * Parses an expect.txt: `#` lines are comments except `# port N/PROTO`, which starts a table, and
 * `# alias SHORT = ns/pod`. A table is a header row of pod names followed by one row per source pod with
 * one cell per column, `.` (allowed) or `X` (denied); a blank line ends it.
 */
export function parseExpectations(text: string, source: string, inherited?: ReadonlyMap<string, string>): Expectations {
  const aliases = new Map<string, string>(inherited ?? []);
  const tables: TruthTable[] = [];
  let open: OpenTable | undefined;

  const resolve = (name: string, line: number): string => {
    const full = aliases.get(name) ?? name;
    if (!POD_NAME.test(full)) throw new CaseFormatError(source, line, `"${name}" is neither namespace/pod nor a known alias`);
    return full;
  };

  const close = (): void => {
    if (!open) return;
    const table = open;
    open = undefined;
    if (!table.header) throw new CaseFormatError(source, table.line, `port ${table.port}/${table.protocol} has no table below it`);
    const header = table.header;
    const missing = header.filter((pod) => !table.rows.has(pod));
    if (missing.length > 0) {
      throw new CaseFormatError(source, table.line, `port ${table.port}/${table.protocol}: no row for ${missing.join(', ')}`);
    }
    for (const pod of header) {
      if (table.rows.get(pod)?.get(pod) === false) {
        throw new CaseFormatError(source, table.line,
          `port ${table.port}/${table.protocol}: ${pod} -> ${pod} must be "." (a pod's traffic to itself is always allowed)`);
      }
    }
    if (tables.some((t) => t.port === table.port && t.protocol === table.protocol)) {
      throw new CaseFormatError(source, table.line, `port ${table.port}/${table.protocol} appears twice`);
    }
    tables.push({ port: table.port, protocol: table.protocol, line: table.line, pods: header, allowed: table.rows });
  };

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '') {
      if (open && !open.header) throw new CaseFormatError(source, open.line, `port ${open.port}/${open.protocol} has no table below it`);
      close();
      return;
    }
    if (trimmed.startsWith('#')) {
      const probeHeader = PORT_HEADER.exec(trimmed);
      if (probeHeader) {
        close();
        const probe = parseProbe(probeHeader[1] ?? '');
        if (!probe) throw new CaseFormatError(source, line, `expected "# port N/TCP|UDP|SCTP" with 1 <= N <= 65535, got "${trimmed}"`);
        open = { ...probe, line, header: undefined, rows: new Map(), rowOrder: [] };
        return;
      }
      const alias = ALIAS_LINE.exec(trimmed);
      if (alias) defineAlias(aliases, alias, source, line);
      return; // any other comment, also inside a table
    }
    if (!open) throw new CaseFormatError(source, line, 'text outside a table; start a table with "# port N/PROTO" or make the line a comment');
    const tokens = trimmed.split(/\s+/);
    if (!open.header) {
      const header = tokens.map((token) => resolve(token, line));
      const seen = new Set<string>();
      for (const pod of header) {
        if (seen.has(pod)) throw new CaseFormatError(source, line, `column ${pod} appears twice`);
        seen.add(pod);
      }
      open.header = header;
      return;
    }
    const [rowName = '', ...cells] = tokens;
    const from = resolve(rowName, line);
    if (!open.header.includes(from)) throw new CaseFormatError(source, line, `row ${from} is not a column of this table`);
    if (open.rows.has(from)) throw new CaseFormatError(source, line, `row ${from} appears twice`);
    if (cells.length !== open.header.length) {
      throw new CaseFormatError(source, line, `row ${from} has ${cells.length} cells, expected ${open.header.length}`);
    }
    const row = new Map<string, boolean>();
    cells.forEach((cell, column) => {
      const to = open?.header?.[column] ?? '';
      if (cell === '.') row.set(to, true);
      else if (cell === 'X') row.set(to, false);
      else throw new CaseFormatError(source, line, `cell ${from} -> ${to} is "${cell}", expected "." (allowed) or "X" (denied)`);
    });
    open.rows.set(from, row);
    open.rowOrder.push(from);
  });
  if (open && !open.header) throw new CaseFormatError(source, open.line, `port ${open.port}/${open.protocol} has no table below it`);
  close();
  if (tables.length === 0) throw new CaseFormatError(source, undefined, 'no "# port N/PROTO" table');
  return { tables, aliases };
}

/** Renders a matrix in the expect.txt layout, with `name` choosing how pods are displayed. */
export function renderTable(pods: readonly string[], cell: (from: string, to: string) => string, name: (pod: string) => string = (p) => p): string {
  const labels = pods.map(name);
  const width = Math.max(0, ...labels.map((l) => l.length));
  const centre = (text: string, size: number): string => {
    const left = Math.floor((size - text.length) / 2);
    return ' '.repeat(Math.max(0, left)) + text + ' '.repeat(Math.max(0, size - text.length - left));
  };
  const lines = [' '.repeat(width) + ' ' + labels.join(' ')];
  pods.forEach((from, i) => {
    const cells = pods.map((to, j) => centre(cell(from, to), labels[j]?.length ?? 1));
    lines.push((labels[i] ?? from).padEnd(width) + ' ' + cells.join(' '));
  });
  return lines.map((l) => l.trimEnd()).join('\n');
}

export interface Comparison {
  readonly ok: boolean;
  readonly report: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compares a `simulate --matrix -o json` result with a truth table: the key sets must be exactly the
 * table's pods at both levels, every value a boolean, and every cell equal.
 */
export function compareMatrix(table: TruthTable, actual: unknown, aliases: ReadonlyMap<string, string> = new Map()): Comparison {
  const short = new Map<string, string>();
  for (const [alias, full] of aliases) if (!short.has(full)) short.set(full, alias);
  const name = (pod: string): string => short.get(pod) ?? pod;
  const probe = `${table.port}/${table.protocol}`;
  if (!isRecord(actual)) {
    return { ok: false, report: `port ${probe}: expected a JSON object keyed by "ns/pod", got ${JSON.stringify(actual)?.slice(0, 200)}` };
  }
  const expected = new Set(table.pods);
  const problems: string[] = [];
  const missingSources = table.pods.filter((p) => !(p in actual));
  const extraSources = Object.keys(actual).filter((p) => !expected.has(p));
  if (missingSources.length > 0) problems.push(`missing source pods: ${missingSources.join(', ')}`);
  if (extraSources.length > 0) problems.push(`unexpected source pods: ${extraSources.join(', ')}`);
  const got = (from: string, to: string): boolean | undefined => {
    const row = actual[from];
    if (!isRecord(row)) return undefined;
    const value = row[to];
    return typeof value === 'boolean' ? value : undefined;
  };
  for (const from of table.pods) {
    const row = actual[from];
    if (row === undefined) continue;
    if (!isRecord(row)) {
      problems.push(`${from}: expected an object, got ${JSON.stringify(row)}`);
      continue;
    }
    const missing = table.pods.filter((p) => !(p in row));
    const extra = Object.keys(row).filter((p) => !expected.has(p));
    const nonBoolean = Object.keys(row).filter((p) => expected.has(p) && typeof row[p] !== 'boolean');
    if (missing.length > 0) problems.push(`${from}: missing destinations ${missing.join(', ')}`);
    if (extra.length > 0) problems.push(`${from}: unexpected destinations ${extra.join(', ')}`);
    if (nonBoolean.length > 0) problems.push(`${from}: non-boolean values for ${nonBoolean.join(', ')}`);
  }
  const mismatches: string[] = [];
  for (const from of table.pods) {
    for (const to of table.pods) {
      const want = table.allowed.get(from)?.get(to);
      const have = got(from, to);
      if (have !== undefined && want !== undefined && have !== want) {
        mismatches.push(`  ${name(from)} -> ${name(to)}: expected ${want ? 'allowed' : 'denied'}, got ${have ? 'allowed' : 'denied'}`);
      }
    }
  }
  if (problems.length === 0 && mismatches.length === 0) return { ok: true, report: `port ${probe}: all ${table.pods.length ** 2} cells agree` };

  const cells = table.pods.length ** 2;
  const out = [`port ${probe}: ${mismatches.length} of ${cells} cells differ${problems.length > 0 ? `, ${problems.length} shape problems` : ''}`];
  for (const problem of problems) out.push(`  ${problem}`);
  out.push('', 'rows = from, columns = to; "." / "X" agree (allowed / denied), "+" expected denied but got allowed,',
    '"-" expected allowed but got denied, "?" missing or not a boolean:');
  out.push(renderTable(table.pods, (from, to) => {
    const want = table.allowed.get(from)?.get(to);
    const have = got(from, to);
    if (have === undefined) return '?';
    if (have === want) return have ? '.' : 'X';
    return have ? '+' : '-';
  }, name));
  if (mismatches.length > 0) {
    out.push('', 'differing cells:');
    out.push(...mismatches.slice(0, 60));
    if (mismatches.length > 60) out.push(`  ... and ${mismatches.length - 60} more`);
  }
  return { ok: false, report: out.join('\n') };
}

// ---- manifests ----

export type ManifestObject = Record<string, unknown>;

/** Splits a multi-document YAML file into objects; every object needs a kind and metadata.name. */
export function parseManifest(text: string, source: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) throw new CaseFormatError(source, undefined, `document ${index + 1}: ${error.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (!isRecord(value)) throw new CaseFormatError(source, undefined, `document ${index + 1} is not a mapping`);
    objectKey(value, `${source} document ${index + 1}`);
    objects.push(value);
  });
  return objects;
}

/** The identity an overlay replaces by: kind, namespace (empty for cluster-scoped) and name. */
export function objectKey(object: ManifestObject, where = 'object'): string {
  const kind = object['kind'];
  const metadata = object['metadata'];
  const name = isRecord(metadata) ? metadata['name'] : undefined;
  const namespace = isRecord(metadata) ? metadata['namespace'] : undefined;
  if (typeof kind !== 'string' || kind === '') throw new Error(`${where}: missing kind`);
  if (typeof name !== 'string' || name === '') throw new Error(`${where}: missing metadata.name`);
  if (namespace !== undefined && typeof namespace !== 'string') throw new Error(`${where}: metadata.namespace must be a string`);
  return `${kind}/${namespace ?? ''}/${name}`;
}

export interface MergedManifest {
  readonly objects: readonly ManifestObject[];
  /** Keys of base objects that the overlay replaced. */
  readonly replaced: readonly string[];
}

/**
 * Base objects in order, each replaced whole (not patched) by an overlay object with the same
 * kind/namespace/name; overlay objects with a new key are appended in their order.
 */
export function mergeManifests(base: readonly ManifestObject[], overlay: readonly ManifestObject[]): MergedManifest {
  const objects = [...base];
  const index = new Map<string, number>();
  base.forEach((object, i) => {
    const key = objectKey(object);
    if (index.has(key)) throw new Error(`base defines ${key} twice`);
    index.set(key, i);
  });
  const replaced: string[] = [];
  const seen = new Set<string>();
  for (const object of overlay) {
    const key = objectKey(object);
    if (seen.has(key)) throw new Error(`case defines ${key} twice`);
    seen.add(key);
    const at = index.get(key);
    if (at === undefined) {
      objects.push(object);
    } else {
      objects[at] = object;
      replaced.push(key);
    }
  }
  return { objects, replaced };
}

export function serializeManifest(objects: readonly ManifestObject[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

/** Every Pod as `namespace/name`, in manifest order (namespace defaults to "default"). */
export function podNames(objects: readonly ManifestObject[]): string[] {
  const pods: string[] = [];
  for (const object of objects) {
    if (object['kind'] !== 'Pod') continue;
    const metadata = object['metadata'];
    if (!isRecord(metadata)) continue;
    const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : 'default';
    pods.push(`${namespace}/${String(metadata['name'])}`);
  }
  return pods;
}

/** Checks that a table's rows and columns are exactly the manifest's pods. */
export function coverageProblems(table: TruthTable, pods: readonly string[]): string[] {
  const inTable = new Set(table.pods);
  const inManifest = new Set(pods);
  const problems: string[] = [];
  const absent = pods.filter((p) => !inTable.has(p));
  const unknown = table.pods.filter((p) => !inManifest.has(p));
  if (absent.length > 0) problems.push(`port ${table.port}/${table.protocol} (line ${table.line}) lacks pods ${absent.join(', ')}`);
  if (unknown.length > 0) problems.push(`port ${table.port}/${table.protocol} (line ${table.line}) names pods not in the manifest: ${unknown.join(', ')}`);
  return problems;
}

// ---- discovery ----

export interface ConformanceCase {
  readonly family: string;
  readonly name: string;
  readonly dir: string;
  /** case.yaml: policies and overlay objects; absent for a case that only probes the base. */
  readonly manifest: string | undefined;
  readonly expect: string;
}

export interface ConformanceFamily {
  readonly name: string;
  readonly dir: string;
  readonly base: string;
  readonly aliases: string | undefined;
  readonly cases: readonly ConformanceCase[];
}

/** A family is a directory holding base.yaml and cases/<case>/expect.txt (+ optional case.yaml). */
export function discoverFamilies(root: string): ConformanceFamily[] {
  const families: ConformanceFamily[] = [];
  const sorted = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const name of sorted(root)) {
    const dir = join(root, name);
    const base = join(dir, 'base.yaml');
    const casesDir = join(dir, 'cases');
    if (!existsSync(base) || !existsSync(casesDir)) continue;
    const aliases = join(dir, 'aliases.txt');
    const cases = sorted(casesDir).map((caseName): ConformanceCase => {
      const caseDir = join(casesDir, caseName);
      const expect = join(caseDir, 'expect.txt');
      if (!existsSync(expect)) throw new Error(`${caseDir}: missing expect.txt`);
      const manifest = join(caseDir, 'case.yaml');
      return { family: name, name: caseName, dir: caseDir, manifest: existsSync(manifest) ? manifest : undefined, expect };
    });
    families.push({ name, dir, base, aliases: existsSync(aliases) ? aliases : undefined, cases });
  }
  return families;
}

/** Walks up from `start` to the directory whose package.json names the margay package. */
export function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (isRecord(parsed) && parsed['name'] === 'margay') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no margay package.json above ${start}`);
    dir = parent;
  }
}

export interface LoadedCase {
  readonly expectations: Expectations;
  readonly objects: readonly ManifestObject[];
  readonly pods: readonly string[];
}

/** Reads a case's files and merges them with the family's base cluster. */
export function loadCase(family: ConformanceFamily, conformanceCase: ConformanceCase, base: readonly ManifestObject[]): LoadedCase {
  const inherited = family.aliases ? parseAliases(readFileSync(family.aliases, 'utf8'), family.aliases) : new Map<string, string>();
  const expectations = parseExpectations(readFileSync(conformanceCase.expect, 'utf8'), conformanceCase.expect, inherited);
  const overlay = conformanceCase.manifest ? parseManifest(readFileSync(conformanceCase.manifest, 'utf8'), conformanceCase.manifest) : [];
  const { objects } = mergeManifests(base, overlay);
  return { expectations, objects, pods: podNames(objects) };
}
