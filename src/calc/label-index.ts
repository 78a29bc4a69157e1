// The inverted label index: which registered selectors match which entities, kept current as
// either side changes. Each selector is filed under the label restriction it implies (Calico's
// label restrictions), so an entity update tests only the selectors that could match it and a new
// selector tests only the entities that could match it.
import { selectorLabelKeys, selectorLabelRestrictions, type LabelRestriction, type Labels } from '../selector/index.js';
import type { Entity, EntitySelector } from '../policy/index.js';

/**
 * Told about one registration's matches. The index calls it after its own state is consistent;
 * an observer must not register or unregister selectors or change entities from inside a call.
 */
export interface MatchObserver {
  onMatchStarted(entity: Entity): void;
  onMatchStopped(entity: Entity): void;
  /** A still-matching entity changed its addresses or ports (only when the caller says so). */
  onMatchUpdated(previous: Entity, next: Entity): void;
}

interface EntityRecord {
  entity: Entity;
  /** A local enforced endpoint: the only kind `localOnly` registrations match. */
  local: boolean;
  /** The registrations matching it: a short list, cheaper than a set for a handful. */
  matches: Registration[];
}

/** The entities holding one label key: by value, and how many in all. */
interface KeyPostings {
  count: number;
  readonly values: Map<string, Set<EntityRecord>>;
}

/** Where a selector is filed: under some values of one key, under a key, everywhere, or nowhere. */
type Placement =
  | { readonly kind: 'values'; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'all' }
  | { readonly kind: 'never' };

/** Keys nearly every entity has one value of: filing under them saves no work. */
const BROAD_KEYS: ReadonlySet<string> = new Set(['projectcalico.org/orchestrator']);
const BROAD_PENALTY = 1e9;
const HAS_PENALTY = 1_000;
/** Pre-filters beyond the filing key (two are plenty: the first usually narrows to a handful). */
const MAX_FILTERS = 2;

/** A selector registered with the index; the handle the owner unregisters it by. */
export class Registration {
  /** @internal */ readonly members = new Set<EntityRecord>();
  /** @internal */ alive = true;
  /** @internal Scratch mark for diffing match lists in O(n). */
  seen = 0;
  private readonly test: (labels: Labels) => boolean;
  /** The label keys the selector reads. */
  private readonly keys: ReadonlySet<string>;

  constructor(
    readonly selector: EntitySelector,
    readonly localOnly: boolean,
    readonly observer: MatchObserver,
    /** @internal */ readonly placement: Placement,
  ) {
    this.test = selector.selector.matches;
    this.keys = new Set(selectorLabelKeys(selector.selector));
  }

  /** @internal */
  readsAny(keys: readonly string[]): boolean {
    for (const k of keys) if (this.keys.has(k)) return true;
    return false;
  }

  get memberCount(): number {
    return this.members.size;
  }

  forEachMember(fn: (entity: Entity) => void): void {
    for (const rec of this.members) fn(rec.entity);
  }

  /** @internal */
  matches(rec: EntityRecord): boolean {
    if (this.localOnly && !rec.local) return false;
    const kinds = this.selector.kinds;
    if (kinds !== undefined && !kinds.has(rec.entity.kind)) return false;
    return this.test(rec.entity.labels);
  }
}

export class LabelIndex {
  private readonly entities = new Map<string, EntityRecord>();
  /** key → value → entities with that label. */
  private readonly postings = new Map<string, KeyPostings>();
  /** key → value → selectors filed under that value. */
  private readonly byValue = new Map<string, Map<string, Set<Registration>>>();
  /** key → selectors filed under the key's presence. */
  private readonly byKey = new Map<string, Set<Registration>>();
  private readonly unindexed = new Set<Registration>();
  private registrations = 0;
  private epoch = 0;

  get entityCount(): number {
    return this.entities.size;
  }

  get registrationCount(): number {
    return this.registrations;
  }

  /** Index entries of every kind; zero once every entity and registration is gone (no leaks). */
  get bucketCount(): number {
    return this.postings.size + this.byValue.size + this.byKey.size + this.unindexed.size;
  }

