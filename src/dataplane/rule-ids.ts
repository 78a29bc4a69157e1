// The rule-id registry: a stable small number for every rendered rule, written into the
// connection's ct mark when the rule decides (egress id in the high 16 bits, ingress id in the
// low 16) and into log prefixes, so flow logs can name tier, policy and rule later.
import { canonicalJson } from '../calc/index.js';
import type { Direction, NormRule, RuleAction } from '../policy/index.js';
import { shortHash } from './names.js';

/** What a rule id stands for. */
export interface RuleIdEntry {
  readonly id: number;
  readonly owner: 'policy' | 'profile';
  /** Policy id (`tier/ns/name`) or profile name. */
  readonly name: string;
  readonly tier?: string;
  readonly direction: Direction;
  /** Index of the rule in the user's policy (`NormRule.index`). */
  readonly ruleIndex: number;
  /** Position in the normalized rule list. */
  readonly position: number;
  readonly ruleName?: string;
  readonly action: RuleAction;
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

  idFor(
    owner: 'policy' | 'profile',
    name: string,
    tier: string | undefined,
    direction: Direction,
    position: number,
    rule: NormRule,
  ): number {
    const key = `${owner}|${name}|${direction}|${position}|${shortHash(canonicalJson(rule))}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known.id;
    let id: number;
    if (this.next <= MAX_RULE_ID) id = this.next++;
    else id = this.free.shift() ?? OVERFLOW_RULE_ID;
    const entry: RuleIdEntry = {
      id,
      owner,
      name,
      ...(tier !== undefined ? { tier } : {}),
      direction,
      ruleIndex: rule.index,
      position,
      ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
      action: rule.action,
    };
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

  lookup(id: number): RuleIdEntry | undefined {
    return this.byId.get(id);
  }

  /** The table flow logs use: every live id, ascending. */
  entries(): RuleIdEntry[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}

/** Splits a connection's ct mark into the egress and ingress rule ids (0 = none). */
export function ruleIdsOfCtMark(mark: number): { egress: number; ingress: number } {
  return { egress: (mark >>> 16) & 0xffff, ingress: mark & 0xffff };
}
