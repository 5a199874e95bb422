// ReplicaSetController (pkg/controller/replicaset): keeps exactly spec.replicas active pods
// matching the selector. The same machinery runs the ReplicationController controller
// (replicationcontroller.ts), which differs only in its resource, map selector and names.
//
// Level-triggered: informer handlers only enqueue `namespace/name`; sync() claims pods
// (adopt orphans, release non-matching), creates or deletes pods (slow-start batches,
// expectations so a lagging informer never causes over-creation) and writes status when it
// changed. The helpers exported here (indexes, expectations, pod ranking) are shared with
// the deployment controller.
import type { KObject, OwnerReference } from '../api/types.js';
import { labelSelectorFromObject, selectorFromSet, type LabelSelector } from '../api/labels.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import { keyOf } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Clock, Controller, ControllerContext } from './context.js';

// ---- shared helpers --------------------------------------------------------------------------

/** Index name: objects by their controller ownerReference's uid. */
export const CONTROLLER_UID_INDEX = 'apps-controller/controllerUID';
/** Index name: objects without a controller ownerReference, by namespace. */
export const ORPHAN_NS_INDEX = 'apps-controller/orphansByNamespace';
/** Index name: objects by namespace. */
export const NAMESPACE_INDEX = 'apps-controller/namespace';

export function controllerRefOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function addControllerIndexes(inf: Informer): void {
  inf.addIndexer(CONTROLLER_UID_INDEX, (o) => {
    const r = controllerRefOf(o);
    return r ? [r.uid] : [];
  });
  inf.addIndexer(ORPHAN_NS_INDEX, (o) => (controllerRefOf(o) ? [] : [o.metadata.namespace ?? '']));
}

export function addNamespaceIndex(inf: Informer): void {
  inf.addIndexer(NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? '']);
}

export function podConditionTrue(pod: KObject, type: string): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
}

export function isPodReady(pod: KObject): boolean {
  return podConditionTrue(pod, 'Ready');
}

function readySince(pod: KObject): number | undefined {
  const c = (pod.status?.conditions ?? []).find((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True');
  if (!c) return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, now: Date): boolean {
  const since = readySince(pod);
  if (since === undefined) return false;
  if (!minReadySeconds) return true;
  return since + minReadySeconds * 1000 < now.getTime();
}

/** controller.IsPodActive: not Succeeded/Failed and not being deleted. */
export function isPodActive(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function maxRestarts(pod: KObject): number {
  let m = 0;
  for (const s of pod.status?.containerStatuses ?? []) m = Math.max(m, s.restartCount ?? 0);
  return m;
}

function deletionCost(pod: KObject): number {
  const v = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  const n = v === undefined ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/**
 * controller.ActivePodsWithRanks' Less: negative when `a` should be deleted before `b`.
 * `rank` = how many related pods share the pod's node (more → delete first).
 */
export function comparePodsForDeletion(a: KObject, b: KObject, rankA = 0, rankB = 0): number {
  // 1. unassigned < assigned
  const na = a.spec?.nodeName ? 1 : 0;
  const nb = b.spec?.nodeName ? 1 : 0;
  if (na !== nb) return na - nb;
  // 2. Pending < Unknown < Running
  const pa = phaseOrdinal[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = phaseOrdinal[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  // 3. not ready < ready
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  // 4. lower pod-deletion-cost first
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  // 5. doubled up (higher rank) first
  if (rankA !== rankB) return rankB - rankA;
  // 6. been ready for less time first
  if (ra && rb) {
    const ta = readySince(a) ?? 0;
    const tb = readySince(b) ?? 0;
    if (ta !== tb) return tb - ta;
  }
  // 7. more restarts first
  const xa = maxRestarts(a);
  const xb = maxRestarts(b);
  if (xa !== xb) return xb - xa;
  // 8. newer first
  const da = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const db = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (da !== db) return db - da;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/**
 * getPodsToDelete: the `diff` pods to delete first, ranking each by the number of `related`
 * active pods on the same node (upstream counts pods of sibling ReplicaSets too).
 */
export function podsToDelete(filtered: KObject[], related: KObject[], diff: number): KObject[] {
  if (diff >= filtered.length) return [...filtered];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n && isPodActive(p)) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: KObject) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  const ranked = filtered.map((p) => ({ p, r: rank(p) }));
  ranked.sort((x, y) => comparePodsForDeletion(x.p, y.p, x.r, y.r));
  return ranked.slice(0, diff).map((x) => x.p);
}

/**
 * slowStartBatch: calls fn `count` times in batches of 1, 2, 4 … (starting at initialBatch),
 * stopping after the first batch with an error. Returns the successes and the first error.
 */
export async function slowStartBatch(count: number, initialBatch: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatch); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    let err: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') successes++;
      else if (err === undefined) err = r.reason;
    }
    if (err !== undefined) return { successes, error: err };
    remaining -= batch;
  }
  return { successes };
}

export function errorMessage(e: unknown): string {
  if (e instanceof StatusError) return e.status?.message ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

/** ControllerExpectations (with UID-tracking deletes): creations/deletions not yet seen. */
export class Expectations {
  private m = new Map<string, { add: number; del: Set<string>; at: number }>();
  static readonly TTL_MS = 5 * 60 * 1000;
  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del.size === 0) return true;
    return this.clock.now().getTime() - e.at > Expectations.TTL_MS;
  }
  expectCreations(key: string, n: number): void {
    this.m.set(key, { add: n, del: new Set(), at: this.clock.now().getTime() });
  }
  expectDeletions(key: string, podKeys: string[]): void {
    this.m.set(key, { add: 0, del: new Set(podKeys), at: this.clock.now().getTime() });
  }
  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.add--;
  }
  deletionObserved(key: string, podKey: string): void {
    this.m.get(key)?.del.delete(podKey);
  }
  delete(key: string): void {
    this.m.delete(key);
  }
}

