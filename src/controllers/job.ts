// JobController: upstream's pkg/controller/job (v1.32). Runs a Job's pods to completion:
// completions/parallelism in NonIndexed and Indexed modes, pod tracking through the
// batch.kubernetes.io/job-tracking finalizer and status.uncountedTerminatedPods, backoffLimit
// with the exponential pod-failure back-off, activeDeadlineSeconds, podFailurePolicy, suspend,
// and the interim (SuccessCriteriaMet / FailureTarget) then terminal (Complete / Failed) conditions.
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export const JobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const JobCompletionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const JobCompletionIndexEnv = 'JOB_COMPLETION_INDEX';
/** Upstream's DefaultJobPodFailureBackOff and the documented six-minute cap. */
export const DefaultPodFailureBackoffMs = 10_000;
export const MaxPodFailureBackoffMs = 6 * 60_000;
/** Upstream's MaxPodCreateDeletePerSync. */
const MaxPodCreateDeletePerSync = 500;
/** Expectations older than this are considered satisfied (controller.ExpectationsTimeout). */
const ExpectationsTimeoutMs = 5 * 60_000;

const OWNER_INDEX = 'job-controller/controller-uid';

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

// ---- pure helpers (unit-tested) -------------------------------------------------

export function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isPodTerminal(p: KObject): boolean {
  const phase = p.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Not terminal and not being deleted. */
export function isPodActive(p: KObject): boolean {
  return !isPodTerminal(p) && !p.metadata.deletionTimestamp;
}

export function isPodReady(p: KObject): boolean {
  return (p.status?.conditions ?? []).some((c: any) => c?.type === 'Ready' && c?.status === 'True');
}

/** podReplacementPolicy Failed (or a podFailurePolicy): only phase Failed counts as failed. */
export function onlyReplaceFailedPods(job: KObject): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy != null;
}

/** isPodFailed: phase Failed; otherwise a pod being deleted that did not succeed (unless only Failed pods count). */
export function isPodFailed(p: KObject, job: KObject): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

export function hasTrackingFinalizer(p: KObject): boolean {
  return (p.metadata.finalizers ?? []).includes(JobTrackingFinalizer);
}

export function findCondition(job: KObject, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => c?.type === type);
}

export function hasTrueCondition(job: KObject, type: string): boolean {
  return findCondition(job, type)?.status === 'True';
}

/** IsJobFinished: a Complete or Failed condition that is True. */
export function isJobFinished(job: KObject): boolean {
  return hasTrueCondition(job, 'Complete') || hasTrueCondition(job, 'Failed');
}

