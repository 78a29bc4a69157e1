// Good manifests of every kind decode to the expected typed objects, with upstream defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../errors/index.js';
import { BUILTIN_TIERS, decodeManifests, decodeObject, resourceLabel, type Resource } from './index.js';

function one(yaml: string): Resource {
  const out = decodeManifests(yaml, 'good.yaml');
  assert.equal(out.length, 1);
  return out[0]!.resource;
}

test('Calico NetworkPolicy: rules kept as written, ports normalised, tier and types defaulted', () => {
  const r = one(`
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: prod
  labels: {team: web}
spec:
  selector: app == 'web'
  order: 100
  ingress:
  - action: Allow
    protocol: TCP
    source:
      selector: role == 'frontend'
      namespaceSelector: global()
      nets: [10.0.0.0/8, 192.168.1.1]
      serviceAccounts: {names: [api], selector: tier == 'x'}
    destination:
      ports: [80, "8080:8090", "443", http, "9000:9000"]
      notPorts: [22]
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 0}
    ipVersion: 4
  - action: Deny
    protocol: "17"
    notProtocol: UDPLite
    http:
  - action: Allow
    protocol: TCP
    http: {methods: [GET, PUT], paths: [{exact: /healthz}, {prefix: /api/}]}
    metadata: {annotations: {owner: web-team}}
  egress:
  - action: Allow
    destination:
      services: {name: kube-dns, namespace: kube-system}
  - action: Pass
    notICMP: {type: 3}
`);
  assert.deepEqual(r, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-web', namespace: 'prod', labels: { team: 'web' } },
    spec: {
      tier: 'default',
      order: 100,
      selector: "app == 'web'",
      types: ['Ingress', 'Egress'],
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          source: {
            selector: "role == 'frontend'",
            namespaceSelector: 'global()',
            nets: ['10.0.0.0/8', '192.168.1.1'],
            serviceAccounts: { names: ['api'], selector: "tier == 'x'" },
          },
          destination: { ports: [80, '8080:8090', 443, 'http', 9000], notPorts: [22] },
        },
        { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 }, ipVersion: 4 },
        { action: 'Deny', protocol: 17, notProtocol: 'UDPLite' },
        {
          action: 'Allow',
          protocol: 'TCP',
          http: { methods: ['GET', 'PUT'], paths: [{ exact: '/healthz' }, { prefix: '/api/' }] },
          metadata: { annotations: { owner: 'web-team' } },
        },
      ],
      egress: [
        { action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } },
        { action: 'Pass', notICMP: { type: 3 } },
      ],
    },
  });
});

test('Calico types default from the rules present, as clientv3 does', () => {
  const types = (spec: string): unknown => {
    const r = one(`{apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: p}, spec: ${spec}}`);
    return r.kind === 'GlobalNetworkPolicy' ? r.spec.types : undefined;
  };
  assert.deepEqual(types('{}'), ['Ingress']);
  assert.deepEqual(types('{ingress: [{action: Allow}]}'), ['Ingress']);
  assert.deepEqual(types('{egress: [{action: Allow}]}'), ['Egress']);
  assert.deepEqual(types('{ingress: [{action: Allow}], egress: [{action: Allow}]}'), ['Ingress', 'Egress']);
  assert.deepEqual(types('{types: [], egress: [{action: Allow}]}'), ['Egress']);
  assert.deepEqual(types('{types: [Egress], ingress: [{action: Allow}]}'), ['Egress']);
});

