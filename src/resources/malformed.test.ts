// Malformed manifests: each must produce exactly one problem, formatted exactly as the user sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, isUserError } from '../errors/index.js';
import { decodeManifests } from './index.js';

interface Case {
  name: string;
  yaml: string;
  want: string;
}

const F = 'bad.yaml';
const at = (line: number, object: string | undefined, path: string | undefined, message: string): string =>
  `${F} (document 1, line ${line}): ${object !== undefined ? `${object}: ` : ''}${path !== undefined ? `${path}: ` : ''}${message}`;

// Wrappers put the spec body on line 5 onwards.
const wrap = (apiVersion: string, kind: string, metadata: string) => (...spec: string[]) =>
  [`apiVersion: ${apiVersion}`, `kind: ${kind}`, `metadata: ${metadata}`, 'spec:', ...spec.map((l) => `  ${l}`)].join('\n');
const np = wrap('projectcalico.org/v3', 'NetworkPolicy', '{name: p, namespace: n}');
const gnp = wrap('projectcalico.org/v3', 'GlobalNetworkPolicy', '{name: g}');
const knp = wrap('networking.k8s.io/v1', 'NetworkPolicy', '{name: k, namespace: n}');
const anp = wrap('policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy', '{name: a}');
const banp = wrap('policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy', '{name: default}');
const cnp = wrap('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy', '{name: c}');
const pool = wrap('projectcalico.org/v3', 'IPPool', '{name: pool}');
const hep = wrap('projectcalico.org/v3', 'HostEndpoint', '{name: h}');
const NP = 'NetworkPolicy n/p';
const GNP = 'GlobalNetworkPolicy g';
const KNP = 'NetworkPolicy n/k';
const ANP = 'AdminNetworkPolicy a';
const CNP = 'ClusterNetworkPolicy c';
const POOL = 'IPPool pool';
const HEP = 'HostEndpoint h';
const ANP_SUBJECT = 'subject: {namespaces: {}}';

