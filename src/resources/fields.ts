// Reusable zod building blocks for manifest fields: strict objects with "did you mean", fields
// checked by a plain function, selectors, labels, Kubernetes label selectors and object metadata.
import { z } from 'zod';
import { isUserError } from '../errors/index.js';
import { parseSelector } from '../selector/index.js';
import {
  DNS1123_LABEL_TEXT,
  isDns1123Label,
  isLabelValue,
  isQualifiedName,
  LABEL_VALUE_TEXT,
  QUALIFIED_NAME_TEXT,
} from './k8s-names.js';
import { describeValue, expectedMessage, unknownFieldsError } from './problems.js';
import type { ClusterMeta, LabelSelector, Labels, NamespacedMeta } from './types.js';

/** A failed check with its own full message (instead of the field's generic "expected …"). */
export class Fail {
  constructor(readonly message: string) {}
}

/**
 * A field validated (and possibly normalised) by a plain function. `parse` returns the value,
 * `undefined` to report "expected <expected>, got <value>", or a Fail with a specific message.
 * A missing value is reported as missing unless the field is wrapped in `.optional()`.
 */
export function checked<T>(expected: string, parse: (v: unknown) => T | Fail | undefined): z.ZodType<T> {
  return z.unknown().transform((v, ctx) => {
    const r = v === undefined ? undefined : parse(v);
    if (r === undefined || r instanceof Fail) {
      ctx.addIssue({ code: 'custom', message: r instanceof Fail ? r.message : expectedMessage(expected, v), input: v });
      return z.NEVER;
    }
    return r;
  });
}

/** An object that rejects fields it does not know, naming close valid ones. */
export function strict<S extends z.core.$ZodLooseShape>(shape: S): z.ZodObject<S, z.core.$strict> {
  return z.strictObject(shape, { error: unknownFieldsError(Object.keys(shape)) });
}

export const str = z.string();
export const bool = z.boolean();
export const num = checked('a number', (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined));

/** An integer in [min, max]; `what` names it in the message ("a port number 1-65535"). */
export function intIn(min: number, max: number, what: string): z.ZodType<number> {
  return checked(what, (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined));
}

export const portNumber = intIn(1, 65535, 'a port number 1-65535');

/** A string that passes `test`; `text` says what was expected. */
export function stringMatching(test: (s: string) => boolean, text: string): z.ZodType<string> {
  return checked(text, (v) => (typeof v === 'string' && test(v) ? v : undefined));
}

// Length limits are checked in superRefine, not with zod's .min()/.max(): zod 4 runs those
// checks even when the value has the wrong type, which would add a second, confusing problem.

/** A list with optional item-count limits (upstream MinItems/MaxItems). */
export function list<T extends z.ZodType>(item: T, limits: { min?: number; max?: number } = {}): z.ZodArray<T> {
  const { min, max } = limits;
  if (min === undefined && max === undefined) return z.array(item);
  return z.array(item).superRefine((v, ctx) => {
    const items = (n: number): string => `${n} item${n === 1 ? '' : 's'}`;
    if (min !== undefined && v.length < min) ctx.addIssue({ code: 'custom', message: `expected at least ${items(min)}, got ${v.length}`, input: v });
    if (max !== undefined && v.length > max) ctx.addIssue({ code: 'custom', message: `expected at most ${items(max)}, got ${v.length}`, input: v });
  });
}

/** A string with length limits (upstream MinLength/MaxLength). */
export function text(limits: { min?: number; max?: number }): z.ZodString {
  const { min, max } = limits;
  return z.string().superRefine((v, ctx) => {
    if (min !== undefined && v.length < min) ctx.addIssue({ code: 'custom', message: min === 1 ? 'expected a non-empty string' : `expected at least ${min} characters, got ${v.length}`, input: v });
    if (max !== undefined && v.length > max) ctx.addIssue({ code: 'custom', message: `expected at most ${max} characters, got ${v.length}`, input: v });
  });
}

/** Fails with a message naming the first duplicate, for upstream `listType=set` fields. */
export function noDuplicates<T>(items: readonly T[], ctx: z.RefinementCtx, path: (string | number)[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `duplicate value ${describeValue(item)}`, input: item });
    seen.add(key);
  });
}

// ───────────────────────────── Calico selectors ─────────────────────────────

const GLOBAL = 'global()';

/**
 * A Calico selector expression, checked with the selector module's parser. Only an EntityRule
 * namespaceSelector may be `global()` (and then nothing else), as Calico's validator requires.
 */
export function selectorField(where: 'plain' | 'namespace'): z.ZodType<string> {
  return checked('a selector expression', (v) => {
    if (typeof v !== 'string') return undefined;
    if (v.length > 1024) return new Fail(`expected a selector of at most 1024 characters, got ${v.length}`);
    if (v.includes('global(')) {
      if (where !== 'namespace') return new Fail('global() can only be used in an EntityRule namespaceSelector');
      if (v.trim() !== GLOBAL) return new Fail('global() cannot be combined with other selectors');
      return v;
    }
    try {
      parseSelector(v);
    } catch (err) {
      // Only the parser's own UserError means "bad selector"; anything else is a bug to surface.
      if (!isUserError(err)) throw err;
      return new Fail(err.problems[0]?.message ?? err.message);
    }
    return v;
  });
}

