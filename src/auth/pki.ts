// The TLS material of `margay up`: a CA kept in DIR/pki (made once, reused, so kubeconfigs stay
// valid across restarts), a server certificate for the listen address (re-made when its names
// change) and client certificates (CN = user, O = groups). Built with the openssl CLI: node's
// crypto makes keys but not X.509 certificates, and a new dependency is not worth it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors/index.js';

export interface TlsMaterial {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
}

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new UserError({ path: '--tls', message: 'serving TLS needs the openssl command (apt-get install openssl)' });
    throw new UserError({ file: cwd, message: `openssl ${args[0] ?? ''} failed: ${e.stderr?.toString().trim() ?? e.message}` });
  }
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const serial = (): string => `0x${randomBytes(16).toString('hex')}`;
/** One RDN value as openssl's -subj wants it (`/` and `=` escaped). */
const rdn = (v: string): string => v.replace(/([\\/=+,])/g, '\\$1');

function ensureCa(dir: string): void {
  if (existsSync(join(dir, 'ca.crt')) && existsSync(join(dir, 'ca.key'))) return;
  openssl(['req', '-x509', ...KEY_ARGS, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=margay-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

/** Signs a leaf certificate with the CA in `dir`; returns its key and certificate (PEM). */
function signLeaf(dir: string, base: string, subject: string, extensions: string[], days: number): { key: string; cert: string } {
  const ext = `${base}.ext`;
  writeFileSync(join(dir, ext), `${['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...extensions].join('\n')}\n`);
  try {
    openssl(['req', '-new', ...KEY_ARGS, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject], dir);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial(), '-days', String(days), '-out', `${base}.crt`, '-extfile', ext], dir);
  } finally {
    rmSync(join(dir, ext), { force: true });
    rmSync(join(dir, `${base}.csr`), { force: true });
  }
  return { key: readFileSync(join(dir, `${base}.key`), 'utf8'), cert: readFileSync(join(dir, `${base}.crt`), 'utf8') };
}

/** The names a server listening on `host` is reached by: the host itself, or every local address for 0.0.0.0/::. */
export function serverNames(host: string): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1']);
  if (host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.split('%')[0] ?? a.address);
    names.add(hostname());
  } else names.add(host);
  return [...names].sort();
}

const san = (names: readonly string[]): string => `subjectAltName=${names.map((n) => (isIP(n) !== 0 ? `IP:${n}` : `DNS:${n}`)).join(',')}`;

/** The CA (made once) and a server certificate for `names` (re-made when the names change). */
export function ensureServerTls(dir: string, names: readonly string[]): TlsMaterial {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ensureCa(dir);
  const namesFile = join(dir, 'server.names');
  const want = names.join(',');
  if (!existsSync(join(dir, 'server.crt')) || !existsSync(namesFile) || readFileSync(namesFile, 'utf8') !== want) {
    signLeaf(dir, 'server', '/CN=margay-apiserver', [san(names), 'extendedKeyUsage=serverAuth'], 365);
    writeFileSync(namesFile, want);
  }
  return { caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'), serverKey: readFileSync(join(dir, 'server.key'), 'utf8'), serverCert: readFileSync(join(dir, 'server.crt'), 'utf8') };
}

/** A client certificate for `user` in `groups`, signed by the CA in `dir` (written as DIR/<base>.crt/.key too). */
export function issueClientCertificate(dir: string, user: string, groups: readonly string[], days = 365): { key: string; cert: string } {
  if (user === '') throw new UserError({ path: '--user', message: 'expected a user name for the certificate CN' });
  if (!existsSync(join(dir, 'ca.key'))) throw new UserError({ file: join(dir, 'ca.key'), message: 'no CA here; start `margay up` with TLS first' });
  const subject = `/${[`CN=${rdn(user)}`, ...groups.map((g) => `O=${rdn(g)}`)].join('/')}`;
  const base = `client-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  return signLeaf(dir, base, subject, ['extendedKeyUsage=clientAuth'], days);
}
