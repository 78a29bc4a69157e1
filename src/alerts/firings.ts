// Fired alerts, kept in SQLite (DIR/alerts.db) with their delivery state, so `margay alerts` and
// the API list them after a restart and an undelivered webhook is visible as such.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent } from '../audit/index.js';

export const ALERTS_DB_FILE = 'alerts.db';

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface FiredAlert {
  readonly id: number;
  readonly alert: string;
  readonly severity: string;
  readonly firedAt: string;
  readonly event: AuditEvent;
  readonly delivery: { state: DeliveryState; attempts: number; lastError?: string; deliveredAt?: string; url: string };
}

export interface FiringQuery {
  readonly alert?: string;
  readonly since?: Date;
  readonly limit?: number;
}

interface Row {
  id: number;
  alert: string;
  severity: string;
  fired_at: string;
  event: string;
  url: string;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
}

export class FiringStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS firings (
        id INTEGER PRIMARY KEY AUTOINCREMENT, alert TEXT NOT NULL, severity TEXT NOT NULL, fired_at TEXT NOT NULL,
        event TEXT NOT NULL, url TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, delivered_at TEXT);
      CREATE INDEX IF NOT EXISTS firings_alert ON firings(alert, fired_at);
      CREATE INDEX IF NOT EXISTS firings_time ON firings(fired_at);
    `);
  }

  record(alert: string, severity: string, firedAt: string, event: AuditEvent, url: string): FiredAlert {
    const r = this.db.prepare('INSERT INTO firings (alert, severity, fired_at, event, url, state) VALUES (?, ?, ?, ?, ?, ?)').run(alert, severity, firedAt, JSON.stringify(event), url, 'pending');
    return { id: Number(r.lastInsertRowid), alert, severity, firedAt, event, delivery: { state: 'pending', attempts: 0, url } };
  }

  setDelivery(id: number, state: DeliveryState, attempts: number, lastError: string | undefined, deliveredAt: string | undefined): void {
    this.db.prepare('UPDATE firings SET state = ?, attempts = ?, last_error = ?, delivered_at = ? WHERE id = ?').run(state, attempts, lastError ?? null, deliveredAt ?? null, id);
  }

  list(q: FiringQuery = {}): FiredAlert[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.alert !== undefined) {
      where.push('alert = ?');
      args.push(q.alert);
    }
    if (q.since !== undefined) {
      where.push('fired_at >= ?');
      args.push(q.since.toISOString());
    }
    const sql = `SELECT * FROM firings ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.floor(q.limit ?? 1000)}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => ({
      id: r.id,
      alert: r.alert,
      severity: r.severity,
      firedAt: r.fired_at,
      event: JSON.parse(r.event) as AuditEvent,
      delivery: { state: r.state, attempts: r.attempts, url: r.url, ...(r.last_error !== null ? { lastError: r.last_error } : {}), ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at } : {}) },
    }));
  }

  /** Firings whose delivery never finished (the server stopped while retrying), oldest first. */
  pending(): FiredAlert[] {
    return this.list({ limit: 10_000 }).filter((f) => f.delivery.state === 'pending').reverse();
  }

  close(): void {
    this.db.close();
  }
}
