// Shared by the API benchmarks: a `margay up` child process (so the server has its own core and
// the load generator another), objects seeded straight into its SQLite store, keep-alive HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../src/store/index.js';

const MARGAY = fileURLToPath(new URL('../../bin/margay', import.meta.url));

export interface BenchServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A GlobalNetworkPolicy as the server stores it. */
export function storedPolicy(i: number): Record<string, unknown> {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: {
      name: `policy-${i}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      generation: 1,
      labels: { team: `team-${i % 20}`, tier: i % 10 === 0 ? 'db' : 'web' },
    },
    spec: {
      tier: 'default',
      order: i,
      selector: `app == "app-${i % 50}"`,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `role == "client-${i % 7}"` }, destination: { ports: [80, 443] } }],
    },
  };
}

/** Seeds `count` policies into a fresh SQLite data dir and starts `margay up` on it. */
export async function startBenchServer(count: number): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'margay-bench-'));
  const store = new SqliteStore({ dataDir });
  for (let i = 0; i < count; i++) await store.create(`/registry/projectcalico.org/globalnetworkpolicies/policy-${i}`, storedPolicy(i));
  await store.close();
  const child: ChildProcess = spawn(process.execPath, [MARGAY, 'up', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`margay up did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`margay up exited with ${code}: ${out}`)));
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export function httpGet(agent: Agent, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function httpSend(agent: Agent, port: number, method: string, path: string, body: string, contentType: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function emit(bench: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench, metric, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}
