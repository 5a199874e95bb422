// Opens the configured backend: etcd when endpoints are given (--datastore-endpoint),
// otherwise the embedded SQLite database under the data directory.

import { join } from 'node:path';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite.js';
import { Compactor } from './compactor.js';

export * from './store.js';
export { SqliteStore } from './sqlite.js';
export { Compactor } from './compactor.js';

export interface OpenStoreOptions {
  dataDir: string;
  /** etcd client URLs; empty or absent selects SQLite. */
  endpoints?: string[];
  etcdPrefix?: string;
  /** How often to compact (default 5 minutes, like kube-apiserver); 0 disables. */
  compactIntervalMs?: number;
  /** History younger than this survives compaction (default: one interval). */
  compactWindowMs?: number;
  /** SQLite durability (default FULL); see sqlite.ts. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  log?: (msg: string, fields?: object) => void;
}

/** The SQLite database file for a data directory. */
export function sqlitePath(dataDir: string): string {
  return join(dataDir, 'db', 'state.db');
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const log = opts.log ?? (() => {});
  let store: Store;
  if (opts.endpoints && opts.endpoints.length > 0) {
    // Loaded only when asked for: the etcd client and gRPC cost memory and start-up time.
    const { EtcdStore } = await import('./etcd.js');
    const etcd = new EtcdStore({ endpoints: opts.endpoints, prefix: opts.etcdPrefix });
    const h = await etcd.health();
    if (!h.ok) {
      await etcd.close();
      throw new Error(`etcd at ${opts.endpoints.join(',')} is not reachable: ${h.message}`);
    }
    log('storage backend ready', { backend: 'etcd', endpoints: opts.endpoints, prefix: opts.etcdPrefix ?? '' });
    store = etcd;
  } else {
    const path = sqlitePath(opts.dataDir);
    store = new SqliteStore({ path, synchronous: opts.sqliteSynchronous });
    log('storage backend ready', { backend: 'sqlite', path });
  }
  const interval = opts.compactIntervalMs ?? 5 * 60_000;
  if (interval > 0) {
    const compactor = new Compactor(store, { intervalMs: interval, windowMs: opts.compactWindowMs ?? interval, log });
    compactor.start();
    // Stop compacting when the store closes.
    const close = store.close.bind(store);
    store.close = async () => {
      compactor.stop();
      await close();
    };
  }
  return store;
}
