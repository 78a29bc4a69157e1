// CalcState → RulesetModel: Margay's nftables layout for one node (see DESIGN.md). Pure: the
// same state and options give the same model; rule ids come from the caller's registry.
import { BugError } from '../errors/index.js';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../net/index.js';
import type { CalcState, EndpointPolicies, RuleSets } from '../calc/index.js';
import { failsafePorts, type Direction, type Entity, type NormRule, type PortRange } from '../policy/index.js';
import { NameTable } from './names.js';
import { RuleIdRegistry, logPrefix, type ImplicitDrop } from './rule-ids.js';
import { compileRun, addrInterval, type AddrInterval, type AddrTerm, type Box, type SimpleRule } from './compile.js';
import {
  deltaText,
  programText,
  quote,
  type NftChain,
  type NftSet,
  type NftVerdictMap,
  type RulesetModel,
  type SetType,
} from './model.js';

export interface RenderOptions {
  /** The table's name in family inet (`margay`). */
  readonly tableName: string;
  /** Pod interface name prefixes (`mgy`, `cali`): a matching interface with no endpoint chain is dropped. */
  readonly podInterfacePrefix: string | readonly string[];
  /**
   * The host-side interface of a local pod; undefined leaves it undispatched (and so dropped).
   * Host endpoints use their `interfaceName`; for one without, this may name the interface that
   * holds its expectedIPs (undefined: not enforced).
   */
  readonly interfaceOf: (endpoint: Entity) => string | undefined;
  /** NFLOG group of Log rules. */
  readonly logGroup: number;
  /** Where rule ids live; pass the same registry to every render of one node. */
  readonly ruleIds?: RuleIdRegistry;
  /** The packet-mark bit that carries "Pass" out of a helper chain (default 0x01000000). */
  readonly passMark?: number;
  /**
   * Runs of at least this many simple rules are compiled into one verdict-map lookup (default
   * 2; `Infinity` writes every rule sequentially, for comparison).
   */
  readonly compileMinRules?: number;
}

/** Fixed names. Everything else is named by a hash of what it stands for. */
export const CHAIN_FORWARD_EGRESS = 'fwd-egress';
export const CHAIN_FORWARD_INGRESS = 'fwd-ingress';
export const CHAIN_INPUT_EGRESS = 'in-egress';
export const CHAIN_INPUT_HOST = 'in-host';
export const CHAIN_OUTPUT_HOST = 'out-host';
export const MAP_EGRESS = 'egress-dispatch';
export const MAP_INGRESS = 'ingress-dispatch';
export const MAP_HOST_INGRESS = 'host-ingress-dispatch';
export const MAP_HOST_EGRESS = 'host-egress-dispatch';

const PORT_PROTOCOLS = [6, 17, 33, 132, 136];
/** ICMPv6 MLD query/report/done, router and neighbour solicitation/advertisement, redirect, MLDv2 report. */
const ND_TYPES = [130, 131, 132, 133, 134, 135, 136, 137, 143];
const PORT_GUARD = `meta l4proto { ${PORT_PROTOCOLS.join(', ')} }`;

export function renderModel(state: CalcState, options: RenderOptions): RulesetModel {
  return new Renderer(state, options).render();
}

/** The full program for `nft -f`: replaces the table atomically. */
export function renderRuleset(state: CalcState, options: RenderOptions): string {
  return programText(renderModel(state, options));
}

