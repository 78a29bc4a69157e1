// Which part of the engine each kind belongs to, and the per-object conversions (policies,
// profiles, tiers) the engine and the full recompute share.
import {
  convertAdminPolicy,
  convertCalicoPolicy,
  convertKubernetesPolicy,
  convertProfile,
  type NormPolicy,
  type NormProfile,
  type NormTier,
} from '../policy/index.js';
import type {
  GlobalNetworkSet,
  HostEndpoint,
  Namespace,
  NetworkSet,
  Node,
  Pod,
  Profile,
  Resource,
  ServiceAccount,
  Tier,
} from '../resources/index.js';
import type { ResourceRef } from './types.js';

export type KindClass =
  | 'namespace'
  | 'pod'
  | 'serviceAccount'
  | 'node'
  | 'hostEndpoint'
  | 'networkSet'
  | 'globalNetworkSet'
  | 'tier'
  | 'profile'
  | 'policy'
  | 'ignored';

const CALICO = 'projectcalico.org/v3';

const CLASSES = new Map<string, KindClass>([
  ['v1 Namespace', 'namespace'],
  ['v1 Pod', 'pod'],
  ['v1 ServiceAccount', 'serviceAccount'],
  ['v1 Node', 'node'],
  [`${CALICO} HostEndpoint`, 'hostEndpoint'],
  [`${CALICO} NetworkSet`, 'networkSet'],
  [`${CALICO} GlobalNetworkSet`, 'globalNetworkSet'],
  [`${CALICO} Tier`, 'tier'],
  [`${CALICO} Profile`, 'profile'],
  [`${CALICO} NetworkPolicy`, 'policy'],
  [`${CALICO} GlobalNetworkPolicy`, 'policy'],
  [`${CALICO} StagedNetworkPolicy`, 'policy'],
  [`${CALICO} StagedGlobalNetworkPolicy`, 'policy'],
  [`${CALICO} StagedKubernetesNetworkPolicy`, 'policy'],
  ['networking.k8s.io/v1 NetworkPolicy', 'policy'],
  ['policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy', 'policy'],
  ['policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy', 'policy'],
  ['policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy', 'policy'],
]);

const NAMESPACED = new Set([
  'v1 Pod',
  'v1 ServiceAccount',
  `${CALICO} NetworkSet`,
  `${CALICO} NetworkPolicy`,
  `${CALICO} StagedNetworkPolicy`,
  `${CALICO} StagedKubernetesNetworkPolicy`,
  'networking.k8s.io/v1 NetworkPolicy',
]);

/**
 * A ref as upserts key it: namespaced kinds in `default` when the ref names no namespace (as
 * decoding defaults it), cluster-scoped kinds without one.
 */
export function normalizeRef(ref: ResourceRef): ResourceRef {
  const namespaced = NAMESPACED.has(`${ref.apiVersion} ${ref.kind}`);
  if (namespaced && ref.namespace === undefined) return { ...ref, namespace: 'default' };
  if (!namespaced && ref.namespace !== undefined) return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  return ref;
}

export function kindClass(ref: Pick<ResourceRef, 'apiVersion' | 'kind'>): KindClass {
  return CLASSES.get(`${ref.apiVersion} ${ref.kind}`) ?? 'ignored';
}

/** A resource narrowed by its class. */
export type Classified =
  | { readonly type: 'namespace'; readonly resource: Namespace }
  | { readonly type: 'pod'; readonly resource: Pod }
  | { readonly type: 'serviceAccount'; readonly resource: ServiceAccount }
  | { readonly type: 'node'; readonly resource: Node }
  | { readonly type: 'hostEndpoint'; readonly resource: HostEndpoint }
  | { readonly type: 'networkSet'; readonly resource: NetworkSet }
  | { readonly type: 'globalNetworkSet'; readonly resource: GlobalNetworkSet }
  | { readonly type: 'tier'; readonly resource: Tier }
  | { readonly type: 'profile'; readonly resource: Profile }
  | { readonly type: 'policy'; readonly resource: Resource }
  | { readonly type: 'ignored'; readonly resource: Resource };

export function classify(resource: Resource): Classified {
  return { type: kindClass(resource), resource } as Classified;
}

/**
 * The normalized policy of any policy kind; undefined for staged policies that stage nothing
 * (Learn, Ignore). Throws UserError for input the converters reject.
 */
export function convertPolicyResource(r: Resource): NormPolicy | undefined {
  if (r.apiVersion === CALICO) {
    switch (r.kind) {
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy':
      case 'StagedNetworkPolicy':
      case 'StagedGlobalNetworkPolicy':
        return convertCalicoPolicy(r);
      case 'StagedKubernetesNetworkPolicy':
        return convertKubernetesPolicy(r);
      default:
        return undefined;
    }
  }
  if (r.apiVersion === 'networking.k8s.io/v1') return convertKubernetesPolicy(r);
  if (r.kind === 'AdminNetworkPolicy' || r.kind === 'BaselineAdminNetworkPolicy' || r.kind === 'ClusterNetworkPolicy') {
    return convertAdminPolicy(r);
  }
  return undefined;
}

export function convertProfileResource(p: Profile): NormProfile {
  return convertProfile(p);
}

/** A Tier as the model has it (the same shape `buildSnapshot` builds). */
export function normTier(t: Tier): NormTier {
  return {
    name: t.metadata.name,
    ...(t.spec.order !== undefined ? { order: t.spec.order } : {}),
    defaultAction: t.spec.defaultAction,
  };
}
