// Calico-style block IPAM: pools are cut into blocks (e.g. /26), a node claims whole blocks (block
// affinity) and hands out addresses from them. Every write is a compare-and-swap on one block, so
// allocators on different nodes working from stale reads never hand out the same address: a
// conflicting write fails and the allocator plans again from fresh state. Pure: no I/O, no clock.
import { parseCidr } from '../net/index.js';

export interface IpPoolConfig {
  readonly name: string;
  /** IPv4 only for now, e.g. `10.244.0.0/16`. */
  readonly cidr: string;
  /** Prefix length of a block, e.g. 26. */
  readonly blockSize: number;
}

/** One block: `allocations[i]` is the handle holding the block's i-th address, or null. */
export interface AllocationBlock {
  readonly cidr: string;
  readonly pool: string;
  /** The node the block is affine to. */
  readonly affinity: string;
  readonly allocations: readonly (string | null)[];
  /** The table's revision at this block's last write (see BlockTable); writes name the one they read. */
  readonly revision: number;
}

/** One compare-and-swap write. */
export type IpamChange =
  | { readonly kind: 'create'; readonly block: AllocationBlock }
  | { readonly kind: 'update'; readonly block: AllocationBlock; readonly expectedRevision: number }
  | { readonly kind: 'delete'; readonly cidr: string; readonly expectedRevision: number };

export type AssignPlan =
  | { readonly ok: true; readonly ip: string; readonly block: string; readonly change: IpamChange }
  | { readonly ok: false; readonly reason: string };

export interface ReleasePlan {
  readonly ip: string;
  readonly change: IpamChange;
}

interface PoolGeometry {
  readonly name: string;
  readonly network: number;
  readonly blockCount: number;
  readonly blockAddresses: number;
  readonly blockPrefix: number;
}

/** Checks pools; returns the problems (empty when all are usable). */
export function validatePools(pools: readonly IpPoolConfig[]): string[] {
  const problems: string[] = [];
  for (const p of pools) {
    const c = parseCidr(p.cidr);
    if (c === undefined) problems.push(`pool ${p.name}: ${JSON.stringify(p.cidr)} is not a CIDR`);
    else if (c.family !== 4) problems.push(`pool ${p.name}: only IPv4 pools are supported by the lab's IPAM`);
    else if (!Number.isInteger(p.blockSize) || p.blockSize < c.prefix || p.blockSize > 32) {
      problems.push(`pool ${p.name}: blockSize ${p.blockSize} must lie between the pool's prefix /${c.prefix} and /32`);
    }
  }
  return problems;
}

function geometry(p: IpPoolConfig): PoolGeometry | undefined {
  const c = parseCidr(p.cidr);
  if (c === undefined || c.family !== 4 || p.blockSize < c.prefix || p.blockSize > 32) return undefined;
  return { name: p.name, network: c.network as number, blockCount: 2 ** (p.blockSize - c.prefix), blockAddresses: 2 ** (32 - p.blockSize), blockPrefix: p.blockSize };
}

export function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((s) => (value >>> s) & 255).join('.');
}

function blockBase(block: AllocationBlock): number {
  return (parseCidr(block.cidr)?.network as number | undefined) ?? 0;
}

function firstFree(allocations: readonly (string | null)[], base: number, reserved: ReadonlySet<string>): number {
  return allocations.findIndex((h, i) => h === null && !reserved.has(ipv4Text((base + i) >>> 0)));
}

/**
 * Plans giving `handle` an address for `node`: from a block affine to the node when one has room,
 * else by claiming the first unclaimed block of a pool. Addresses in `reserved` (static pod IPs) are
 * never handed out. Blocks of other nodes are never borrowed from (strict affinity).
 */
export function planAssign(
  pools: readonly IpPoolConfig[],
  blocks: Iterable<AllocationBlock>,
  node: string,
  handle: string,
  reserved: ReadonlySet<string> = new Set(),
): AssignPlan {
  const all = [...blocks];
  for (const b of all) {
    if (b.affinity !== node) continue;
    const base = blockBase(b);
    const i = firstFree(b.allocations, base, reserved);
    if (i < 0) continue;
    const allocations = b.allocations.map((h, j) => (j === i ? handle : h));
    return { ok: true, ip: ipv4Text((base + i) >>> 0), block: b.cidr, change: { kind: 'update', block: { ...b, allocations, revision: b.revision + 1 }, expectedRevision: b.revision } };
  }
  const claimed = new Set(all.map((b) => b.cidr));
  for (const pool of pools) {
    const g = geometry(pool);
    if (g === undefined) continue;
    for (let n = 0; n < g.blockCount; n++) {
      const base = (g.network + n * g.blockAddresses) >>> 0;
      const cidr = `${ipv4Text(base)}/${g.blockPrefix}`;
      if (claimed.has(cidr)) continue;
      const empty: (string | null)[] = new Array<string | null>(g.blockAddresses).fill(null);
      const i = firstFree(empty, base, reserved);
      if (i < 0) continue;
      empty[i] = handle;
      return { ok: true, ip: ipv4Text((base + i) >>> 0), block: cidr, change: { kind: 'create', block: { cidr, pool: g.name, affinity: node, allocations: empty, revision: 1 } } };
    }
  }
  return { ok: false, reason: `no free address for node ${node}: every block of ${pools.map((p) => p.cidr).join(', ') || '(no pools)'} is full or claimed by another node` };
}

