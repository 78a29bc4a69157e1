// Calico's Rule and EntityRule (projectcalico.org/v3 policy_common.go) with the checks of
// libcalico-go's validator v3 (validateRule, validateEntityRule, validateICMPFields, validatePort,
// validateProtocol, validateHTTPRule) as of Calico 3.30/3.31.
import { z } from 'zod';
import { annotationsMap, checked, Fail, intIn, list, selectorField, str, strict, stringMatching, text } from './fields.js';
import { DNS1123_SUBDOMAIN_TEXT, isDns1123Subdomain, isPortName } from './k8s-names.js';
import { parseNet } from './net-check.js';
import { describeValue } from './problems.js';
import type { CalicoPort, CalicoProtocol, CalicoProtocolName, CalicoRule, EntityRule, HttpMatch, IcmpFields } from './types.js';

// ───────────────────────────── protocols and ports ─────────────────────────────

// validateProtocol accepts exactly these spellings (protocolRegex); numorstring keeps the case
// as written, so "tcp" fails validation upstream too.
const PROTOCOL_NAMES: readonly CalicoProtocolName[] = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'];
const PROTOCOL_TEXT = 'a protocol name (TCP, UDP, ICMP, ICMPv6, SCTP or UDPLite) or a protocol number 1-255';

function parseProtocol(v: unknown): CalicoProtocol | Fail | undefined {
  // Uint8OrString turns an all-digit string into a number before validation.
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  if (n !== undefined) return Number.isInteger(n) && n >= 1 && n <= 255 ? n : undefined;
  if (typeof v !== 'string') return undefined;
  const exact = PROTOCOL_NAMES.find((p) => p === v);
  if (exact !== undefined) return exact;
  const folded = PROTOCOL_NAMES.find((p) => p.toLowerCase() === v.toLowerCase());
  if (folded !== undefined) return new Fail(`expected ${PROTOCOL_TEXT}, got ${describeValue(v)} (names are case-sensitive: write ${JSON.stringify(folded)})`);
  return undefined;
}

export const protocolField: z.ZodType<CalicoProtocol> = checked(PROTOCOL_TEXT, parseProtocol);

/** numorstring.Protocol.SupportsPorts: TCP, UDP and SCTP by name or number. */
export function supportsPorts(p: CalicoProtocol | undefined): boolean {
  return p === 'TCP' || p === 'UDP' || p === 'SCTP' || p === 6 || p === 17 || p === 132;
}

const PORT_TEXT = 'a port number 1-65535, a range "a:b" or a named port';

/** numorstring.Port: a single port becomes a number, a range stays "min:max", a name stays a name. */
function parsePort(v: unknown): CalicoPort | Fail | undefined {
  const inRange = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof v === 'number') return inRange(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return inRange(Number(v)) ? Number(v) : undefined;
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range !== null) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (!inRange(lo) || !inRange(hi)) return undefined;
    if (lo > hi) return new Fail(`expected a port range "a:b" with a <= b, got ${describeValue(v)}`);
    return lo === hi ? lo : `${lo}:${hi}`;
  }
  return isPortName(v) ? v : undefined;
}

const portField: z.ZodType<CalicoPort> = checked(PORT_TEXT, parsePort);

// ───────────────────────────── nets ─────────────────────────────

/** A "net" field: a CIDR or single address, with no host bits set (validateIPNetwork). */
const calicoNet: z.ZodType<string> = checked('a CIDR such as "10.0.0.0/8" or an IP address', (v) => {
  if (typeof v !== 'string') return undefined;
  const net = parseNet(v, true);
  if (net === undefined) return undefined;
  if (!net.masked) return new Fail(`expected a CIDR with no bits set after the prefix length (${JSON.stringify(net.network)}), got ${describeValue(v)}`);
  return v;
});

function familyOf(cidr: string): 4 | 6 | undefined {
  return parseNet(cidr, true)?.family;
}

// ───────────────────────────── EntityRule ─────────────────────────────

const serviceName = stringMatching(isDns1123Subdomain, DNS1123_SUBDOMAIN_TEXT);

