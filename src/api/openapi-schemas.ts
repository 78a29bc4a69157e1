// OpenAPI v3 schemas of every served kind, written from the typed model in the resources module
// (resources/types.ts) with upstream's field descriptions in short, so `kubectl explain` has
// something to say and clients can validate. Core kinds describe the fields Margay uses and
// preserve the rest.
type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
const num = (description: string): Schema => ({ type: 'number', description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const enumOf = (values: string[], description: string): Schema => ({ type: 'string', enum: values, description });
const arr = (items: Schema, description: string, extra: Schema = {}): Schema => ({ type: 'array', items, description, ...extra });
const strings = (description: string): Schema => arr({ type: 'string' }, description);
const obj = (properties: Record<string, Schema>, description: string, required?: string[]): Schema => ({
  type: 'object',
  description,
  properties,
  ...(required !== undefined ? { required } : {}),
});
const stringMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string' }, description });
const intOrString = (description: string): Schema => ({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], description });
const preserve = (s: Schema): Schema => ({ ...s, 'x-kubernetes-preserve-unknown-fields': true });

const objectMeta = obj(
  {
    name: str('Name must be unique within a namespace (or the cluster, for cluster-scoped kinds).'),
    generateName: str('Prefix the server uses to generate a unique name when name is not given.'),
    namespace: str('Namespace of a namespaced object. Defaults to "default".'),
    uid: str('Unique identifier the server assigns on create. Read-only.'),
    resourceVersion: str('Opaque version of the object, for optimistic concurrency and watch. Read-only.'),
    generation: { type: 'integer', format: 'int64', description: 'Sequence number of changes to the desired state. Read-only.' },
    creationTimestamp: str('When the object was created (RFC 3339). Read-only.', { format: 'date-time' }),
    deletionTimestamp: str('When the object will be deleted. Read-only.', { format: 'date-time' }),
    labels: stringMap('Key/value pairs that selectors match.'),
    annotations: stringMap('Key/value pairs for tools; not used for selection.'),
    finalizers: strings('Must be empty before the object is deleted.'),
    ownerReferences: arr(preserve({ type: 'object' }), 'Objects this one depends on.'),
    managedFields: arr(preserve({ type: 'object' }), 'Which manager owns which fields (server-side apply).'),
  },
  "Standard object's metadata.",
);

function kindSchema(apiVersion: string, kind: string, description: string, props: Record<string, Schema>, gvk: { group: string; version: string; kind: string }, required?: string[]): Schema {
  return {
    ...obj(
      {
        apiVersion: str(`APIVersion defines the versioned schema of this representation of an object: ${apiVersion}.`),
        kind: str(`Kind is a string value representing the REST resource this object represents: ${kind}.`),
        metadata: objectMeta,
        ...props,
      },
      description,
      required,
    ),
    'x-kubernetes-group-version-kind': [gvk],
  };
}

// ───────────────────────────── Kubernetes label selectors ─────────────────────────────

const labelSelector = (description: string): Schema =>
  ({
    ...obj(
      {
        matchLabels: stringMap('Each {key,value} pair is an "In" requirement with a single value.'),
        matchExpressions: arr(
          obj(
            {
              key: str('The label key the requirement applies to.'),
              operator: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], "The key's relationship to the values."),
              values: strings('Values for In and NotIn; empty for Exists and DoesNotExist.'),
            },
            'A label selector requirement.',
            ['key', 'operator'],
          ),
          'Requirements, ANDed.',
        ),
      },
      description,
    ),
    'x-kubernetes-map-type': 'atomic',
  });

// ───────────────────────────── networking.k8s.io/v1 ─────────────────────────────

