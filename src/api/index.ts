// Public surface of the api module: the Kubernetes-style HTTP server over a Store, the resource
// registry it serves, and Status errors.
export { createApiServer, SERVER_VERSION, type ApiServer, type ApiServerOptions, type ApiExtension, type ApiExtensionContext } from './server.js';
export {
  RESOURCE_TYPES,
  apiVersionOf,
  findResourceType,
  findResourceTypeByKind,
  resourcePath,
  storageKey,
  type ResourceType,
} from './registry.js';
export { ApiError, toStatus, isNotFound, isConflict, isAlreadyExists, isInvalid, isGone, type Status, type StatusCause } from './status.js';
export { createMergePatch, applyMergePatch, deepEqual, type Json, type JsonObject } from './patch.js';
export { formatLabelSelector, humanDuration } from './table.js';
