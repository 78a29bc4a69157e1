// Runs the nft binary, optionally inside a network namespace (`ip netns exec NAME nft …`).
import { spawn } from 'node:child_process';

export interface NftRunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How the applier reaches nft; tests may substitute one. */
export type NftRunner = (args: readonly string[], stdin?: string) => Promise<NftRunResult>;

export interface NftRunnerOptions {
  /** Run inside this network namespace (must be a `mgy-` lab namespace or a node's own). */
  readonly netns?: string;
  readonly nftPath?: string;
  readonly ipPath?: string;
}

export function nftRunner(options: NftRunnerOptions = {}): NftRunner {
  const nft = options.nftPath ?? '/usr/sbin/nft';
  const ip = options.ipPath ?? '/usr/sbin/ip';
  return (args, stdin) => {
    const [cmd, argv] = options.netns !== undefined ? [ip, ['netns', 'exec', options.netns, nft, ...args]] : [nft, [...args]];
    return run(cmd, argv, stdin);
  };
}

export function run(cmd: string, argv: readonly string[], stdin?: string): Promise<NftRunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve({ code: -1, stdout: '', stderr: String(e) }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}
