// A canonical text for any model value (policies, entities, calc outputs): object keys sorted,
// sets sorted, selectors as their canonical text, bigints tagged. Equal values, equal texts.

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value));
}

/** The value as plain, deterministically ordered JSON data. */
export function canonicalValue(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'function':
    case 'symbol':
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v) => canonicalValue(v) ?? null);
      if (value instanceof Set) return [...value].map(canonicalValue).sort(compareJson);
      if (value instanceof Map) {
        return [...value.entries()].map(([k, v]) => [canonicalValue(k), canonicalValue(v)]).sort(compareJson);
      }
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return canonicalValue(toJSON.call(value));
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) {
        const v = canonicalValue((value as Record<string, unknown>)[key]);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    default:
      return value;
  }
}

function compareJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
