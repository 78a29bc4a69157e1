// `margay up` serves the console: public static files (with a CSP and cache headers), a clear page
// when the console is not built, no file outside console/dist, and the API still needing a token.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createApiServer, type ApiServer } from '../../src/api/index.js';
import { consoleExtension } from '../../src/console/index.js';
import { openStore, type Store } from '../../src/store/index.js';

let dir: string;
let dist: string;
let server: ApiServer;
let store: Store;
let url: string;
const TOKEN = 'test-token-0123456789';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'margay-console-serve-'));
  dist = join(dir, 'dist');
  store = await openStore({ kind: 'memory' });
  server = await createApiServer({
    store,
    log: () => undefined,
    authenticate: (t) => (t === TOKEN ? { name: 'admin', groups: ['system:masters'] } : undefined),
    extensions: [consoleExtension({ dist: `${dist}/` })],
  });
  url = (await server.listen('127.0.0.1', 0)).url;
  server.setReady(true);
});

after(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('without a build, /console/ says how to build it and the API is unaffected', async () => {
  const res = await fetch(`${url}/console/`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /npm run build/);
  const api = await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(api.status, 200);
});

test('the built console is public; the API still needs a token', async () => {
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Margay console</title>');
  writeFileSync(join(dist, 'assets', 'main-abc123.js'), 'console.log(1)');
  const page = await fetch(`${url}/console/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const asset = await fetch(`${url}/console/assets/main-abc123.js`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /javascript/);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  assert.equal((await fetch(`${url}/console/assets/missing.js`)).status, 404);
  const redirect = await fetch(`${url}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  // Any other path is the app (hash routes) or not ours (fetch resolves %2e%2e), never a file outside dist.
  for (const path of ['/console/..%2F..%2Fpackage.json', '/console/%2e%2e/%2e%2e/etc/passwd', '/console/graph']) {
    const res = await fetch(`${url}${path}`);
    const text = await res.text();
    assert.ok([200, 401, 404].includes(res.status), `${path}: ${res.status}`);
    assert.doesNotMatch(text, /"name": "margay"|root:/, path);
  }
  assert.equal((await fetch(`${url}/api/v1/namespaces`)).status, 401);
});
