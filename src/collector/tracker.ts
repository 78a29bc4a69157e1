// Connection state between flushes: what each conntrack entry has done since it was last reported.
// Events say when a connection starts and ends (so short ones are never missed); table snapshots
// give the counters of long ones as they go, so each bucket gets its own share of the bytes.
import type { ConnEvent, ConnSnapshot, ConnTuple, Counters } from './events.js';

/** What one connection did in the bucket being closed. */
export interface ConnActivity {
  readonly id: number;
  readonly tuple: ConnTuple;
  readonly mark: number;
  readonly started: boolean;
  readonly completed: boolean;
  readonly delta: Counters;
}

interface Tracked {
  tuple: ConnTuple;
  mark: number;
  reported: Counters;
  latest: Counters;
  started: boolean;
  completed: boolean;
  /** Snapshots in a row that did not list it (a missed destroy event ends it after two). */
  missing: number;
}

const ZERO: Counters = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0 };

const minus = (a: Counters, b: Counters): Counters => ({
  packetsOut: Math.max(0, a.packetsOut - b.packetsOut),
  bytesOut: Math.max(0, a.bytesOut - b.bytesOut),
  packetsIn: Math.max(0, a.packetsIn - b.packetsIn),
  bytesIn: Math.max(0, a.bytesIn - b.bytesIn),
});

const isZero = (c: Counters): boolean => c.packetsOut === 0 && c.packetsIn === 0 && c.bytesOut === 0 && c.bytesIn === 0;

export class ConnTracker {
  private readonly conns = new Map<number, Tracked>();
  private snapshots = 0;

  get size(): number {
    return this.conns.size;
  }

  onEvent(e: ConnEvent): void {
    const known = this.conns.get(e.id);
    if (e.kind === 'new') {
      if (known === undefined) this.conns.set(e.id, { tuple: e.tuple, mark: e.mark, reported: ZERO, latest: ZERO, started: true, completed: false, missing: 0 });
      return;
    }
    // A destroy for a connection we never saw start (it predates the collector): count what it did.
    const t = known ?? { tuple: e.tuple, mark: e.mark, reported: ZERO, latest: ZERO, started: false, completed: false, missing: 0 };
    t.latest = e.counters;
    t.mark = e.mark || t.mark;
    t.completed = true;
    this.conns.set(e.id, t);
  }

  /** A full table dump: current counters of live connections; those absent twice are forgotten. */
  onSnapshot(entries: readonly ConnSnapshot[]): void {
    const seen = new Set<number>();
    for (const s of entries) {
      seen.add(s.id);
      const t = this.conns.get(s.id);
      if (t === undefined) {
        if (this.snapshots === 0) {
          // In the first snapshot: older than the collector; its past is not this bucket's.
          this.conns.set(s.id, { tuple: s.tuple, mark: s.mark, reported: s.counters, latest: s.counters, started: false, completed: false, missing: 0 });
        } else {
          // Absent from the previous snapshot and never announced: its NEW event was lost. It
          // started since, so it counts as started, from zero.
          this.conns.set(s.id, { tuple: s.tuple, mark: s.mark, reported: ZERO, latest: s.counters, started: true, completed: false, missing: 0 });
        }
      } else if (!t.completed) {
        t.latest = s.counters;
        t.mark = s.mark || t.mark;
        t.missing = 0;
      }
    }
    for (const [id, t] of this.conns) {
      if (seen.has(id) || t.completed) continue;
      if (++t.missing >= 2) t.completed = true;
    }
    this.snapshots++;
  }

  /** What every connection did since the last drain; completed connections are then forgotten. */
  drain(): ConnActivity[] {
    const out: ConnActivity[] = [];
    for (const [id, t] of this.conns) {
      const delta = minus(t.latest, t.reported);
      if (t.started || t.completed || !isZero(delta)) {
        out.push({ id, tuple: t.tuple, mark: t.mark, started: t.started, completed: t.completed, delta });
      }
      t.reported = t.latest;
      t.started = false;
      if (t.completed) this.conns.delete(id);
    }
    return out;
  }
}