const cases: Case[] = [
  // ── Calico rules ──
  { name: 'lower-case action', yaml: np('ingress: [{action: allow}]'), want: at(5, NP, 'spec.ingress[0].action', 'expected one of "Allow", "Deny", "Log", "Pass", got "allow"') },
  {
    name: 'dash port range',
    yaml: np('ingress:', '- action: Allow', '  protocol: TCP', '  destination:', '    ports: [80, "80-90"]'),
    want: at(9, NP, 'spec.ingress[0].destination.ports[1]', 'expected a port number 1-65535, a range "a:b" or a named port, got "80-90"'),
  },
  {
    name: 'port zero',
    yaml: np('ingress:', '- action: Allow', '  protocol: UDP', '  source:', '    ports:', '    - 53', '    - 0'),
    want: at(11, NP, 'spec.ingress[0].source.ports[1]', 'expected a port number 1-65535, a range "a:b" or a named port, got 0'),
  },
  {
    name: 'reversed port range',
    yaml: np('egress:', '- action: Allow', '  protocol: TCP', '  destination: {ports: ["9000:8000"]}'),
    want: at(8, NP, 'spec.egress[0].destination.ports[0]', 'expected a port range "a:b" with a <= b, got "9000:8000"'),
  },
  {
    name: 'ports without protocol',
    yaml: np('ingress:', '- action: Allow', '  destination:', '    ports: [80]'),
    want: at(8, NP, 'spec.ingress[0].destination.ports', 'expected protocol TCP, UDP or SCTP on a rule that matches ports, got no protocol'),
  },
  {
    name: 'ports with UDPLite',
    yaml: np('ingress:', '- action: Allow', '  protocol: UDPLite', '  destination:', '    notPorts: [80]'),
    want: at(9, NP, 'spec.ingress[0].destination.notPorts', 'expected protocol TCP, UDP or SCTP on a rule that matches notPorts, got protocol "UDPLite"'),
  },
  {
    name: 'protocol name in the wrong case',
    yaml: np('ingress:', '- action: Allow', '  protocol: tcp'),
    want: at(7, NP, 'spec.ingress[0].protocol', 'expected a protocol name (TCP, UDP, ICMP, ICMPv6, SCTP or UDPLite) or a protocol number 1-255, got "tcp" (names are case-sensitive: write "TCP")'),
  },
  {
    name: 'protocol number out of range',
    yaml: np('ingress:', '- action: Allow', '  notProtocol: 256'),
    want: at(7, NP, 'spec.ingress[0].notProtocol', 'expected a protocol name (TCP, UDP, ICMP, ICMPv6, SCTP or UDPLite) or a protocol number 1-255, got 256'),
  },
  {
    name: 'ICMP code without type',
    yaml: np('ingress:', '- action: Allow', '  protocol: ICMP', '  icmp: {code: 3}'),
    want: at(8, NP, 'spec.ingress[0].icmp.code', 'expected an ICMP type as well: a code cannot be matched without a type'),
  },
  {
    name: 'ICMP type 255',
    yaml: np('ingress:', '- action: Allow', '  protocol: ICMP', '  icmp:', '    type: 255'),
    want: at(9, NP, 'spec.ingress[0].icmp.type', 'expected an ICMP type 0-254, got 255'),
  },
  {
    name: 'icmp fields on a TCP rule',
    yaml: np('ingress:', '- action: Allow', '  protocol: TCP', '  icmp: {type: 8}'),
    want: at(8, NP, 'spec.ingress[0].icmp', 'expected protocol ICMP or ICMPv6 on a rule with icmp fields, got protocol "TCP"'),
  },
  {
    name: 'ICMP with ipVersion 6',
    yaml: np('ingress:', '- action: Allow', '  protocol: ICMP', '  ipVersion: 6'),
    want: at(8, NP, 'spec.ingress[0].ipVersion', 'expected ipVersion 4 with protocol "ICMP", got 6'),
  },
  {
    name: 'ipVersion 5',
    yaml: np('egress:', '- action: Deny', '  ipVersion: 5'),
    want: at(7, NP, 'spec.egress[0].ipVersion', 'expected 4 or 6, got 5'),
  },
  {
    name: 'net with host bits set',
    yaml: np('egress:', '- action: Deny', '  destination:', '    nets:', '    - 10.0.0.1/8'),
    want: at(9, NP, 'spec.egress[0].destination.nets[0]', 'expected a CIDR with no bits set after the prefix length ("10.0.0.0/8"), got "10.0.0.1/8"'),
  },
  {
    name: 'prefix longer than the address',
    yaml: np('egress:', '- action: Deny', '  destination: {notNets: [10.0.0.0/33]}'),
    want: at(7, NP, 'spec.egress[0].destination.notNets[0]', 'expected a CIDR such as "10.0.0.0/8" or an IP address, got "10.0.0.0/33"'),
  },
  {
    name: 'a rule mixing IPv4 and IPv6',
    yaml: np('egress:', '- action: Allow', '  source: {nets: [10.0.0.0/8]}', '  destination:', '    nets: ["fd00::/8"]'),
    want: at(9, NP, 'spec.egress[0].destination.nets[0]', 'expected an IPv4 CIDR like the rule\'s others (a rule cannot mix IPv4 and IPv6), got "fd00::/8"'),
  },
  {
    name: 'CIDR of the other family than ipVersion',
    yaml: np('egress:', '- action: Allow', '  ipVersion: 4', '  destination:', '    nets: ["fd00::/8"]'),
    want: at(9, NP, 'spec.egress[0].destination.nets[0]', 'expected an IPv4 CIDR to match the rule\'s ipVersion 4, got "fd00::/8"'),
  },
  {
    name: 'selector syntax error',
    yaml: np("selector: app == 'web' &&"),
    want: at(5, NP, 'spec.selector', 'invalid selector "app == \'web\' &&": expected a label, has(…), all(), global(), "!" or "(", found the end of the selector at position 15'),
  },
  {
    name: 'global() outside a namespaceSelector',
    yaml: np('ingress:', '- action: Allow', '  source: {selector: global()}'),
    want: at(7, NP, 'spec.ingress[0].source.selector', 'global() can only be used in an EntityRule namespaceSelector'),
  },
  {
    name: 'global() combined with another selector',
    yaml: np('ingress:', '- action: Allow', '  source:', "    namespaceSelector: global() && a == 'b'"),
    want: at(8, NP, 'spec.ingress[0].source.namespaceSelector', 'global() cannot be combined with other selectors'),
  },
  {
    name: 'misspelled spec field',
    yaml: np("selectr: all()"),
    want: at(5, NP, 'spec.selectr', 'unknown field; did you mean "selector"?'),
  },
  {
    name: 'misspelled rule field',
    yaml: np('ingress:', '- action: Allow', '  protocol: TCP', '  destination: {port: [80]}'),
    want: at(8, NP, 'spec.ingress[0].destination.port', 'unknown field; did you mean "ports"?'),
  },
  { name: 'duplicate policy type', yaml: np('types: [Ingress, Ingress]'), want: at(5, NP, 'spec.types[1]', 'duplicate value "Ingress"') },
  { name: 'lower-case policy type', yaml: np('types: [ingress]'), want: at(5, NP, 'spec.types[0]', 'expected one of "Ingress", "Egress", got "ingress"') },
  {
    name: 'http match on a Deny rule',
    yaml: np('ingress:', '- action: Deny', '  http: {methods: [GET]}'),
    want: at(7, NP, 'spec.ingress[0].http', 'expected an http match only on an Allow rule, got action "Deny"'),
  },
  {
    name: 'http match on an egress rule',
    yaml: np('egress:', '- action: Allow', '  http: {paths: [{prefix: /api}]}'),
    want: at(7, NP, 'spec.egress[0].http', 'expected no http match on an egress rule (HTTP matching applies to ingress only)'),
  },
  {
    name: 'services with a selector',
    yaml: np('egress:', '- action: Allow', '  destination:', '    services: {name: api}', "    selector: app == 'x'"),
    want: at(9, NP, 'spec.egress[0].destination.selector', 'expected no selector together with services'),
  },
  {
    name: 'services in an ingress destination',
    yaml: np('ingress:', '- action: Allow', '  destination:', '    services: {name: api}'),
    want: at(8, NP, 'spec.ingress[0].destination.services', 'expected services only in the source of an ingress rule'),
  },
  {
    name: 'policy name with two dots',
    yaml: ['apiVersion: projectcalico.org/v3', 'kind: NetworkPolicy', 'metadata:', '  name: a.b.c'].join('\n'),
    want: at(4, 'NetworkPolicy default/a.b.c', 'metadata.name', "expected a policy name of lowercase letters, digits and '-', with at most one '.' (at most 253 characters), got \"a.b.c\""),
  },
  {
    name: 'tier name with a capital',
    yaml: np('tier: Security'),
    want: at(5, NP, 'spec.tier', "expected a tier name: a DNS-1123 label (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit), got \"Security\""),
  },
  {
    name: 'label value with a space',
    yaml: ['apiVersion: projectcalico.org/v3', 'kind: GlobalNetworkSet', 'metadata:', '  name: s', '  labels:', '    team: web team'].join('\n'),
    want: at(6, 'GlobalNetworkSet s', 'metadata.labels.team', "expected a label value: empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got \"web team\""),
  },
  {
    name: 'label key with a bad prefix',
    yaml: ['apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: ns', '  labels: {"Example.com/x": y}'].join('\n'),
    want: at(5, 'Namespace ns', 'metadata.labels["Example.com/x"]', "expected a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got \"Example.com/x\""),
  },
  { name: 'order as text', yaml: np('order: first'), want: at(5, NP, 'spec.order', 'expected a number, got "first"') },
  // ── GlobalNetworkPolicy and staged ──
  { name: 'preDNAT without applyOnForward', yaml: gnp('preDNAT: true'), want: at(4, GNP, 'spec.applyOnForward', 'expected applyOnForward: true, which preDNAT requires') },
  {
    name: 'preDNAT with egress rules',
    yaml: gnp('preDNAT: true', 'applyOnForward: true', 'egress: [{action: Allow}]'),
    want: at(7, GNP, 'spec.egress', 'expected no egress rules in a preDNAT policy'),
  },
  {
    name: 'global egress service without namespace',
    yaml: gnp('egress:', '- action: Allow', '  destination: {services: {name: api}}'),
    want: at(7, GNP, 'spec.egress[0].destination.services.namespace', 'required field is missing; expected the service namespace (a global policy has no namespace of its own)'),
  },
  {
    name: 'staged Delete with a selector',
    yaml: wrap('projectcalico.org/v3', 'StagedNetworkPolicy', '{name: s, namespace: n}')('stagedAction: Delete', 'selector: all()'),
    want: at(6, 'StagedNetworkPolicy n/s', 'spec.selector', 'expected no selector when stagedAction is Delete (only the tier may be set)'),
  },
  {
    name: 'unknown stagedAction',
    yaml: wrap('projectcalico.org/v3', 'StagedGlobalNetworkPolicy', '{name: s}')('stagedAction: Apply'),
    want: at(5, 'StagedGlobalNetworkPolicy s', 'spec.stagedAction', 'expected one of "Set", "Delete", "Learn", "Ignore", got "Apply"'),
  },
  // ── other Calico kinds ──
  {
    name: 'built-in tier with another order',
    yaml: wrap('projectcalico.org/v3', 'Tier', '{name: default}')('order: 5'),
    want: at(5, 'Tier default', 'spec.order', 'expected order 1000000 for the built-in tier "default", got 5'),
  },
  {
    name: 'tier defaultAction Allow',
    yaml: wrap('projectcalico.org/v3', 'Tier', '{name: t}')('defaultAction: Allow'),
    want: at(5, 'Tier t', 'spec.defaultAction', 'expected one of "Deny", "Pass", got "Allow"'),
  },
  { name: 'host endpoint with neither interface nor IPs', yaml: hep('node: n1'), want: at(4, HEP, 'spec.interfaceName', 'required field is missing; expected interfaceName or expectedIPs (or both)') },
  {
    name: 'host endpoint named port over ICMP',
    yaml: hep('node: n1', 'interfaceName: eth0', 'ports:', '- {name: ping, protocol: ICMP, port: 1}'),
    want: at(8, HEP, 'spec.ports[0].protocol', 'expected TCP, UDP or SCTP (a protocol with ports), got "ICMP"'),
  },
  {
    name: 'reserved namespace label on a NetworkSet',
    yaml: ['apiVersion: projectcalico.org/v3', 'kind: NetworkSet', 'metadata:', '  name: s', '  namespace: n', '  labels: {projectcalico.org/namespace: n}'].join('\n'),
    want: at(6, 'NetworkSet n/s', 'metadata.labels["projectcalico.org/namespace"]', 'expected a label key other than "projectcalico.org/namespace", which Calico reserves'),
  },
  { name: 'IP pool CIDR with host bits', yaml: pool('cidr: 10.1.2.3/16'), want: at(5, POOL, 'spec.cidr', 'expected a CIDR with no bits set after the prefix length ("10.1.0.0/16"), got "10.1.2.3/16"') },
  { name: 'IP pool in link-local space', yaml: pool('cidr: 169.254.0.0/16'), want: at(5, POOL, 'spec.cidr', 'expected a CIDR outside the link-local range 169.254.0.0/16, got "169.254.0.0/16"') },
  { name: 'IP pool block size 19', yaml: pool('cidr: 10.0.0.0/8', 'blockSize: 19'), want: at(6, POOL, 'spec.blockSize', 'expected a block size 20-32 for an IPv4 pool, got 19') },
  { name: 'IP pool smaller than a block', yaml: pool('cidr: 10.0.0.0/28'), want: at(5, POOL, 'spec.cidr', 'expected a pool at least as large as its /26 blocks, got "10.0.0.0/28"') },
  { name: 'IPIP on an IPv6 pool', yaml: pool('cidr: "fd00::/64"', 'ipipMode: Always'), want: at(6, POOL, 'spec.ipipMode', 'expected ipipMode "Never" on an IPv6 pool, got "Always"') },
  { name: 'IPIP and VXLAN together', yaml: pool('cidr: 10.0.0.0/16', 'ipipMode: Always', 'vxlanMode: CrossSubnet'), want: at(7, POOL, 'spec.vxlanMode', 'expected at most one of ipipMode and vxlanMode to be enabled') },
  // ── Kubernetes NetworkPolicy ──
  { name: 'missing podSelector', yaml: knp('policyTypes: [Ingress]'), want: at(4, KNP, 'spec.podSelector', 'required field is missing; expected a mapping') },
  {
    name: 'endPort below port',
    yaml: knp('podSelector: {}', 'ingress:', '- ports:', '  - port: 8080', '    endPort: 80'),
    want: at(9, KNP, 'spec.ingress[0].ports[0].endPort', 'expected endPort >= port (8080), got 80'),
  },
  {
    name: 'endPort with a named port',
    yaml: knp('podSelector: {}', 'egress:', '- ports: [{port: http, endPort: 90}]'),
    want: at(7, KNP, 'spec.egress[0].ports[0].endPort', 'expected a numeric port as well: endPort may not be set when port is the named port "http"'),
  },
  {
    name: 'quoted numeric port',
    yaml: knp('podSelector: {}', 'ingress:', '- ports:', '  - port: "80"'),
    want: at(8, KNP, 'spec.ingress[0].ports[0].port', "expected a port number 1-65535 or a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits or '-', with at least one letter), got \"80\""),
  },
  {
    name: 'ICMP port protocol',
    yaml: knp('podSelector: {}', 'ingress:', '- ports:', '  - protocol: ICMP'),
    want: at(8, KNP, 'spec.ingress[0].ports[0].protocol', 'expected one of "TCP", "UDP", "SCTP", got "ICMP"'),
  },
  {
    name: 'ipBlock with a podSelector',
    yaml: knp('podSelector: {}', 'ingress:', '- from:', '  - podSelector: {}', '    ipBlock: {cidr: 10.0.0.0/8}'),
    want: at(9, KNP, 'spec.ingress[0].from[0].ipBlock', 'expected ipBlock alone: it may not be combined with podSelector or namespaceSelector in one peer'),
  },
  {
    name: 'except outside cidr',
    yaml: knp('podSelector: {}', 'egress:', '- to:', '  - ipBlock:', '      cidr: 10.0.0.0/16', '      except: [10.0.0.0/24, 10.1.0.0/24]'),
    want: at(10, KNP, 'spec.egress[0].to[0].ipBlock.except[1]', 'expected a CIDR strictly inside cidr "10.0.0.0/16" (same IP family, longer prefix), got "10.1.0.0/24"'),
  },
  {
    name: 'except of the other family',
    yaml: knp('podSelector: {}', 'egress:', '- to:', '  - ipBlock: {cidr: 0.0.0.0/0, except: ["::/0"]}'),
    want: at(8, KNP, 'spec.egress[0].to[0].ipBlock.except[0]', 'expected a CIDR strictly inside cidr "0.0.0.0/0" (same IP family, longer prefix), got "::/0"'),
  },
  {
    name: 'ipBlock with a bare address',
    yaml: knp('podSelector: {}', 'egress:', '- to: [{ipBlock: {cidr: 10.1.2.3}}]'),
    want: at(7, KNP, 'spec.egress[0].to[0].ipBlock.cidr', 'expected a CIDR such as "10.0.0.0/8", got "10.1.2.3"'),
  },
  { name: 'empty peer', yaml: knp('podSelector: {}', 'ingress:', '- from:', '  - {}'), want: at(8, KNP, 'spec.ingress[0].from[0]', 'expected a peer: podSelector, namespaceSelector or ipBlock') },
  { name: 'three policyTypes', yaml: knp('podSelector: {}', 'policyTypes: [Ingress, Egress, Ingress]'), want: at(6, KNP, 'spec.policyTypes', 'expected at most 2 items, got 3') },
  {
    name: 'In without values',
    yaml: knp('podSelector:', '  matchExpressions:', '  - {key: app, operator: In}'),
    want: at(7, KNP, 'spec.podSelector.matchExpressions[0].values', 'expected at least one value when operator is In'),
  },
  {
    name: 'Exists with values',
    yaml: knp('podSelector:', '  matchExpressions:', '  - key: app', '    operator: Exists', '    values: [a]'),
    want: at(9, KNP, 'spec.podSelector.matchExpressions[0].values', 'expected no values when operator is Exists'),
  },
  { name: 'misspelled policyTypes', yaml: knp('podSelector: {}', 'policyType: [Egress]'), want: at(6, KNP, 'spec.policyType', 'unknown field; did you mean "policyTypes"?') },
  // ── admin and cluster network policy ──
  { name: 'ANP priority 1001', yaml: anp('priority: 1001', ANP_SUBJECT), want: at(5, ANP, 'spec.priority', 'expected a priority 0-1000, got 1001') },
  {
    name: 'ANP subject with two selectors',
    yaml: anp('priority: 1', 'subject:', '  namespaces: {}', '  pods: {namespaceSelector: {}, podSelector: {}}'),
    want: at(8, ANP, 'spec.subject.pods', 'expected exactly one of "namespaces", "pods", got namespaces and pods'),
  },
  {
    name: 'ANP action Accept (a v1alpha2 spelling)',
    yaml: anp('priority: 1', ANP_SUBJECT, 'ingress:', '- action: Accept', '  from: [{namespaces: {}}]'),
    want: at(8, ANP, 'spec.ingress[0].action', 'expected one of "Allow", "Deny", "Pass", got "Accept"'),
  },
  {
    name: 'BANP with a Pass rule',
    yaml: banp(ANP_SUBJECT, 'egress:', '- action: Pass', '  to: [{namespaces: {}}]'),
    want: at(7, 'BaselineAdminNetworkPolicy default', 'spec.egress[0].action', 'expected one of "Allow", "Deny", got "Pass"'),
  },
  {
    name: 'BANP not named default',
    yaml: ['apiVersion: policy.networking.k8s.io/v1alpha1', 'kind: BaselineAdminNetworkPolicy', 'metadata:', '  name: baseline', 'spec: {subject: {namespaces: {}}}'].join('\n'),
    want: at(4, 'BaselineAdminNetworkPolicy baseline', 'metadata.name', 'expected "default" (the BaselineAdminNetworkPolicy is a singleton), got "baseline"'),
  },
  {
    name: 'ANP port range start after end',
    yaml: anp('priority: 1', ANP_SUBJECT, 'egress:', '- action: Deny', '  to: [{namespaces: {}}]', '  ports:', '  - portRange: {start: 90, end: 80}'),
    want: at(11, ANP, 'spec.egress[0].ports[0].portRange.end', 'expected end greater than start (90), got 80'),
  },
  {
    name: 'ANP named port towards networks',
    yaml: anp('priority: 1', ANP_SUBJECT, 'egress:', '- action: Deny', '  to: [{networks: [10.0.0.0/8]}]', '  ports:', '  - namedPort: http'),
    want: at(11, ANP, 'spec.egress[0].ports[0].namedPort', 'expected no named port in a rule with networks, nodes or domainNames peers (they have no named ports)'),
  },
  {
    name: 'ANP domainNames on a Deny rule',
    yaml: anp('priority: 1', ANP_SUBJECT, 'egress:', '- action: Deny', '  to:', '  - domainNames: [example.com]'),
    want: at(10, ANP, 'spec.egress[0].to[0].domainNames', 'expected domainNames only on an Allow rule, got action "Deny"'),
  },
  {
    name: 'ANP rule without peers',
    yaml: anp('priority: 1', ANP_SUBJECT, 'ingress:', '- action: Deny', '  from: []'),
    want: at(9, ANP, 'spec.ingress[0].from', 'expected at least 1 item, got 0'),
  },
  {
    name: 'BANP domainNames peer',
    yaml: banp(ANP_SUBJECT, 'egress:', '- action: Allow', '  to: [{namespaces: {}, domainNames: [example.com]}]'),
    want: at(8, 'BaselineAdminNetworkPolicy default', 'spec.egress[0].to[0].domainNames', 'unknown field; expected one of "namespaces", "pods", "nodes", "networks"'),
  },
  { name: 'CNP tier in lower case', yaml: cnp('tier: admin', 'priority: 1', ANP_SUBJECT), want: at(5, CNP, 'spec.tier', 'expected one of "Admin", "Baseline", got "admin"') },
  {
    name: 'CNP action Allow (a v1alpha1 spelling)',
    yaml: cnp('tier: Baseline', 'priority: 1', ANP_SUBJECT, 'ingress:', '- action: Allow', '  from: [{namespaces: {}}]'),
    want: at(9, CNP, 'spec.ingress[0].action', 'expected one of "Accept", "Deny", "Pass", got "Allow"'),
  },
  {
    name: 'CNP protocol block without a port',
    yaml: cnp('tier: Admin', 'priority: 1', ANP_SUBJECT, 'ingress:', '- action: Deny', '  from: [{namespaces: {}}]', '  protocols:', '  - tcp: {}'),
    want: at(12, CNP, 'spec.ingress[0].protocols[0].tcp.destinationPort', 'required field is missing; expected a mapping'),
  },
  // ── core kinds ──
  {
    name: 'container port out of range',
    yaml: ['apiVersion: v1', 'kind: Pod', 'metadata: {name: p}', 'spec:', '  containers:', '  - name: c', '    ports:', '    - containerPort: 70000'].join('\n'),
    want: at(8, 'Pod default/p', 'spec.containers[0].ports[0].containerPort', 'expected a port number 1-65535, got 70000'),
  },
  {
    name: 'pod IP that is not an address',
    yaml: ['apiVersion: v1', 'kind: Pod', 'metadata: {name: p, namespace: x}', 'status:', '  podIP: 10.0.0.300'].join('\n'),
    want: at(5, 'Pod x/p', 'status.podIP', 'expected an IP address, got "10.0.0.300"'),
  },
  {
    name: 'namespace name with a dot',
    yaml: ['apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: a.b'].join('\n'),
    want: at(4, 'Namespace a.b', 'metadata.name', "expected a DNS-1123 label (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit), got \"a.b\""),
  },
  // ── document level ──
  {
    name: 'unknown kind',
    yaml: ['apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: d}'].join('\n'),
    want: at(2, undefined, 'kind', 'unsupported kind "Deployment" (apiVersion "apps/v1"); expected one of: Namespace, Pod, ServiceAccount, Node (v1); NetworkPolicy (networking.k8s.io/v1); NetworkPolicy, GlobalNetworkPolicy, StagedNetworkPolicy, StagedGlobalNetworkPolicy, StagedKubernetesNetworkPolicy, Tier, NetworkSet, GlobalNetworkSet, HostEndpoint, Profile, IPPool (projectcalico.org/v3); AdminNetworkPolicy, BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1); ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2); Alert (alerts.margay.io/v1)'),
  },
  {
    name: 'known kind under another apiVersion',
    yaml: ['apiVersion: networking.k8s.io/v1beta1', 'kind: NetworkPolicy', 'metadata: {name: d}'].join('\n'),
    want: at(1, undefined, 'apiVersion', 'expected apiVersion "networking.k8s.io/v1" or "projectcalico.org/v3" for kind NetworkPolicy, got "networking.k8s.io/v1beta1"'),
  },
  { name: 'duplicate key', yaml: ['apiVersion: v1', 'kind: Namespace', 'kind: Pod'].join('\n'), want: at(3, undefined, undefined, 'invalid YAML: Map keys must be unique') },
  { name: 'a scalar document', yaml: 'just text', want: at(1, undefined, undefined, 'expected a Kubernetes object (a mapping with apiVersion and kind), got "just text"') },
  {
    name: 'missing name',
    yaml: ['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  namespace: x'].join('\n'),
    want: at(3, undefined, 'metadata.name', "required field is missing; expected a DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit)"),
  },
  {
    name: 'unknown metadata field on a policy',
    yaml: ['apiVersion: projectcalico.org/v3', 'kind: GlobalNetworkPolicy', 'metadata:', '  name: g', '  label: {a: b}'].join('\n'),
    want: at(5, GNP, 'metadata.label', 'unknown field; did you mean "labels"?'),
  },
  {
    name: 'List items that are not a list',
    yaml: ['apiVersion: v1', 'kind: List', 'items: {a: b}'].join('\n'),
    want: at(3, undefined, 'items', 'expected a list of objects, got a mapping'),
  },
  {
    name: 'bad item inside a List',
    yaml: ['apiVersion: v1', 'kind: List', 'items:', '- apiVersion: v1', '  kind: Namespace', '  metadata: {name: ok}', '- apiVersion: v1', '  kind: Namespace', '  metadata: {name: NotOk}'].join('\n'),
    want: at(9, 'Namespace NotOk', 'items[1].metadata.name', "expected a DNS-1123 label (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit), got \"NotOk\""),
  },
];

test(`${cases.length} malformed manifests each give exactly the expected problem`, async (t) => {
  assert.ok(cases.length >= 40);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  for (const c of cases) {
    await t.test(c.name, () => {
      let thrown: unknown;
      try {
        decodeManifests(c.yaml, F);
      } catch (err) {
        thrown = err;
      }
      assert.ok(isUserError(thrown), `expected a UserError, got ${String(thrown)}`);
      assert.deepEqual(thrown.problems.map(formatProblem), [c.want]);
    });
  }
});
