// Public surface of the lab module: a local cluster made of `mgy-` network namespaces (nodes,
// pods, an "internet"), with real probes whose matrix has the shape of `simulate --matrix`.
export {
  labUp,
  labApply,
  labProbe,
  labMatrix,
  labDown,
  labDelete,
  type LabDeleteTarget,
  type LabDeleteReport,
  DEFAULT_LAB_DIR,
  NO_AGENT_NOTICE,
  type LabUpOptions,
  type RawManifest,
  type AgentContext,
  type AgentLauncher,
  type ProbeOutcome,
  type ProbeProtocol,
  type DownReport,
  type Log,
} from './lab.js';
export { planLab, placePods, poolsOf, netnsName, podInterface, DEFAULT_POOL, INTERNET_IP, POD_GATEWAY, type LabLayout, type LabNode, type LabPod, type DecodedInput } from './topology.js';
export { loadState, type LabState, type LabProcess } from './state.js';
export { listLabNamespaces, LAB_PREFIX } from './netns.js';