const entityRule: z.ZodType<EntityRule> = strict({
  nets: list(calicoNet, { max: 256 }).optional(),
  notNets: list(calicoNet, { max: 256 }).optional(),
  selector: selectorField('plain').optional(),
  notSelector: selectorField('plain').optional(),
  namespaceSelector: selectorField('namespace').optional(),
  ports: list(portField, { max: 50 }).optional(),
  notPorts: list(portField, { max: 50 }).optional(),
  serviceAccounts: strict({ names: list(str).optional(), selector: selectorField('plain').optional() }).optional(),
  services: strict({ name: serviceName, namespace: serviceName.optional() }).optional(),
  domains: list(str).optional(),
}).superRefine((e, ctx) => {
  if (e.services === undefined) return;
  // A service rule takes its endpoints' addresses and identities from the Service itself.
  const clash = (field: string, what: string): void =>
    ctx.addIssue({ code: 'custom', path: [field], message: `expected no ${what} together with services` });
  if ((e.namespaceSelector ?? '') !== '') clash('namespaceSelector', 'namespaceSelector');
  if ((e.selector ?? '') !== '') clash('selector', 'selector');
  if ((e.notSelector ?? '') !== '') clash('notSelector', 'notSelector');
  if (e.serviceAccounts !== undefined) clash('serviceAccounts', 'serviceAccounts');
  if ((e.nets ?? []).length > 0) clash('nets', 'nets');
  if ((e.notNets ?? []).length > 0) clash('notNets', 'notNets');
});

// ───────────────────────────── Rule ─────────────────────────────

const icmpFields: z.ZodType<IcmpFields> = strict({
  type: intIn(0, 254, 'an ICMP type 0-254').optional(),
  code: intIn(0, 255, 'an ICMP code 0-255').optional(),
}).superRefine((f, ctx) => {
  // The kernel (and so Calico) cannot match an ICMP code without its type.
  if (f.code !== undefined && f.type === undefined)
    ctx.addIssue({ code: 'custom', path: ['code'], message: 'expected an ICMP type as well: a code cannot be matched without a type' });
});

