// Compiles a run of simple rules (peer address sets, protocol, destination ports; first match
// wins) into the elements of one concatenated interval verdict map keyed by
// `peer address . l4proto . dport`, so the whole run costs one lookup. Pure.
//
// The address space is cut into atoms at every set boundary (every address in an atom belongs to
// the same sets); per atom the (protocol × port) plane is painted rule by rule, first rule first,
// so each point gets the verdict of the first rule that matches it — exactly the sequential
// semantics. Neighbouring atoms with the same painting merge into one address range.

export type Family = 4 | 6;

/** A closed interval of addresses (bigint for both families). */
export interface AddrInterval {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** A closed box in the (protocol, port) plane. */
export interface Box {
  readonly p0: number;
  readonly p1: number;
  readonly q0: number;
  readonly q1: number;
}

/** One address-set test of a rule: the peer must (or, negated, must not) be in set `key`. */
export interface AddrTerm {
  readonly key: string;
  readonly negate: boolean;
}

export interface SimpleRule {
  /** All must hold (AND). */
  readonly terms: readonly AddrTerm[];
  /** The (protocol, port) points the rule matches: a union of boxes. */
  readonly boxes: readonly Box[];
  /** Map verdict text (`goto a-…`, `return`). */
  readonly verdict: string;
}

const MAX = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n } as const;

/**
 * The map elements (`key text → verdict`) deciding like `rules` in order, for one family.
 * `sets` gives every key's addresses (sorted or not, may overlap). Points no rule matches are
 * left out (the lookup misses and the chain goes on).
 */
export function compileRun(f: Family, rules: readonly SimpleRule[], sets: ReadonlyMap<string, readonly AddrInterval[]>): Map<string, string> {
  const max = MAX[f];
  // Atom boundaries.
  const cuts = new Set<bigint>([0n]);
  const used = new Set<string>();
  for (const r of rules) for (const t of r.terms) used.add(t.key);
  for (const key of used) {
    for (const iv of sets.get(key) ?? []) {
      cuts.add(iv.lo);
      if (iv.hi < max) cuts.add(iv.hi + 1n);
    }
  }
  const starts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = starts.length;
  const atomHi = (i: number): bigint => (i + 1 < n ? (starts[i + 1] as bigint) - 1n : max);
  // Atoms of each key.
  const atomsOf = new Map<string, number[]>();
  for (const key of used) {
    const mark = new Set<number>();
    for (const iv of sets.get(key) ?? []) {
      for (let i = firstAtom(starts, iv.lo); i < n && (starts[i] as bigint) <= iv.hi; i++) mark.add(i);
    }
    atomsOf.set(key, [...mark].sort((a, b) => a - b));
  }
  const member = new Map<string, Set<number>>();
  for (const [k, list] of atomsOf) member.set(k, new Set(list));
  // Candidate rules per atom: a rule with a positive term is indexed under its smallest set,
  // every other rule is a candidate everywhere.
  const perAtom = new Map<number, number[]>();
  const global: number[] = [];
  rules.forEach((r, idx) => {
    let pivot: number[] | undefined;
    for (const t of r.terms) {
      if (t.negate) continue;
      const list = atomsOf.get(t.key) ?? [];
      if (pivot === undefined || list.length < pivot.length) pivot = list;
    }
    if (pivot === undefined) global.push(idx);
    else
      for (const a of pivot) {
        const l = perAtom.get(a);
        if (l === undefined) perAtom.set(a, [idx]);
        else l.push(idx);
      }
  });
  const out = new Map<string, string>();
  let runStart = -1;
  let runKey = '';
  let runPaint: Painted[] = [];
  const flush = (endAtom: number) => {
    if (runStart < 0 || runPaint.length === 0) return;
    const addr = rangeText(f, starts[runStart] as bigint, atomHi(endAtom));
    for (const p of runPaint) out.set(`${addr} . ${span(p.p0, p.p1)} . ${span(p.q0, p.q1)}`, p.verdict);
  };
  for (let a = 0; a < n; a++) {
    const cands = mergeSorted(perAtom.get(a) ?? [], global);
    const matching = cands
      .map((i) => rules[i] as SimpleRule)
      .filter((r) => r.terms.every((t) => (member.get(t.key)?.has(a) ?? false) !== t.negate));
    const paint = paintPlane(matching);
    const key = paint.map((p) => `${p.p0},${p.p1},${p.q0},${p.q1},${p.verdict}`).join(';');
    if (runStart >= 0 && key === runKey) continue;
    flush(a - 1);
    runStart = a;
    runKey = key;
    runPaint = paint;
  }
  flush(n - 1);
  return out;
}

interface Painted extends Box {
  readonly verdict: string;
}

