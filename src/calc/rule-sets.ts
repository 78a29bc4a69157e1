// Per-object facts shared by the incremental engine and the full recompute: which IP sets a
// policy's rules need, the sets' ids, and which members an entity puts in a set.
import { allSelector, selectorKey } from '../selector/index.js';
import type {
  Entity,
  EntityKind,
  EntitySelector,
  NamedPort,
  NormPolicy,
  NormProfile,
  NormRule,
  PeerMatch,
} from '../policy/index.js';
import type { ActivePolicy, ActiveProfile, IpSetSpec, PeerSets, RuleSets } from './types.js';

/** A set's spec plus the selector it is computed from. */
export interface IpSetDefinition {
  readonly spec: IpSetSpec;
  readonly selector: EntitySelector;
  /** For named-port sets: the port name and protocol members must declare. */
  readonly namedPort?: NamedPort;
}

const ANY_ENTITY: EntitySelector = { selector: allSelector };

function sortedKinds(kinds: ReadonlySet<EntityKind> | undefined): EntityKind[] | undefined {
  return kinds === undefined ? undefined : [...kinds].sort();
}

/** The set of addresses a rule selector stands for. */
export function selectorSetDefinition(sel: EntitySelector): IpSetDefinition {
  const kinds = sortedKinds(sel.kinds);
  const text = selectorKey(sel.selector);
  const id = `s:${kinds?.join(',') ?? ''}|${text}`;
  const spec: IpSetSpec = kinds === undefined ? { type: 'selector', id, selector: text } : { type: 'selector', id, selector: text, kinds };
  return { spec, selector: sel };
}

/**
 * The (address, protocol, port) set for one named port: the entities the peer's selector matches
 * (every entity when the peer has none), as the evaluator resolves named ports.
 */
export function namedPortSetDefinition(port: NamedPort, sel: EntitySelector | undefined): IpSetDefinition {
  const selector = sel ?? ANY_ENTITY;
  const kinds = sortedKinds(selector.kinds);
  const text = selectorKey(selector.selector);
  const id = `n:${JSON.stringify(port.name)}/${port.protocol ?? '*'}:${kinds?.join(',') ?? ''}|${text}`;
  const spec: IpSetSpec = {
    type: 'named-port',
    id,
    selector: text,
    ...(kinds !== undefined ? { kinds } : {}),
    port: port.name,
    ...(port.protocol !== undefined ? { protocol: port.protocol } : {}),
  };
  return { spec, selector, namedPort: port };
}

type SetCollector = Map<string, IpSetDefinition>;

function use(sets: SetCollector, def: IpSetDefinition): string {
  if (!sets.has(def.spec.id)) sets.set(def.spec.id, def);
  return def.spec.id;
}

function peerSets(peer: PeerMatch, sets: SetCollector): PeerSets {
  const named = (list: readonly NamedPort[] | undefined) => (list ?? []).map((n) => use(sets, namedPortSetDefinition(n, peer.selector)));
  const namedPorts = named(peer.ports?.named);
  const notNamedPorts = named(peer.notPorts?.named);
  return {
    ...(peer.selector !== undefined ? { selector: use(sets, selectorSetDefinition(peer.selector)) } : {}),
    ...(peer.notSelector !== undefined ? { notSelector: use(sets, selectorSetDefinition(peer.notSelector)) } : {}),
    ...(namedPorts.length > 0 ? { namedPorts } : {}),
    ...(notNamedPorts.length > 0 ? { notNamedPorts } : {}),
  };
}

function ruleSets(rules: readonly NormRule[] | undefined, sets: SetCollector): RuleSets[] {
  return (rules ?? []).map((r) => ({ source: peerSets(r.source, sets), destination: peerSets(r.destination, sets) }));
}

/** A policy with its rules' set ids, and the definitions of those sets (keyed by id). */
export function activePolicyOf(policy: NormPolicy): { active: ActivePolicy; sets: ReadonlyMap<string, IpSetDefinition> } {
  const sets: SetCollector = new Map();
  const ingress = ruleSets(policy.ingress, sets);
  const egress = ruleSets(policy.egress, sets);
  return { active: { policy, ingress, egress }, sets };
}

export function activeProfileOf(profile: NormProfile): { active: ActiveProfile; sets: ReadonlyMap<string, IpSetDefinition> } {
  const sets: SetCollector = new Map();
  const ingress = ruleSets(profile.ingress, sets);
  const egress = ruleSets(profile.egress, sets);
  return { active: { profile, ingress, egress }, sets };
}

const PROTOCOL_TEXT = new Map<number, string>([
  [6, 'tcp'],
  [17, 'udp'],
  [132, 'sctp'],
]);

/** A named-port set member: `10.0.0.1,tcp:8080`. */
export function namedPortMember(address: string, protocol: number, port: number): string {
  return `${address},${PROTOCOL_TEXT.get(protocol) ?? String(protocol)}:${port}`;
}

/**
 * The members an entity puts in a set once the set's selector matches it (duplicates kept: the
 * caller reference-counts, and an entity always adds and removes the same list).
 */
export function entitySetMembers(def: IpSetDefinition, e: Entity, out: string[]): void {
  // A host-networked pod's address is its node's: the node entity stands for it (as in the
  // evaluator's address index), so the pod itself puts nothing in any set.
  if (e.hostNetwork === true) return;
  const np = def.namedPort;
  if (np === undefined) {
    for (const ip of e.ips) out.push(ip.text);
    if (e.nets !== undefined) for (const net of e.nets) out.push(net.text);
    return;
  }
  for (const b of e.namedPorts) {
    if (b.name !== np.name || (np.protocol !== undefined && np.protocol !== b.protocol)) continue;
    for (const ip of e.ips) out.push(namedPortMember(ip.text, b.protocol, b.port));
  }
}