/** The transaction that turns the ruleset of `prev` into that of `next` ('' when equal). */
export function renderDelta(prev: CalcState, next: CalcState, options: RenderOptions): string {
  const ruleIds = options.ruleIds ?? new RuleIdRegistry();
  const o = { ...options, ruleIds };
  return deltaText(renderModel(prev, o), renderModel(next, o));
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

type Family = 4 | 6;

class Renderer {
  private readonly names = new NameTable();
  private readonly sets = new Map<string, NftSet>();
  private readonly chains = new Map<string, NftChain>();
  private readonly maps = new Map<string, NftVerdictMap>();
  private readonly ids: RuleIdRegistry;
  private readonly minRun: number;
  private readonly pass: number;
  private readonly prefixes: readonly string[];
  private readonly t: string;

  constructor(
    private readonly state: CalcState,
    private readonly o: RenderOptions,
  ) {
    this.ids = o.ruleIds ?? new RuleIdRegistry();
    this.pass = o.passMark ?? 0x01000000;
    this.minRun = Math.max(1, o.compileMinRules ?? 2);
    this.prefixes = typeof o.podInterfacePrefix === 'string' ? [o.podInterfacePrefix] : o.podInterfacePrefix;
    this.t = o.tableName;
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(this.t)) throw new BugError(`bad nftables table name ${this.t}`);
  }

  render(): RulesetModel {
    const egress = new Map<string, string>();
    const ingress = new Map<string, string>();
    // Deterministic: rule ids of policies and profiles in id order, so a fresh registry numbers
    // them the same whatever the endpoints are.
    for (const id of [...this.state.policies.keys()].sort()) {
      const a = this.state.policies.get(id);
      for (const d of ['ingress', 'egress'] as const) {
        if (a === undefined || !a.policy.types[d]) continue;
        (a.policy[d] ?? []).forEach((rule, pos) => this.ids.idFor('policy', id, a.policy.tier, d, pos, rule));
      }
    }
    for (const name of [...this.state.profiles.keys()].sort()) {
      const a = this.state.profiles.get(name);
      for (const d of ['ingress', 'egress'] as const) a?.profile[d].forEach((rule, pos) => this.ids.idFor('profile', name, undefined, d, pos, rule));
    }
    // Host endpoints: iifname (ingress, to the host) and oifname (egress, from the host) of their
    // interface; an all-interfaces (`*`) one catches every other non-pod, non-lo interface.
    const hostIn = new Map<string, string>();
    const hostOut = new Map<string, string>();
    let allInterfaces: { ingress: string; egress: string } | undefined;
    for (const id of [...this.state.endpoints.keys()].sort()) {
      const ep = this.state.endpoints.get(id) as EndpointPolicies;
      const host = ep.endpoint.kind === 'hostEndpoint';
      const iface = (host ? ep.endpoint.interfaceName : undefined) ?? this.o.interfaceOf(ep.endpoint);
      if (iface === undefined) continue;
      if (host && iface === '*') {
        allInterfaces ??= { ingress: this.endpointChain(ep, 'ingress', true), egress: this.endpointChain(ep, 'egress', true) };
        continue;
      }
      if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(iface)) throw new BugError(`bad interface name ${iface} for ${id}`);
      if (host) {
        // Loopback and pod interfaces are never host endpoints; the first endpoint (by id) of an interface wins.
        if (iface === 'lo' || this.prefixes.some((p) => iface.startsWith(p)) || hostIn.has(iface)) continue;
        hostIn.set(iface, `goto ${this.endpointChain(ep, 'ingress', true)}`);
        hostOut.set(iface, `goto ${this.endpointChain(ep, 'egress', true)}`);
        continue;
      }
      egress.set(iface, `goto ${this.endpointChain(ep, 'egress', false)}`);
      ingress.set(iface, `goto ${this.endpointChain(ep, 'ingress', false)}`);
    }
    this.baseChains(allInterfaces);
    const maps = new Map<string, NftVerdictMap>([
      [MAP_EGRESS, { name: MAP_EGRESS, elements: egress }],
      [MAP_INGRESS, { name: MAP_INGRESS, elements: ingress }],
      [MAP_HOST_INGRESS, { name: MAP_HOST_INGRESS, elements: hostIn }],
      [MAP_HOST_EGRESS, { name: MAP_HOST_EGRESS, elements: hostOut }],
      ...this.maps,
    ]);
    return { table: this.t, sets: this.sets, maps, chains: this.chains };
  }

  private baseChains(allInterfaces: { ingress: string; egress: string } | undefined): void {
    const drops = (dir: 'iifname' | 'oifname') => this.prefixes.map((p) => `${dir} ${quote(p + '*')} drop`);
    const invalid = (dir: 'iifname' | 'oifname') => this.prefixes.map((p) => `${dir} ${quote(p + '*')} ct state invalid drop`);
    const est = 'ct state established,related accept';
    // IPv6 neighbour discovery and MLD (ICMPv6 130-136, 143) are link-local plumbing that
    // conntrack does not track (they would read as invalid): accepted before anything, as Calico
    // does, or no pod or host endpoint could resolve its IPv6 gateway.
    const nd = `icmpv6 type { ${ND_TYPES.join(', ')} } accept`;
    // Egress runs before ingress on the forward hook: its accept only ends its own base chain,
    // so the packet still meets the ingress chain; a drop anywhere is final.
    this.addChain({
      name: CHAIN_FORWARD_EGRESS,
      base: 'type filter hook forward priority filter - 5; policy accept;',
      rules: [est, ...invalid('iifname'), `iifname vmap @${MAP_EGRESS}`, ...drops('iifname')],
    });
    this.addChain({
      name: CHAIN_FORWARD_INGRESS,
      base: 'type filter hook forward priority filter; policy accept;',
      rules: [est, ...invalid('oifname'), `oifname vmap @${MAP_INGRESS}`, ...drops('oifname')],
    });
    // Pods talking to their own node: egress policy applies; node → pod ingress is never enforced.
    this.addChain({
      name: CHAIN_INPUT_EGRESS,
      base: 'type filter hook input priority filter - 5; policy accept;',
      rules: [nd, est, ...invalid('iifname'), `iifname vmap @${MAP_EGRESS}`, ...drops('iifname')],
    });
    // The host's own traffic through its host endpoints' interfaces (never forwarded traffic, never
    // lo, never the host and its own pods: pod → node is the pod's egress above, node → pod is not
    // filtered). A pod interface or lo returns to the policy (accept) before the dispatch.
    const local = (dir: 'iifname' | 'oifname') => [`${dir} "lo" accept`, ...this.prefixes.map((p) => `${dir} ${quote(p + '*')} accept`)];
    this.addChain({
      name: CHAIN_INPUT_HOST,
      base: 'type filter hook input priority filter; policy accept;',
      rules: [nd, est, ...local('iifname'), `iifname vmap @${MAP_HOST_INGRESS}`, ...(allInterfaces ? [`goto ${allInterfaces.ingress}`] : [])],
    });
    this.addChain({
      name: CHAIN_OUTPUT_HOST,
      base: 'type filter hook output priority filter; policy accept;',
      rules: [nd, est, ...local('oifname'), `oifname vmap @${MAP_HOST_EGRESS}`, ...(allInterfaces ? [`goto ${allInterfaces.egress}`] : [])],
    });
  }

  private addChain(c: NftChain): string {
    const old = this.chains.get(c.name);
    if (old !== undefined && old.rules.join('\n') !== c.rules.join('\n')) throw new BugError(`chain ${c.name} rendered twice differently`);
    this.chains.set(c.name, c);
    return c.name;
  }

  private clearPass(): string {
    return `meta mark set meta mark & ${hex(~this.pass)}`;
  }

  private logText(kind: 'D' | 'L', d: Direction, id: number): string {
    return `log prefix ${quote(logPrefix(kind, d, id))} group ${this.o.logGroup}`;
  }

  private allowText(d: Direction, id: number): string {
    const mark = d === 'egress' ? `ct mark set ct mark & 0x0000ffff | ${hex(id << 16)}` : `ct mark set ct mark & 0xffff0000 | ${hex(id)}`;
    return `${mark} accept`;
  }

  /** A drop no rule states, logged with its own rule id so flow logs can say why. */
  private implicitDrop(kind: ImplicitDrop, d: Direction, tier: string, policy: string): string {
    return `${this.logText('D', d, this.ids.implicitId(kind, d, tier, policy))} drop`;
  }

  /**
   * A host endpoint's chain starts with Calico's failsafe ports (open whatever the policy, their
   * own rule id in the ct mark); then both kinds are the same: tiers, profiles, drop.
   */
  private endpointChain(ep: EndpointPolicies, d: Direction, host: boolean): string {
    const rules: string[] = [this.clearPass()];
    if (host) {
      const accept = this.allowText(d, this.ids.failsafeId(d));
      for (const proto of [6, 17]) {
        const ports = failsafePorts(d).filter((f) => f.protocol === proto);
        if (ports.length > 0) rules.push(`meta l4proto ${proto === 6 ? 'tcp' : 'udp'} th dport ${portsText(ports)} ${accept}`);
      }
    }
    for (const tp of ep[d]) rules.push(`jump ${this.tierChain(tp.tier, tp.policies, d)}`);
    let profiles = 0;
    for (const name of ep.endpoint.profiles) {
      if (!this.state.profiles.has(name)) continue;
      rules.push(`jump ${this.profileChain(name, d)}`);
      profiles++;
    }
    rules.push(this.implicitDrop(profiles > 0 ? 'no-profile-match' : 'no-profile', d, '', ''));
    // Endpoints with the same lists share one chain: only the dispatch map differs.
    const name = this.names.name('e', `${d}|${rules.join('\n')}`);
    return this.addChain({ name, rules });
  }

  /**
   * One chain per (direction, tier, policy list), shared by the endpoints with that list: the
   * rules of its policies in order, flattened (Pass = `return` to the endpoint chain, which goes
   * on with the next tier), then the tier's default action. Named by the list, not the content,
   * so an edited rule is a flush-and-refill and a compiled map's element delta.
   */
  private tierChain(tier: string, policies: readonly string[], d: Direction): string {
    const name = this.names.name('t', `${d}|${tier}|${policies.join('\n')}`);
    if (this.chains.has(name)) return name;
    const flat: FlatRule[] = [];
    let missing: string | undefined;
    for (const id of policies) {
      const active = this.state.policies.get(id);
      if (active === undefined) {
        missing = id; // a listed policy we do not have: fail closed
        break;
      }
      if (!active.policy.types[d]) continue;
      const sets = active[d];
      (active.policy[d] ?? []).forEach((rule, pos) => {
        const rs = sets[pos];
        if (rs === undefined) throw new BugError(`${id}: no sets for rule ${pos}`);
        flat.push({ rule, rs, id: this.ids.idFor('policy', id, active.policy.tier, d, pos, rule) });
      });
    }
    const rules = this.sequence(name, d, flat);
    if (missing !== undefined) rules.push(this.implicitDrop('missing-policy', d, tier, missing));
    else if ((this.state.tiers.get(tier)?.defaultAction ?? 'Deny') === 'Deny') rules.push(this.implicitDrop('end-of-tier', d, tier, ''));
    return this.addChain({ name, rules });
  }

  /** A profile's rules; Pass (`return`) ends the profile and the next one is tried, as the evaluator does. */
  private profileChain(profile: string, d: Direction): string {
    const active = this.state.profiles.get(profile);
    if (active === undefined) throw new BugError(`profile ${profile} not active`);
    const name = this.names.name('f', `profile|${profile}`, d === 'ingress' ? '-i' : '-e');
    if (this.chains.has(name)) return name;
    const sets = active[d];
    const flat = active.profile[d].map((rule, pos) => {
      const rs = sets[pos];
      if (rs === undefined) throw new BugError(`${profile}: no sets for rule ${pos}`);
      return { rule, rs, id: this.ids.idFor('profile', profile, undefined, d, pos, rule) };
    });
    return this.addChain({ name, rules: this.sequence(name, d, flat) });
  }

  /**
   * Rules in order: maximal runs of simple rules (see `isSimple`) of at least `compileMinRules`
   * become one verdict-map lookup per family; every other rule is written as it is.
   */
  private sequence(chain: string, d: Direction, flat: readonly FlatRule[]): string[] {
    const out: string[] = [];
    let run: { fr: FlatRule; pos: number }[] = [];
    let runNo = 0;
    const flush = () => {
      if (run.length >= this.minRun) out.push(...this.compiledRun(chain, runNo++, d, run.map((r) => r.fr)));
      else for (const r of run) out.push(...this.rule(chain, r.pos, r.fr.rule, r.fr.rs, r.fr.id, d));
      run = [];
    };
    flat.forEach((fr, pos) => {
      if (neverMatches(fr.rule)) return;
      if (isSimple(fr.rule, d)) {
        run.push({ fr, pos });
        return;
      }
      flush();
      out.push(...this.rule(chain, pos, fr.rule, fr.rs, fr.id, d));
    });
    flush();
    return out;
  }

  /** One `peer . l4proto . dport vmap` lookup per family deciding the whole run. */
  private compiledRun(chain: string, runNo: number, d: Direction, run: readonly FlatRule[]): string[] {
    const out: string[] = [];
    const actions = new Map<string, NftChain>();
    for (const f of [4, 6] as const) {
      const sets = new Map<string, AddrInterval[]>();
      const simple: SimpleRule[] = [];
      for (const fr of run) {
        const s = this.simpleRule(fr, d, f, sets, actions);
        if (s !== undefined) simple.push(s);
      }
      const elements = compileRun(f, simple, sets);
      if (elements.size === 0) continue;
      // Action chains only for the rules that decide somewhere (a shadowed rule needs none).
      for (const v of new Set(elements.values())) {
        const chain = actions.get(v);
        if (chain !== undefined) this.addChain(chain);
      }
      // Points (one address, protocol and port) go into a plain hash map: one O(1) lookup.
      // Elements with a range or CIDR need an interval map, whose lookup cost grows with its
      // size (pipapo), so only they go there. The elements are disjoint (each key has one
      // first-matching rule), so a packet hits at most one of the two maps and their order does
      // not change the verdict; a miss in both goes on with the chain.
      const points = new Map<string, string>();
      const ranges = new Map<string, string>();
      for (const [k, v] of elements) (k.includes('-') || k.includes('/') ? ranges : points).set(k, v);
      const type = `${f === 4 ? 'ipv4_addr' : 'ipv6_addr'} . inet_proto . inet_service`;
      const lookup = (name: string) => `${f === 4 ? 'ip' : 'ip6'} ${d === 'ingress' ? 'saddr' : 'daddr'} . meta l4proto . th dport vmap @${name}`;
      if (points.size > 0) {
        const name = this.names.name('v', `${chain}|${runNo}`, `-${f}`);
        this.maps.set(name, { name, type, interval: false, elements: points });
        out.push(lookup(name));
      }
      if (ranges.size > 0) {
        const name = this.names.name('v', `${chain}|${runNo}|ranges`, `-${f}`);
        this.maps.set(name, { name, type, interval: true, elements: ranges });
        out.push(lookup(name));
      }
    }
    return out;
  }

  /** A simple rule for one family's compiler; undefined when it cannot match in that family. */
  private simpleRule(fr: FlatRule, d: Direction, f: Family, sets: Map<string, AddrInterval[]>, actions: Map<string, NftChain>): SimpleRule | undefined {
    const { rule, rs, id } = fr;
    if (rule.ipVersion !== undefined && rule.ipVersion !== f) return undefined;
    const peer = d === 'ingress' ? rule.source : rule.destination;
    const ps = d === 'ingress' ? rs.source : rs.destination;
    const terms: AddrTerm[] = [];
    const netsTerm = (nets: readonly Cidr[], negate: boolean): boolean => {
      const texts = nets.filter((n) => n.family === f).map((n) => n.text);
      if (texts.length === 0) return false;
      const key = `n:${texts.join(',')}`;
      if (!sets.has(key)) sets.set(key, intervalsOf(texts, f));
      terms.push({ key, negate });
      return true;
    };
    const setTerm = (id: string, negate: boolean) => {
      const key = `s:${id}`;
      if (!sets.has(key)) {
        const spec = this.state.ipSets.get(id);
        if (spec === undefined) throw new BugError(`IP set ${id} missing`);
        sets.set(key, intervalsOf(spec.members, f));
      }
      terms.push({ key, negate });
    };
    if (peer.nets !== undefined && !netsTerm(peer.nets, false)) return undefined;
    if (peer.notNets !== undefined) netsTerm(peer.notNets, true);
    if (ps.selector !== undefined) setTerm(ps.selector, false);
    if (ps.notSelector !== undefined) setTerm(ps.notSelector, true);
    const boxes = boxesOf(rule);
    if (boxes.length === 0) return undefined;
    if (rule.action === 'Pass') return { terms, boxes, verdict: 'return' }; // leave the tier (or the profile)
    const chain: NftChain =
      rule.action === 'Allow'
        ? { name: this.names.name('a', `${d}|${id}`), rules: [this.allowText(d, id)] }
        : { name: this.names.name('x', `${d}|${id}`), rules: [`${this.logText('D', d, id)} drop`] };
    const verdict = `goto ${chain.name}`;
    actions.set(verdict, chain);
    return { terms, boxes, verdict };
  }

  /** The verdict text of a rule, in its own chain (`inSub`: a helper chain of one rule). */
  private action(rule: NormRule, id: number, d: Direction, inSub: boolean): string {
    switch (rule.action) {
      case 'Allow':
        return this.allowText(d, id);
      case 'Deny':
        return `${this.logText('D', d, id)} drop`;
      case 'Pass':
        // Straight in a tier or profile chain, Pass is `return`; from a helper chain it sets
        // the pass bit, which the rule after the jump turns into the `return`.
        return inSub ? `meta mark set meta mark | ${hex(this.pass)} return` : 'return';
      case 'Log': {
        const log = this.logText('L', d, id);
        // In a helper chain, stop after the first matching alternative so one packet logs once.
        return inSub ? `${log} return` : log;
      }
    }
  }

  private rule(chain: string, pos: number, rule: NormRule, rs: RuleSets, id: number, d: Direction): string[] {
    if (neverMatches(rule)) return [];
    const familySpecific =
      rule.ipVersion !== undefined ||
      rule.icmp !== undefined ||
      rule.notIcmp !== undefined ||
      [rule.source, rule.destination].some((p) => p.nets || p.notNets || p.selector || p.notSelector || p.ports?.named.length || p.notPorts?.named.length);
    const families: (Family | undefined)[] = familySpecific ? ([4, 6] as const).filter((f) => rule.ipVersion === undefined || rule.ipVersion === f) : [undefined];
    const out: string[] = [];
    for (const f of families) {
      const body = this.ruleBody(rule, rs, f);
      if (body === undefined) continue;
      const { pos: matches, neg, alts } = body;
      if (neg.length === 0 && alts.length <= 1) {
        out.push([...matches, ...(alts[0] ?? []), this.action(rule, id, d, false)].join(' '));
        continue;
      }
      // Negated conjunctions and alternatives need a helper chain: each negation returns
      // (the rule does not match), then the first matching alternative takes the action.
      const sub = this.names.name('r', `${chain}|${pos}|${f ?? 'any'}`);
      const subRules = [...neg.map((n) => `${n} return`), ...alts.map((a) => [...a, this.action(rule, id, d, true)].join(' '))];
      this.addChain({ name: sub, rules: subRules });
      out.push([...matches, `jump ${sub}`].join(' '));
      if (rule.action === 'Pass') out.push(`meta mark & ${hex(this.pass)} == ${hex(this.pass)} ${this.clearPass()} return`);
    }
    return out;
  }

  /**
   * One family's version of a rule: positive matches (one conjunction), negated conjunctions,
   * and port alternatives (any one must match); undefined when it can never match.
   */
  private ruleBody(rule: NormRule, rs: RuleSets, f: Family | undefined): { pos: string[]; neg: string[]; alts: string[][] } | undefined {
    const pos: string[] = [];
    const neg: string[] = [];
    let alts: string[][] = [[]];
    if (f !== undefined) pos.push(`meta nfproto ipv${f}`);
    if (rule.protocol !== undefined) pos.push(`meta l4proto ${rule.protocol}`);
    if (rule.notProtocol !== undefined) pos.push(`meta l4proto != ${rule.notProtocol}`);
    // The header follows the rule's protocol (the evaluator does not tie ICMP to a family);
    // without one, the packet's family decides.
    const icmpV6 = rule.protocol === 58 || (rule.protocol !== 1 && f === 6);
    const icmpKw = icmpV6 ? 'icmpv6' : 'icmp';
    const icmpText = (m: { type?: number; code?: number }) => {
      const parts: string[] = [];
      if (m.type !== undefined) parts.push(`${icmpKw} type ${m.type}`);
      if (m.code !== undefined) parts.push(`${icmpKw} code ${m.code}`);
      return parts.length > 0 ? parts.join(' ') : `meta l4proto ${icmpV6 ? 58 : 1}`;
    };
    if (rule.icmp !== undefined) pos.push(icmpText(rule.icmp));
    if (rule.notIcmp !== undefined) neg.push(icmpText(rule.notIcmp));
    const protoHasPorts = rule.protocol === undefined ? undefined : PORT_PROTOCOLS.includes(rule.protocol);
    const ip = f === 6 ? 'ip6' : 'ip';
    for (const side of ['source', 'destination'] as const) {
      const peer = rule[side];
      const sets = rs[side];
      const addr = side === 'source' ? 'saddr' : 'daddr';
      const port = side === 'source' ? 'sport' : 'dport';
      if (f !== undefined) {
        if (peer.nets !== undefined) {
          const set = this.cidrSet(peer.nets, f);
          if (set === undefined) return undefined; // no net of this family: never matches
          pos.push(`${ip} ${addr} @${set}`);
        }
        if (peer.notNets !== undefined) {
          const set = this.cidrSet(peer.notNets, f);
          if (set !== undefined) pos.push(`${ip} ${addr} != @${set}`);
        }
        if (sets.selector !== undefined) pos.push(`${ip} ${addr} @${this.ipSet(sets.selector, f)}`);
        if (sets.notSelector !== undefined) pos.push(`${ip} ${addr} != @${this.ipSet(sets.notSelector, f)}`);
      }
      if (peer.ports !== undefined) {
        const choices: string[][] = [];
        if (peer.ports.ranges.length > 0 && protoHasPorts !== false) {
          choices.push([...(protoHasPorts ? [] : [PORT_GUARD]), `th ${port} ${portsText(peer.ports.ranges)}`]);
        }
        for (const id of sets.namedPorts ?? []) {
          if (f === undefined) throw new BugError('named port in a family-agnostic rule');
          choices.push([`${ip} ${addr} . meta l4proto . th ${port} @${this.ipSet(id, f)}`]);
        }
        if (choices.length === 0) return undefined;
        const next: string[][] = [];
        for (const a of alts) for (const c of choices) next.push([...a, ...c]);
        alts = next;
      }
      if (peer.notPorts !== undefined) {
        if (peer.notPorts.ranges.length > 0 && protoHasPorts !== false) {
          const text = `th ${port} ${portsText(peer.notPorts.ranges)}`;
          // With a port protocol the negation fits in the rule; otherwise a packet without ports
          // must pass the negation, which only a helper chain can say.
          if (protoHasPorts) pos.push(`th ${port} != ${portsText(peer.notPorts.ranges)}`);
          else neg.push(`${PORT_GUARD} ${text}`);
        }
        for (const id of sets.notNamedPorts ?? []) {
          if (f === undefined) throw new BugError('named port in a family-agnostic rule');
          // The protocol is part of the key, so a packet without ports is never a member.
          pos.push(`${ip} ${addr} . meta l4proto . th ${port} != @${this.ipSet(id, f)}`);
        }
      }
    }
    if (alts.length === 1 && alts[0]?.length === 0) alts = [];
    return { pos, neg, alts };
  }

  /** The named set for one family's half of a calc IP set. */
  private ipSet(id: string, f: Family): string {
    const spec = this.state.ipSets.get(id);
    if (spec === undefined) throw new BugError(`IP set ${id} missing`);
    const named = spec.spec.type === 'named-port';
    const name = this.names.name(named ? 'n' : 's', id, `-${f}`);
    if (this.sets.has(name)) return name;
    const elements: string[] = [];
    for (const m of spec.members) {
      if (named) {
        const el = namedPortElement(m);
        if (el !== undefined && el.family === f) elements.push(el.text);
      } else elements.push(m);
    }
    const type: SetType = named
      ? f === 4
        ? 'ipv4_addr . inet_proto . inet_service'
        : 'ipv6_addr . inet_proto . inet_service'
      : f === 4
        ? 'ipv4_addr'
        : 'ipv6_addr';
    const els = named ? [...new Set(elements)].sort() : normalizeNets(elements, f);
    // Interval sets only when a member is a CIDR: nft 1.0.6 deletes elements of a large interval
    // set slowly (seconds at 100k), a hash set of addresses fast. A flip changes the set's type,
    // which the delta writes as a full program.
    const interval = !named && els.some((e) => e.includes('/'));
    this.sets.set(name, { name, type, interval, elements: els });
    return name;
  }

  private cidrSet(nets: readonly Cidr[], f: Family): string | undefined {
    const texts = nets.filter((n) => n.family === f).map((n) => n.text);
    if (texts.length === 0) return undefined;
    const elements = normalizeNets(texts, f);
    const name = this.names.name('c', elements.join(','), `-${f}`);
    if (!this.sets.has(name)) this.sets.set(name, { name, type: f === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: true, elements });
    return name;
  }
}

