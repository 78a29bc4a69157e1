// The shape of a FlowBatch, checked with zod before anything is queued: an agent's bug becomes a
// 422 naming the field (`logs[3].dest.port`), never a bad row.
import { z } from 'zod';
import { fieldPath } from '../errors/index.js';
import type { FlowBatch } from './types.js';

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const time = z.number().int().nonnegative().max(8_640_000_000_000_000);
const name = z.string().max(512);
const action = z.enum(['allow', 'deny']);
const hit = z.string().max(1024);

const endpoint = z.strictObject({
  type: z.enum(['wep', 'hep', 'ns', 'net']),
  namespace: name,
  name,
  nameAggr: name,
  labels: z.record(z.string().max(317), z.string().max(63 * 4)),
  ip: z.string().max(64),
  port: z.number().int().min(0).max(65535),
  serviceAccount: name.optional(),
});

const flowLog = z
  .strictObject({
    startTime: time,
    endTime: time,
    host: name,
    reporter: z.enum(['src', 'dst']),
    action,
    proto: z.string().min(1).max(16),
    source: endpoint,
    dest: endpoint,
    tier: name,
    policy: name,
    ruleIndex: z.number().int().min(-1),
    policies: z.array(hit).max(256),
    pendingAction: action.optional(),
    pendingPolicies: z.array(hit).max(256).optional(),
    packetsIn: count,
    packetsOut: count,
    bytesIn: count,
    bytesOut: count,
    numFlows: count,
    numFlowsStarted: count,
    numFlowsCompleted: count,
  })
  .refine((l) => l.endTime >= l.startTime, { message: 'expected endTime at or after startTime', path: ['endTime'] });

const flowBatch = z.strictObject({
  apiVersion: z.literal('flows.margay.io/v1'),
  kind: z.literal('FlowBatch'),
  host: name,
  logs: z.array(flowLog).max(100_000),
  dropped: count,
});

export interface BatchProblem {
  readonly field: string;
  readonly message: string;
}

// The fast path: the same rules as the zod schema above, checked by hand (zod costs ~10 µs a
// record, more than storing it). A batch it accepts is one zod accepts (property test
// validate.property.test.ts); anything else goes to zod, which names the problems.
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max: number, min = 0): boolean => typeof v === 'string' && v.length <= max && v.length >= min;
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const MAX = Number.MAX_SAFE_INTEGER;
const ENDPOINT_TYPES = new Set(['wep', 'hep', 'ns', 'net']);
const ENDPOINT_KEYS = new Set(['type', 'namespace', 'name', 'nameAggr', 'labels', 'ip', 'port', 'serviceAccount']);
const LOG_KEYS = new Set(['startTime', 'endTime', 'host', 'reporter', 'action', 'proto', 'source', 'dest', 'tier', 'policy', 'ruleIndex', 'policies', 'pendingAction', 'pendingPolicies', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut', 'numFlows', 'numFlowsStarted', 'numFlowsCompleted']);
const BATCH_KEYS = new Set(['apiVersion', 'kind', 'host', 'logs', 'dropped']);
const isAction = (v: unknown): boolean => v === 'allow' || v === 'deny';

function onlyKeys(o: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

function isHits(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 256) return false;
  for (const h of v) if (!isStr(h, 1024)) return false;
  return true;
}

function isEndpoint(e: unknown): boolean {
  if (!isObj(e) || !onlyKeys(e, ENDPOINT_KEYS)) return false;
  if (!ENDPOINT_TYPES.has(e.type as string) || !isStr(e.namespace, 512) || !isStr(e.name, 512) || !isStr(e.nameAggr, 512) || !isStr(e.ip, 64) || !isInt(e.port, 0, 65535)) return false;
  if (e.serviceAccount !== undefined && !isStr(e.serviceAccount, 512)) return false;
  const labels = e.labels;
  if (!isObj(labels)) return false;
  for (const k in labels) if (k.length > 317 || !isStr(labels[k], 63 * 4)) return false;
  return true;
}

function isLog(l: unknown): boolean {
  if (!isObj(l) || !onlyKeys(l, LOG_KEYS)) return false;
  const time = 8_640_000_000_000_000;
  if (!isInt(l.startTime, 0, time) || !isInt(l.endTime, 0, time) || (l.endTime as number) < (l.startTime as number)) return false;
  if (!isStr(l.host, 512) || (l.reporter !== 'src' && l.reporter !== 'dst') || !isAction(l.action) || !isStr(l.proto, 16, 1)) return false;
  if (!isEndpoint(l.source) || !isEndpoint(l.dest) || !isStr(l.tier, 512) || !isStr(l.policy, 512) || !isInt(l.ruleIndex, -1, MAX) || !isHits(l.policies)) return false;
  if (l.pendingAction !== undefined && !isAction(l.pendingAction)) return false;
  if (l.pendingPolicies !== undefined && !isHits(l.pendingPolicies)) return false;
  for (const k of ['packetsIn', 'packetsOut', 'bytesIn', 'bytesOut', 'numFlows', 'numFlowsStarted', 'numFlowsCompleted'] as const) if (!isInt(l[k], 0, MAX)) return false;
  return true;
}

/** True only for batches the zod schema accepts (it may say false for some it would accept). */
export function isWellFormedBatch(b: unknown): b is FlowBatch {
  if (!isObj(b) || !onlyKeys(b, BATCH_KEYS)) return false;
  if (b.apiVersion !== 'flows.margay.io/v1' || b.kind !== 'FlowBatch' || !isStr(b.host, 512) || !isInt(b.dropped, 0, MAX)) return false;
  const logs = b.logs;
  if (!Array.isArray(logs) || logs.length > 100_000) return false;
  for (const l of logs) if (!isLog(l)) return false;
  return true;
}

/** Zod's verdict alone (the property test compares the fast path with it). */
export function zodAccepts(body: unknown): boolean {
  return flowBatch.safeParse(body).success;
}

/** The batch, or the problems with it (at most 20, each with its field path). */
export function validateFlowBatch(body: unknown): { batch: FlowBatch } | { problems: BatchProblem[] } {
  if (isWellFormedBatch(body)) return { batch: body };
  const r = flowBatch.safeParse(body);
  if (r.success) return { batch: r.data as FlowBatch };
  const problems = r.error.issues.slice(0, 20).map((iss) => ({
    field: fieldPath(iss.path.filter((p): p is string | number => typeof p !== 'symbol')) || '(root)',
    message: iss.message,
  }));
  return { problems };
}
