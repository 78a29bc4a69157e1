// audit.k8s.io/v1 Events and the audit policy that decides how much of a request to record
// (None, Metadata, Request, RequestResponse), with the canonical JSON the hash chain covers.

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: { username: string; uid?: string; groups?: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: { metadata: Record<string, never>; code: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** JSON with object keys sorted at every depth: the bytes the hash chain is computed over. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export interface GroupResources {
  /** API group; '' (or absent) is the core group. */
  group?: string;
  // Plurals, `pods/log`, `*`, `*/scale` (any resource's scale), `pods/*`; empty or absent: every resource of the group.
  resources?: string[];
  /** Only objects of these names (a request without a name never matches). */
  resourceNames?: string[];
}

export interface PolicyRuleSpec {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  /** `""` matches cluster-scoped resources. */
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: AuditStage[];
}

export interface AuditPolicy {
  rules: PolicyRuleSpec[];
  omitStages?: AuditStage[];
}

export interface PolicyInput {
  user: string;
  groups: readonly string[];
  verb: string;
  resourceRequest: boolean;
  path: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/** The default: policy kinds' writes in full, health probes not at all, the rest as metadata. */
export const DEFAULT_AUDIT_POLICY: AuditPolicy = {
  rules: [
    { level: 'None', nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version'] },
    // An issued token's secret is in the create response: never record bodies of token requests.
    { level: 'Metadata', resources: [{ group: 'auth.margay.io' }] },
    // Agents post flow logs every few seconds: who posted when is enough, the bodies are the flow store's.
    { level: 'Metadata', resources: [{ group: 'flows.margay.io', resources: ['flowbatches'] }], omitStages: ['RequestReceived'] },
    {
      level: 'RequestResponse',
      verbs: WRITES,
      resources: [
        { group: 'networking.k8s.io', resources: ['networkpolicies'] },
        { group: 'policy.networking.k8s.io' },
        { group: 'projectcalico.org', resources: ['networkpolicies', 'globalnetworkpolicies', 'stagednetworkpolicies', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'tiers', 'networksets', 'globalnetworksets'] },
        { group: 'rbac.authorization.k8s.io' },
        { group: 'alerts.margay.io', resources: ['alerts'] },
      ],
    },
    // Reads are the bulk of the traffic; their RequestReceived stage adds nothing the
    // ResponseComplete record does not say (a read changes nothing).
    { level: 'Metadata', verbs: ['get', 'list', 'watch'], omitStages: ['RequestReceived'] },
    { level: 'Metadata' },
  ],
};

function matchesUrl(patterns: string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

// Kubernetes' resource matching: `*`, `pods`, `pods/log`, `*/log`, `pods/*`.
function matchesResource(g: GroupResources, r: PolicyInput): boolean {
  if ((g.group ?? '') !== (r.apiGroup ?? '')) return false;
  if (g.resources !== undefined && g.resources.length > 0) {
    const res = r.resource ?? '';
    const full = r.subresource !== undefined ? `${res}/${r.subresource}` : res;
    const hit = g.resources.some((p) => {
      if (p === '*' || p === full) return true;
      if (p.startsWith('*/')) return r.subresource !== undefined && p.slice(2) === r.subresource;
      if (p.endsWith('/*')) return r.subresource !== undefined && p.slice(0, -2) === res;
      return false;
    });
    if (!hit) return false;
  }
  if (g.resourceNames !== undefined && g.resourceNames.length > 0) return r.name !== undefined && g.resourceNames.includes(r.name);
  return true;
}

/** Whether one rule applies to a request (every field it sets must match). */
export function ruleMatches(rule: PolicyRuleSpec, r: PolicyInput): boolean {
  if (rule.users !== undefined && rule.users.length > 0 && !rule.users.includes(r.user)) return false;
  if (rule.userGroups !== undefined && rule.userGroups.length > 0 && !rule.userGroups.some((g) => r.groups.includes(g))) return false;
  if (rule.verbs !== undefined && rule.verbs.length > 0 && !rule.verbs.includes(r.verb) && !rule.verbs.includes('*')) return false;
  const resourceRule = (rule.resources?.length ?? 0) > 0 || (rule.namespaces?.length ?? 0) > 0;
  const urlRule = (rule.nonResourceURLs?.length ?? 0) > 0;
  if (resourceRule && !r.resourceRequest) return false;
  if (urlRule && (r.resourceRequest || !matchesUrl(rule.nonResourceURLs ?? [], r.path))) return false;
  if ((rule.resources?.length ?? 0) > 0 && !(rule.resources ?? []).some((g) => matchesResource(g, r))) return false;
  if ((rule.namespaces?.length ?? 0) > 0 && !(rule.namespaces ?? []).includes(r.namespace ?? '')) return false;
  return true;
}

/** The first matching rule decides (as in Kubernetes); no rule: None. */
export function evaluatePolicy(policy: AuditPolicy, r: PolicyInput): { level: AuditLevel; omitStages: AuditStage[] } {
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, r)) continue;
    return { level: rule.level, omitStages: [...new Set([...(policy.omitStages ?? []), ...(rule.omitStages ?? [])])] };
  }
  return { level: 'None', omitStages: [] };
}
