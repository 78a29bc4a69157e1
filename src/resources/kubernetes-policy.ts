// networking.k8s.io/v1 NetworkPolicy, validated and defaulted like Kubernetes'
// pkg/apis/networking/validation (ValidateNetworkPolicySpec) and v1 SetDefaults_NetworkPolicy*.
import { z } from 'zod';
import { checked, labelSelector, list, namespacedMeta, portNumber, strict, typeMeta } from './fields.js';
import { DNS1123_SUBDOMAIN_TEXT, isDns1123Subdomain, isPortName, PORT_NAME_TEXT } from './k8s-names.js';
import { isStrictSubnet, parseNet } from './net-check.js';
import { describeValue } from './problems.js';
import type { IPBlock, K8sNetworkPolicy, K8sNetworkPolicyPeer, K8sNetworkPolicyPort, K8sNetworkPolicySpec, LabelSelector, PolicyType } from './types.js';

export const k8sProtocol = z.enum(['TCP', 'UDP', 'SCTP']);

/** A Kubernetes CIDR (ipBlock): CIDR notation required; host bits may be set. */
export const k8sCidr = checked('a CIDR such as "10.0.0.0/8"', (v) => (typeof v === 'string' && parseNet(v, false) !== undefined ? v : undefined));

const port: z.ZodType<K8sNetworkPolicyPort> = strict({
  protocol: k8sProtocol.optional(),
  // intstr: an integer port, or a string that must be a port name (so "80" in quotes is rejected).
  port: checked(`a port number 1-65535 or ${PORT_NAME_TEXT}`, (v) =>
    typeof v === 'number' ? (Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined) : typeof v === 'string' && isPortName(v) ? v : undefined,
  ).optional(),
  endPort: portNumber.optional(),
})
  .superRefine((p, ctx) => {
    if (p.endPort === undefined) return;
    if (p.port === undefined) ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'expected a numeric port as well: endPort may not be set without port' });
    else if (typeof p.port === 'string') ctx.addIssue({ code: 'custom', path: ['endPort'], message: `expected a numeric port as well: endPort may not be set when port is the named port ${describeValue(p.port)}` });
    else if (p.endPort < p.port) ctx.addIssue({ code: 'custom', path: ['endPort'], message: `expected endPort >= port (${p.port}), got ${p.endPort}` });
  })
  .transform((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));

const ipBlock: z.ZodType<IPBlock> = strict({
  cidr: k8sCidr,
  except: list(k8sCidr).optional(),
}).superRefine((b, ctx) => {
  const outer = parseNet(b.cidr, false);
  if (outer === undefined) return;
  (b.except ?? []).forEach((e, i) => {
    const inner = parseNet(e, false);
    if (inner !== undefined && !isStrictSubnet(inner, outer))
      ctx.addIssue({ code: 'custom', path: ['except', i], message: `expected a CIDR strictly inside cidr ${JSON.stringify(b.cidr)} (same IP family, longer prefix), got ${describeValue(e)}` });
  });
});

const peer: z.ZodType<K8sNetworkPolicyPeer> = strict({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: ipBlock.optional(),
}).superRefine((p, ctx) => {
  if (p.podSelector === undefined && p.namespaceSelector === undefined && p.ipBlock === undefined)
    ctx.addIssue({ code: 'custom', path: [], message: 'expected a peer: podSelector, namespaceSelector or ipBlock' });
  else if (p.ipBlock !== undefined && (p.podSelector !== undefined || p.namespaceSelector !== undefined))
    ctx.addIssue({ code: 'custom', path: ['ipBlock'], message: 'expected ipBlock alone: it may not be combined with podSelector or namespaceSelector in one peer' });
});

/** The spec, shared with Calico's StagedKubernetesNetworkPolicy (which adds stagedAction). */
export function k8sPolicySpecShape(podSelectorRequired: boolean) {
  return {
    podSelector: podSelectorRequired ? labelSelector : labelSelector.optional(),
    policyTypes: list(z.enum(['Ingress', 'Egress']), { max: 2 }).optional(),
    ingress: list(strict({ ports: list(port).optional(), from: list(peer).optional() })).optional(),
    egress: list(strict({ ports: list(port).optional(), to: list(peer).optional() })).optional(),
  };
}

/** SetDefaults_NetworkPolicySpec: Ingress always, plus Egress when egress rules are present. */
function defaultPolicyTypes(types: PolicyType[] | undefined, egress: unknown[] | undefined): PolicyType[] {
  if (types !== undefined && types.length > 0) return types;
  return (egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function defaultK8sSpec<S extends { podSelector?: LabelSelector | undefined; policyTypes?: PolicyType[] | undefined; egress?: unknown[] | undefined }>(
  s: S,
): S & { podSelector: LabelSelector; policyTypes: PolicyType[] } {
  return { ...s, podSelector: s.podSelector ?? {}, policyTypes: defaultPolicyTypes(s.policyTypes, s.egress) };
}

const spec: z.ZodType<K8sNetworkPolicySpec> = strict(k8sPolicySpecShape(true)).transform(defaultK8sSpec);

export const k8sNetworkPolicy: z.ZodType<K8sNetworkPolicy> = strict({
  ...typeMeta('networking.k8s.io/v1', 'NetworkPolicy'),
  metadata: namespacedMeta({ test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT }),
  spec,
  status: z.unknown().optional(),
}).transform(({ status: _status, ...rest }) => rest);
