// Two kinds of failure, kept apart: a UserError is bad input the user can fix (it names the file,
// document, field path and what was expected); a BugError is a broken invariant inside Margay.
// One top-level handler maps them to exit codes or HTTP responses.

/** One thing wrong with the input, located as precisely as we know. */
export interface Problem {
  /** File the input came from (or `-` for stdin). */
  file?: string;
  /** 1-based document number within a multi-document file. */
  document?: number;
  /** 1-based line of the document or field, when known. */
  line?: number;
  /** `Kind namespace/name` of the object, when known. */
  object?: string;
  /** Field path such as `spec.ingress[0].destination.ports[1]`. */
  path?: string;
  /** What was wrong, phrased as what was expected. */
  message: string;
}

export class UserError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: Problem | readonly Problem[]) {
    const list = Array.isArray(problems) ? (problems as readonly Problem[]) : [problems as Problem];
    super(list.map(formatProblem).join('\n'));
    this.name = 'UserError';
    this.problems = list;
  }
}

/** An invariant broke: never thrown for anything a user sent. */
export class BugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BugError';
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** An unexpected error for a log line: its stack when it has one (a bug is what it reports). */
export function bugText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Renders `spec`, `ingress`, 0, `ports` as `spec.ingress[0].ports`. */
export function fieldPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line: `file: document 2 (line 14), NetworkPolicy ns/name: spec.ingress[0]: expected …`. */
export function formatProblem(p: Problem): string {
  const where: string[] = [];
  let head = p.file ?? '';
  const at: string[] = [];
  if (p.document !== undefined) at.push(`document ${p.document}`);
  if (p.line !== undefined) at.push(`line ${p.line}`);
  if (at.length > 0) head += head === '' ? at.join(', ') : ` (${at.join(', ')})`;
  if (head !== '') where.push(head);
  if (p.object !== undefined) where.push(p.object);
  if (p.path !== undefined && p.path !== '') where.push(p.path);
  return where.length > 0 ? `${where.join(': ')}: ${p.message}` : p.message;
}
