// Flow collection in the agent: conntrack events and NFLOG'd denies from the node's kernel,
// attributed to tier/policy/rule and enriched with endpoints, aggregated in buckets and shipped
// to the API in batches.
export { FlowCollector, parseDenyPrefix, protoName, type CollectorOptions, type CollectorStats } from './collector.js';
export { ClusterView, hitsOf, type KernelRule, type Explanation } from './cluster-view.js';
export { FlowAggregator, aggregateEndpoint, AGGREGATION_LEVELS, type AggregationLevel, type FlowHalf } from './aggregate.js';
export { FlowShipper, type ShipperOptions, type ShipperStats } from './shipper.js';
export { ConnTracker, type ConnActivity } from './tracker.js';
export { parseUlogdLine, parseConntrackLine, type ConnEvent, type ConnSnapshot, type ConnTuple, type Counters, type DeniedPacket } from './events.js';
export { UlogdSource, ULOGD_BINARY, collectionUnavailable, dumpConntrack, enableAccounting, ulogdConfig, ulogdPluginDir } from './kernel.js';
export { startNodeCollection, FLOW_BATCH_PATH, type NodeCollection, type NodeCollectionOptions } from './node.js';
