// The alert engine: keeps the Alert objects of the datastore in memory (list, then watch), is
// told of every audit batch as soon as it is durably written, records each match as a fired
// alert and hands it to the webhook sender. Nothing here blocks a request: matching runs after
// the audit write, delivery in the background.
import { RESOURCE_TYPES } from '../api/index.js';
import type { Auditor, AuditEvent, StoredAuditEvent } from '../audit/index.js';
import type { Alert } from '../resources/index.js';
import type { Disposable, Store } from '../store/index.js';
import { matchesAuditCondition, type KindTable } from './condition.js';
import type { FiredAlert, FiringStore } from './firings.js';
import type { WebhookSender } from './webhook.js';

export const ALERT_PREFIX = '/registry/alerts.margay.io/alerts/';
export const ALERT_GROUP = 'alerts.margay.io';

export function kindTable(): KindTable {
  const table = new Map<string, { group: string; plural: string }[]>();
  for (const t of RESOURCE_TYPES) table.set(t.kind, [...(table.get(t.kind) ?? []), { group: t.group, plural: t.plural }]);
  return table;
}

/** What the webhook receives. */
export function firedAlertObject(f: FiredAlert, alert?: Alert): Record<string, unknown> {
  return {
    apiVersion: `${ALERT_GROUP}/v1`,
    kind: 'FiredAlert',
    metadata: { name: `${f.alert}-${f.id}`, creationTimestamp: f.firedAt },
    alert: { name: f.alert, severity: f.severity, ...(alert?.spec.description !== undefined ? { description: alert.spec.description } : {}) },
    firedAt: f.firedAt,
    event: f.event,
    status: { delivery: f.delivery },
  };
}

export interface AlertEngineOptions {
  readonly store: Store;
  readonly auditor: Auditor;
  readonly firings: FiringStore;
  readonly sender: WebhookSender;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
}

export class AlertEngine {
  private readonly alerts = new Map<string, Alert>();
  private readonly kinds = kindTable();
  private watch: Disposable | undefined;
  private sub: { dispose(): void } | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: AlertEngineOptions) {}

  async start(): Promise<void> {
    const listed = await this.o.store.list({ prefix: ALERT_PREFIX });
    for (const item of listed.items) this.set(item.value);
    this.watch = await this.o.store.watch({
      prefix: ALERT_PREFIX,
      fromRevision: listed.revision,
      onEvent: (ev) => (ev.type === 'DELETED' ? this.alerts.delete(nameOf(ev.value)) : this.set(ev.value)),
      onError: (err) => this.o.log?.(`margay alerts: the watch of Alert objects ended: ${err.message}`),
    });
    this.sub = this.o.auditor.subscribe((batch) => this.onAuditBatch(batch));
    // Deliveries cut short by a restart resume (to the URL recorded when they fired).
    for (const f of this.o.firings.pending()) this.deliver(f, this.alerts.get(f.alert));
  }

  private set(value: Readonly<Record<string, unknown>>): void {
    this.alerts.set(nameOf(value), value as unknown as Alert);
  }

  /** Matches each event against every enabled alert (a handful of alerts, so a plain loop). */
  onAuditBatch(batch: readonly StoredAuditEvent[]): void {
    for (const { event } of batch) {
      for (const alert of this.alerts.values()) {
        if (alert.spec.disabled === true) continue;
        if (matchesAuditCondition(alert.spec.condition.audit, event, this.kinds)) this.fire(alert, event);
      }
    }
  }

  private fire(alert: Alert, event: AuditEvent): void {
    const url = alert.spec.destination.webhook.url;
    this.deliver(this.o.firings.record(alert.metadata.name, alert.spec.severity, (this.o.clock?.() ?? new Date()).toISOString(), event, url), alert);
  }

  private deliver(fired: FiredAlert, alert: Alert | undefined): void {
    const url = fired.delivery.url;
    const before = fired.delivery.attempts;
    const p = this.o.sender
      .send(url, firedAlertObject(fired, alert), (attempt, error) => this.o.firings.setDelivery(fired.id, 'pending', before + attempt, error, undefined))
      .then((outcome) => {
        // A shutdown is not a failure: the firing stays pending and resumes on the next start.
        if (!outcome.delivered && outcome.lastError?.includes('shutting down') === true) return;
        this.o.firings.setDelivery(fired.id, outcome.delivered ? 'delivered' : 'failed', before + outcome.attempts, outcome.lastError, outcome.delivered ? (this.o.clock?.() ?? new Date()).toISOString() : undefined);
        if (!outcome.delivered) this.o.log?.(`margay alerts: alert ${fired.alert} could not be delivered to ${url} after ${before + outcome.attempts} attempts: ${outcome.lastError ?? ''}`);
      })
      .catch((err: unknown) => this.o.log?.(`margay alerts: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Stops matching, cancels pending retries and waits for attempts under way. */
  async close(): Promise<void> {
    this.sub?.dispose();
    this.watch?.dispose();
    this.o.sender.close();
    await Promise.allSettled([...this.inFlight]);
  }
}

function nameOf(v: Readonly<Record<string, unknown>>): string {
  const meta = v.metadata as { name?: unknown } | undefined;
  return typeof meta?.name === 'string' ? meta.name : '';
}
