// The nftables edge: applies the ruleset `dataplane/` renders, in a network namespace or the
// current one, through `nft -f -` transactions; reads it back to repair drift.
//
//   const applier = new NftApplier({ netns: 'mgy-lab-node1', render: { tableName: 'margay',
//     podInterfacePrefix: 'mgy', logGroup: 1, interfaceOf: (ep) => ifaces.get(ep.id) } });
//   applier.onUpdate(recorder.state);   // no I/O
//   await applier.apply();              // one transaction; failures stay dirty and retry whole
//   await applier.resync();             // periodic: read back, repair, no write when unchanged
//   applier.ruleIds.entries()           // the rule-id table (ct mark: egress<<16 | ingress)
export { NftApplier, parseReadback, type NftApplierOptions, type NftApplierStats, type ApplyResult, type ResyncResult, type AdoptionRecord } from './applier.js';
export { nftRunner, run, type NftRunner, type NftRunResult, type NftRunnerOptions } from './runner.js';
export { createNetns, deleteNetns, netnsExec, randomNetnsName, wirePods, must, type Netns, type PodSpec } from './netns.js';
