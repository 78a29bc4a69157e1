// What a flow filter means, written once: the naive per-log predicate (the memory store and the
// property tests use it; the SQLite store must agree with it), endpoint and policy matching the
// SQLite store reuses over its endpoint dictionary, and the opaque continue token.
import { UserError } from '../errors/index.js';
import { parseSelector, type Selector } from '../selector/index.js';
import type { FlowEndpoint, FlowFilter, FlowLog, FlowWorkload } from './types.js';

/** The endpoint-level parts of a filter, with selectors parsed once. */
export interface EndpointMatchers {
  /** Either side must match (pod, selector). Each entry is one condition. */
  readonly either: readonly ((e: FlowEndpoint) => boolean)[];
  readonly src: readonly ((e: FlowEndpoint) => boolean)[];
  readonly dst: readonly ((e: FlowEndpoint) => boolean)[];
}

function selectorOf(text: string, param: string): Selector {
  try {
    return parseSelector(text);
  } catch (err) {
    // The selector's own message already quotes it and names the position.
    throw new UserError({ path: param, message: err instanceof Error ? err.message : `invalid selector ${JSON.stringify(text)}` });
  }
}

/** `NAME` or `NS/NAME`: a pod. */
export function podMatcher(pod: string): (e: FlowEndpoint) => boolean {
  const slash = pod.indexOf('/');
  const ns = slash >= 0 ? pod.slice(0, slash) : undefined;
  const name = slash >= 0 ? pod.slice(slash + 1) : pod;
  return (e) => e.type === 'wep' && e.name === name && (ns === undefined || e.namespace === ns);
}

const nameMatcher = (name: string) => (e: FlowEndpoint): boolean => e.name === name || e.nameAggr === name;

export function endpointMatchers(f: FlowFilter): EndpointMatchers {
  const either: ((e: FlowEndpoint) => boolean)[] = [];
  const src: ((e: FlowEndpoint) => boolean)[] = [];
  const dst: ((e: FlowEndpoint) => boolean)[] = [];
  if (f.pod !== undefined) either.push(podMatcher(f.pod));
  if (f.selector !== undefined) {
    const s = selectorOf(f.selector, 'selector');
    either.push((e) => s.matches(e.labels));
  }
  if (f.srcSelector !== undefined) {
    const s = selectorOf(f.srcSelector, 'srcSelector');
    src.push((e) => s.matches(e.labels));
  }
  if (f.dstSelector !== undefined) {
    const s = selectorOf(f.dstSelector, 'dstSelector');
    dst.push((e) => s.matches(e.labels));
  }
  if (f.srcName !== undefined) src.push(nameMatcher(f.srcName));
  if (f.dstName !== undefined) dst.push(nameMatcher(f.dstName));
  return { either, src, dst };
}

/** The name in a Calico policy hit `index|tier|name|action|ruleIndex`. */
export function hitPolicyName(hit: string): string {
  return hit.split('|')[2] ?? '';
}

/**
 * Whether a policy name (`ns/knp.default.x`, `tier.name`, `name`) is what the user asked for:
 * the exact name, the name after its namespace, or a bare name after the last dot of that.
 */
export function policyNameMatches(name: string, wanted: string): boolean {
  if (name === wanted) return true;
  const bare = name.slice(name.lastIndexOf('/') + 1);
  return bare === wanted || bare.endsWith(`.${wanted}`);
}

export function policyMatches(log: Pick<FlowLog, 'policy' | 'policies'>, wanted: string): boolean {
  return policyNameMatches(log.policy, wanted) || log.policies.some((h) => policyNameMatches(hitPolicyName(h), wanted));
}

/** The predicate, naively. `m` is endpointMatchers(f), passed in to parse selectors once. */
export function matchesFilter(log: FlowLog, f: FlowFilter, m: EndpointMatchers = endpointMatchers(f)): boolean {
  if (!(log.startTime <= f.to && log.endTime >= f.from)) return false;
  const s = log.source;
  const d = log.dest;
  for (const ns of [f.scopeNamespace, f.namespace]) if (ns !== undefined && s.namespace !== ns && d.namespace !== ns) return false;
  if (f.srcNamespace !== undefined && s.namespace !== f.srcNamespace) return false;
  if (f.dstNamespace !== undefined && d.namespace !== f.dstNamespace) return false;
  if (f.action !== undefined && log.action !== f.action) return false;
  if (f.tier !== undefined && log.tier !== f.tier) return false;
  if (f.port !== undefined && d.port !== f.port) return false;
  if (f.proto !== undefined && log.proto !== f.proto) return false;
  if (f.reporter !== undefined && log.reporter !== f.reporter) return false;
  if (f.host !== undefined && log.host !== f.host) return false;
  if (f.pendingAction !== undefined && log.pendingAction !== f.pendingAction) return false;
  if (f.policy !== undefined && !policyMatches(log, f.policy)) return false;
  for (const ok of m.either) if (!ok(s) && !ok(d)) return false;
  for (const ok of m.src) if (!ok(s)) return false;
  for (const ok of m.dst) if (!ok(d)) return false;
  return true;
}

export function workloadOf(e: FlowEndpoint): FlowWorkload {
  return { type: e.type, namespace: e.namespace, nameAggr: e.nameAggr };
}

export function workloadId(w: FlowWorkload): string {
  return `${w.type}/${w.namespace}/${w.nameAggr}`;
}

/** What a continue token carries: the resolved window (so "last hour" does not move) and where the page ended. */
export interface ContinueState {
  readonly before: number;
  readonly from: number;
  readonly to: number;
}

export function encodeContinue(s: ContinueState): string {
  return Buffer.from(JSON.stringify({ v: 1, b: s.before, f: s.from, t: s.to })).toString('base64url');
}

export function decodeContinue(token: string): ContinueState {
  const bad = () => new UserError({ path: 'continue', message: 'invalid continue token: pass back the `continue` of the previous page unchanged' });
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const o = raw as { v?: unknown; b?: unknown; f?: unknown; t?: unknown };
  if (o === null || typeof o !== 'object' || o.v !== 1 || !Number.isSafeInteger(o.b) || !Number.isSafeInteger(o.f) || !Number.isSafeInteger(o.t)) throw bad();
  return { before: o.b as number, from: o.f as number, to: o.t as number };
}

/** Parses an id a client sent back (`afterId`). */
export function parseFlowId(id: string, param: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new UserError({ path: param, message: `expected a flow id (a whole number from a previous answer's lastId), got ${JSON.stringify(id)}` });
  return Number(id);
}
