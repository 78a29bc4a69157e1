// Opens the backend a configuration names; the one place that knows all three.
import { UserError } from '../errors/index.js';
import { EtcdStore } from './etcd.js';
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type StoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | { readonly kind: 'etcd'; readonly endpoints: readonly string[]; readonly prefix?: string };

/**
 * Opens a store. For etcd it also makes one round trip, so an unreachable etcd fails here with
 * a message naming the endpoints rather than on the first request.
 */
export async function openStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case 'memory':
      return new MemoryStore();
    case 'sqlite':
      return new SqliteStore({ dataDir: config.dataDir });
    case 'etcd': {
      if (config.endpoints.length === 0) throw new UserError({ path: 'endpoints', message: 'expected at least one etcd endpoint' });
      const store = new EtcdStore(config.prefix === undefined ? { endpoints: config.endpoints } : { endpoints: config.endpoints, prefix: config.prefix });
      try {
        await store.currentRevision();
      } catch (err) {
        await store.close();
        const reason = err instanceof Error ? err.message : String(err);
        throw new UserError({ message: `cannot reach etcd at ${config.endpoints.join(', ')}: ${reason}` });
      }
      return store;
    }
  }
}
