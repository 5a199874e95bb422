// DeploymentController (pkg/controller/deployment): rolls a Deployment's pod template out
// through ReplicaSets named <deployment>-<pod-template-hash>. One sync (DeploymentSync below)
// claims the deployment's ReplicaSets, then either only scales (paused, or a replicas change
// mid-rollout: proportional scaling) or moves the rollout one step (RollingUpdate within
// maxSurge/maxUnavailable, or Recreate), cleans up old ReplicaSets past
// revisionHistoryLimit, and writes status and the Progressing/Available conditions.
// The arithmetic lives in util.ts.
import type { KObject } from '../../api/types.js';
import { labelSelectorFromObject, type LabelSelector } from '../../api/labels.js';
import { call, isNotFound, resourcePath, StatusError } from '../../client/client.js';
import type { EventRecorder } from '../../client/events.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import {
  addControllerIndexes,
  addNamespaceIndex,
  CONTROLLER_UID_INDEX,
  controllerRefOf,
  errorMessage,
  jsonEqual,
  NAMESPACE_INDEX,
  ORPHAN_NS_INDEX,
  runWorkers,
  statusMergePatch,
} from '../replicaset.js';
import {
  byCreation,
  byRevision,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  filterActive,
  findActiveOrLatest,
  findNewReplicaSet,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxScaledDown,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  normalizeStatus,
  oldScaleDownPlan,
  POD_TEMPLATE_HASH,
  proportionalScale,
  Reasons,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  REVISION,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
  sumSpec,
  sumStatus,
  unhealthyCleanupPlan,
  type DeploymentStatus,
} from './util.js';

export interface DeploymentControllerOptions {
  /** Concurrent syncs (upstream --concurrent-deployment-syncs, default 5). */
  workers?: number;
}

const RS_GROUP = { group: 'apps', version: 'v1', plural: 'replicasets' };

export class DeploymentController implements Controller {
  readonly queue: WorkQueue;
  readonly recorder: EventRecorder;
  dInformer!: Informer;
  rsInformer!: Informer;
  podInformer!: Informer;
  private stopped = false;
  private readonly workers: number;

  constructor(
    readonly ctx: ControllerContext,
    opts: DeploymentControllerOptions = {},
  ) {
    // Delayed requeues run on the controller's clock, so tests can drive them.
    this.queue = new WorkQueue({ clock: ctx.clock });
    this.recorder = ctx.recorder('deployment-controller');
    this.workers = opts.workers ?? 5;
  }

  start(): void {
    this.dInformer = this.ctx.informers.informer({ group: 'apps', version: 'v1', plural: 'deployments' });
    addNamespaceIndex(this.dInformer);
    this.rsInformer = this.ctx.informers.informer(RS_GROUP);
    addNamespaceIndex(this.rsInformer);
    addControllerIndexes(this.rsInformer);
    this.podInformer = this.ctx.informers.pods();
    addControllerIndexes(this.podInformer);

    this.dInformer.addHandlers({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_o, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(d),
    });
    this.rsInformer.addHandlers({
      onAdd: (rs) => this.rsChanged(undefined, rs),
      onUpdate: (o, rs) => this.rsChanged(o, rs),
      onDelete: (rs) => {
        const d = this.resolveOwner(rs);
        if (d) this.enqueue(d);
      },
    });
    this.podInformer.addHandlers({
      // Recreate waits for every old pod to be gone; a pod's deletion is what it waits for.
      onDelete: (pod) => {
        const ref = controllerRefOf(pod);
        if (!ref || ref.kind !== 'ReplicaSet') return;
        const rs = this.rsInformer.get(`${pod.metadata.namespace}/${ref.name}`);
        if (!rs || rs.metadata.uid !== ref.uid) return;
        const d = this.resolveOwner(rs);
        if (d && !isRollingUpdate(d)) this.enqueue(d);
      },
    });
    runWorkers(this.queue, this.workers, (key) => this.sync(key), (key, e) => this.ctx.log.debug('sync failed', { key, err: errorMessage(e) }));
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
  }

