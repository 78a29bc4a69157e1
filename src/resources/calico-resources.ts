// Calico's non-policy kinds: Tier, NetworkSet, GlobalNetworkSet, HostEndpoint and IPPool, with
// the checks of libcalico-go's validator v3 and clientv3's IPPool defaulting.
import { z } from 'zod';
import { protocolField, supportsPorts } from './calico-rule.js';
import { bool, checked, clusterMeta, Fail, intIn, list, namespacedMeta, num, portNumber, selectorField, strict, stringMatching, typeMeta } from './fields.js';
import { DNS1123_LABEL_TEXT, DNS1123_SUBDOMAIN_TEXT, isDns1123Label, isDns1123Subdomain, isPortName, PORT_NAME_TEXT } from './k8s-names.js';
import { ipFamily, overlaps, parseNet } from './net-check.js';
import { describeValue } from './problems.js';
import { BUILTIN_TIERS } from './tiers.js';
import type { GlobalNetworkSet, HostEndpoint, IPPool, NetworkSet, Tier } from './types.js';

const calico = 'projectcalico.org/v3';
const subdomain = { test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT };

// ───────────────────────────── Tier ─────────────────────────────

export const tier: z.ZodType<Tier> = strict({
  ...typeMeta(calico, 'Tier'),
  // Tier names are DNS labels: they appear inside other names.
  metadata: clusterMeta({ test: isDns1123Label, text: `a tier name: ${DNS1123_LABEL_TEXT}` }),
  spec: strict({ order: num.optional(), defaultAction: z.enum(['Deny', 'Pass']).optional() }).prefault({}),
  status: z.unknown().optional(),
})
  .superRefine((t, ctx) => {
    // Calico pins its own tiers' order (validateTier) and default action (Tier CRD rules).
    const b = BUILTIN_TIERS.find((x) => x.metadata.name === t.metadata.name);
    if (b === undefined) return;
    if (t.spec.order !== b.spec.order)
      ctx.addIssue({ code: 'custom', path: ['spec', 'order'], message: `expected order ${b.spec.order} for the built-in tier ${JSON.stringify(b.metadata.name)}, got ${describeValue(t.spec.order)}` });
    if (t.spec.defaultAction !== undefined && t.spec.defaultAction !== b.spec.defaultAction)
      ctx.addIssue({ code: 'custom', path: ['spec', 'defaultAction'], message: `expected defaultAction ${JSON.stringify(b.spec.defaultAction)} for the built-in tier ${JSON.stringify(b.metadata.name)}, got ${JSON.stringify(t.spec.defaultAction)}` });
  })
  .transform(({ status: _status, ...t }) => {
    const b = BUILTIN_TIERS.find((x) => x.metadata.name === t.metadata.name);
    return { ...t, spec: { ...t.spec, defaultAction: t.spec.defaultAction ?? b?.spec.defaultAction ?? 'Deny' } };
  });

// ───────────────────────────── network sets ─────────────────────────────