const k8sPort = obj(
  {
    protocol: enumOf(['TCP', 'UDP', 'SCTP'], 'Protocol the traffic must match. Defaults to TCP.'),
    port: intOrString('Port number or named port on the pod. Absent: all ports.'),
    endPort: int('With a numeric port, the end of a port range.'),
  },
  'A port to allow traffic on.',
);
const k8sPeer = obj(
  {
    podSelector: labelSelector('Pods (in the policy namespace, or in namespaces selected by namespaceSelector).'),
    namespaceSelector: labelSelector('Namespaces whose pods are selected. {} selects all namespaces.'),
    ipBlock: obj({ cidr: str('A CIDR such as 10.0.0.0/8.'), except: strings('CIDRs inside cidr to exclude.') }, 'A range of IP addresses.', ['cidr']),
  },
  'A peer of a rule: pods, namespaces or an IP block.',
);
const k8sPolicySpec = obj(
  {
    podSelector: labelSelector('Pods in the namespace the policy applies to; {} selects all.'),
    policyTypes: arr(enumOf(['Ingress', 'Egress'], 'A direction.'), 'Directions the policy isolates. Defaults to Ingress, plus Egress when egress rules exist.'),
    ingress: arr(obj({ ports: arr(k8sPort, 'Ports; empty matches all.'), from: arr(k8sPeer, 'Sources; empty matches all.') }, 'An ingress rule.'), 'Allowed incoming traffic.'),
    egress: arr(obj({ ports: arr(k8sPort, 'Ports; empty matches all.'), to: arr(k8sPeer, 'Destinations; empty matches all.') }, 'An egress rule.'), 'Allowed outgoing traffic.'),
  },
  'The desired behaviour of the NetworkPolicy.',
  ['podSelector'],
);

// ───────────────────────────── projectcalico.org/v3 ─────────────────────────────

const calicoPort = intOrString('A port number, a range "min:max", or a named port.');
const entityRule = obj(
  {
    nets: strings('CIDRs the peer address must be in.'),
    notNets: strings('CIDRs the peer address must not be in.'),
    selector: str('Calico selector expression over endpoint labels, e.g. app == "web".'),
    notSelector: str('Negated selector.'),
    namespaceSelector: str('Selector over namespace labels; global() selects non-namespaced endpoints.'),
    ports: arr(calicoPort, 'Ports; needs protocol TCP, UDP or SCTP.'),
    notPorts: arr(calicoPort, 'Ports that must not match.'),
    serviceAccounts: obj({ names: strings('Service account names.'), selector: str('Selector over service account labels.') }, 'Service accounts of the peer.'),
    services: obj({ name: str('Service name.'), namespace: str('Service namespace.') }, 'A Kubernetes service the peer belongs to.'),
    domains: strings('Egress destination domain names.'),
  },
  'Source or destination of a rule; all fields are ANDed.',
);
const icmp = obj({ type: int('ICMP type.'), code: int('ICMP code (requires type).') }, 'ICMP type and code.');
const calicoRule = obj(
  {
    action: enumOf(['Allow', 'Deny', 'Log', 'Pass'], 'What to do with matching traffic.'),
    ipVersion: int('4 or 6.'),
    protocol: intOrString('TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255.'),
    notProtocol: intOrString('Protocol that must not match.'),
    icmp,
    notICMP: icmp,
    source: entityRule,
    destination: entityRule,
    http: obj({ methods: strings('HTTP methods.'), paths: arr(obj({ exact: str('Exact path.'), prefix: str('Path prefix.') }, 'A path match.'), 'Paths.') }, 'HTTP match (application layer).'),
    metadata: obj({ annotations: stringMap('Rule annotations.') }, 'Rule metadata.'),
  },
  'A Calico policy rule.',
  ['action'],
);
const policyTypes = arr(enumOf(['Ingress', 'Egress'], 'A direction.'), 'Directions the policy applies to; defaulted from the rules present.');
const calicoPolicyProps = {
  tier: str('The tier the policy belongs to. Defaults to "default".'),
  order: num('Order within the tier; lower orders apply first.'),
  selector: str('Endpoints the policy applies to (Calico selector). Defaults to all().'),
  serviceAccountSelector: str('Service accounts the policy applies to.'),
  types: policyTypes,
  ingress: arr(calicoRule, 'Ingress rules, in order.'),
  egress: arr(calicoRule, 'Egress rules, in order.'),
  performanceHints: strings('Hints such as AssumeNeededOnEveryNode.'),
};
const globalPolicyProps = {
  ...calicoPolicyProps,
  namespaceSelector: str('Namespaces whose endpoints the policy applies to.'),
  doNotTrack: bool('Apply before connection tracking (host endpoints).'),
  preDNAT: bool('Apply before DNAT (host endpoints, ingress only).'),
  applyOnForward: bool('Also apply to forwarded traffic (host endpoints).'),
};
const stagedAction = enumOf(['Set', 'Delete', 'Learn', 'Ignore'], 'What enforcing the staged policy would do. Defaults to Set.');

