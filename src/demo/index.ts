// The demo: `margay up --demo` fills the control plane with a small storefront cluster and real
// (live lab) or recorded traffic, for the console to show. See docs/console.md.
export { prepareDemo, type DemoMode, type DemoOptions, type DemoStartContext, type PreparedDemo } from './demo.js';
export { checkLive, LIVE_REQUIREMENTS, type LiveCheck } from './environment.js';
export { DEMO_DIR, RECORDED_FILE, loadDemoManifests, demoSnapshot, recordDemo, readRecording, recordingText, writeRecording, bucketAt, type RecordedFlows, type DemoManifests } from './fixture.js';
export { FlowReplayStore, flowGraph, flowFilter, countsForGraph, graphNodeId, FlowQueryError } from './flow-replay.js';
export { attribute, flowLogsFor, type Attribution } from './attribution.js';
export { recordFlows, endpointOf, INTERNET_ADDRESS } from './recorder.js';
export { DEMO_TRAFFIC, INTERNET, type TrafficRoute } from './traffic.js';
