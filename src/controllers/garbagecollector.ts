// GarbageCollector: ownerReferences as upstream's garbage collector reads them.
// - A dependent whose owners are all gone is deleted (background cascading deletion).
// - An owner being deleted with the `orphan` finalizer has its dependents' references to it
//   removed, then the finalizer removed.
// - An owner being deleted with the `foregroundDeletion` finalizer has its dependents deleted
//   first; the finalizer goes when none is left.
// It keeps a metadata-only graph of every object, from one informer per resource type
// (PartialObjectMetadata lists and watches), and reconciles object UIDs from a work queue.
import type { KObject, OwnerReference } from '../api/types.js';
import { call, isNotFound, resourcePath, type Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Logger } from '../util/log.js';

const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';
const REDISCOVER_MS = 30_000;

interface GVR {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

interface GraphNode {
  uid: string;
  gvr: GVR;
  namespace: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

export class GarbageCollector {
  private informers = new Map<string, Informer>();
  private nodes = new Map<string, GraphNode>();
  private dependents = new Map<string, Set<string>>();
  /** "apiVersion/Kind" → resource, from discovery. */
  private kinds = new Map<string, GVR>();
  private readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 60_000 });
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  start(workers = 2): void {
    void this.discover();
    for (let i = 0; i < workers; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const i of this.informers.values()) i.stop();
    this.queue.shutDown();
  }

