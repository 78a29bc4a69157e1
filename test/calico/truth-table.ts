// Reads the Calico scenario files in test/calico/cases/ (header comments with truth tables,
// then YAML manifests) and compares a `margay simulate --matrix` result against a table.
//
// A case file opens with a comment block and continues with `---`-separated manifests:
//
//   # checks: what Calico rule this case pins down
//   # source: the documentation page or source file it comes from
//   #
//   # verdict shop/web1 -> 203.0.113.10 443/TCP allow     (optional, repeatable)
//   # expect-error                                        (optional: the input is invalid)
//   #
//   # port 80/TCP
//   #             shop/web1  shop/web2
//   # shop/web1           .          X
//   # shop/web2           .          .
//   ---
//   apiVersion: projectcalico.org/v3
//   ...
//
// Rows are sources, columns destinations; '.' means allowed and 'X' denied. A pod to itself
// is always allowed, so the diagonal must be '.'.

export class CaseFormatError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'CaseFormatError';
  }
}

export interface TruthTable {
  /** As written after `# port`, e.g. `80/TCP`; passed to `--port` unchanged. */
  readonly port: string;
  /** Pods in column order, as `namespace/pod`. */
  readonly pods: readonly string[];
  /** allowed.get(from).get(to) */
  readonly allowed: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
  /** 1-based line of the `# port` header, for messages. */
  readonly line: number;
}

export interface VerdictProbe {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  /** What Calico would do; recorded for readers, not asserted while the verdict shape settles. */
  readonly expectAllowed: boolean;
  readonly line: number;
}

export interface CaseFile {
  readonly name: string;
  readonly checks: string;
  readonly source: string;
  readonly tables: readonly TruthTable[];
  readonly verdicts: readonly VerdictProbe[];
  readonly expectError: boolean;
  /** The YAML after the header, starting at the first `---` line; '' when there is none. */
  readonly manifests: string;
}

export type Matrix = Record<string, Record<string, boolean>>;

