// projectcalico.org/v3 policies and profiles → the normalized model, scoping selectors exactly as
// Calico's rule conversion does: a namespaced policy's rule that names any selector is confined to
// its namespace unless the rule names a namespaceSelector; notSelector itself is never scoped.
import { parseCidr, type Cidr } from '../net/index.js';
import type {
  CalicoNetworkPolicy,
  CalicoRule,
  EntityRule,
  GlobalNetworkPolicy,
  Profile,
  StagedGlobalNetworkPolicy,
  StagedNetworkPolicy,
} from '../resources/index.js';
import type { Selector } from '../selector/index.js';
import type { EntityKind, EntitySelector, NormPolicy, NormProfile, NormRule, PeerMatch } from './model.js';
import { calicoPortSet, protocolNumber } from './ports.js';
import {
  conjunction,
  inNamespace,
  namespaceSelectorOf,
  parseCalicoSelector,
  serviceAccountNamesOf,
  serviceAccountSelectorOf,
} from './scoping.js';

const ENDPOINT_KINDS: ReadonlySet<EntityKind> = new Set(['pod', 'hostEndpoint']);
const POD_KINDS: ReadonlySet<EntityKind> = new Set(['pod']);

type AnyCalicoPolicy = CalicoNetworkPolicy | GlobalNetworkPolicy | StagedNetworkPolicy | StagedGlobalNetworkPolicy;

/** The key a policy is known by; staged policies name their enforced twin by it. */
export function calicoPolicyId(tier: string, name: string, namespace?: string): string {
  return namespace === undefined ? `${tier}|gnp|${name}` : `${tier}|np|${namespace}/${name}`;
}

export function convertCalicoPolicy(p: AnyCalicoPolicy): NormPolicy | undefined {
  const namespace = 'namespace' in p.metadata ? p.metadata.namespace : undefined;
  const spec = p.spec;
  let staged: 'Set' | 'Delete' | undefined;
  if ('stagedAction' in spec) {
    // Learn and Ignore are recommendation-engine states: they stage nothing.
    if (spec.stagedAction !== 'Set' && spec.stagedAction !== 'Delete') return undefined;
    staged = spec.stagedAction;
  }
  const nsSelector = 'namespaceSelector' in spec && spec.namespaceSelector ? spec.namespaceSelector : undefined;
  const subject = conjunction([
    namespace !== undefined ? inNamespace(namespace) : undefined,
    parseCalicoSelector(spec.selector),
    nsSelector !== undefined ? namespaceSelectorOf(parseCalicoSelector(nsSelector)) : undefined,
    spec.serviceAccountSelector ? serviceAccountSelectorOf(parseCalicoSelector(spec.serviceAccountSelector)) : undefined,
  ]);
  const id = calicoPolicyId(spec.tier, p.metadata.name, namespace);
  const types = { ingress: spec.types.includes('Ingress'), egress: spec.types.includes('Egress') };
  return {
    id: staged ? `staged:${id}` : id,
    name: namespace === undefined ? p.metadata.name : `${namespace}/${p.metadata.name}`,
    ...(namespace !== undefined ? { namespace } : {}),
    tier: spec.tier,
    ...(spec.order !== undefined ? { order: spec.order } : {}),
    subject: { selector: subject, kinds: namespace !== undefined ? POD_KINDS : ENDPOINT_KINDS },
    ingress: (spec.ingress ?? []).flatMap((r, i) => convertCalicoRule(r, i, namespace)),
    egress: (spec.egress ?? []).flatMap((r, i) => convertCalicoRule(r, i, namespace)),
    types,
    ...(staged ? { staged, stagedTarget: id } : {}),
    origin: {
      apiVersion: p.apiVersion,
      kind: p.kind,
      name: p.metadata.name,
      ...(namespace !== undefined ? { namespace } : {}),
    },
  };
}

export function convertProfile(p: Profile): NormProfile {
  return {
    name: p.metadata.name,
    ingress: (p.spec.ingress ?? []).flatMap((r, i) => convertCalicoRule(r, i, undefined)),
    egress: (p.spec.egress ?? []).flatMap((r, i) => convertCalicoRule(r, i, undefined)),
    origin: { apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name },
  };
}

export function convertCalicoRule(r: CalicoRule, index: number, namespace: string | undefined): NormRule[] {
  const protocol = r.protocol !== undefined ? protocolNumber(r.protocol) : undefined;
  return [
    {
      action: r.action,
      ...(r.ipVersion !== undefined ? { ipVersion: r.ipVersion } : {}),
      ...(protocol !== undefined ? { protocol } : {}),
      ...(r.notProtocol !== undefined ? { notProtocol: protocolNumber(r.notProtocol) } : {}),
      ...(r.icmp !== undefined ? { icmp: r.icmp } : {}),
      ...(r.notICMP !== undefined ? { notIcmp: r.notICMP } : {}),
      source: convertEntityRule(r.source, namespace, protocol),
      destination: convertEntityRule(r.destination, namespace, protocol),
      index,
    },
  ];
}

function convertEntityRule(er: EntityRule | undefined, namespace: string | undefined, protocol: number | undefined): PeerMatch {
  if (!er) return {};
  let scope: Selector | undefined;
  if (er.namespaceSelector) scope = namespaceSelectorOf(parseCalicoSelector(er.namespaceSelector));
  else if (namespace !== undefined) scope = inNamespace(namespace);
  const sa = er.serviceAccounts;
  const serviceAccounts =
    sa === undefined
      ? undefined
      : conjunction([
          sa.names && sa.names.length > 0 ? serviceAccountNamesOf(sa.names) : undefined,
          sa.selector ? serviceAccountSelectorOf(parseCalicoSelector(sa.selector)) : undefined,
        ]);
  // Calico scopes a rule to the policy's namespace when it names any selector at all; the
  // notSelector itself stays unscoped, so `notSelector` alone means "in my namespace, but not …".
  const selects = er.selector !== undefined || er.notSelector !== undefined || er.namespaceSelector !== undefined || sa !== undefined;
  const selector: EntitySelector | undefined = selects
    ? { selector: conjunction([scope, parseCalicoSelector(er.selector), serviceAccounts]) }
    : undefined;
  const ports = calicoPortSet(er.ports, protocol);
  const notPorts = calicoPortSet(er.notPorts, protocol);
  return {
    ...(er.nets && er.nets.length > 0 ? { nets: cidrs(er.nets) } : {}),
    ...(er.notNets && er.notNets.length > 0 ? { notNets: cidrs(er.notNets) } : {}),
    ...(selector ? { selector } : {}),
    ...(er.notSelector ? { notSelector: { selector: parseCalicoSelector(er.notSelector) } } : {}),
    ...(ports ? { ports } : {}),
    ...(notPorts ? { notPorts } : {}),
    ...(er.services ? { services: { name: er.services.name, namespace: er.services.namespace ?? namespace ?? 'default' } } : {}),
    ...(er.domains && er.domains.length > 0 ? { domains: er.domains } : {}),
  };
}

export function cidrs(texts: readonly string[]): Cidr[] {
  return texts.map(parseCidr).filter((c): c is Cidr => c !== undefined);
}
