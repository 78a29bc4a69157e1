// Public surface of the node agent: watch the API → calc engine (one node) → nftables in the
// node's namespace, with readiness and the applied revision reported on the Node. ./DESIGN.md.
export { runAgent, WATCHED_KINDS, ANNOTATION_READY, ANNOTATION_REVISION, TABLE_NAME, type AgentRunOptions } from './run.js';
export { NodeAgent, revisionAtLeast, realTimers, type AgentDataplane, type AgentTimers, type AppliedReport, type NodeAgentOptions } from './node-agent.js';
export { InterfaceMap, type InterfaceMapFile } from './interfaces.js';
export { superviseAgent, RESTART_FLAG, type SuperviseOptions } from './supervise.js';
