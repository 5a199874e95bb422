// CronJobController: upstream's pkg/controller/cronjob (cronjob_controllerv2, v1.32).
// Creates a Job from spec.jobTemplate at each scheduled time (in spec.timeZone), honouring
// concurrencyPolicy, startingDeadlineSeconds and suspend; keeps status.active /
// lastScheduleTime / lastSuccessfulTime; deletes finished Jobs beyond the history limits;
// and requeues itself for the next scheduled time on the injectable clock.
import { nextRun, parseCron, type CronSchedule } from '../api/cron.js';
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';
import { isJobFinished, findCondition, ts } from './job.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export const CronJobScheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream's nextScheduleDelta: wake a little after the scheduled time. */
const NextScheduleDeltaMs = 100;
const OWNER_INDEX = 'cronjob-controller/controller-uid';

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobNameFor(cronJobName: string, scheduled: Date): string {
  return `${cronJobName}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** The wall time of `d` in `tz` as RFC 3339 with its offset (Go's time.Format(time.RFC3339)). */
export function rfc3339In(d: Date, tz?: string): string {
  if (!tz || tz === 'UTC' || tz === 'Etc/UTC') return ts(d);
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  for (const p of f.formatToParts(d)) if (p.type !== 'literal') parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour! % 24, +parts.minute!, +parts.second!);
  const offMin = Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
  const body = `${parts.year}-${parts.month}-${parts.day}T${String(+parts.hour! % 24).padStart(2, '0')}:${parts.minute}:${parts.second}`;
  if (offMin === 0) return `${body}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${body}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
export function rfc1123z(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export interface ScheduleTimes {
  earliest: Date;
  mostRecent?: Date;
  missed: number;
}

/**
 * mostRecentScheduleTime: the latest scheduled time in (earliest, now], where earliest is
 * lastScheduleTime (else creationTimestamp), moved up to now - startingDeadlineSeconds.
 */
export function mostRecentScheduleTime(cj: KObject, now: Date, sched: CronSchedule, includeDeadline: boolean): ScheduleTimes {
  const tz = cj.spec?.timeZone || 'UTC';
  let earliest = new Date(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? now.toISOString());
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeDeadline && sds != null) {
    const deadline = new Date(now.getTime() - sds * 1000);
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = nextRun(sched, earliest, tz);
  if (!t1 || now < t1) return { earliest, missed: 0 };
  const t2 = nextRun(sched, t1, tz);
  if (!t2 || now < t2) return { earliest, mostRecent: t1, missed: 1 };
  const between = Math.round((t2.getTime() - t1.getTime()) / 1000);
  if (between < 1) throw new Error('time difference between two schedules is less than 1 second');
  const elapsed = Math.floor((now.getTime() - t1.getTime()) / 1000);
  const missed = Math.floor(elapsed / between) + 1;
  // Jump close to now, then walk the schedule (exact for irregular schedules too).
  let start = new Date(t1.getTime() + (missed - 2) * between * 1000);
  if (start < earliest) start = earliest;
  let mostRecent: Date | undefined;
  for (let t = nextRun(sched, start, tz); t && t <= now; t = nextRun(sched, t, tz)) mostRecent = t;
  if (!mostRecent) {
    // The estimate overshot (irregular schedule): walk from the start.
    for (let t: Date | null = t1; t && t <= now; t = nextRun(sched, t, tz)) mostRecent = t;
  }
  return { earliest, mostRecent, missed };
}

/** nextScheduleTimeDuration: how long until the next scheduled time (plus a small delta). */
export function nextScheduleDelayMs(cj: KObject, now: Date, sched: CronSchedule): number | undefined {
  const tz = cj.spec?.timeZone || 'UTC';
  const { earliest, mostRecent } = mostRecentScheduleTime(cj, now, sched, false);
  const next = nextRun(sched, mostRecent ?? earliest, tz);
  if (!next) return undefined;
  return Math.max(0, next.getTime() + NextScheduleDeltaMs - now.getTime());
}

/** getJobFromTemplate2: the Job a CronJob creates for one scheduled time. */
export function jobFromTemplate(cj: KObject, scheduled: Date): KObject {
  const jt = structuredClone(cj.spec?.jobTemplate ?? {});
  const annotations: Record<string, string> = { ...(jt.metadata?.annotations ?? {}) };
  annotations[CronJobScheduledTimestampAnnotation] = rfc3339In(scheduled, cj.spec?.timeZone);
  const metadata: any = {
    name: jobNameFor(cj.metadata.name!, scheduled),
    namespace: cj.metadata.namespace,
    annotations,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }],
  };
  if (jt.metadata?.labels) metadata.labels = { ...jt.metadata.labels };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: jt.spec ?? {} };
}

