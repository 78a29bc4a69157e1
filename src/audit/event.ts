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

export interface PolicyRuleSpec {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: { group?: string; resources?: string[] }[];
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
}

const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/** The default: policy kinds' writes in full, health probes not at all, the rest as metadata. */
export const DEFAULT_AUDIT_POLICY: AuditPolicy = {
  rules: [
    { level: 'None', nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version'] },
    {
      level: 'RequestResponse',
      verbs: WRITES,
      resources: [
        { group: 'networking.k8s.io', resources: ['networkpolicies'] },
        { group: 'policy.networking.k8s.io' },
        { group: 'projectcalico.org', resources: ['networkpolicies', 'globalnetworkpolicies', 'stagednetworkpolicies', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'tiers', 'networksets', 'globalnetworksets'] },
        { group: 'rbac.authorization.k8s.io' },
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

/** The first matching rule decides (as in Kubernetes); no rule: None. */
export function evaluatePolicy(policy: AuditPolicy, r: PolicyInput): { level: AuditLevel; omitStages: AuditStage[] } {
  for (const rule of policy.rules) {
    if (rule.users !== undefined && !rule.users.includes(r.user)) continue;
    if (rule.userGroups !== undefined && !rule.userGroups.some((g) => r.groups.includes(g))) continue;
    if (rule.verbs !== undefined && !rule.verbs.includes(r.verb)) continue;
    if (rule.nonResourceURLs !== undefined) {
      if (r.resourceRequest || !matchesUrl(rule.nonResourceURLs, r.path)) continue;
    }
    if (rule.resources !== undefined) {
      if (!r.resourceRequest) continue;
      const res = r.subresource !== undefined ? `${r.resource ?? ''}/${r.subresource}` : (r.resource ?? '');
      const hit = rule.resources.some((g) => (g.group ?? '') === (r.apiGroup ?? '') && (g.resources === undefined || g.resources.length === 0 || g.resources.includes(res) || g.resources.includes(r.resource ?? '') || g.resources.includes('*')));
      if (!hit) continue;
    }
    if (rule.namespaces !== undefined && !rule.namespaces.includes(r.namespace ?? '')) continue;
    return { level: rule.level, omitStages: [...(policy.omitStages ?? []), ...(rule.omitStages ?? [])] };
  }
  return { level: 'None', omitStages: [] };
}
