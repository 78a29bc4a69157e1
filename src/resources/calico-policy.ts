// Calico policy kinds: NetworkPolicy, GlobalNetworkPolicy, their Staged variants,
// StagedKubernetesNetworkPolicy and Profile — validated as libcalico-go's validator v3 does and
// defaulted as clientv3 does (tier "default", types from the rules present, stagedAction "Set").
import { z } from 'zod';
import { checkRuleDirections, calicoRule } from './calico-rule.js';
import { bool, clusterMeta, labelsMap, list, namespacedMeta, noDuplicates, num, selectorField, strict, stringMatching, typeMeta } from './fields.js';
import {
  CALICO_POLICY_NAME_TEXT,
  DNS1123_LABEL_TEXT,
  DNS1123_SUBDOMAIN_TEXT,
  isCalicoGlobalPolicyName,
  isCalicoPolicyName,
  isDns1123Label,
  isDns1123Subdomain,
} from './k8s-names.js';
import { defaultK8sSpec, k8sPolicySpecShape } from './kubernetes-policy.js';
import type {
  CalicoNetworkPolicy,
  CalicoRule,
  GlobalNetworkPolicy,
  PolicyType,
  Profile,
  StagedAction,
  StagedGlobalNetworkPolicy,
  StagedKubernetesNetworkPolicy,
  StagedNetworkPolicy,
} from './types.js';

// Calico 3.30+ no longer requires a "<tier>." name prefix (names.ValidateTieredPolicyName is a
// no-op); names are a DNS label, optionally with one dot.
const policyName = { test: isCalicoPolicyName, text: CALICO_POLICY_NAME_TEXT };
const globalPolicyName = { test: isCalicoGlobalPolicyName, text: CALICO_POLICY_NAME_TEXT };

const policyType = z.enum(['Ingress', 'Egress']);
const stagedAction = z.enum(['Set', 'Delete', 'Learn', 'Ignore']);

const commonSpec = {
  // Tier names are DNS labels: they become part of other names, so no dots.
  tier: stringMatching(isDns1123Label, `a tier name: ${DNS1123_LABEL_TEXT}`).optional(),
  order: num.optional(),
  selector: selectorField('plain').optional(),
  serviceAccountSelector: selectorField('plain').optional(),
  types: list(policyType, { max: 2 }).optional(),
  ingress: list(calicoRule).optional(),
  egress: list(calicoRule).optional(),
  performanceHints: list(z.enum(['AssumeNeededOnEveryNode'])).optional(),
};

const globalSpec = {
  ...commonSpec,
  namespaceSelector: selectorField('plain').optional(),
  doNotTrack: bool.optional(),
  preDNAT: bool.optional(),
  applyOnForward: bool.optional(),
};

interface SpecIn {
  tier?: string | undefined;
  types?: PolicyType[] | undefined;
  ingress?: CalicoRule[] | undefined;
  egress?: CalicoRule[] | undefined;
  performanceHints?: string[] | undefined;
}

/** clientv3's defaultPolicyTypesField: Ingress unless only egress rules exist; both when both do. */
function defaultCalicoTypes(s: SpecIn): PolicyType[] {
  if (s.types !== undefined && s.types.length > 0) return s.types;
  const ing = (s.ingress ?? []).length > 0;
  const eg = (s.egress ?? []).length > 0;
  if (!eg) return ['Ingress'];
  return ing ? ['Ingress', 'Egress'] : ['Egress'];
}

function withDefaults<S extends SpecIn>(s: S): S & { tier: string; types: PolicyType[] } {
  return { ...s, tier: s.tier ?? 'default', types: defaultCalicoTypes(s) };
}

function checkCommon(s: SpecIn, ctx: z.RefinementCtx, global: boolean): void {
  noDuplicates(s.types ?? [], ctx, ['types']);
  noDuplicates(s.performanceHints ?? [], ctx, ['performanceHints']);
  checkRuleDirections(s, ctx, global);
}

function checkGlobal(s: SpecIn & { doNotTrack?: boolean | undefined; preDNAT?: boolean | undefined; applyOnForward?: boolean | undefined }, ctx: z.RefinementCtx): void {
  // validateGlobalNetworkPolicySpec: pre-DNAT and untracked policy run before normal processing.
  if (s.doNotTrack === true && s.preDNAT === true)
    ctx.addIssue({ code: 'custom', path: ['preDNAT'], message: 'expected at most one of doNotTrack and preDNAT to be true' });
  if (s.preDNAT === true && (s.egress ?? []).length > 0)
    ctx.addIssue({ code: 'custom', path: ['egress'], message: 'expected no egress rules in a preDNAT policy' });
  if (s.preDNAT === true && (s.types ?? []).includes('Egress'))
    ctx.addIssue({ code: 'custom', path: ['types'], message: 'expected no "Egress" type in a preDNAT policy' });
  if ((s.doNotTrack === true || s.preDNAT === true) && s.applyOnForward !== true)
    ctx.addIssue({ code: 'custom', path: ['applyOnForward'], message: `expected applyOnForward: true, which ${s.doNotTrack === true ? 'doNotTrack' : 'preDNAT'} requires` });
}