/** First match wins over the (protocol, port) plane; adjacent equal pieces merged. */
export function paintPlane(rules: readonly { readonly boxes: readonly Box[]; readonly verdict: string }[]): Painted[] {
  if (rules.length === 0) return [];
  const pcuts = new Set<number>([0]);
  for (const r of rules)
    for (const b of r.boxes) {
      pcuts.add(b.p0);
      if (b.p1 < 255) pcuts.add(b.p1 + 1);
    }
  const ps = [...pcuts].sort((a, b) => a - b);
  // Per protocol segment, painted port intervals (sorted, disjoint).
  const segs: { p0: number; p1: number; ports: { q0: number; q1: number; verdict: string }[] }[] = [];
  ps.forEach((p0, i) => {
    const p1 = i + 1 < ps.length ? (ps[i + 1] as number) - 1 : 255;
    let ports: { q0: number; q1: number; verdict: string }[] = [];
    for (const r of rules) {
      for (const b of r.boxes) {
        if (b.p0 > p0 || b.p1 < p1) continue; // boxes cover a whole segment or none of it
        ports = paintInterval(ports, b.q0, b.q1, r.verdict);
      }
      if (ports.length === 1 && ports[0]?.q0 === 0 && ports[0].q1 === 65535) break;
    }
    segs.push({ p0, p1, ports: mergePorts(ports) });
  });
  // Merge neighbouring protocol segments with the same painting.
  const out: Painted[] = [];
  let i = 0;
  while (i < segs.length) {
    const s = segs[i] as (typeof segs)[number];
    const key = JSON.stringify(s.ports);
    let j = i;
    while (j + 1 < segs.length && JSON.stringify((segs[j + 1] as (typeof segs)[number]).ports) === key) j++;
    const p1 = (segs[j] as (typeof segs)[number]).p1;
    for (const q of s.ports) out.push({ p0: s.p0, p1, q0: q.q0, q1: q.q1, verdict: q.verdict });
    i = j + 1;
  }
  return out;
}

/** Paints [q0, q1] with `verdict` wherever `ports` is not painted yet. */
function paintInterval(ports: { q0: number; q1: number; verdict: string }[], q0: number, q1: number, verdict: string): { q0: number; q1: number; verdict: string }[] {
  const out: { q0: number; q1: number; verdict: string }[] = [];
  let cur = q0;
  for (const p of ports) {
    if (p.q1 < cur || p.q0 > q1) {
      out.push(p);
      continue;
    }
    if (p.q0 > cur) out.push({ q0: cur, q1: p.q0 - 1, verdict });
    out.push(p);
    cur = Math.max(cur, p.q1 + 1);
  }
  if (cur <= q1) out.push({ q0: cur, q1, verdict });
  return out.sort((a, b) => a.q0 - b.q0);
}

function mergePorts(ports: { q0: number; q1: number; verdict: string }[]): { q0: number; q1: number; verdict: string }[] {
  const out: { q0: number; q1: number; verdict: string }[] = [];
  for (const p of ports) {
    const last = out[out.length - 1];
    if (last !== undefined && last.verdict === p.verdict && last.q1 + 1 === p.q0) out[out.length - 1] = { ...last, q1: p.q1 };
    else out.push(p);
  }
  return out;
}

function firstAtom(starts: readonly bigint[], lo: bigint): number {
  let a = 0;
  let b = starts.length - 1;
  while (a < b) {
    const m = (a + b + 1) >> 1;
    if ((starts[m] as bigint) <= lo) a = m;
    else b = m - 1;
  }
  return a;
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x as number);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

function span(a: number, b: number): string {
  return a === b ? String(a) : `${a}-${b}`;
}

/** An address range as nft text: an address, a CIDR when aligned, else `lo-hi`. */
export function rangeText(f: Family, lo: bigint, hi: bigint): string {
  if (lo === hi) return addrText(f, lo);
  const size = hi - lo + 1n;
  if ((size & (size - 1n)) === 0n && lo % size === 0n) {
    const bits = f === 4 ? 32 : 128;
    let prefix = bits;
    for (let s = size; s > 1n; s >>= 1n) prefix--;
    return `${addrText(f, lo)}/${prefix}`;
  }
  return `${addrText(f, lo)}-${addrText(f, hi)}`;
}

export function addrText(f: Family, v: bigint): string {
  if (f === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** Parses an nft-ish address element (`10.0.0.1`, `10.0.0.0/8`, `lo-hi`) of a family. */
export function addrInterval(f: Family, text: string): AddrInterval | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const lo = addrValue(f, text.slice(0, dash));
    const hi = addrValue(f, text.slice(dash + 1));
    return lo === undefined || hi === undefined ? undefined : { lo, hi };
  }
  const slash = text.indexOf('/');
  const base = addrValue(f, slash < 0 ? text : text.slice(0, slash));
  if (base === undefined) return undefined;
  const bits = f === 4 ? 32 : 128;
  const prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  const host = (1n << BigInt(bits - prefix)) - 1n;
  const lo = base & ~host & MAX[f];
  return { lo, hi: lo | host };
}

function addrValue(f: Family, text: string): bigint | undefined {
  if (f === 4) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
    if (m === null) return undefined;
    let v = 0n;
    for (const x of m.slice(1)) {
      const b = Number(x);
      if (b > 255) return undefined;
      v = (v << 8n) | BigInt(b);
    }
    return v;
  }
  if (!/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? (halves[1] as string).split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