test('GlobalNetworkPolicy with a tier, pre-DNAT and a dotted name', () => {
  const r = one(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.deny-all, namespace: ignored}
spec:
  tier: security
  order: 1
  selector: all()
  namespaceSelector: has(projectcalico.org/name)
  serviceAccountSelector: role == 'x'
  preDNAT: true
  applyOnForward: true
  performanceHints: [AssumeNeededOnEveryNode]
  ingress: [{action: Deny, source: {notNets: ["fd00::/8"]}, ipVersion: 6}]
`);
  assert.deepEqual(r, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'security.deny-all', labels: {} },
    spec: {
      tier: 'security',
      order: 1,
      selector: 'all()',
      namespaceSelector: 'has(projectcalico.org/name)',
      serviceAccountSelector: "role == 'x'",
      preDNAT: true,
      applyOnForward: true,
      performanceHints: ['AssumeNeededOnEveryNode'],
      types: ['Ingress'],
      ingress: [{ action: 'Deny', ipVersion: 6, source: { notNets: ['fd00::/8'] } }],
    },
  });
});

test('staged Calico kinds default stagedAction to Set; a Delete carries only the tier', () => {
  const docs = decodeManifests(
    `
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: try-it, namespace: dev}
spec: {selector: "app == 'a'", egress: [{action: Deny}]}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: gone}
spec: {stagedAction: Delete, tier: platform}
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: k, namespace: dev}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {}}], ports: [{port: 5432}]}]
`,
    'staged.yaml',
  ).map((d) => d.resource);
  assert.deepEqual(docs, [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'StagedNetworkPolicy',
      metadata: { name: 'try-it', namespace: 'dev', labels: {} },
      spec: { selector: "app == 'a'", egress: [{ action: 'Deny' }], tier: 'default', types: ['Egress'], stagedAction: 'Set' },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'StagedGlobalNetworkPolicy',
      metadata: { name: 'gone', labels: {} },
      spec: { tier: 'platform', types: ['Ingress'], stagedAction: 'Delete' },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'StagedKubernetesNetworkPolicy',
      metadata: { name: 'k', namespace: 'dev', labels: {} },
      spec: {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 5432, protocol: 'TCP' }] }],
        policyTypes: ['Ingress'],
        stagedAction: 'Set',
      },
    },
  ]);
});

test('Tier, NetworkSet, GlobalNetworkSet, HostEndpoint, Profile', () => {
  const docs = decodeManifests(
    `
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
kind: NetworkSet
metadata: {name: partners, labels: {role: partner}}
spec: {nets: [198.51.100.0/24, 203.0.113.7], allowedEgressDomains: [example.com, "*.example.org"]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocked}
spec: {nets: ["2001:db8::/32"]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {env: prod}}
spec:
  node: node1
  interfaceName: eth0
  expectedIPs: [192.168.0.10, "fd00::10"]
  profiles: [kns.default]
  ports: [{name: ssh, protocol: TCP, port: 22}, {name: dns, protocol: UDP, port: 53}]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.default}
spec:
  ingress: [{action: Allow}]
  egress: [{action: Allow}]
  labelsToApply: {pcns.projectcalico.org/name: default}
`,
    'calico.yaml',
  ).map((d) => d.resource);
  assert.deepEqual(docs, [
    { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'security', labels: {} }, spec: { order: 100, defaultAction: 'Deny' } },
    { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'platform', labels: {} }, spec: { order: 200, defaultAction: 'Pass' } },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkSet',
      metadata: { name: 'partners', namespace: 'default', labels: { role: 'partner' } },
      spec: { nets: ['198.51.100.0/24', '203.0.113.7'], allowedEgressDomains: ['example.com', '*.example.org'] },
    },
    { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 'blocked', labels: {} }, spec: { nets: ['2001:db8::/32'] } },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'HostEndpoint',
      metadata: { name: 'node1-eth0', labels: { env: 'prod' } },
      spec: {
        node: 'node1',
        interfaceName: 'eth0',
        expectedIPs: ['192.168.0.10', 'fd00::10'],
        profiles: ['kns.default'],
        ports: [
          { name: 'ssh', protocol: 'TCP', port: 22 },
          { name: 'dns', protocol: 'UDP', port: 53 },
        ],
      },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'kns.default', labels: {} },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'default' } },
    },
  ]);
});

test('IPPool defaults as clientv3 does, per IP family', () => {
  const docs = decodeManifests(
    `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.244.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:10:244::/64", vxlanMode: CrossSubnet, natOutgoing: true, nodeSelector: "zone == 'a'"}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: lb}
spec: {cidr: 203.0.113.0/24, blockSize: 31, allowedUses: [LoadBalancer], assignmentMode: Manual, disabled: true}
`,
    'pools.yaml',
  ).map((d) => (d.resource.kind === 'IPPool' ? d.resource.spec : undefined));
  const base = { ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic' };
  assert.deepEqual(docs, [
    { ...base, cidr: '10.244.0.0/16', blockSize: 26 },
    { ...base, cidr: 'fd00:10:244::/64', blockSize: 122, vxlanMode: 'CrossSubnet', natOutgoing: true, nodeSelector: "zone == 'a'" },
    { ...base, cidr: '203.0.113.0/24', blockSize: 31, allowedUses: ['LoadBalancer'], assignmentMode: 'Manual', disabled: true },
  ]);
});

test('Kubernetes NetworkPolicy: policyTypes and port protocol defaulted as upstream', () => {
  const r = one(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector:
    matchLabels: {app: db}
    matchExpressions: [{key: tier, operator: In, values: [a, b]}, {key: legacy, operator: DoesNotExist}]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: prod}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}
    ports:
    - port: 5432
    - {port: metrics, protocol: TCP}
    - {port: 30000, endPort: 32767, protocol: UDP}
    - protocol: SCTP
  egress:
  - {}
`);
  assert.deepEqual(r, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'db', namespace: 'prod', labels: {} },
    spec: {
      podSelector: {
        matchLabels: { app: 'db' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: 'api' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'prod' } } },
            { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.3.4/32'] } },
          ],
          ports: [
            { port: 5432, protocol: 'TCP' },
            { port: 'metrics', protocol: 'TCP' },
            { port: 30000, endPort: 32767, protocol: 'UDP' },
            { protocol: 'SCTP' },
          ],
        },
      ],
      egress: [{}],
    },
  });
});