const calicoSpecs: Record<string, [string, Schema]> = {
  NetworkPolicy: ['Namespaced Calico policy: ordered rules within a tier.', obj(calicoPolicyProps, 'NetworkPolicySpec.')],
  GlobalNetworkPolicy: ['Cluster-wide Calico policy: ordered rules within a tier.', obj(globalPolicyProps, 'GlobalNetworkPolicySpec.')],
  StagedNetworkPolicy: ['A NetworkPolicy evaluated and reported but not enforced.', obj({ ...calicoPolicyProps, stagedAction }, 'StagedNetworkPolicySpec.')],
  StagedGlobalNetworkPolicy: ['A GlobalNetworkPolicy evaluated and reported but not enforced.', obj({ ...globalPolicyProps, stagedAction }, 'StagedGlobalNetworkPolicySpec.')],
  StagedKubernetesNetworkPolicy: ['A Kubernetes NetworkPolicy evaluated and reported but not enforced.', obj({ ...(k8sPolicySpec.properties as Record<string, Schema>), stagedAction }, 'StagedKubernetesNetworkPolicySpec.')],
  Tier: ['An ordered group of policies.', obj({ order: num('Order of the tier; lower applies first.'), defaultAction: enumOf(['Deny', 'Pass'], 'What happens to traffic the tier selects but no policy decides. Defaults to Deny.') }, 'TierSpec.')],
  NetworkSet: ['Namespaced set of networks that selectors can match by label.', obj({ nets: strings('Member CIDRs.'), allowedEgressDomains: strings('Member domains.') }, 'NetworkSetSpec.')],
  GlobalNetworkSet: ['Cluster-wide set of networks that selectors can match by label.', obj({ nets: strings('Member CIDRs.'), allowedEgressDomains: strings('Member domains.') }, 'GlobalNetworkSetSpec.')],
  HostEndpoint: [
    "A host's interface that policy applies to.",
    obj(
      {
        node: str('The node the interface is on.'),
        interfaceName: str('The interface; "*" for all of the host.'),
        expectedIPs: strings('Addresses of the interface.'),
        profiles: strings('Profiles to apply.'),
        ports: arr(obj({ name: str('Port name.'), protocol: intOrString('Protocol.'), port: int('Port number.') }, 'A named port.', ['name', 'protocol', 'port']), 'Named ports.'),
      },
      'HostEndpointSpec.',
      ['node'],
    ),
  ],
  Profile: ['Rules and labels applied to endpoints that reference the profile.', obj({ ingress: arr(calicoRule, 'Ingress rules.'), egress: arr(calicoRule, 'Egress rules.'), labelsToApply: stringMap('Labels added to member endpoints.') }, 'ProfileSpec.')],
  IPPool: [
    'A range of addresses for workloads.',
    obj(
      {
        cidr: str('The pool.'),
        blockSize: int('Allocation block size. Defaults to 26 (IPv4) or 122 (IPv6).'),
        ipipMode: enumOf(['Never', 'Always', 'CrossSubnet'], 'IP-in-IP encapsulation. Defaults to Never.'),
        vxlanMode: enumOf(['Never', 'Always', 'CrossSubnet'], 'VXLAN encapsulation. Defaults to Never.'),
        natOutgoing: bool('Masquerade traffic leaving the pool.'),
        disabled: bool('Do not allocate from this pool.'),
        disableBGPExport: bool('Do not export the pool over BGP.'),
        nodeSelector: str('Nodes that allocate from the pool. Defaults to all().'),
        namespaceSelector: str('Namespaces that allocate from the pool.'),
        allowedUses: strings('Workload, Tunnel, LoadBalancer.'),
        assignmentMode: enumOf(['Automatic', 'Manual'], 'Defaults to Automatic.'),
      },
      'IPPoolSpec.',
      ['cidr'],
    ),
  ],
};

