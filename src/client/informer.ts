// A shared informer: list, then watch from the list's resourceVersion, keeping a local
// cache keyed by namespace/name and telling handlers what changed. A watch that ends is
// resumed from the last resourceVersion seen; 410 Gone means re-list.
import type { KObject } from '../api/types.js';
import { call, type Client, type WatchHandle } from './client.js';

export interface EventHandlers {
  onAdd?(obj: KObject): void;
  onUpdate?(oldObj: KObject, newObj: KObject): void;
  onDelete?(obj: KObject): void;
}

export function keyOf(obj: KObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

export type IndexFunc = (obj: KObject) => string[];

export class Informer {
  private cache = new Map<string, KObject>();
  private indexers = new Map<string, IndexFunc>();
  /** index name → index value → object keys */
  private indices = new Map<string, Map<string, Set<string>>>();
  private handlers: EventHandlers[] = [];
  private watch?: WatchHandle;
  private rv = '';
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private retry?: NodeJS.Timeout;

  /** `path` is a collection path such as /api/v1/namespaces or /apis/apps/v1/deployments. */
  constructor(
    private readonly client: Client,
    private readonly path: string,
    private readonly query: Record<string, string> = {},
    /** e.g. the PartialObjectMetadataList media type, for a metadata-only cache. */
    private readonly accept?: string,
  ) {}

  addHandlers(h: EventHandlers): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) h.onAdd?.(o);
  }

  get(key: string): KObject | undefined {
    return this.cache.get(key);
  }

  /** Adds an index (e.g. pods by spec.nodeName); call before start(). */
  addIndexer(name: string, fn: IndexFunc): void {
    this.indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indices.set(name, idx);
    for (const [k, o] of this.cache) for (const v of fn(o)) this.indexAdd(idx, v, k);
  }

  /** Objects whose index `name` contains `value`. Cached objects are shared: never mutate them. */
  byIndex(name: string, value: string): KObject[] {
    const keys = this.indices.get(name)?.get(value);
    if (!keys) return [];
    const out: KObject[] = [];
    for (const k of keys) {
      const o = this.cache.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  private indexAdd(idx: Map<string, Set<string>>, v: string, k: string): void {
    let set = idx.get(v);
    if (!set) idx.set(v, (set = new Set()));
    set.add(k);
  }

  /** Keeps the cache and every index in step. */
  private setObject(k: string, obj: KObject | undefined): void {
    const old = this.cache.get(k);
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name)!;
      if (old) for (const v of fn(old)) {
        const set = idx.get(v);
        set?.delete(k);
        if (set && set.size === 0) idx.delete(v);
      }
      if (obj) for (const v of fn(obj)) this.indexAdd(idx, v, k);
    }
    if (obj) this.cache.set(k, obj);
    else this.cache.delete(k);
  }

  list(): KObject[] {
    return [...this.cache.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    if (this.retry) clearTimeout(this.retry);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await call<{ metadata: { resourceVersion: string }; items: KObject[] }>(this.client, 'GET', this.path, {
        query: this.query,
        accept: this.accept,
      });
      const seen = new Set<string>();
      for (const item of list.items) {
        const k = keyOf(item);
        seen.add(k);
        const old = this.cache.get(k);
        this.setObject(k, item);
        if (!old) this.emit((h) => h.onAdd?.(item));
        else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit((h) => h.onUpdate?.(old, item));
      }
      for (const [k, old] of this.cache) {
        if (!seen.has(k)) {
          this.setObject(k, undefined);
          this.emit((h) => h.onDelete?.(old));
        }
      }
      this.rv = list.metadata.resourceVersion;
      if (!this.synced) {
        this.synced = true;
        for (const w of this.syncWaiters) w();
        this.syncWaiters = [];
      }
      this.startWatch();
    } catch {
      this.retry = setTimeout(() => void this.relist(), 1000);
      this.retry.unref?.();
    }
  }

  private startWatch(): void {
    if (this.stopped) return;
    let gone = false;
    this.watch = this.client.watch(
      this.path,
      { ...this.query, resourceVersion: this.rv, allowWatchBookmarks: true },
      (e) => {
        if (e.type === 'ERROR') {
          gone = true;
          return;
        }
        const rv = e.object?.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (e.type === 'BOOKMARK') return;
        const k = keyOf(e.object);
        const old = this.cache.get(k);
        if (e.type === 'DELETED') {
          this.setObject(k, undefined);
          if (old) this.emit((h) => h.onDelete?.(e.object));
        } else {
          this.setObject(k, e.object);
          if (old) this.emit((h) => h.onUpdate?.(old, e.object));
          else this.emit((h) => h.onAdd?.(e.object));
        }
      },
      (err) => {
        if (this.stopped) return;
        if (gone || err) {
          this.retry = setTimeout(() => void this.relist(), gone ? 0 : 1000);
          this.retry.unref?.();
        } else this.startWatch();
      },
      { accept: this.accept },
    );
  }

  private emit(fn: (h: EventHandlers) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch {
        // A handler's bug must not stop the informer.
      }
    }
  }
}
