// Core v1 kinds Margay reads for simulation: Namespace, Pod, ServiceAccount and Node. Only the
// fields Margay uses are checked; everything else (status conditions, volumes, managedFields, …)
// is ignored so that real `kubectl get -o yaml` output loads.
import { z } from 'zod';
import { bool, checked, clusterMeta, list, namespacedMeta, portNumber, str, stringMatching, typeMeta } from './fields.js';
import { DNS1123_LABEL_TEXT, DNS1123_SUBDOMAIN_TEXT, isDns1123Label, isDns1123Subdomain, isPortName, PORT_NAME_TEXT } from './k8s-names.js';
import { k8sCidr, k8sProtocol } from './kubernetes-policy.js';
import { ipFamily } from './net-check.js';
import type { Container, Namespace, Node, Pod, ServiceAccount } from './types.js';

const subdomain = { test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT };
const ipAddress = checked('an IP address', (v) => (typeof v === 'string' && ipFamily(v) !== undefined ? v : undefined));

export const namespace: z.ZodType<Namespace> = z
  .object({ ...typeMeta('v1', 'Namespace'), metadata: clusterMeta({ test: isDns1123Label, text: DNS1123_LABEL_TEXT }, true) })
  .transform(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, metadata }));

export const serviceAccount: z.ZodType<ServiceAccount> = z
  .object({ ...typeMeta('v1', 'ServiceAccount'), metadata: namespacedMeta(subdomain, true) })
  .transform(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, metadata }));

const containerPort = z
  .object({
    name: stringMatching(isPortName, PORT_NAME_TEXT).optional(),
    containerPort: portNumber,
    protocol: k8sProtocol.optional(),
  })
  .transform((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));

const container: z.ZodType<Container> = z.object({ name: str.optional(), ports: list(containerPort).optional() });

export const pod: z.ZodType<Pod> = z
  .object({
    ...typeMeta('v1', 'Pod'),
    metadata: namespacedMeta(subdomain, true),
    spec: z
      .object({
        nodeName: str.optional(),
        hostNetwork: bool.optional(),
        serviceAccountName: str.optional(),
        // Deprecated alias of serviceAccountName, still written by some tools.
        serviceAccount: str.optional(),
        containers: list(container).optional(),
        initContainers: list(container).optional(),
      })
      .prefault({}),
    status: z
      .object({
        // A pending pod may report an empty podIP: not yet assigned.
        podIP: checked('an IP address', (v) => (v === '' || (typeof v === 'string' && ipFamily(v) !== undefined) ? v : undefined)).optional(),
        podIPs: list(z.object({ ip: ipAddress })).optional(),
      })
      .prefault({}),
  })
  .transform(({ apiVersion, kind, metadata, spec, status }) => {
    const { serviceAccount, ...rest } = spec;
    return {
      apiVersion,
      kind,
      metadata,
      spec: {
        ...rest,
        hostNetwork: rest.hostNetwork ?? false,
        serviceAccountName: rest.serviceAccountName ?? serviceAccount ?? 'default',
        containers: rest.containers ?? [],
      },
      status: {
        ...(status.podIP !== undefined && status.podIP !== '' ? { podIP: status.podIP } : {}),
        ...(status.podIPs !== undefined ? { podIPs: status.podIPs } : {}),
      },
    };
  });

export const node: z.ZodType<Node> = z
  .object({
    ...typeMeta('v1', 'Node'),
    metadata: clusterMeta(subdomain, true),
    spec: z.object({ podCIDR: k8sCidr.optional(), podCIDRs: list(k8sCidr).optional() }).prefault({}),
    status: z.object({ addresses: list(z.object({ type: str, address: str })).optional() }).prefault({}),
  })
  .transform(({ apiVersion, kind, metadata, spec, status }) => ({ apiVersion, kind, metadata, spec, status }));
