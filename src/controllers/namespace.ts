// NamespaceController: a namespace being deleted has everything in it deleted, then its
// `kubernetes` finalizer removed through /finalize, after which the API server removes it.
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath, type Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Logger } from '../util/log.js';

interface APIResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

export class NamespaceController {
  private readonly informer: Informer;
  private readonly queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 30_000 });
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {
    this.informer = new Informer(client, '/api/v1/namespaces');
    this.informer.addHandlers({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_, o) => this.enqueue(o),
    });
  }

  private enqueue(o: KObject): void {
    if (o.metadata.deletionTimestamp) this.queue.add(o.metadata.name!);
  }

  start(workers = 2): void {
    this.informer.start();
    for (let i = 0; i < workers; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.informer.stop();
    this.queue.shutDown();
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const remaining = await this.sync(key);
        if (remaining > 0) this.queue.addAfter(key, 1000);
        else this.queue.forget(key);
      } catch (e) {
        this.log.warn('namespace sync failed', { namespace: key, error: (e as Error).message });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Returns how many objects are still waiting to go (their finalizers or grace periods). */
  async sync(name: string): Promise<number> {
    let ns: KObject;
    try {
      ns = await call<KObject>(this.client, 'GET', `/api/v1/namespaces/${name}`);
    } catch (e) {
      if (isNotFound(e)) return 0;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return 0;
    let remaining = 0;
    for (const r of await this.namespacedResources()) {
      const path = resourcePath(r.group, r.version, r.name, name);
      if (r.verbs.includes('deletecollection')) {
        await call(this.client, 'DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
      }
      const list = await call<{ items: KObject[] }>(this.client, 'GET', path);
      if (!r.verbs.includes('deletecollection')) {
        for (const o of list.items) {
          try {
            await call(this.client, 'DELETE', resourcePath(r.group, r.version, r.name, name, o.metadata.name));
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
      }
      remaining += list.items.length;
    }
    if (remaining > 0) return remaining;
    const finalizers: string[] = ns.spec?.finalizers ?? [];
    if (finalizers.includes('kubernetes')) {
      const next = { ...ns, spec: { ...ns.spec, finalizers: finalizers.filter((f) => f !== 'kubernetes') } };
      try {
        await call(this.client, 'PUT', `/api/v1/namespaces/${name}/finalize`, { body: next });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    this.log.info('namespace deleted', { namespace: name });
    return 0;
  }

  /** Every namespaced resource that can be listed and deleted, from discovery. */
  private async namespacedResources(): Promise<(APIResource & { group: string; version: string })[]> {
    const out: (APIResource & { group: string; version: string })[] = [];
    const add = (group: string, version: string, list: { resources: APIResource[] }) => {
      for (const r of list.resources) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('list') || !r.verbs.includes('delete')) continue;
        // Events go last, as upstream deletes them after the objects they describe.
        out.push({ ...r, group, version });
      }
    };
    add('', 'v1', await call(this.client, 'GET', '/api/v1'));
    const groups = await call<{ groups: { name: string; preferredVersion: { version: string } }[] }>(this.client, 'GET', '/apis');
    for (const g of groups.groups) {
      add(g.name, g.preferredVersion.version, await call(this.client, 'GET', `/apis/${g.name}/${g.preferredVersion.version}`));
    }
    // One copy of events (core and events.k8s.io share storage): keep the core one.
    return out.filter((r) => !(r.group === 'events.k8s.io' && r.name === 'events')).sort((a, b) => Number(a.name === 'events') - Number(b.name === 'events'));
  }
}
