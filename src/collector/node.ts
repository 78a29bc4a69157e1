// Flow collection for one node, assembled: the cluster view fed by the agent's informers, ulogd2
// and conntrack snapshots in the node's namespace, the collector, and the shipper to the API.
// When the kernel tools are missing the agent still enforces; it says once why flows are off.
import type { FlowBatch } from '../flows/index.js';
import type { AggregationLevel } from './aggregate.js';
import { ClusterView, type KernelRule } from './cluster-view.js';
import { FlowCollector } from './collector.js';
import { collectionUnavailable, dumpConntrack, enableAccounting, UlogdSource } from './kernel.js';
import { FlowShipper } from './shipper.js';

export const FLOW_BATCH_PATH = '/apis/flows.margay.io/v1/flowbatches';

export interface NodeCollectionOptions {
  readonly node: string;
  readonly netns?: string;
  readonly nflogGroup?: number;
  readonly flushMs?: number;
  readonly allowedLevel?: AggregationLevel;
  readonly deniedLevel?: AggregationLevel;
  readonly ruleOf: (id: number) => KernelRule | undefined;
  readonly post: (batch: FlowBatch) => Promise<{ code: number; retryAfterMs?: number }>;
  readonly log: (line: string) => void;
}

export interface NodeCollection {
  readonly view: ClusterView;
  readonly collector: FlowCollector;
  readonly shipper: FlowShipper;
  stop(): Promise<void>;
}

export async function startNodeCollection(o: NodeCollectionOptions): Promise<NodeCollection | undefined> {
  const missing = collectionUnavailable();
  if (missing !== undefined) {
    o.log(`flow logs off: ${missing}`);
    return undefined;
  }
  await enableAccounting(o.netns);
  const view = new ClusterView(o.log);
  const shipper = new FlowShipper({ host: o.node, post: o.post, log: o.log });
  const collector = new FlowCollector({
    node: o.node,
    view,
    shipper,
    ruleOf: o.ruleOf,
    snapshot: () => dumpConntrack(o.netns),
    log: o.log,
    ...(o.flushMs !== undefined ? { flushMs: o.flushMs } : {}),
    ...(o.allowedLevel !== undefined ? { allowedLevel: o.allowedLevel } : {}),
    ...(o.deniedLevel !== undefined ? { deniedLevel: o.deniedLevel } : {}),
  });
  const ulogd = new UlogdSource({ ...(o.netns !== undefined ? { netns: o.netns } : {}), nflogGroup: o.nflogGroup ?? 1, onEvent: (e) => collector.onKernelEvent(e), log: o.log });
  // The baseline before the subscription, so no connection falls between the two (see baseline()).
  await collector.baseline();
  await ulogd.start();
  collector.start();
  o.log(`flow logs on: ulogd pid ${ulogd.pid ?? '?'}, buckets of ${collector.flushMs} ms`);
  return {
    view,
    collector,
    shipper,
    async stop() {
      await ulogd.stop();
      await collector.stop();
      shipper.close();
    },
  };
}