/** The jobs to delete so at most `limit` remain, oldest (by status.startTime) first. */
export function oldestJobsBeyond(jobs: KObject[], limit: number): KObject[] {
  if (jobs.length <= limit) return [];
  const sorted = [...jobs].sort((a, b) => {
    const sa = a.status?.startTime;
    const sb = b.status?.startTime;
    if (!sa && sb) return 1;
    if (sa && !sb) return -1;
    if (sa === sb || (sa && sb && Date.parse(sa) === Date.parse(sb))) return a.metadata.name! < b.metadata.name! ? -1 : 1;
    return Date.parse(sa!) - Date.parse(sb!);
  });
  return sorted.slice(0, jobs.length - limit);
}

function finishedType(job: KObject): 'Complete' | 'Failed' | undefined {
  if (findCondition(job, 'Complete')?.status === 'True') return 'Complete';
  if (findCondition(job, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

function cronOwnerOf(o: KObject): any | undefined {
  const r = (o.metadata.ownerReferences ?? []).find((x: any) => x?.controller === true);
  return r && r.kind === 'CronJob' && typeof r.apiVersion === 'string' && r.apiVersion.startsWith('batch/') ? r : undefined;
}

export class CronJobController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 60_000 });
  private cronjobs!: Informer;
  private jobs!: Informer;
  private readonly recorder: EventRecorder;
  private stopped = false;
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('cronjob-controller');
  }

  start(): void {
    this.cronjobs = this.ctx.informers.informer({ group: 'batch', version: 'v1', plural: 'cronjobs' });
    this.jobs = this.ctx.informers.informer({ group: 'batch', version: 'v1', plural: 'jobs' });
    this.jobs.addIndexer(OWNER_INDEX, (j) => {
      const r = cronOwnerOf(j);
      return r?.uid ? [r.uid] : [];
    });
    this.cronjobs.addHandlers({
      onAdd: (c) => this.enqueue(`${c.metadata.namespace}/${c.metadata.name}`),
      onUpdate: (_o, c) => this.enqueue(`${c.metadata.namespace}/${c.metadata.name}`),
      onDelete: (c) => {
        const k = `${c.metadata.namespace}/${c.metadata.name}`;
        this.timers.get(k)?.cancel();
        this.timers.delete(k);
      },
    });
    const onJob = (j: KObject) => {
      const r = cronOwnerOf(j);
      if (r) this.enqueue(`${j.metadata.namespace}/${r.name}`);
    };
    this.jobs.addHandlers({ onAdd: onJob, onUpdate: (_o, j) => onJob(j), onDelete: onJob });
    for (let i = 0; i < 5; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private enqueue(key: string): void {
    if (!this.stopped) this.queue.add(key);
  }

  /** Resync shortly, for when the cache lags behind the API. */
  private enqueueSoon(key: string): void {
    if (this.stopped) return;
    const h = this.ctx.clock.setTimeout(() => this.enqueue(key), 200);
    void h;
  }

  private requeueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.timers.get(key)?.cancel();
    const h = this.ctx.clock.setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms);
    this.timers.set(key, h);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 409)) this.ctx.log.warn('cronjob sync failed', { cronjob: key, error: (e as Error).message });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async sync(key: string): Promise<void> {
    const cached = this.cronjobs.get(key);
    if (!cached) return;
    const cj = structuredClone(cached);
    const ns = cj.metadata.namespace!;
    const jobs = this.jobs.byIndex(OWNER_INDEX, cj.metadata.uid!);
    const before = JSON.stringify(cj.status ?? {});
    const status: any = (cj.status ??= {});
    let active: any[] = status.active ?? [];
    const now = this.ctx.clock.now();

    // Reconcile status.active with the Jobs that exist.
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata.uid!;
      children.add(uid);
      const found = active.some((r) => r?.uid === uid);
      const fin = isJobFinished(j);
      if (!found && !fin) {
        // The cache may not show our own latest status write yet: a newer CronJob means wait for it.
        const fresh = await call(this.ctx.client, 'GET', resourcePath('batch', 'v1', 'cronjobs', ns, cj.metadata.name)).catch(() => undefined);
        if (fresh && fresh.metadata.uid === cj.metadata.uid && fresh.metadata.resourceVersion !== cj.metadata.resourceVersion) {
          this.enqueueSoon(key);
          return;
        }
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (found && fin) {
        active = active.filter((r) => r?.uid !== uid);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finishedType(j)}`);
      }
      const ct = j.status?.completionTime;
      if (fin && ct && (!status.lastSuccessfulTime || Date.parse(ct) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = ct;
    }
    for (const r of [...active]) {
      if (children.has(r?.uid)) continue;
      // The cache may lag: ask the API before declaring the Job missing.
      try {
        const j = await call(this.ctx.client, 'GET', resourcePath('batch', 'v1', 'jobs', r.namespace ?? ns, r.name));
        if (j.metadata.uid !== r.uid) throw new StatusError(404, { reason: 'NotFound' });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
        active = active.filter((x) => x?.uid !== r.uid);
      }
    }
    const setActive = () => {
      if (active.length) status.active = active;
      else delete status.active;
    };
    setActive();

    if (!cj.metadata.deletionTimestamp) {
      await this.schedule(key, cj, status, () => active, (a) => {
        active = a;
        setActive();
      }, now);
      await this.cleanupFinishedJobs(cj, jobs, (uid) => {
        active = active.filter((r) => r?.uid !== uid);
        setActive();
      });
    }

    if (JSON.stringify(status) !== before) {
      await call(this.ctx.client, 'PUT', resourcePath('batch', 'v1', 'cronjobs', ns, cj.metadata.name, 'status'), { body: cj });
    }
  }

  /** syncCronJob's scheduling half: maybe create one Job, then requeue for the next time. */
  private async schedule(key: string, cj: KObject, status: any, getActive: () => any[], setActive: (a: any[]) => void, now: Date): Promise<void> {
    const spec = cj.spec ?? {};
    const tz: string | undefined = spec.timeZone ?? undefined;
    if (tz) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
      } catch {
        this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
        return;
      }
    }
    if (spec.suspend === true) return;
    let sched: CronSchedule;
    try {
      sched = parseCron(spec.schedule ?? '');
    } catch (e) {
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(e as Error).message}`);
      return;
    }
    const requeueNext = () => {
      const d = nextScheduleDelayMs(cj, now, sched);
      if (d !== undefined) this.requeueAfter(key, d);
    };

    let times: ScheduleTimes;
    try {
      times = mostRecentScheduleTime(cj, now, sched, true);
    } catch (e) {
      this.recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${(e as Error).message}`);
      return;
    }
    if (times.missed > 100) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${times.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    const scheduled = times.mostRecent;
    if (!scheduled) return requeueNext();

    if (spec.startingDeadlineSeconds != null && scheduled.getTime() + spec.startingDeadlineSeconds * 1000 < now.getTime()) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return requeueNext();
    }
    const jobName = jobNameFor(cj.metadata.name!, scheduled);
    if (getActive().some((r) => r?.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled.getTime())) {
      return requeueNext();
    }
    if (spec.concurrencyPolicy === 'Forbid' && getActive().length > 0) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return requeueNext();
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const r of getActive()) {
        await this.deleteJob(cj, r.name, r.uid);
        setActive(getActive().filter((x) => x?.uid !== r.uid));
      }
    }

    const body = jobFromTemplate(cj, scheduled);
    let job: KObject;
    try {
      job = await call(this.ctx.client, 'POST', resourcePath('batch', 'v1', 'jobs', cj.metadata.namespace), { body });
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409)) {
        if (!(e instanceof StatusError && e.code === 403 && /being terminated/.test(e.message))) {
          this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
        }
        throw e;
      }
      // Already exists: ours (a status write was lost) counts as this run; anyone else's blocks it.
      job = await call(this.ctx.client, 'GET', resourcePath('batch', 'v1', 'jobs', cj.metadata.namespace, jobName));
      if (cronOwnerOf(job)?.uid !== cj.metadata.uid) throw e;
      if (isJobFinished(job)) {
        status.lastScheduleTime = ts(scheduled);
        return requeueNext();
      }
    }
    if (!getActive().some((r) => r?.uid === job.metadata.uid)) {
      setActive([
        ...getActive(),
        { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion },
      ]);
    }
    status.lastScheduleTime = ts(scheduled);
    requeueNext();
  }

  private async deleteJob(cj: KObject, name: string, uid?: string): Promise<void> {
    try {
      await call(this.ctx.client, 'DELETE', resourcePath('batch', 'v1', 'jobs', cj.metadata.namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) },
      });
      this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
    } catch (e) {
      if (isNotFound(e)) return;
      this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
      throw e;
    }
  }

  /** cleanupFinishedJobs: keep at most the history limits of successful and failed Jobs. */
  private async cleanupFinishedJobs(cj: KObject, jobs: KObject[], removed: (uid: string) => void): Promise<void> {
    const sLimit = cj.spec?.successfulJobsHistoryLimit;
    const fLimit = cj.spec?.failedJobsHistoryLimit;
    if (sLimit == null && fLimit == null) return;
    const live = jobs.filter((j) => !j.metadata.deletionTimestamp);
    const victims: KObject[] = [];
    if (sLimit != null) victims.push(...oldestJobsBeyond(live.filter((j) => finishedType(j) === 'Complete'), sLimit));
    if (fLimit != null) victims.push(...oldestJobsBeyond(live.filter((j) => finishedType(j) === 'Failed'), fLimit));
    for (const j of victims) {
      await this.deleteJob(cj, j.metadata.name!, j.metadata.uid);
      removed(j.metadata.uid!);
    }
  }
}
