// The rule-id registry: a stable small number for every rendered rule, written into the
// connection's ct mark when the rule decides (egress id in the high 16 bits, ingress id in the
// low 16) and into log prefixes, so flow logs can name tier, policy and rule later.
import { canonicalJson } from '../calc/index.js';
import type { Direction, NormRule, RuleAction } from '../policy/index.js';
import { shortHash } from './names.js';

/**
 * Why a packet was dropped with no rule deciding: the end of a tier whose default action is
 * Deny, a listed policy the node does not have (fail closed), the end of the endpoint's profiles,
 * or an endpoint with neither a deciding policy nor a profile.
 */
export type ImplicitDrop = 'end-of-tier' | 'missing-policy' | 'no-profile-match' | 'no-profile';
/** The one accept no rule states: a host endpoint's failsafe ports (Calico's failsafe rules). */
export type ImplicitAllow = 'failsafe';

/** What a rule id stands for. */
/** A registry's assignments as plain data (JSON). */
export interface RuleIdSnapshot {
  readonly next: number;
  readonly free: readonly number[];
  readonly entries: readonly (readonly [string, RuleIdEntry])[];
}

export interface RuleIdEntry {
  readonly id: number;
  /** `implicit`: a drop (or the failsafe accept) no rule states (`implicit` says which; ruleIndex -1). */
  readonly owner: 'policy' | 'profile' | 'implicit';
  /** Policy id (`tier/ns/name`) or profile name; for implicit drops the policy id or ''. */
  readonly name: string;
  /** The tier; for implicit drops always present ('' for the endpoint-level drops). */
  readonly tier?: string;
  readonly direction: Direction;
  /** Index of the rule in the user's policy (`NormRule.index`). */
  readonly ruleIndex: number;
  /** Position in the normalized rule list. */
  readonly position: number;
  readonly ruleName?: string;
  readonly action: RuleAction;
  readonly implicit?: ImplicitDrop | ImplicitAllow;
}

/** The largest id; ct mark holds two 16-bit ids. When exhausted, rules get `OVERFLOW_RULE_ID`. */
export const MAX_RULE_ID = 0xfffe;
export const OVERFLOW_RULE_ID = 0xffff;

/**
 * Allocates ids by rule identity (owner, direction, position and the rule's canonical content),
 * so an unchanged rule keeps its id across renders and an edited rule gets a new one. Ids of
 * rules no longer rendered are released (`retain`) and reused oldest-first, only once every
 * never-used id is gone, so a live connection's mark rarely names a reused id.
 */
export class RuleIdRegistry {
  private readonly byKey = new Map<string, RuleIdEntry>();
  private readonly byId = new Map<number, RuleIdEntry>();
  private next = 1;
  private readonly free: number[] = [];
  /** Canonical-content hashes by rule object: the calc state keeps unchanged rules' objects. */
  private readonly contentOf = new WeakMap<NormRule, string>();

  idFor(
    owner: 'policy' | 'profile',
    name: string,
    tier: string | undefined,
    direction: Direction,
    position: number,
    rule: NormRule,
  ): number {
    let content = this.contentOf.get(rule);
    if (content === undefined) {
      content = shortHash(canonicalJson(rule));
      this.contentOf.set(rule, content);
    }
    const key = `${owner}|${name}|${direction}|${position}|${content}`;
    return this.allocate(key, (id) => ({
      id,
      owner,
      name,
      ...(tier !== undefined ? { tier } : {}),
      direction,
      ruleIndex: rule.index,
      position,
      ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
      action: rule.action,
    }));
  }

  /** The id of an implicit drop: per direction, kind, tier ('' for none) and policy ('' for none). */
  implicitId(kind: ImplicitDrop, direction: Direction, tier: string, policy: string): number {
    const key = `implicit|${kind}|${direction}|${tier}|${policy}`;
    return this.allocate(key, (id) => ({ id, owner: 'implicit', name: policy, tier, direction, ruleIndex: -1, position: -1, action: 'Deny', implicit: kind }));
  }

