// What the live demo needs from the machine, and getting it: root (network namespaces), iproute2,
// nftables, conntrack, and ulogd2 with its JSON plugin (the agents' flow logs). As root, missing Debian packages are installed with apt; otherwise the
// demo says exactly what is missing and falls back to recorded data.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ULOGD_BINARY, ulogdPluginDir } from '../collector/index.js';

export interface Requirement {
  readonly command: string;
  readonly debianPackage: string;
  /** How to tell it is there, when it is not a command on PATH. */
  readonly present?: () => boolean;
}

export const LIVE_REQUIREMENTS: readonly Requirement[] = [
  { command: 'ip', debianPackage: 'iproute2' },
  { command: 'nft', debianPackage: 'nftables' },
  { command: 'conntrack', debianPackage: 'conntrack' },
  { command: 'ulogd', debianPackage: 'ulogd2', present: () => existsSync(ULOGD_BINARY) },
  { command: 'ulogd JSON output plugin', debianPackage: 'ulogd2-json', present: () => { const d = ulogdPluginDir(); return d !== undefined && existsSync(`${d}/ulogd_output_JSON.so`); } },
];

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

export interface LiveCheck {
  readonly ok: boolean;
  /** Sentences naming what is missing (empty when ok). */
  readonly missing: readonly string[];
}

/** Whether the live demo can run here; as root, installs missing packages first (`install`). */
export function checkLive(log: (line: string) => void, install = true): LiveCheck {
  const missingPackages = (): Requirement[] => LIVE_REQUIREMENTS.filter((r) => !(r.present?.() ?? hasCommand(r.command)));
  if (!isRoot()) {
    const pkgs = missingPackages();
    return {
      ok: false,
      missing: [
        'root (the lab makes network namespaces and nftables rules): run `sudo npm start` or `sudo margay up --demo`',
        ...pkgs.map((r) => `the \`${r.command}\` command (Debian package ${r.debianPackage})`),
      ],
    };
  }
  let pkgs = missingPackages();
  if (pkgs.length > 0 && install && hasCommand('apt-get')) {
    const names = pkgs.map((r) => r.debianPackage);
    log(`demo: installing ${names.join(' ')} with apt-get`);
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'ignore', env, timeout: 300_000 });
    } catch {
      try {
        execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
      } catch (err) {
        log(`demo: apt-get could not install ${names.join(' ')}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }
    pkgs = missingPackages();
  }
  return { ok: pkgs.length === 0, missing: pkgs.map((r) => `the \`${r.command}\` command (Debian package ${r.debianPackage})`) };
}