const httpPath = strict({ exact: text({ max: 1024 }).optional(), prefix: text({ max: 1024 }).optional() }).superRefine((p, ctx) => {
  const set = [p.exact, p.prefix].filter((x) => x !== undefined && x !== '');
  if (set.length !== 1) {
    ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of "exact" or "prefix"' });
    return;
  }
  const v = set[0] ?? '';
  if (!v.startsWith('/') || /[? #]/.test(v))
    ctx.addIssue({ code: 'custom', path: [p.exact !== undefined && p.exact !== '' ? 'exact' : 'prefix'], message: `expected a path starting with "/" and without "?", "#" or spaces, got ${describeValue(v)}` });
});

const httpMatch: z.ZodType<HttpMatch> = strict({
  methods: list(str, { max: 20 }).optional(),
  paths: list(httpPath, { max: 20 }).optional(),
}).superRefine((h, ctx) => {
  const seen = new Set<string>();
  (h.methods ?? []).forEach((m, i) => {
    if (seen.has(m)) ctx.addIssue({ code: 'custom', path: ['methods', i], message: `expected each method once, got ${describeValue(m)} again` });
    seen.add(m);
  });
});

const isIcmp = (p: CalicoProtocol | undefined): boolean => p === 'ICMP' || p === 1;
const isIcmpV6 = (p: CalicoProtocol | undefined): boolean => p === 'ICMPv6' || p === 58;
const show = (p: CalicoProtocol): string => (typeof p === 'number' ? String(p) : JSON.stringify(p));

export const calicoRule: z.ZodType<CalicoRule> = strict({
  action: z.enum(['Allow', 'Deny', 'Log', 'Pass']),
  ipVersion: checked<4 | 6>('4 or 6', (v) => (v === 4 || v === 6 ? v : undefined)).optional(),
  protocol: protocolField.optional(),
  notProtocol: protocolField.optional(),
  icmp: icmpFields.optional(),
  notICMP: icmpFields.optional(),
  source: entityRule.optional(),
  destination: entityRule.optional(),
  http: httpMatch.optional(),
  metadata: strict({ annotations: annotationsMap.optional() }).optional(),
}).superRefine((r, ctx) => {
  const protocolText = r.protocol === undefined ? 'no protocol' : `protocol ${show(r.protocol)}`;

  // Ports only exist for TCP, UDP and SCTP; Calico requires the rule to say which.
  if (!supportsPorts(r.protocol)) {
    for (const side of ['source', 'destination'] as const) {
      for (const field of ['ports', 'notPorts'] as const) {
        if ((r[side]?.[field] ?? []).length > 0)
          ctx.addIssue({ code: 'custom', path: [side, field], message: `expected protocol TCP, UDP or SCTP on a rule that matches ${field}, got ${protocolText}` });
      }
    }
  }
  if (r.http !== undefined && r.action !== 'Allow')
    ctx.addIssue({ code: 'custom', path: ['http'], message: `expected an http match only on an Allow rule, got action ${JSON.stringify(r.action)}` });
  if (r.http !== undefined && r.protocol !== undefined && r.protocol !== 'TCP' && r.protocol !== 6)
    ctx.addIssue({ code: 'custom', path: ['protocol'], message: `expected protocol TCP (or none) on a rule with an http match, got ${show(r.protocol)}` });
  if (r.icmp !== undefined && !isIcmp(r.protocol) && !isIcmpV6(r.protocol))
    ctx.addIssue({ code: 'custom', path: ['icmp'], message: `expected protocol ICMP or ICMPv6 on a rule with icmp fields, got ${protocolText}` });
  if (r.ipVersion !== undefined) {
    for (const field of ['protocol', 'notProtocol'] as const) {
      const p = r[field];
      if ((isIcmp(p) && r.ipVersion !== 4) || (isIcmpV6(p) && r.ipVersion !== 6))
        ctx.addIssue({ code: 'custom', path: ['ipVersion'], message: `expected ipVersion ${isIcmp(p) ? 4 : 6} with ${field} ${show(p as CalicoProtocol)}, got ${r.ipVersion}` });
    }
  }
  // All CIDRs of one rule must be of one family, and of the rule's ipVersion when it has one.
  let seen: 4 | 6 | undefined;
  for (const side of ['source', 'destination'] as const) {
    for (const field of ['nets', 'notNets'] as const) {
      (r[side]?.[field] ?? []).forEach((cidr, i) => {
        const fam = familyOf(cidr);
        if (fam === undefined) return;
        if (r.ipVersion !== undefined && fam !== r.ipVersion) {
          ctx.addIssue({ code: 'custom', path: [side, field, i], message: `expected an IPv${r.ipVersion} CIDR to match the rule's ipVersion ${r.ipVersion}, got ${describeValue(cidr)}` });
        } else if (seen !== undefined && fam !== seen) {
          ctx.addIssue({ code: 'custom', path: [side, field, i], message: `expected an IPv${seen} CIDR like the rule's others (a rule cannot mix IPv4 and IPv6), got ${describeValue(cidr)}` });
        }
        seen ??= fam;
      });
    }
  }
  // A destination service carries its own ports.
  if (r.destination?.services !== undefined) {
    for (const field of ['ports', 'notPorts'] as const) {
      if ((r.destination[field] ?? []).length > 0)
        ctx.addIssue({ code: 'custom', path: ['destination', field], message: `expected no ${field} together with destination services (the service's own ports are used)` });
    }
  }
});

/**
 * Checks that depend on where a rule sits (validateNetworkPolicySpec and its global variant):
 * services only on the remote side, http only on ingress, service namespaces in global policy.
 */
export function checkRuleDirections(
  spec: { ingress?: CalicoRule[] | undefined; egress?: CalicoRule[] | undefined },
  ctx: z.RefinementCtx,
  global: boolean,
): void {
  (spec.egress ?? []).forEach((r, i) => {
    if (r.source?.services !== undefined)
      ctx.addIssue({ code: 'custom', path: ['egress', i, 'source', 'services'], message: 'expected services only in the destination of an egress rule' });
    if (r.http !== undefined)
      ctx.addIssue({ code: 'custom', path: ['egress', i, 'http'], message: 'expected no http match on an egress rule (HTTP matching applies to ingress only)' });
    if (global && r.destination?.services !== undefined && (r.destination.services.namespace ?? '') === '')
      ctx.addIssue({ code: 'custom', path: ['egress', i, 'destination', 'services', 'namespace'], message: 'required field is missing; expected the service namespace (a global policy has no namespace of its own)' });
  });
  (spec.ingress ?? []).forEach((r, i) => {
    if (r.destination?.services !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ingress', i, 'destination', 'services'], message: 'expected services only in the source of an ingress rule' });
    if (global && r.source?.services !== undefined && (r.source.services.namespace ?? '') === '')
      ctx.addIssue({ code: 'custom', path: ['ingress', i, 'source', 'services', 'namespace'], message: 'required field is missing; expected the service namespace (a global policy has no namespace of its own)' });
  });
}
