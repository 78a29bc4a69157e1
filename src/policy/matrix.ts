// Building flows between known endpoints, and the all-pairs reachability matrix.
import type { IpAddress } from '../net/index.js';
import type { Entity } from './model.js';
import type { Flow, FlowEnd } from './flow.js';
import type { PolicyEvaluator } from './evaluate.js';

export interface FlowRequest {
  readonly protocol: number;
  readonly port?: number;
  readonly sourcePort?: number;
  readonly icmp?: { readonly type: number; readonly code?: number };
  readonly domain?: string;
}

/**
 * A flow from one end to the other. Endpoints with several addresses use the first one of a
 * family both ends have (IPv4 first); undefined when they share no address family.
 */
export function flowBetween(from: Entity | IpAddress, to: Entity | IpAddress, request: FlowRequest, families: readonly (4 | 6)[] = [4, 6]): Flow | undefined {
  for (const family of families) {
    const src = endOf(from, family);
    const dst = endOf(to, family);
    if (src && dst) {
      return {
        source: src,
        destination: dst,
        protocol: request.protocol,
        ...(request.port !== undefined ? { destinationPort: request.port } : {}),
        ...(request.sourcePort !== undefined ? { sourcePort: request.sourcePort } : {}),
        ...(request.icmp !== undefined ? { icmp: request.icmp } : {}),
        ...(request.domain !== undefined ? { domain: request.domain } : {}),
      };
    }
  }
  return undefined;
}

function endOf(x: Entity | IpAddress, family: 4 | 6): FlowEnd | undefined {
  if ('kind' in x) {
    const ip = x.ips.find((a) => a.family === family);
    return ip ? { entity: x, ip } : undefined;
  }
  return x.family === family ? { ip: x } : undefined;
}

export type ReachabilityMatrix = Record<string, Record<string, boolean>>;

/**
 * Every ordered pair (from → to) of the given endpoints, keyed by `ns/name`; with `family`, over
 * that family's addresses only (a pair without them is false, as no connection could be made).
 */
export function reachabilityMatrix(
  evaluator: PolicyEvaluator,
  endpoints: ReadonlyMap<string, Entity>,
  request: FlowRequest,
  family?: 4 | 6,
): ReachabilityMatrix {
  const matrix: ReachabilityMatrix = {};
  for (const [fromKey, from] of endpoints) {
    const row: Record<string, boolean> = {};
    for (const [toKey, to] of endpoints) {
      const flow = flowBetween(from, to, request, family !== undefined ? [family] : undefined);
      row[toKey] = flow !== undefined && evaluator.isAllowed(flow);
    }
    matrix[fromKey] = row;
  }
  return matrix;
}
