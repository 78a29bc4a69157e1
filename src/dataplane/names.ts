// Short, stable nftables object names from long canonical keys (policy ids, set ids): a 64-bit
// FNV-1a hash in base 36. Pure; the same key always gives the same name, in every process.
import { BugError } from '../errors/index.js';

/**
 * 64-bit FNV-1a over UTF-16 code units, in four 16-bit limbs (BigInt per character was the
 * renderer's hottest spot). prime = 2^40 + 0x1b3.
 */
export function fnv1a64(text: string): bigint {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < text.length; i++) {
    h0 ^= text.charCodeAt(i);
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + Math.floor(t1 / 0x10000);
    const t3 = h3 * 0x1b3 + (h1 << 8) + Math.floor(t2 / 0x10000);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return (BigInt(h3) << 48n) | (BigInt(h2) << 32n) | (BigInt(h1) << 16n) | BigInt(h0);
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
