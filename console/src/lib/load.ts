// Loading what the pages show: the cluster's objects (for the policy core), flow graphs and lists.
import { api, listOrEmpty } from '../api.js';
import type { FlowLog } from '../../../src/flows/types.js';
import { CLUSTER_KINDS, type ApiObject } from './cluster.js';
import type { FlowGraph } from './graph-model.js';

export const FLOWS = '/apis/flows.margay.io/v1/flowlogs';

/** Every object the policy core reads; list items get back the apiVersion and kind lists drop. */
export async function loadClusterObjects(): Promise<ApiObject[]> {
  const lists = await Promise.all(
    CLUSTER_KINDS.map(async (k) => {
      const apiVersion = k.path === '/api/v1' ? 'v1' : k.path.slice('/apis/'.length);
      const items = await listOrEmpty<ApiObject>(`${k.path}/${k.plural}`);
      return items.map((o) => ({ ...o, apiVersion, kind: k.kind }));
    }),
  );
  return lists.flat();
}

export type StoredFlow = FlowLog & { id: string | number };

export interface FlowList {
  items: StoredFlow[];
  metadata?: { continue?: string; lastId?: string | number };
}

export const loadGraph = (params: URLSearchParams, signal?: AbortSignal): Promise<FlowGraph> =>
  api<FlowGraph & { kind: string }>(`${FLOWS}?${params.toString()}&view=graph`, signal !== undefined ? { signal } : {});

export const loadFlows = (params: URLSearchParams, signal?: AbortSignal): Promise<FlowList> =>
  api<FlowList>(`${FLOWS}?${params.toString()}`, signal !== undefined ? { signal } : {});
