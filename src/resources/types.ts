// The typed shapes of every kind Margay reads, as they look AFTER decoding: field names and nesting
// mirror the upstream YAML exactly; fields that upstream defaults (tier, types, policyTypes, port
// protocols, namespaces, IPPool modes, …) are required here because decoding always fills them.
// The zod schemas in the kind files are checked against these interfaces at compile time.

// ───────────────────────────── shared ─────────────────────────────

export type Labels = Record<string, string>;

/** Metadata of a namespaced object; `namespace` defaults to "default". */
export interface NamespacedMeta {
  name: string;
  namespace: string;
  /** Always present after decoding (empty when the manifest had none). */
  labels: Labels;
  annotations?: Record<string, string>;
}

/** Metadata of a cluster-scoped object (any `namespace` in the manifest is ignored, as kubectl does). */
export interface ClusterMeta {
  name: string;
  labels: Labels;
  annotations?: Record<string, string>;
}

/** Kubernetes metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: LabelSelectorRequirement[];
}
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

// ───────────────────────────── projectcalico.org/v3 ─────────────────────────────

export const CALICO_API_VERSION = 'projectcalico.org/v3';

export type CalicoAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
/** numorstring.Protocol: one of the names Calico's validator accepts, or a number 1-255 (a quoted "6" becomes 6). */
export type CalicoProtocolName = 'TCP' | 'UDP' | 'ICMP' | 'ICMPv6' | 'SCTP' | 'UDPLite';
export type CalicoProtocol = CalicoProtocolName | number;
/**
 * numorstring.Port, normalised as Calico marshals it: a single port is a number (also when written
 * "80" or "80:80"), a range is the string "min:max", a named port is its name.
 */
export type CalicoPort = number | string;
export type PolicyType = 'Ingress' | 'Egress';
export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore';

export interface IcmpFields {
  type?: number;
  code?: number;
}

export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface ServiceMatch {
  name: string;
  namespace?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: CalicoPort[];
  notPorts?: CalicoPort[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
  /** Egress domain names (Calico Enterprise field; accepted and kept). */
  domains?: string[];
}

export interface HttpPath {
  exact?: string;
  prefix?: string;
}
export interface HttpMatch {
  methods?: string[];
  paths?: HttpPath[];
}

export interface CalicoRule {
  action: CalicoAction;
  ipVersion?: 4 | 6;
  protocol?: CalicoProtocol;
  notProtocol?: CalicoProtocol;
  icmp?: IcmpFields;
  notICMP?: IcmpFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HttpMatch;
  metadata?: { annotations?: Record<string, string> };
}

export type PerformanceHint = 'AssumeNeededOnEveryNode';

export interface NetworkPolicySpec {
  /** Defaults to "default". */
  tier: string;
  order?: number;
  selector?: string;
  serviceAccountSelector?: string;
  /** Defaulted from which rule lists are present (Calico's rule) when omitted. */
  types: PolicyType[];
  ingress?: CalicoRule[];
  egress?: CalicoRule[];
  performanceHints?: PerformanceHint[];
}

export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}

export interface StagedNetworkPolicySpec extends NetworkPolicySpec {
  /** Defaults to "Set". */
  stagedAction: StagedAction;
}
export interface StagedGlobalNetworkPolicySpec extends GlobalNetworkPolicySpec {
  stagedAction: StagedAction;
}
export interface StagedKubernetesNetworkPolicySpec extends K8sNetworkPolicySpec {
  stagedAction: StagedAction;
}

export interface CalicoNetworkPolicy {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'NetworkPolicy';
  metadata: NamespacedMeta;
  spec: NetworkPolicySpec;
}
export interface GlobalNetworkPolicy {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'GlobalNetworkPolicy';
  metadata: ClusterMeta;
  spec: GlobalNetworkPolicySpec;
}
export interface StagedNetworkPolicy {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'StagedNetworkPolicy';
  metadata: NamespacedMeta;
  spec: StagedNetworkPolicySpec;
}
export interface StagedGlobalNetworkPolicy {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'StagedGlobalNetworkPolicy';
  metadata: ClusterMeta;
  spec: StagedGlobalNetworkPolicySpec;
}
export interface StagedKubernetesNetworkPolicy {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'StagedKubernetesNetworkPolicy';
  metadata: NamespacedMeta;
  spec: StagedKubernetesNetworkPolicySpec;
}

export interface TierSpec {
  order?: number;
  /** Defaults to "Deny". */
  defaultAction: 'Deny' | 'Pass';
}
export interface Tier {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'Tier';
  metadata: ClusterMeta;
  spec: TierSpec;
}

export interface NetworkSetSpec {
  nets?: string[];
  allowedEgressDomains?: string[];
}
export interface NetworkSet {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'NetworkSet';
  metadata: NamespacedMeta;
  spec: NetworkSetSpec;
}
export interface GlobalNetworkSet {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'GlobalNetworkSet';
  metadata: ClusterMeta;
  spec: NetworkSetSpec;
}

