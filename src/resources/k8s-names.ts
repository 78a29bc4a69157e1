// Kubernetes' name and label syntax (apimachinery util/validation), plus Calico's policy-name
// variants (libcalico-go validator v3). Each check returns true when the text is valid.

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${SUBDOMAIN}$`);
// Current Calico: a label, or label.label (one dot), or a knp.default./ossg.default. prefixed name.
const CALICO_POLICY_NAME = new RegExp(`^((${LABEL})(\\.${LABEL})?|((?:knp|ossg)\\.default\\.(${SUBDOMAIN})))$`);
const CALICO_GLOBAL_POLICY_NAME = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
export const isCalicoPolicyName = (s: string): boolean => s.length <= 253 && CALICO_POLICY_NAME.test(s);
export const isCalicoGlobalPolicyName = (s: string): boolean => s.length <= 253 && CALICO_GLOBAL_POLICY_NAME.test(s);

export const DNS1123_LABEL_TEXT =
  "a DNS-1123 label (at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit)";
export const DNS1123_SUBDOMAIN_TEXT =
  "a DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit)";
export const CALICO_POLICY_NAME_TEXT =
  "a policy name of lowercase letters, digits and '-', with at most one '.' (at most 253 characters)";

/** IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
export function isQualifiedName(s: string): boolean {
  const parts = s.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] ?? '';
  if (parts.length === 2 && !isDns1123Subdomain(parts[0] ?? '')) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}
export const QUALIFIED_NAME_TEXT =
  "a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** IsValidLabelValue: empty, or at most 63 characters of the qualified-name alphabet. */
export const isLabelValue = (s: string): boolean => s === '' || (s.length <= 63 && QUALIFIED_NAME_PART.test(s));
export const LABEL_VALUE_TEXT =
  "a label value: empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** IsValidPortName (IANA_SVC_NAME): at most 15 of [a-z0-9-], one letter, no leading, trailing or double '-'. */
export function isPortName(s: string): boolean {
  return (
    s.length >= 1 && s.length <= 15 && /^[-a-z0-9]+$/.test(s) && /[a-z]/.test(s) && !s.includes('--') && !s.startsWith('-') && !s.endsWith('-')
  );
}
export const PORT_NAME_TEXT = "a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits or '-', with at least one letter)";
