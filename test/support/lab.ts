// Lab teardown shared by the suites that build real labs: whatever happened, leave nothing behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, listLabNamespaces, type LabState } from '../../src/lab/index.js';

/** `lab down`, then any `mgy-<id>-*` namespace still there (a failed down must not leak). */
export async function removeLab(labDir: string, state: LabState | undefined): Promise<void> {
  if (existsSync(join(labDir, 'state.json'))) await labDown({ dir: labDir }, () => undefined).catch(() => undefined);
  if (state === undefined) return;
  const prefix = `mgy-${state.id}-`;
  for (const ns of (await listLabNamespaces()).filter((n) => n.startsWith(prefix))) execFileSync('ip', ['netns', 'delete', ns]);
}

/** Whether a process is still running (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
