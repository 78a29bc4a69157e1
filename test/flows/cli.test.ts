// `margay flows` as a user runs it, against a real `margay up`: retention applied at start
// (--flow-retention, --flow-max-rows), columns, filters, -o json, --top, errors, and -f.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MARGAY, runMargay, startMargayUp, type MargayServer } from '../support/margay.js';
import { SqliteFlowStore, FLOWS_DB_FILE, type FlowLog } from '../../src/flows/index.js';
import { batch, flowLog, pod } from '../../src/flows/store.contract.js';

const DAY = 86_400_000;

describe('margay flows against margay up', () => {
  let dir: string;
  let server: MargayServer;
  let kubeconfig: string;
  const now = Date.now();
  const recent = (over: Partial<FlowLog>): FlowLog => flowLog({ startTime: now - 120_000, endTime: now - 105_000, ...over });

  const post = async (logs: FlowLog[]): Promise<void> => {
    const token = /token: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1];
    const res = await fetch(`${server.url}/apis/flows.margay.io/v1/flowbatches`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(batch(logs)),
    });
    assert.equal(res.status, 201, await res.text());
  };
  const flows = (...args: string[]) => runMargay(['flows', '--kubeconfig', kubeconfig, ...args]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'margay-flows-cli-'));
    kubeconfig = join(dir, 'kubeconfig');
    // Flows from before this start: two older than the retention, five recent of which three fit the row bound.
    const store = new SqliteFlowStore({ file: join(dir, FLOWS_DB_FILE) });
    await store.append(batch([
      flowLog({ startTime: now - 10 * DAY, endTime: now - 10 * DAY + 15_000, bytesIn: 1 }),
      flowLog({ startTime: now - 8 * DAY, endTime: now - 8 * DAY + 15_000, bytesIn: 2 }),
      ...[3, 4, 5, 6, 7].map((b) => recent({ bytesIn: b, source: pod('old', 'x-1'), dest: pod('old', 'y-1', {}, 1) })),
    ]));
    await store.close();
    server = await startMargayUp(['--data-dir', dir, '--flow-retention', '7d', '--flow-max-rows', '3']);
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applied retention by age and row count at start', async () => {
    const r = await flows('-o', 'json', '--since', '30d');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: FlowLog[] };
    assert.equal(list.kind, 'FlowLogList');
    assert.deepEqual(list.items.map((l) => l.bytesIn), [7, 6, 5]);
  });

  it('prints readable columns, filters, JSON and top talkers', async () => {
    await post([
      recent({ source: pod('team-a', 'client-1', { app: 'client' }), dest: pod('team-a', 'web-1', { app: 'web' }, 80), bytesIn: 1000, bytesOut: 2000, packetsIn: 10, packetsOut: 12 }),
      recent({ source: { type: 'net', namespace: '-', name: '-', nameAggr: 'pub', labels: {}, ip: '203.0.113.9', port: 0 }, dest: pod('team-a', 'db-1', { app: 'db' }, 5432), action: 'deny', policy: 'team-a/knp.default.deny-db', reporter: 'dst', numFlows: 5, bytesIn: 0, bytesOut: 300 }),
      recent({ source: pod('team-b', 'api-1', { app: 'api' }), dest: pod('team-b', 'cache-1', { app: 'cache' }, 6379), proto: 'tcp', reporter: 'src', host: 'node-2' }),
    ]);
    const all = await flows();
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+REPORTER\s+SRC\s+DST\s+PROTO\/PORT\s+ACTION\s+POLICY\s+PKTS\s+BYTES$/);
    assert.equal(lines.length, 1 + 6);
    const web = lines.find((l) => l.includes('team-a/web-1'))!;
    assert.match(web, /dst\s+team-a\/client-1\s+team-a\/web-1\s+tcp\/80\s+allow\s+a\/knp\.default\.allow-web\s+22\s+2\.9Ki$/);
    assert.match(lines.find((l) => l.includes('db-1'))!, /203\.0\.113\.9\s+team-a\/db-1\s+tcp\/5432\s+deny\s+team-a\/knp\.default\.deny-db/);

    const ns = await flows('-n', 'team-a', '-o', 'json');
    assert.deepEqual((JSON.parse(ns.stdout) as { items: FlowLog[] }).items.map((l) => l.dest.name).sort(), ['db-1', 'web-1']);
    const denied = await flows('--action', 'deny', '-o', 'json');
    assert.deepEqual((JSON.parse(denied.stdout) as { items: FlowLog[] }).items.map((l) => l.dest.name), ['db-1']);
    const sel = await flows('-l', 'app == "cache"', '--port', '6379', '--proto', 'TCP', '--reporter', 'src', '-o', 'json');
    assert.deepEqual((JSON.parse(sel.stdout) as { items: FlowLog[] }).items.map((l) => l.source.name), ['api-1']);
    const pod1 = await flows('-n', 'team-b', '--pod', 'cache-1', '-o', 'wide');
    assert.match(pod1.stdout, /HOST\s+TIER\s+RULE\s+FLOWS\s+PENDING/);
    assert.match(pod1.stdout, /node-2\s+default\s+0\s+1\s+-/);
    const policy = await flows('--policy', 'deny-db', '-o', 'json');
    assert.equal((JSON.parse(policy.stdout) as { items: FlowLog[] }).items.length, 1);
    const none = await flows('-n', 'nobody-here');
    assert.equal(none.code, 0);
    assert.match(none.stderr, /No flows found/);

    const top = await flows('--top', 'denied');
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^SOURCE\s+DEST\s+FLOWS\s+DENIED\s+PKTS\s+BYTES\n/);
    assert.match(top.stdout, /pub\s+team-a\/db-\*\s+5\s+5\s/);
    const topBytes = await flows('--top', 'bytes', '--group', 'source', '-n', 'team-a', '-o', 'json');
    const items = (JSON.parse(topBytes.stdout) as { items: { source: { nameAggr: string }; dest?: unknown }[] }).items;
    assert.equal(items[0]!.source.nameAggr, 'client-*');
    assert.equal(items[0]!.dest, undefined);
  });

  it('kubectl get --raw reads the API (no discovery needed)', { skip: !existsSync('/usr/bin/kubectl') && 'kubectl is not installed' }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/apis/flows.margay.io/v1/namespaces/team-a/flowlogs?action=deny'], (err, stdout, stderr) =>
        done({ code: err === null ? 0 : 1, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: FlowLog[] };
    assert.equal(list.kind, 'FlowLogList');
    assert.deepEqual(list.items.map((l) => l.dest.name), ['db-1']);
  });

  it('reports bad input: a flag it cannot parse (exit 2) or the server\'s 400 naming the parameter (exit 1)', async () => {
    const since = await flows('--since', 'yesterday');
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since/);
    const sel = await flows('-l', 'app ==');
    assert.equal(sel.code, 1);
    assert.match(sel.stderr, /Error from server \(BadRequest\): invalid query parameter selector/);
    const port = await flows('--port', '99999');
    assert.equal(port.code, 1);
    assert.match(port.stderr, /parameter port/);
    const action = await flows('--action', 'drop');
    assert.equal(action.code, 2);
    assert.doesNotMatch(action.stderr + since.stderr + sel.stderr, /at .*\.js:\d+/, 'no stack traces');
  });

  it('-f prints new flows as they are stored', async () => {
    const child = spawn(process.execPath, [MARGAY, 'flows', '--kubeconfig', kubeconfig, '-f', '-o', 'json', '--interval', '200ms', '-n', 'follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      await post([recent({ source: pod('follow', 'a-1'), dest: pod('follow', 'b-1', {}, 80), bytesIn: 111 })]);
      await waitFor(() => out.includes('"bytesIn":111'), 10_000, `first row, got ${out}`);
      await post([recent({ source: pod('follow', 'a-1'), dest: pod('follow', 'b-1', {}, 80), bytesIn: 222 }), recent({ source: pod('elsewhere', 'a-1'), bytesIn: 333 })]);
      await waitFor(() => out.includes('"bytesIn":222'), 10_000, `followed row, got ${out}`);
      await new Promise((r) => setTimeout(r, 500));
      const rows = out.trim().split('\n').map((l) => JSON.parse(l) as FlowLog);
      assert.deepEqual(rows.map((l) => l.bytesIn), [111, 222], 'each once, in order, only the namespace asked for');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
