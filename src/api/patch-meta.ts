// Patch strategies of the built-in types, as their Go types declare them (`patchStrategy` and
// `patchMergeKey` struct tags). Strategic merge patch and server-side apply read lists through it:
// a list with a merge key is merged item by item, a list with strategy 'merge' and no key is a
// set of primitives, every other list is atomic (replaced whole).

export interface PatchMeta {
  /** Meta of the fields of a map. */
  readonly fields?: Readonly<Record<string, PatchMeta>>;
  /** For a list: how a strategic merge patch combines it. */
  readonly strategy?: 'merge' | 'merge,retainKeys';
  /** For a list of maps merged by key. */
  readonly mergeKey?: string;
  /** Meta of each item of a list of maps. */
  readonly items?: PatchMeta;
}

const byName: PatchMeta = { strategy: 'merge', mergeKey: 'name' };
const byType: PatchMeta = { strategy: 'merge', mergeKey: 'type' };
const byIp: PatchMeta = { strategy: 'merge', mergeKey: 'ip' };
const primitiveSet: PatchMeta = { strategy: 'merge' };

const objectMeta: PatchMeta = {
  fields: {
    finalizers: primitiveSet,
    ownerReferences: { strategy: 'merge', mergeKey: 'uid' },
  },
};

const container: PatchMeta = {
  fields: {
    ports: { strategy: 'merge', mergeKey: 'containerPort' },
    env: byName,
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath' },
    volumeDevices: { strategy: 'merge', mergeKey: 'devicePath' },
  },
};

const podSpec: PatchMeta = {
  fields: {
    containers: { ...byName, items: container },
    initContainers: { ...byName, items: container },
    ephemeralContainers: { ...byName, items: container },
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    imagePullSecrets: byName,
    hostAliases: byIp,
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    schedulingGates: byName,
  },
};

const podStatus: PatchMeta = {
  fields: { conditions: byType, podIPs: byIp, hostIPs: byIp, resourceClaimStatuses: byName },
};

const withMeta = (fields: Record<string, PatchMeta>): PatchMeta => ({ fields: { metadata: objectMeta, ...fields } });

/** Patch meta of each built-in kind, by `apiVersion kind`; other kinds get GENERIC_META. */
export const BUILTIN_PATCH_META: Readonly<Record<string, PatchMeta>> = {
  'v1 Pod': withMeta({ spec: podSpec, status: podStatus }),
  'v1 Node': withMeta({
    spec: { fields: { podCIDRs: primitiveSet } },
    status: { fields: { addresses: byType, conditions: byType } },
  }),
  'v1 Namespace': withMeta({ status: { fields: { conditions: byType } } }),
  'v1 ServiceAccount': withMeta({ secrets: byName, imagePullSecrets: byName }),
  'networking.k8s.io/v1 NetworkPolicy': withMeta({}),
};

/** Custom-resource-like kinds: only metadata lists have strategies; everything else is atomic. */
export const GENERIC_META: PatchMeta = withMeta({});

export function patchMetaFor(apiVersion: string, kind: string): PatchMeta {
  return BUILTIN_PATCH_META[`${apiVersion} ${kind}`] ?? GENERIC_META;
}
