// DaemonSetController (pkg/controller/daemon): one pod per eligible node. Pods carry the
// DaemonSet's default tolerations and a required node affinity `metadata.name In [node]`, so
// the default scheduler binds them. ControllerRevisions record the template history
// (`<ds>-<hash>`, data = a template replace patch, pods labelled controller-revision-hash);
// RollingUpdate (maxUnavailable or maxSurge) and OnDelete; status counts per node.
// Pure decisions live in daemonset/util.ts.
import type { KObject, OwnerReference } from '../api/types.js';
import { labelSelectorFromObject, type LabelSelector } from '../api/labels.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { keyOf, type Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Clock, Controller, ControllerContext } from './context.js';
import { computeHash } from './deployment/util.js';
import {
  addControllerIndexes,
  addNamespaceIndex,
  controllerRefOf,
  errorMessage,
  isPodReady,
  jsonEqual,
  NAMESPACE_INDEX,
  runWorkers,
  statusMergePatch,
} from './replicaset.js';
import {
  computeDaemonSetCounts,
  newDaemonPod,
  nodeShouldRunDaemonPod,
  planRollingUpdate,
  podsShouldBeOnNode,
  targetNodeName,
} from './daemonset/util.js';
import { claimObjects } from './statefulset/claim.js';
import { CONTROLLER_REVISION_HASH, maxRevision, revisionNumber, sameData, sortRevisions, templatePatch } from './statefulset/history.js';

export interface DaemonSetControllerOptions {
  /** Concurrent syncs (upstream --concurrent-daemonset-syncs, default 2). */
  workers?: number;
  /** Most pods created or deleted in one sync (upstream BurstReplicas, 250). */
  burstReplicas?: number;
}

const DS_PATH = (ns: string, name?: string, sub?: string) => resourcePath('apps', 'v1', 'daemonsets', ns, name, sub);
const CR_PATH = (ns: string, name?: string) => resourcePath('apps', 'v1', 'controllerrevisions', ns, name);
const POD_PATH = (ns: string, name?: string) => resourcePath('', 'v1', 'pods', ns, name);

/** ControllerExpectations by count (the DaemonSet controller does not track deletions by uid). */
class CountExpectations {
  private m = new Map<string, { add: number; del: number; at: number }>();
  static readonly TTL_MS = 5 * 60 * 1000;
  constructor(private readonly clock: Pick<Clock, 'now'>) {}
  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now().getTime() - e.at > CountExpectations.TTL_MS;
  }
  set(key: string, add: number, del: number): void {
    this.m.set(key, { add, del, at: this.clock.now().getTime() });
  }
  lower(key: string, add: number, del: number): void {
    const e = this.m.get(key);
    if (e) {
      e.add -= add;
      e.del -= del;
    }
  }
  creationObserved(key: string): void {
    this.lower(key, 1, 0);
  }
  deletionObserved(key: string): void {
    this.lower(key, 0, 1);
  }
  delete(key: string): void {
    this.m.delete(key);
  }
}

/** flowcontrol.Backoff for failed daemon pods: 1 s doubling to 15 min per DaemonSet and node. */
class FailedPodsBackoff {
  private m = new Map<string, { delay: number; last: number }>();
  constructor(
    private readonly initial = 1000,
    private readonly max = 15 * 60 * 1000,
  ) {}
  inBackoffSinceUpdate(key: string, now: number): boolean {
    const e = this.m.get(key);
    return !!e && now - e.last < e.delay;
  }
  get(key: string): number {
    return this.m.get(key)?.delay ?? 0;
  }
  next(key: string, now: number): void {
    const e = this.m.get(key);
    if (!e || now - e.last > 2 * this.max) this.m.set(key, { delay: this.initial, last: now });
    else this.m.set(key, { delay: Math.min(e.delay * 2, this.max), last: now });
  }
}

export class DaemonSetController implements Controller {
  private readonly queue: WorkQueue;
  private readonly expectations: CountExpectations;
  private readonly backoff = new FailedPodsBackoff();
  private readonly recorder: EventRecorder;
  private dsInformer!: Informer;
  private podInformer!: Informer;
  private nodeInformer!: Informer;
  private crInformer!: Informer;
  private readonly workers: number;
  private readonly burst: number;
  private stopped = false;

