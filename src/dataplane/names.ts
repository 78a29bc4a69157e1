// Short, stable nftables object names from long canonical keys (policy ids, set ids): a 64-bit
// FNV-1a hash in base 36. Pure; the same key always gives the same name, in every process.
import { BugError } from '../errors/index.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

export function fnv1a64(text: string): bigint {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * FNV_PRIME) & MASK;
  }
  return h;
}

export function shortHash(text: string): string {
  return fnv1a64(text).toString(36).padStart(13, '0');
}

/** Names handed out in one render; two keys hashing to one name is a bug, never silently merged. */
export class NameTable {
  private readonly byName = new Map<string, string>();

  name(prefix: string, key: string, suffix = ''): string {
    const name = `${prefix}-${shortHash(key)}${suffix}`;
    const old = this.byName.get(name);
    if (old !== undefined && old !== key) throw new BugError(`nftables name collision: ${name} for ${old} and ${key}`);
    this.byName.set(name, key);
    return name;
  }
}
