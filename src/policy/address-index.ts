// Which entities stand behind an address: the pods, host endpoints and nodes that have it, and
// the network sets whose nets contain it. A rule selector matches an address when one of them
// matches — exactly the membership of the IP set Calico would build for that selector.
import { cidrContains, type IpAddress } from '../net/index.js';
import type { Entity, EntitySelector } from './model.js';

export function ipKey(ip: IpAddress): string | number {
  return ip.family === 4 ? ip.value : `6:${ip.value}`;
}

export class AddressIndex {
  private readonly byAddress = new Map<string | number, Entity[]>();
  private readonly networkSets: Entity[] = [];
  private readonly resolved = new Map<string | number, readonly Entity[]>();
  private readonly selectorCache = new WeakMap<EntitySelector, Map<string | number, boolean>>();

  constructor(entities: readonly Entity[]) {
    for (const e of entities) {
      if (e.kind === 'networkSet') this.networkSets.push(e);
      // A host-networked pod's address is its node's: the node entity stands behind it, and
      // pod selectors never match it (Calico's IP sets hold workload addresses only).
      if (e.hostNetwork) continue;
      for (const ip of e.ips) {
        const key = ipKey(ip);
        const list = this.byAddress.get(key);
        if (list) list.push(e);
        else this.byAddress.set(key, [e]);
      }
    }
  }

  /** Entities behind an address, network sets included. */
  entitiesAt(ip: IpAddress): readonly Entity[] {
    const key = ipKey(ip);
    let found = this.resolved.get(key);
    if (found) return found;
    const direct = this.byAddress.get(key) ?? [];
    const sets = this.networkSets.filter((s) => s.nets?.some((n) => cidrContains(n, ip)));
    found = sets.length === 0 ? direct : [...direct, ...sets];
    this.resolved.set(key, found);
    return found;
  }

  /** Does any entity behind `ip` match the selector? Cached per selector and address. */
  selectorMatches(sel: EntitySelector, ip: IpAddress): boolean {
    let perIp = this.selectorCache.get(sel);
    if (!perIp) {
      perIp = new Map();
      this.selectorCache.set(sel, perIp);
    }
    const key = ipKey(ip);
    const cached = perIp.get(key);
    if (cached !== undefined) return cached;
    const result = this.entitiesAt(ip).some((e) => entityMatches(sel, e));
    perIp.set(key, result);
    return result;
  }
}

export function entityMatches(sel: EntitySelector, e: Entity): boolean {
  return (sel.kinds === undefined || sel.kinds.has(e.kind)) && sel.selector.matches(e.labels);
}
