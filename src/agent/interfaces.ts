// Which host-side interface each pod is attached by: a small JSON file the node's network owner
// writes (the lab: `DIR/run/interfaces.json`), re-read when it changes. Never guessed: a pod that
// is not in the file has no dispatch entry, so the renderer drops its traffic (fail closed).
import { readFileSync, statSync } from 'node:fs';
import type { Entity } from '../policy/index.js';

/** `{"podInterfacePrefix": "mgp", "pods": {"ns/name": "mgp3"}}` */
export interface InterfaceMapFile {
  readonly podInterfacePrefix?: string;
  readonly pods: Readonly<Record<string, string>>;
}

export class InterfaceMap {
  private pods = new Map<string, string>();
  private prefix: string | undefined;
  private stamp = '';

  constructor(
    private readonly file: string | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.refresh();
  }

  get podInterfacePrefix(): string | undefined {
    return this.prefix;
  }

  /** Re-reads the file if it changed; true when the map changed. */
  refresh(): boolean {
    if (this.file === undefined) return false;
    let stamp: string;
    try {
      const s = statSync(this.file);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    let parsed: InterfaceMapFile;
    try {
      parsed = stamp === 'missing' ? { pods: {} } : (JSON.parse(readFileSync(this.file, 'utf8')) as InterfaceMapFile);
    } catch (err) {
      this.log(`cannot read the interface map ${this.file}: ${err instanceof Error ? err.message : String(err)}; keeping the previous one`);
      this.stamp = '';
      return false;
    }
    const next = new Map(Object.entries(parsed.pods ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const changed = next.size !== this.pods.size || [...next].some(([k, v]) => this.pods.get(k) !== v);
    this.pods = next;
    if (typeof parsed.podInterfacePrefix === 'string') this.prefix = parsed.podInterfacePrefix;
    return changed;
  }

  /** The renderer's `interfaceOf`: a pod's host-side veth, or undefined (left undispatched). */
  interfaceOf = (endpoint: Entity): string | undefined => {
    if (!endpoint.id.startsWith('pod:')) return undefined;
    return this.pods.get(endpoint.id.slice('pod:'.length));
  };
}