test('Kubernetes policyTypes: Ingress always, Egress only with egress rules, explicit kept', () => {
  const types = (spec: string): unknown => {
    const r = one(`{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: p}, spec: ${spec}}`);
    return r.kind === 'NetworkPolicy' && r.apiVersion === 'networking.k8s.io/v1' ? r.spec.policyTypes : undefined;
  };
  assert.deepEqual(types('{podSelector: {}}'), ['Ingress']);
  assert.deepEqual(types('{podSelector: {}, egress: []}'), ['Ingress']);
  assert.deepEqual(types('{podSelector: {}, egress: [{}]}'), ['Ingress', 'Egress']);
  assert.deepEqual(types('{podSelector: {}, policyTypes: [Egress]}'), ['Egress']);
});

test('AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1)', () => {
  const docs = decodeManifests(
    `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: cluster-control}
spec:
  priority: 10
  subject:
    pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}
  ingress:
  - name: allow-monitoring
    action: Allow
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
    ports: [{portNumber: {port: 9090}}, {namedPort: metrics}]
  egress:
  - action: Deny
    to: [{networks: [0.0.0.0/0]}, {nodes: {matchExpressions: [{key: node-role.kubernetes.io/control-plane, operator: Exists}]}}]
    ports: [{portRange: {protocol: UDP, start: 1000, end: 2000}}]
  - action: Allow
    to: [{domainNames: ["*.example.com"]}]
  - action: Pass
    to: [{pods: {namespaceSelector: {matchLabels: {a: b}}, podSelector: {}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`,
    'anp.yaml',
  ).map((d) => d.resource);
  assert.deepEqual(docs, [
    {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'cluster-control', labels: {} },
      spec: {
        priority: 10,
        subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } } },
        ingress: [
          {
            name: 'allow-monitoring',
            action: 'Allow',
            from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
            ports: [{ portNumber: { protocol: 'TCP', port: 9090 } }, { namedPort: 'metrics' }],
          },
        ],
        egress: [
          {
            action: 'Deny',
            to: [{ networks: ['0.0.0.0/0'] }, { nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }],
            ports: [{ portRange: { protocol: 'UDP', start: 1000, end: 2000 } }],
          },
          { action: 'Allow', to: [{ domainNames: ['*.example.com'] }] },
          { action: 'Pass', to: [{ pods: { namespaceSelector: { matchLabels: { a: 'b' } }, podSelector: {} } }] },
        ],
      },
    },
    {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'BaselineAdminNetworkPolicy',
      metadata: { name: 'default', labels: {} },
      spec: { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] },
    },
  ]);
});

test('ClusterNetworkPolicy (v1alpha2) with protocols and an optional pod namespaceSelector', () => {
  const r = one(`
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: prod-guard}
spec:
  tier: Admin
  priority: 5
  subject: {pods: {podSelector: {matchLabels: {app: web}}}}
  ingress:
  - name: from-prod
    action: Accept
    from: [{namespaces: {matchLabels: {env: prod}}}]
    protocols: [{tcp: {destinationPort: {number: 443}}}, {udp: {destinationPort: {range: {start: 5000, end: 5100}}}}, {destinationNamedPort: http}]
  egress:
  - action: Deny
    to: [{networks: ["10.0.0.0/8"]}]
`);
  assert.deepEqual(r, {
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'prod-guard', labels: {} },
    spec: {
      tier: 'Admin',
      priority: 5,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } } },
      ingress: [
        {
          name: 'from-prod',
          action: 'Accept',
          from: [{ namespaces: { matchLabels: { env: 'prod' } } }],
          protocols: [
            { tcp: { destinationPort: { number: 443 } } },
            { udp: { destinationPort: { range: { start: 5000, end: 5100 } } } },
            { destinationNamedPort: 'http' },
          ],
        },
      ],
      egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }] }],
    },
  });
});

