// The human name of an object in messages: "NetworkPolicy ns/name" or "GlobalNetworkPolicy name".
import type { Resource } from './types.js';

export function resourceLabel(r: Resource): string {
  const meta = r.metadata;
  return 'namespace' in meta ? `${r.kind} ${meta.namespace}/${meta.name}` : `${r.kind} ${meta.name}`;
}
