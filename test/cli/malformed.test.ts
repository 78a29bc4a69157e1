// Bad input through the real CLI: every case must exit 2 with exactly one clear line on stderr
// naming where the problem is (file, document, field path) and what was expected — no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMargay, tempFiles } from '../support/margay.js';

const NS = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n';
const POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c}]}\nstatus: {podIP: 10.0.0.1}\n---\n';

function knp(spec: string): string {
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n${spec}`;
}
function cnp(spec: string): string {
  return `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n${spec}`;
}
function anp(spec: string, kind = 'AdminNetworkPolicy', name = 'p'): string {
  return `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec:\n${spec}`;
}

interface Case {
  readonly name: string;
  readonly manifest?: string;
  readonly args?: readonly string[];
  /** Field path the line must name (omitted for file-level problems). */
  readonly path?: string;
  /** What the line must say. */
  readonly says: RegExp;
}

const CASES: readonly Case[] = [
  { name: 'YAML syntax error', manifest: 'kind: [unclosed\n', says: /line \d+/ },
  { name: 'unknown core kind', manifest: 'apiVersion: v1\nkind: Pood\nmetadata: {name: s}\n', says: /Pood/ },
  { name: 'unknown Calico kind', manifest: 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolcy\nmetadata: {name: s}\n', says: /GlobalNetworkPolcy/ },
  { name: 'missing apiVersion', manifest: 'kind: Pod\nmetadata: {name: a}\n', says: /apiVersion/ },
  { name: 'missing metadata.name', manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {}\n', path: 'metadata.name', says: /name/ },
  { name: 'invalid name', manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: Not_Valid}\n', path: 'metadata.name', says: /./ },
  { name: 'bad label key', manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {"-bad": v}}\n', path: 'metadata.labels', says: /./ },
  { name: 'bad pod IP', manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\nstatus: {podIP: 10.0.0.300}\n', path: 'status.podIP', says: /IP/i },
  { name: 'container port 0', manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, ports: [{containerPort: 0}]}]}\n', path: 'spec.containers[0].ports[0].containerPort', says: /./ },
  { name: 'K8s NP without podSelector', manifest: knp('  policyTypes: [Ingress]\n'), path: 'spec.podSelector', says: /./ },
  { name: 'K8s NP port out of range', manifest: knp('  podSelector: {}\n  ingress: [{ports: [{port: 70000}]}]\n'), path: 'spec.ingress[0].ports[0].port', says: /65535/ },
  { name: 'K8s NP protocol ICMP', manifest: knp('  podSelector: {}\n  ingress: [{ports: [{protocol: ICMP, port: 80}]}]\n'), path: 'spec.ingress[0].ports[0].protocol', says: /TCP/ },
  { name: 'K8s NP endPort below port', manifest: knp('  podSelector: {}\n  egress: [{ports: [{port: 90, endPort: 80}]}]\n'), path: 'spec.egress[0].ports[0].endPort', says: /./ },
  { name: 'K8s NP endPort with named port', manifest: knp('  podSelector: {}\n  egress: [{ports: [{port: http, endPort: 80}]}]\n'), path: 'spec.egress[0].ports[0].endPort', says: /./ },
  { name: 'K8s NP bad named port', manifest: knp('  podSelector: {}\n  ingress: [{ports: [{port: HTTP_PORT}]}]\n'), path: 'spec.ingress[0].ports[0].port', says: /./ },
  { name: 'K8s NP bad ipBlock CIDR', manifest: knp('  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n'), path: 'spec.ingress[0].from[0].ipBlock.cidr', says: /CIDR/i },
  { name: 'K8s NP except outside cidr', manifest: knp('  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]\n'), path: 'spec.ingress[0].from[0].ipBlock.except[0]', says: /./ },
  { name: 'K8s NP ipBlock with podSelector', manifest: knp('  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n'), path: 'spec.ingress[0].from[0]', says: /./ },
  { name: 'K8s NP bad operator', manifest: knp('  podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}\n'), path: 'spec.podSelector.matchExpressions[0].operator', says: /In/ },
  { name: 'K8s NP In without values', manifest: knp('  podSelector: {matchExpressions: [{key: a, operator: In}]}\n'), path: 'spec.podSelector.matchExpressions[0].values', says: /./ },
  { name: 'K8s NP bad policyType', manifest: knp('  podSelector: {}\n  policyTypes: [Both]\n'), path: 'spec.policyTypes[0]', says: /Ingress/ },
  { name: 'Calico bad selector', manifest: cnp('  selector: app == \n'), path: 'spec.selector', says: /position/ },
  { name: 'Calico bad namespaceSelector in rule', manifest: cnp('  ingress: [{action: Allow, source: {namespaceSelector: "a in {b"}}]\n'), path: 'spec.ingress[0].source.namespaceSelector', says: /position/ },
  { name: 'Calico bad action', manifest: cnp('  ingress: [{action: Accept}]\n'), path: 'spec.ingress[0].action', says: /Allow/ },
  { name: 'Calico bad port range', manifest: cnp('  ingress: [{action: Allow, protocol: TCP, destination: {ports: ["80-90"]}}]\n'), path: 'spec.ingress[0].destination.ports[0]', says: /./ },
  { name: 'Calico ports without a port protocol', manifest: cnp('  ingress: [{action: Allow, destination: {ports: [80]}}]\n'), path: 'spec.ingress[0]', says: /protocol/i },
  { name: 'Calico unknown protocol', manifest: cnp('  ingress: [{action: Allow, protocol: tcpp}]\n'), path: 'spec.ingress[0].protocol', says: /./ },
  { name: 'Calico bad nets', manifest: cnp('  egress: [{action: Allow, destination: {nets: [not-a-cidr]}}]\n'), path: 'spec.egress[0].destination.nets[0]', says: /CIDR/i },
  { name: 'Calico bad ipVersion', manifest: cnp('  ingress: [{action: Allow, ipVersion: 5}]\n'), path: 'spec.ingress[0].ipVersion', says: /./ },
  { name: 'Calico unknown field', manifest: cnp('  ingres: [{action: Allow}]\n'), path: 'spec', says: /ingres/ },
  { name: 'Calico icmp code without type', manifest: cnp('  ingress: [{action: Allow, protocol: ICMP, icmp: {code: 3}}]\n'), path: 'spec.ingress[0].icmp', says: /type/ },
  { name: 'Tier bad defaultAction', manifest: 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {order: 10, defaultAction: Allow}\n', path: 'spec.defaultAction', says: /Pass/ },
  { name: 'Tier order not a number', manifest: 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {order: high}\n', path: 'spec.order', says: /number/ },
  { name: 'GlobalNetworkSet bad net', manifest: 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s}\nspec: {nets: [1.2.3.4/40]}\n', path: 'spec.nets[0]', says: /./ },
  { name: 'Staged bad stagedAction', manifest: 'apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {stagedAction: Maybe}\n', path: 'spec.stagedAction', says: /Set/ },
  { name: 'ANP priority too high', manifest: anp('  priority: 1001\n  subject: {namespaces: {}}\n'), path: 'spec.priority', says: /1000/ },
  { name: 'ANP bad action', manifest: anp('  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]\n'), path: 'spec.ingress[0].action', says: /Allow/ },
  { name: 'ANP subject with two selectors', manifest: anp('  priority: 1\n  subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n'), path: 'spec.subject', says: /./ },
  { name: 'BANP not named default', manifest: anp('  subject: {namespaces: {}}\n', 'BaselineAdminNetworkPolicy', 'other'), path: 'metadata.name', says: /default/ },
  { name: 'policy in a tier that does not exist', manifest: NS + cnp('  tier: missing\n  selector: all()\n'), path: 'spec.tier', says: /missing/ },
  { name: 'bad --port', manifest: NS + POD, args: ['--from', 'x/a', '--to', 'x/a', '--port', '80/XYZ'], path: '--port', says: /XYZ/ },
  { name: 'unknown --from pod', manifest: NS + POD, args: ['--from', 'x/nope', '--to', 'x/a', '--port', '80'], path: '--from', says: /x\/nope/ },
];

for (const c of CASES) {
  test(`malformed: ${c.name}`, async () => {
    const files = tempFiles({ 'case.yaml': c.manifest ?? '' });
    try {
      const args = c.args ?? ['--matrix', '--port', '80/TCP'];
      const r = await runMargay(['simulate', '-f', files.path('case.yaml'), ...args]);
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '', 'nothing on stdout');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `exactly one line, got:\n${r.stderr}`);
      const line = lines[0] ?? '';
      assert.doesNotMatch(line, /\bat .*\.js:\d+/, 'no stack trace');
      if (c.manifest !== undefined && !c.args) assert.ok(line.includes('case.yaml'), `names the file: ${line}`);
      if (c.path !== undefined) assert.ok(line.includes(c.path), `names the field path ${c.path}: ${line}`);
      assert.match(line, c.says);
    } finally {
      files.cleanup();
    }
  });
}

test('a missing file is one clear line and exit 2', async () => {
  const r = await runMargay(['simulate', '-f', '/nonexistent/margay.yaml', '--matrix', '--port', '80']);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^error: \/nonexistent\/margay\.yaml: cannot read file: ENOENT$/);
});

test('every problem in a file is reported, one line each', async () => {
  const files = tempFiles({
    'two.yaml': `${cnp('  ingress: [{action: Accept}]\n')}\n---\n${knp('  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n')}`,
  });
  try {
    const r = await runMargay(['simulate', '-f', files.path('two.yaml'), '--matrix', '--port', '80']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', /document 1.*spec\.ingress\[0\]\.action/);
    assert.match(lines[1] ?? '', /document 2.*spec\.ingress\[0\]\.ports\[0\]\.port/);
  } finally {
    files.cleanup();
  }
});
