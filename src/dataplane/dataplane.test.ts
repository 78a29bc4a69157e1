// The renderer by example (golden text on a small state), and by property: for random pairs of
// clusters, the full program of A followed by the delta A→B leaves, in a small interpreter of
// the nft commands we emit (which also checks reference order), exactly the full program of B.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deltaText, withGarbage, programText, renderModel, renderRuleset, RuleIdRegistry, ruleIdsOfCtMark, normalizeNets, parseLogPrefix } from './index.js';
import { BASIC, OPTIONS, clusterFromYaml } from './fixtures.test.js';

test('golden: a small state renders the expected layout', () => {
  const text = renderRuleset(clusterFromYaml(BASIC).state, OPTIONS);
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['table inet margay', 'delete table inet margay', 'add table inet margay']);
  // Peers only through named sets; the named-port set is a concatenation.
  assert.ok(lines.includes('add set inet margay n-3bjdojakwhqem-4 { type ipv4_addr . inet_proto . inet_service; }'));
  assert.ok(lines.includes('add element inet margay n-3bjdojakwhqem-4 { 10.65.0.2 . tcp . 8080 }'));
  assert.ok(lines.includes('add element inet margay s-3qoubg3ykf21z-4 { 10.65.0.3 }'));
  assert.ok(!/add rule .*10\.65\./.test(text), 'no address is expanded into a rule');
  // Policies are flattened into the tier chain: Log, then the Allow with two port alternatives
  // in a helper chain, then Deny with nets/notNets (logged before the drop), then the end of tier.
  const tier = 't-322t6uf88zzwg';
  assert.deepEqual(
    lines.filter((l) => l.startsWith(`add rule inet margay ${tier} `)).map((l) => l.slice(`add rule inet margay ${tier} `.length)),
    [
      'meta nfproto ipv4 ip saddr @s-32ncb4schh2pg-4 log prefix "mgy L i 1 " group 7',
      'meta nfproto ipv6 ip6 saddr @s-32ncb4schh2pg-6 log prefix "mgy L i 1 " group 7',
      'meta nfproto ipv4 meta l4proto 6 ip saddr @s-3qoubg3ykf21z-4 jump r-09md5fpjignkf',
      'meta nfproto ipv6 meta l4proto 6 ip6 saddr @s-3qoubg3ykf21z-6 jump r-09md67rrc4rlh',
      'meta nfproto ipv4 meta l4proto 6 ip saddr @c-3soqsjk7k87cl-4 ip saddr != @c-1y8y4aechhmsk-4 log prefix "mgy D i 3 " group 7 drop',
      'log prefix "mgy D i 8 " group 7 drop',
    ],
  );
  assert.ok(lines.includes('add rule inet margay r-09md5fpjignkf th dport 9000 ct mark set ct mark & 0xffff0000 | 0x00000002 accept'));
  assert.ok(lines.includes('add rule inet margay r-09md5fpjignkf ip daddr . meta l4proto . th dport @n-3bjdojakwhqem-4 ct mark set ct mark & 0xffff0000 | 0x00000002 accept'));
  // Endpoint chain: tiers, profile, then the implicit drop, logged with its own rule id.
  assert.ok(text.includes(`add rule inet margay e-3e57s3fgyg67s jump ${tier}\nadd rule inet margay e-3e57s3fgyg67s jump f-0xfejwafgb5dd-i\nadd rule inet margay e-3e57s3fgyg67s log prefix "mgy D i 7 " group 7 drop\n`));
  // Dispatch by interface; endpoints with the same lists share a chain; unknown pod interfaces drop.
  assert.ok(lines.includes('add element inet margay ingress-dispatch { "mgy-client" : goto e-3seaca05ngwlf, "mgy-other" : goto e-3seaca05ngwlf, "mgy-web" : goto e-3e57s3fgyg67s }'));
  assert.deepEqual(
    lines.filter((l) => l.startsWith('add rule inet margay fwd-ingress')),
    [
      'add rule inet margay fwd-ingress ct state established,related accept',
      'add rule inet margay fwd-ingress oifname "mgy*" ct state invalid drop',
      'add rule inet margay fwd-ingress oifname vmap @ingress-dispatch',
      'add rule inet margay fwd-ingress oifname "mgy*" drop',
    ],
  );
  // Same state, same text.
  assert.equal(renderRuleset(clusterFromYaml(BASIC).state, OPTIONS), text);
});