export interface EndpointPort {
  name: string;
  protocol: CalicoProtocol;
  port: number;
}
export interface HostEndpointSpec {
  node: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}
export interface HostEndpoint {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'HostEndpoint';
  metadata: ClusterMeta;
  spec: HostEndpointSpec;
}

export interface ProfileSpec {
  ingress?: CalicoRule[];
  egress?: CalicoRule[];
  labelsToApply?: Labels;
}
export interface Profile {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'Profile';
  metadata: ClusterMeta;
  spec: ProfileSpec;
}

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export type IPPoolAllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export interface IPPoolSpec {
  cidr: string;
  /** Defaults to 26 (IPv4) or 122 (IPv6). */
  blockSize: number;
  /** Defaults to "Never". */
  ipipMode: EncapMode;
  /** Defaults to "Never". */
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
  /** Defaults to "all()". */
  nodeSelector: string;
  namespaceSelector?: string;
  /** Defaults to ["Workload", "Tunnel"]. */
  allowedUses: IPPoolAllowedUse[];
  /** Defaults to "Automatic". */
  assignmentMode: 'Automatic' | 'Manual';
}
export interface IPPool {
  apiVersion: typeof CALICO_API_VERSION;
  kind: 'IPPool';
  metadata: ClusterMeta;
  spec: IPPoolSpec;
}

// ───────────────────────────── networking.k8s.io/v1 ─────────────────────────────

export type K8sProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface K8sNetworkPolicyPort {
  /** Defaults to "TCP". */
  protocol: K8sProtocol;
  /** A number 1-65535 or an IANA_SVC_NAME; absent means all ports. */
  port?: number | string;
  endPort?: number;
}
export interface IPBlock {
  cidr: string;
  except?: string[];
}
export interface K8sNetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}
export interface K8sNetworkPolicyIngressRule {
  ports?: K8sNetworkPolicyPort[];
  from?: K8sNetworkPolicyPeer[];
}
export interface K8sNetworkPolicyEgressRule {
  ports?: K8sNetworkPolicyPort[];
  to?: K8sNetworkPolicyPeer[];
}
export interface K8sNetworkPolicySpec {
  podSelector: LabelSelector;
  /** Defaulted as upstream: ["Ingress"], plus "Egress" when egress rules are present. */
  policyTypes: PolicyType[];
  ingress?: K8sNetworkPolicyIngressRule[];
  egress?: K8sNetworkPolicyEgressRule[];
}
export interface K8sNetworkPolicy {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: NamespacedMeta;
  spec: K8sNetworkPolicySpec;
}

// ───────────────────────────── policy.networking.k8s.io ─────────────────────────────

export const ADMIN_POLICY_API_VERSION = 'policy.networking.k8s.io/v1alpha1';
export const CLUSTER_POLICY_API_VERSION = 'policy.networking.k8s.io/v1alpha2';

export interface NamespacedPod {
  namespaceSelector: LabelSelector;
  podSelector: LabelSelector;
}
/** Exactly one of the two is set. */
export interface AdminNetworkPolicySubject {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
}
export interface AdminNetworkPolicyIngressPeer {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
}
export interface AdminNetworkPolicyEgressPeer {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
  nodes?: LabelSelector;
  networks?: string[];
  /** ANP only (experimental upstream). */
  domainNames?: string[];
}
/** Exactly one of the three is set. */
export interface AdminNetworkPolicyPort {
  portNumber?: { protocol: K8sProtocol; port: number };
  namedPort?: string;
  portRange?: { protocol: K8sProtocol; start: number; end: number };
}
export interface AdminNetworkPolicyIngressRule<A extends string> {
  name?: string;
  action: A;
  from: AdminNetworkPolicyIngressPeer[];
  ports?: AdminNetworkPolicyPort[];
}
export interface AdminNetworkPolicyEgressRule<A extends string> {
  name?: string;
  action: A;
  to: AdminNetworkPolicyEgressPeer[];
  ports?: AdminNetworkPolicyPort[];
}
export type AdminNetworkPolicyAction = 'Allow' | 'Deny' | 'Pass';
export type BaselineAdminNetworkPolicyAction = 'Allow' | 'Deny';

export interface AdminNetworkPolicySpec {
  priority: number;
  subject: AdminNetworkPolicySubject;
  ingress?: AdminNetworkPolicyIngressRule<AdminNetworkPolicyAction>[];
  egress?: AdminNetworkPolicyEgressRule<AdminNetworkPolicyAction>[];
}
export interface BaselineAdminNetworkPolicySpec {
  subject: AdminNetworkPolicySubject;
  ingress?: AdminNetworkPolicyIngressRule<BaselineAdminNetworkPolicyAction>[];
  egress?: AdminNetworkPolicyEgressRule<BaselineAdminNetworkPolicyAction>[];
}
export interface AdminNetworkPolicy {
  apiVersion: typeof ADMIN_POLICY_API_VERSION;
  kind: 'AdminNetworkPolicy';
  metadata: ClusterMeta;
  spec: AdminNetworkPolicySpec;
}
export interface BaselineAdminNetworkPolicy {
  apiVersion: typeof ADMIN_POLICY_API_VERSION;
  kind: 'BaselineAdminNetworkPolicy';
  metadata: ClusterMeta;
  spec: BaselineAdminNetworkPolicySpec;
}

