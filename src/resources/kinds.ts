// The registry of supported kinds: which schema validates each apiVersion/kind pair, and the one
// problem reported for a pair Margay does not know.
import type { z } from 'zod';
import { adminNetworkPolicy, baselineAdminNetworkPolicy, clusterNetworkPolicy } from './admin-policy.js';
import {
  calicoNetworkPolicy,
  globalNetworkPolicy,
  profile,
  stagedGlobalNetworkPolicy,
  stagedKubernetesNetworkPolicy,
  stagedNetworkPolicy,
} from './calico-policy.js';
import { globalNetworkSet, hostEndpoint, ipPool, networkSet, tier } from './calico-resources.js';
import { namespace, node, pod, serviceAccount } from './core-kinds.js';
import { k8sNetworkPolicy } from './kubernetes-policy.js';
import { alert } from './alert.js';
import { describeValue, type RawProblem } from './problems.js';
import type { Resource } from './types.js';

interface KindDef {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
  schema: z.ZodType<Resource>;
}

function def(apiVersion: Resource['apiVersion'], kind: Resource['kind'], namespaced: boolean, schema: z.ZodType<Resource>): KindDef {
  return { apiVersion, kind, namespaced, schema };
}

const CALICO = 'projectcalico.org/v3';
const KINDS: readonly KindDef[] = [
  def('v1', 'Namespace', false, namespace),
  def('v1', 'Pod', true, pod),
  def('v1', 'ServiceAccount', true, serviceAccount),
  def('v1', 'Node', false, node),
  def('networking.k8s.io/v1', 'NetworkPolicy', true, k8sNetworkPolicy),
  def(CALICO, 'NetworkPolicy', true, calicoNetworkPolicy),
  def(CALICO, 'GlobalNetworkPolicy', false, globalNetworkPolicy),
  def(CALICO, 'StagedNetworkPolicy', true, stagedNetworkPolicy),
  def(CALICO, 'StagedGlobalNetworkPolicy', false, stagedGlobalNetworkPolicy),
  def(CALICO, 'StagedKubernetesNetworkPolicy', true, stagedKubernetesNetworkPolicy),
  def(CALICO, 'Tier', false, tier),
  def(CALICO, 'NetworkSet', true, networkSet),
  def(CALICO, 'GlobalNetworkSet', false, globalNetworkSet),
  def(CALICO, 'HostEndpoint', false, hostEndpoint),
  def(CALICO, 'Profile', false, profile),
  def(CALICO, 'IPPool', false, ipPool),
  def('policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy', false, adminNetworkPolicy),
  def('policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy', false, baselineAdminNetworkPolicy),
  def('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy', false, clusterNetworkPolicy),
  def('alerts.margay.io/v1', 'Alert', false, alert),
];

export function findKind(apiVersion: unknown, kind: unknown): KindDef | undefined {
  return KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** "Namespace, Node, Pod, ServiceAccount (v1); NetworkPolicy (networking.k8s.io/v1); …" */
function supportedKindsText(): string {
  const groups = new Map<string, string[]>();
  for (const k of KINDS) groups.set(k.apiVersion, [...(groups.get(k.apiVersion) ?? []), k.kind]);
  return [...groups].map(([v, kinds]) => `${kinds.join(', ')} (${v})`).join('; ');
}

/** The single problem for an object whose apiVersion/kind pair is not supported. */
export function unsupportedKindProblem(apiVersion: unknown, kind: unknown): RawProblem {
  if (typeof apiVersion !== 'string' || apiVersion === '')
    return { path: ['apiVersion'], message: `${apiVersion === undefined ? 'required field is missing' : `got ${describeValue(apiVersion)}`}; expected the apiVersion of a supported kind: ${supportedKindsText()}` };
  if (typeof kind !== 'string' || kind === '')
    return { path: ['kind'], message: `${kind === undefined ? 'required field is missing' : `got ${describeValue(kind)}`}; expected a supported kind: ${supportedKindsText()}` };
  const versions = KINDS.filter((k) => k.kind === kind).map((k) => JSON.stringify(k.apiVersion));
  if (versions.length > 0)
    return { path: ['apiVersion'], message: `expected apiVersion ${versions.join(' or ')} for kind ${kind}, got ${describeValue(apiVersion)}` };
  return { path: ['kind'], message: `unsupported kind ${JSON.stringify(kind)} (apiVersion ${JSON.stringify(apiVersion)}); expected one of: ${supportedKindsText()}` };
}

/** API groups Margay models: an unknown kind in one of these is a mistake, not a foreign object. */
const MODELLED_GROUPS = new Set(['projectcalico.org', 'networking.k8s.io', 'policy.networking.k8s.io', 'alerts.margay.io']);

/** Core v1 kinds that carry no policy input (Services, ConfigMaps, …), as opposed to typos. */
const FOREIGN_CORE_KINDS = new Set([
  'Service', 'Endpoints', 'ConfigMap', 'Secret', 'PersistentVolume', 'PersistentVolumeClaim', 'ReplicationController',
  'LimitRange', 'ResourceQuota', 'Event', 'PodTemplate', 'ComponentStatus', 'Binding',
]);

/**
 * True for a well-formed object of a kind Margay does not model and could not have been meant
 * as one: another API group (apps/v1 Deployment, rbac…) or a core kind such as Service. A
 * manifest of a whole application holds these beside its policies.
 */
export function isForeignKind(apiVersion: unknown, kind: unknown): boolean {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return false;
  if (findKind(apiVersion, kind) !== undefined || KINDS.some((k) => k.kind === kind && k.apiVersion.split('/')[0] === apiVersion.split('/')[0])) return false;
  if (apiVersion === 'v1') return FOREIGN_CORE_KINDS.has(kind);
  const slash = apiVersion.indexOf('/');
  if (slash <= 0) return false;
  return !MODELLED_GROUPS.has(apiVersion.slice(0, slash));
}
