// Public surface of the flows module: the flow log record, the FlowStore interface with its
// memory and SQLite implementations, query semantics, and the HTTP API extension.
export * from './types.js';
export { MemoryFlowStore } from './memory-store.js';
export { SqliteFlowStore, FLOWS_DB_FILE, type SqliteFlowStoreOptions } from './sqlite-store.js';
export { matchesFilter, endpointMatchers, policyNameMatches, workloadId } from './query.js';
export { validateFlowBatch, type BatchProblem } from './validate.js';
export { IngestQueue, type IngestQueueOptions } from './ingest-queue.js';
export { createFlowsApi, parseFlowFilter, parseTime, FLOWS_GROUP, FLOWS_API_VERSION, type FlowsApi, type FlowsApiOptions } from './http.js';
export { syntheticFlowLogs, type SyntheticFlowOptions } from './synthetic.js';