/** A queue worker loop: `workers` concurrent loops calling sync(key). */
export function runWorkers(queue: WorkQueue, workers: number, sync: (key: string) => Promise<void>, onError: (key: string, e: unknown) => void): void {
  for (let i = 0; i < workers; i++) {
    void (async () => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        try {
          await sync(key);
          queue.forget(key);
        } catch (e) {
          onError(key, e);
          queue.addRateLimited(key);
        } finally {
          queue.done(key);
        }
      }
    })();
  }
}

const omitZero = (v: number | undefined) => (v ? v : undefined);

/** A merge patch turning status `old` into `next` (keys missing from next are nulled). */
export function statusMergePatch(old: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (const k of Object.keys(old ?? {})) if (next[k] === undefined) p[k] = null;
  for (const [k, v] of Object.entries(next)) if (v !== undefined) p[k] = v;
  return p;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/**
 * JSON with object keys sorted and undefined dropped: a canonical form for hashing/comparing.
 * With dropNull, null-valued fields count as absent too (Go's nil pointers and zero times,
 * e.g. a template's `creationTimestamp: null`, are the same as omitted fields).
 */
export function stableStringify(v: unknown, dropNull = false): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => stableStringify(x, dropNull)).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined && !(dropNull && o[k] === null))
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k], dropNull)}`).join(',')}}`;
}

// ---- the controller ----------------------------------------------------------------------------

export interface ReplicaSetLikeKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Event source component (replicaset-controller / replication-controller). */
  component: string;
  selectorOf(obj: KObject): LabelSelector;
}

export interface ReplicaSetControllerOptions {
  /** Concurrent syncs (upstream --concurrent-replicaset-syncs, default 5). */
  workers?: number;
  /** Most pods created or deleted in one sync (upstream burstReplicas, 500). */
  burstReplicas?: number;
}

export const replicaSetKind: ReplicaSetLikeKind = {
  group: 'apps',
  version: 'v1',
  plural: 'replicasets',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  selectorOf: (o) => labelSelectorFromObject(o.spec?.selector, 'spec.selector'),
};