test('golden: a run of simple rules is one verdict-map lookup that decides like the rules in order', () => {
  const yaml = BASIC.slice(0, BASIC.indexOf('apiVersion: projectcalico.org/v3')) + `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-in, namespace: app}
spec:
  selector: role == 'web'
  types: [Ingress]
  ingress:
  - {action: Deny, protocol: TCP, source: {selector: "role == 'other'"}, destination: {ports: [81]}}
  - {action: Allow, protocol: TCP, source: {selector: "role != 'web'"}, destination: {ports: ['80:81']}}
  - {action: Pass, source: {selector: "role == 'other'"}}
  - {action: Allow, protocol: UDP, source: {nets: [10.65.0.0/24]}, destination: {notPorts: [53]}}
`;
  const m = renderModel(clusterFromYaml(yaml).state, OPTIONS);
  const tier = [...m.chains.values()].find((c) => c.name.startsWith('t-'));
  // Two lookups: the points in a hash map (O(1)), the elements with a range in an interval map.
  // The elements are disjoint, so a packet hits at most one of them.
  assert.deepEqual(tier?.rules, ['ip saddr . meta l4proto . th dport vmap @v-2wf5z085bfdhw-4', 'ip saddr . meta l4proto . th dport vmap @v-1yracjvwb31lm-4', 'log prefix "mgy D i 9 " group 7 drop']);
  const points = m.maps.get('v-2wf5z085bfdhw-4');
  const ranges = m.maps.get('v-1yracjvwb31lm-4');
  assert.equal(points?.type, 'ipv4_addr . inet_proto . inet_service');
  assert.equal(points?.interval, false);
  assert.equal(ranges?.interval, true);
  assert.equal(m.maps.has('v-2wf5z085bfdhw-6') || m.maps.has('v-1yracjvwb31lm-6'), false, 'no IPv6 peer can match: no map');
  const allowUdp = 'goto a-0w23loaqh5thk'; // rule 3, id 4
  const allowTcp = 'goto a-0w23o0hdy65kq'; // rule 1, id 2
  // "other" (10.65.0.4): Deny wins on 81, Allow on 80, Pass (leave the tier) for everything else.
  assert.deepEqual([...(points?.elements ?? [])], [['10.65.0.4 . 6 . 80', allowTcp], ['10.65.0.4 . 6 . 81', 'goto x-0w23nmga1c3k7']]);
  assert.deepEqual(
    [...(ranges?.elements ?? [])],
    [
      ['10.65.0.0-10.65.0.2 . 17 . 0-52', allowUdp],
      ['10.65.0.0-10.65.0.2 . 17 . 54-65535', allowUdp],
      ['10.65.0.3 . 6 . 80-81', allowTcp],
      ['10.65.0.3 . 17 . 0-52', allowUdp],
      ['10.65.0.3 . 17 . 54-65535', allowUdp],
      ['10.65.0.4 . 0-5 . 0-65535', 'return'],
      ['10.65.0.4 . 6 . 0-79', 'return'],
      ['10.65.0.4 . 6 . 82-65535', 'return'],
      ['10.65.0.4 . 7-255 . 0-65535', 'return'],
      ['10.65.0.5-10.65.0.255 . 17 . 0-52', allowUdp],
      ['10.65.0.5-10.65.0.255 . 17 . 54-65535', allowUdp],
    ],
  );
  assert.deepEqual(m.chains.get('x-0w23nmga1c3k7')?.rules, ['log prefix "mgy D i 1 " group 7 drop']);
  assert.deepEqual(m.chains.get('a-0w23loaqh5thk')?.rules, ['ct mark set ct mark & 0xffff0000 | 0x00000004 accept']);
});

