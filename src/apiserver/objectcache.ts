// A read-through cache of one resource's objects inside the API server, fed by the watch
// cache, for admission plugins that look objects up on every write (the namespace of each
// create, the PriorityClass of each pod) — what upstream's admission does with informers.
// A miss falls back to a store read, so an object created a moment ago is never missed.
import type { KObject, ResourceDecl } from '../api/types.js';
import type { Registry } from './registry.js';
import { resourcePrefix } from './resources.js';
import type { WatchCache } from './watchcache.js';
import { ApiError } from './errors.js';

export class ObjectCache {
  private objects = new Map<string, KObject>();
  private sub?: { cancel(): void };
  private synced = false;

  constructor(
    private readonly decl: () => ResourceDecl | undefined,
    private readonly registry: Registry,
    private readonly cache: WatchCache,
  ) {}

  async start(): Promise<void> {
    const decl = this.decl();
    if (!decl) return;
    const list = await this.registry.list(decl, '');
    this.objects = new Map(list.items.map((o) => [key(o), o]));
    const prefix = resourcePrefix(decl);
    this.sub = this.cache.subscribe(prefix, Number(list.resourceVersion), {
      onEvent: (ev) => {
        const o = ev.object();
        if (ev.type === 'DELETE') this.objects.delete(key(o));
        else this.objects.set(key(o), o);
      },
      onError: () => {
        // Start over from a fresh list; lookups read the store meanwhile.
        this.synced = false;
        this.sub = undefined;
        setTimeout(() => void this.start().catch(() => {}), 1000).unref();
      },
    });
    this.synced = true;
  }

  stop(): void {
    this.sub?.cancel();
  }

  /** The object (shared: do not mutate), or undefined if it does not exist. */
  async get(namespace: string, name: string): Promise<KObject | undefined> {
    const hit = this.synced ? this.objects.get(namespace ? `${namespace}/${name}` : name) : undefined;
    if (hit) return hit;
    const decl = this.decl();
    if (!decl) return undefined;
    try {
      return await this.registry.get(decl, namespace, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  /** Every cached object (after start). */
  async list(): Promise<KObject[]> {
    if (this.synced) return [...this.objects.values()];
    const decl = this.decl();
    return decl ? (await this.registry.list(decl, '')).items : [];
  }
}

function key(o: KObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!;
}
