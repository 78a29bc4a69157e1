// The lab's state file (`DIR/state.json`): everything `lab down` needs to undo a lab, also after a
// crash. It is written before each namespace or process is made, so it never knows less than the
// kernel holds; `lab down` also sweeps every `mgy-<id>-*` namespace it finds.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { UserError } from '../errors/index.js';
import type { AllocationBlock, IpPoolConfig } from '../ipam/index.js';
import type { LabNode, LabPod } from './topology.js';

export interface LabProcess {
  readonly pid: number;
  /** Kernel start time (clock ticks since boot), so a recycled pid is never killed. */
  readonly startTime: string | undefined;
  readonly role: 'control-plane' | 'responder' | 'agent';
  readonly netns?: string;
  readonly node?: string;
  /** How it was started (agents: so a restart runs it the same way, state file included). */
  readonly argv?: readonly string[];
}

export interface LabState {
  readonly version: 1;
  readonly id: string;
  readonly dir: string;
  readonly createdAt: string;
  readonly fabricNetns: string;
  readonly internetNetns: string;
  /** Every network namespace the lab made or was about to make. */
  namespaces: string[];
  processes: LabProcess[];
  nodes: LabNode[];
  pods: LabPod[];
  nextPodIndex: number;
  pools: IpPoolConfig[];
  blocks: AllocationBlock[];
  /** The kubeconfig of the cluster the lab registers into. */
  kubeconfig?: string;
  context?: string;
  /** Set when the lab started its own control plane (its data lives under DIR). */
  controlPlaneDir?: string;
  /** Directories `up` created (deepest first); `down` removes them when empty. */
  madeDirs?: string[];
  /** Whether nodes run an agent (policies enforced) or not. */
  agent: boolean;
  /** Whether the agents are margay's own, which report readiness and revisions on their Node. */
  agentReports?: boolean;
}

export const stateFile = (dir: string): string => join(dir, 'state.json');

export function saveState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true });
  const path = stateFile(state.dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function loadState(dir: string): LabState | undefined {
  const path = stateFile(dir);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError({ file: path, message: `cannot read the lab's state: ${err instanceof Error ? err.message : String(err)}` });
  }
  const s = parsed as Partial<LabState>;
  if (s.version !== 1 || typeof s.id !== 'string' || !/^[a-z0-9]{1,8}$/.test(s.id) || !Array.isArray(s.namespaces) || !Array.isArray(s.processes)) {
    throw new UserError({ file: path, message: 'not a lab state file this version of margay understands' });
  }
  return parsed as LabState;
}

export function requireState(dir: string): LabState {
  const s = loadState(dir);
  if (s === undefined) throw new UserError({ path: '--lab-dir', message: `no lab in ${dir}; start one with \`margay lab up -f FILE\`` });
  return s;
}

/** The start time of a process (field 22 of /proc/PID/stat), or undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` holding the lab's lock (`DIR/state.lock`, holding the owner's pid), so concurrent
 * `lab apply` and `lab delete` (two shells, or the churn bench's two loops) never write the state
 * from stale copies. A lock whose owner is gone is taken over.
 */
export async function withLabLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const path = join(dir, 'state.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number(readFileSync(path, 'utf8').trim() || 'NaN');
      } catch {
        continue; // released meanwhile
      }
      if (Number.isInteger(owner) && owner > 0 && processStartTime(owner) === undefined) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new UserError({ file: path, message: `the lab is locked by process ${owner}; remove the file if that process is gone` });
      await sleep(10);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
