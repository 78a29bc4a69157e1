// Public surface of the client module: kubeconfig files, a typed REST client with watch, and
// informers (list+watch caches that resume, relist on 410 and back off while the server is down).
export { loadKubeconfig, writeKubeconfig, kubeconfigYaml, defaultKubeconfigPath, type ClusterAccess } from './kubeconfig.js';
export {
  KubeClient,
  KubeApiError,
  isNotFoundError,
  isConflictError,
  isGoneError,
  type ClientConfig,
  type ListOptions,
  type ObjectList,
  type WriteOptions,
  type WatchOptions,
  type ClientWatchEvent,
  type WatchEventType,
  type PatchKind,
} from './rest-client.js';
export { Informer, objectKey, type InformerHandlers, type InformerOptions } from './informer.js';