/** v1alpha2: exactly one of `number` / `range`. */
export interface ClusterNetworkPolicyPort {
  number?: number;
  range?: { start: number; end: number };
}
/** Exactly one field is set. */
export interface ClusterNetworkPolicyProtocol {
  tcp?: { destinationPort?: ClusterNetworkPolicyPort };
  udp?: { destinationPort?: ClusterNetworkPolicyPort };
  sctp?: { destinationPort?: ClusterNetworkPolicyPort };
  destinationNamedPort?: string;
}
export type ClusterNetworkPolicyAction = 'Accept' | 'Deny' | 'Pass';
export interface ClusterNetworkPolicyIngressRule {
  name?: string;
  action: ClusterNetworkPolicyAction;
  from: AdminNetworkPolicyIngressPeer[];
  protocols?: ClusterNetworkPolicyProtocol[];
}
export interface ClusterNetworkPolicyEgressRule {
  name?: string;
  action: ClusterNetworkPolicyAction;
  to: AdminNetworkPolicyEgressPeer[];
  protocols?: ClusterNetworkPolicyProtocol[];
}
export interface ClusterNetworkPolicySpec {
  tier: 'Admin' | 'Baseline';
  priority: number;
  subject: AdminNetworkPolicySubject;
  ingress?: ClusterNetworkPolicyIngressRule[];
  egress?: ClusterNetworkPolicyEgressRule[];
}
export interface ClusterNetworkPolicy {
  apiVersion: typeof CLUSTER_POLICY_API_VERSION;
  kind: 'ClusterNetworkPolicy';
  metadata: ClusterMeta;
  spec: ClusterNetworkPolicySpec;
}

// ───────────────────────────── v1 (core) ─────────────────────────────
// Only the fields Margay uses are modelled; everything else in a manifest is ignored.

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ClusterMeta;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Defaults to "TCP". */
  protocol: K8sProtocol;
}
export interface Container {
  name?: string;
  ports?: ContainerPort[];
}
export interface PodSpec {
  nodeName?: string;
  hostNetwork: boolean;
  /** Defaults to "default". */
  serviceAccountName: string;
  containers: Container[];
  initContainers?: Container[];
}
export interface PodStatus {
  podIP?: string;
  podIPs?: { ip: string }[];
}
export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: NamespacedMeta;
  spec: PodSpec;
  status: PodStatus;
}

export interface ServiceAccount {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: NamespacedMeta;
}

export interface NodeAddress {
  type: string;
  address: string;
}
export interface Node {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: ClusterMeta;
  spec: { podCIDR?: string; podCIDRs?: string[] };
  status: { addresses?: NodeAddress[] };
}

// ───────────────────────────── alerts (alerts.margay.io/v1) ─────────────────────────────

export type AlertSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Matches audit events; every field set must match, a list matches any of its values. */
export interface AuditCondition {
  verbs?: string[];
  /** `Pod`, `NetworkPolicy` (any group) or `NetworkPolicy.projectcalico.org`. */
  kinds?: string[];
  namespaces?: string[];
  names?: string[];
  users?: string[];
  /** Policy kinds only: the tier of the policy (Calico's spec.tier, `default` for Kubernetes policies). */
  tiers?: string[];
}

export interface Alert {
  apiVersion: 'alerts.margay.io/v1';
  kind: 'Alert';
  metadata: ClusterMeta;
  spec: {
    description?: string;
    severity: AlertSeverity;
    /** One kind of condition per alert: `audit` today (flow-log conditions later sit beside it). */
    condition: { audit: AuditCondition };
    destination: { webhook: { url: string } };
    disabled?: boolean;
  };
}

// ───────────────────────────── the union ─────────────────────────────

export type CalicoResource =
  | CalicoNetworkPolicy
  | GlobalNetworkPolicy
  | StagedNetworkPolicy
  | StagedGlobalNetworkPolicy
  | StagedKubernetesNetworkPolicy
  | Tier
  | NetworkSet
  | GlobalNetworkSet
  | HostEndpoint
  | Profile
  | IPPool;

export type Resource =
  | CalicoResource
  | K8sNetworkPolicy
  | AdminNetworkPolicy
  | BaselineAdminNetworkPolicy
  | ClusterNetworkPolicy
  | Namespace
  | Pod
  | ServiceAccount
  | Node
  | Alert;

/** The `apiVersion` + `kind` pair that identifies each member of Resource. */
export type ResourceKey = `${Resource['apiVersion']} ${Resource['kind']}`;

/** Narrow the union by apiVersion and kind: `ResourceOf<'projectcalico.org/v3', 'Tier'>`. */
export type ResourceOf<V extends Resource['apiVersion'], K extends Resource['kind']> = Extract<
  Resource,
  { apiVersion: V; kind: K }
>;
