// TTLAfterFinishedController: upstream's pkg/controller/ttlafterfinished. A finished Job
// (Complete or Failed) with spec.ttlSecondsAfterFinished is deleted that many seconds after
// it finished, with propagationPolicy Foreground so its pods go first.
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** needsCleanup: a TTL is set, the Job finished and is not already being deleted. */
export function needsCleanup(job: KObject): boolean {
  return job.spec?.ttlSecondsAfterFinished != null && !job.metadata.deletionTimestamp && finishTime(job) !== undefined;
}

/** When the Job finished: the lastTransitionTime of its true Complete/Failed condition. */
export function finishTime(job: KObject): number | undefined {
  for (const c of (job.status?.conditions ?? []) as any[]) {
    if ((c?.type === 'Complete' || c?.type === 'Failed') && c?.status === 'True') {
      const t = Date.parse(c.lastTransitionTime ?? '');
      return Number.isFinite(t) ? t : undefined;
    }
  }
  return undefined;
}

/** Milliseconds until the Job expires (≤ 0: expired), or undefined when it never does. */
export function timeLeftMs(job: KObject, nowMs: number): number | undefined {
  if (!needsCleanup(job)) return undefined;
  return finishTime(job)! + job.spec.ttlSecondsAfterFinished * 1000 - nowMs;
}

export class TTLAfterFinishedController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 60_000 });
  private jobs!: Informer;
  private stopped = false;
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(readonly ctx: ControllerContext) {}

  start(): void {
    this.jobs = this.ctx.informers.informer({ group: 'batch', version: 'v1', plural: 'jobs' });
    const onJob = (j: KObject) => {
      if (!this.stopped && needsCleanup(j)) this.queue.add(`${j.metadata.namespace}/${j.metadata.name}`);
    };
    this.jobs.addHandlers({ onAdd: onJob, onUpdate: (_o, j) => onJob(j) });
    for (let i = 0; i < 2; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        this.ctx.log.warn('ttl-after-finished sync failed', { job: key, error: (e as Error).message });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private requeueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.ctx.clock.setTimeout(() => {
        this.timers.delete(key);
        if (!this.stopped) this.queue.add(key);
      }, ms),
    );
  }

  async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) return;
    const left = timeLeftMs(cached, this.ctx.clock.now().getTime());
    if (left === undefined) return;
    if (left > 0) return this.requeueAfter(key, left);
    const [ns, name] = key.split('/') as [string, string];
    // The TTL may have changed since the cache saw it: check the live object.
    let fresh: KObject;
    try {
      fresh = await call(this.ctx.client, 'GET', resourcePath('batch', 'v1', 'jobs', ns, name));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshLeft = timeLeftMs(fresh, this.ctx.clock.now().getTime());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return this.requeueAfter(key, freshLeft);
    try {
      await call(this.ctx.client, 'DELETE', resourcePath('batch', 'v1', 'jobs', ns, name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Foreground',
          preconditions: { uid: fresh.metadata.uid, resourceVersion: fresh.metadata.resourceVersion },
        },
      });
    } catch (e) {
      if (isNotFound(e)) return;
      if (e instanceof StatusError && e.code === 409) return this.queue.add(key);
      throw e;
    }
  }
}
