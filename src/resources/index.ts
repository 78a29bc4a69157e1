// Public surface of the resources module: decode YAML/JSON manifests into validated, defaulted,
// typed objects. Everything else in this directory is internal.
export type * from './types.js';
export { CALICO_API_VERSION, ADMIN_POLICY_API_VERSION, CLUSTER_POLICY_API_VERSION } from './types.js';
export type { SourceRef, Decoded } from './source.js';
export { decodeManifests, decodeObject, type DecodeOptions, type ForeignObject } from './decode.js';
export { BUILTIN_TIERS, KUBERNETES_POLICY_TIERS } from './tiers.js';
export { resourceLabel } from './label.js';