export const replicationControllerKind: ReplicaSetLikeKind = {
  group: '',
  version: 'v1',
  plural: 'replicationcontrollers',
  kind: 'ReplicationController',
  component: 'replication-controller',
  // An RC's selector is a map; an empty or missing one defaults to the template's labels.
  selectorOf: (o) => {
    const sel = o.spec?.selector && Object.keys(o.spec.selector).length ? o.spec.selector : o.spec?.template?.metadata?.labels;
    return sel && Object.keys(sel).length ? selectorFromSet(sel) : labelSelectorFromObject(null);
  },
};

export class ReplicaSetLikeController implements Controller {
  protected readonly queue: WorkQueue;
  protected readonly expectations: Expectations;
  protected readonly recorder: EventRecorder;
  protected rsInformer!: Informer;
  protected podInformer!: Informer;
  private readonly workers: number;
  private readonly burst: number;
  private stopped = false;

  constructor(
    readonly ctx: ControllerContext,
    readonly kindInfo: ReplicaSetLikeKind,
    opts: ReplicaSetControllerOptions = {},
  ) {
    // Delayed requeues run on the controller's clock, so tests can drive them.
    this.queue = new WorkQueue({ clock: ctx.clock });
    this.expectations = new Expectations(ctx.clock);
    this.recorder = ctx.recorder(kindInfo.component);
    this.workers = opts.workers ?? 5;
    this.burst = opts.burstReplicas ?? 500;
  }

  start(): void {
    const k = this.kindInfo;
    this.rsInformer = this.ctx.informers.informer({ group: k.group, version: k.version, plural: k.plural });
    addNamespaceIndex(this.rsInformer);
    this.podInformer = this.ctx.informers.pods();
    addControllerIndexes(this.podInformer);
    this.rsInformer.addHandlers({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (old, cur) => {
        // A changed selector may make orphans match; any change is worth a sync.
        this.enqueue(cur);
        if (old.spec?.minReadySeconds !== cur.spec?.minReadySeconds) this.enqueue(cur);
      },
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
    runWorkers(this.queue, this.workers, (key) => this.sync(key), (key, e) => this.ctx.log.debug('sync failed', { key, err: errorMessage(e) }));
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
  }

  protected enqueue(o: KObject): void {
    this.queue.add(keyOf(o));
  }

  protected enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** The owning RS of a pod's controllerRef, if it is one of ours and the uid matches. */
  private resolveRef(ns: string, ref: OwnerReference | undefined): KObject | undefined {
    if (!ref || ref.kind !== this.kindInfo.kind) return undefined;
    const rs = this.rsInformer.get(`${ns}/${ref.name}`);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  private matchingOwners(pod: KObject): KObject[] {
    const ns = pod.metadata.namespace ?? '';
    const out: KObject[] = [];
    for (const rs of this.rsInformer.byIndex(NAMESPACE_INDEX, ns)) {
      try {
        const sel = this.kindInfo.selectorOf(rs);
        if (!sel.empty() && sel.matches(pod.metadata.labels)) out.push(rs);
      } catch {
        // invalid selector: ignore
      }
    }
    return out;
  }

  private addPod(pod: KObject): void {
    if (pod.metadata.deletionTimestamp) return this.deletePod(pod);
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = this.resolveRef(pod.metadata.namespace ?? '', ref);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.enqueue(rs);
      return;
    }
    for (const rs of this.matchingOwners(pod)) this.enqueue(rs);
  }

  private updatePod(old: KObject, cur: KObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const ns = cur.metadata.namespace ?? '';
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    if (oldRef && (!curRef || curRef.uid !== oldRef.uid)) {
      const rs = this.resolveRef(ns, oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveRef(ns, curRef);
      if (!rs) return;
      this.enqueue(rs);
      const mrs = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && mrs > 0) this.enqueueAfter(keyOf(rs), mrs * 1000 + 1000);
      return;
    }
    if (labelsChanged || oldRef) for (const rs of this.matchingOwners(cur)) this.enqueue(rs);
  }

  private deletePod(pod: KObject): void {
    const ref = controllerRefOf(pod);
    const rs = this.resolveRef(pod.metadata.namespace ?? '', ref);
    if (!rs) return;
    this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
    this.enqueue(rs);
  }

  private path(ns: string, name?: string, sub?: string): string {
    const k = this.kindInfo;
    return resourcePath(k.group, k.version, k.plural, ns, name, sub);
  }

  /** ClaimPods: owned pods that still match, plus matching orphans adopted now. */
  private async claimPods(rs: KObject, selector: LabelSelector): Promise<KObject[]> {
    const ns = rs.metadata.namespace ?? '';
    const uid = rs.metadata.uid!;
    const claimed: KObject[] = [];
    const deleting = !!rs.metadata.deletionTimestamp;
    let fresh: boolean | undefined;
    // Adoption must not happen for an RS that has been deleted meanwhile (upstream re-reads it).
    const canAdopt = async () => {
      if (fresh === undefined) {
        try {
          const cur = await call(this.ctx.client, 'GET', this.path(ns, rs.metadata.name));
          fresh = cur.metadata.uid === uid && !cur.metadata.deletionTimestamp;
        } catch {
          fresh = false;
        }
      }
      return fresh;
    };
    for (const pod of this.podInformer.byIndex(CONTROLLER_UID_INDEX, uid)) {
      if (pod.metadata.namespace !== ns) continue;
      if (selector.matches(pod.metadata.labels)) claimed.push(pod);
      else if (!deleting) {
        try {
          await this.releasePod(pod, uid);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (!deleting) {
      for (const pod of this.podInformer.byIndex(ORPHAN_NS_INDEX, ns)) {
        if (pod.metadata.deletionTimestamp || !selector.matches(pod.metadata.labels)) continue;
        if (!(await canAdopt())) break;
        try {
          claimed.push(await this.adoptPod(rs, pod));
        } catch (e) {
          if (!isNotFound(e)) this.ctx.log.debug('adopt failed', { pod: keyOf(pod), err: errorMessage(e) });
        }
      }
    }
    return claimed;
  }

  protected ownerRef(rs: KObject): OwnerReference {
    return {
      apiVersion: this.kindInfo.group ? `${this.kindInfo.group}/${this.kindInfo.version}` : this.kindInfo.version,
      kind: this.kindInfo.kind,
      name: rs.metadata.name!,
      uid: rs.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  private async adoptPod(rs: KObject, pod: KObject): Promise<KObject> {
    const refs = [...(pod.metadata.ownerReferences ?? []), this.ownerRef(rs)];
    return call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
        { op: 'add', path: '/metadata/ownerReferences', value: refs },
      ],
    });
  }

  private async releasePod(pod: KObject, ownerUid: string): Promise<void> {
    await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: pod.metadata.uid } },
    });
  }

