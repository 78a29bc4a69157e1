// Durations and times as the audit commands take them: `90s`, `15m`, `24h`, `7d`, or a timestamp.
import { UserError } from '../errors/index.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (m === null) throw new UserError({ path: flag, message: `expected a duration such as 90s, 15m, 24h or 7d, got ${JSON.stringify(text)}` });
  return Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
}

/** `24h` means 24 hours before now; anything else must be a timestamp (RFC 3339). */
export function parseSince(text: string, flag: string, now: Date): Date {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/.test(text.trim())) return new Date(now.getTime() - parseDuration(text, flag));
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UserError({ path: flag, message: `expected a duration (24h) or a timestamp (2026-01-02T15:04:05Z), got ${JSON.stringify(text)}` });
  return new Date(t);
}
