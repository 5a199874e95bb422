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

export class Informer {
  private cache = new Map<string, KObject>();
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
        this.cache.set(k, item);
        if (!old) this.emit((h) => h.onAdd?.(item));
        else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit((h) => h.onUpdate?.(old, item));
      }
      for (const [k, old] of this.cache) {
        if (!seen.has(k)) {
          this.cache.delete(k);
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
          this.cache.delete(k);
          if (old) this.emit((h) => h.onDelete?.(e.object));
        } else {
          this.cache.set(k, e.object);
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