  async sync(key: string): Promise<void> {
    const cached = this.rsInformer.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = structuredClone(cached);
    const needsSync = this.expectations.satisfied(key);
    let selector: LabelSelector;
    try {
      selector = this.kindInfo.selectorOf(rs);
    } catch {
      return; // an invalid selector cannot be acted upon
    }
    const claimed = await this.claimPods(rs, selector);
    const active = claimed.filter(isPodActive);
    let manageErr: { err: unknown; creating: boolean } | undefined;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(active, rs, key);
      } catch (e) {
        manageErr = { err: e, creating: active.length < (rs.spec?.replicas ?? 1) };
      }
    }
    const updated = await this.updateStatus(rs, active, manageErr);
    const replicas = rs.spec?.replicas ?? 1;
    const mrs = rs.spec?.minReadySeconds ?? 0;
    if (!manageErr && mrs > 0 && updated.readyReplicas === replicas && updated.availableReplicas !== replicas) this.enqueueAfter(key, mrs * 1000);
    if (manageErr) throw manageErr.err;
  }

  private async manageReplicas(active: KObject[], rs: KObject, key: string): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, n);
      const { successes, error } = await slowStartBatch(n, 1, () => this.createPod(rs));
      const skipped = n - successes;
      for (let i = 0; i < skipped; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const n = Math.min(diff, this.burst);
      const related = this.relatedPods(rs);
      const victims = podsToDelete(active, related, n);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const results = await Promise.allSettled(victims.map((p) => this.deletePodApi(rs, p, key)));
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    }
  }

  /** Active pods of this RS and its siblings (same controller owner), for node ranking. */
  private relatedPods(rs: KObject): KObject[] {
    const owner = controllerRefOf(rs);
    const siblings = owner ? this.rsInformer.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '').filter((o) => controllerRefOf(o)?.uid === owner.uid) : [rs];
    return siblings.flatMap((s) => this.podInformer.byIndex(CONTROLLER_UID_INDEX, s.metadata.uid!));
  }

  private async createPod(rs: KObject): Promise<void> {
    const tmpl = rs.spec?.template ?? {};
    const meta = tmpl.metadata ?? {};
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        ...(meta.labels ? { labels: structuredClone(meta.labels) } : {}),
        ...(meta.annotations ? { annotations: structuredClone(meta.annotations) } : {}),
        ...(meta.finalizers ? { finalizers: structuredClone(meta.finalizers) } : {}),
        ownerReferences: [this.ownerRef(rs)],
      },
      spec: structuredClone(tmpl.spec ?? {}),
    };
    try {
      const created = await call(this.ctx.client, 'POST', resourcePath('', 'v1', 'pods', rs.metadata.namespace), { body: pod });
      this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (e) {
      // A terminating namespace refuses creates; upstream does not report that as a failure.
      const terminating = e instanceof StatusError && /because it is being terminated/.test(errorMessage(e));
      if (!terminating) this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
  }

  private async deletePodApi(rs: KObject, pod: KObject, key: string): Promise<void> {
    try {
      await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pod.metadata.uid } },
      });
      this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (e) {
      this.expectations.deletionObserved(key, keyOf(pod));
      if (isNotFound(e)) return;
      this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
      throw e;
    }
  }

  /** calculateStatus + updateReplicaSetStatus: written only when something changed. */
  private async updateStatus(rs: KObject, active: KObject[], manageErr: { err: unknown; creating: boolean } | undefined): Promise<Record<string, number>> {
    const now = this.ctx.clock.now();
    const tmplLabels = rs.spec?.template?.metadata?.labels ?? {};
    const mrs = rs.spec?.minReadySeconds ?? 0;
    let fully = 0;
    let ready = 0;
    let available = 0;
    for (const p of active) {
      const labels = p.metadata.labels ?? {};
      if (Object.entries(tmplLabels).every(([k, v]) => labels[k] === v)) fully++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, mrs, now)) available++;
      }
    }
    const old = rs.status ?? {};
    let conditions: Record<string, unknown>[] = structuredClone(old.conditions ?? []);
    const failure = conditions.find((c) => c['type'] === 'ReplicaFailure');
    if (manageErr && !failure) {
      conditions.push({
        type: 'ReplicaFailure',
        status: 'True',
        lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reason: manageErr.creating ? 'FailedCreate' : 'FailedDelete',
        message: errorMessage(manageErr.err),
      });
    } else if (!manageErr && failure) {
      conditions = conditions.filter((c) => c['type'] !== 'ReplicaFailure');
    }
    const next: Record<string, unknown> = {
      replicas: active.length,
      fullyLabeledReplicas: omitZero(fully),
      readyReplicas: omitZero(ready),
      availableReplicas: omitZero(available),
      observedGeneration: omitZero(rs.metadata.generation),
      conditions: conditions.length ? conditions : undefined,
    };
    if (!jsonEqual(old, next)) {
      try {
        await call(this.ctx.client, 'PATCH', this.path(rs.metadata.namespace ?? '', rs.metadata.name, 'status'), {
          contentType: 'application/merge-patch+json',
          body: { status: statusMergePatch(old, next) },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return { readyReplicas: ready, availableReplicas: available };
  }
}

export class ReplicaSetController extends ReplicaSetLikeController {
  constructor(ctx: ControllerContext, opts: ReplicaSetControllerOptions = {}) {
    super(ctx, replicaSetKind, opts);
  }
}
