// Turns zod issues into Margay problems: one field path and one "expected …, got …" sentence each.
// Every schema in this module is parsed with `zodErrorMap`, so zod's built-in messages never leak.
import type { z } from 'zod';

export type PathSegment = string | number;

/** A problem before it is placed in a file: a path inside the object and a message. */
export interface RawProblem {
  path: PathSegment[];
  message: string;
}

/** Renders a value the user wrote, short enough for a one-line message. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') {
    const s = v.length > 80 ? `${v.slice(0, 77)}...` : v;
    return JSON.stringify(s);
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v;
}

/** `expected X, got Y`, or `required field is missing; expected X` when nothing was given. */
export function expectedMessage(expected: string, got: unknown): string {
  return got === undefined ? `required field is missing; expected ${expected}` : `expected ${expected}, got ${describeValue(got)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
  map: 'a mapping',
  never: 'nothing',
};

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ');
}

// Strict objects mark unknown-field issues with this prefix and their list of known fields, so
// `issuesToProblems` can report each unknown field at its own path with a "did you mean".
const UNKNOWN_FIELDS = '\u0000unknown-fields:';

export function unknownFieldsError(known: readonly string[]): (iss: z.core.$ZodRawIssue) => string | undefined {
  return (iss) => (iss.code === 'unrecognized_keys' ? UNKNOWN_FIELDS + JSON.stringify(known) : undefined);
}

/** The error map every parse uses: short, uniform messages in Margay's style. */
export const zodErrorMap = (iss: z.core.$ZodRawIssue): string => {
  const input: unknown = iss.input;
  switch (iss.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      return expectedMessage(expected, input);
    }
    case 'invalid_value':
      return expectedMessage(iss.values.length === 1 ? quoteAll(iss.values) : `one of ${quoteAll(iss.values)}`, input);
    case 'too_small':
    case 'too_big': {
      const bound = Number(iss.code === 'too_small' ? iss.minimum : iss.maximum);
      const word = iss.code === 'too_small' ? 'at least' : 'at most';
      if (iss.origin === 'array' || iss.origin === 'set') {
        const n = Array.isArray(input) ? `, got ${input.length}` : '';
        return `expected ${word} ${bound} item${bound === 1 ? '' : 's'}${n}`;
      }
      if (iss.origin === 'string') return `expected ${word} ${bound} characters, got ${describeValue(input)}`;
      return expectedMessage(`a number ${iss.code === 'too_small' ? '>=' : '<='} ${bound}`, input);
    }
    case 'unrecognized_keys':
      return `unknown field${iss.keys.length === 1 ? '' : 's'} ${quoteAll(iss.keys)}`;
    case 'custom':
      return typeof iss.message === 'string' ? iss.message : 'invalid value';
    default:
      return expectedMessage('a valid value', input);
  }
};

/** Levenshtein distance, small inputs only (field names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const close = known.filter((k) => k.toLowerCase() === lower || distance(k.toLowerCase(), lower) <= Math.max(1, Math.floor(k.length / 4)));
  if (close.length > 0) return `unknown field; did you mean ${quoteAll(close)}?`;
  return `unknown field; expected one of ${quoteAll(known)}`;
}

/** Converts a failed parse's issues into raw problems, relative to the parsed value. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[]): RawProblem[] {
  const out: RawProblem[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys' && iss.message.startsWith(UNKNOWN_FIELDS)) {
      const known = JSON.parse(iss.message.slice(UNKNOWN_FIELDS.length)) as string[];
      for (const key of iss.keys) out.push({ path: [...path, key], message: unknownFieldMessage(key, known) });
    } else {
      out.push({ path, message: iss.message });
    }
  }
  return out;
}
