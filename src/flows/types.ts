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
