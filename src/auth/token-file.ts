// Static bearer tokens, as kube-apiserver's --token-auth-file: a CSV of
// `token,user,uid,"group1,group2"` lines. Tokens are kept only as SHA-256 digests in memory.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError, type Problem } from '../errors/index.js';
import type { UserInfo } from '../rbac/index.js';

export interface TokenEntry {
  readonly token: string;
  readonly user: UserInfo;
}

/** Splits one CSV line, honouring double quotes (`""` inside quotes is a quote). */
function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return undefined;
  out.push(cur);
  return out;
}

export function parseTokenFile(text: string, file: string): TokenEntry[] {
  const problems: Problem[] = [];
  const entries: TokenEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = { file, line: i + 1 };
    const fields = splitCsv(line);
    if (fields === undefined) return void problems.push({ ...where, message: 'unterminated quote; expected token,user,uid,"group1,group2"' });
    const [token, name, uid, groups] = fields.map((f) => f.trim());
    if (token === undefined || token === '' || name === undefined || name === '') {
      return void problems.push({ ...where, message: 'expected at least token,user (then uid and "group1,group2")' });
    }
    if (seen.has(token)) return void problems.push({ ...where, message: 'duplicate token; expected each token once' });
    seen.add(token);
    const groupList = (groups ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
    entries.push({ token, user: { name, ...(uid !== undefined && uid !== '' ? { uid } : {}), groups: groupList } });
  });
  if (problems.length > 0) throw new UserError(problems);
  return entries;
}

export function readTokenFile(path: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError({ file: path, message: `cannot read the token file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
  }
  return parseTokenFile(text, path);
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Looks bearer tokens up by digest; every authenticated user also gets system:authenticated. */
export class TokenAuthenticator {
  private readonly byDigest = new Map<string, { digest: Buffer; user: UserInfo }>();

  constructor(entries: readonly TokenEntry[] = []) {
    for (const e of entries) this.add(e.token, e.user);
  }

  add(token: string, user: UserInfo): void {
    const d = digest(token);
    const groups = user.groups.includes('system:authenticated') ? user.groups : [...user.groups, 'system:authenticated'];
    this.byDigest.set(d.toString('hex'), { digest: d, user: { ...user, groups } });
  }

  authenticate(token: string): UserInfo | undefined {
    const d = digest(token);
    const hit = this.byDigest.get(d.toString('hex'));
    // The map lookup is by digest already; compare again in constant time for good measure.
    return hit !== undefined && timingSafeEqual(hit.digest, d) ? hit.user : undefined;
  }
}

/** The token in an `Authorization: Bearer …` header (undefined when absent or another scheme). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1];
}
