// The tiers Calico creates on its own, with the order and default action its validator pins them
// to. Sources: libcalico-go lib/names (tier names), api v3 tier.go (orders), clientv3
// ensureTierExists calls (default actions) — Calico 3.30/3.31, plus the kube-admin/kube-baseline
// tiers that current Calico master creates for ClusterNetworkPolicy (v1alpha2).
import type { Tier } from './types.js';

function builtin(name: string, order: number, defaultAction: 'Deny' | 'Pass'): Tier {
  return Object.freeze({
    apiVersion: 'projectcalico.org/v3',
    kind: 'Tier',
    metadata: Object.freeze({ name, labels: Object.freeze({}) }),
    spec: Object.freeze({ order, defaultAction }),
  }) as Tier;
}

/**
 * In evaluation order (lower order first; equal orders by name):
 * - adminnetworkpolicy (1 000, Pass): AdminNetworkPolicy, ahead of everything else.
 * - kube-admin (1 000, Pass): ClusterNetworkPolicy with `tier: Admin`.
 * - default (1 000 000, Deny): policies that name no tier, and Kubernetes NetworkPolicy.
 * - baselineadminnetworkpolicy (10 000 000, Pass): the BaselineAdminNetworkPolicy.
 * - kube-baseline (10 000 000, Pass): ClusterNetworkPolicy with `tier: Baseline`.
 */
export const BUILTIN_TIERS: readonly Tier[] = Object.freeze([
  builtin('adminnetworkpolicy', 1_000, 'Pass'),
  builtin('kube-admin', 1_000, 'Pass'),
  builtin('default', 1_000_000, 'Deny'),
  builtin('baselineadminnetworkpolicy', 10_000_000, 'Pass'),
  builtin('kube-baseline', 10_000_000, 'Pass'),
]);

/** The built-in tier each Kubernetes-defined policy kind is placed in by Calico. */
export const KUBERNETES_POLICY_TIERS = Object.freeze({
  NetworkPolicy: 'default',
  AdminNetworkPolicy: 'adminnetworkpolicy',
  BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicy',
  ClusterNetworkPolicy: Object.freeze({ Admin: 'kube-admin', Baseline: 'kube-baseline' }),
} as const);
