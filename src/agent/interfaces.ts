// Which host-side interface each pod is attached by: a small JSON file the node's network owner
// writes (the lab: `DIR/run/interfaces.json`), re-read when it changes. Never guessed: a pod that
// is not in the file has no dispatch entry, so the renderer drops its traffic (fail closed).
import { readFileSync, statSync } from 'node:fs';
import type { Entity } from '../policy/index.js';
import { parseIp } from '../net/index.js';

/** `{"podInterfacePrefix": "mgp", "pods": {"ns/name": "mgp3"}}` */
export interface InterfaceMapFile {
  readonly podInterfacePrefix?: string;
  readonly pods: Readonly<Record<string, string>>;
}

export class InterfaceMap {
  private pods = new Map<string, string>();
  /** The node's own addresses → interface (from `ip -j addr`), for host endpoints without interfaceName. */
  private hostAddresses = new Map<string, string>();
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

  /** Replaces the node's address → interface table; true when it changed. */
  setHostAddresses(next: ReadonlyMap<string, string>): boolean {
    const changed = next.size !== this.hostAddresses.size || [...next].some(([k, v]) => this.hostAddresses.get(k) !== v);
    this.hostAddresses = new Map(next);
    return changed;
  }

  /**
   * The renderer's `interfaceOf`: a pod's host-side veth; for a host endpoint that names no
   * interface, the interface holding one of its expectedIPs (as Calico does); else undefined
   * (left undispatched).
   */
  interfaceOf = (endpoint: Entity): string | undefined => {
    if (endpoint.kind === 'hostEndpoint') {
      for (const ip of endpoint.ips) {
        const iface = this.hostAddresses.get(ip.text);
        if (iface !== undefined) return iface;
      }
      return undefined;
    }
    if (!endpoint.id.startsWith('pod:')) return undefined;
    return this.pods.get(endpoint.id.slice('pod:'.length));
  };
}

/** `ip -j addr` output → address → interface (loopback left out: never a host endpoint). */
export function parseIpAddr(json: string): Map<string, string> {
  const out = new Map<string, string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return out;
  }
  if (!Array.isArray(parsed)) return out;
  for (const link of parsed as { ifname?: unknown; addr_info?: { local?: unknown }[] }[]) {
    if (typeof link.ifname !== 'string' || link.ifname === 'lo') continue;
    for (const a of link.addr_info ?? []) {
      const ip = typeof a.local === 'string' ? parseIp(a.local) : undefined;
      if (ip !== undefined) out.set(ip.text, link.ifname);
    }
  }
  return out;
}
