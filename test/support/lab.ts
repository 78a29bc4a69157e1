// Lab teardown shared by the suites that build real labs: whatever happened, leave nothing behind.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { labDown, listLabNamespaces, type LabState } from '../../src/lab/index.js';
import { KubeClient, loadKubeconfig } from '../../src/client/index.js';
import { findResourceTypeByKind, type JsonObject } from '../../src/api/index.js';
import { ANNOTATION_READY, ANNOTATION_REVISION, revisionAtLeast } from '../../src/agent/index.js';

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

/** An API client for the lab's own control plane. */
export function labApiClient(state: LabState | undefined): KubeClient {
  assert.ok(state?.kubeconfig, 'the lab has a kubeconfig');
  const access = loadKubeconfig(state.kubeconfig);
  return new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}) });
}

/** The annotations an agent keeps on its Node. */
export async function nodeAnnotations(state: LabState | undefined, node: string): Promise<Record<string, string>> {
  const type = findResourceTypeByKind('v1', 'Node');
  assert.ok(type);
  const obj = await labApiClient(state).get(type, undefined, node);
  return ((obj.metadata as JsonObject).annotations ?? {}) as Record<string, string>;
}

/** Waits until every named node's agent reports ready and (given one) this revision applied; returns ms. */
export async function waitForAgents(state: LabState | undefined, revision: string | undefined, nodes: readonly string[], timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const anns = await Promise.all(nodes.map((n) => nodeAnnotations(state, n)));
    if (anns.every((a) => a[ANNOTATION_READY] === 'true' && (revision === undefined || revisionAtLeast(a[ANNOTATION_REVISION], revision)))) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) assert.fail(`agents did not report ${revision ?? 'ready'}: ${JSON.stringify(anns)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Manifest files a lab suite writes, in order: what it applies, and what simulate reads beside the lab. */
export class ManifestFiles {
  readonly paths: string[] = [];

  constructor(private readonly dir: string) {}

  add(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    this.paths.push(path);
    return path;
  }
}

/** `{"ns/pod": {"ns/pod": true|false}}`, the shape of `simulate --matrix` and `lab probe --matrix`. */
export type Matrix = Record<string, Record<string, boolean>>;