interface FlatRule {
  readonly rule: NormRule;
  readonly rs: RuleSets;
  readonly id: number;
}

/** Services and domains never match a packet here (the evaluator agrees: no snapshot carries services, packets carry no domain). */
function neverMatches(rule: NormRule): boolean {
  return [rule.source, rule.destination].some((p) => p.services !== undefined || p.domains !== undefined);
}

/**
 * A rule the run compiler takes: Allow, Deny or Pass on the peer's address (nets, selector and
 * their negations), protocol and destination port ranges. Anything on the local side, source
 * ports, named ports and ICMP fields stay sequential rules.
 */
function isSimple(rule: NormRule, d: Direction): boolean {
  if (rule.action === 'Log' || rule.icmp !== undefined || rule.notIcmp !== undefined) return false;
  const local = d === 'ingress' ? rule.destination : rule.source;
  if (local.nets || local.notNets || local.selector || local.notSelector) return false;
  if (rule.source.ports || rule.source.notPorts) return false;
  return !rule.destination.ports?.named.length && !rule.destination.notPorts?.named.length;
}

/** The (protocol, destination port) points a simple rule matches, as the evaluator reads them. */
function boxesOf(rule: NormRule): Box[] {
  let protos: [number, number][];
  if (rule.protocol !== undefined) protos = [[rule.protocol, rule.protocol]];
  else if (rule.notProtocol !== undefined)
    protos = ([[0, rule.notProtocol - 1], [rule.notProtocol + 1, 255]] as [number, number][]).filter(([a, b]) => a <= b);
  else protos = [[0, 255]];
  const dst = rule.destination;
  const ranges = dst.ports === undefined ? undefined : dst.ports.ranges.map((r) => [r.first, r.last] as [number, number]);
  const ports = subtract(ranges ?? [[0, 65535]], (dst.notPorts?.ranges ?? []).map((r) => [r.first, r.last] as [number, number]));
  const boxes: Box[] = [];
  for (const [a, b] of protos) {
    let cur = a;
    for (const pp of PORT_PROTOCOLS) {
      if (pp < a || pp > b) continue;
      // A packet of a protocol without ports never matches `ports` and always passes `notPorts`.
      if (cur < pp && ranges === undefined) boxes.push({ p0: cur, p1: pp - 1, q0: 0, q1: 65535 });
      for (const [q0, q1] of ports) boxes.push({ p0: pp, p1: pp, q0, q1 });
      cur = pp + 1;
    }
    if (cur <= b && ranges === undefined) boxes.push({ p0: cur, p1: b, q0: 0, q1: 65535 });
  }
  return boxes;
}