// ───────────────────────────── policy.networking.k8s.io ─────────────────────────────

const namespacedPod = obj({ namespaceSelector: labelSelector('Namespaces.'), podSelector: labelSelector('Pods in those namespaces.') }, 'Pods in selected namespaces.');
const anpSubject = obj({ namespaces: labelSelector('All pods in the selected namespaces.'), pods: namespacedPod }, 'Pods the policy applies to; exactly one field.');
const anpPeerIn = obj({ namespaces: labelSelector('Pods in these namespaces.'), pods: namespacedPod }, 'A source; exactly one field.');
const anpPeerOut = obj(
  { namespaces: labelSelector('Pods in these namespaces.'), pods: namespacedPod, nodes: labelSelector('Nodes.'), networks: strings('CIDRs.'), domainNames: strings('Domain names (ANP only).') },
  'A destination; exactly one field.',
);
const anpPort = obj(
  {
    portNumber: obj({ protocol: enumOf(['TCP', 'UDP', 'SCTP'], 'Protocol.'), port: int('Port.') }, 'A single port.'),
    namedPort: str('A named container port.'),
    portRange: obj({ protocol: enumOf(['TCP', 'UDP', 'SCTP'], 'Protocol.'), start: int('First port.'), end: int('Last port.') }, 'A port range.'),
  },
  'A port; exactly one field.',
);
const anpRules = (actions: string[]): Record<string, Schema> => ({
  ingress: arr(obj({ name: str('Rule name.'), action: enumOf(actions, 'Action.'), from: arr(anpPeerIn, 'Sources.'), ports: arr(anpPort, 'Ports.') }, 'An ingress rule.', ['action', 'from']), 'Ingress rules, in priority order.'),
  egress: arr(obj({ name: str('Rule name.'), action: enumOf(actions, 'Action.'), to: arr(anpPeerOut, 'Destinations.'), ports: arr(anpPort, 'Ports.') }, 'An egress rule.', ['action', 'to']), 'Egress rules, in priority order.'),
});
const cnpProtocols = arr(
  obj(
    {
      tcp: obj({ destinationPort: obj({ number: int('Port.'), range: obj({ start: int('First.'), end: int('Last.') }, 'Range.') }, 'Port.') }, 'TCP.'),
      udp: obj({ destinationPort: obj({ number: int('Port.'), range: obj({ start: int('First.'), end: int('Last.') }, 'Range.') }, 'Port.') }, 'UDP.'),
      sctp: obj({ destinationPort: obj({ number: int('Port.'), range: obj({ start: int('First.'), end: int('Last.') }, 'Range.') }, 'Port.') }, 'SCTP.'),
      destinationNamedPort: str('A named port.'),
    },
    'A protocol match; exactly one field.',
  ),
  'Protocols and ports.',
);
const policyApiStatus = preserve(obj({ conditions: arr(preserve({ type: 'object' }), 'Conditions.') }, 'Status reported by implementations.'));

// ───────────────────────────── v1 ─────────────────────────────

