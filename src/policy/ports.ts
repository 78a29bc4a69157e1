// Protocols and ports as the normalized model wants them: protocol numbers, port ranges and
// named ports, from Calico's numorstring forms and Kubernetes' port/endPort pairs.
import { BugError } from '../errors/index.js';
import { PROTOCOL_NUMBERS, type PortSet } from './model.js';

const PROTOCOLS_BY_LOWER_NAME = new Map<string, number>(
  Object.entries(PROTOCOL_NUMBERS).map(([name, n]) => [name.toLowerCase(), n]),
);

/** A protocol name in any case Calico accepts, or a number. Resources validated the name. */
export function protocolNumber(p: string | number): number {
  if (typeof p === 'number') return p;
  const n = PROTOCOLS_BY_LOWER_NAME.get(p.toLowerCase());
  if (n === undefined) throw new BugError(`unvalidated protocol ${p}`);
  return n;
}

export function protocolName(n: number): string {
  for (const [name, num] of Object.entries(PROTOCOL_NUMBERS)) if (num === n) return name;
  return String(n);
}

/** Calico ports: numbers, `"a:b"` ranges, or names; undefined when the list is absent or empty. */
export function calicoPortSet(ports: readonly (number | string)[] | undefined, protocol?: number): PortSet | undefined {
  if (ports === undefined || ports.length === 0) return undefined;
  const ranges: { first: number; last: number }[] = [];
  const named: { name: string; protocol?: number }[] = [];
  for (const p of ports) {
    if (typeof p === 'number') ranges.push({ first: p, last: p });
    else if (/^\d+$/.test(p)) ranges.push({ first: Number(p), last: Number(p) });
    else if (/^\d+:\d+$/.test(p)) {
      const [a, b] = p.split(':').map(Number) as [number, number];
      ranges.push({ first: a, last: b });
    } else named.push(protocol === undefined ? { name: p } : { name: p, protocol });
  }
  return { ranges, named };
}

/** One port or a `port…endPort` range, or a named port. */
export function singlePortSet(port: number | string, endPort?: number, protocol?: number): PortSet {
  if (typeof port === 'string') return { ranges: [], named: [protocol === undefined ? { name: port } : { name: port, protocol }] };
  return { ranges: [{ first: port, last: endPort ?? port }], named: [] };
}

export function mergePortSets(sets: readonly PortSet[]): PortSet {
  return { ranges: sets.flatMap((s) => s.ranges), named: sets.flatMap((s) => s.named) };
}
