// Turns requests into audit Events under a policy and hands them to the log in batches: every
// event produced in one turn of the event loop is written in one transaction.
import { randomUUID } from 'node:crypto';
import { DEFAULT_AUDIT_POLICY, evaluatePolicy, type AuditEvent, type AuditLevel, type AuditPolicy, type ObjectReference, type PolicyInput } from './event.js';
import { appendFileSync } from 'node:fs';
import type { AuditLog, StoredAuditEvent } from './log.js';

export interface AuditRequest {
  readonly requestURI: string;
  readonly verb: string;
  readonly user: { name: string; uid?: string; groups: readonly string[] };
  readonly sourceIP: string;
  readonly userAgent?: string;
  readonly objectRef?: ObjectReference;
  readonly policyInput: PolicyInput;
}

export interface AuditHandle {
  readonly level: AuditLevel;
  /** Records the request body (kept at Request and RequestResponse levels). */
  setRequestObject(body: unknown): void;
  /** Records the response: status code, a Status for failures, the body at RequestResponse. */
  complete(code: number, body: unknown): void;
}

export type AuditListener = (events: readonly StoredAuditEvent[]) => void;

export class Auditor {
  private pending: AuditEvent[] = [];
  private scheduled = false;
  private readonly listeners = new Set<AuditListener>();

  constructor(
    readonly log: AuditLog,
    private readonly policy: AuditPolicy = DEFAULT_AUDIT_POLICY,
    private readonly clock: () => Date = () => new Date(),
    private readonly onError: (err: unknown) => void = () => undefined,
    /** Also append each event as one JSON line to this file (--audit-log-path), for log pipelines. */
    private readonly jsonLinesPath?: string,
  ) {}

  /** Called with every batch once it is durably written (streams, alerts). */
  subscribe(listener: AuditListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  begin(r: AuditRequest): AuditHandle | undefined {
    const { level, omitStages } = evaluatePolicy(this.policy, r.policyInput);
    if (level === 'None') return undefined;
    const received = this.clock().toISOString();
    const base: AuditEvent = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID: randomUUID(),
      stage: 'RequestReceived',
      requestURI: r.requestURI,
      verb: r.verb,
      user: { username: r.user.name, ...(r.user.uid !== undefined ? { uid: r.user.uid } : {}), groups: [...r.user.groups] },
      sourceIPs: [r.sourceIP],
      ...(r.userAgent !== undefined ? { userAgent: r.userAgent } : {}),
      ...(r.objectRef !== undefined ? { objectRef: r.objectRef } : {}),
      requestReceivedTimestamp: received,
      stageTimestamp: received,
    };
    if (!omitStages.includes('RequestReceived')) this.push(base);
    let requestObject: unknown;
    let done = false;
    return {
      level,
      setRequestObject: (body) => {
        if (level === 'Request' || level === 'RequestResponse') requestObject = body;
      },
      complete: (code, body) => {
        if (done || omitStages.includes('ResponseComplete')) return;
        done = true;
        const status = isStatus(body) ? body : undefined;
        // A create names its object only in the response (as the apiserver fills objectRef.name).
        const created = status === undefined && base.objectRef !== undefined && base.objectRef.name === undefined ? nameOf(body) : undefined;
        const event: AuditEvent = {
          ...base,
          ...(created !== undefined && base.objectRef !== undefined ? { objectRef: { ...base.objectRef, name: created } } : {}),
          stage: 'ResponseComplete',
          stageTimestamp: this.clock().toISOString(),
          responseStatus: {
            metadata: {},
            code,
            ...(status?.status !== undefined ? { status: status.status } : {}),
            ...(status?.reason !== undefined ? { reason: status.reason } : {}),
            ...(status?.message !== undefined ? { message: status.message } : {}),
          },
          ...(requestObject !== undefined ? { requestObject } : {}),
          ...(level === 'RequestResponse' && body !== undefined && status === undefined ? { responseObject: body } : {}),
          ...(level === 'RequestResponse' && status !== undefined ? { responseObject: status } : {}),
        };
        this.push(event);
      },
    };
  }

  private push(e: AuditEvent): void {
    this.pending.push(e);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes what is pending now (also called on close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    let stored: StoredAuditEvent[];
    try {
      stored = this.log.append(batch);
    } catch (err) {
      this.onError(err);
      return;
    }
    if (stored.length === 0) return;
    if (this.jsonLinesPath !== undefined) {
      try {
        appendFileSync(this.jsonLinesPath, stored.map((s) => `${JSON.stringify(s.event)}\n`).join(''));
      } catch (err) {
        this.onError(err);
      }
    }
    for (const l of this.listeners) {
      try {
        l(stored);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  close(): void {
    this.flush();
    this.log.close();
  }
}

function nameOf(body: unknown): string | undefined {
  const meta = typeof body === 'object' && body !== null ? (body as { metadata?: { name?: unknown } }).metadata : undefined;
  return typeof meta?.name === 'string' && meta.name !== '' ? meta.name : undefined;
}

function isStatus(v: unknown): v is { kind: 'Status'; status?: string; reason?: string; message?: string } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}