const isZero = (v: unknown): boolean =>
  v === undefined || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && Object.keys(v).length === 0);

/**
 * A staged Delete only names the policy to delete: every spec field but the tier must hold its
 * zero value. `keep` also lists the derived type fields, so a decoded Delete decodes again.
 */
function checkStagedDelete(s: Record<string, unknown> & { stagedAction?: StagedAction | undefined }, ctx: z.RefinementCtx, keep: readonly string[]): void {
  if (s.stagedAction !== 'Delete') return;
  for (const [field, value] of Object.entries(s)) {
    if (isZero(value) || keep.includes(field)) continue;
    ctx.addIssue({ code: 'custom', path: [field], message: `expected no ${field} when stagedAction is Delete (only the tier may be set)` });
  }
}

const npSpec = strict(commonSpec)
  .superRefine((s, ctx) => checkCommon(s, ctx, false))
  .transform(withDefaults);

const gnpSpec = strict(globalSpec)
  .superRefine((s, ctx) => {
    checkCommon(s, ctx, true);
    checkGlobal(s, ctx);
  })
  .transform(withDefaults);

const snpSpec = strict({ ...commonSpec, stagedAction: stagedAction.optional() })
  .superRefine((s, ctx) => {
    checkStagedDelete(s, ctx, ['tier', 'stagedAction', 'types']);
    if (s.stagedAction !== 'Delete') checkCommon(s, ctx, false);
  })
  .transform((s) => ({ ...withDefaults(s), stagedAction: s.stagedAction ?? 'Set' }));

const sgnpSpec = strict({ ...globalSpec, stagedAction: stagedAction.optional() })
  .superRefine((s, ctx) => {
    checkStagedDelete(s, ctx, ['tier', 'stagedAction', 'types']);
    if (s.stagedAction !== 'Delete') {
      checkCommon(s, ctx, true);
      checkGlobal(s, ctx);
    }
  })
  .transform((s) => ({ ...withDefaults(s), stagedAction: s.stagedAction ?? 'Set' }));

const sknpSpec = strict({ ...k8sPolicySpecShape(false), stagedAction: stagedAction.optional() })
  .superRefine((s, ctx) => checkStagedDelete(s, ctx, ['stagedAction', 'policyTypes']))
  .transform((s) => ({ ...defaultK8sSpec(s), stagedAction: s.stagedAction ?? 'Set' }));

const calico = 'projectcalico.org/v3';
// A missing spec is the zero spec, as in Go: `.prefault({})` runs the defaults over it.
// Calico policy kinds may carry a status (newer Calico reports conditions); it is ignored.
const status = { status: z.unknown().optional() };
const dropStatus = <T extends { status?: unknown }>({ status: _s, ...rest }: T): Omit<T, 'status'> => rest;

export const calicoNetworkPolicy: z.ZodType<CalicoNetworkPolicy> = strict({
  ...typeMeta(calico, 'NetworkPolicy'),
  metadata: namespacedMeta(policyName),
  spec: npSpec.prefault({}),
  ...status,
}).transform(dropStatus);

export const globalNetworkPolicy: z.ZodType<GlobalNetworkPolicy> = strict({
  ...typeMeta(calico, 'GlobalNetworkPolicy'),
  metadata: clusterMeta(globalPolicyName),
  spec: gnpSpec.prefault({}),
  ...status,
}).transform(dropStatus);

export const stagedNetworkPolicy: z.ZodType<StagedNetworkPolicy> = strict({
  ...typeMeta(calico, 'StagedNetworkPolicy'),
  metadata: namespacedMeta(policyName),
  spec: snpSpec.prefault({}),
  ...status,
}).transform(dropStatus);

export const stagedGlobalNetworkPolicy: z.ZodType<StagedGlobalNetworkPolicy> = strict({
  ...typeMeta(calico, 'StagedGlobalNetworkPolicy'),
  metadata: clusterMeta(globalPolicyName),
  spec: sgnpSpec.prefault({}),
  ...status,
}).transform(dropStatus);

export const stagedKubernetesNetworkPolicy: z.ZodType<StagedKubernetesNetworkPolicy> = strict({
  ...typeMeta(calico, 'StagedKubernetesNetworkPolicy'),
  metadata: namespacedMeta({ test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT }),
  // (the cast: an optional field of input type `unknown` reads as required to TypeScript)
  spec: sknpSpec.prefault({} as z.input<typeof sknpSpec>),
  ...status,
}).transform(dropStatus);

export const profile: z.ZodType<Profile> = strict({
  ...typeMeta(calico, 'Profile'),
  metadata: clusterMeta({ test: isDns1123Subdomain, text: DNS1123_SUBDOMAIN_TEXT }),
  spec: strict({ ingress: list(calicoRule).optional(), egress: list(calicoRule).optional(), labelsToApply: labelsMap.optional() }).prefault({}),
});
