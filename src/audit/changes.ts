// "What changed": each successful write in a window with the object before and after, for
// `margay audit changes`, the audit API and the bench. The window is read with the filter
// columns' indexes; the state before each change is one indexed lookup of the object's previous
// write (not a walk of the whole log), so the cost follows the number of changes, not the log.
import { lineDiff } from './diff.js';
import type { AuditEvent } from './event.js';
import type { AuditLog, AuditQuery } from './log.js';
import { yamlLines } from './yaml-lines.js';

export interface ObjectChange {
  readonly seq: number;
  readonly event: AuditEvent;
  /** The object before (undefined: created here, or its earlier state is not in the log). */
  readonly before: unknown;
  /** The object after (undefined for a delete). */
  readonly after: unknown;
  /** False when the change is an update whose earlier state was pruned or never recorded. */
  readonly beforeKnown: boolean;
}

const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/** The object as stored, without the fields every write changes (resourceVersion, managedFields). */
export function cleanObject(o: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  const obj = o as Record<string, unknown>;
  if (obj.kind === 'Status') return undefined;
  const meta = typeof obj.metadata === 'object' && obj.metadata !== null ? { ...(obj.metadata as Record<string, unknown>) } : undefined;
  if (meta !== undefined) {
    delete meta.managedFields;
    delete meta.resourceVersion;
  }
  return { ...obj, ...(meta !== undefined ? { metadata: meta } : {}) };
}

const afterOf = (e: AuditEvent): unknown => (e.verb === 'delete' ? undefined : cleanObject(e.responseObject));

export function objectChanges(log: AuditLog, q: AuditQuery): ObjectChange[] {
  const verbs = (q.verbs ?? WRITES).filter((v) => WRITES.includes(v));
  const window = log.query({ ...q, verbs, stage: 'ResponseComplete' });
  const out: ObjectChange[] = [];
  const lastSeen = new Map<string, unknown>();
  for (const { seq, event: e } of window) {
    if ((e.responseStatus?.code ?? 500) >= 400 || e.level !== 'RequestResponse') continue;
    const ref = e.objectRef;
    const key = `${ref?.apiGroup ?? ''}/${ref?.resource ?? ''}/${ref?.namespace ?? ''}/${ref?.name ?? ''}`;
    let before: unknown;
    let known = true;
    if (lastSeen.has(key)) before = lastSeen.get(key);
    else if (e.verb !== 'create' && ref?.resource !== undefined && ref.name !== undefined) {
      const prev = log.lastWriteBefore({ resource: ref.resource, namespace: ref.namespace, name: ref.name, apiGroup: ref.apiGroup ?? '' }, seq);
      before = prev !== undefined && prev.event.level === 'RequestResponse' ? afterOf(prev.event) : undefined;
      known = prev !== undefined && prev.event.level === 'RequestResponse';
    }
    const after = afterOf(e);
    out.push({ seq, event: e, before, after, beforeKnown: known || e.verb === 'create' });
    if (ref?.name !== undefined) lastSeen.set(key, after);
  }
  return out;
}

/** The changed lines of a change (`- old`, `+ new`) as YAML of the object before and after. */
export function changeDiff(c: Pick<ObjectChange, 'before' | 'after'>): string[] {
  return lineDiff(yamlLines(c.before).join('\n'), yamlLines(c.after).join('\n')).filter((l) => !l.startsWith('  '));
}
