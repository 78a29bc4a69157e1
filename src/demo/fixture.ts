// The demo's files under examples/demo: its manifests and the recorded flows (times relative to
// the end of the recording, so a replay can place them at "now").
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors/index.js';
import type { FlowLog } from '../flows/index.js';
import { buildSnapshot, type BuiltSnapshot } from '../policy/index.js';
import { decodeManifests, type Decoded } from '../resources/index.js';
import { parseAllDocuments } from 'yaml';
import { recordFlows } from './recorder.js';
import { DEMO_TRAFFIC } from './traffic.js';

/** examples/demo of the checkout this file is in (compiled to dist/src/demo/). */
export const DEMO_DIR = fileURLToPath(new URL('../../../examples/demo/', import.meta.url));
export const RECORDED_FILE = 'flows.recorded.json';
/** 20 buckets of 15 s: five minutes of traffic, replayed in a loop. */
export const RECORDED_BUCKET_MS = 15_000;
export const RECORDED_BUCKETS = 20;

export interface DemoManifests {
  readonly decoded: Decoded[];
  /** Every object as written, with its file (applied to the API unchanged). */
  readonly objects: { object: Record<string, unknown>; file: string }[];
}

export function loadDemoManifests(dir = DEMO_DIR): DemoManifests {
  const decoded: Decoded[] = [];
  const objects: DemoManifests['objects'] = [];
  for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    decoded.push(...decodeManifests(text, file));
    for (const doc of parseAllDocuments(text)) {
      if (!('contents' in doc) || doc.contents === null) continue;
      objects.push({ object: doc.toJSON() as Record<string, unknown>, file });
    }
  }
  return { decoded, objects };
}

export function demoSnapshot(m: DemoManifests): BuiltSnapshot {
  const built = buildSnapshot(m.decoded);
  if (built.problems.length > 0) throw new UserError(built.problems);
  return built;
}

export interface RecordedFlows {
  readonly apiVersion: 'margay.io/v1';
  readonly kind: 'RecordedFlows';
  readonly bucketMs: number;
  readonly buckets: number;
  /** startTime/endTime are milliseconds relative to the end of the recording (negative). */
  readonly logs: FlowLog[];
}

/** A fresh recording of the demo's plan (what `writeRecording` commits). */
export function recordDemo(m: DemoManifests = loadDemoManifests()): RecordedFlows {
  const generateNames = new Map<string, string>();
  for (const { object } of m.objects) {
    const meta = (object.metadata ?? {}) as Record<string, unknown>;
    if (object.kind === 'Pod' && typeof meta.generateName === 'string') generateNames.set(`${String(meta.namespace)}/${String(meta.name)}`, meta.generateName);
  }
  const logs = recordFlows(demoSnapshot(m), DEMO_TRAFFIC, { end: 0, buckets: RECORDED_BUCKETS, bucketMs: RECORDED_BUCKET_MS }, generateNames);
  return { apiVersion: 'margay.io/v1', kind: 'RecordedFlows', bucketMs: RECORDED_BUCKET_MS, buckets: RECORDED_BUCKETS, logs };
}

export function readRecording(dir = DEMO_DIR): RecordedFlows {
  const path = join(dir, RECORDED_FILE);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RecordedFlows;
  } catch (err) {
    throw new UserError({ file: path, message: `cannot read the recorded demo flows: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/** One log per line, so a change to the plan or the policies reads well in a diff. */
export function recordingText(r: RecordedFlows): string {
  const { logs, ...head } = r;
  return `${JSON.stringify(head).slice(0, -1)},"logs":[\n${logs.map((l) => JSON.stringify(l)).join(',\n')}\n]}\n`;
}

export function writeRecording(dir = DEMO_DIR): RecordedFlows {
  const r = recordDemo(loadDemoManifests(dir));
  writeFileSync(join(dir, RECORDED_FILE), recordingText(r));
  return r;
}

/** The logs of recorded bucket `index` (mod the recording's length), placed to end at `end`. */
export function bucketAt(r: RecordedFlows, index: number, end: number): FlowLog[] {
  const b = ((index % r.buckets) + r.buckets) % r.buckets;
  const relStart = -(r.buckets - b) * r.bucketMs;
  const shift = end - r.bucketMs - relStart;
  return r.logs.filter((l) => l.startTime === relStart).map((l) => ({ ...l, startTime: l.startTime + shift, endTime: l.endTime + shift }));
}
