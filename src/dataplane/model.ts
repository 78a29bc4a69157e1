// The rendered ruleset as data (sets, verdict maps, chains with rule texts), and the two ways
// to write it: a full program that atomically replaces the table, and a delta between two
// models (set element adds/deletes, flush-and-refill of changed chains). Both are `nft -f` text.

export type SetType =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'ipv4_addr . inet_proto . inet_service'
  | 'ipv6_addr . inet_proto . inet_service';

export interface NftSet {
  readonly name: string;
  readonly type: SetType;
  readonly interval: boolean;
  /** Element texts, sorted, no element inside another (interval sets reject overlaps). */
  readonly elements: readonly string[];
}

/**
 * A verdict map: key text → verdict text (`goto CHAIN`, `return`). Dispatch maps are keyed by
 * interface name; compiled rule runs by `address . l4proto . port` with intervals.
 */
export interface NftVerdictMap {
  readonly name: string;
  /** Key type; default `ifname`. */
  readonly type?: string;
  readonly interval?: boolean;
  readonly elements: ReadonlyMap<string, string>;
}

export interface NftChain {
  readonly name: string;
  /** Base chain spec (`type filter hook forward priority filter; policy accept;`), absent for regular chains. */
  readonly base?: string;
  readonly rules: readonly string[];
}

export interface RulesetModel {
  readonly table: string;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly maps: ReadonlyMap<string, NftVerdictMap>;
  readonly chains: ReadonlyMap<string, NftChain>;
}

/** Elements per `add element` command, so huge sets do not make one giant line. */
const ELEMENT_CHUNK = 4096;

function setDecl(t: string, s: NftSet): string {
  return `add set inet ${t} ${s.name} { type ${s.type};${s.interval ? ' flags interval;' : ''} }`;
}

function elementLines(verb: 'add' | 'delete', t: string, name: string, elements: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENT_CHUNK) {
    out.push(`${verb} element inet ${t} ${name} { ${elements.slice(i, i + ELEMENT_CHUNK).join(', ')} }`);
  }
  return out;
}

function mapDecl(t: string, m: NftVerdictMap): string {
  return `add map inet ${t} ${m.name} { type ${m.type ?? 'ifname'} : verdict;${m.interval === true ? ' flags interval;' : ''} }`;
}

/** Interface names are quoted; concatenation keys are written as they are. */
function mapKey(m: NftVerdictMap, key: string): string {
  return (m.type ?? 'ifname') === 'ifname' ? quote(key) : key;
}

function mapElements(verb: 'add' | 'delete', t: string, m: NftVerdictMap, entries: readonly (readonly [string, string | undefined])[]): string[] {
  const texts = entries.map(([k, v]) => (v === undefined ? mapKey(m, k) : `${mapKey(m, k)} : ${v}`));
  return elementLines(verb, t, m.name, texts);
}

export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

function chainDecl(t: string, c: NftChain): string {
  return c.base === undefined ? `add chain inet ${t} ${c.name}` : `add chain inet ${t} ${c.name} { ${c.base} }`;
}

function ruleLines(t: string, c: NftChain): string[] {
  return c.rules.map((r) => `add rule inet ${t} ${c.name} ${r}`);
}

/**
 * The whole ruleset as one transaction that replaces the table atomically: `table` makes sure it
 * exists so `delete table` cannot fail, then everything is declared again. Chains are declared
 * before any rule so jumps resolve; base chains last, so no packet sees a half-built table (the
 * transaction is atomic anyway).
 */
export function programText(m: RulesetModel): string {
  const t = m.table;
  const lines = [`table inet ${t}`, `delete table inet ${t}`, `add table inet ${t}`];
  for (const s of sorted(m.sets)) {
    lines.push(setDecl(t, s));
    lines.push(...elementLines('add', t, s.name, s.elements));
  }
  for (const map of sorted(m.maps)) lines.push(mapDecl(t, map));
  const chains = sorted(m.chains);
  for (const c of chains) if (c.base === undefined) lines.push(chainDecl(t, c));
  for (const c of chains) if (c.base === undefined) lines.push(...ruleLines(t, c));
  for (const map of sorted(m.maps)) lines.push(...mapElements('add', t, map, [...map.elements].sort(([a], [b]) => cmp(a, b))));
  for (const c of chains) {
    if (c.base === undefined) continue;
    lines.push(chainDecl(t, c));
    lines.push(...ruleLines(t, c));
  }
  return lines.join('\n') + '\n';
}

/**
 * What turns `prev` into `next`, as one transaction; '' when they are equal. Order keeps every
 * reference valid at each step: new sets and elements (deletes before adds, so an address and a
 * CIDR holding it never overlap), new chains declared, changed and new chains filled, map
 * elements changed, removed chains flushed, removed maps deleted, removed chains deleted, removed sets deleted. A change
 * of table name or base-chain spec falls back to the full program.
 */
