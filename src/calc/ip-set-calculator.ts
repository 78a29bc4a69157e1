// Reference-counted IP sets: a set exists while some active policy or profile rule uses it. Its
// members come from the label index (every entity its selector matches, on any node), each
// member counted once per entity that contributes it, so shared addresses come and go correctly.
import type { Entity } from '../policy/index.js';
import type { EventSequencer } from './event-sequencer.js';
import type { LabelIndex, MatchObserver, Registration } from './label-index.js';
import { entitySetMembers, type IpSetDefinition } from './rule-sets.js';
import type { IpSetSpec } from './types.js';

class IpSet implements MatchObserver {
  refs = 0;
  registration: Registration | undefined;
  readonly members = new Map<string, number>();
  private readonly scratch: string[] = [];

  constructor(
    readonly def: IpSetDefinition,
    private readonly sequencer: EventSequencer,
  ) {}

  get id(): string {
    return this.def.spec.id;
  }

  onMatchStarted(entity: Entity): void {
    for (const m of this.membersOf(entity)) this.add(m);
  }

  onMatchStopped(entity: Entity): void {
    for (const m of this.membersOf(entity)) this.remove(m);
  }

  onMatchUpdated(previous: Entity, next: Entity): void {
    // Add first, so a member both versions contribute never drops to zero.
    for (const m of this.membersOf(next)) this.add(m);
    for (const m of this.membersOf(previous)) this.remove(m);
  }

  // One scratch list: callers finish iterating before asking again, and nothing re-enters.
  private membersOf(entity: Entity): string[] {
    const out = this.scratch;
    out.length = 0;
    entitySetMembers(this.def, entity, out);
    return out;
  }

  private add(member: string): void {
    const n = this.members.get(member) ?? 0;
    this.members.set(member, n + 1);
    if (n === 0) this.sequencer.ipSetMemberAdded(this.id, member);
  }

  private remove(member: string): void {
    const n = this.members.get(member);
    if (n === undefined) return;
    if (n > 1) {
      this.members.set(member, n - 1);
      return;
    }
    this.members.delete(member);
    this.sequencer.ipSetMemberRemoved(this.id, member);
  }
}

export class IpSetCalculator {
  private readonly sets = new Map<string, IpSet>();
  private readonly dirty = new Set<IpSet>();

  constructor(
    private readonly index: LabelIndex,
    private readonly sequencer: EventSequencer,
  ) {}

  /** Sets known (after a flush: exactly those with a reference, all computed). */
  get count(): number {
    return this.sets.size;
  }

  addRef(def: IpSetDefinition): void {
    let set = this.sets.get(def.spec.id);
    if (set === undefined) {
      set = new IpSet(def, this.sequencer);
      this.sets.set(def.spec.id, set);
    }
    set.refs++;
    this.dirty.add(set);
  }

  removeRef(id: string): void {
    const set = this.sets.get(id);
    if (set === undefined) return;
    set.refs--;
    this.dirty.add(set);
  }

  /**
   * Creates sets that gained their first reference and drops those that lost their last. Runs
   * at flush, outside any index callback, so registering with the index is safe here.
   */
  settle(): void {
    for (const set of this.dirty) {
      if (set.refs > 0 && set.registration === undefined) {
        this.sequencer.ipSetCreated(set.id);
        set.registration = this.index.register(set.def.selector, false, set);
      } else if (set.refs <= 0) {
        if (set.registration !== undefined) {
          this.sequencer.ipSetDestroyed(set.id);
          this.index.unregister(set.registration, false);
          set.registration = undefined;
        }
        this.sets.delete(set.id);
      }
    }
    this.dirty.clear();
  }

  ipSet(id: string): { readonly spec: IpSetSpec; members(): Iterable<string> } | undefined {
    const set = this.sets.get(id);
    if (set === undefined || set.registration === undefined) return undefined;
    return { spec: set.def.spec, members: () => set.members.keys() };
  }
}