  /** The id of a host endpoint's failsafe accept in one direction (tier and name ''). */
  failsafeId(direction: Direction): number {
    const key = `implicit|failsafe|${direction}`;
    return this.allocate(key, (id) => ({ id, owner: 'implicit', name: '', tier: '', direction, ruleIndex: -1, position: -1, action: 'Allow', implicit: 'failsafe' }));
  }

  private allocate(key: string, make: (id: number) => RuleIdEntry): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known.id;
    let id: number;
    if (this.next <= MAX_RULE_ID) id = this.next++;
    else id = this.free.shift() ?? OVERFLOW_RULE_ID;
    const entry = make(id);
    this.byKey.set(key, entry);
    if (id !== OVERFLOW_RULE_ID) this.byId.set(id, entry);
    return id;
  }

  /** Releases every id not in `used` (the ids of the last applied render). */
  retain(used: ReadonlySet<number>): void {
    for (const [key, entry] of this.byKey) {
      if (used.has(entry.id)) continue;
      this.byKey.delete(key);
      if (this.byId.get(entry.id) === entry) {
        this.byId.delete(entry.id);
        this.free.push(entry.id);
      }
    }
  }

  /** Everything needed to give the same rules the same ids in another process (an agent's restart). */
  snapshot(): RuleIdSnapshot {
    return { next: this.next, free: [...this.free], entries: [...this.byKey].map(([key, entry]) => [key, entry]) };
  }

  /** Takes over a snapshot's assignments (before anything is allocated here). */
  load(s: RuleIdSnapshot): void {
    this.byKey.clear();
    this.byId.clear();
    this.free.length = 0;
    this.next = s.next;
    this.free.push(...s.free);
    for (const [key, entry] of s.entries) {
      this.byKey.set(key, entry);
      if (entry.id !== OVERFLOW_RULE_ID) this.byId.set(entry.id, entry);
    }
  }

  lookup(id: number): RuleIdEntry | undefined {
    return this.byId.get(id);
  }

  /** The table flow logs use: every live id, ascending. */
  entries(): RuleIdEntry[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}

/**
 * The NFLOG prefix of a Deny (`D`) or Log (`L`) rule or an implicit drop: `mgy D e 12 ` (at most
 * 16 characters, well under nftables' 63). The collector reads it back with `parseLogPrefix`.
 */
export function logPrefix(kind: 'D' | 'L', direction: Direction, id: number): string {
  return `mgy ${kind} ${direction === 'egress' ? 'e' : 'i'} ${id} `;
}

export interface LogPrefixInfo {
  readonly action: 'deny' | 'log';
  readonly direction: Direction;
  readonly ruleId: number;
}

/** `mgy D e 12 ` → {deny, egress, 12}; undefined for a prefix Margay did not write. */
export function parseLogPrefix(prefix: string): LogPrefixInfo | undefined {
  const m = /^mgy ([DL]) ([ei]) (\d{1,5}) ?$/.exec(prefix);
  if (m === null) return undefined;
  const ruleId = Number(m[3]);
  if (ruleId < 1 || ruleId > OVERFLOW_RULE_ID) return undefined;
  return { action: m[1] === 'D' ? 'deny' : 'log', direction: m[2] === 'e' ? 'egress' : 'ingress', ruleId };
}

/** Every rule id a model uses (ct marks and log prefixes): what the registry may not release. */
export function ruleIdsInRules(rules: Iterable<string>): Set<number> {
  const used = new Set<number>();
  const re = /ct mark set ct mark & 0x(?:0000ffff|ffff0000) \| 0x([0-9a-f]{8})|log prefix "mgy [DL] [ei] (\d+) "/g;
  for (const rule of rules) {
    for (const match of rule.matchAll(re)) {
      if (match[1] !== undefined) {
        const v = parseInt(match[1], 16);
        used.add(v > 0xffff ? v >>> 16 : v);
      } else if (match[2] !== undefined) used.add(Number(match[2]));
    }
  }
  return used;
}

/** Splits a connection's ct mark into the egress and ingress rule ids (0 = none). */
export function ruleIdsOfCtMark(mark: number): { egress: number; ingress: number } {
  return { egress: (mark >>> 16) & 0xffff, ingress: mark & 0xffff };
}
