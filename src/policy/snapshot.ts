// Builds one normalized snapshot from decoded manifests: the endpoints with their effective labels,
// every policy kind converted, the built-in tiers plus the user's, and the namespace profiles.
// Cross-object problems (a policy in a tier that does not exist) are reported like any bad input.
import type { Problem } from '../errors/index.js';
import { parseCidr, type Cidr } from '../net/index.js';
import { BUILTIN_TIERS, resourceLabel, type Decoded, type Resource } from '../resources/index.js';
import type { Entity, NormPolicy, NormTier, PolicySnapshot } from './model.js';
import { buildEndpoints } from './entities.js';
import { convertCalicoPolicy, convertProfile } from './convert-calico.js';
import { convertKubernetesPolicy } from './convert-kubernetes.js';
import { convertAdminPolicy } from './convert-admin.js';

export interface BuiltSnapshot {
  readonly snapshot: PolicySnapshot;
  /** Pods by `ns/name`, in manifest order. */
  readonly pods: ReadonlyMap<string, Entity>;
  /** Things worth telling the user that are not errors (assigned addresses, replaced objects). */
  readonly notes: readonly string[];
  /** Cross-object problems: reported as errors by the CLI. */
  readonly problems: readonly Problem[];
}

type ByKind<K extends Resource['kind'], V extends Resource['apiVersion'] = Resource['apiVersion']> = Extract<Resource, { kind: K; apiVersion: V }>;

export function buildSnapshot(decoded: readonly Decoded[]): BuiltSnapshot {
  const notes: string[] = [];
  const problems: Problem[] = [];
  // Later objects replace earlier ones with the same identity, as `kubectl apply` would.
  const latest = new Map<string, Decoded>();
  for (const d of decoded) {
    const key = identity(d.resource);
    const previous = latest.get(key);
    if (previous) {
      notes.push(`${resourceLabel(d.resource)} in ${d.source.file} (document ${d.source.document}) replaces the one in ${previous.source.file} (document ${previous.source.document})`);
      latest.delete(key);
    }
    latest.set(key, d);
  }
  const all = [...latest.values()];
  const of = <K extends Resource['kind'], V extends Resource['apiVersion']>(apiVersion: V, kind: K) =>
    all.filter((d) => d.resource.apiVersion === apiVersion && d.resource.kind === kind) as Decoded<ByKind<K, V>>[];
  const resources = <K extends Resource['kind'], V extends Resource['apiVersion']>(apiVersion: V, kind: K) =>
    of(apiVersion, kind).map((d) => d.resource);

  const calico = 'projectcalico.org/v3' as const;
  const pools = resources(calico, 'IPPool').filter((p) => !p.spec.disabled);
  const podCidrs = pools.map((p) => parseCidr(p.spec.cidr)).filter((c): c is Cidr => c !== undefined);
  const endpoints = buildEndpoints({
    namespaces: resources('v1', 'Namespace'),
    pods: resources('v1', 'Pod'),
    serviceAccounts: resources('v1', 'ServiceAccount'),
    nodes: resources('v1', 'Node'),
    hostEndpoints: resources(calico, 'HostEndpoint'),
    networkSets: resources(calico, 'NetworkSet'),
    globalNetworkSets: resources(calico, 'GlobalNetworkSet'),
    podCidrs,
  });
  notes.push(...endpoints.notes);

  const tiers = new Map<string, NormTier>();
  for (const t of BUILTIN_TIERS) tiers.set(t.metadata.name, tierOf(t));
  for (const t of resources(calico, 'Tier')) tiers.set(t.metadata.name, tierOf(t));

  const policies: NormPolicy[] = [];
  const add = (d: Decoded, p: NormPolicy | undefined) => {
    if (!p) return;
    if (!tiers.has(p.tier)) {
      problems.push({
        file: d.source.file,
        document: d.source.document,
        ...(d.source.line !== undefined ? { line: d.source.line } : {}),
        object: resourceLabel(d.resource),
        path: 'spec.tier',
        message: `tier "${p.tier}" does not exist; define it with a projectcalico.org/v3 Tier`,
      });
      return;
    }
    policies.push(p);
  };
  for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'] as const) {
    for (const d of of(calico, kind)) add(d, convertCalicoPolicy(d.resource));
  }
  for (const d of of('networking.k8s.io/v1', 'NetworkPolicy')) add(d, convertKubernetesPolicy(d.resource));
  for (const d of of(calico, 'StagedKubernetesNetworkPolicy')) add(d, convertKubernetesPolicy(d.resource));
  for (const d of of('policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy')) add(d, convertAdminPolicy(d.resource));
  for (const d of of('policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy')) add(d, convertAdminPolicy(d.resource));
  for (const d of of('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy')) add(d, convertAdminPolicy(d.resource));

  const profiles = [...endpoints.profiles];
  for (const p of resources(calico, 'Profile')) {
    const i = profiles.findIndex((existing) => existing.name === p.metadata.name);
    if (i >= 0) profiles.splice(i, 1);
    profiles.push(convertProfile(p));
  }

  return {
    snapshot: { tiers: [...tiers.values()], policies, profiles, entities: endpoints.entities },
    pods: endpoints.pods,
    notes,
    problems,
  };
}

function tierOf(t: { metadata: { name: string }; spec: { order?: number; defaultAction: 'Deny' | 'Pass' } }): NormTier {
  return { name: t.metadata.name, ...(t.spec.order !== undefined ? { order: t.spec.order } : {}), defaultAction: t.spec.defaultAction };
}

function identity(r: Resource): string {
  const ns = 'namespace' in r.metadata ? r.metadata.namespace : '';
  return `${r.apiVersion}|${r.kind}|${ns}|${r.metadata.name}`;
}
