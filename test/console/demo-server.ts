// Starts the real `bin/margay up --demo recorded` on a free port in a temporary data directory and
// waits for the console URL it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARGAY } from '../support/margay.js';

export interface DemoServer {
  readonly child: ChildProcess;
  readonly url: string;
  /** `http://…/console/#token=…` as printed. */
  readonly consoleUrl: string;
  readonly token: string;
  readonly output: () => string;
  stop(): Promise<number | null>;
}

export async function startDemo(extraArgs: readonly string[] = []): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'margay-demo-'));
  const child = spawn(process.execPath, [MARGAY, 'up', '--demo', 'recorded', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const consoleUrl = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`margay up --demo did not print the console URL: ${out}`)), 30_000);
    const check = () => {
      const m = /console: (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => fail(new Error(`margay up --demo exited with ${code}: ${out}`)));
  });
  const url = consoleUrl.split('/console/')[0] ?? '';
  return {
    child,
    url,
    consoleUrl,
    token: consoleUrl.split('#token=')[1] ?? '',
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
