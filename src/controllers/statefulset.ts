// StatefulSetController (pkg/controller/statefulset): pods `<set>-<ordinal>` with stable
// identity (hostname, subdomain, pod-name/pod-index labels) and storage (claims from
// volumeClaimTemplates, created before the pod, kept unless the retention policy says
// Delete). OrderedReady creates ordinals one at a time, each Running and Ready (and
// available) before the next, and removes from the highest ordinal; Parallel does all at
// once. ControllerRevisions hold the template history; RollingUpdate replaces pods from the
// highest ordinal down to the partition; OnDelete waits for the user to delete pods.
// Pure decisions live in statefulset/util.ts, revision helpers in statefulset/history.ts.
import type { KObject } from '../api/types.js';
import { labelSelectorFromObject, type LabelSelector } from '../api/labels.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { keyOf, type Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';
import { addControllerIndexes, addNamespaceIndex, controllerRefOf, errorMessage, isPodReady, jsonEqual, NAMESPACE_INDEX, runWorkers, statusMergePatch } from './replicaset.js';
import { claimObjects } from './statefulset/claim.js';
import {
  CONTROLLER_REVISION_HASH,
  controllerRevisionName,
  equalRevision,
  hashRevisionData,
  maxRevision,
  revisionNumber,
  sortRevisions,
  templatePatch,
} from './statefulset/history.js';
import {
  claimIsStale,
  claimOwnerRefs,
  claimsFor,
  computeReplicaCounts,
  identityMatches,
  isCreated,
  isFailed,
  isHealthy,
  isMemberOf,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newVersionedPod,
  ordinalOf,
  partitionPods,
  ownerRefOf,
  podRevision,
  replicasOf,
  rollingUpdateVictim,
  startOrdinal,
  updateIdentity,
} from './statefulset/util.js';

export interface StatefulSetControllerOptions {
  /** Concurrent syncs (upstream --concurrent-statefulset-syncs, default 5). */
  workers?: number;
}

const STS_PATH = (ns: string, name?: string, sub?: string) => resourcePath('apps', 'v1', 'statefulsets', ns, name, sub);
const CR_PATH = (ns: string, name?: string) => resourcePath('apps', 'v1', 'controllerrevisions', ns, name);
const POD_PATH = (ns: string, name?: string) => resourcePath('', 'v1', 'pods', ns, name);
const PVC_PATH = (ns: string, name?: string) => resourcePath('', 'v1', 'persistentvolumeclaims', ns, name);

interface Revs {
  current: KObject;
  update: KObject;
  collisionCount: number;
}

export class StatefulSetController implements Controller {
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private setInformer!: Informer;
  private podInformer!: Informer;
  private crInformer!: Informer;
  private pvcInformer!: Informer;
  private readonly workers: number;
  private stopped = false;

  constructor(
    readonly ctx: ControllerContext,
    opts: StatefulSetControllerOptions = {},
  ) {
    // Delayed requeues run on the controller's clock, so tests can drive them.
    this.queue = new WorkQueue({ clock: ctx.clock });
    this.recorder = ctx.recorder('statefulset-controller');
    this.workers = opts.workers ?? 5;
  }

  start(): void {
    const inf = this.ctx.informers;
    this.setInformer = inf.informer({ group: 'apps', version: 'v1', plural: 'statefulsets' });
    addNamespaceIndex(this.setInformer);
    this.podInformer = inf.pods();
    addControllerIndexes(this.podInformer);
    this.crInformer = inf.informer({ group: 'apps', version: 'v1', plural: 'controllerrevisions' });
    addControllerIndexes(this.crInformer);
    this.pvcInformer = inf.informer({ group: '', version: 'v1', plural: 'persistentvolumeclaims' });
    this.setInformer.addHandlers({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_o, c) => this.enqueue(c),
      onDelete: (o) => this.enqueue(o),
    });
    this.podInformer.addHandlers({
      onAdd: (p) => this.podChanged(undefined, p),
      onUpdate: (o, p) => this.podChanged(o, p),
      onDelete: (p) => this.podChanged(undefined, p),
    });
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

  private resolve(pod: KObject, ref = controllerRefOf(pod)): KObject | undefined {
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const set = this.setInformer.get(`${pod.metadata.namespace}/${ref.name}`);
    return set && set.metadata.uid === ref.uid ? set : undefined;
  }

