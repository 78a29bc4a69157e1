// Every command the lab runs against the kernel goes through here, and here is where the safety
// rule lives: the lab only ever touches network namespaces named `mgy-…`, and never runs an `ip`
// command in the machine's own namespace (so it can make no link, route or NAT there).
import { execFile, spawn } from 'node:child_process';
import { BugError } from '../errors/index.js';

export const LAB_PREFIX = 'mgy-';
const NS_NAME = /^mgy-[a-z0-9][a-z0-9-]{0,40}$/;
/** Linux limits interface names to 15 bytes. */
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export function assertLabNamespace(ns: string): void {
  if (!NS_NAME.test(ns)) throw new BugError(`refusing to touch network namespace ${JSON.stringify(ns)}: lab namespaces are named mgy-…`);
}

export function assertInterfaceName(name: string): void {
  if (!IFNAME.test(name)) throw new BugError(`interface name ${JSON.stringify(name)} is not a valid Linux interface name (at most 15 characters)`);
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], input?: string, timeoutMs = 15_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr: err !== null && stderr === '' ? String(err.message) : stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

async function must(file: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(file, args, input);
  if (r.code !== 0) throw new LabCommandError(`${file} ${args.join(' ')}`, r.stderr.trim());
  return r.stdout;
}

/** A kernel command the lab needed failed (missing iproute2, not root, no netns support…). */
export class LabCommandError extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(`${command}: ${detail}`);
    this.name = 'LabCommandError';
  }
}

export async function addNamespace(ns: string): Promise<void> {
  assertLabNamespace(ns);
  await must('ip', ['netns', 'add', ns]);
  // Loopback up, so a pod can reach itself and responders can bind.
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

export async function deleteNamespace(ns: string): Promise<void> {
  assertLabNamespace(ns);
  const r = await run('ip', ['netns', 'delete', ns]);
  if (r.code !== 0 && !/No such file|not found|does not exist/i.test(r.stderr)) throw new LabCommandError(`ip netns delete ${ns}`, r.stderr.trim());
}

/** The `mgy-` namespaces that exist now. */
export async function listLabNamespaces(): Promise<string[]> {
  const out = await must('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(LAB_PREFIX));
}

/** Runs `ip -n NS -batch -`: many iproute2 commands inside one lab namespace, one process. */
export async function ipBatch(ns: string, commands: readonly string[]): Promise<void> {
  assertLabNamespace(ns);
  if (commands.length === 0) return;
  await must('ip', ['-n', ns, '-batch', '-'], `${commands.join('\n')}\n`);
}

/** `ip -force -batch`: like ipBatch, but a failing command (a route already gone) does not stop the rest. */
export async function ipBatchForced(ns: string, commands: readonly string[]): Promise<void> {
  assertLabNamespace(ns);
  if (commands.length === 0) return;
  await run('ip', ['-n', ns, '-force', '-batch', '-'], `${commands.join('\n')}\n`);
}

/** Writes a sysctl inside a lab namespace (`/proc/sys` is per network namespace). */
export async function sysctl(ns: string, key: string, value: string): Promise<void> {
  assertLabNamespace(ns);
  if (!/^net\.[a-zA-Z0-9_.-]+$/.test(key)) throw new BugError(`sysctl ${key}: the lab only sets net.* keys`);
  await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Pids of the processes inside a lab namespace. */
export async function pidsIn(ns: string): Promise<number[]> {
  assertLabNamespace(ns);
  const r = await run('ip', ['netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

/** Runs a program inside a lab namespace and collects its output. */
export function execIn(ns: string, argv: readonly string[], input?: string, timeoutMs?: number): Promise<CommandResult> {
  assertLabNamespace(ns);
  return run('ip', ['netns', 'exec', ns, ...argv], input, timeoutMs);
}

/** Starts a long-lived program inside a lab namespace, detached from this process; returns its pid. */
export function spawnIn(ns: string, argv: readonly string[], logFd: number, env: NodeJS.ProcessEnv = process.env): number {
  assertLabNamespace(ns);
  return spawnDetached(['ip', 'netns', 'exec', ns, ...argv], logFd, env);
}

/** Starts a long-lived program in this namespace (the control plane, an agent), detached. */
export function spawnDetached(argv: readonly string[], logFd: number, env: NodeJS.ProcessEnv = process.env): number {
  const [file, ...args] = argv;
  if (file === undefined) throw new BugError('spawnDetached: empty argv');
  const child = spawn(file, args, { detached: true, stdio: ['ignore', logFd, logFd], env });
  child.unref();
  if (child.pid === undefined) throw new LabCommandError(argv.join(' '), 'could not start the process');
  return child.pid;
}