test('core kinds: Namespace, ServiceAccount, Node and a minimal Pod with defaults', () => {
  const docs = decodeManifests(
    `
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: prod, labels: {team: a}}
---
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {zone: a}}
spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:1::/64"]}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}, {type: Hostname, address: node-1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
status: {podIP: 10.244.1.5}
`,
    'core.yaml',
  ).map((d) => d.resource);
  assert.deepEqual(docs, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', labels: { env: 'prod' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api', namespace: 'prod', labels: { team: 'a' } } },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { zone: 'a' } },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.0.11' }, { type: 'Hostname', address: 'node-1' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
      spec: { hostNetwork: false, serviceAccountName: 'default', containers: [] },
      status: { podIP: '10.244.1.5' },
    },
  ]);
});

test('a real `kubectl get pod -o yaml` Pod with many unmodelled fields loads', () => {
  const r = one(`
apiVersion: v1
kind: Pod
metadata:
  annotations:
    cni.projectcalico.org/containerID: 4f0c2c1d
    cni.projectcalico.org/podIP: 10.244.1.7/32
    kubectl.kubernetes.io/restartedAt: "2024-05-01T10:00:00Z"
  creationTimestamp: "2024-05-01T10:00:05Z"
  generateName: web-7d9c8b6f5-
  labels:
    app: web
    pod-template-hash: 7d9c8b6f5
  name: web-7d9c8b6f5-x2x8k
  namespace: shop
  ownerReferences:
  - apiVersion: apps/v1
    blockOwnerDeletion: true
    controller: true
    kind: ReplicaSet
    name: web-7d9c8b6f5
    uid: 8c1f9a0e-1111-2222-3333-444455556666
  resourceVersion: "123456"
  uid: 1a2b3c4d-aaaa-bbbb-cccc-ddddeeeeffff
spec:
  containers:
  - image: nginx:1.27
    imagePullPolicy: IfNotPresent
    name: nginx
    ports:
    - containerPort: 8080
      name: http
      protocol: TCP
    - containerPort: 9090
      name: metrics
    readinessProbe:
      httpGet: {path: /healthz, port: http, scheme: HTTP}
      periodSeconds: 10
    resources:
      limits: {cpu: 500m, memory: 128Mi}
    volumeMounts:
    - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      name: kube-api-access-abcde
      readOnly: true
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  initContainers:
  - name: init
    image: busybox
    ports: [{containerPort: 5353, protocol: UDP, name: dns}]
  nodeName: node-1
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  serviceAccount: web
  serviceAccountName: web
  terminationGracePeriodSeconds: 30
  tolerations:
  - effect: NoExecute
    key: node.kubernetes.io/not-ready
    operator: Exists
    tolerationSeconds: 300
  volumes:
  - name: kube-api-access-abcde
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
status:
  conditions:
  - lastProbeTime: null
    lastTransitionTime: "2024-05-01T10:00:05Z"
    status: "True"
    type: Ready
  containerStatuses:
  - containerID: containerd://abc
    image: docker.io/library/nginx:1.27
    name: nginx
    ready: true
    restartCount: 0
    started: true
    state:
      running: {startedAt: "2024-05-01T10:00:07Z"}
  hostIP: 192.168.0.11
  hostIPs: [{ip: 192.168.0.11}]
  phase: Running
  podIP: 10.244.1.7
  podIPs:
  - ip: 10.244.1.7
  - ip: fd00:244::7
  qosClass: Burstable
  startTime: "2024-05-01T10:00:05Z"
`);
  assert.deepEqual(r, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7d9c8b6f5-x2x8k', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7d9c8b6f5' } },
    spec: {
      nodeName: 'node-1',
      hostNetwork: false,
      serviceAccountName: 'web',
      containers: [
        {
          name: 'nginx',
          ports: [
            { containerPort: 8080, name: 'http', protocol: 'TCP' },
            { containerPort: 9090, name: 'metrics', protocol: 'TCP' },
          ],
        },
      ],
      initContainers: [{ name: 'init', ports: [{ containerPort: 5353, protocol: 'UDP', name: 'dns' }] }],
    },
    status: { podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }, { ip: 'fd00:244::7' }] },
  });
});

