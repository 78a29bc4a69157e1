// Whether an audit event satisfies an Alert's audit condition. Pure: the event, the condition and
// a kind table in, a yes or no out. Only successful writes and reads (code < 400) at the
// ResponseComplete stage count: an alert is about what happened, not what was attempted.
import type { AuditEvent } from '../audit/index.js';
import type { AuditCondition } from '../resources/index.js';

/** `Kind` → the (group, plural) pairs it names; `Kind.group` narrows to one group. */
export type KindTable = ReadonlyMap<string, readonly { group: string; plural: string }[]>;

/** The tier a policy object sits in, or undefined for a kind that has no tier. */
export function tierOf(group: string, plural: string, object: unknown, name: string | undefined): string | undefined {
  const spec = typeof object === 'object' && object !== null ? (object as { spec?: { tier?: unknown } }).spec : undefined;
  if (group === 'projectcalico.org') {
    if (plural === 'tiers') return name;
    if (!['networkpolicies', 'globalnetworkpolicies', 'stagednetworkpolicies', 'stagedglobalnetworkpolicies'].includes(plural)) return plural === 'stagedkubernetesnetworkpolicies' ? 'default' : undefined;
    if (typeof spec?.tier === 'string' && spec.tier !== '') return spec.tier;
    // Without the body (Metadata level), Calico's naming convention `tier.name` still tells.
    const dot = name?.indexOf('.') ?? -1;
    return name !== undefined && dot > 0 ? name.slice(0, dot) : 'default';
  }
  if (group === 'networking.k8s.io' && plural === 'networkpolicies') return 'default';
  if (group === 'policy.networking.k8s.io') {
    if (plural === 'adminnetworkpolicies') return 'adminnetworkpolicy';
    if (plural === 'baselineadminnetworkpolicies') return 'baselineadminnetworkpolicy';
    if (plural === 'clusternetworkpolicies') return typeof spec?.tier === 'string' && spec.tier === 'Baseline' ? 'kube-baseline' : 'kube-admin';
  }
  return undefined;
}

export function matchesAuditCondition(c: AuditCondition, e: AuditEvent, kinds: KindTable): boolean {
  if (e.stage !== 'ResponseComplete') return false;
  const code = e.responseStatus?.code ?? 0;
  if (code < 200 || code >= 400) return false;
  const ref = e.objectRef;
  if (c.verbs !== undefined && !c.verbs.includes(e.verb)) return false;
  if (c.users !== undefined && !c.users.includes(e.user.username)) return false;
  if (c.namespaces !== undefined && (ref?.namespace === undefined || !c.namespaces.includes(ref.namespace))) return false;
  if (c.names !== undefined && (ref?.name === undefined || !c.names.includes(ref.name))) return false;
  if (ref?.subresource !== undefined && c.kinds !== undefined) return false;
  const group = ref?.apiGroup ?? '';
  const plural = ref?.resource;
  if (c.kinds !== undefined) {
    if (plural === undefined) return false;
    const hit = c.kinds.some((k) => {
      const [base, ...rest] = k.split('.');
      const only = rest.join('.');
      return (kinds.get(base ?? '') ?? []).some((t) => t.plural === plural && t.group === group && (only === '' || only === group));
    });
    if (!hit) return false;
  }
  if (c.tiers !== undefined) {
    if (plural === undefined) return false;
    const objects = [e.responseObject, e.requestObject].filter((o) => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind !== 'Status');
    const tiers = new Set((objects.length > 0 ? objects : [undefined]).map((o) => tierOf(group, plural, o, ref?.name)));
    if (![...tiers].some((t) => t !== undefined && c.tiers?.includes(t))) return false;
  }
  return true;
}
