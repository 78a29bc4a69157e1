// The flow log record: one aggregated, attributed flow as an agent reports it and the store keeps it.
// Field names follow Calico's flow logs (camelCase here) so the meaning carries over.

/** What an endpoint of a flow is: a workload endpoint (pod), host endpoint, network set, or a plain network. */
export type EndpointType = 'wep' | 'hep' | 'ns' | 'net';

export type FlowAction = 'allow' | 'deny';
export type FlowReporter = 'src' | 'dst';

/** One side of a flow. Fields that an aggregation level hides are '-' (strings) or omitted. */
export interface FlowEndpoint {
  readonly type: EndpointType;
  /** Namespace of the pod or namespaced network set; '-' for global ones and plain networks. */
  readonly namespace: string;
  /** Pod / host endpoint / network set name; '-' when aggregated away or for plain networks. */
  readonly name: string;
  /** Workload prefix (owner: the pod's generateName or app label), the network set name, or 'pub'/'pvt' for plain networks. */
  readonly nameAggr: string;
  /** Labels of the pod (or network set) at the time of the flow; {} when unknown. */
  readonly labels: Readonly<Record<string, string>>;
  /** '-' when aggregated away. */
  readonly ip: string;
  /** Source port is usually aggregated away (0); destination port is kept at every level but the coarsest. */
  readonly port: number;
  readonly serviceAccount?: string;
}

/** A policy hit, as Calico prints it: "index|tier|name|action|ruleIndex" (ruleIndex -1 = end of tier / default). */
export type PolicyHit = string;

export interface FlowLog {
  /** Bucket start and end, unix milliseconds. */
  readonly startTime: number;
  readonly endTime: number;
  /** Node whose agent reported this half of the flow. */
  readonly host: string;
  readonly reporter: FlowReporter;
  readonly action: FlowAction;
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | a protocol number as a string. */
  readonly proto: string;
  readonly source: FlowEndpoint;
  readonly dest: FlowEndpoint;
  /** The hit that decided this half: tier, policy (as the evaluator names it), rule index (-1 = end of tier/default). */
  readonly tier: string;
  readonly policy: string;
  readonly ruleIndex: number;
  /** Enforced trace, in evaluation order (Pass hits, then the deciding hit). */
  readonly policies: readonly PolicyHit[];
  /** What staged policies would have done (policy core in user space); absent when no staged policy applies. */
  readonly pendingAction?: FlowAction;
  readonly pendingPolicies?: readonly PolicyHit[];
  /** Counters over the bucket. For denied flows, "in"/"out" count the dropped packets/bytes seen. */
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Connections in the bucket, started in it, and completed in it. */
  readonly numFlows: number;
  readonly numFlowsStarted: number;
  readonly numFlowsCompleted: number;
}

/** What an agent POSTs: a batch of flow logs plus how many it had to drop since the last batch. */
export interface FlowBatch {
  readonly apiVersion: 'flows.margay.io/v1';
  readonly kind: 'FlowBatch';
  readonly host: string;
  readonly logs: readonly FlowLog[];
  /** Records the agent dropped (buffer full) since its previous accepted batch. */
  readonly dropped: number;
}

/** A stored flow log: the record plus the store's id (opaque, increasing in storage order). */
export interface StoredFlowLog extends FlowLog {
  readonly id: string;
}

/**
 * Which flow logs a query wants; every field is optional and they combine with AND. Time is a
 * closed window over bucket overlap: a log matches when `startTime <= to && endTime >= from`.
 */
export interface FlowFilter {
  readonly from: number;
  readonly to: number;
  /** The namespace of a namespaced URL: either side in it (a namespace owner's view). */
  readonly scopeNamespace?: string;
  /** Either side in this namespace. */
  readonly namespace?: string;
  readonly srcNamespace?: string;
  readonly dstNamespace?: string;
  /** `NAME` or `NS/NAME`: a pod on either side. */
  readonly pod?: string;
  /** Endpoint name or `nameAggr` of one side. */
  readonly srcName?: string;
  readonly dstName?: string;
  /** Calico selectors over either side's labels / one side's labels. */
  readonly selector?: string;
  readonly srcSelector?: string;
  readonly dstSelector?: string;
  readonly action?: FlowAction;
  /** The deciding policy or any policy in the enforced trace: full name (`ns/name`, `tier.name`) or bare name. */
  readonly policy?: string;
  readonly tier?: string;
  /** Destination port. */
  readonly port?: number;
  readonly proto?: string;
  readonly reporter?: FlowReporter;
  readonly host?: string;
  readonly pendingAction?: FlowAction;
}

