// One store watch over the whole registry, fanned out to every API watch (like
// kube-apiserver's cacher). Recent events stay in a ring buffer, so a watch that starts
// at a recent resourceVersion is served from memory; older ones fall back to the store's
// own history, and a compacted one ends with 410 Expired.
import type { KeyValue, Store, WatchEvent, Watcher } from '../storage/store.js';
import { CompactedError } from '../storage/store.js';
import type { KObject } from '../api/types.js';

/** A store event with its decoded objects computed at most once, shared by every watcher. */
export class CachedEvent {
  private obj?: KObject;
  private prevObj?: KObject | null;
  /** Serialized forms, keyed by the watcher's output format. */
  readonly encoded = new Map<string, string>();

  constructor(readonly ev: WatchEvent) {}

  get revision(): number {
    return this.ev.kv.modRevision;
  }
  get key(): string {
    return this.ev.kv.key;
  }
  get type(): WatchEvent['type'] {
    return this.ev.type;
  }
  /** The object after the event (for DELETE: its last state, at the delete's revision). */
  object(): KObject {
    if (!this.obj) this.obj = decodeKV(this.ev.kv);
    return this.obj;
  }
  /** The object before the event, if any. */
  previous(): KObject | undefined {
    if (this.prevObj === undefined) this.prevObj = this.ev.prevKv ? decodeKV(this.ev.prevKv) : null;
    return this.prevObj ?? undefined;
  }
}

export function decodeKV(kv: KeyValue): KObject {
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/** Delivered to every watcher when the API server stops: the watch ends because the server is going away. */
export class WatchCacheStoppedError extends Error {
  constructor() {
    super('apiserver is shutting down');
  }
}

export interface CacheSubscriber {
  prefix: string;
  onEvent(ev: CachedEvent): void;
  onError(err: Error): void;
}

export interface Subscription {
  cancel(): void;
}

export class WatchCache {
  private buffer: CachedEvent[] = [];
  private head = 0; // index of the oldest event in the ring
  private size = 0;
  /** Events with revision > oldestRevision are all in the buffer. */
  private oldestRevision = 0;
  private revision = 0;
  private subscribers = new Set<CacheSubscriber>();
  private watcher?: Watcher;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly capacity = 20000,
    private readonly prefix = '/registry/',
  ) {
    this.buffer = new Array(capacity);
  }

  async start(): Promise<void> {
    const rev = await this.store.currentRevision();
    this.revision = rev;
    this.oldestRevision = rev;
    this.startWatch(rev);
  }

  private startWatch(from: number): void {
    this.watcher = this.store.watch(this.prefix, from, {
      onEvents: (events) => this.ingest(events),
      onError: (err) => {
        if (this.stopped) return;
        // The store watch failed (etcd restart, compaction). Subscribers re-list on 410;
        // the cache restarts from the current revision.
        for (const s of this.subscribers) s.onError(err instanceof CompactedError ? err : new CompactedError(this.revision, this.revision));
        this.subscribers.clear();
        void this.store.currentRevision().then(
          (rev) => {
            if (this.stopped) return;
            this.buffer = new Array(this.capacity);
            this.head = 0;
            this.size = 0;
            this.revision = rev;
            this.oldestRevision = rev;
            this.startWatch(rev);
          },
          () => setTimeout(() => !this.stopped && this.startWatch(this.revision), 1000),
        );
      },
    });
  }

  private ingest(events: WatchEvent[]): void {
    for (const e of events) {
      if (e.kv.modRevision <= this.revision) continue;
      const ce = new CachedEvent(e);
      if (this.size === this.capacity) {
        this.oldestRevision = this.buffer[this.head]!.revision;
        this.head = (this.head + 1) % this.capacity;
        this.size--;
      }
      this.buffer[(this.head + this.size) % this.capacity] = ce;
      this.size++;
      this.revision = ce.revision;
      for (const s of this.subscribers) {
        if (ce.key.startsWith(s.prefix)) s.onEvent(ce);
      }
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rev <= this.revision);
      this.waiters = this.waiters.filter((w) => w.rev > this.revision);
      for (const w of ready) w.resolve();
    }
  }

  /** The newest revision the cache has seen. */
  currentRevision(): number {
    return this.revision;
  }

  /** Resolves once the cache has seen `rev` (or rejects after timeoutMs). */
  waitFor(rev: number, timeoutMs: number): Promise<boolean> {
    if (rev <= this.revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { rev, resolve: () => resolve(true) };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(false);
        }
      }, timeoutMs).unref();
    });
  }

  /**
   * Delivers every event under prefix with revision > fromRevision, then live ones.
   * From the buffer when it reaches back far enough, else from the store's history.
   */
  subscribe(prefix: string, fromRevision: number, sub: Omit<CacheSubscriber, 'prefix'>): Subscription {
    const s: CacheSubscriber = { prefix, ...sub };
    if (fromRevision >= this.oldestRevision) {
      // Replay synchronously from the buffer, then join live delivery: no gap, no duplicate.
      for (let i = 0; i < this.size; i++) {
        const ce = this.buffer[(this.head + i) % this.capacity]!;
        if (ce.revision > fromRevision && ce.key.startsWith(prefix)) s.onEvent(ce);
      }
      this.subscribers.add(s);
      return { cancel: () => this.subscribers.delete(s) };
    }
    // Older than the buffer: this watcher reads the store's own history (and then its live stream).
    let cancelled = false;
    let last = fromRevision;
    const w = this.store.watch(prefix, fromRevision, {
      onEvents: (events) => {
        if (cancelled) return;
        for (const e of events) {
          if (e.kv.modRevision <= last) continue;
          last = e.kv.modRevision;
          s.onEvent(new CachedEvent(e));
        }
      },
      onError: (err) => {
        if (!cancelled) s.onError(err);
      },
    });
    return {
      cancel: () => {
        cancelled = true;
        w.cancel();
      },
    };
  }

  watcherCount(): number {
    return this.subscribers.size;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.cancel();
    for (const s of this.subscribers) s.onError(new WatchCacheStoppedError());
    this.subscribers.clear();
  }
}
