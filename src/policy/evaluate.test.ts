// Semantics of the evaluator, checked through manifests and the trace: which tier, policy and
// rule decided, not just the final yes/no (the matrix suites under test/ cover that widely).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeManifests } from '../resources/index.js';
import { parseIp } from '../net/index.js';
import { PolicyEvaluator, buildSnapshot, flowBetween, PROTOCOL_NUMBERS, type Verdict } from './index.js';

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {addresses: [{type: InternalIP, address: 192.168.1.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.10}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {nodeName: n1, serviceAccountName: db-sa, containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}
status: {podIP: 10.0.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops, labels: {app: tool}}
spec: {nodeName: n2, containers: [{name: c}]}
status: {podIP: 10.0.1.5}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops, labels: {app: agent}}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
`;

function evaluator(policies: string): { ev: PolicyEvaluator; flow: (from: string, to: string, port: number, proto?: number) => Verdict } {
  const decoded = decodeManifests(`${CLUSTER}\n---\n${policies}`, 'test.yaml');
  const built = buildSnapshot(decoded);
  assert.deepEqual(built.problems, []);
  const ev = new PolicyEvaluator(built.snapshot);
  const end = (x: string) => built.pods.get(x) ?? parseIp(x) ?? assert.fail(`no ${x}`);
  return {
    ev,
    flow: (from, to, port, proto = PROTOCOL_NUMBERS.TCP) => {
      const f = flowBetween(end(from), end(to), { protocol: proto, port });
      assert.ok(f, 'flow');
      const v = ev.evaluate(f);
      assert.equal(ev.isAllowed(f), v.allowed, 'fast path agrees with the traced path');
      return v;
    },
  };
}

test('with no policy, pods talk freely through their namespace profile', () => {
  const v = evaluator('').flow('shop/web', 'shop/db', 5432);
  assert.equal(v.allowed, true);
  assert.deepEqual(v.ingress.decidedBy, { kind: 'profile', profile: 'kns.shop', ruleIndex: 0, action: 'Allow' });
  assert.deepEqual(v.egress.decidedBy, { kind: 'profile', profile: 'kns.shop', ruleIndex: 0, action: 'Allow' });
});

test('a Kubernetes policy isolates the selected pod; the end of tier default denies the rest', () => {
  const { flow } = evaluator(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
`);
  const ok = flow('shop/web', 'shop/db', 5432);
  assert.equal(ok.allowed, true);
  assert.deepEqual(ok.ingress.decidedBy, { kind: 'rule', tier: 'default', policy: 'shop/knp.default.db', ruleIndex: 0, action: 'Allow' });
  const wrongPort = flow('shop/web', 'shop/db', 5433);
  assert.equal(wrongPort.allowed, false);
  assert.deepEqual(wrongPort.ingress.decidedBy, { kind: 'end-of-tier', tier: 'default', action: 'Deny' });
  assert.equal(flow('ops/tool', 'shop/db', 5432).allowed, false, 'podSelector alone stays in the policy namespace');
  assert.equal(flow('shop/db', 'shop/web', 8080).allowed, true, 'egress from db is not isolated');
});

test('Pass jumps to the next tier, Log goes on, and a tier with defaultAction Pass passes', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 200, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.screen}
spec:
  tier: security
  selector: app == "db"
  ingress:
  - action: Log
  - action: Deny
    source: {namespaceSelector: team == "ops"}
  - action: Pass
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: platform.nothing}
spec:
  tier: platform
  selector: all()
  types: [Ingress]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-web, namespace: shop}
spec:
  selector: app == "db"
  ingress: [{action: Allow, protocol: TCP, source: {selector: app == "web"}, destination: {ports: [5432]}}]
`);
  const v = flow('shop/web', 'shop/db', 5432);
  assert.equal(v.allowed, true);
  assert.deepEqual(
    v.ingress.tiers.map((t) => [t.tier, t.outcome]),
    [['security', 'Pass'], ['platform', 'end-of-tier-Pass'], ['default', 'Allow']],
  );
  assert.deepEqual(v.ingress.tiers[0]?.policies[0]?.hits.map((h) => h.action), ['Log', 'Pass']);
  const denied = flow('ops/tool', 'shop/db', 5432);
  assert.deepEqual(denied.ingress.decidedBy, { kind: 'rule', tier: 'security', policy: 'security.screen', ruleIndex: 1, action: 'Deny' });
});

test('policies sort by order, absent order last, then by name', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a-unordered}
spec: {selector: app == "db", ingress: [{action: Deny}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: z-ordered}
spec: {order: 500, selector: app == "db", ingress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: b-ordered}
spec: {order: 500, selector: app == "db", ingress: [{action: Log}]}
`);
  const v = flow('shop/web', 'shop/db', 5432);
  assert.equal(v.allowed, true);
  assert.deepEqual(v.ingress.tiers[0]?.policies.map((p) => p.policy), ['b-ordered', 'z-ordered']);
});

