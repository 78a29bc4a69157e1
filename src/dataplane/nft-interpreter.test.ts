// Shared by tests (this file holds no tests): a small interpreter of the nftables rules Margay
// renders, so a ruleset can be asked what it does with a packet without a kernel. It knows only
// our grammar and throws on anything else, so a renderer change it does not understand fails
// loudly instead of being misread.
import type { RulesetModel } from './index.js';
import { addrInterval, type Family } from './compile.js';

export interface Packet {
  readonly family: Family;
  readonly saddr: bigint;
  readonly daddr: bigint;
  readonly proto: number;
  /** Transport header bytes 0–1 and 2–3: ports, or whatever a portless protocol has there. */
  readonly sport: number;
  readonly dport: number;
  readonly icmp?: { readonly type: number; readonly code: number };
  readonly iif: string;
  readonly oif: string;
}

export interface Outcome {
  readonly verdict: 'accept' | 'drop';
  readonly ctMark: number;
  /** Log prefixes, in order. */
  readonly logs: readonly string[];
  /** Rules evaluated (a cost measure: compiled runs should keep it small). */
  readonly steps: number;
}

const PROTO_NAMES: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58 };

type Step = 'next' | 'accept' | 'drop' | 'return' | { jump: string } | { goto: string };

/** Runs a packet (conntrack state new) through one base chain. */
export function runBaseChain(m: RulesetModel, chain: string, p: Packet, ctMark = 0): Outcome {
  const st = { mark: 0, ct: ctMark, logs: [] as string[], steps: 0 };
  const res = runChain(m, chain, p, st, 0);
  return { verdict: res === 'drop' ? 'drop' : 'accept', ctMark: st.ct >>> 0, logs: st.logs, steps: st.steps };
}

interface State {
  mark: number;
  ct: number;
  logs: string[];
  steps: number;
}

function runChain(m: RulesetModel, name: string, p: Packet, st: State, depth: number): 'accept' | 'drop' | 'return' {
  if (depth > 16) throw new Error(`chain depth: ${name}`);
  const chain = m.chains.get(name);
  if (chain === undefined) throw new Error(`no chain ${name}`);
  for (const rule of chain.rules) {
    st.steps++;
    const step = runRule(m, rule, p, st);
    if (step === 'next') continue;
    if (step === 'accept' || step === 'drop' || step === 'return') return step;
    if ('jump' in step) {
      const r = runChain(m, step.jump, p, st, depth + 1);
      if (r !== 'return') return r;
      continue;
    }
    return runChain(m, step.goto, p, st, depth + 1);
  }
  return 'return';
}

function tokens(rule: string): string[] {
  return rule.match(/"[^"]*"|\{[^}]*\}|\S+/g) ?? [];
}

function runRule(m: RulesetModel, rule: string, p: Packet, st: State): Step {
  const t = tokens(rule);
  let i = 0;
  const next = (): string => {
    const x = t[i++];
    if (x === undefined) throw new Error(`rule ended early: ${rule}`);
    return x;
  };
  const expect = (x: string) => {
    const y = next();
    if (y !== x) throw new Error(`expected ${x}, got ${y}: ${rule}`);
  };
  const ip = p.family === 4 ? 'ip' : 'ip6';
  while (i < t.length) {
    const tok = next();
    switch (tok) {
      case 'meta': {
        const what = next();
        if (what === 'nfproto') {
          if (next() !== `ipv${p.family}`) return 'next';
        } else if (what === 'l4proto') {
          const neg = t[i] === '!=' ? (i++, true) : false;
          if (numberIn(next(), p.proto) === neg) return 'next';
        } else if (what === 'mark') {
          const op = next();
          if (op === 'set') {
            expect('meta');
            expect('mark');
            const bop = next();
            const v = Number(next());
            st.mark = bop === '&' ? st.mark & v : bop === '|' ? st.mark | v : fail(rule);
          } else if (op === '&') {
            const mask = Number(next());
            expect('==');
            if ((st.mark & mask) >>> 0 !== Number(next()) >>> 0) return 'next';
          } else fail(rule);
        } else fail(rule);
        break;
      }
      case 'ip':
      case 'ip6': {
        if (tok !== ip) return 'next'; // the implied nfproto test
        const which = next();
        const addr = which === 'saddr' ? p.saddr : which === 'daddr' ? p.daddr : fail(rule);
        if (t[i] === '.') {
          // `ADDR . meta l4proto . th PORT` then a set test or a verdict map
          i++;
          expect('meta');
          expect('l4proto');
          expect('.');
          expect('th');
          const pw = next();
          const port = pw === 'dport' ? p.dport : pw === 'sport' ? p.sport : fail(rule);
          const key = [addr, BigInt(p.proto), BigInt(port)];
          if (t[i] === 'vmap') {
            i++;
            const verdict = lookup(m, next(), key, p.family, rule);
            if (verdict === undefined) return 'next';
            return parseVerdict(tokens(verdict), rule);
          }
          const neg = t[i] === '!=' ? (i++, true) : false;
          if (setHas(m, next(), key, p.family, rule) === neg) return 'next';
        } else {
          const neg = t[i] === '!=' ? (i++, true) : false;
          if (setHas(m, next(), [addr], p.family, rule) === neg) return 'next';
        }
        break;
      }
      case 'th': {
        const pw = next();
        const port = pw === 'dport' ? p.dport : pw === 'sport' ? p.sport : fail(rule);
        const neg = t[i] === '!=' ? (i++, true) : false;
        if (numberIn(next(), port) === neg) return 'next';
        break;
      }
      case 'icmp':
      case 'icmpv6': {
        if (p.proto !== (tok === 'icmp' ? 1 : 58) || p.icmp === undefined) return 'next';
        const what = next();
        const v = Number(next());
        if ((what === 'type' ? p.icmp.type : what === 'code' ? p.icmp.code : fail(rule)) !== v) return 'next';
        break;
      }
      case 'iifname':
      case 'oifname': {
        const iface = tok === 'iifname' ? p.iif : p.oif;
        if (t[i] === 'vmap') {
          i++;
          const name = next().slice(1);
          const map = m.maps.get(name);
          if (map === undefined) throw new Error(`no map ${name}`);
          const verdict = map.elements.get(iface);
          if (verdict === undefined) return 'next';
          return parseVerdict(tokens(verdict), rule);
        }
        const pattern = next().replace(/^"|"$/g, '');
        const hit = pattern.endsWith('*') ? iface.startsWith(pattern.slice(0, -1)) : iface === pattern;
        if (!hit) return 'next';
        break;
      }
      case 'ct': {
        const what = next();
        if (what === 'state') {
          if (!next().split(',').includes('new')) return 'next';
        } else if (what === 'mark') {
          expect('set');
          expect('ct');
          expect('mark');
          expect('&');
          const a = Number(next());
          expect('|');
          st.ct = (st.ct & a) | Number(next());
        } else fail(rule);
        break;
      }
      case 'log': {
        expect('prefix');
        const prefix = next().replace(/^"|"$/g, '');
        expect('group');
        next();
        st.logs.push(prefix);
        break;
      }
      default:
        i--;
        return parseVerdict(t.slice(i), rule);
    }
  }
  return 'next';
}