const PORT_RE = /^(\d{1,5})\/(TCP|UDP|SCTP)$/i;
const POD_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const TARGET_RE = /^(?:[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*|\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)$/;

function checkPort(file: string, line: number, port: string): void {
  const m = PORT_RE.exec(port);
  const n = m ? Number(m[1]) : 0;
  if (!m || n < 1 || n > 65535) {
    throw new CaseFormatError(file, line, `expected a port like 80/TCP (1-65535, TCP|UDP|SCTP), got "${port}"`);
  }
}

/** Comment text without the leading `#` and one optional space; undefined for non-comment lines. */
function commentText(raw: string): string | undefined {
  if (!raw.startsWith('#')) return undefined;
  return raw.slice(1).replace(/^ /, '');
}

export function parseCaseFile(text: string, file: string): CaseFile {
  const lines = text.split(/\r?\n/);
  const docStart = lines.findIndex((l) => /^---\s*$/.test(l));
  const headerEnd = docStart === -1 ? lines.length : docStart;

  for (let i = 0; i < headerEnd; i++) {
    const l = lines[i] ?? '';
    if (l.trim() !== '' && !l.startsWith('#')) {
      throw new CaseFormatError(file, i + 1, 'the header may hold only comments; manifests start at the first "---" line');
    }
  }

  let checks: string[] | undefined;
  let source: string[] | undefined;
  let continuing: string[] | undefined;
  const tables: TruthTable[] = [];
  const verdicts: VerdictProbe[] = [];
  let expectError = false;

  let i = 0;
  while (i < headerEnd) {
    const lineNo = i + 1;
    const body = commentText(lines[i] ?? '') ?? '';
    const trimmed = body.trim();
    let m: RegExpExecArray | null;
    if ((m = /^checks:\s*(.*)$/.exec(trimmed))) {
      if (checks) throw new CaseFormatError(file, lineNo, 'duplicate "checks:" line');
      checks = [m[1] ?? ''];
      continuing = checks;
      i++;
    } else if ((m = /^source:\s*(.*)$/.exec(trimmed))) {
      if (source) throw new CaseFormatError(file, lineNo, 'duplicate "source:" line');
      source = [m[1] ?? ''];
      continuing = source;
      i++;
    } else if (continuing && /^\s+\S/.test(body)) {
      continuing.push(trimmed);
      i++;
    } else if (trimmed === 'expect-error') {
      expectError = true;
      continuing = undefined;
      i++;
    } else if ((m = /^verdict\s+(.*)$/.exec(trimmed))) {
      verdicts.push(parseVerdict(file, lineNo, m[1] ?? ''));
      continuing = undefined;
      i++;
    } else if ((m = /^port\s+(\S+)\s*$/.exec(trimmed))) {
      const parsed = parseTable(file, lines, i, headerEnd, m[1] ?? '');
      if (tables.some((t) => t.port.toUpperCase() === parsed.table.port.toUpperCase())) {
        throw new CaseFormatError(file, lineNo, `a second table for port ${parsed.table.port}`);
      }
      tables.push(parsed.table);
      continuing = undefined;
      i = parsed.next;
    } else if (trimmed === '') {
      continuing = undefined;
      i++;
    } else {
      throw new CaseFormatError(file, lineNo, `unexpected header line "${trimmed}" (expected checks:, source:, verdict, expect-error or port)`);
    }
  }

  if (!checks || checks.join('').trim() === '') throw new CaseFormatError(file, 1, 'missing "# checks:" line');
  if (!source || source.join('').trim() === '') throw new CaseFormatError(file, 1, 'missing "# source:" line');
  if (!expectError && tables.length === 0) {
    throw new CaseFormatError(file, 1, 'no truth table ("# port N/PROTO" followed by the table)');
  }
  if (expectError && (tables.length > 0 || verdicts.length > 0)) {
    throw new CaseFormatError(file, 1, 'an expect-error case has no tables or verdicts');
  }
  for (const t of tables.slice(1)) {
    const first = tables[0];
    if (first && t.pods.join(' ') !== first.pods.join(' ')) {
      throw new CaseFormatError(file, t.line, 'every table of a case lists the same pods in the same order');
    }
  }

  return {
    name: file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    checks: checks.join(' '),
    source: source.join(' '),
    tables,
    verdicts,
    expectError,
    manifests: docStart === -1 ? '' : lines.slice(docStart).join('\n'),
  };
}

function parseVerdict(file: string, line: number, spec: string): VerdictProbe {
  const m = /^(\S+)\s+->\s+(\S+)\s+(\S+)\s+(allow|deny)$/.exec(spec.trim());
  if (!m) throw new CaseFormatError(file, line, `expected "verdict NS/POD -> NS/POD|IP N/PROTO allow|deny", got "${spec}"`);
  const [, from = '', to = '', port = '', outcome] = m;
  if (!POD_RE.test(from)) throw new CaseFormatError(file, line, `verdict source must be NS/POD, got "${from}"`);
  if (!TARGET_RE.test(to)) throw new CaseFormatError(file, line, `verdict destination must be NS/POD or an IP, got "${to}"`);
  checkPort(file, line, port);
  return { from, to, port, expectAllowed: outcome === 'allow', line };
}

function parseTable(
  file: string,
  lines: readonly string[],
  at: number,
  end: number,
  port: string,
): { table: TruthTable; next: number } {
  checkPort(file, at + 1, port);
  const headerIdx = at + 1;
  const header = headerIdx < end ? commentText(lines[headerIdx] ?? '') : undefined;
  if (header === undefined || header.trim() === '') {
    throw new CaseFormatError(file, headerIdx + 1, `the table for ${port} needs a header row of destination pods`);
  }
  const pods = header.trim().split(/\s+/);
  const seen = new Set<string>();
  for (const p of pods) {
    if (!POD_RE.test(p)) throw new CaseFormatError(file, headerIdx + 1, `column "${p}" is not NS/POD`);
    if (seen.has(p)) throw new CaseFormatError(file, headerIdx + 1, `column "${p}" appears twice`);
    seen.add(p);
  }

  const allowed = new Map<string, Map<string, boolean>>();
  let i = headerIdx + 1;
  for (; i < end; i++) {
    const body = commentText(lines[i] ?? '');
    if (body === undefined || body.trim() === '' || /^port\s/.test(body.trim())) break;
    const cells = body.trim().split(/\s+/);
    const from = cells.shift() ?? '';
    if (!seen.has(from)) throw new CaseFormatError(file, i + 1, `row "${from}" is not one of the columns`);
    if (allowed.has(from)) throw new CaseFormatError(file, i + 1, `row "${from}" appears twice`);
    if (cells.length !== pods.length) {
      throw new CaseFormatError(file, i + 1, `row "${from}" has ${cells.length} cells, the header has ${pods.length} columns`);
    }
    const row = new Map<string, boolean>();
    cells.forEach((cell, c) => {
      const to = pods[c] ?? '';
      if (cell !== '.' && cell !== 'X') {
        throw new CaseFormatError(file, i + 1, `cell ${from} -> ${to} is "${cell}"; use "." (allowed) or "X" (denied)`);
      }
      if (to === from && cell !== '.') {
        throw new CaseFormatError(file, i + 1, `cell ${from} -> ${to} must be "." (a pod may always reach itself)`);
      }
      row.set(to, cell === '.');
    });
    allowed.set(from, row);
  }
  const missing = pods.filter((p) => !allowed.has(p));
  if (missing.length > 0) {
    throw new CaseFormatError(file, at + 1, `the table for ${port} has no row for ${missing.join(', ')}`);
  }
  return { table: { port, pods, allowed, line: at + 1 }, next: i };
}

/** Checks that a parsed `-o json` matrix has the documented shape. */
export function asMatrix(value: unknown): Matrix {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`the matrix must be a JSON object of objects, got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  for (const [from, row] of Object.entries(value)) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new Error(`matrix["${from}"] must be an object`);
    }
    for (const [to, cell] of Object.entries(row as Record<string, unknown>)) {
      if (typeof cell !== 'boolean') throw new Error(`matrix["${from}"]["${to}"] must be true or false, got ${JSON.stringify(cell)}`);
    }
  }
  return value as Matrix;
}

export interface Mismatch {
  readonly from: string;
  readonly to: string;
  readonly expected: boolean;
  /** undefined when the CLI printed no cell for the pair. */
  readonly actual: boolean | undefined;
}

export interface Comparison {
  readonly mismatches: readonly Mismatch[];
  /** Pods the CLI printed that the table does not list (as a source or a destination). */
  readonly unexpectedPods: readonly string[];
}

export function compareMatrix(table: TruthTable, actual: Matrix): Comparison {
  const mismatches: Mismatch[] = [];
  for (const from of table.pods) {
    for (const to of table.pods) {
      const expected = table.allowed.get(from)?.get(to) ?? true;
      const got = actual[from]?.[to];
      if (got !== expected) mismatches.push({ from, to, expected, actual: got });
    }
  }
  const known = new Set(table.pods);
  const unexpected = new Set<string>();
  for (const [from, row] of Object.entries(actual)) {
    if (!known.has(from)) unexpected.add(from);
    for (const to of Object.keys(row)) if (!known.has(to)) unexpected.add(to);
  }
  return { mismatches, unexpectedPods: [...unexpected].sort() };
}

const cellText = (v: boolean | undefined): string => (v === undefined ? '?' : v ? '.' : 'X');

/** The CLI's matrix laid out like the case table, each wrong cell marked `<-`, then the list of wrong cells. */
export function renderComparison(table: TruthTable, actual: Matrix, comparison: Comparison): string {
  const wrong = new Set(comparison.mismatches.map((m) => `${m.from}\u0000${m.to}`));
  const width = Math.max(...table.pods.map((p) => p.length)) + 2;
  const out: string[] = [];
  out.push(`port ${table.port}: what margay printed (rows = from, columns = to; "<-" marks a cell that differs from the case, "?" a missing cell)`);
  out.push(' '.repeat(width) + table.pods.map((p) => p.padStart(width)).join(''));
  for (const from of table.pods) {
    const cells = table.pods.map((to) => {
      const mark = wrong.has(`${from}\u0000${to}`) ? '<-' : '  ';
      return (cellText(actual[from]?.[to]) + mark).padStart(width);
    });
    out.push((from.padEnd(width) + cells.join('')).trimEnd());
  }
  for (const m of comparison.mismatches) {
    out.push(`  ${m.from} -> ${m.to}: expected ${m.expected ? 'allowed' : 'denied'}, got ${m.actual === undefined ? 'no cell' : m.actual ? 'allowed' : 'denied'}`);
  }
  if (comparison.unexpectedPods.length > 0) {
    out.push(`  pods printed but not in the case: ${comparison.unexpectedPods.join(', ')}`);
  }
  return out.join('\n');
}