  enqueue(d: KObject): void {
    this.queue.add(keyOf(d));
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  private resolveOwner(rs: KObject): KObject | undefined {
    const ref = controllerRefOf(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.dInformer.get(`${rs.metadata.namespace}/${ref.name}`);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private matchingDeployments(rs: KObject): KObject[] {
    return this.dInformer.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '').filter((d) => {
      try {
        const sel = labelSelectorFromObject(d.spec?.selector);
        return !sel.empty() && sel.matches(rs.metadata.labels);
      } catch {
        return false;
      }
    });
  }

  private rsChanged(old: KObject | undefined, rs: KObject): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const oldRef = old ? controllerRefOf(old) : undefined;
    const curRef = controllerRefOf(rs);
    if (old && oldRef && (!curRef || curRef.uid !== oldRef.uid)) {
      const d = this.resolveOwner(old);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveOwner(rs);
      if (d) this.enqueue(d);
      return;
    }
    if (rs.metadata.deletionTimestamp) return;
    if (!old || oldRef || !jsonEqual(old.metadata.labels ?? {}, rs.metadata.labels ?? {})) for (const d of this.matchingDeployments(rs)) this.enqueue(d);
  }

  async sync(key: string): Promise<void> {
    const cached = this.dInformer.get(key);
    if (!cached) return;
    await new DeploymentSync(this, structuredClone(cached)).run();
  }
}

type Status = DeploymentStatus & Record<string, unknown>;

/** One syncDeployment pass over a private copy of the deployment and its ReplicaSets. */
class DeploymentSync {
  private readonly ns: string;
  private readonly now: Date;
  private rsList: KObject[] = [];

  constructor(
    private readonly c: DeploymentController,
    private readonly d: KObject,
  ) {
    this.ns = d.metadata.namespace ?? '';
    this.now = c.ctx.clock.now();
    d.status ??= {};
  }

  private get client() {
    return this.c.ctx.client;
  }

  private dPath(sub?: string): string {
    return resourcePath('apps', 'v1', 'deployments', this.ns, this.d.metadata.name, sub);
  }

  private rsPath(name?: string): string {
    return resourcePath('apps', 'v1', 'replicasets', this.ns, name);
  }