/** Plans releasing `handle`'s address; a block left empty is deleted (its affinity released). */
export function planRelease(blocks: Iterable<AllocationBlock>, handle: string): ReleasePlan | undefined {
  for (const b of blocks) {
    const i = b.allocations.indexOf(handle);
    if (i < 0) continue;
    const ip = ipv4Text((blockBase(b) + i) >>> 0);
    const allocations = b.allocations.map((h, j) => (j === i ? null : h));
    if (allocations.every((h) => h === null)) return { ip, change: { kind: 'delete', cidr: b.cidr, expectedRevision: b.revision } };
    return { ip, change: { kind: 'update', block: { ...b, allocations, revision: b.revision + 1 }, expectedRevision: b.revision } };
  }
  return undefined;
}

/**
 * The blocks and a store-wide revision, as etcd keeps a mod revision: every write stamps the block
 * with the next one. A block deleted and claimed again so never gets a revision it had before, and
 * a write planned against the old block fails (a per-block counter restarting at 1 let such a
 * stale update through and bring back a released address).
 */
export class BlockTable {
  private readonly byCidr = new Map<string, AllocationBlock>();
  private last: number;

  constructor(blocks: Iterable<AllocationBlock> = [], revision = 0) {
    this.last = revision;
    for (const b of blocks) {
      this.byCidr.set(b.cidr, b);
      this.last = Math.max(this.last, b.revision);
    }
  }

  /** The revision of the last write. */
  get revision(): number {
    return this.last;
  }

  values(): IterableIterator<AllocationBlock> {
    return this.byCidr.values();
  }

  get(cidr: string): AllocationBlock | undefined {
    return this.byCidr.get(cidr);
  }

  /** Applies one change as a compare-and-swap; false (and no change) on conflict. */
  apply(change: IpamChange): boolean {
    const cidr = change.kind === 'delete' ? change.cidr : change.block.cidr;
    const current = this.byCidr.get(cidr);
    if (change.kind === 'create' ? current !== undefined : current === undefined || current.revision !== change.expectedRevision) return false;
    this.last++;
    if (change.kind === 'delete') this.byCidr.delete(cidr);
    else this.byCidr.set(cidr, { ...change.block, revision: this.last });
    return true;
  }
}

/** Applies one change to a block table as a compare-and-swap; false (and no change) on conflict. */
export function applyChange(table: BlockTable, change: IpamChange): boolean {
  return table.apply(change);
}

/** A block table held in memory (the lab's state file persists it): plan, then compare-and-swap. */
export class BlockIpam {
  private readonly table: BlockTable;

  constructor(
    readonly pools: readonly IpPoolConfig[],
    blocks: Iterable<AllocationBlock> = [],
  ) {
    this.table = new BlockTable(blocks);
  }

  /** Gives `handle` an address on `node`; undefined with a reason when the pools are exhausted. */
  assign(node: string, handle: string, reserved: ReadonlySet<string> = new Set()): { ip: string; block: string } | { error: string } {
    // Single-threaded here, so the first CAS succeeds; the loop is what a shared store needs.
    for (;;) {
      const plan = planAssign(this.pools, this.table.values(), node, handle, reserved);
      if (!plan.ok) return { error: plan.reason };
      if (applyChange(this.table, plan.change)) return { ip: plan.ip, block: plan.block };
    }
  }

  release(handle: string): string | undefined {
    for (;;) {
      const plan = planRelease(this.table.values(), handle);
      if (plan === undefined) return undefined;
      if (applyChange(this.table, plan.change)) return plan.ip;
    }
  }

  blocks(): AllocationBlock[] {
    return [...this.table.values()];
  }

  /** Blocks affine to `node`. */
  blocksOf(node: string): AllocationBlock[] {
    return this.blocks().filter((b) => b.affinity === node);
  }
}
