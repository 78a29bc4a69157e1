// The renderer by example (golden text on a small state), and by property: for random pairs of
// clusters, the full program of A followed by the delta A→B leaves, in a small interpreter of
// the nft commands we emit (which also checks reference order), exactly the full program of B.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deltaText, programText, renderModel, renderRuleset, RuleIdRegistry, ruleIdsOfCtMark, normalizeNets } from './index.js';
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
  // Log, then the Allow with two port alternatives in a helper chain, then Deny with nets/notNets.
  assert.ok(lines.includes('add rule inet margay p-1oazgtonuflmm-i meta nfproto ipv4 ip saddr @s-32ncb4schh2pg-4 log prefix "mgy i 1 " group 7'));
  assert.ok(lines.includes('add rule inet margay r-1idq0z15wkver th dport 9000 ct mark set ct mark & 0xffff0000 | 0x00000002 accept'));
  assert.ok(lines.includes('add rule inet margay r-1idq0z15wkver ip daddr . meta l4proto . th dport @n-3bjdojakwhqem-4 ct mark set ct mark & 0xffff0000 | 0x00000002 accept'));
  assert.ok(lines.includes('add rule inet margay p-1oazgtonuflmm-i meta nfproto ipv4 meta l4proto 6 ip saddr @c-3soqsjk7k87cl-4 ip saddr != @c-1y8y4aechhmsk-4 drop'));
  // Tier chain: jump, pass check, end-of-tier Deny; endpoint chain: tiers, profile, default drop.
  assert.ok(text.includes('add rule inet margay t-0mzpalda9w1um jump p-1oazgtonuflmm-i\nadd rule inet margay t-0mzpalda9w1um meta mark & 0x01000000 == 0x01000000 meta mark set meta mark & 0xfeffffff return\nadd rule inet margay t-0mzpalda9w1um drop\n'));
  assert.ok(text.includes('add rule inet margay e-31niihtmnwjs1 jump t-0mzpalda9w1um\nadd rule inet margay e-31niihtmnwjs1 jump f-0xfejwafgb5dd-i\nadd rule inet margay e-31niihtmnwjs1 drop\n'));
  // Dispatch by interface; endpoints with the same lists share a chain; unknown pod interfaces drop.
  assert.ok(lines.includes('add element inet margay ingress-dispatch { "mgy-client" : goto e-2luhw0uepujxs, "mgy-other" : goto e-2luhw0uepujxs, "mgy-web" : goto e-31niihtmnwjs1 }'));
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

const LABELS = ['a', 'b', 'c'];
const clusterArb = fc.record({
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
    }),
    { numRuns: 150 },
  );
});
