// The reference FlowStore: an array in memory, filtered naively. Tests and small tools use it;
// the contract suite holds the SQLite store to the same answers.
import { GraphBuilder, TopBuilder, type AggregateRow } from './aggregate.js';
import { decodeContinue, encodeContinue, endpointMatchers, matchesFilter, parseFlowId } from './query.js';
import {
  MAX_FLOW_LIMIT,
  type FlowBatch,
  type FlowFilter,
  type FlowGraph,
  type FlowListQuery,
  type FlowListResult,
  type FlowLog,
  type FlowPruneResult,
  type FlowRetention,
  type FlowStore,
  type FlowStoreStats,
  type FlowTopItem,
  type FlowTopQuery,
  type StoredFlowLog,
} from './types.js';

export function aggregateRowOf(log: FlowLog): AggregateRow {
  return {
    reporter: log.reporter,
    source: log.source,
    dest: log.dest,
    action: log.action,
    proto: log.proto,
    port: log.dest.port,
    policies: log.policies,
    packets: log.packetsIn + log.packetsOut,
    bytes: log.bytesIn + log.bytesOut,
    numFlows: log.numFlows,
  };
}

export class MemoryFlowStore implements FlowStore {
  private logs: { id: number; log: FlowLog }[] = [];
  private nextId = 1;
  private batches = 0;
  private records = 0;
  private dropped = 0;

  async append(batch: FlowBatch): Promise<{ accepted: number }> {
    for (const log of batch.logs) this.logs.push({ id: this.nextId++, log: structuredClone(log) });
    this.batches++;
    this.records += batch.logs.length;
    this.dropped += batch.dropped;
    return { accepted: batch.logs.length };
  }

  async list(q: FlowListQuery): Promise<FlowListResult> {
    const limit = Math.max(1, Math.min(q.limit, MAX_FLOW_LIMIT));
    const lastId = this.nextId - 1;
    if (q.afterId !== undefined) {
      const after = parseFlowId(q.afterId, 'afterId');
      const m = endpointMatchers(q);
      const items: StoredFlowLog[] = [];
      for (const { id, log } of this.logs) {
        if (id <= after || !matchesFilter(log, q, m)) continue;
        items.push(stored(id, log));
        if (items.length === limit) return { items, lastId: String(id) };
      }
      return { items, lastId: String(Math.max(after, lastId)) };
    }
    const state = q.continue !== undefined ? decodeContinue(q.continue) : { before: Number.MAX_SAFE_INTEGER, from: q.from, to: q.to };
    const f: FlowFilter = { ...q, from: state.from, to: state.to };
    const m = endpointMatchers(f);
    const items: StoredFlowLog[] = [];
    for (let i = this.logs.length - 1; i >= 0; i--) {
      const { id, log } = this.logs[i]!;
      if (id >= state.before || !matchesFilter(log, f, m)) continue;
      if (items.length === limit) return { items, continue: encodeContinue({ ...state, before: Number(items[items.length - 1]!.id) }), lastId: String(lastId) };
      items.push(stored(id, log));
    }
    return { items, lastId: String(lastId) };
  }

  async top(q: FlowTopQuery): Promise<readonly FlowTopItem[]> {
    const b = new TopBuilder(q.group, q.reporter !== undefined);
    const m = endpointMatchers(q);
    for (const { log } of this.logs) if (matchesFilter(log, q, m)) b.add(aggregateRowOf(log));
    return b.result(q.by, q.limit);
  }

  async graph(f: FlowFilter): Promise<FlowGraph> {
    const b = new GraphBuilder(f.reporter !== undefined);
    const m = endpointMatchers(f);
    for (const { log } of this.logs) if (matchesFilter(log, f, m)) b.add(aggregateRowOf(log));
    return b.result();
  }

  async prune(r: FlowRetention, now: number): Promise<FlowPruneResult> {
    const before = this.logs.length;
    if (r.maxAgeMs !== undefined) {
      const cutoff = now - r.maxAgeMs;
      this.logs = this.logs.filter(({ log }) => log.endTime >= cutoff);
    }
    if (r.maxRows !== undefined && this.logs.length > r.maxRows) this.logs = this.logs.slice(this.logs.length - r.maxRows);
    return { deleted: before - this.logs.length };
  }

  async stats(): Promise<FlowStoreStats> {
    let oldest: number | undefined;
    let newest: number | undefined;
    for (const { log } of this.logs) {
      if (oldest === undefined || log.startTime < oldest) oldest = log.startTime;
      if (newest === undefined || log.endTime > newest) newest = log.endTime;
    }
    return {
      rows: this.logs.length,
      bytes: 0,
      lastId: String(this.nextId - 1),
      ...(oldest !== undefined ? { oldestStartTime: oldest } : {}),
      ...(newest !== undefined ? { newestEndTime: newest } : {}),
      batches: this.batches,
      records: this.records,
      droppedByAgents: this.dropped,
    };
  }

  async close(): Promise<void> {
    this.logs = [];
  }
}

function stored(id: number, log: FlowLog): StoredFlowLog {
  return { ...structuredClone(log), id: String(id) };
}
