// The Alert kind (alerts.margay.io/v1, cluster-scoped): a condition over audit events, a severity
// and a webhook. The condition is an object with one member per source (`audit` now; `flow`
// later), so adding flow-log conditions extends the schema without changing existing alerts.
import { z } from 'zod';
import { bool, checked, clusterMeta, Fail, list, strict, text, typeMeta } from './fields.js';
import { DNS1123_SUBDOMAIN_TEXT, isDns1123Subdomain } from './k8s-names.js';
import type { Alert, AuditCondition } from './types.js';

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
/** Kinds an audit condition may name (what the API serves). */
export const ALERTABLE_KINDS = [
  'Namespace', 'Node', 'Pod', 'ServiceAccount', 'NetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy',
  'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedKubernetesNetworkPolicy', 'Tier', 'NetworkSet',
  'GlobalNetworkSet', 'HostEndpoint', 'Profile', 'IPPool', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Alert',
];

const verb = checked(`a verb: ${VERBS.join(', ')}`, (v) => (typeof v === 'string' && VERBS.includes(v) ? v : undefined));
const kind = checked(`a kind such as Pod, NetworkPolicy or NetworkPolicy.projectcalico.org (${ALERTABLE_KINDS.join(', ')})`, (v) => {
  if (typeof v !== 'string') return undefined;
  const m = /^([A-Z][A-Za-z0-9]*)(?:\.([a-z0-9]([a-z0-9.-]*[a-z0-9])?))?$/.exec(v);
  return m !== null && ALERTABLE_KINDS.includes(m[1] ?? '') ? v : undefined;
});
const nonEmpty = text({ min: 1 });

const auditCondition: z.ZodType<AuditCondition> = strict({
  verbs: list(verb, { min: 1 }).optional(),
  kinds: list(kind, { min: 1 }).optional(),
  namespaces: list(nonEmpty, { min: 1 }).optional(),
  names: list(nonEmpty, { min: 1 }).optional(),
  users: list(nonEmpty, { min: 1 }).optional(),
  tiers: list(nonEmpty, { min: 1 }).optional(),
})
  .superRefine((c, ctx) => {
    // An empty condition would fire on every request, reads included: almost surely a mistake.
    if (Object.values(c).every((v) => v === undefined)) ctx.addIssue({ code: 'custom', message: 'expected at least one of verbs, kinds, namespaces, names, users or tiers' });
  })
  .transform((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as AuditCondition);

const webhookUrl = checked('an http:// or https:// URL', (v) => {
  if (typeof v !== 'string') return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return new Fail(`expected an http:// or https:// URL, got the scheme ${JSON.stringify(u.protocol.slice(0, -1))}`);
  return v;
});

export const alert: z.ZodType<Alert> = strict({
  ...typeMeta('alerts.margay.io/v1', 'Alert'),
  metadata: clusterMeta({ test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT }),
  spec: strict({
    description: z.string().optional(),
    severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
    // One member per condition source; today only `audit` (flow-log conditions will be `flow`).
    condition: strict({ audit: auditCondition }),
    destination: strict({ webhook: strict({ url: webhookUrl }) }),
    disabled: bool.optional(),
  }),
  status: z.unknown().optional(),
}).transform(({ status: _s, ...a }) => a as Alert);