/** `a` minus `b`, both lists of closed integer intervals. */
function subtract(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  let out = a.map(([x, y]) => [x, y] as [number, number]);
  for (const [c, e] of b) {
    const next: [number, number][] = [];
    for (const [x, y] of out) {
      if (e < x || c > y) next.push([x, y]);
      else {
        if (x < c) next.push([x, c - 1]);
        if (e < y) next.push([e + 1, y]);
      }
    }
    out = next;
  }
  return out;
}

function intervalsOf(members: Iterable<string>, f: Family): AddrInterval[] {
  const out: AddrInterval[] = [];
  for (const m of members) {
    const iv = addrInterval(f, m);
    if (iv !== undefined) out.push(iv);
  }
  return out;
}

function portsText(ranges: readonly PortRange[]): string {
  const parts = ranges.map((r) => (r.first === r.last ? String(r.first) : `${r.first}-${r.last}`));
  return parts.length === 1 ? (parts[0] as string) : `{ ${parts.join(', ')} }`;
}

/** `10.0.0.1,tcp:8080` → `10.0.0.1 . tcp . 8080`. */
function namedPortElement(member: string): { family: Family; text: string } | undefined {
  const comma = member.lastIndexOf(',');
  const colon = member.lastIndexOf(':');
  if (comma < 0 || colon < comma) return undefined;
  const ip = parseIp(member.slice(0, comma));
  const proto = member.slice(comma + 1, colon);
  const port = member.slice(colon + 1);
  if (ip === undefined || !/^(tcp|udp|sctp|\d+)$/.test(proto) || !/^\d+$/.test(port)) return undefined;
  return { family: ip.family, text: `${ip.text} . ${proto} . ${port}` };
}

/**
 * Addresses and CIDRs of one family, canonical, sorted, without any element another one holds
 * (CIDRs either nest or are disjoint, so dropping the nested ones leaves no overlap, which an
 * interval set would reject).
 */
export function normalizeNets(members: Iterable<string>, f: Family): string[] {
  const cidrs: Cidr[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    const c = parseCidr(m);
    if (c === undefined || c.family !== f || seen.has(c.text)) continue;
    seen.add(c.text);
    cidrs.push(c);
  }
  cidrs.sort((a, b) => a.prefix - b.prefix);
  const max = f === 4 ? 32 : 128;
  const kept: Cidr[] = [];
  const nets: Cidr[] = []; // the kept ones that are not single addresses: few, in practice
  for (const c of cidrs) {
    const addr = (f === 4 ? { family: 4, value: c.network as number, text: '' } : { family: 6, value: c.network as bigint, text: '' }) as Parameters<typeof cidrContains>[1];
    if (nets.some((k) => k.prefix < c.prefix && cidrContains(k, addr))) continue;
    kept.push(c);
    if (c.prefix < max) nets.push(c);
  }
  return kept.map((c) => (c.prefix === max ? c.text.slice(0, c.text.indexOf('/')) : c.text)).sort();
}
