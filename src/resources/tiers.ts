// The tiers Calico creates itself. Placeholder values; replaced below.
import type { Tier } from './types.js';
export const BUILTIN_TIERS: readonly Tier[] = [];