  /** Starts an informer for every listable, watchable, deletable resource (new CRDs included). */
  private async discover(): Promise<void> {
    if (this.stopped) return;
    try {
      const found: GVR[] = [];
      const add = (group: string, version: string, list: { resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }) => {
        for (const r of list.resources) {
          if (r.name.includes('/')) continue;
          this.kinds.set(`${group ? `${group}/` : ''}${version}/${r.kind}`, { group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
          if (['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) found.push({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
        }
      };
      add('', 'v1', await call(this.client, 'GET', '/api/v1'));
      const groups = await call<{ groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[] }>(this.client, 'GET', '/apis');
      for (const g of groups.groups) {
        for (const v of g.versions) {
          const list = await call<{ resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }>(this.client, 'GET', `/apis/${g.name}/${v.version}`);
          if (v.version === g.preferredVersion.version) add(g.name, v.version, list);
          else for (const r of list.resources) if (!r.name.includes('/')) this.kinds.set(`${g.name}/${v.version}/${r.kind}`, { group: g.name, version: v.version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
        }
      }
      for (const gvr of found) {
        // events.k8s.io/v1 events are the core events again; one informer is enough.
        if (gvr.group === 'events.k8s.io') continue;
        const key = `${gvr.group}/${gvr.resource}`;
        if (this.informers.has(key)) continue;
        const inf = new Informer(this.client, resourcePath(gvr.group, gvr.version, gvr.resource), {}, METADATA_ONLY);
        inf.addHandlers({
          onAdd: (o) => this.upsert(gvr, o),
          onUpdate: (_, o) => this.upsert(gvr, o),
          onDelete: (o) => this.remove(o),
        });
        this.informers.set(key, inf);
        inf.start();
      }
    } catch (e) {
      this.log.warn('discovery failed', { error: (e as Error).message });
    }
    this.timer = setTimeout(() => void this.discover(), REDISCOVER_MS);
    this.timer.unref?.();
  }

  private upsert(gvr: GVR, o: KObject): void {
    const m = o.metadata;
    if (!m.uid) return;
    const old = this.nodes.get(m.uid);
    const node: GraphNode = {
      uid: m.uid,
      gvr,
      namespace: m.namespace ?? '',
      name: m.name!,
      owners: m.ownerReferences ?? [],
      deleting: !!m.deletionTimestamp,
      finalizers: m.finalizers ?? [],
    };
    for (const r of old?.owners ?? []) this.dependents.get(r.uid)?.delete(node.uid);
    for (const r of node.owners) {
      let set = this.dependents.get(r.uid);
      if (!set) this.dependents.set(r.uid, (set = new Set()));
      set.add(node.uid);
    }
    this.nodes.set(node.uid, node);
    if (node.owners.length) this.queue.add(node.uid);
    if (node.deleting && (node.finalizers.includes('orphan') || node.finalizers.includes('foregroundDeletion'))) this.queue.add(node.uid);
    // A dependent that changed may unblock an owner waiting in foreground deletion.
    for (const r of node.owners) if (this.nodes.get(r.uid)?.deleting) this.queue.add(r.uid);
  }

  private remove(o: KObject): void {
    const uid = o.metadata.uid;
    if (!uid) return;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    for (const r of node?.owners ?? []) {
      this.dependents.get(r.uid)?.delete(uid);
      if (this.nodes.get(r.uid)?.deleting) this.queue.add(r.uid);
    }
    // Its dependents may now be orphans to collect.
    for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
  }

  private synced(): boolean {
    for (const i of this.informers.values()) if (!i.hasSynced()) return false;
    return this.informers.size > 0;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const uid = await this.queue.get();
      if (uid === undefined) return;
      try {
        if (!this.synced()) this.queue.addAfter(uid, 200);
        else {
          const again = await this.reconcile(uid);
          if (again) this.queue.addAfter(uid, 500);
          else this.queue.forget(uid);
        }
      } catch (e) {
        if (!isNotFound(e)) this.log.warn('garbage collection failed', { uid, error: (e as Error).message });
        this.queue.addRateLimited(uid);
      } finally {
        this.queue.done(uid);
      }
    }
  }

  private path(n: GraphNode): string {
    return resourcePath(n.gvr.group, n.gvr.version, n.gvr.resource, n.gvr.namespaced ? n.namespace : undefined, n.name);
  }

  /** Returns true to look again shortly (waiting for dependents to go). */
  async reconcile(uid: string): Promise<boolean> {
    const node = this.nodes.get(uid);
    if (!node) return false;
    if (node.deleting && node.finalizers.includes('orphan')) {
      for (const d of this.liveDependents(uid)) await this.removeOwnerRefs(d, new Set([uid]));
      await this.removeFinalizer(node, 'orphan');
      return false;
    }
    if (node.deleting && node.finalizers.includes('foregroundDeletion')) {
      const deps = this.liveDependents(uid);
      if (deps.length === 0) {
        await this.removeFinalizer(node, 'foregroundDeletion');
        return false;
      }
      for (const d of deps) {
        if (d.deleting) continue;
        try {
          await call(this.client, 'DELETE', this.path(d), {
            body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', preconditions: { uid: d.uid } },
          });
        } catch (e) {
          if (!isNotFound(e) && !(e as { code?: number }).code) throw e;
        }
      }
      return true;
    }
    if (node.owners.length === 0) return false;
    const dangling = new Set<string>();
    for (const ref of node.owners) {
      if (await this.ownerGone(ref, node)) dangling.add(ref.uid);
    }
    if (dangling.size === 0) return false;
    if (dangling.size === node.owners.length) {
      if (node.deleting) return false;
      try {
        await call(this.client, 'DELETE', this.path(node), {
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: node.uid } },
        });
        this.log.debug('deleted dependent of a deleted owner', { object: `${node.gvr.resource}/${node.namespace}/${node.name}` });
      } catch (e) {
        if (!isNotFound(e) && (e as { code?: number }).code !== 409) throw e;
      }
      return false;
    }
    await this.removeOwnerRefs(node, dangling);
    return false;
  }

  private liveDependents(uid: string): GraphNode[] {
    return [...(this.dependents.get(uid) ?? [])].map((d) => this.nodes.get(d)).filter((n): n is GraphNode => !!n);
  }

  /** An owner is gone when it is not in the graph and a live read confirms it (absent, or another uid). */
  private async ownerGone(ref: OwnerReference, dependent: GraphNode): Promise<boolean> {
    if (this.nodes.has(ref.uid)) return false;
    const gvr = this.kinds.get(`${ref.apiVersion}/${ref.kind}`);
    if (!gvr) return false; // unknown kind: leave it alone, as upstream does until discovery knows it
    // A namespaced dependent's owner lives in its namespace; cluster-scoped owners have none.
    const path = resourcePath(gvr.group, gvr.version, gvr.resource, gvr.namespaced ? dependent.namespace : undefined, ref.name);
    try {
      const owner = await call<KObject>(this.client, 'GET', path);
      return owner.metadata.uid !== ref.uid;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  }

  private async removeOwnerRefs(node: GraphNode, uids: Set<string>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let cur: KObject;
      try {
        cur = await call<KObject>(this.client, 'GET', this.path(node));
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const refs = (cur.metadata.ownerReferences ?? []).filter((r) => !uids.has(r.uid));
      if (refs.length === (cur.metadata.ownerReferences ?? []).length) return;
      try {
        await call(this.client, 'PATCH', this.path(node), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: cur.metadata.resourceVersion, uid: cur.metadata.uid } },
        });
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let cur: KObject;
      try {
        cur = await call<KObject>(this.client, 'GET', this.path(node));
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const fins = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (fins.length === (cur.metadata.finalizers ?? []).length) return;
      try {
        await call(this.client, 'PATCH', this.path(node), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { finalizers: fins.length ? fins : null, resourceVersion: cur.metadata.resourceVersion } },
        });
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
  }
}