test('log prefixes read back; implicit drops have entries of their own', () => {
  assert.deepEqual(parseLogPrefix('mgy D e 12 '), { action: 'deny', direction: 'egress', ruleId: 12 });
  assert.deepEqual(parseLogPrefix('mgy L i 3 '), { action: 'log', direction: 'ingress', ruleId: 3 });
  assert.equal(parseLogPrefix('mgy D x 3 '), undefined);
  assert.equal(parseLogPrefix('mgy D e 0 '), undefined);
  assert.equal(parseLogPrefix('something else'), undefined);
  const ids = new RuleIdRegistry();
  renderModel(clusterFromYaml(BASIC).state, { ...OPTIONS, ruleIds: ids });
  const implicit = ids.entries().filter((e) => e.owner === 'implicit');
  assert.deepEqual(
    implicit.map((e) => [e.implicit, e.direction, e.tier, e.name, e.ruleIndex, e.action]),
    [
      ['no-profile-match', 'egress', '', '', -1, 'Deny'],
      ['no-profile-match', 'ingress', '', '', -1, 'Deny'],
      ['end-of-tier', 'ingress', 'default', '', -1, 'Deny'],
    ],
  );
});

test('rule ids are stable across renders and name the rule; ct mark splits into egress and ingress', () => {
  const ids = new RuleIdRegistry();
  const state = clusterFromYaml(BASIC).state;
  const a = programText(renderModel(state, { ...OPTIONS, ruleIds: ids }));
  const b = programText(renderModel(state, { ...OPTIONS, ruleIds: ids }));
  assert.equal(a, b);
  const entry = ids.lookup(2);
  assert.equal(entry?.name, 'default|np|app/web-in');
  assert.equal(entry?.action, 'Allow');
  assert.equal(entry?.direction, 'ingress');
  assert.equal(entry?.ruleIndex, 1);
  assert.deepEqual(ruleIdsOfCtMark(0x00050002), { egress: 5, ingress: 2 });
});

test('interval sets hold no nested elements', () => {
  assert.deepEqual(normalizeNets(['10.1.2.3', '10.1.0.0/16', '10.2.0.1', '10.2.0.1/32', 'fd00::1'], 4), ['10.1.0.0/16', '10.2.0.1']);
});

test('no change, no delta', () => {
  const s = clusterFromYaml(BASIC).state;
  const ids = new RuleIdRegistry();
  assert.equal(deltaText(renderModel(s, { ...OPTIONS, ruleIds: ids }), renderModel(s, { ...OPTIONS, ruleIds: ids })), '');
});

// ───────────── property: full(A) + delta(A→B) = full(B) ─────────────

interface Table {
  sets: Map<string, Set<string>>;
  maps: Map<string, Map<string, string>>;
  chains: Map<string, string[]>;
}

function refsOf(rule: string): string[] {
  return [...rule.matchAll(/(?:jump|goto) (\S+)/g)].map((m) => m[1] as string);
}