// ───────────────────────────── labels ─────────────────────────────

/** A string → string map checked entry by entry, each problem at the offending key. */
export function stringMap(
  key: { test: (s: string) => boolean; text: string } | undefined,
  value: { test: (s: string) => boolean; text: string } | undefined,
): z.ZodType<Labels> {
  return z.unknown().transform((v, ctx) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: expectedMessage('a mapping of strings', v), input: v });
      return z.NEVER;
    }
    const out: Labels = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (key !== undefined && !key.test(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `expected ${key.text}, got ${describeValue(k)}`, input: k });
      } else if (typeof val !== 'string') {
        ctx.addIssue({ code: 'custom', path: [k], message: expectedMessage('a string', val), input: val });
      } else if (value !== undefined && !value.test(val)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `expected ${value.text}, got ${describeValue(val)}`, input: val });
      } else {
        out[k] = val;
      }
    }
    return out;
  });
}

export const labelsMap = stringMap({ test: isQualifiedName, text: QUALIFIED_NAME_TEXT }, { test: isLabelValue, text: LABEL_VALUE_TEXT });
// Annotation keys are qualified names compared case-insensitively (ValidateAnnotations lower-cases).
export const annotationsMap = stringMap({ test: (k) => isQualifiedName(k.toLowerCase()), text: 'an annotation key (a qualified name)' }, undefined);

// ───────────────────────────── Kubernetes label selectors ─────────────────────────────

const requirement = strict({
  key: stringMatching(isQualifiedName, QUALIFIED_NAME_TEXT),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: list(stringMatching(isLabelValue, LABEL_VALUE_TEXT)).optional(),
}).superRefine((r, ctx) => {
  // ValidateLabelSelectorRequirement: set operators need values, existence operators forbid them.
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0)
    ctx.addIssue({ code: 'custom', path: ['values'], message: `expected at least one value when operator is ${r.operator}` });
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0)
    ctx.addIssue({ code: 'custom', path: ['values'], message: `expected no values when operator is ${r.operator}`, input: r.values });
});

/** metav1.LabelSelector, validated like apimachinery's ValidateLabelSelector. */
export const labelSelector: z.ZodType<LabelSelector> = strict({
  matchLabels: labelsMap.optional(),
  matchExpressions: list(requirement).optional(),
});

// ───────────────────────────── metadata ─────────────────────────────

/** How a kind's metadata.name is checked. */
interface NameRule {
  test: (s: string) => boolean;
  text: string;
}

// ObjectMeta fields that real `kubectl get -o yaml` output carries and Margay ignores.
const IGNORED_META = {
  uid: z.unknown().optional(),
  resourceVersion: z.unknown().optional(),
  generation: z.unknown().optional(),
  creationTimestamp: z.unknown().optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.unknown().optional(),
  generateName: z.unknown().optional(),
  selfLink: z.unknown().optional(),
  ownerReferences: z.unknown().optional(),
  finalizers: z.unknown().optional(),
  managedFields: z.unknown().optional(),
};

const namespaceField = stringMatching(isDns1123Label, DNS1123_LABEL_TEXT);

function metaShape(name: NameRule, loose: boolean) {
  return {
    name: stringMatching(name.test, name.text),
    // For cluster-scoped kinds a namespace is accepted and dropped, as kubectl does.
    namespace: namespaceField.optional(),
    labels: labelsMap.optional(),
    annotations: (loose ? z.unknown().transform(() => undefined) : annotationsMap).optional(),
    ...IGNORED_META,
  };
}

/**
 * metadata of a namespaced kind: namespace defaults to "default", labels to {}. `loose` (core
 * kinds) ignores unknown metadata fields and annotations instead of rejecting them.
 */
export function namespacedMeta(name: NameRule, loose = false): z.ZodType<NamespacedMeta> {
  const shape = metaShape(name, loose);
  return (loose ? z.object(shape) : strict(shape)).transform((m) => ({
    name: m.name,
    namespace: m.namespace ?? 'default',
    labels: m.labels ?? {},
    ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
  }));
}

/** metadata of a cluster-scoped kind; any namespace is dropped. */
export function clusterMeta(name: NameRule, loose = false): z.ZodType<ClusterMeta> {
  const shape = metaShape(name, loose);
  return (loose ? z.object(shape) : strict(shape)).transform((m) => ({
    name: m.name,
    labels: m.labels ?? {},
    ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
  }));
}

/** `apiVersion` and `kind` are checked by the registry before a kind's schema runs. */
export function typeMeta<V extends string, K extends string>(apiVersion: V, kind: K) {
  return { apiVersion: z.literal(apiVersion), kind: z.literal(kind) };
}