  private podChanged(old: KObject | undefined, pod: KObject): void {
    if (old && old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const oldRef = old ? controllerRefOf(old) : undefined;
    const ref = controllerRefOf(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const s = this.resolve(old!, oldRef);
      if (s) this.enqueue(s);
    }
    if (ref) {
      const set = this.resolve(pod, ref);
      if (!set) return;
      this.enqueue(set);
      const mrs = set.spec?.minReadySeconds ?? 0;
      if (old && !isPodReady(old) && isPodReady(pod) && mrs > 0) this.enqueueAfter(keyOf(set), mrs * 1000);
      return;
    }
    // An orphan: any set whose selector matches may adopt it.
    for (const set of this.setInformer.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
      try {
        const sel = labelSelectorFromObject(set.spec?.selector, 'spec.selector');
        if (!sel.empty() && sel.matches(pod.metadata.labels)) this.enqueue(set);
      } catch {
        // invalid selector
      }
    }
  }

  // ---- sync ------------------------------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const cached = this.setInformer.get(key);
    if (!cached) return;
    const set = structuredClone(cached);
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(set.spec?.selector, 'spec.selector');
    } catch {
      return;
    }
    const ns = set.metadata.namespace ?? '';
    const claim = (informer: Informer, path: (o: KObject) => string, filter?: (o: KObject) => boolean) =>
      claimObjects({ client: this.ctx.client, informer, owner: set, ownerRef: ownerRefOf(set), ownerPath: STS_PATH(ns, set.metadata.name), selector, objectPath: path, filter });
    const revisions = await claim(this.crInformer, (r) => CR_PATH(ns, r.metadata.name));
    const pods = await claim(this.podInformer, (p) => POD_PATH(ns, p.metadata.name), (p) => isMemberOf(set, p));
    sortRevisions(revisions);
    const revs = await this.getRevisions(set, revisions);
    const status = await this.updateStatefulSet(set, revs, pods);
    await this.updateStatus(set, status);
    await this.truncateHistory(set, pods, revisions, revs);
    const mrs = set.spec?.minReadySeconds ?? 0;
    if (mrs > 0 && status['availableReplicas'] !== replicasOf(set)) this.enqueueAfter(key, mrs * 1000);
  }

  /** getStatefulSetRevisions: find or create the update revision; the current one from status. */
  private async getRevisions(set: KObject, revisions: KObject[]): Promise<Revs> {
    const ns = set.metadata.namespace ?? '';
    let collisionCount: number = set.status?.collisionCount ?? 0;
    const data = templatePatch(set);
    const candidate: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        namespace: ns,
        labels: { ...(set.spec?.template?.metadata?.labels ?? {}) },
        annotations: { ...(set.metadata.annotations ?? {}) },
        ownerReferences: [ownerRefOf(set)],
      },
      data,
      revision: maxRevision(revisions) + 1,
    };
    const equal = revisions.filter((r) => equalRevision(r, candidate));
    let update: KObject;
    const last = revisions[revisions.length - 1];
    if (equal.length > 0 && last && equalRevision(last, equal[equal.length - 1])) update = last;
    else if (equal.length > 0) {
      // Rolling back to an earlier template: that revision becomes the newest.
      update = await call(this.ctx.client, 'PATCH', CR_PATH(ns, equal[equal.length - 1]!.metadata.name), {
        contentType: 'application/merge-patch+json',
        body: { revision: revisionNumber(candidate) },
      });
    } else {
      // CreateControllerRevision: on a name collision with different data, bump collisionCount.
      for (;;) {
        const hash = hashRevisionData(data, collisionCount);
        const cr = structuredClone(candidate);
        cr.metadata.name = controllerRevisionName(set.metadata.name!, hash);
        cr.metadata.labels = { ...(cr.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash };
        try {
          update = await call(this.ctx.client, 'POST', CR_PATH(ns), { body: cr });
          break;
        } catch (e) {
          if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
          const existing = await call(this.ctx.client, 'GET', CR_PATH(ns, cr.metadata.name));
          if (equalRevision(existing, cr)) {
            update = existing;
            break;
          }
          collisionCount++;
        }
      }
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** updateStatefulSet: one step towards the spec; returns the status to record. */
  private async updateStatefulSet(set: KObject, revs: Revs, pods: KObject[]): Promise<Record<string, unknown>> {
    const now = () => this.ctx.clock.now();
    const mrs = set.spec?.minReadySeconds ?? 0;
    const status: Record<string, unknown> = {
      observedGeneration: set.metadata.generation,
      currentRevision: revs.current.metadata.name,
      updateRevision: revs.update.metadata.name,
      collisionCount: revs.collisionCount,
    };
    const { replicas: slots, condemned } = partitionPods(set, pods);
    const start = startOrdinal(set);
    for (let i = 0; i < slots.length; i++) if (!slots[i]) slots[i] = newVersionedPod(set, revs.current, revs.update, start + i);
    const replicas = slots as KObject[];
    const setCounts = () => Object.assign(status, computeReplicaCounts(mrs, revs.current.metadata.name!, revs.update.metadata.name!, now(), replicas, condemned));
    setCounts();
    let firstUnhealthy: KObject | undefined;
    for (const p of replicas) if (!firstUnhealthy && !isHealthy(p)) firstUnhealthy = p;
    for (let i = condemned.length - 1; i >= 0 && !firstUnhealthy; i--) if (!isHealthy(condemned[i]!)) firstUnhealthy = condemned[i];
    if (set.metadata.deletionTimestamp) return status;

    const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const runForAll = async (n: number, fn: (i: number) => Promise<boolean>): Promise<boolean> => {
      if (monotonic) {
        for (let i = 0; i < n; i++) if (await fn(i)) return true;
        return false;
      }
      const results = await Promise.allSettled(Array.from({ length: n }, (_x, i) => fn(i)));
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
      return false;
    };

    // processReplica: recreate failed/succeeded pods, create missing ones, enforce identity.
    const processReplica = async (i: number): Promise<boolean> => {
      let pod = replicas[i]!;
      if (isFailed(pod) || isSucceeded(pod)) {
        if (isFailed(pod)) this.recorder.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating failed Pod ${pod.metadata.name}`);
        else this.recorder.event(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating terminated Pod ${pod.metadata.name}`);
        await this.deletePod(set, pod);
        pod = replicas[i] = newVersionedPod(set, revs.current, revs.update, start + i);
      }
      if (!isCreated(pod)) {
        if (this.podClaimIsStale(set, pod)) return true;
        await this.createPod(set, pod);
        if (monotonic) return true;
        return false;
      }
      if (isPending(pod)) await this.createClaims(set, pod, false);
      if (isTerminating(pod) && monotonic) return true;
      if (!isRunningAndReady(pod) && monotonic) return true;
      if (!isRunningAndAvailable(pod, mrs, now()) && monotonic) return true;
      if (!identityMatches(set, pod)) {
        const fixed = structuredClone(pod);
        updateIdentity(set, fixed);
        await call(this.ctx.client, 'PATCH', POD_PATH(set.metadata.namespace ?? '', pod.metadata.name), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: fixed.metadata.labels } },
        });
      }
      await this.fixClaims(set, pod);
      return false;
    };
    if (await runForAll(replicas.length, processReplica)) {
      setCounts();
      return status;
    }
    // Claims of condemned pods get the scale-down ownership before their pods go.
    if (await runForAll(condemned.length, async (i) => (await this.fixClaims(set, condemned[i]!), false))) {
      setCounts();
      return status;
    }
    // processCondemned: scale down from the highest ordinal, each predecessor healthy first.
    const processCondemned = async (i: number): Promise<boolean> => {
      const pod = condemned[i]!;
      if (isTerminating(pod)) return monotonic;
      if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthy) return true;
      if (!isRunningAndAvailable(pod, mrs, now()) && monotonic && pod !== firstUnhealthy) return true;
      await this.deletePod(set, pod);
      return true;
    };
    if (await runForAll(condemned.length, processCondemned)) {
      setCounts();
      return status;
    }
    setCounts();
    if (set.spec?.updateStrategy?.type === 'OnDelete') return status;
    const victim = rollingUpdateVictim(set, replicas, revs.update.metadata.name!);
    if (victim) {
      await this.deletePod(set, victim);
      status['currentReplicas'] = (status['currentReplicas'] as number) - 1;
    }
    return status;
  }

  // ---- pods and claims -------------------------------------------------------------------------

  private podEvent(verb: string, set: KObject, pod: KObject, err?: unknown): void {
    const Verb = verb[0]!.toUpperCase() + verb.slice(1);
    if (err === undefined) this.recorder.event(set, 'Normal', `Successful${Verb}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    else this.recorder.event(set, 'Warning', `Failed${Verb}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
  }

  private claimEvent(set: KObject, pod: KObject, claim: KObject, err?: unknown): void {
    if (err === undefined) this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
    else this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
  }

  private async getClaim(ns: string, name: string): Promise<KObject | undefined> {
    const cached = this.pvcInformer.get(`${ns}/${name}`);
    if (cached) return cached;
    try {
      return await call(this.ctx.client, 'GET', PVC_PATH(ns, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** createPersistentVolumeClaims: missing claims are created (an event each). */
  private async createClaims(set: KObject, pod: KObject, record: boolean): Promise<void> {
    const ns = set.metadata.namespace ?? '';
    const errs: string[] = [];
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      let existing: KObject | undefined;
      try {
        existing = await this.getClaim(ns, claim.metadata.name!);
      } catch (e) {
        errs.push(`failed to retrieve PVC ${claim.metadata.name}: ${errorMessage(e)}`);
        this.claimEvent(set, pod, claim, e);
        continue;
      }
      if (!existing) {
        try {
          await call(this.ctx.client, 'POST', PVC_PATH(ns), { body: claim });
          this.claimEvent(set, pod, claim);
        } catch (e) {
          const exists = e instanceof StatusError && e.reason === 'AlreadyExists';
          if (!exists) {
            errs.push(`failed to create PVC ${claim.metadata.name}: ${errorMessage(e)}`);
            this.claimEvent(set, pod, claim, e);
          }
        }
      } else if (existing.metadata.deletionTimestamp) errs.push(`pvc ${claim.metadata.name} is being deleted`);
    }
    if (errs.length) {
      const err = new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
      if (record) this.podEvent('create', set, pod, err);
      throw err;
    }
  }

  private podClaimIsStale(set: KObject, pod: KObject): boolean {
    const ns = set.metadata.namespace ?? '';
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return false;
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const c = this.pvcInformer.get(`${ns}/${claim.metadata.name}`);
      if (c && claimIsStale(c, pod)) return true;
    }
    return false;
  }

  /** UpdatePodClaimForRetentionPolicy: ownerReferences of the pod's claims per the policy. */
  private async fixClaims(set: KObject, pod: KObject): Promise<void> {
    if (!pod.metadata.uid) return;
    const ns = set.metadata.namespace ?? '';
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const c = this.pvcInformer.get(`${ns}/${claim.metadata.name}`);
      if (!c) continue;
      const refs = claimOwnerRefs(c, set, pod);
      if (!refs) continue;
      try {
        await call(this.ctx.client, 'PATCH', PVC_PATH(ns, c.metadata.name), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: c.metadata.resourceVersion } },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  /** CreateStatefulPod: claims first, then the pod, then claim ownership per the policy. */
  private async createPod(set: KObject, pod: KObject): Promise<void> {
    await this.createClaims(set, pod, true);
    let created: KObject;
    try {
      created = await call(this.ctx.client, 'POST', POD_PATH(set.metadata.namespace ?? ''), { body: pod });
    } catch (e) {
      if (e instanceof StatusError && e.reason === 'AlreadyExists') throw e;
      this.podEvent('create', set, pod, e);
      throw e;
    }
    this.podEvent('create', set, pod);
    const ns = set.metadata.namespace ?? '';
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const c = await this.getClaim(ns, claim.metadata.name!);
      if (!c) continue;
      const refs = claimOwnerRefs(c, set, created);
      if (!refs) continue;
      await call(this.ctx.client, 'PATCH', PVC_PATH(ns, c.metadata.name), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { ownerReferences: refs.length ? refs : null } },
      }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }

  private async deletePod(set: KObject, pod: KObject): Promise<void> {
    try {
      await call(this.ctx.client, 'DELETE', POD_PATH(set.metadata.namespace ?? '', pod.metadata.name));
      this.podEvent('delete', set, pod);
    } catch (e) {
      if (isNotFound(e)) return;
      this.podEvent('delete', set, pod, e);
      throw e;
    }
  }

  // ---- status and history ----------------------------------------------------------------------

  private async updateStatus(set: KObject, st: Record<string, unknown>): Promise<void> {
    // completeRollingUpdate
    if (set.spec?.updateStrategy?.type === 'RollingUpdate' && st['updatedReplicas'] === st['replicas'] && st['readyReplicas'] === st['replicas']) {
      st['currentReplicas'] = st['updatedReplicas'];
      st['currentRevision'] = st['updateRevision'];
    }
    const old = set.status ?? {};
    const omitZero = (v: unknown) => (v ? v : undefined);
    const next: Record<string, unknown> = {
      ...old,
      observedGeneration: st['observedGeneration'],
      replicas: st['replicas'],
      readyReplicas: omitZero(st['readyReplicas']),
      currentReplicas: omitZero(st['currentReplicas']),
      updatedReplicas: omitZero(st['updatedReplicas']),
      currentRevision: st['currentRevision'],
      updateRevision: st['updateRevision'],
      collisionCount: st['collisionCount'],
      availableReplicas: st['availableReplicas'],
    };
    if (jsonEqual(old, next)) return;
    try {
      await call(this.ctx.client, 'PATCH', STS_PATH(set.metadata.namespace ?? '', set.metadata.name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { status: statusMergePatch(old, next) },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** truncateHistory: keep revisionHistoryLimit revisions besides the live ones. */
  private async truncateHistory(set: KObject, pods: KObject[], revisions: KObject[], revs: Revs): Promise<void> {
    const live = new Set<string>([revs.current.metadata.name!, revs.update.metadata.name!]);
    for (const p of pods) live.add(podRevision(p));
    const history = revisions.filter((r) => !live.has(r.metadata.name!));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (history.length <= limit) return;
    for (const r of history.slice(0, history.length - limit)) {
      try {
        await call(this.ctx.client, 'DELETE', CR_PATH(set.metadata.namespace ?? '', r.metadata.name));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}