/** Applies our nft commands to a model, failing where nft would (missing objects, dangling refs). */
function interpret(t: Table, text: string): void {
  const items = (s: string) => s.replace(/^\{ /, '').replace(/ \}$/, '').split(', ').filter((x) => x !== '');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m: RegExpMatchArray | null;
    if (line === 'table inet margay' || line === 'add table inet margay') continue;
    if (line === 'delete table inet margay') {
      t.sets.clear();
      t.maps.clear();
      t.chains.clear();
    } else if ((m = line.match(/^add set inet margay (\S+) /))) t.sets.set(m[1] as string, new Set());
    else if ((m = line.match(/^add map inet margay (\S+) /))) t.maps.set(m[1] as string, new Map());
    else if ((m = line.match(/^(add|delete) element inet margay (\S+) (\{.*\})$/))) {
      const [, verb, name, body] = m as unknown as [string, string, string, string];
      const map = t.maps.get(name);
      const set = t.sets.get(name);
      for (const it of items(body)) {
        if (map) {
          const [k, v] = it.split(' : ') as [string, string | undefined];
          if (verb === 'add') {
            assert.ok(!map.has(k), `${line}: ${k} exists`);
            for (const r of refsOf(v ?? '')) assert.ok(t.chains.has(r), `${line}: no chain ${r}`);
            map.set(k, v as string);
          } else assert.ok(map.delete(k), `${line}: no ${k}`);
        } else {
          assert.ok(set, `${line}: no set`);
          if (verb === 'add') set.add(it);
          else assert.ok(set.delete(it), `${line}: no element ${it}`);
        }
      }
    } else if ((m = line.match(/^add chain inet margay (\S+)/))) {
      if (!t.chains.has(m[1] as string)) t.chains.set(m[1] as string, []);
    } else if ((m = line.match(/^flush chain inet margay (\S+)$/))) {
      assert.ok(t.chains.has(m[1] as string), line);
      t.chains.set(m[1] as string, []);
    } else if ((m = line.match(/^delete chain inet margay (\S+)$/))) {
      const name = m[1] as string;
      assert.deepEqual(t.chains.get(name), [], `${line}: not empty`);
      for (const [c, rules] of t.chains) for (const r of rules) assert.ok(!refsOf(r).includes(name), `${line}: used by ${c}`);
      for (const map of t.maps.values()) for (const v of map.values()) assert.ok(!refsOf(v).includes(name), `${line}: used by a map`);
      t.chains.delete(name);
    } else if ((m = line.match(/^delete (set|map) inet margay (\S+)$/))) {
      const name = m[2] as string;
      for (const rules of t.chains.values()) for (const r of rules) assert.ok(!r.includes(`@${name}`), `${line}: in use`);
      (m[1] === 'set' ? t.sets : t.maps).delete(name);
    } else if ((m = line.match(/^add rule inet margay (\S+) (.*)$/))) {
      const rules = t.chains.get(m[1] as string);
      assert.ok(rules, `${line}: no chain`);
      for (const r of refsOf(m[2] as string)) assert.ok(t.chains.has(r), `${line}: no chain ${r}`);
      for (const s of (m[2] as string).matchAll(/@(\S+)/g)) assert.ok(t.sets.has(s[1] as string) || t.maps.has(s[1] as string), `${line}: no set ${s[1]}`);
      rules.push(m[2] as string);
    } else assert.fail(`unexpected command: ${line}`);
  }
}

function snapshot(t: Table): unknown {
  const sortMap = <V>(m: Map<string, V>, f: (v: V) => unknown) => [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, f(v)]);
  return { sets: sortMap(t.sets, (s) => [...s].sort()), maps: sortMap(t.maps, (m) => sortMap(m, (v) => v)), chains: sortMap(t.chains, (r) => r) };
}