const containerPort = obj(
  { name: str('IANA_SVC_NAME of the port, usable as a named port.'), containerPort: int('Port number.'), protocol: enumOf(['TCP', 'UDP', 'SCTP'], 'Defaults to TCP.') },
  'A port the container exposes.',
  ['containerPort'],
);
const container = preserve({
  ...obj({ name: str('Container name.'), image: str('Image.'), ports: { ...arr(containerPort, 'Ports.'), 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-patch-strategy': 'merge' } }, 'A container.'),
});

interface KindSchemaDef {
  description: string;
  props: Record<string, Schema>;
  required?: string[];
}

/** Schema definitions by `apiVersion kind`. */
const DEFS: Record<string, KindSchemaDef> = {
  'v1 Namespace': { description: 'A scope for names; policies select namespaces by label.', props: { spec: preserve(obj({ finalizers: strings('Finalizers.') }, 'NamespaceSpec.')), status: preserve(obj({ phase: str('Active or Terminating.') }, 'NamespaceStatus.')) } },
  'v1 Pod': {
    description: 'A group of containers; Margay reads its labels, addresses, ports and service account.',
    props: {
      spec: preserve(
        obj(
          {
            nodeName: str('The node the pod runs on.'),
            hostNetwork: bool("Use the host's network namespace."),
            serviceAccountName: str('Service account. Defaults to "default".'),
            containers: { ...arr(container, 'Containers.'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
            initContainers: { ...arr(container, 'Init containers.'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
          },
          'PodSpec.',
        ),
      ),
      status: preserve(obj({ phase: str('Pending, Running, Succeeded, Failed or Unknown.'), podIP: str('Primary IP.'), podIPs: arr(obj({ ip: str('An IP.') }, 'A pod IP.'), 'All IPs.') }, 'PodStatus.')),
    },
  },
  'v1 ServiceAccount': { description: 'An identity for pods; Calico rules can match service accounts.', props: { secrets: arr(preserve({ type: 'object' }), 'Secrets.'), imagePullSecrets: arr(preserve({ type: 'object' }), 'Image pull secrets.') } },
  'v1 Node': {
    description: 'A host in the cluster.',
    props: {
      spec: preserve(obj({ podCIDR: str('Pod range of the node.'), podCIDRs: strings('Pod ranges of the node.') }, 'NodeSpec.')),
      status: preserve(obj({ addresses: arr(obj({ type: str('InternalIP, ExternalIP, Hostname…'), address: str('The address.') }, 'An address.'), 'Addresses.') }, 'NodeStatus.')),
    },
  },
  'networking.k8s.io/v1 NetworkPolicy': { description: 'Kubernetes NetworkPolicy: which traffic selected pods accept and send.', props: { spec: k8sPolicySpec } },
  'policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy': {
    description: 'Cluster-wide policy set by administrators, evaluated before NetworkPolicy.',
    props: { spec: obj({ priority: int('0-1000; lower applies first.'), subject: anpSubject, ...anpRules(['Allow', 'Deny', 'Pass']) }, 'AdminNetworkPolicySpec.', ['priority', 'subject']), status: policyApiStatus },
    required: ['spec'],
  },
  'policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy': {
    description: 'The cluster default, evaluated after NetworkPolicy. Must be named "default".',
    props: { spec: obj({ subject: anpSubject, ...anpRules(['Allow', 'Deny']) }, 'BaselineAdminNetworkPolicySpec.', ['subject']), status: policyApiStatus },
    required: ['spec'],
  },
  'policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy': {
    description: 'Cluster-wide policy in the Admin or Baseline tier.',
    props: {
      spec: obj(
        {
          tier: enumOf(['Admin', 'Baseline'], 'The tier.'),
          priority: int('Lower applies first.'),
          subject: anpSubject,
          ingress: arr(obj({ name: str('Rule name.'), action: enumOf(['Accept', 'Deny', 'Pass'], 'Action.'), from: arr(anpPeerIn, 'Sources.'), protocols: cnpProtocols }, 'An ingress rule.'), 'Ingress rules.'),
          egress: arr(obj({ name: str('Rule name.'), action: enumOf(['Accept', 'Deny', 'Pass'], 'Action.'), to: arr(anpPeerOut, 'Destinations.'), protocols: cnpProtocols }, 'An egress rule.'), 'Egress rules.'),
        },
        'ClusterNetworkPolicySpec.',
        ['tier', 'priority', 'subject'],
      ),
      status: policyApiStatus,
    },
    required: ['spec'],
  },
};
for (const [kind, [description, spec]] of Object.entries(calicoSpecs)) {
  DEFS[`projectcalico.org/v3 ${kind}`] = { description, props: { spec } };
}

/** The component name of a kind's schema, as Kubernetes names its definitions. */
export function schemaName(group: string, version: string, kind: string): string {
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (group === 'networking.k8s.io') return `io.k8s.api.networking.${version}.${kind}`;
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

export function kindSchemaFor(group: string, version: string, kind: string): Schema {
  const apiVersion = group === '' ? version : `${group}/${version}`;
  const def = DEFS[`${apiVersion} ${kind}`] ?? { description: kind, props: { spec: preserve({ type: 'object', description: 'Spec.' }) } };
  return kindSchema(apiVersion, kind, def.description, def.props, { group, version, kind }, def.required);
}