/** The back-off before recreating pods after `failures` consecutive failures: 10 s, 20 s, 40 s … capped. */
export function backoffDelayMs(failures: number, baseMs = DefaultPodFailureBackoffMs, maxMs = MaxPodFailureBackoffMs): number {
  if (failures <= 0) return 0;
  const d = baseMs * 2 ** Math.min(failures - 1, 30);
  return Math.min(d, maxMs);
}

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** How long until pods may be created again (0 when they may be now). */
export function backoffRemainingMs(rec: BackoffRecord | undefined, nowMs: number): number {
  if (!rec || rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  const d = backoffDelayMs(rec.failuresAfterLastSuccess);
  const elapsed = nowMs - rec.lastFailureTime;
  return elapsed >= d ? 0 : d - elapsed;
}

/** When a pod finished: its containers' latest finishedAt, else its deletion time, else `fallback`. */
export function podFinishTime(p: KObject, fallback: number): number {
  let t = -1;
  for (const cs of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const f = cs?.state?.terminated?.finishedAt;
    if (f) t = Math.max(t, Date.parse(f));
  }
  if (t >= 0) return t;
  if (p.metadata.deletionTimestamp) return Date.parse(p.metadata.deletionTimestamp);
  return fallback;
}

/** newBackoffRecord: failures after the last success, and when the last one happened. */
export function nextBackoffRecord(prev: BackoffRecord | undefined, newSucceeded: number[], newFailed: number[]): BackoffRecord {
  const rec: BackoffRecord = prev ? { ...prev } : { failuresAfterLastSuccess: 0 };
  if (newSucceeded.length === 0) {
    if (newFailed.length === 0) return rec;
    rec.failuresAfterLastSuccess += newFailed.length;
    rec.lastFailureTime = Math.max(rec.lastFailureTime ?? -Infinity, ...newFailed);
    return rec;
  }
  if (newFailed.length === 0) return { failuresAfterLastSuccess: 0 };
  const lastFailure = Math.max(...newFailed);
  const lastSuccess = Math.max(...newSucceeded);
  if (lastFailure > lastSuccess) {
    return { failuresAfterLastSuccess: newFailed.filter((t) => t > lastSuccess).length, lastFailureTime: lastFailure };
  }
  return { failuresAfterLastSuccess: 0 };
}

/** How many pods should be active (NonIndexed and Indexed alike). */
export function wantActivePods(completions: number | null | undefined, parallelism: number, succeeded: number, active: number): number {
  if (completions == null) return succeeded > 0 ? active : parallelism;
  return Math.max(0, Math.min(completions - succeeded, parallelism));
}

/** "1,3-5,7" → {1,3,4,5,7} (indexes ≥ completions are dropped). */
export function parseIndexes(s: string | undefined, completions = Infinity): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = parseInt(a!, 10);
    const hi = b === undefined ? lo : parseInt(b, 10);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** {0,1,2,4} → "0-2,4". */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The completion index of a pod (annotation), or -1. */
export function completionIndex(p: KObject): number {
  const v = p.metadata.annotations?.[JobCompletionIndexAnnotation];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  return parseInt(v, 10);
}

/** firstPendingIndexes: the lowest `count` indexes below `completions` neither succeeded nor taken. */
export function firstPendingIndexes(count: number, completions: number, succeeded: Set<number>, taken: Set<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!succeeded.has(i) && !taken.has(i)) out.push(i);
  return out;
}

/** controller.ActivePods ordering: the pods to delete first come first. */
export function sortPodsForDeletion(pods: KObject[]): KObject[] {
  const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
  const restarts = (p: KObject) => (p.status?.containerStatuses ?? []).reduce((s: number, c: any) => s + (c?.restartCount ?? 0), 0);
  return [...pods].sort((a, b) => {
    const na = a.spec?.nodeName ? 1 : 0;
    const nb = b.spec?.nodeName ? 1 : 0;
    if (na !== nb) return na - nb;
    const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
    const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    const xa = restarts(a);
    const xb = restarts(b);
    if (xa !== xb) return xb - xa;
    const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    return cb - ca;
  });
}

export interface PodFailurePolicyMatch {
  /** FailJob message, when a FailJob rule matched. */
  failJobMessage?: string;
  countFailed: boolean;
  action?: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
}

/** matchPodFailurePolicy: the first rule matching a failed pod's exit codes or conditions. */
export function matchPodFailurePolicy(policy: any, pod: KObject): PodFailurePolicyMatch {
  const rules: any[] = policy?.rules ?? [];
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index];
    const act = (action: string, msg: () => string): PodFailurePolicyMatch | undefined => {
      switch (action) {
        case 'Ignore':
          return { countFailed: false, action: 'Ignore' };
        case 'Count':
          return { countFailed: true, action: 'Count' };
        case 'FailIndex':
          return { countFailed: true, action: 'FailIndex' };
        case 'FailJob':
          return { countFailed: true, action: 'FailJob', failJobMessage: msg() };
      }
      return undefined;
    };
    if (rule?.onExitCodes) {
      const req = rule.onExitCodes;
      const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const cs of statuses) {
        const term = cs?.state?.terminated;
        if (!term) continue;
        if (req.containerName != null && req.containerName !== cs.name) continue;
        const code = term.exitCode ?? 0;
        if (code === 0) continue;
        const values: number[] = req.values ?? [];
        const inValues = values.includes(code);
        if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) {
          const r = act(rule.action, () => `Container ${cs.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching ${rule.action} rule at index ${index}`);
          if (r) return r;
          break;
        }
      }
    } else if (rule?.onPodConditions) {
      for (const pattern of rule.onPodConditions as any[]) {
        const c = (pod.status?.conditions ?? []).find((x: any) => x?.type === pattern?.type && x?.status === (pattern?.status ?? 'True'));
        if (c) {
          const r = act(rule.action, () => `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${c.type} matching ${rule.action} rule at index ${index}`);
          if (r) return r;
          break;
        }
      }
    }
  }
  return { countFailed: true };
}