  async run(): Promise<void> {
    const d = this.d;
    const sel = d.spec?.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      this.c.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) await this.writeStatus({ ...d.status, observedGeneration: d.metadata.generation });
      return;
    }
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(sel);
    } catch {
      return;
    }
    this.rsList = await this.claimReplicaSets(selector);
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false);
      await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
      return;
    }
    await this.checkPausedConditions();
    if (d.spec.paused || this.isScalingEvent()) return this.syncScale();
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate();
    return this.rolloutRolling();
  }

  // ---- claiming -----------------------------------------------------------------------------

  private async claimReplicaSets(selector: LabelSelector): Promise<KObject[]> {
    const d = this.d;
    const uid = d.metadata.uid!;
    const out: KObject[] = [];
    const deleting = !!d.metadata.deletionTimestamp;
    for (const rs of this.c.rsInformer.byIndex(CONTROLLER_UID_INDEX, uid)) {
      if (rs.metadata.namespace !== this.ns) continue;
      if (selector.matches(rs.metadata.labels)) out.push(structuredClone(rs));
      else if (!deleting) {
        try {
          await call(this.client, 'PATCH', this.rsPath(rs.metadata.name), {
            contentType: 'application/strategic-merge-patch+json',
            body: { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: rs.metadata.uid } },
          });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (deleting) return out;
    let fresh: boolean | undefined;
    for (const rs of this.c.rsInformer.byIndex(ORPHAN_NS_INDEX, this.ns)) {
      if (rs.metadata.deletionTimestamp || !selector.matches(rs.metadata.labels)) continue;
      if (fresh === undefined) {
        try {
          const cur = await call(this.client, 'GET', this.dPath());
          fresh = cur.metadata.uid === uid && !cur.metadata.deletionTimestamp;
        } catch {
          fresh = false;
        }
      }
      if (!fresh) break;
      try {
        const adopted = await call(this.client, 'PATCH', this.rsPath(rs.metadata.name), {
          contentType: 'application/json-patch+json',
          body: [
            { op: 'test', path: '/metadata/uid', value: rs.metadata.uid },
            {
              op: 'add',
              path: '/metadata/ownerReferences',
              value: [
                ...(rs.metadata.ownerReferences ?? []),
                { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid, controller: true, blockOwnerDeletion: true },
              ],
            },
          ],
        });
        out.push(adopted);
      } catch (e) {
        if (!isNotFound(e)) this.c.ctx.log.debug('adopt failed', { rs: keyOf(rs), err: errorMessage(e) });
      }
    }
    return out;
  }

  /** Pods of the claimed ReplicaSets, by ReplicaSet uid. */
  private podMap(): Map<string, KObject[]> {
    const m = new Map<string, KObject[]>();
    for (const rs of this.rsList) m.set(rs.metadata.uid!, this.c.podInformer.byIndex(CONTROLLER_UID_INDEX, rs.metadata.uid!));
    return m;
  }

  // ---- writes -------------------------------------------------------------------------------

  private replace(old: KObject, next: KObject): void {
    const i = this.rsList.findIndex((r) => r.metadata.uid === old.metadata.uid);
    if (i >= 0) this.rsList[i] = next;
    else this.rsList.push(next);
  }

  private current(rs: KObject | undefined): KObject | undefined {
    return rs && this.rsList.find((r) => r.metadata.uid === rs.metadata.uid);
  }

  private async updateRS(rs: KObject): Promise<KObject> {
    const updated = await call(this.client, 'PUT', this.rsPath(rs.metadata.name), { body: rs });
    this.replace(rs, updated);
    return updated;
  }

  /** Writes status (merge patch) when it differs from what the deployment has. */
  private async writeStatus(next: Status): Promise<boolean> {
    const n = normalizeStatus(next);
    const old = normalizeStatus(this.d.status ?? {});
    if (jsonEqual(old, n)) return false;
    try {
      await call(this.client, 'PATCH', this.dPath('status'), {
        contentType: 'application/merge-patch+json',
        body: { status: statusMergePatch(this.d.status, n as Record<string, unknown>) },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.d.status = n;
    return true;
  }

  /** SetDeploymentRevision, persisted with a metadata patch (status writes keep metadata here). */
  private async setDeploymentRevision(revision: string | undefined): Promise<void> {
    if (revision === undefined || this.d.metadata.annotations?.[REVISION] === revision) return;
    this.d.metadata.annotations ??= {};
    this.d.metadata.annotations[REVISION] = revision;
    try {
      await call(this.client, 'PATCH', this.dPath(), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [REVISION]: revision } } },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  // ---- new / old ReplicaSets ----------------------------------------------------------------

  private async getAllReplicaSetsAndSyncRevision(create: boolean): Promise<{ newRS: KObject | undefined; oldRSs: KObject[] }> {
    const existing = findNewReplicaSet(this.d, this.rsList);
    const oldRSs = this.rsList.filter((r) => r !== existing);
    const newRS = await this.getNewReplicaSet(existing, oldRSs, create);
    return { newRS: this.current(newRS), oldRSs: oldRSs.map((r) => this.current(r) ?? r) };
  }

  private async getNewReplicaSet(existing: KObject | undefined, oldRSs: KObject[], create: boolean): Promise<KObject | undefined> {
    const d = this.d;
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      let rs = existing;
      const copy = structuredClone(existing);
      const annChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const mrs = d.spec?.minReadySeconds ?? 0;
      const mrsChanged = (copy.spec?.minReadySeconds ?? 0) !== mrs;
      if (annChanged || mrsChanged) {
        copy.spec.minReadySeconds = mrs;
        rs = await this.updateRS(copy);
      }
      await this.setDeploymentRevision(rs.metadata.annotations?.[REVISION]);
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const st = structuredClone(d.status) as Status;
        setCondition(st, newCondition('Progressing', 'True', Reasons.FoundNewReplicaSet, `Found new replica set "${rs.metadata.name}"`, this.now));
        await this.writeStatus(st);
      }
      return rs;
    }
    if (!create) return undefined;

    const template = structuredClone(d.spec.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const newRS: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: this.ns,
        labels: { ...template.metadata.labels },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const count = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = count;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let createdRS: KObject;
    let alreadyExists = false;
    try {
      createdRS = await call(this.client, 'POST', this.rsPath(), { body: newRS });
    } catch (e) {
      if (e instanceof StatusError && e.code === 409 && e.reason === 'AlreadyExists') {
        const rs = await call(this.client, 'GET', this.rsPath(newRS.metadata.name));
        const owned = controllerRefOf(rs)?.uid === d.metadata.uid;
        if (owned && equalIgnoreHash(rs.spec?.template, d.spec?.template)) {
          createdRS = rs;
          alreadyExists = true;
        } else {
          // A hash collision: bump collisionCount so the next attempt hashes differently.
          await this.writeStatus({ ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 });
          throw e;
        }
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata.name}": ${errorMessage(e)}`;
        if (hasProgressDeadline(d)) {
          const st = structuredClone(d.status) as Status;
          setCondition(st, newCondition('Progressing', 'False', Reasons.FailedRSCreate, msg, this.now));
          await this.writeStatus(st);
        }
        this.c.recorder.event(d, 'Warning', Reasons.FailedRSCreate, msg);
        throw e;
      }
    }
    this.replace(createdRS, createdRS);
    if (!alreadyExists && count > 0) {
      this.c.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdRS.metadata.name} from 0 to ${count}`);
    }
    await this.setDeploymentRevision(newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const st = structuredClone(d.status) as Status;
      setCondition(st, newCondition('Progressing', 'True', Reasons.NewReplicaSet, `Created new replica set "${createdRS.metadata.name}"`, this.now));
      await this.writeStatus(st);
    }
    return createdRS;
  }

  // ---- scaling ------------------------------------------------------------------------------

  /** scaleReplicaSet: size and the desired/max annotations; an event when the size changed. */
  private async scaleReplicaSet(rs: KObject, newScale: number): Promise<boolean> {
    const d = this.d;
    rs = this.current(rs) ?? rs;
    const sizeNeeds = specReplicas(rs) !== newScale;
    const desired = replicasOf(d);
    const max = desired + maxSurge(d);
    if (!sizeNeeds && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const oldScale = specReplicas(rs);
    const copy = structuredClone(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, desired, max);
    await this.updateRS(copy);
    if (sizeNeeds) {
      this.c.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${oldScale < newScale ? 'up' : 'down'} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return sizeNeeds;
  }

  private async scaleAndRecord(rs: KObject, newScale: number): Promise<boolean> {
    rs = this.current(rs) ?? rs;
    if (specReplicas(rs) === newScale) return false;
    return this.scaleReplicaSet(rs, newScale);
  }

  private isScalingEvent(): boolean {
    const d = this.d;
    const newRS = findNewReplicaSet(d, this.rsList);
    const all = [...this.rsList.filter((r) => r !== newRS), newRS];
    for (const rs of filterActive(all)) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicasOf(d)) return true;
    }
    return false;
  }

  /** scale(): resize during a rollout or while paused. */
  private async scale(newRS: KObject | undefined, oldRSs: KObject[]): Promise<void> {
    const d = this.d;
    const aol = findActiveOrLatest(newRS, oldRSs);
    if (aol) {
      if (specReplicas(aol) !== replicasOf(d)) await this.scaleAndRecord(aol, replicasOf(d));
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleAndRecord(old, 0);
      return;
    }
    if (isRollingUpdate(d)) {
      for (const [rs, size] of proportionalScale(d, newRS, oldRSs)) await this.scaleReplicaSet(rs, size);
    }
  }

  private refreshed(newRS: KObject | undefined, oldRSs: KObject[]): { newRS: KObject | undefined; oldRSs: KObject[]; all: (KObject | undefined)[] } {
    const n = this.current(newRS) ?? newRS;
    const o = oldRSs.map((r) => this.current(r) ?? r);
    return { newRS: n, oldRSs: o, all: [...o, n] };
  }

  /** sync(): scaling only (paused deployments and replicas changes mid-rollout). */
  private async syncScale(): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false);
    await this.scale(newRS, oldRSs);
    ({ newRS, oldRSs } = this.refreshed(newRS, oldRSs));
    if (this.d.spec.paused) await this.cleanupDeployment(oldRSs);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  // ---- rollouts -----------------------------------------------------------------------------

  private async rolloutRolling(): Promise<void> {
    const d = this.d;
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(true);
    let all: (KObject | undefined)[] = [...oldRSs, newRS];
    // reconcileNewReplicaSet
    let scaledUp = false;
    if (newRS && specReplicas(newRS) !== replicasOf(d)) {
      const target = specReplicas(newRS) > replicasOf(d) ? replicasOf(d) : newRSNewReplicas(d, all.filter((r): r is KObject => !!r), newRS);
      scaledUp = await this.scaleAndRecord(newRS, target);
    }
    ({ newRS, oldRSs, all } = this.refreshed(newRS, oldRSs));
    if (scaledUp) return this.syncRolloutStatus(all, newRS);
    const scaledDown = await this.reconcileOldReplicaSets(newRS, oldRSs);
    ({ newRS, oldRSs, all } = this.refreshed(newRS, oldRSs));
    if (scaledDown) return this.syncRolloutStatus(all, newRS);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs);
    return this.syncRolloutStatus(all, newRS);
  }

  private async reconcileOldReplicaSets(newRS: KObject | undefined, allOld: KObject[]): Promise<boolean> {
    const d = this.d;
    let oldRSs = filterActive(allOld);
    if (sumSpec(oldRSs) === 0) return false;
    const all = (): KObject[] => [...oldRSs, ...(newRS ? [newRS] : [])];
    const budget = maxScaledDown(d, all(), newRS);
    if (budget <= 0) return false;
    let cleaned = 0;
    for (const [rs, size] of unhealthyCleanupPlan(oldRSs, budget)) {
      cleaned += specReplicas(rs) - size;
      await this.scaleAndRecord(rs, size);
    }
    oldRSs = oldRSs.map((r) => this.current(r) ?? r);
    let scaled = 0;
    for (const [rs, size] of oldScaleDownPlan(d, all(), oldRSs)) {
      scaled += specReplicas(rs) - size;
      await this.scaleAndRecord(rs, size);
    }
    return cleaned + scaled > 0;
  }

  private async rolloutRecreate(): Promise<void> {
    const d = this.d;
    const podMap = this.podMap();
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false);
    let scaledDown = false;
    for (const rs of filterActive(oldRSs)) if (await this.scaleAndRecord(rs, 0)) scaledDown = true;
    ({ newRS, oldRSs } = this.refreshed(newRS, oldRSs));
    if (scaledDown) return this.syncRolloutStatus([...oldRSs, newRS], newRS);
    if (this.oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus([...oldRSs, newRS], newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(true));
    if (newRS) await this.scaleAndRecord(newRS, replicasOf(d));
    ({ newRS, oldRSs } = this.refreshed(newRS, oldRSs));
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs);
    return this.syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  private oldPodsRunning(newRS: KObject | undefined, oldRSs: KObject[], podMap: Map<string, KObject[]>): boolean {
    if (sumStatus(oldRSs, 'replicas') > 0) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata.uid === uid) continue;
      for (const p of pods) {
        const phase = p.status?.phase;
        if (phase === 'Failed' || phase === 'Succeeded') continue;
        return true;
      }
    }
    return false;
  }

  /** cleanupDeployment: delete the oldest fully scaled-down RSs beyond revisionHistoryLimit. */
  private async cleanupDeployment(oldRSs: KObject[]): Promise<void> {
    const limit = this.d.spec?.revisionHistoryLimit;
    if (typeof limit !== 'number') return;
    const cleanable = oldRSs.filter((r) => !r.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await call(this.client, 'DELETE', this.rsPath(rs.metadata.name), {
          body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: rs.metadata.uid } },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- status and conditions ----------------------------------------------------------------

  private calculateStatus(all: (KObject | undefined)[], newRS: KObject | undefined): Status {
    const d = this.d;
    const rss = all.filter((r): r is KObject => !!r);
    const available = sumStatus(rss, 'availableReplicas');
    const unavailable = Math.max(0, sumSpec(rss) - available);
    const status: Status = {
      observedGeneration: d.metadata.generation,
      replicas: sumStatus(rss, 'replicas'),
      updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
      readyReplicas: sumStatus(rss, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: unavailable,
      collisionCount: d.status?.collisionCount,
      conditions: structuredClone(d.status?.conditions ?? []),
    };
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(status, newCondition('Available', 'True', Reasons.MinimumReplicasAvailable, 'Deployment has minimum availability.', this.now));
    } else {
      setCondition(status, newCondition('Available', 'False', Reasons.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', this.now));
    }
    return status;
  }

  private async syncDeploymentStatus(all: (KObject | undefined)[], newRS: KObject | undefined): Promise<void> {
    await this.writeStatus(this.calculateStatus(all, newRS));
  }

  private async checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === Reasons.TimedOut) return;
    const pausedExists = cond?.reason === Reasons.Paused;
    const st = structuredClone(d.status) as Status;
    if (d.spec.paused && !pausedExists) {
      setCondition(st, newCondition('Progressing', 'Unknown', Reasons.Paused, 'Deployment is paused', this.now));
    } else if (!d.spec.paused && pausedExists) {
      setCondition(st, newCondition('Progressing', 'Unknown', Reasons.Resumed, 'Deployment is resumed', this.now));
    } else return;
    await this.writeStatus(st);
  }

  /** syncRolloutStatus: status plus the Progressing condition; requeues stuck rollouts. */
  private async syncRolloutStatus(all: (KObject | undefined)[], newRS: KObject | undefined): Promise<void> {
    const d = this.d;
    const st = this.calculateStatus(all, newRS);
    if (!hasProgressDeadline(d)) removeCondition(st, 'Progressing');
    const cur = getCondition(d.status, 'Progressing');
    const complete = st.replicas === st.updatedReplicas && cur?.reason === Reasons.NewRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      if (deploymentComplete(d, st)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setCondition(st, newCondition('Progressing', 'True', Reasons.NewRSAvailable, msg, this.now));
      } else if (deploymentProgressing(d, st)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const c = newCondition('Progressing', 'True', Reasons.ReplicaSetUpdated, msg, this.now);
        if (cur) {
          if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
          removeCondition(st, 'Progressing');
        }
        setCondition(st, c);
      } else if (deploymentTimedOut(d, st, this.now)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(st, newCondition('Progressing', 'False', Reasons.TimedOut, msg, this.now));
      }
    }
    const failure = this.replicaFailure(all, newRS);
    if (failure) setCondition(st, failure);
    else removeCondition(st, 'ReplicaFailure');
    const wrote = await this.writeStatus(st);
    if (!wrote) this.requeueStuck(st);
  }

  /** getReplicaFailures: the new RS' ReplicaFailure condition first, else any old one's. */
  private replicaFailure(all: (KObject | undefined)[], newRS: KObject | undefined) {
    const ordered = [newRS, ...all.filter((r) => r !== newRS)];
    for (const rs of ordered) {
      const c = (rs?.status?.conditions ?? []).find((x: { type: string }) => x.type === 'ReplicaFailure');
      if (c) {
        return {
          type: 'ReplicaFailure',
          status: c.status,
          lastUpdateTime: c.lastTransitionTime,
          lastTransitionTime: c.lastTransitionTime,
          reason: c.reason,
          message: c.message,
        };
      }
    }
    return undefined;
  }

  private requeueStuck(st: Status): void {
    const d = this.d;
    const cur = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cur) return;
    if (deploymentComplete(d, st) || cur.reason === Reasons.TimedOut) return;
    const due = (Date.parse(cur.lastUpdateTime ?? '') || 0) + d.spec.progressDeadlineSeconds * 1000;
    const after = due - this.now.getTime();
    const key = keyOf(d);
    if (after < 1000) this.c.queue.addRateLimited(key);
    else this.c.enqueueAfter(key, after + 1000);
  }
}

