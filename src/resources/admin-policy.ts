// policy.networking.k8s.io kinds from kubernetes-sigs/network-policy-api: AdminNetworkPolicy and
// BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy (v1alpha2), with the limits and
// "exactly one of" rules their CRDs enforce (OpenAPI min/max, MinProperties/MaxProperties, CEL).
import { z } from 'zod';
import { checked, clusterMeta, intIn, labelSelector, list, portNumber, strict, text, typeMeta } from './fields.js';
import { DNS1123_SUBDOMAIN_TEXT, isDns1123Subdomain } from './k8s-names.js';
import { k8sProtocol } from './kubernetes-policy.js';
import { parseNet } from './net-check.js';
import type {
  AdminNetworkPolicy,
  AdminNetworkPolicyEgressPeer,
  AdminNetworkPolicyIngressPeer,
  AdminNetworkPolicyPort,
  AdminNetworkPolicySubject,
  BaselineAdminNetworkPolicy,
  ClusterNetworkPolicy,
  ClusterNetworkPolicyPort,
  ClusterNetworkPolicyProtocol,
  NamespacedPod,
} from './types.js';

/** MinProperties=1 + MaxProperties=1: exactly one of `fields` is set. */
function exactlyOne(fields: readonly string[]) {
  return (o: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const set = fields.filter((f) => o[f] !== undefined);
    if (set.length === 1) return;
    const names = fields.map((f) => JSON.stringify(f)).join(', ');
    ctx.addIssue({
      code: 'custom',
      path: set.length > 1 ? [set[1] ?? ''] : [],
      message: set.length === 0 ? `expected exactly one of ${names}, got none` : `expected exactly one of ${names}, got ${set.join(' and ')}`,
    });
  };
}

const name = { test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT };
const priority = intIn(0, 1000, 'a priority 0-1000');
const ruleName = text({ max: 100 }).optional();

// CIDR (CEL isCIDR): CIDR notation, host bits allowed, at most 43 characters.
const networkCidr = checked('a CIDR such as "10.0.0.0/8"', (v) => (typeof v === 'string' && v.length <= 43 && parseNet(v, false) !== undefined ? v : undefined));
const domainName = checked('a domain name such as "example.com" or "*.example.com"', (v) =>
  typeof v === 'string' && /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/.test(v) ? v : undefined,
);

// v1alpha1 NamespacedPod requires both selectors; v1alpha2 makes namespaceSelector optional.
const namespacedPod: z.ZodType<NamespacedPod> = strict({ namespaceSelector: labelSelector, podSelector: labelSelector });
const namespacedPodV2: z.ZodType<NamespacedPod> = strict({ namespaceSelector: labelSelector.optional(), podSelector: labelSelector }).transform((p) => ({
  namespaceSelector: p.namespaceSelector ?? {},
  podSelector: p.podSelector,
}));

function subject(pods: z.ZodType<NamespacedPod>): z.ZodType<AdminNetworkPolicySubject> {
  return strict({ namespaces: labelSelector.optional(), pods: pods.optional() }).superRefine(exactlyOne(['namespaces', 'pods']));
}

function ingressPeer(pods: z.ZodType<NamespacedPod>): z.ZodType<AdminNetworkPolicyIngressPeer> {
  return z.preprocess(
    legacyPeer,
    strict({ namespaces: labelSelector.optional(), pods: pods.optional() }).superRefine(exactlyOne(['namespaces', 'pods'])),
  ) as unknown as z.ZodType<AdminNetworkPolicyIngressPeer>;
}

/**
 * The first v1alpha1 releases wrapped peer selectors: `namespaces: {namespaceSelector: …}` and
 * `pods: {namespaces: {namespaceSelector: …}, podSelector: …}`. Manifests written for them (and
 * older conformance suites) still exist, so read those forms as the current ones. The wrappers'
 * `sameLabels`/`notSameLabels` were dropped upstream; they stay and get an unknown-field error.
 */