test('multi-document files: numbering, empty documents skipped, lines of each object', () => {
  const out = decodeManifests(
    `# leading comment
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
---
# only a comment
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
`,
    'multi.yaml',
  );
  assert.deepEqual(
    out.map((d) => d.source),
    [
      // A comment before the first "---" belongs to document 1; "---" then "---" makes an empty 2.
      { file: 'multi.yaml', document: 1, line: 3 },
      { file: 'multi.yaml', document: 4, line: 10 },
    ],
  );
  assert.deepEqual(decodeManifests('', 'empty.yaml'), []);
  assert.deepEqual(decodeManifests('---\n---\n', 'empty.yaml'), []);
});

test('kind: List and typed XxxList are expanded; typed items inherit apiVersion and kind', () => {
  const out = decodeManifests(
    `
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkSet
  metadata: {name: s}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
metadata: {resourceVersion: "1"}
items:
- metadata: {name: deny, namespace: x}
  spec: {podSelector: {}}
---
apiVersion: v1
kind: List
items: []
`,
    'list.yaml',
  );
  assert.deepEqual(
    out.map((d) => [d.source.document, d.source.line, resourceLabel(d.resource)]),
    [
      [1, 5, 'Namespace a'],
      [1, 8, 'GlobalNetworkSet s'],
      [2, 16, 'NetworkPolicy x/deny'],
    ],
  );
  assert.equal(out[2]!.resource.apiVersion, 'networking.k8s.io/v1');
});

test('JSON input, including tab-indented JSON that YAML would refuse', () => {
  const obj = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'j' } }] };
  for (const text of [JSON.stringify(obj), JSON.stringify(obj, null, '\t')]) {
    const out = decodeManifests(text, 'list.json');
    assert.deepEqual(
      out.map((d) => d.resource),
      [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'j', labels: {} } }],
    );
  }
});

test('every problem of a file is reported at once', () => {
  try {
    decodeManifests(
      `
apiVersion: v1
kind: Namespace
metadata: {name: Bad_Name}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p}
spec:
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [0]}
  - action: Maybe
`,
      'many.yaml',
    );
    assert.fail('expected a UserError');
  } catch (err) {
    assert.ok(isUserError(err));
    assert.deepEqual(
      err.problems.map((p) => [p.document, p.line, p.path]),
      [
        [1, 4, 'metadata.name'],
        [2, 13, 'spec.ingress[0].destination.ports[0]'],
        [2, 14, 'spec.ingress[1].action'],
      ],
    );
  }
});

test('decodeObject validates an already-parsed object with the same rules', () => {
  const src = { file: 'api', document: 1 };
  assert.deepEqual(decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, src), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'x', labels: {} },
  });
  assert.throws(
    () => decodeObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n', namespace: 's' }, spec: {} }, src),
    (err: unknown) =>
      isUserError(err) &&
      err.message === 'api (document 1): NetworkPolicy s/n: spec.podSelector: required field is missing; expected a mapping',
  );
});

test('BUILTIN_TIERS are the tiers Calico creates, in evaluation order', () => {
  assert.deepEqual(
    BUILTIN_TIERS.map((t) => [t.metadata.name, t.spec.order, t.spec.defaultAction]),
    [
      ['adminnetworkpolicy', 1000, 'Pass'],
      ['kube-admin', 1000, 'Pass'],
      ['default', 1_000_000, 'Deny'],
      ['baselineadminnetworkpolicy', 10_000_000, 'Pass'],
      ['kube-baseline', 10_000_000, 'Pass'],
    ],
  );
  assert.ok(Object.isFrozen(BUILTIN_TIERS) && Object.isFrozen(BUILTIN_TIERS[0]!.spec));
  // A manifest may restate a built-in tier as Calico defines it.
  const t = one('{apiVersion: projectcalico.org/v3, kind: Tier, metadata: {name: adminnetworkpolicy}, spec: {order: 1000}}');
  assert.deepEqual(t.kind === 'Tier' ? t.spec : undefined, { order: 1000, defaultAction: 'Pass' });
});

test('resourceLabel names namespaced and cluster-scoped objects', () => {
  const [np, gnp] = decodeManifests(
    `{apiVersion: projectcalico.org/v3, kind: NetworkPolicy, metadata: {name: a, namespace: n}}
---
{apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: g}}`,
    'l.yaml',
  ).map((d) => resourceLabel(d.resource));
  assert.equal(np, 'NetworkPolicy n/a');
  assert.equal(gnp, 'GlobalNetworkPolicy g');
});