test('golden: host endpoints are dispatched from the input and output hooks, failsafe ports first', () => {
  const yaml = `${BASIC}---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-fab0, labels: {hep: uplink}}
spec: {node: n1, interfaceName: fab0, expectedIPs: [192.168.0.1]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-all, labels: {hep: all}}
spec: {node: n1, interfaceName: "*"}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-lo, labels: {hep: lo}}
spec: {node: n1, interfaceName: lo}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: uplink-in}
spec:
  selector: hep == 'uplink'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {selector: role == 'client'}, destination: {ports: [80]}}
`;
  const ids = new RuleIdRegistry();
  const lines = renderRuleset(clusterFromYaml(yaml).state, { ...OPTIONS, ruleIds: ids }).split('\n');
  const rulesOf = (chain: string) => lines.filter((l) => l.startsWith(`add rule inet margay ${chain} `)).map((l) => l.slice(`add rule inet margay ${chain} `.length));
  const dispatch = (map: string) => {
    const line = lines.find((l) => l.startsWith(`add element inet margay ${map} `)) ?? '';
    return [...line.matchAll(/"([^"]+)" : goto (e-\S+?)[,\s]/g)].map((m) => [m[1], m[2]]);
  };
  // Only the named, non-lo interface is in the maps; lo is never a host endpoint.
  const [[iface, inChain]] = dispatch('host-ingress-dispatch') as [[string, string]];
  assert.equal(iface, 'fab0');
  assert.deepEqual(dispatch('host-egress-dispatch').map(([i]) => i), ['fab0']);
  // The all-interfaces endpoint catches every other interface, after lo, pods and the named ones.
  const input = rulesOf('in-host');
  // IPv6 neighbour discovery first (conntrack calls it invalid; without it no IPv6 neighbour resolves).
  assert.deepEqual(input.slice(0, 5), ['icmpv6 type { 130, 131, 132, 133, 134, 135, 136, 137, 143 } accept', 'ct state established,related accept', 'iifname "lo" accept', 'iifname "mgy*" accept', 'iifname vmap @host-ingress-dispatch']);
  assert.match(input[5] ?? '', /^goto e-\S+$/);
  assert.equal(input.length, 6);
  assert.equal(rulesOf('out-host')[4], 'oifname vmap @host-egress-dispatch');
  // The endpoint chain: failsafe ports (their own rule id in the ct mark), then the tier, then the drop.
  const chain = rulesOf(inChain);
  const failsafe = ids.entries().find((e) => e.implicit === 'failsafe' && e.direction === 'ingress');
  assert.ok(failsafe !== undefined && failsafe.action === 'Allow');
  const mark = `ct mark set ct mark & 0xffff0000 | 0x${failsafe.id.toString(16).padStart(8, '0')} accept`;
  assert.deepEqual(chain.slice(1, 3), [`meta l4proto tcp th dport { 22, 179, 2379-2380, 5473, 6443, 6666-6667 } ${mark}`, `meta l4proto udp th dport 68 ${mark}`]);
  assert.match(chain[3] ?? '', /^jump t-/);
  assert.match(chain.at(-1) ?? '', /^log prefix "mgy D i \d+ " group 7 drop$/);
  // Forwarded traffic never meets a host endpoint: the forward chains dispatch pods only.
  assert.ok(!lines.some((l) => l.includes('fab0') && !l.includes('host-')));
});

