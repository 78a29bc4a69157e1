// TLS end to end: `margay up --tls` makes a CA and a server certificate, puts the CA into the
// kubeconfig, and real kubectl talks to it with the admin token and with client certificates
// (CN = user, O = groups) signed by `margay token client-cert`.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { KUBECTL, MARGAY, run } from './support.js';

describe('margay up --tls with real kubectl', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  let url: string;
  let stop: () => Promise<void>;
  const kubectl = (kubeconfig: string, ...args: string[]) => run(KUBECTL, ['--kubeconfig', kubeconfig, ...args]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-tls-'));
    dataDir = join(dir, 'data');
    // A token file turns single-user mode off: a request without credentials is 401.
    writeFileSync(join(dir, 'tokens.csv'), 'tok-viewer-1,viewer,,"margay:security-auditors"\n');
    const child = spawn(process.execPath, [MARGAY, 'up', '--listen', '127.0.0.1:0', '--tls', '--data-dir', dataDir, '--token-auth-file', join(dir, 'tokens.csv')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    url = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`margay up did not start: ${out}`)), 30_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (https?:\/\/\S+)/.exec(out);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          ok(m[1]);
        }
      });
      void exited.then(() => fail(new Error(`margay up exited: ${out}`)));
    });
    stop = async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    };
  });

  after(async () => {
    await stop?.();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves https and writes the CA into the kubeconfig', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const config = parse(readFileSync(join(dataDir, 'kubeconfig'), 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = config.clusters[0]?.cluster;
    assert.equal(cluster?.server, url);
    assert.match(Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64').toString(), /BEGIN CERTIFICATE/);
    // Without the CA the certificate is not trusted; plain http to the TLS port fails.
    await assert.rejects(fetch(`${url}/version`));
    await assert.rejects(fetch(`${url.replace('https', 'http')}/version`));
  });

  it('kubectl works with the kubeconfig as written (CA + admin token)', async () => {
    const kc = join(dataDir, 'kubeconfig');
    const r = await kubectl(kc, 'get', 'namespaces', '-o', 'name');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/default/);
    writeFileSync(join(dir, 'ns.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tls-ns' } }));
    const created = await kubectl(kc, 'create', '-f', join(dir, 'ns.json'));
    assert.equal(created.code, 0, created.stderr);
    const can = await kubectl(kc, 'auth', 'can-i', 'delete', 'clusterroles');
    assert.equal(can.stdout.trim(), 'yes');
  });

  it('a request with no credentials is 401; kubectl with a client certificate is that user and its groups', async () => {
    const base = parse(readFileSync(join(dataDir, 'kubeconfig'), 'utf8')) as { clusters: unknown[] };
    const withUser = (name: string, user: Record<string, string>): string => {
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', clusters: base.clusters, users: [{ name, user }], contexts: [{ name, context: { cluster: 'margay', user: name } }], 'current-context': name }));
      return file;
    };
    // (kubectl would prompt for a password on a 401 without credentials: ask with node's https.)
    const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    const status = await new Promise<number>((ok, fail) => {
      httpsGet(`${url}/api/v1/namespaces`, { ca }, (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      }).on('error', fail);
    });
    assert.equal(status, 401);

    const signed = await run(process.execPath, [MARGAY, 'token', 'client-cert', '--data-dir', dataDir, '--user', 'carol', '--group', 'margay:network-admins', '--out', join(dir, 'carol')]);
    assert.equal(signed.code, 0, signed.stderr);
    const kc = withUser('carol', { 'client-certificate': join(dir, 'carol.crt'), 'client-key': join(dir, 'carol.key') });
    const list = await kubectl(kc, 'get', 'globalnetworkpolicies.projectcalico.org');
    assert.equal(list.code, 0, list.stderr);
    assert.equal((await kubectl(kc, 'auth', 'can-i', 'create', 'globalnetworkpolicies.projectcalico.org')).stdout.trim(), 'yes');
    assert.equal((await kubectl(kc, 'auth', 'can-i', 'create', 'clusterroles')).stdout.trim(), 'no');
    writeFileSync(join(dir, 'ns2.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'carol-ns' } }));
    const denied = await kubectl(kc, 'create', '-f', join(dir, 'ns2.json'));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /User "carol" cannot create resource "namespaces"/);

    // A certificate from another CA is not a user (and, with no token either, 401).
    const other = mkdtempSync(join(dir, 'other-ca-'));
    const openssl = (...args: string[]) => run('openssl', args);
    await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(other, 'ca.key'), '-out', join(other, 'ca.crt'), '-days', '1', '-subj', '/CN=evil-ca');
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(other, 'm.key'), '-out', join(other, 'm.csr'), '-subj', '/CN=mallory/O=system:masters');
    await openssl('x509', '-req', '-in', join(other, 'm.csr'), '-CA', join(other, 'ca.crt'), '-CAkey', join(other, 'ca.key'), '-set_serial', '7', '-days', '1', '-out', join(other, 'm.crt'));
    const forged = await kubectl(withUser('mallory', { 'client-certificate': join(other, 'm.crt'), 'client-key': join(other, 'm.key') }), 'get', 'namespaces');
    assert.notEqual(forged.code, 0);
    assert.match(forged.stderr, /Unauthorized|provide credentials/i);
  });

  it('--tls with --insecure is a usage error', async () => {
    const r = await run(process.execPath, [MARGAY, 'up', '--listen', '127.0.0.1:0', '--tls', '--insecure', '--data-dir', join(dir, 'x')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--insecure: expected either --tls or --insecure/);
  });
});