// NetworkSetSpec.Nets is validated as "cidr": a CIDR (host bits allowed) or a single address.
const setNet = checked('a CIDR such as "10.0.0.0/8" or an IP address', (v) => (typeof v === 'string' && parseNet(v, true) !== undefined ? v : undefined));
const domain = checked('a domain name such as "example.com" or "*.example.com"', (v) =>
  typeof v === 'string' && /^(\*\.)?([A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?\.?$/.test(v) ? v : undefined,
);
const networkSetSpec = strict({ nets: list(setNet).optional(), allowedEgressDomains: list(domain).optional() }).prefault({});

function noNamespaceLabel(m: { metadata: { labels: Record<string, string> } }, ctx: z.RefinementCtx): void {
  // Calico derives this label from the real namespace; a user-set one would lie about it.
  if ('projectcalico.org/namespace' in m.metadata.labels)
    ctx.addIssue({ code: 'custom', path: ['metadata', 'labels', 'projectcalico.org/namespace'], message: 'expected a label key other than "projectcalico.org/namespace", which Calico reserves' });
}

export const networkSet: z.ZodType<NetworkSet> = strict({
  ...typeMeta(calico, 'NetworkSet'),
  metadata: namespacedMeta(subdomain),
  spec: networkSetSpec,
}).superRefine(noNamespaceLabel);

export const globalNetworkSet: z.ZodType<GlobalNetworkSet> = strict({
  ...typeMeta(calico, 'GlobalNetworkSet'),
  metadata: clusterMeta(subdomain),
  spec: networkSetSpec,
}).superRefine(noNamespaceLabel);

// ───────────────────────────── HostEndpoint ─────────────────────────────

const ipAddress = checked('an IP address', (v) => (typeof v === 'string' && ipFamily(v) !== undefined ? v : undefined));

const endpointPort = strict({
  name: stringMatching(isPortName, PORT_NAME_TEXT),
  protocol: checked('TCP, UDP or SCTP (a protocol with ports)', (v) => {
    const p = protocolField.safeParse(v);
    if (!p.success) return new Fail(p.error.issues[0]?.message ?? 'invalid protocol');
    return supportsPorts(p.data) ? p.data : undefined;
  }),
  port: portNumber,
});

export const hostEndpoint: z.ZodType<HostEndpoint> = strict({
  ...typeMeta(calico, 'HostEndpoint'),
  metadata: clusterMeta(subdomain),
  spec: strict({
    node: stringMatching(isDns1123Subdomain, `a node name: ${DNS1123_SUBDOMAIN_TEXT}`),
    interfaceName: checked('"*" or an interface name (at most 15 letters, digits, "_", "." or "-")', (v) =>
      typeof v === 'string' && (v === '*' || /^[a-zA-Z0-9_.-]{1,15}$/.test(v)) ? v : undefined,
    ).optional(),
    expectedIPs: list(ipAddress).optional(),
    profiles: list(stringMatching(isDns1123Subdomain, `a profile name: ${DNS1123_SUBDOMAIN_TEXT}`)).optional(),
    ports: list(endpointPort).optional(),
  }).superRefine((s, ctx) => {
    if ((s.interfaceName ?? '') === '' && (s.expectedIPs ?? []).length === 0)
      ctx.addIssue({ code: 'custom', path: ['interfaceName'], message: 'required field is missing; expected interfaceName or expectedIPs (or both)' });
  }),
});

// ───────────────────────────── IPPool ─────────────────────────────

const encap = z.enum(['Never', 'Always', 'CrossSubnet']);
const LINK_LOCAL = { 4: parseNet('169.254.0.0/16', false), 6: parseNet('fe80::/10', false) };

const poolSpec = strict({
  cidr: checked('a CIDR such as "192.168.0.0/16"', (v) => (typeof v === 'string' && parseNet(v, false) !== undefined ? v : undefined)),
  blockSize: intIn(0, 128, 'a block size (a prefix length)').optional(),
  ipipMode: encap.optional(),
  vxlanMode: encap.optional(),
  natOutgoing: bool.optional(),
  disabled: bool.optional(),
  disableBGPExport: bool.optional(),
  nodeSelector: selectorField('plain').optional(),
  namespaceSelector: selectorField('plain').optional(),
  allowedUses: list(z.enum(['Workload', 'Tunnel', 'LoadBalancer'])).optional(),
  assignmentMode: z.enum(['Automatic', 'Manual']).optional(),
})
  .superRefine((s, ctx) => {
    const net = parseNet(s.cidr, false);
    if (net === undefined) return;
    const issue = (path: string, message: string): void => ctx.addIssue({ code: 'custom', path: [path], message });
    if (!net.masked) issue('cidr', `expected a CIDR with no bits set after the prefix length (${JSON.stringify(net.network)}), got ${describeValue(s.cidr)}`);
    const ll = LINK_LOCAL[net.family];
    if (ll !== undefined && overlaps(net, ll)) issue('cidr', `expected a CIDR outside the link-local range ${ll.network}, got ${describeValue(s.cidr)}`);
    // clientv3: IPv4 blocks are /20-/32, IPv6 blocks /116-/128; an enabled pool must hold a block.
    const [lo, hi] = net.family === 4 ? [20, 32] : [116, 128];
    const block = s.blockSize ?? (net.family === 4 ? 26 : 122);
    if (s.blockSize !== undefined && (block < lo || block > hi)) issue('blockSize', `expected a block size ${lo}-${hi} for an IPv${net.family} pool, got ${block}`);
    else if (s.disabled !== true && net.prefix > block) issue('cidr', `expected a pool at least as large as its /${block} blocks, got ${describeValue(s.cidr)}`);
    const ipip = s.ipipMode !== undefined && s.ipipMode !== 'Never';
    const vxlan = s.vxlanMode !== undefined && s.vxlanMode !== 'Never';
    if (net.family === 6 && ipip) issue('ipipMode', `expected ipipMode "Never" on an IPv6 pool, got ${JSON.stringify(s.ipipMode)}`);
    else if (ipip && vxlan) issue('vxlanMode', 'expected at most one of ipipMode and vxlanMode to be enabled');
    const uses = s.allowedUses ?? [];
    if (uses.includes('LoadBalancer')) {
      if (uses.some((u) => u !== 'LoadBalancer')) issue('allowedUses', 'expected LoadBalancer alone: it cannot be combined with Workload or Tunnel');
      if (ipip || vxlan) issue(ipip ? 'ipipMode' : 'vxlanMode', 'expected no IPIP or VXLAN on a LoadBalancer pool');
      if (s.nodeSelector !== undefined && s.nodeSelector !== 'all()') issue('nodeSelector', `expected nodeSelector "all()" on a LoadBalancer pool, got ${describeValue(s.nodeSelector)}`);
    }
  })
  .transform((s) => {
    const v6 = parseNet(s.cidr, false)?.family === 6;
    return {
      ...s,
      blockSize: s.blockSize ?? (v6 ? 122 : 26),
      ipipMode: s.ipipMode ?? 'Never',
      vxlanMode: s.vxlanMode ?? 'Never',
      natOutgoing: s.natOutgoing ?? false,
      disabled: s.disabled ?? false,
      disableBGPExport: s.disableBGPExport ?? false,
      nodeSelector: s.nodeSelector ?? 'all()',
      allowedUses: s.allowedUses !== undefined && s.allowedUses.length > 0 ? s.allowedUses : (['Workload', 'Tunnel'] as const).slice(),
      assignmentMode: s.assignmentMode ?? 'Automatic',
    };
  });

export const ipPool: z.ZodType<IPPool> = strict({
  ...typeMeta(calico, 'IPPool'),
  metadata: clusterMeta(subdomain),
  spec: poolSpec,
});