const LABELS = ['a', 'b', 'c'];
const clusterArb = fc.record({
  hep: fc.option(fc.record({ label: fc.constantFrom(...LABELS), iface: fc.constantFrom('eth0', '*', 'eth1'), policy: fc.boolean() }), { nil: undefined }),
  pods: fc.array(fc.record({ label: fc.constantFrom(...LABELS), ip: fc.integer({ min: 2, max: 6 }), named: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  policies: fc.array(
    fc.record({
      subject: fc.constantFrom(...LABELS),
      order: fc.integer({ min: 1, max: 3 }),
      rules: fc.array(
        fc.record({
          action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log'),
          peer: fc.option(fc.constantFrom(...LABELS), { nil: undefined }),
          notPeer: fc.option(fc.constantFrom(...LABELS), { nil: undefined }),
          ports: fc.option(fc.constantFrom('[80]', '[http]', '[http, 8000:8100]'), { nil: undefined }),
          notPorts: fc.option(fc.constantFrom('[81]', '[http]'), { nil: undefined }),
          nets: fc.option(fc.constantFrom('[10.0.0.0/8]', '[10.65.0.2/32, 10.65.0.0/24]', '["fd00::/8"]'), { nil: undefined }),
          protocol: fc.option(fc.constantFrom('TCP', 'UDP', 'SCTP'), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
    }),
    { maxLength: 3 },
  ),
});

type ClusterGen = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;
function yamlOf(c: ClusterGen): string {
  const docs = ['apiVersion: v1\nkind: Namespace\nmetadata: {name: app}'];
  c.pods.forEach((p, i) => {
    const ports = p.named ? '[{name: http, containerPort: 8080, protocol: TCP}]' : '[]';
    docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: app, labels: {l: ${p.label}}}\nspec: {nodeName: n1, containers: [{name: c, ports: ${ports}}]}\nstatus: {podIP: 10.65.0.${p.ip}}`);
  });
  if (c.hep !== undefined) {
    docs.push(`apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {l: ${c.hep.label}}}\nspec: {node: n1, interfaceName: "${c.hep.iface}", expectedIPs: [10.65.0.200]}`);
    if (c.hep.policy) {
      docs.push(`apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: hp}\nspec:\n  selector: l == '${c.hep.label}'\n  types: [Ingress, Egress]\n  ingress: [{action: Allow, protocol: TCP, source: {selector: l == 'a'}, destination: {ports: [80]}}]\n  egress: [{action: Deny, protocol: UDP}]`);
    }
  }
  c.policies.forEach((p, i) => {
    const rules = p.rules.map((r) => {
      const proto = r.protocol ?? (r.ports !== undefined || r.notPorts !== undefined ? 'TCP' : undefined);
      const src = [r.peer ? `selector: l == '${r.peer}'` : '', r.notPeer ? `notSelector: l == '${r.notPeer}'` : '', r.nets ? `nets: ${r.nets}` : ''].filter(Boolean).join(', ');
      const dst = [r.ports ? `ports: ${r.ports}` : '', r.notPorts ? `notPorts: ${r.notPorts}` : ''].filter(Boolean).join(', ');
      return `  - {action: ${r.action}${proto ? `, protocol: ${proto}` : ''}, source: {${src}}, destination: {${dst}}}`;
    });
    const body = rules.length > 0 ? '\n' + rules.join('\n') : ' []';
    docs.push(
      `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: pol${i}, namespace: app}\nspec:\n  selector: l == '${p.subject}'\n  order: ${p.order}\n  types: [Ingress, Egress]\n  ingress:${body}\n  egress:${body}`,
    );
  });
  return docs.join('\n---\n') + '\n';
}

test('property: full(A) then delta(A→B) equals full(B)', () => {
  fc.assert(
    fc.property(clusterArb, clusterArb, (ca, cb) => {
      const ids = new RuleIdRegistry();
      const opts = { ...OPTIONS, interfaceOf: OPTIONS.interfaceOf, ruleIds: ids };
      const a = renderModel(clusterFromYaml(yamlOf(ca)).state, opts);
      const b = renderModel(clusterFromYaml(yamlOf(cb)).state, opts);
      const viaDelta: Table = { sets: new Map(), maps: new Map(), chains: new Map() };
      interpret(viaDelta, programText(a));
      interpret(viaDelta, deltaText(a, b));
      const direct: Table = { sets: new Map(), maps: new Map(), chains: new Map() };
      interpret(direct, programText(b));
      assert.deepEqual(snapshot(viaDelta), snapshot(direct));
      assert.equal(deltaText(b, b), '');
      // Deletions deferred: A → (B plus A's leftovers) deletes no object and is valid at every
      // step (the interpreter checks each reference); the later collection reaches exactly B.
      const deferred: Table = { sets: new Map(), maps: new Map(), chains: new Map() };
      interpret(deferred, programText(a));
      const kept = withGarbage(a, b);
      const change = deltaText(a, kept);
      if (!change.includes('delete table')) assert.doesNotMatch(change, /^delete (set|map|chain) /m);
      interpret(deferred, change);
      interpret(deferred, deltaText(kept, b));
      assert.deepEqual(snapshot(deferred), snapshot(direct));
      assert.equal(deltaText(withGarbage(b, b), b), '');
    }),
    { numRuns: 150 },
  );
});