  /** Registers a selector and reports its current matches to the observer. */
  register(selector: EntitySelector, localOnly: boolean, observer: MatchObserver): Registration {
    const restrictions = selectorLabelRestrictions(selector.selector);
    const placement = this.place(restrictions);
    const reg = new Registration(selector, localOnly, observer, placement);
    this.registrations++;
    // Other single-value restrictions pre-filter the candidates by set membership, which is much
    // cheaper than evaluating the selector: `ns == a && app == b` filed under `app` tests only
    // the `app == b` entities that are also in `a`. A restriction no entity meets: no match yet.
    const filters: Set<EntityRecord>[] = [];
    let impossible = false;
    for (const [key, r] of restrictions) {
      if (r.mustHaveOneOf?.length !== 1 || (placement.kind !== 'all' && placement.kind !== 'never' && placement.key === key)) continue;
      const holders = this.postings.get(key)?.values.get(r.mustHaveOneOf[0] as string);
      if (holders === undefined) impossible = true;
      else filters.push(holders);
    }
    filters.sort((a, b) => a.size - b.size);
    if (filters.length > MAX_FILTERS) filters.length = MAX_FILTERS;
    this.file(reg);
    const started: Entity[] = [];
    const consider = (rec: EntityRecord) => {
      for (const f of filters) if (!f.has(rec)) return;
      if (!reg.matches(rec)) return;
      reg.members.add(rec);
      rec.matches.push(reg);
      started.push(rec.entity);
    };
    if (!impossible) {
      switch (placement.kind) {
        case 'values': {
          const entitiesByValue = this.postings.get(placement.key)?.values;
          for (const v of placement.values) {
            const recs = entitiesByValue?.get(v);
            if (recs) for (const rec of recs) consider(rec);
          }
          break;
        }
        case 'key': {
          const entitiesByValue = this.postings.get(placement.key)?.values;
          if (entitiesByValue) for (const recs of entitiesByValue.values()) for (const rec of recs) consider(rec);
          break;
        }
        case 'all':
          for (const rec of this.entities.values()) consider(rec);
          break;
        case 'never':
          break;
      }
    }
    for (const e of started) observer.onMatchStarted(e);
    return reg;
  }

  /** Files a registration in the bucket its placement names; `unregister` takes it out of it. */
  private file(reg: Registration): void {
    const p = reg.placement;
    switch (p.kind) {
      case 'values': {
        const values = getOrCreate(this.byValue, p.key, () => new Map<string, Set<Registration>>());
        for (const v of p.values) getOrCreate(values, v, newSet).add(reg);
        break;
      }
      case 'key':
        getOrCreate(this.byKey, p.key, newSet).add(reg);
        break;
      case 'all':
        this.unindexed.add(reg);
        break;
      case 'never':
        break;
    }
  }

  /**
   * Removes a registration from the same buckets it was filed in. With `notify`, the observer
   * hears a stop for every member (an owner that discards its whole state does not need that).
   */
  unregister(reg: Registration, notify: boolean): void {
    if (!reg.alive) return;
    reg.alive = false;
    this.registrations--;
    const p = reg.placement;
    switch (p.kind) {
      case 'values': {
        const values = this.byValue.get(p.key);
        for (const v of p.values) deleteFromBucket(values, v, reg);
        if (values && values.size === 0) this.byValue.delete(p.key);
        break;
      }
      case 'key':
        deleteFromBucket(this.byKey, p.key, reg);
        break;
      case 'all':
        this.unindexed.delete(reg);
        break;
      case 'never':
        break;
    }
    const members = [...reg.members];
    reg.members.clear();
    for (const rec of members) removeItem(rec.matches, reg);
    if (notify) for (const rec of members) reg.observer.onMatchStopped(rec.entity);
  }

  /**
   * Adds or updates an entity. `payloadChanged` says whether its addresses or ports changed, so
   * observers of selectors that keep matching hear about it.
   */
  upsertEntity(entity: Entity, local: boolean, payloadChanged: boolean): void {
    let rec = this.entities.get(entity.id);
    let previous: Entity | undefined;
    // Keys whose value changed: a selector reading none of them cannot change its answer.
    // Undefined means everything must be re-evaluated (a new entity, or its locality or kind changed).
    let changed: string[] | undefined;
    if (rec === undefined) {
      rec = { entity, local, matches: [] };
      this.entities.set(entity.id, rec);
      this.addPostings(rec, entity.labels);
    } else {
      previous = rec.entity;
      const keys = changedKeys(previous.labels, entity.labels);
      if (keys.length > 0) this.movePostings(rec, previous.labels, entity.labels, keys);
      rec.entity = entity;
      const sameScope = rec.local === local && previous.kind === entity.kind;
      if (keys.length === 0 && sameScope) {
        if (payloadChanged) for (const reg of [...rec.matches]) if (reg.alive) reg.observer.onMatchUpdated(previous, entity);
        return;
      }
      if (sameScope) changed = keys;
      rec.local = local;
    }

    const old = rec.matches;
    const mark = ++this.epoch;
    for (const reg of old) reg.seen = mark;
    // Whether a candidate matches now: re-evaluated only if it reads a changed key.
    const test = (reg: Registration): boolean => {
      if (changed !== undefined && !reg.readsAny(changed)) return reg.seen === mark;
      return reg.matches(rec);
    };
    // A registration is filed under one key (and an entity has one value per key), so each
    // candidate comes up once.
    const next: Registration[] = [];
    const labels = entity.labels;
    for (const key of Object.keys(labels)) {
      const byValue = this.byValue.get(key);
      if (byValue !== undefined) {
        const regs = byValue.get(labels[key] as string);
        if (regs !== undefined) for (const reg of regs) if (test(reg)) next.push(reg);
      }
      const byKey = this.byKey.get(key);
      if (byKey !== undefined) for (const reg of byKey) if (test(reg)) next.push(reg);
    }
    for (const reg of this.unindexed) if (test(reg)) next.push(reg);

    rec.matches = next;
    const stopped: Registration[] = [];
    const started: Registration[] = [];
    const continuing: Registration[] = [];
    // Old matches carry `mark`; those found again move to `-mark`; what keeps `mark` stopped.
    for (const reg of next) {
      if (reg.seen === mark) {
        reg.seen = -mark;
        if (payloadChanged) continuing.push(reg);
        continue;
      }
      reg.members.add(rec);
      started.push(reg);
    }
    for (const reg of old) {
      if (reg.seen !== mark) continue;
      reg.members.delete(rec);
      stopped.push(reg);
    }
    if (previous !== undefined) {
      for (const reg of stopped) if (reg.alive) reg.observer.onMatchStopped(previous);
      for (const reg of continuing) if (reg.alive) reg.observer.onMatchUpdated(previous, entity);
    }
    for (const reg of started) if (reg.alive) reg.observer.onMatchStarted(entity);
  }