function legacyPeer(peer: unknown): unknown {
  if (!isObject(peer)) return peer;
  const out: Record<string, unknown> = { ...peer };
  const ns = peer['namespaces'];
  if (isObject(ns) && Object.keys(ns).length === 1 && 'namespaceSelector' in ns) out['namespaces'] = ns['namespaceSelector'];
  const pods = peer['pods'];
  if (isObject(pods) && isObject(pods['namespaces']) && !('namespaceSelector' in pods)) {
    const wrapped = pods['namespaces'];
    if (Object.keys(wrapped).length === 1 && 'namespaceSelector' in wrapped) {
      const { namespaces: _legacy, ...rest } = pods;
      out['pods'] = { ...rest, namespaceSelector: wrapped['namespaceSelector'] };
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function egressPeer(pods: z.ZodType<NamespacedPod>, domains: boolean): z.ZodType<AdminNetworkPolicyEgressPeer> {
  const base = {
    namespaces: labelSelector.optional(),
    pods: pods.optional(),
    nodes: labelSelector.optional(),
    networks: list(networkCidr, { min: 1, max: 25 }).optional(),
  };
  // BaselineAdminNetworkPolicy has no domainNames peer.
  const schema = domains
    ? strict({ ...base, domainNames: list(domainName, { min: 1, max: 25 }).optional() }).superRefine(exactlyOne([...Object.keys(base), 'domainNames']))
    : strict(base).superRefine(exactlyOne(Object.keys(base)));
  return z.preprocess(legacyPeer, schema) as unknown as z.ZodType<AdminNetworkPolicyEgressPeer>;
}

// ───────────────────────────── v1alpha1 ports ─────────────────────────────

const anpPort: z.ZodType<AdminNetworkPolicyPort> = strict({
  portNumber: strict({ protocol: k8sProtocol.optional(), port: portNumber })
    .transform((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port }))
    .optional(),
  namedPort: text({ min: 1 }).optional(),
  portRange: strict({ protocol: k8sProtocol.optional(), start: portNumber, end: portNumber })
    .superRefine((r, ctx) => {
      if (r.start >= r.end) ctx.addIssue({ code: 'custom', path: ['end'], message: `expected end greater than start (${r.start}), got ${r.end}` });
    })
    .transform((r) => ({ protocol: r.protocol ?? 'TCP', start: r.start, end: r.end }))
    .optional(),
}).superRefine(exactlyOne(['portNumber', 'namedPort', 'portRange']));

type Peerish = { networks?: unknown; nodes?: unknown; domainNames?: unknown };

/** Egress CEL rule: a named port needs a pod peer, so no networks, nodes or domainNames. */
function noNamedPortsOffCluster(to: readonly Peerish[], ports: readonly { namedPort?: unknown; destinationNamedPort?: unknown }[], field: string, ctx: z.RefinementCtx): void {
  if (!to.some((p) => p.networks !== undefined || p.nodes !== undefined || p.domainNames !== undefined)) return;
  ports.forEach((p, i) => {
    const key = p.namedPort !== undefined ? 'namedPort' : p.destinationNamedPort !== undefined ? 'destinationNamedPort' : undefined;
    if (key !== undefined)
      ctx.addIssue({ code: 'custom', path: [field, i, key], message: 'expected no named port in a rule with networks, nodes or domainNames peers (they have no named ports)' });
  });
}

/** domainNames peers are only supported on rules that allow traffic. */
function domainsOnlyWhenAllowing(action: string, allow: string, to: readonly Peerish[], ctx: z.RefinementCtx): void {
  to.forEach((p, i) => {
    if (p.domainNames !== undefined && action !== allow)
      ctx.addIssue({ code: 'custom', path: ['to', i, 'domainNames'], message: `expected domainNames only on an ${allow} rule, got action ${JSON.stringify(action)}` });
  });
}

function anpRules<A extends string>(actions: readonly [A, ...A[]], domains: boolean) {
  const action = z.enum(actions);
  const ingress = strict({
    name: ruleName,
    action,
    from: list(ingressPeer(namespacedPod), { min: 1, max: 100 }),
    ports: list(anpPort, { min: 1, max: 100 }).optional(),
  });
  const egress = strict({
    name: ruleName,
    action,
    to: list(egressPeer(namespacedPod, domains), { min: 1, max: 100 }),
    ports: list(anpPort, { min: 1, max: 100 }).optional(),
  }).superRefine((r, ctx) => {
    noNamedPortsOffCluster(r.to, r.ports ?? [], 'ports', ctx);
    domainsOnlyWhenAllowing(r.action, 'Allow', r.to, ctx);
  });
  return { ingress: list(ingress, { max: 100 }).optional(), egress: list(egress, { max: 100 }).optional() };
}

const v1alpha1 = 'policy.networking.k8s.io/v1alpha1';

export const adminNetworkPolicy: z.ZodType<AdminNetworkPolicy> = strict({
  ...typeMeta(v1alpha1, 'AdminNetworkPolicy'),
  metadata: clusterMeta(name),
  spec: strict({ priority, subject: subject(namespacedPod), ...anpRules(['Allow', 'Deny', 'Pass'], true) }),
  status: z.unknown().optional(),
}).transform(({ status: _status, ...rest }) => rest);

export const baselineAdminNetworkPolicy: z.ZodType<BaselineAdminNetworkPolicy> = strict({
  ...typeMeta(v1alpha1, 'BaselineAdminNetworkPolicy'),
  // The BANP is a singleton: its CRD only admits the name "default".
  metadata: clusterMeta({ test: (s) => s === 'default', text: '"default" (the BaselineAdminNetworkPolicy is a singleton)' }),
  spec: strict({ subject: subject(namespacedPod), ...anpRules(['Allow', 'Deny'], false) }),
  status: z.unknown().optional(),
}).transform(({ status: _status, ...rest }) => rest);

// ───────────────────────────── v1alpha2 ClusterNetworkPolicy ─────────────────────────────

const cnpPort: z.ZodType<ClusterNetworkPolicyPort> = strict({
  number: portNumber.optional(),
  range: strict({ start: portNumber, end: portNumber })
    .superRefine((r, ctx) => {
      if (r.start >= r.end) ctx.addIssue({ code: 'custom', path: ['end'], message: `expected end greater than start (${r.start}), got ${r.end}` });
    })
    .optional(),
}).superRefine(exactlyOne(['number', 'range']));

// Each protocol block has MinProperties=1, so destinationPort is in effect required.
const l4 = strict({ destinationPort: cnpPort });

const cnpProtocol: z.ZodType<ClusterNetworkPolicyProtocol> = strict({
  tcp: l4.optional(),
  udp: l4.optional(),
  sctp: l4.optional(),
  destinationNamedPort: text({ min: 1 }).optional(),
}).superRefine(exactlyOne(['tcp', 'udp', 'sctp', 'destinationNamedPort']));

const cnpAction = z.enum(['Accept', 'Deny', 'Pass']);

const cnpIngress = strict({
  name: ruleName,
  action: cnpAction,
  from: list(ingressPeer(namespacedPodV2), { min: 1, max: 25 }),
  protocols: list(cnpProtocol, { min: 1, max: 25 }).optional(),
});

const cnpEgress = strict({
  name: ruleName,
  action: cnpAction,
  to: list(egressPeer(namespacedPodV2, true), { min: 1, max: 25 }),
  protocols: list(cnpProtocol, { min: 1, max: 25 }).optional(),
}).superRefine((r, ctx) => {
  noNamedPortsOffCluster(r.to, r.protocols ?? [], 'protocols', ctx);
  domainsOnlyWhenAllowing(r.action, 'Accept', r.to, ctx);
});

export const clusterNetworkPolicy: z.ZodType<ClusterNetworkPolicy> = strict({
  ...typeMeta('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy'),
  metadata: clusterMeta(name),
  spec: strict({
    tier: z.enum(['Admin', 'Baseline']),
    priority,
    subject: subject(namespacedPodV2),
    ingress: list(cnpIngress, { max: 25 }).optional(),
    egress: list(cnpEgress, { max: 25 }).optional(),
  }),
  status: z.unknown().optional(),
}).transform(({ status: _status, ...rest }) => rest);