export function deltaText(prev: RulesetModel, next: RulesetModel): string {
  if (prev.table !== next.table) return programText(next);
  for (const c of next.chains.values()) {
    const old = prev.chains.get(c.name);
    if (old !== undefined && old.base !== c.base) return programText(next);
  }
  for (const c of prev.chains.values()) if (c.base !== undefined && !next.chains.has(c.name)) return programText(next);
  const t = next.table;
  const lines: string[] = [];
  for (const s of sorted(next.sets)) {
    const old = prev.sets.get(s.name);
    if (old === undefined && prev.maps.has(s.name)) return programText(next);
    if (old === undefined || old.type !== s.type || old.interval !== s.interval) {
      if (old !== undefined) return programText(next);
      lines.push(setDecl(t, s));
      lines.push(...elementLines('add', t, s.name, s.elements));
      continue;
    }
    const { added, removed } = diffSorted(old.elements, s.elements);
    lines.push(...elementLines('delete', t, s.name, removed));
    lines.push(...elementLines('add', t, s.name, added));
  }
  for (const map of sorted(next.maps)) {
    const old = prev.maps.get(map.name);
    if (old === undefined) lines.push(mapDecl(t, map));
    else if ((old.type ?? 'ifname') !== (map.type ?? 'ifname') || old.interval !== map.interval) return programText(next);
  }
  const chains = sorted(next.chains);
  for (const c of chains) if (!prev.chains.has(c.name)) lines.push(chainDecl(t, c));
  for (const c of chains) {
    const old = prev.chains.get(c.name);
    if (old === undefined) lines.push(...ruleLines(t, c));
    else if (!sameList(old.rules, c.rules)) {
      lines.push(`flush chain inet ${t} ${c.name}`);
      lines.push(...ruleLines(t, c));
    }
  }
  for (const map of sorted(next.maps)) {
    const old = prev.maps.get(map.name)?.elements ?? new Map<string, string>();
    const del: [string, undefined][] = [];
    const add: [string, string][] = [];
    for (const [k, v] of old) if (map.elements.get(k) !== v) del.push([k, undefined]);
    for (const [k, v] of map.elements) if (old.get(k) !== v) add.push([k, v]);
    // Deletes first: an interval map rejects an element overlapping one still there.
    lines.push(...mapElements('delete', t, map, del.sort(([a], [b]) => cmp(a, b))));
    lines.push(...mapElements('add', t, map, add.sort(([a], [b]) => cmp(a, b))));
  }
  const gone = sorted(prev.chains).filter((c) => !next.chains.has(c.name));
  for (const c of gone) if (c.rules.length > 0) lines.push(`flush chain inet ${t} ${c.name}`);
  // Maps before chains: a removed map's verdicts may name removed chains.
  for (const map of sorted(prev.maps)) if (!next.maps.has(map.name)) lines.push(`delete map inet ${t} ${map.name}`);
  for (const c of gone) lines.push(`delete chain inet ${t} ${c.name}`);
  for (const s of sorted(prev.sets)) if (!next.sets.has(s.name)) lines.push(`delete set inet ${t} ${s.name}`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * A repair for the named objects only: each listed chain flushed and refilled, each listed set
 * flushed and refilled. The resync uses it when the table's objects all exist but some content
 * drifted; anything structural takes the full program.
 */
export function repairText(m: RulesetModel, chains: Iterable<string>, sets: Iterable<string>, maps: Iterable<string>): string {
  const t = m.table;
  const lines: string[] = [];
  for (const name of sets) {
    const s = m.sets.get(name);
    if (s === undefined) continue;
    lines.push(`flush set inet ${t} ${name}`);
    lines.push(...elementLines('add', t, name, s.elements));
  }
  for (const name of chains) {
    const c = m.chains.get(name);
    if (c === undefined) continue;
    lines.push(`flush chain inet ${t} ${name}`);
    lines.push(...ruleLines(t, c));
  }
  for (const name of maps) {
    const map = m.maps.get(name);
    if (map === undefined) continue;
    lines.push(`flush map inet ${t} ${name}`);
    lines.push(...mapElements('add', t, map, [...map.elements].sort(([a], [b]) => cmp(a, b))));
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

export function modelsEqual(a: RulesetModel, b: RulesetModel): boolean {
  return deltaText(a, b) === '';
}

function sorted<T extends { readonly name: string }>(m: ReadonlyMap<string, T>): T[] {
  return [...m.values()].sort((a, b) => cmp(a.name, b.name));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Both lists sorted and duplicate-free. */
function diffSorted(a: readonly string[], b: readonly string[]): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      removed.push(x as string);
      i++;
    } else if (x === undefined || y < x) {
      added.push(y);
      j++;
    } else {
      i++;
      j++;
    }
  }
  return { added, removed };
}

/**
 * `next` plus what `prev` holds that `next` no longer names — sets, maps and regular chains
 * (never base chains: they see traffic). Written instead of `next`, a change leaves those objects
 * in the kernel, unreferenced, and so costs no deletion: deleting a set or chain makes the
 * kernel's commit wait for an RCU grace period (~10-15 ms each here), which would sit on the
 * path of every policy change. `deltaText(withGarbage(prev, next), next)` removes them later.
 */
export function withGarbage(prev: RulesetModel, next: RulesetModel): RulesetModel {
  if (prev.table !== next.table) return next;
  const sets = new Map(next.sets);
  const maps = new Map(next.maps);
  const chains = new Map(next.chains);
  for (const [name, s] of prev.sets) if (!sets.has(name) && !maps.has(name)) sets.set(name, s);
  for (const [name, m] of prev.maps) if (!maps.has(name) && !next.sets.has(name)) maps.set(name, m);
  for (const [name, c] of prev.chains) if (!chains.has(name) && c.base === undefined) chains.set(name, c);
  const extra = sets.size > next.sets.size || maps.size > next.maps.size || chains.size > next.chains.size;
  return extra ? { table: next.table, sets, maps, chains } : next;
}
