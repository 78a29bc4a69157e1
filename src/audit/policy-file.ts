// Reads an audit policy file (audit.k8s.io/v1 Policy, YAML or JSON) as kube-apiserver's
// --audit-policy-file does, rejecting what Kubernetes rejects; every problem names the file, the
// field path and what was expected.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError, type Problem } from '../errors/index.js';
import type { AuditLevel, AuditPolicy, AuditStage, GroupResources, PolicyRuleSpec } from './event.js';

const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: readonly AuditStage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];
const RULE_FIELDS = ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseAuditPolicy(text: string, file: string): AuditPolicy {
  const problems: Problem[] = [];
  const bad = (path: string, message: string): void => void problems.push({ file, path, message });
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UserError({ file, message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` });
  }
  if (!isRecord(doc)) throw new UserError({ file, message: 'expected an audit.k8s.io/v1 Policy: a mapping with kind: Policy and rules' });
  if (doc.apiVersion !== 'audit.k8s.io/v1') bad('apiVersion', `expected "audit.k8s.io/v1", got ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== 'Policy') bad('kind', `expected "Policy", got ${JSON.stringify(doc.kind)}`);
  for (const k of Object.keys(doc)) if (!['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields'].includes(k)) bad(k, 'unknown field; expected apiVersion, kind, metadata, rules, omitStages or omitManagedFields');

  const strings = (v: unknown, path: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return void bad(path, `expected a list of strings, got ${JSON.stringify(v)}`);
    v.forEach((x, i) => typeof x !== 'string' && bad(`${path}[${i}]`, `expected a string, got ${JSON.stringify(x)}`));
    return v.filter((x): x is string => typeof x === 'string');
  };
  const stages = (v: unknown, path: string): AuditStage[] | undefined => {
    const list = strings(v, path);
    list?.forEach((x, i) => !STAGES.includes(x as AuditStage) && bad(`${path}[${i}]`, `expected a stage (${STAGES.join(', ')}), got ${JSON.stringify(x)}`));
    return list?.filter((x): x is AuditStage => STAGES.includes(x as AuditStage));
  };

  const rules: PolicyRuleSpec[] = [];
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) bad('rules', 'expected a non-empty list of rules (the first matching rule decides the level)');
  else
    doc.rules.forEach((raw, i) => {
      const at = `rules[${i}]`;
      if (!isRecord(raw)) return bad(at, 'expected a rule mapping with at least a level');
      for (const k of Object.keys(raw)) if (!RULE_FIELDS.includes(k)) bad(`${at}.${k}`, `unknown field; expected one of ${RULE_FIELDS.join(', ')}`);
      if (!LEVELS.includes(raw.level as AuditLevel)) bad(`${at}.level`, `expected ${LEVELS.join(', ')}, got ${JSON.stringify(raw.level)}`);
      const resources: GroupResources[] = [];
      if (raw.resources !== undefined) {
        if (!Array.isArray(raw.resources)) bad(`${at}.resources`, 'expected a list of {group, resources, resourceNames}');
        else
          raw.resources.forEach((g, j) => {
            const gp = `${at}.resources[${j}]`;
            if (!isRecord(g)) return bad(gp, 'expected {group, resources, resourceNames}');
            for (const k of Object.keys(g)) if (!['group', 'resources', 'resourceNames'].includes(k)) bad(`${gp}.${k}`, 'unknown field; expected group, resources or resourceNames');
            if (g.group !== undefined && typeof g.group !== 'string') bad(`${gp}.group`, `expected an API group name ("" for the core group), got ${JSON.stringify(g.group)}`);
            const res = strings(g.resources, `${gp}.resources`);
            res?.forEach((r, k) => {
              // As Kubernetes' validation: "*", "pods", "pods/log", "*/log", "pods/*" — no other wildcards.
              if (!/^(\*|[a-z0-9.-]+)(\/(\*|[a-z0-9.-]+))?$/.test(r) || r === '*/*') bad(`${gp}.resources[${k}]`, `expected a resource such as "pods", "pods/log", "*/scale", "pods/*" or "*", got ${JSON.stringify(r)}`);
            });
            const names = strings(g.resourceNames, `${gp}.resourceNames`);
            resources.push({ ...(typeof g.group === 'string' ? { group: g.group } : {}), ...(res !== undefined ? { resources: res } : {}), ...(names !== undefined ? { resourceNames: names } : {}) });
          });
      }
      const urls = strings(raw.nonResourceURLs, `${at}.nonResourceURLs`);
      urls?.forEach((u, k) => {
        if (!u.startsWith('/') && u !== '*') bad(`${at}.nonResourceURLs[${k}]`, `expected a path starting with "/" (a trailing * matches a prefix), got ${JSON.stringify(u)}`);
        else if (u.slice(0, -1).includes('*')) bad(`${at}.nonResourceURLs[${k}]`, `expected * only at the end, got ${JSON.stringify(u)}`);
      });
      const namespaces = strings(raw.namespaces, `${at}.namespaces`);
      if ((urls?.length ?? 0) > 0 && (resources.length > 0 || (namespaces?.length ?? 0) > 0)) {
        bad(`${at}.nonResourceURLs`, 'expected a rule to match either resources/namespaces or nonResourceURLs, not both');
      }
      const rule: PolicyRuleSpec = {
        level: raw.level as AuditLevel,
        ...(strings(raw.users, `${at}.users`) !== undefined ? { users: strings(raw.users, `${at}.users`) ?? [] } : {}),
        ...(strings(raw.userGroups, `${at}.userGroups`) !== undefined ? { userGroups: strings(raw.userGroups, `${at}.userGroups`) ?? [] } : {}),
        ...(strings(raw.verbs, `${at}.verbs`) !== undefined ? { verbs: strings(raw.verbs, `${at}.verbs`) ?? [] } : {}),
        ...(raw.resources !== undefined ? { resources } : {}),
        ...(namespaces !== undefined ? { namespaces } : {}),
        ...(urls !== undefined ? { nonResourceURLs: urls } : {}),
        ...(raw.omitStages !== undefined ? { omitStages: stages(raw.omitStages, `${at}.omitStages`) ?? [] } : {}),
      };
      rules.push(rule);
    });
  const omitStages = stages(doc.omitStages, 'omitStages');
  // Duplicate problems arise from reading a list twice above (users, verbs…): report each once.
  const unique = [...new Map(problems.map((p) => [`${p.path ?? ''}\n${p.message}`, p])).values()];
  if (unique.length > 0) throw new UserError(unique);
  return { rules, ...(omitStages !== undefined ? { omitStages } : {}) };
}

export function readAuditPolicy(file: string): AuditPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError({ file, path: '--audit-policy-file', message: `cannot read the audit policy: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
  }
  return parseAuditPolicy(text, file);
}