test('staged policies never change the verdict but report what they would do', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: lockdown}
spec: {selector: app == "db", ingress: [{action: Deny}]}
`);
  const v = flow('shop/web', 'shop/db', 5432);
  assert.equal(v.allowed, true);
  assert.equal(v.staged.allowed, false);
  assert.deepEqual(v.staged.ingress.decidedBy, { kind: 'rule', tier: 'default', policy: 'lockdown', ruleIndex: 0, action: 'Deny' });
});

test('a staged Delete removes its enforced twin from the staged verdict only', () => {
  const { flow } = evaluator(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {stagedAction: Delete, podSelector: {}}
`);
  const v = flow('ops/tool', 'shop/db', 5432);
  assert.equal(v.allowed, false);
  assert.equal(v.staged.allowed, true);
});

test('admin policies go first by priority; Pass hands over to NetworkPolicy; baseline comes last', () => {
  const { flow } = evaluator(`
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: pass-ops}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: shop}}}
  ingress: [{name: ops-to-nps, action: Pass, from: [{namespaces: {matchLabels: {team: ops}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-ops}
spec:
  priority: 20
  subject: {namespaces: {matchLabels: {team: shop}}}
  ingress: [{name: no-ops, action: Deny, from: [{namespaces: {matchLabels: {team: ops}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{name: baseline-deny, action: Deny, from: [{namespaces: {}}]}]
`);
  const v = flow('ops/tool', 'shop/db', 5432);
  assert.equal(v.allowed, false);
  assert.deepEqual(v.ingress.decidedBy, {
    kind: 'rule', tier: 'baselineadminnetworkpolicy', policy: 'kbanp.baselineadminnetworkpolicy.default', ruleIndex: 0, ruleName: 'baseline-deny', action: 'Deny',
  });
  assert.deepEqual(v.ingress.tiers.map((t) => [t.tier, t.outcome]), [['adminnetworkpolicy', 'Pass'], ['baselineadminnetworkpolicy', 'Deny']]);
});

test('egress to an outside address is decided at the source only', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocklist, labels: {feed: bad}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: block-feed}
spec:
  order: 1
  selector: all()
  types: [Egress]
  egress:
  - {action: Deny, destination: {selector: feed == "bad"}}
  - {action: Allow}
`);
  const bad = flow('shop/web', '203.0.113.7', 443);
  assert.equal(bad.allowed, false);
  assert.equal(bad.ingress.decidedBy.kind, 'not-enforced');
  assert.equal(flow('shop/web', '198.51.100.1', 443).allowed, true);
});

test('a node reaches its own pods even when they are isolated; other nodes do not', () => {
  const { flow } = evaluator(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}}
`);
  const local = flow('ops/agent', 'shop/db', 5432);
  assert.equal(local.allowed, true);
  assert.equal(local.ingress.decidedBy.kind, 'not-enforced');
  assert.equal(flow('ops/tool', 'shop/db', 5432).allowed, false);
});

test('a pod always reaches itself', () => {
  const { flow } = evaluator(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`);
  assert.equal(flow('shop/db', 'shop/db', 5432).allowed, true);
});

test('service-account rules and named ports in Calico rules', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-db-sa, namespace: shop}
spec:
  selector: app == "web"
  ingress: [{action: Allow, protocol: TCP, source: {serviceAccounts: {names: [db-sa]}}, destination: {ports: [http]}}]
`);
  assert.equal(flow('shop/db', 'shop/web', 8080).allowed, true);
  assert.equal(flow('shop/db', 'shop/web', 8081).allowed, false);
  assert.equal(flow('ops/tool', 'shop/web', 8080).allowed, false);
});

test('a host endpoint governs its host\'s own traffic: default deny, Calico\'s failsafe ports first, local pods past it', () => {
  const { flow } = evaluator(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-eth0, labels: {hep: n1}}
spec: {node: n1, interfaceName: eth0, expectedIPs: [192.168.1.1]}
`);
  // ops/agent is host-networked on n1: its address is the host's.
  const denied = flow('ops/tool', 'ops/agent', 80);
  assert.equal(denied.allowed, false);
  assert.equal(denied.ingress.endpoint, 'hep:n1-eth0');
  assert.equal(denied.ingress.decidedBy.kind, 'default-deny');
  const ssh = flow('ops/tool', 'ops/agent', 22);
  assert.equal(ssh.allowed, true);
  assert.deepEqual(ssh.ingress.decidedBy.kind === 'not-enforced' && ssh.ingress.decidedBy.failsafe, { protocol: 6, first: 22, last: 22 });
  assert.match(ssh.ingress.decidedBy.kind === 'not-enforced' ? ssh.ingress.decidedBy.reason : '', /failsafe: inbound TCP 22/);
  assert.equal(flow('ops/agent', '203.0.113.9', 53, PROTOCOL_NUMBERS.UDP).allowed, true, 'outbound DNS is failsafe');
  assert.equal(flow('203.0.113.9', 'ops/agent', 53, PROTOCOL_NUMBERS.UDP).allowed, false, 'inbound DNS is not');
  assert.equal(flow('ops/agent', '203.0.113.9', 80).egress.decidedBy.kind, 'default-deny');
  // The host and its own pods never cross the interface; pods' forwarded traffic never meets it.
  assert.equal(flow('shop/web', 'ops/agent', 80).allowed, true);
  assert.equal(flow('ops/agent', 'shop/web', 80).allowed, true);
  assert.equal(flow('ops/tool', 'shop/web', 80).allowed, true);
});