/** ensureJobConditionStatus: set (or update) a condition, keeping lastTransitionTime when the status is unchanged. */
export function setCondition(conds: JobCondition[], type: string, status: string, reason: string, message: string, now: string): JobCondition[] {
  const out = [...conds];
  const i = out.findIndex((c) => c.type === type);
  if (i < 0) {
    if (status === 'False') return out; // upstream does not add a False condition that never existed
    out.push({ type, status, lastProbeTime: now, lastTransitionTime: now, reason, message });
    return out;
  }
  const c = out[i]!;
  if (c.status === status && c.reason === reason && c.message === message) return out;
  out[i] = {
    type,
    status,
    lastProbeTime: now,
    lastTransitionTime: c.status === status ? c.lastTransitionTime ?? now : now,
    reason,
    message,
  };
  return out;
}

/** The pod a Job creates for one slot (index undefined for NonIndexed). */
export function podFromTemplate(job: KObject, index?: number): KObject {
  const tmpl = structuredClone(job.spec?.template ?? {});
  const tm = tmpl.metadata ?? {};
  const labels: Record<string, string> = { ...(tm.labels ?? {}) };
  const annotations: Record<string, string> = { ...(tm.annotations ?? {}) };
  const spec = tmpl.spec ?? {};
  const name = job.metadata.name!;
  if (index !== undefined) {
    annotations[JobCompletionIndexAnnotation] = String(index);
    labels[JobCompletionIndexAnnotation] = String(index);
    if (!spec.hostname) spec.hostname = `${name}-${index}`;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const env: any[] = (c.env ??= []);
      if (!env.some((e) => e?.name === JobCompletionIndexEnv)) {
        env.push({ name: JobCompletionIndexEnv, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${JobCompletionIndexAnnotation}']` } } });
      }
    }
  }
  const finalizers = [...(tm.finalizers ?? [])];
  if (!finalizers.includes(JobTrackingFinalizer)) finalizers.push(JobTrackingFinalizer);
  const metadata: any = {
    generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
    namespace: job.metadata.namespace,
    labels,
    finalizers,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
  };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

function controllerRef(o: KObject): any | undefined {
  return (o.metadata.ownerReferences ?? []).find((r: any) => r?.controller === true);
}

function jobOwnerOf(p: KObject): any | undefined {
  const r = controllerRef(p);
  return r && r.kind === 'Job' && typeof r.apiVersion === 'string' && r.apiVersion.startsWith('batch/') ? r : undefined;
}

// ---- the controller ------------------------------------------------------------

interface Expectations {
  adds: number;
  dels: Set<string>;
  at: number;
}

export class JobController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 60_000 });
  private jobs!: Informer;
  private pods!: Informer;
  private readonly recorder: EventRecorder;
  private stopped = false;
  private readonly expectations = new Map<string, Expectations>();
  /** Pod UIDs whose tracking finalizer we removed but the cache may still show. */
  private readonly rmFinalizerExpected = new Set<string>();
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly timers = new Map<string, { at: number; cancel(): void }>();
  private readonly workers: number;

  constructor(
    readonly ctx: ControllerContext,
    opts: { workers?: number } = {},
  ) {
    this.recorder = ctx.recorder('job-controller');
    this.workers = opts.workers ?? 5;
  }

  start(): void {
    this.jobs = this.ctx.informers.informer({ group: 'batch', version: 'v1', plural: 'jobs' });
    this.pods = this.ctx.informers.pods();
    this.pods.addIndexer(OWNER_INDEX, (p) => {
      const r = jobOwnerOf(p);
      return r?.uid ? [r.uid] : [];
    });
    this.jobs.addHandlers({
      onAdd: (j) => this.enqueue(j),
      onUpdate: (_o, j) => this.enqueue(j),
      onDelete: (j) => {
        if (this.stopped) return;
        // Pods of a deleted Job must not keep their tracking finalizer.
        void this.releaseOrphanPods(j.metadata.uid!).catch(() => {});
        const k = `${j.metadata.namespace}/${j.metadata.name}`;
        this.expectations.delete(k);
        this.backoff.delete(k);
        this.timers.get(k)?.cancel();
        this.timers.delete(k);
      },
    });
    this.pods.addHandlers({
      onAdd: (p) => this.podEvent(p, 'add'),
      onUpdate: (o, p) => this.podEvent(p, 'update', o),
      onDelete: (p) => this.podEvent(p, 'delete'),
    });
    for (let i = 0; i < this.workers; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private enqueue(j: KObject): void {
    if (this.stopped) return;
    this.queue.add(`${j.metadata.namespace}/${j.metadata.name}`);
  }

  private enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.queue.add(key);
    const at = this.ctx.clock.now().getTime() + ms;
    const prev = this.timers.get(key);
    if (prev && prev.at <= at) return;
    prev?.cancel();
    const h = this.ctx.clock.setTimeout(() => {
      if (this.timers.get(key) === entry) this.timers.delete(key);
      this.queue.add(key);
    }, ms);
    const entry = { at, cancel: () => h.cancel() };
    this.timers.set(key, entry);
  }

  private podEvent(p: KObject, kind: 'add' | 'update' | 'delete', old?: KObject): void {
    if (this.stopped) return;
    const uid = p.metadata.uid!;
    if (kind === 'delete' || !hasTrackingFinalizer(p)) this.rmFinalizerExpected.delete(uid);
    const ref = jobOwnerOf(p);
    if (!ref) return;
    const key = `${p.metadata.namespace}/${ref.name}`;
    const exp = this.expectations.get(key);
    if (exp) {
      if (kind === 'add') exp.adds--;
      if (kind === 'delete' || p.metadata.deletionTimestamp) exp.dels.delete(uid);
    }
    const job = this.jobs.get(key);
    if (!job || job.metadata.uid !== ref.uid) {
      // The owner is gone: a pod left with the tracking finalizer would never go away.
      if (kind !== 'delete' && this.jobs.hasSynced() && hasTrackingFinalizer(p) && !job) void this.removeFinalizer(p).catch(() => {});
      return;
    }
    if (kind === 'update' && old && old.metadata.resourceVersion === p.metadata.resourceVersion) return;
    this.queue.add(key);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 409)) this.ctx.log.warn('job sync failed', { job: key, error: (e as Error).message });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return this.ctx.clock.now().getTime() - e.at > ExpectationsTimeoutMs;
  }

  private async releaseOrphanPods(uid: string): Promise<void> {
    await Promise.all(this.pods.byIndex(OWNER_INDEX, uid).filter(hasTrackingFinalizer).map((p) => this.removeFinalizer(p)));
  }

  private async removeFinalizer(p: KObject): Promise<boolean> {
    this.rmFinalizerExpected.add(p.metadata.uid!);
    try {
      await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), {
        contentType: 'application/strategic-merge-patch+json',
        body: { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JobTrackingFinalizer] } },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return true;
      this.rmFinalizerExpected.delete(p.metadata.uid!);
      throw e;
    }
  }

  private async deletePod(job: KObject, p: KObject, exp: Expectations): Promise<boolean> {
    exp.dels.add(p.metadata.uid!);
    try {
      await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } },
      });
      this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      return true;
    } catch (e) {
      exp.dels.delete(p.metadata.uid!);
      if (isNotFound(e)) return false;
      this.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
      throw e;
    }
  }

  private expectationsFor(key: string): Expectations {
    let e = this.expectations.get(key);
    if (!e || (e.adds <= 0 && e.dels.size === 0)) {
      e = { adds: 0, dels: new Set(), at: this.ctx.clock.now().getTime() };
      this.expectations.set(key, e);
    }
    return e;
  }

  /** Deletes pods (in parallel); returns how many deletions were issued. */
  private async deletePods(key: string, job: KObject, pods: KObject[]): Promise<number> {
    if (!pods.length) return 0;
    const exp = this.expectationsFor(key);
    exp.at = this.ctx.clock.now().getTime();
    const results = await Promise.allSettled(pods.map((p) => this.deletePod(job, p, exp)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return results.filter((r) => r.status === 'fulfilled' && r.value).length;
  }

  /** Creates pods in slow-start batches (1, 2, 4 …); returns how many were created. */
  private async createPods(key: string, job: KObject, slots: (number | undefined)[]): Promise<number> {
    const exp = this.expectationsFor(key);
    exp.at = this.ctx.clock.now().getTime();
    exp.adds += slots.length;
    let created = 0;
    let batch = 1;
    let i = 0;
    let error: unknown;
    while (i < slots.length && !error) {
      const chunk = slots.slice(i, i + batch);
      i += chunk.length;
      const res = await Promise.allSettled(
        chunk.map(async (ix) => {
          const pod = await call(this.ctx.client, 'POST', resourcePath('', 'v1', 'pods', job.metadata.namespace), { body: podFromTemplate(job, ix) });
          this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        }),
      );
      for (const r of res) {
        if (r.status === 'fulfilled') created++;
        else {
          exp.adds--;
          error ??= r.reason;
          const e = r.reason as Error;
          // A namespace being deleted refuses new pods; that is not worth an event.
          if (!(e instanceof StatusError && e.code === 403 && /being terminated/.test(e.message))) {
            this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${e.message}`);
          }
        }
      }
      batch *= 2;
    }
    // Slots never attempted are no longer expected.
    exp.adds -= slots.length - i;
    if (error) throw error;
    return created;
  }

  async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.backoff.delete(key);
      return;
    }
    const job = structuredClone(cached);
    const pods = this.pods.byIndex(OWNER_INDEX, job.metadata.uid!);
    // A Job being deleted or already finished only lets go of its pods.
    if (job.metadata.deletionTimestamp || isJobFinished(job)) {
      await Promise.all(pods.filter((p) => hasTrackingFinalizer(p) && !this.rmFinalizerExpected.has(p.metadata.uid!)).map((p) => this.removeFinalizer(p)));
      return;
    }

    const now = this.ctx.clock.now();
    const nowMs = now.getTime();
    const nowS = ts(now);
    const spec = job.spec ?? {};
    const status: any = structuredClone(job.status ?? {});
    const oldStatus = structuredClone(job.status ?? {});
    const isIndexed = spec.completionMode === 'Indexed';
    const completions: number | null = spec.completions ?? null;
    const parallelism: number = spec.parallelism ?? 1;
    const backoffLimit: number = spec.backoffLimit ?? 6;
    const suspended = spec.suspend === true;
    const pfp = spec.podFailurePolicy;

    const tracked = (p: KObject) => hasTrackingFinalizer(p) && !this.rmFinalizerExpected.has(p.metadata.uid!);
    const uncS = new Set<string>(status.uncountedTerminatedPods?.succeeded ?? []);
    const uncF = new Set<string>(status.uncountedTerminatedPods?.failed ?? []);
    const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
    const succeededIdx = isIndexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
    if (isIndexed) for (const u of uncS) {
      const ix = byUid.get(u) ? completionIndex(byUid.get(u)!) : -1;
      if (ix >= 0 && ix < (completions ?? 0)) succeededIdx.add(ix);
    }

    // Newly finished pods (still holding the finalizer, not yet in uncounted).
    const newSucceeded: KObject[] = [];
    const newFailed: KObject[] = [];
    const newFailedCounted: KObject[] = [];
    for (const p of pods) {
      const uid = p.metadata.uid!;
      if (!tracked(p) || uncS.has(uid) || uncF.has(uid)) continue;
      if (p.status?.phase === 'Succeeded') newSucceeded.push(p);
      else if (isPodFailed(p, job)) {
        newFailed.push(p);
        if (!pfp || matchPodFailurePolicy(pfp, p).countFailed) newFailedCounted.push(p);
      }
    }
    const newSucceededCounted: KObject[] = [];
    for (const p of newSucceeded) {
      if (!isIndexed) newSucceededCounted.push(p);
      else {
        const ix = completionIndex(p);
        if (ix >= 0 && ix < (completions ?? 0) && !succeededIdx.has(ix)) {
          succeededIdx.add(ix);
          newSucceededCounted.push(p);
        }
      }
    }
    const succeeded = isIndexed ? succeededIdx.size : (status.succeeded ?? 0) + uncS.size + newSucceededCounted.length;
    const failed = (status.failed ?? 0) + uncF.size + newFailedCounted.length;

    let active = pods.filter(isPodActive);
    let terminating = pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p)).length;
    const backoffRec = nextBackoffRecord(
      this.backoff.get(key),
      newSucceeded.map((p) => podFinishTime(p, nowMs)),
      newFailed.map((p) => podFinishTime(p, nowMs)),
    );

    let conditions: JobCondition[] = status.conditions ?? [];
    if (!status.startTime && !suspended) status.startTime = nowS;

    // What finishes the Job, if anything.
    let finished: { type: 'Complete' | 'Failed'; reason: string; message: string } | undefined;
    const ft = findCondition(job, 'FailureTarget');
    const scm = findCondition(job, 'SuccessCriteriaMet');
    if (ft?.status === 'True') finished = { type: 'Failed', reason: ft.reason ?? '', message: ft.message ?? '' };
    else if (scm?.status === 'True') finished = { type: 'Complete', reason: scm.reason ?? '', message: scm.message ?? '' };
    else if (pfp) {
      for (const p of pods) {
        if (p.status?.phase !== 'Failed' || !tracked(p)) continue;
        const m = matchPodFailurePolicy(pfp, p);
        if (m.failJobMessage) {
          finished = { type: 'Failed', reason: 'PodFailurePolicy', message: m.failJobMessage };
          break;
        }
      }
    }
    if (!finished) {
      const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' && backoffLimit >= 0 && pastBackoffLimitOnFailure(active, backoffLimit);
      if (failed > backoffLimit || restarts) finished = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      else if (spec.activeDeadlineSeconds != null && status.startTime && !suspended) {
        const deadline = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000;
        if (nowMs >= deadline) finished = { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        else this.enqueueAfter(key, deadline - nowMs);
      }
    }

    const satisfied = this.satisfied(key);
    if (!finished) {
      if (suspended) {
        if (satisfied && active.length) {
          const n = await this.deletePods(key, job, active);
          terminating += n;
          active = [];
        }
        if (!hasTrueCondition(job, 'Suspended')) {
          conditions = setCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowS);
          this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
        }
      } else {
        if (hasTrueCondition(job, 'Suspended')) {
          conditions = setCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', nowS);
          // Resumed Jobs get a fresh start time (activeDeadlineSeconds counts from here).
          status.startTime = nowS;
          this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
        }
        if (satisfied) {
          const r = await this.manage(key, job, active, terminating, succeeded, succeededIdx, backoffRec, nowMs);
          active = r.active;
          terminating += r.deleted;
        }
      }
      const complete = completions == null ? succeeded > 0 && active.length === 0 : succeeded >= completions;
      if (complete) finished = { type: 'Complete', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    }
    if (finished) {
      if (finished.type === 'Failed' && ft?.status !== 'True') conditions = setCondition(conditions, 'FailureTarget', 'True', finished.reason, finished.message, nowS);
      if (finished.type === 'Complete' && scm?.status !== 'True') conditions = setCondition(conditions, 'SuccessCriteriaMet', 'True', finished.reason, finished.message, nowS);
      if (active.length) {
        terminating += await this.deletePods(key, job, active);
        active = [];
      }
    }

    // Pods whose finalizer can go: terminal, failed-by-deletion, or any pod once the Job is finished.
    const failedFinish = finished?.type === 'Failed';
    const toRelease: KObject[] = [];
    for (const p of pods) {
      if (!tracked(p)) continue;
      const uid = p.metadata.uid!;
      const considerFailed = isPodFailed(p, job);
      if (!(finished || p.status?.phase === 'Succeeded' || considerFailed)) continue;
      toRelease.push(p);
      if (uncS.has(uid) || uncF.has(uid)) continue;
      if (p.status?.phase === 'Succeeded') {
        if (newSucceededCounted.includes(p)) uncS.add(uid);
      } else if (considerFailed || failedFinish) {
        const ix = completionIndex(p);
        if (isIndexed && !(ix >= 0 && ix < (completions ?? 0))) continue;
        if (!pfp || matchPodFailurePolicy(pfp, p).countFailed) uncF.add(uid);
      }
    }

    status.conditions = conditions;
    let nSucceeded: number = status.succeeded ?? 0;
    let nFailed: number = status.failed ?? 0;
    let done = isIndexed ? parseIndexes(oldStatus.completedIndexes, completions ?? 0) : new Set<number>();
    // Go's omitempty: zero counters and empty strings are not written.
    const fill = () => {
      status.uncountedTerminatedPods = {};
      if (uncS.size) status.uncountedTerminatedPods.succeeded = [...uncS];
      if (uncF.size) status.uncountedTerminatedPods.failed = [...uncF];
      for (const [k, v] of [['active', active.length], ['succeeded', nSucceeded], ['failed', nFailed]] as const) {
        if (v) status[k] = v;
        else delete status[k];
      }
      status.ready = active.filter(isPodReady).length;
      status.terminating = terminating;
      if (!status.conditions?.length) delete status.conditions;
      if (isIndexed && done.size) status.completedIndexes = formatIndexes(done);
      else delete status.completedIndexes;
    };
    fill();
    let current = job;
    const putStatus = async () => {
      if (JSON.stringify(normalize(status)) === JSON.stringify(normalize(current.status ?? {}))) return;
      current = await call(this.ctx.client, 'PUT', resourcePath('batch', 'v1', 'jobs', job.metadata.namespace, job.metadata.name, 'status'), {
        body: structuredClone({ ...current, status }),
      });
    };

    // 1. Record who is about to be counted before the finalizers (the only other record) go.
    await putStatus();
    this.backoff.set(key, backoffRec);
    // 2. Remove the finalizers; 3. move the released pods from uncounted into the counters.
    const released = new Set<string>();
    const results = await Promise.allSettled(
      toRelease.map(async (p) => {
        if (await this.removeFinalizer(p)) released.add(p.metadata.uid!);
      }),
    );
    for (const u of [...uncS, ...uncF]) {
      const p = byUid.get(u);
      if (!p || !hasTrackingFinalizer(p)) released.add(u);
    }
    for (const u of [...uncS]) {
      if (!released.has(u)) continue;
      uncS.delete(u);
      if (isIndexed) {
        const p = byUid.get(u);
        const ix = p ? completionIndex(p) : -1;
        if (ix >= 0 && ix < (completions ?? 0) && !done.has(ix)) {
          done = new Set(done).add(ix);
          nSucceeded++;
        }
      } else nSucceeded++;
    }
    for (const u of [...uncF]) {
      if (!released.has(u)) continue;
      uncF.delete(u);
      nFailed++;
    }
    fill();

    // The terminal condition waits until every pod has terminated and been counted.
    if (finished && terminating === 0 && uncS.size === 0 && uncF.size === 0) {
      status.conditions = setCondition(status.conditions ?? [], finished.type, 'True', finished.reason, finished.message, nowS);
      if (finished.type === 'Complete') {
        status.completionTime = nowS;
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      } else {
        this.recorder.event(job, 'Warning', finished.reason, finished.message);
      }
    }
    await putStatus();
    const failedRelease = results.find((r) => r.status === 'rejected');
    if (failedRelease) throw (failedRelease as PromiseRejectedResult).reason;
    if (finished && (terminating > 0 || uncS.size || uncF.size)) this.enqueueAfter(key, 1000);
  }

  /** manageJob: delete surplus active pods and create missing ones (after the failure back-off). */
  private async manage(
    key: string,
    job: KObject,
    active: KObject[],
    terminating: number,
    succeeded: number,
    succeededIdx: Set<number>,
    backoffRec: BackoffRecord,
    nowMs: number,
  ): Promise<{ active: KObject[]; deleted: number }> {
    const spec = job.spec ?? {};
    const parallelism: number = spec.parallelism ?? 1;
    const completions: number | null = spec.completions ?? null;
    const isIndexed = spec.completionMode === 'Indexed';
    let deleted = 0;
    let remaining = active;

    if (isIndexed) {
      // Pods whose index already succeeded, is out of range or is duplicated go first.
      const seen = new Set<number>();
      const surplus: KObject[] = [];
      for (const p of sortPodsForDeletion(active).reverse()) {
        const ix = completionIndex(p);
        if (ix < 0 || ix >= (completions ?? 0) || succeededIdx.has(ix) || seen.has(ix)) surplus.push(p);
        else seen.add(ix);
      }
      if (surplus.length) {
        deleted += await this.deletePods(key, job, surplus.slice(0, MaxPodCreateDeletePerSync));
        remaining = active.filter((p) => !surplus.includes(p));
      }
    }
    const wantActive = wantActivePods(completions, parallelism, succeeded, remaining.length);
    const rm = remaining.length - wantActive;
    if (rm > 0) {
      let victims = sortPodsForDeletion(remaining).slice(0, rm);
      if (isIndexed) victims = [...remaining].sort((a, b) => completionIndex(b) - completionIndex(a)).slice(0, rm);
      deleted += await this.deletePods(key, job, victims.slice(0, MaxPodCreateDeletePerSync));
      remaining = remaining.filter((p) => !victims.includes(p));
      return { active: remaining, deleted };
    }
    let diff = wantActive - remaining.length;
    if (onlyReplaceFailedPods(job)) diff -= terminating;
    if (diff <= 0) return { active: remaining, deleted };
    const wait = backoffRemainingMs(backoffRec, nowMs);
    if (wait > 0) {
      this.enqueueAfter(key, wait);
      return { active: remaining, deleted };
    }
    diff = Math.min(diff, MaxPodCreateDeletePerSync);
    let slots: (number | undefined)[];
    if (isIndexed) {
      const taken = new Set(remaining.map(completionIndex));
      slots = firstPendingIndexes(diff, completions ?? 0, succeededIdx, taken);
    } else slots = new Array<undefined>(diff).fill(undefined);
    const created = await this.createPods(key, job, slots);
    // Created pods count as active at once (upstream adds them to status.active the same way).
    const placeholders = new Array<KObject>(created).fill({ metadata: {} } as KObject);
    return { active: [...remaining, ...placeholders], deleted };
  }
}

/** pastBackoffLimitOnFailure: restartPolicy OnFailure pods' container restarts reached backoffLimit. */
function pastBackoffLimitOnFailure(active: KObject[], backoffLimit: number): boolean {
  let restarts = 0;
  for (const p of active) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs?.restartCount ?? 0;
  }
  if (backoffLimit === 0) return restarts > 0;
  return restarts >= backoffLimit;
}

/** Status comparison that ignores key order and empty optional lists. */
function normalize(s: any): any {
  return JSON.parse(JSON.stringify(s, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v)));
}