export interface FlowListQuery extends FlowFilter {
  /** Page size (the store caps it at MAX_FLOW_LIMIT). */
  readonly limit: number;
  /** Opaque token from the previous page's `continue`. */
  readonly continue?: string;
  /** Only logs stored after this id, oldest first (following). */
  readonly afterId?: string;
}

export interface FlowListResult {
  /** Newest first; oldest first for `afterId` queries. */
  readonly items: readonly StoredFlowLog[];
  /** Set when there may be more items: pass it back as `continue`. */
  readonly continue?: string;
  /** Where a follower resumes (`afterId`): every log up to here has been considered. */
  readonly lastId: string;
}

export type FlowTopBy = 'bytes' | 'packets' | 'flows' | 'denied';
export type FlowTopGroup = 'pair' | 'source' | 'dest';

export interface FlowTopQuery extends FlowFilter {
  readonly by: FlowTopBy;
  readonly group: FlowTopGroup;
  readonly limit: number;
}

/** A workload-level endpoint (what top and graph group by). */
export interface FlowWorkload {
  readonly type: EndpointType;
  readonly namespace: string;
  readonly nameAggr: string;
}

export interface FlowTopItem {
  /** Absent when grouping by destination only. */
  readonly source?: FlowWorkload;
  /** Absent when grouping by source only. */
  readonly dest?: FlowWorkload;
  readonly packets: number;
  readonly bytes: number;
  readonly numFlows: number;
  /** Connections (numFlows) of denied logs. */
  readonly denied: number;
}

export interface FlowGraphNode {
  /** `type/namespace/nameAggr` */
  readonly id: string;
  readonly type: EndpointType;
  readonly namespace: string;
  readonly name: string;
  /** Labels every seen endpoint of the workload shares. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface FlowGraphEdge {
  /** `sourceId>targetId` */
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** Connections (numFlows) allowed and denied. */
  readonly allowed: number;
  readonly denied: number;
  readonly bytes: number;
  readonly packets: number;
  /** `proto/port`, sorted. */
  readonly ports: readonly string[];
  /** Distinct enforced policy hits, sorted. */
  readonly policies: readonly PolicyHit[];
}

export interface FlowGraph {
  readonly nodes: readonly FlowGraphNode[];
  readonly edges: readonly FlowGraphEdge[];
}

export interface FlowRetention {
  /** Drop logs whose bucket ended before now - maxAgeMs. */
  readonly maxAgeMs?: number;
  /** Keep at most this many logs (oldest go first). */
  readonly maxRows?: number;
  /** Keep the store's used size at most this (oldest go first). */
  readonly maxBytes?: number;
}

export interface FlowPruneResult {
  readonly deleted: number;
}

export interface FlowStoreStats {
  readonly rows: number;
  /** Bytes the store uses (on disk for SQLite, 0 for memory). */
  readonly bytes: number;
  readonly lastId: string;
  readonly oldestStartTime?: number;
  readonly newestEndTime?: number;
  /** Batches and records appended since the store opened, and records agents reported dropping. */
  readonly batches: number;
  readonly records: number;
  readonly droppedByAgents: number;
}

/**
 * Where flow logs live. Written so that a distributed analytics store (ClickHouse, Elasticsearch…)
 * could implement it: every call is async, ids and continue tokens are opaque strings.
 */
export interface FlowStore {
  /** Stores every log of the batch, or none (one transaction); resolves once committed. */
  append(batch: FlowBatch): Promise<{ readonly accepted: number }>;
  list(query: FlowListQuery): Promise<FlowListResult>;
  top(query: FlowTopQuery): Promise<readonly FlowTopItem[]>;
  graph(filter: FlowFilter): Promise<FlowGraph>;
  /** Applies retention now (`now` in unix ms) and says how many logs went. */
  prune(retention: FlowRetention, now: number): Promise<FlowPruneResult>;
  stats(): Promise<FlowStoreStats>;
  close(): Promise<void>;
}

export const DEFAULT_FLOW_LIMIT = 1000;
export const MAX_FLOW_LIMIT = 10_000;