// A non-loopback address gets TLS without asking. Run inside a lab network namespace (a veth
// pair with both ends inside it, linked to nothing) so nothing listens on the machine's real interfaces.
const NETNS = `mgy-tls-${process.pid}`;
const canNetns = process.getuid?.() === 0 && existsSync('/usr/sbin/ip');

describe('margay up on a non-loopback address serves TLS by default', { timeout: 120_000, skip: canNetns ? false : 'needs root and iproute2 for a network namespace' }, () => {
  let dir: string;
  let child: ChildProcess | undefined;
  const ip = (...args: string[]) => run('ip', args);
  const inNs = (cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', NETNS, cmd, ...args]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-tls-netns-'));
    for (const args of [['netns', 'add', NETNS], ['-n', NETNS, 'link', 'set', 'lo', 'up'], ['-n', NETNS, 'link', 'add', 'mgy0', 'type', 'veth', 'peer', 'name', 'mgy1'], ['-n', NETNS, 'link', 'set', 'mgy1', 'up'], ['-n', NETNS, 'addr', 'add', '10.213.0.1/24', 'dev', 'mgy0'], ['-n', NETNS, 'link', 'set', 'mgy0', 'up']]) {
      const r = await ip(...args);
      assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    }
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await ip('netns', 'del', NETNS);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves https on 10.213.0.1 with the address in the certificate; kubectl verifies it with the kubeconfig CA', async () => {
    const dataDir = join(dir, 'data');
    child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, MARGAY, 'up', '--listen', '10.213.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`margay up did not start: ${out}`)), 30_000);
      child?.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (https?:\/\/\S+)/.exec(out);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          ok(m[1]);
        }
      });
    });
    assert.match(url, /^https:\/\/10\.213\.0\.1:\d+$/);
    const cert = await run('openssl', ['x509', '-in', join(dataDir, 'pki', 'server.crt'), '-noout', '-ext', 'subjectAltName']);
    assert.match(cert.stdout, /IP Address:10\.213\.0\.1/);
    const r = await inNs(KUBECTL, '--kubeconfig', join(dataDir, 'kubeconfig'), 'get', 'namespaces', '-o', 'name');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/default/);
  });
});