function parseVerdict(t: readonly string[], rule: string): Step {
  const [v, target, extra] = t;
  if (extra !== undefined) fail(rule);
  if (v === 'accept' || v === 'drop' || v === 'return') {
    if (target !== undefined) fail(rule);
    return v;
  }
  if ((v === 'jump' || v === 'goto') && target !== undefined) return v === 'jump' ? { jump: target } : { goto: target };
  return fail(rule);
}

function fail(rule: string): never {
  throw new Error(`interpreter does not know: ${rule}`);
}

/** `6`, `80-90`, `{ 6, 17 }`, `{ 80, 81-90 }`. */
function numberIn(text: string, v: number): boolean {
  const parts = text.startsWith('{') ? text.slice(1, -1).split(',').map((s) => s.trim()) : [text];
  return parts.some((s) => {
    const [a, b] = rangeOf(s);
    return v >= a && v <= b;
  });
}

function rangeOf(s: string): [number, number] {
  const named = PROTO_NAMES[s];
  if (named !== undefined) return [named, named];
  const dash = s.indexOf('-');
  if (dash > 0) return [Number(s.slice(0, dash)), Number(s.slice(dash + 1))];
  if (!/^\d+$/.test(s)) throw new Error(`not a number: ${s}`);
  return [Number(s), Number(s)];
}

function elementHas(el: string, key: readonly bigint[], f: Family): boolean {
  const parts = el.split(' . ');
  if (parts.length !== key.length) throw new Error(`element ${el} does not fit a key of ${key.length}`);
  return parts.every((part, j) => {
    const v = key[j] as bigint;
    if (j === 0) {
      const iv = addrInterval(f, part);
      if (iv === undefined) return false; // the other family's element
      return v >= iv.lo && v <= iv.hi;
    }
    const [a, b] = rangeOf(part);
    return v >= BigInt(a) && v <= BigInt(b);
  });
}

function setHas(m: RulesetModel, ref: string, key: readonly bigint[], f: Family, rule: string): boolean {
  if (!ref.startsWith('@')) fail(rule);
  const set = m.sets.get(ref.slice(1));
  if (set === undefined) throw new Error(`no set ${ref}`);
  if (!set.type.startsWith(f === 4 ? 'ipv4' : 'ipv6')) throw new Error(`family ${f} packet against ${set.type} set: ${rule}`);
  return set.elements.some((el) => elementHas(el, key, f));
}

/** A concatenated interval map: at most one element may hold the key (they are disjoint). */
function lookup(m: RulesetModel, ref: string, key: readonly bigint[], f: Family, rule: string): string | undefined {
  const map = m.maps.get(ref.slice(1));
  if (map === undefined) throw new Error(`no map ${ref}`);
  if (!(map.type ?? '').startsWith(f === 4 ? 'ipv4' : 'ipv6')) throw new Error(`family ${f} packet against ${map.type} map: ${rule}`);
  let found: string | undefined;
  for (const [el, verdict] of map.elements) {
    if (!elementHas(el, key, f)) continue;
    if (found !== undefined) throw new Error(`map ${ref}: overlapping elements hold one key`);
    found = verdict;
  }
  return found;
}