  constructor(
    readonly ctx: ControllerContext,
    opts: DaemonSetControllerOptions = {},
  ) {
    // Delayed requeues run on the controller's clock, so tests can drive them.
    this.queue = new WorkQueue({ clock: ctx.clock });
    this.expectations = new CountExpectations(ctx.clock);
    this.recorder = ctx.recorder('daemonset-controller');
    this.workers = opts.workers ?? 2;
    this.burst = opts.burstReplicas ?? 250;
  }

  start(): void {
    const inf = this.ctx.informers;
    this.dsInformer = inf.informer({ group: 'apps', version: 'v1', plural: 'daemonsets' });
    addNamespaceIndex(this.dsInformer);
    this.podInformer = inf.pods();
    addControllerIndexes(this.podInformer);
    this.nodeInformer = inf.nodes();
    this.crInformer = inf.informer({ group: 'apps', version: 'v1', plural: 'controllerrevisions' });
    addControllerIndexes(this.crInformer);
    this.dsInformer.addHandlers({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_o, c) => this.enqueue(c),
      onDelete: (o) => {
        this.expectations.delete(keyOf(o));
        this.enqueue(o);
      },
    });
    this.podInformer.addHandlers({
      onAdd: (p) => this.addPod(p),
      onUpdate: (o, p) => this.updatePod(o, p),
      onDelete: (p) => this.deletePod(p),
    });
    this.nodeInformer.addHandlers({
      onAdd: (n) => {
        for (const ds of this.dsInformer.list()) if (nodeShouldRunDaemonPod(n, ds)[0]) this.enqueue(ds);
      },
      onUpdate: (o, n) => {
        if (
          jsonEqual(o.metadata.labels ?? {}, n.metadata.labels ?? {}) &&
          jsonEqual(o.spec?.taints ?? [], n.spec?.taints ?? []) &&
          !!o.spec?.unschedulable === !!n.spec?.unschedulable
        )
          return;
        for (const ds of this.dsInformer.list()) {
          if (!jsonEqual(nodeShouldRunDaemonPod(o, ds), nodeShouldRunDaemonPod(n, ds))) this.enqueue(ds);
        }
      },
      onDelete: () => {
        for (const ds of this.dsInformer.list()) this.enqueue(ds);
      },
    });
    const revOwner = (cr: KObject) => {
      const ref = controllerRefOf(cr);
      if (ref?.kind !== 'DaemonSet') return;
      const ds = this.dsInformer.get(`${cr.metadata.namespace}/${ref.name}`);
      if (ds && ds.metadata.uid === ref.uid) this.enqueue(ds);
    };
    this.crInformer.addHandlers({ onAdd: revOwner, onUpdate: (_o, c) => revOwner(c), onDelete: revOwner });
    runWorkers(this.queue, this.workers, (key) => this.sync(key), (key, e) => this.ctx.log.debug('sync failed', { key, err: errorMessage(e) }));
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
  }

  private enqueue(o: KObject): void {
    this.queue.add(keyOf(o));
  }

  private enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  // ---- pod events ------------------------------------------------------------------------------

  private resolveRef(ns: string, ref: OwnerReference | undefined): KObject | undefined {
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.dsInformer.get(`${ns}/${ref.name}`);
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  private dsForOrphan(pod: KObject): KObject[] {
    const out: KObject[] = [];
    for (const ds of this.dsInformer.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
      try {
        const sel = labelSelectorFromObject(ds.spec?.selector, 'spec.selector');
        if (!sel.empty() && sel.matches(pod.metadata.labels)) out.push(ds);
      } catch {
        // invalid selector
      }
    }
    return out;
  }

  private addPod(pod: KObject): void {
    if (pod.metadata.deletionTimestamp) return this.deletePod(pod);
    const ref = controllerRefOf(pod);
    if (ref) {
      const ds = this.resolveRef(pod.metadata.namespace ?? '', ref);
      if (!ds) return;
      this.expectations.creationObserved(keyOf(ds));
      this.enqueue(ds);
      return;
    }
    for (const ds of this.dsForOrphan(pod)) this.enqueue(ds);
  }

  private updatePod(old: KObject, cur: KObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const ns = cur.metadata.namespace ?? '';
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    if (oldRef && (!curRef || curRef.uid !== oldRef.uid)) {
      const ds = this.resolveRef(ns, oldRef);
      if (ds) this.enqueue(ds);
    }
    if (curRef) {
      const ds = this.resolveRef(ns, curRef);
      if (!ds) return;
      this.enqueue(ds);
      const mrs = ds.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && mrs > 0) this.enqueueAfter(keyOf(ds), mrs * 1000);
      return;
    }
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {});
    if (labelsChanged || oldRef) for (const ds of this.dsForOrphan(cur)) this.enqueue(ds);
  }

  private deletePod(pod: KObject): void {
    const ds = this.resolveRef(pod.metadata.namespace ?? '', controllerRefOf(pod));
    if (!ds) return;
    this.expectations.deletionObserved(keyOf(ds));
    this.enqueue(ds);
  }

  // ---- sync ------------------------------------------------------------------------------------

  private ownerRef(ds: KObject): OwnerReference {
    return { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name!, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true };
  }

  async sync(key: string): Promise<void> {
    const cached = this.dsInformer.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const ds = structuredClone(cached);
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(ds.spec?.selector, 'spec.selector');
    } catch {
      return;
    }
    if (selector.empty()) {
      this.recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // A DaemonSet being deleted: its history may already be gone; leave it alone.
    if (ds.metadata.deletionTimestamp) return;
    const nodes = this.nodeInformer.list();
    const { cur, old } = await this.constructHistory(ds, selector);
    const hash: string = cur.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '';
    if (!this.expectations.satisfied(key)) {
      await this.updateStatus(ds, selector, nodes, hash, false);
      return;
    }
    let err: unknown;
    try {
      await this.updateDaemonSet(ds, selector, nodes, hash, key, old);
    } catch (e) {
      err = e;
    }
    let statusErr: unknown;
    try {
      await this.updateStatus(ds, selector, nodes, hash, true);
    } catch (e) {
      statusErr = e;
    }
    if (err !== undefined) throw err;
    if (statusErr !== undefined) throw statusErr;
  }

  private async updateDaemonSet(ds: KObject, selector: LabelSelector, nodes: KObject[], hash: string, key: string, old: KObject[]): Promise<void> {
    await this.manage(ds, selector, nodes, hash);
    if (this.expectations.satisfied(key) && ds.spec?.updateStrategy?.type === 'RollingUpdate') {
      const nodeToPods = await this.nodesToDaemonPods(ds, selector, false);
      const plan = planRollingUpdate(ds, nodes, nodeToPods, hash, this.ctx.clock.now());
      await this.syncNodes(ds, plan.deletePods, plan.createNodes, hash);
    }
    await this.cleanupHistory(ds, selector, old);
  }

  /** getNodesToDaemonPods: claimed pods by target node (deleted terminal pods only if asked). */
  private async nodesToDaemonPods(ds: KObject, selector: LabelSelector, includeDeletedTerminal: boolean): Promise<Map<string, KObject[]>> {
    const ns = ds.metadata.namespace ?? '';
    const pods = await claimObjects({
      client: this.ctx.client,
      informer: this.podInformer,
      owner: ds,
      ownerRef: this.ownerRef(ds),
      ownerPath: DS_PATH(ns, ds.metadata.name),
      selector,
      objectPath: (p) => POD_PATH(ns, p.metadata.name),
    });
    const out = new Map<string, KObject[]>();
    for (const pod of pods) {
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (!includeDeletedTerminal && terminal && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = out.get(node) ?? [];
      list.push(pod);
      out.set(node, list);
    }
    return out;
  }

  private async manage(ds: KObject, selector: LabelSelector, nodes: KObject[], hash: string): Promise<void> {
    const nodeToPods = await this.nodesToDaemonPods(ds, selector, false);
    const now = this.ctx.clock.now();
    const needing: string[] = [];
    const toDelete: string[] = [];
    for (const node of nodes) {
      const name = node.metadata.name!;
      const plan = podsShouldBeOnNode(node, nodeToPods.get(name), ds, hash, now);
      if (plan.create) needing.push(name);
      toDelete.push(...plan.delete);
      for (const pod of plan.failed) {
        const bk = `${ds.metadata.uid}/${name}`;
        if (this.backoff.inBackoffSinceUpdate(bk, now.getTime())) {
          this.enqueueAfter(keyOf(ds), this.backoff.get(bk));
          continue;
        }
        this.backoff.next(bk, now.getTime());
        this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name}, will try to kill it`);
        toDelete.push(pod.metadata.name!);
      }
    }
    // Unscheduled pods aimed at nodes that no longer exist can never run: delete them.
    const known = new Set(nodes.map((n) => n.metadata.name!));
    for (const [node, pods] of nodeToPods) {
      if (known.has(node)) continue;
      for (const p of pods) if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) toDelete.push(p.metadata.name!);
    }
    await this.syncNodes(ds, toDelete, needing, hash);
  }

  private async syncNodes(ds: KObject, podsToDelete: string[], nodesNeeding: string[], hash: string): Promise<void> {
    const key = keyOf(ds);
    const ns = ds.metadata.namespace ?? '';
    const createDiff = Math.min(nodesNeeding.length, this.burst);
    const deleteDiff = Math.min(podsToDelete.length, this.burst);
    this.expectations.set(key, createDiff, deleteDiff);
    const errors: unknown[] = [];
    let batch = Math.min(createDiff, 1);
    for (let pos = 0; pos < createDiff; ) {
      const before = errors.length;
      const results = await Promise.allSettled(nodesNeeding.slice(pos, pos + batch).map((n) => this.createPod(ds, hash, n)));
      for (const r of results) {
        if (r.status === 'rejected') {
          this.expectations.creationObserved(key);
          if (r.reason !== null) errors.push(r.reason);
        }
      }
      pos += batch;
      const skipped = createDiff - pos;
      if (errors.length > before && skipped > 0) {
        this.expectations.lower(key, skipped, 0);
        break;
      }
      batch = Math.min(2 * batch, createDiff - pos);
    }
    const dels = await Promise.allSettled(podsToDelete.slice(0, deleteDiff).map((name) => this.deletePodApi(ds, ns, name)));
    for (const r of dels) {
      if (r.status === 'rejected') {
        this.expectations.deletionObserved(key);
        if (!isNotFound(r.reason)) errors.push(r.reason);
      }
    }
    if (errors.length) throw errors[0];
  }

  /** Rejects with null for a terminating namespace (not an error upstream). */
  private async createPod(ds: KObject, hash: string, nodeName: string): Promise<void> {
    const pod = newDaemonPod(ds, hash, nodeName);
    try {
      const created = await call(this.ctx.client, 'POST', POD_PATH(ds.metadata.namespace ?? ''), { body: pod });
      this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (e) {
      if (e instanceof StatusError && /because it is being terminated/.test(errorMessage(e))) throw null;
      this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
  }

  private async deletePodApi(ds: KObject, ns: string, name: string): Promise<void> {
    try {
      await call(this.ctx.client, 'DELETE', POD_PATH(ns, name));
      this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (e) {
      if (!isNotFound(e)) this.recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
      throw e;
    }
  }

  // ---- history ---------------------------------------------------------------------------------

  private async constructHistory(ds: KObject, selector: LabelSelector): Promise<{ cur: KObject; old: KObject[] }> {
    const ns = ds.metadata.namespace ?? '';
    const histories = await claimObjects({
      client: this.ctx.client,
      informer: this.crInformer,
      owner: ds,
      ownerRef: this.ownerRef(ds),
      ownerPath: DS_PATH(ns, ds.metadata.name),
      selector,
      objectPath: (h) => CR_PATH(ns, h.metadata.name),
    });
    const current: KObject[] = [];
    const old: KObject[] = [];
    const patch = templatePatch(ds);
    for (let h of histories) {
      if (!h.metadata.labels?.[CONTROLLER_REVISION_HASH]) {
        h = await call(this.ctx.client, 'PATCH', CR_PATH(ns, h.metadata.name), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { [CONTROLLER_REVISION_HASH]: h.metadata.name } } },
        });
      }
      if (sameData(h['data'], patch)) current.push(h);
      else old.push(h);
    }
    const currRevision = maxRevision(old) + 1;
    let cur: KObject;
    if (current.length === 0) cur = await this.snapshot(ds, currRevision);
    else {
      cur = await this.dedupCurHistories(ds, selector, current);
      if (revisionNumber(cur) < currRevision) {
        cur = await call(this.ctx.client, 'PATCH', CR_PATH(ns, cur.metadata.name), {
          contentType: 'application/merge-patch+json',
          body: { revision: currRevision },
        });
      }
    }
    return { cur, old };
  }

  private async dedupCurHistories(ds: KObject, selector: LabelSelector, current: KObject[]): Promise<KObject> {
    if (current.length === 1) return current[0]!;
    const sorted = sortRevisions([...current]);
    const keep = sorted[sorted.length - 1]!;
    const keepHash = keep.metadata.labels?.[CONTROLLER_REVISION_HASH];
    const ns = ds.metadata.namespace ?? '';
    const pods = [...(await this.nodesToDaemonPods(ds, selector, true)).values()].flat();
    for (const dup of sorted.slice(0, -1)) {
      const dupHash = dup.metadata.labels?.[CONTROLLER_REVISION_HASH];
      for (const pod of pods) {
        if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH] !== dupHash) continue;
        await call(this.ctx.client, 'PATCH', POD_PATH(ns, pod.metadata.name), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { [CONTROLLER_REVISION_HASH]: keepHash } } },
        }).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
      await call(this.ctx.client, 'DELETE', CR_PATH(ns, dup.metadata.name)).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    return keep;
  }

  private async snapshot(ds: KObject, revision: number): Promise<KObject> {
    const ns = ds.metadata.namespace ?? '';
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const name = `${ds.metadata.name}-${hash}`;
    const history: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: ns,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash },
        ...(ds.metadata.annotations ? { annotations: structuredClone(ds.metadata.annotations) } : {}),
        ownerReferences: [this.ownerRef(ds)],
      },
      data: templatePatch(ds),
      revision,
    };
    try {
      return await call(this.ctx.client, 'POST', CR_PATH(ns), { body: history });
    } catch (e) {
      if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
      const existing = await call(this.ctx.client, 'GET', CR_PATH(ns, name));
      if (controllerRefOf(existing)?.uid === ds.metadata.uid && sameData(existing['data'], history['data'])) return existing;
      // A hash collision: bump collisionCount so the next sync names the revision differently.
      const fresh = await call(this.ctx.client, 'GET', DS_PATH(ns, ds.metadata.name));
      const cc = (fresh.status?.collisionCount ?? 0) + 1;
      await call(this.ctx.client, 'PATCH', DS_PATH(ns, ds.metadata.name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { status: { collisionCount: cc } },
      });
      throw new Error(`found a hash collision for DaemonSet ${ds.metadata.name} - bumping collisionCount to ${cc} to resolve it`);
    }
  }

  private async cleanupHistory(ds: KObject, selector: LabelSelector, old: KObject[]): Promise<void> {
    const toKeep = ds.spec?.revisionHistoryLimit ?? 10;
    let toKill = old.length - toKeep;
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.nodesToDaemonPods(ds, selector, true)).values()) {
      for (const p of pods) {
        const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH];
        if (h) live.add(h);
      }
    }
    for (const h of sortRevisions([...old])) {
      if (toKill <= 0) break;
      if (live.has(h.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '')) continue;
      try {
        await call(this.ctx.client, 'DELETE', CR_PATH(ds.metadata.namespace ?? '', h.metadata.name));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      toKill--;
    }
  }

  // ---- status ----------------------------------------------------------------------------------

  private async updateStatus(ds: KObject, selector: LabelSelector, nodes: KObject[], hash: string, updateObservedGen: boolean): Promise<void> {
    const now = this.ctx.clock.now();
    const nodeToPods = await this.nodesToDaemonPods(ds, selector, false);
    const c = computeDaemonSetCounts(ds, nodes, nodeToPods, hash, now);
    const old = ds.status ?? {};
    const omitZero = (v: number) => (v ? v : undefined);
    const next: Record<string, unknown> = {
      ...old,
      currentNumberScheduled: c.currentNumberScheduled,
      numberMisscheduled: c.numberMisscheduled,
      desiredNumberScheduled: c.desiredNumberScheduled,
      numberReady: c.numberReady,
      observedGeneration: updateObservedGen ? ds.metadata.generation : old.observedGeneration,
      updatedNumberScheduled: omitZero(c.updatedNumberScheduled),
      numberAvailable: omitZero(c.numberAvailable),
      numberUnavailable: omitZero(c.numberUnavailable),
    };
    if (!jsonEqual(old, next)) {
      try {
        await call(this.ctx.client, 'PATCH', DS_PATH(ds.metadata.namespace ?? '', ds.metadata.name, 'status'), {
          contentType: 'application/merge-patch+json',
          body: { status: statusMergePatch(old, next) },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const mrs = ds.spec?.minReadySeconds ?? 0;
    if (mrs > 0 && c.numberReady !== c.numberAvailable) this.enqueueAfter(keyOf(ds), mrs * 1000);
  }
}
