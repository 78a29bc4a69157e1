// Runs the real `bin/margay` the way a user does — a command, or `margay up` as a server — for
// every suite that drives the product from outside.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root (this file is compiled to dist/test/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MARGAY = join(REPO_ROOT, 'bin', 'margay');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runMargay(args: readonly string[], input?: string, options: { env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const env = options.env !== undefined ? { ...process.env, ...options.env } : process.env;
    const child = execFile(process.execPath, [MARGAY, ...args], { maxBuffer: 256 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : err ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Writes files into a fresh temporary directory; call the returned cleanup when done. */
export function tempFiles(files: Record<string, string>): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'margay-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface MargayServer {
  readonly child: ChildProcess;
  /** The URL `margay up` printed. */
  readonly url: string;
  /** Resolves with the exit code once the server has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM (if still running), then wait for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `margay up --listen 127.0.0.1:0 …args` and resolves once it prints its URL. */
export async function startMargayUp(args: readonly string[]): Promise<MargayServer> {
  const child = spawn(process.execPath, [MARGAY, 'up', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`margay up did not start: ${out}${err}`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    void exited.then((code) => fail(new Error(`margay up exited with ${code}: ${out}${err}`)));
  });
  return {
    child,
    url,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
