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

/** A `type ifname : verdict` map: interface name → verdict text (`goto CHAIN`). */
export interface NftVerdictMap {
  readonly name: string;
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

function mapElement(iface: string, verdict: string): string {
  return `${quote(iface)} : ${verdict}`;
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
  for (const map of sorted(m.maps)) lines.push(`add map inet ${t} ${map.name} { type ifname : verdict; }`);
  const chains = sorted(m.chains);
  for (const c of chains) if (c.base === undefined) lines.push(chainDecl(t, c));
  for (const c of chains) if (c.base === undefined) lines.push(...ruleLines(t, c));
  for (const map of sorted(m.maps)) {
    const els = [...map.elements].sort(([a], [b]) => cmp(a, b)).map(([k, v]) => mapElement(k, v));
    if (els.length > 0) lines.push(`add element inet ${t} ${map.name} { ${els.join(', ')} }`);
  }
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
 * elements changed, removed chains flushed then deleted, removed sets and maps deleted. A change
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
  for (const map of sorted(next.maps)) if (!prev.maps.has(map.name)) lines.push(`add map inet ${t} ${map.name} { type ifname : verdict; }`);
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
    const del: string[] = [];
    const add: string[] = [];
    for (const [k, v] of old) if (map.elements.get(k) !== v) del.push(quote(k));
    for (const [k, v] of map.elements) if (old.get(k) !== v) add.push(mapElement(k, v));
    if (del.length > 0) lines.push(`delete element inet ${t} ${map.name} { ${del.sort().join(', ')} }`);
    if (add.length > 0) lines.push(`add element inet ${t} ${map.name} { ${add.sort().join(', ')} }`);
  }
  const gone = sorted(prev.chains).filter((c) => !next.chains.has(c.name));
  for (const c of gone) if (c.rules.length > 0) lines.push(`flush chain inet ${t} ${c.name}`);
  for (const c of gone) lines.push(`delete chain inet ${t} ${c.name}`);
  for (const map of sorted(prev.maps)) if (!next.maps.has(map.name)) lines.push(`delete map inet ${t} ${map.name}`);
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
    const els = [...map.elements].sort(([a], [b]) => cmp(a, b)).map(([k, v]) => mapElement(k, v));
    if (els.length > 0) lines.push(`add element inet ${t} ${name} { ${els.join(', ')} }`);
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