  removeEntity(id: string): void {
    const rec = this.entities.get(id);
    if (rec === undefined) return;
    this.entities.delete(id);
    this.removePostings(rec, rec.entity.labels);
    const regs = rec.matches;
    rec.matches = [];
    for (const reg of regs) reg.members.delete(rec);
    for (const reg of regs) if (reg.alive) reg.observer.onMatchStopped(rec.entity);
  }

  /**
   * The cheapest restriction to file a selector under: the key whose required values are held
   * by the fewest entities now (ties, as when selectors arrive before entities, go to narrow
   * keys), else a key it requires present, else nowhere in particular (tested on every update).
   */
  private place(restrictions: ReadonlyMap<string, LabelRestriction>): Placement {
    let best: Placement = { kind: 'all' };
    let bestScore = Infinity;
    for (const [key, r] of restrictions) {
      if (r.mustBePresent && r.mustBeAbsent) return { kind: 'never' };
      const penalty = BROAD_KEYS.has(key) ? BROAD_PENALTY : 0;
      if (r.mustHaveOneOf !== undefined) {
        if (r.mustHaveOneOf.length === 0) return { kind: 'never' };
        let score = penalty + r.mustHaveOneOf.length;
        const counts = this.postings.get(key)?.values;
        if (counts !== undefined) for (const v of r.mustHaveOneOf) score += counts.get(v)?.size ?? 0;
        if (score < bestScore) {
          bestScore = score;
          best = { kind: 'values', key, values: r.mustHaveOneOf };
        }
      } else if (r.mustBePresent) {
        const score = penalty + HAS_PENALTY + (this.postings.get(key)?.count ?? 0);
        if (score < bestScore) {
          bestScore = score;
          best = { kind: 'key', key };
        }
      }
    }
    return best;
  }

  private addPostings(rec: EntityRecord, labels: Labels): void {
    for (const key of Object.keys(labels)) this.addPosting(rec, key, labels[key] as string);
  }

  /** Moves the entity's postings for the changed keys only. */
  private movePostings(rec: EntityRecord, before: Labels, after: Labels, keys: readonly string[]): void {
    for (const key of keys) {
      const old = before[key];
      const now = after[key];
      if (typeof old === 'string') this.removePosting(rec, key, old);
      if (typeof now === 'string') this.addPosting(rec, key, now);
    }
  }

  private addPosting(rec: EntityRecord, key: string, value: string): void {
    let p = this.postings.get(key);
    if (p === undefined) {
      p = { count: 0, values: new Map() };
      this.postings.set(key, p);
    }
    getOrCreate(p.values, value, newSet).add(rec);
    p.count++;
  }

  private removePosting(rec: EntityRecord, key: string, value: string): void {
    const p = this.postings.get(key);
    if (p === undefined) return;
    deleteFromBucket(p.values, value, rec);
    if (--p.count === 0) this.postings.delete(key);
  }

  private removePostings(rec: EntityRecord, labels: Labels): void {
    for (const key of Object.keys(labels)) this.removePosting(rec, key, labels[key] as string);
  }
}

function newSet<T>(): Set<T> {
  return new Set();
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = create();
    map.set(key, v);
  }
  return v;
}

function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i < 0) return;
  list[i] = list[list.length - 1] as T;
  list.pop();
}

function deleteFromBucket<K, T>(map: Map<K, Set<T>> | undefined, key: K, item: T): void {
  const bucket = map?.get(key);
  if (bucket === undefined) return;
  bucket.delete(item);
  if (bucket.size === 0) map?.delete(key);
}

/** The keys whose value differs (present on one side only, or with another value). */
function changedKeys(a: Labels, b: Labels): string[] {
  if (a === b) return [];
  const out: string[] = [];
  for (const k of Object.keys(a)) if (a[k] !== b[k] || !Object.hasOwn(b, k)) out.push(k);
  for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) out.push(k);
  return out;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
  return true;
}
