// CronJobController against an in-process API server (no HTTPS, no other controllers), with a
// fake clock shared by the API server (creationTimestamp) and the controller (schedules,
// requeues): advance(ms) fires the timers that fall due, so minutes pass in milliseconds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { builtinResources } from '../../../src/api/builtin.js';
import { parseCron } from '../../../src/api/cron.js';
import type { KObject } from '../../../src/api/types.js';
import { parsePortRange } from '../../../src/apiserver/admission/serviceallocation.js';
import { ApiServer } from '../../../src/apiserver/apiserver.js';
import { call } from '../../../src/client/client.js';
import { InProcessClient } from '../../../src/client/inprocess.js';
import type { ControllerContext } from '../../../src/controllers/context.js';
import {
  CronJobController,
  jobFromTemplate,
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  oldestJobsBeyond,
  rfc1123z,
  rfc3339In,
} from '../../../src/controllers/cronjob.js';
import { newControllerContext } from '../../../src/controllers/manager.js';
import { openStore } from '../../../src/storage/index.js';
import type { Store } from '../../../src/storage/store.js';
import { parseCIDR } from '../../../src/util/cidr.js';
import { silentLogger } from '../../../src/util/log.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

class FakeClock implements Pick<ControllerContext['clock'], 'now' | 'setTimeout'> {
  private t: number;
  private timers: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;
  constructor(start: string) {
    this.t = Date.parse(start);
  }
  now(): Date {
    return new Date(this.t);
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + Math.max(0, ms), fn, seq: this.seq++ };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((x) => x !== timer)) };
  }
  /** Moves time forward, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = target;
  }
  pending(): number {
    return this.timers.length;
  }
}

interface Harness {
  clock: FakeClock;
  client: InProcessClient;
  ctx: ControllerContext;
  controller: CronJobController;
  stop(): Promise<void>;
}

const T0 = '2025-01-01T00:00:30Z';
let h: Harness;

async function harness(start = T0): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-cronjob-'));
  const clock = new FakeClock(start);
  const store: Store = await openStore({ dataDir: dir, compactIntervalMs: 0 });
  const api = new ApiServer({
    store,
    decls: builtinResources,
    serviceCIDR: parseCIDR('10.96.0.0/12'),
    nodePortRange: parsePortRange('30000-32767'),
    advertiseAddress: '127.0.0.1',
    advertisePort: 6443,
    clock,
  });
  await api.start();
  const client = new InProcessClient(api);
  await call(client, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
  const ctx = newControllerContext(client, silentLogger, clock);
  const controller = new CronJobController(ctx);
  controller.start();
  ctx.informers.start();
  await ctx.informers.waitForSync();
  return {
    clock,
    client,
    ctx,
    controller,
    async stop() {
      controller.stop();
      ctx.informers.stop();
      await api.stop();
      await store.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.stop();
});

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the controller finish what it is doing (no timers due, queue drained). */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

function cronJob(name: string, spec: Record<string, unknown>): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: {
        metadata: { labels: { app: name }, annotations: { note: 'x' } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
      ...spec,
    },
  } as KObject;
}

async function createCJ(name: string, spec: Record<string, unknown> = {}): Promise<KObject> {
  const cj = await call(h.client, 'POST', '/apis/batch/v1/namespaces/default/cronjobs', { body: cronJob(name, spec) });
  // Wait for the first sync (it arms the timer for the next schedule).
  await settle();
  return cj;
}

async function jobsOf(name: string): Promise<any[]> {
  const l = await call<any>(h.client, 'GET', '/apis/batch/v1/namespaces/default/jobs');
  return l.items.filter((j: any) => j.metadata.ownerReferences?.[0]?.name === name).sort((a: any, b: any) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

async function getCJ(name: string): Promise<any> {
  return call(h.client, 'GET', `/apis/batch/v1/namespaces/default/cronjobs/${name}`);
}

async function events(name: string): Promise<any[]> {
  const l = await call<any>(h.client, 'GET', '/api/v1/namespaces/default/events');
  return l.items.filter((e: any) => e.involvedObject.name === name);
}

async function finishJob(name: string, type: 'Complete' | 'Failed'): Promise<void> {
  const j = await call<any>(h.client, 'GET', `/apis/batch/v1/namespaces/default/jobs/${name}`);
  const now = h.clock.now().toISOString().replace('.000Z', 'Z');
  const interim = type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
  const reason = type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded';
  j.status = {
    startTime: j.status?.startTime ?? now,
    conditions: [interim, type].map((t) => ({ type: t, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message: 'm' })),
    ...(type === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }),
  };
  await call(h.client, 'PUT', `/apis/batch/v1/namespaces/default/jobs/${name}/status`, { body: j });
}

const minutes = (iso: string) => Math.floor(Date.parse(iso) / 60_000);

describe('CronJob controller (fake clock)', () => {
  test('*/1 * * * *: one Job per minute, named by the scheduled minute', async () => {
    await createCJ('hello');
    assert.equal((await jobsOf('hello')).length, 0, 'nothing before the first minute');
    h.clock.advance(31_000); // 00:01:01 (the timer fires at 00:01:00.100)
    const [j1] = await eventually('first job', async () => {
      const js = await jobsOf('hello');
      return js.length === 1 && js;
    });
    assert.equal(j1.metadata.name, `hello-${minutes('2025-01-01T00:01:00Z')}`);
    assert.equal(j1.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-01-01T00:01:00Z');
    assert.equal(j1.metadata.annotations.note, 'x');
    assert.equal(j1.metadata.labels.app, 'hello');
    assert.deepEqual(
      { kind: j1.metadata.ownerReferences[0].kind, controller: j1.metadata.ownerReferences[0].controller, block: j1.metadata.ownerReferences[0].blockOwnerDeletion },
      { kind: 'CronJob', controller: true, block: true },
    );
    const cj = await eventually('status', async () => {
      const c = await getCJ('hello');
      return c.status?.lastScheduleTime === '2025-01-01T00:01:00Z' && c;
    });
    assert.deepEqual(
      cj.status.active.map((r: any) => [r.kind, r.name, r.apiVersion, r.namespace]),
      [['Job', j1.metadata.name, 'batch/v1', 'default']],
    );
    h.clock.advance(60_000); // 00:02
    await eventually('second job', async () => (await jobsOf('hello')).length === 2);
    const ev = await eventually('SuccessfulCreate events', async () => {
      const e = (await events('hello')).filter((x) => x.reason === 'SuccessfulCreate');
      return e.length === 2 && e;
    });
    assert.deepEqual(ev.map((e: any) => e.message).sort(), [`Created job hello-${minutes('2025-01-01T00:01:00Z')}`, `Created job hello-${minutes('2025-01-01T00:02:00Z')}`]);
    assert.equal(ev[0].source.component, 'cronjob-controller');
    assert.deepEqual((await events('hello')).filter((e) => e.type === 'Warning').map((e) => `${e.reason}: ${e.message}`), []);
  });

  test('@hourly in a time zone: runs on the zone\'s hour, annotation carries the offset', async () => {
    await createCJ('tz', { schedule: '@hourly', timeZone: 'Asia/Kolkata' });
    h.clock.advance(20 * 60_000); // 00:20:30Z — nothing yet (Kolkata's hour is :30 UTC)
    await settle();
    assert.equal((await jobsOf('tz')).length, 0);
    h.clock.advance(10 * 60_000); // 00:30:30Z
    const [j] = await eventually('job', async () => {
      const js = await jobsOf('tz');
      return js.length === 1 && js;
    });
    assert.equal(j.metadata.name, `tz-${minutes('2025-01-01T00:30:00Z')}`);
    assert.equal(j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-01-01T06:00:00+05:30');
  });

  test('concurrencyPolicy Forbid: no new Job while one is active', async () => {
    await createCJ('forbid', { concurrencyPolicy: 'Forbid' });
    h.clock.advance(31_000);
    const [j1] = await eventually('first job', async () => {
      const js = await jobsOf('forbid');
      return js.length === 1 && js;
    });
    await eventually('active', async () => (await getCJ('forbid')).status?.active?.length === 1);
    h.clock.advance(60_000);
    const ev = await eventually('JobAlreadyActive', async () => (await events('forbid')).find((e) => e.reason === 'JobAlreadyActive'));
    assert.equal(ev.message, 'Not starting job because prior execution is running and concurrency policy is Forbid');
    assert.equal((await jobsOf('forbid')).length, 1);
    // The first Job finishes: it leaves status.active, and the 00:02 run that Forbid held
    // back starts now (no startingDeadlineSeconds, so it is not too late).
    await finishJob(j1.metadata.name, 'Complete');
    const cj = await eventually('active is the 00:02 job', async () => {
      const c = await getCJ('forbid');
      return c.status?.active?.length === 1 && c.status.active[0].name === `forbid-${minutes('2025-01-01T00:02:00Z')}` && c;
    });
    assert.equal(cj.status.lastScheduleTime, '2025-01-01T00:02:00Z');
    assert.ok(cj.status.lastSuccessfulTime);
    const saw = await eventually('SawCompletedJob', async () => (await events('forbid')).find((e) => e.reason === 'SawCompletedJob'));
    assert.equal(saw.message, `Saw completed job: ${j1.metadata.name}, condition: Complete`);
    assert.equal((await jobsOf('forbid')).length, 2);
  });

  test('concurrencyPolicy Replace: the active Job is deleted for the new one', async () => {
    await createCJ('replace', { concurrencyPolicy: 'Replace' });
    h.clock.advance(31_000);
    const [j1] = await eventually('first job', async () => {
      const js = await jobsOf('replace');
      return js.length === 1 && js;
    });
    await eventually('active', async () => (await getCJ('replace')).status?.active?.length === 1);
    h.clock.advance(60_000);
    const js = await eventually('replaced', async () => {
      const js = await jobsOf('replace');
      return js.length === 1 && js[0].metadata.name !== j1.metadata.name && js;
    });
    assert.equal(js[0].metadata.name, `replace-${minutes('2025-01-01T00:02:00Z')}`);
    const del = await eventually('SuccessfulDelete', async () => (await events('replace')).find((e) => e.reason === 'SuccessfulDelete'));
    assert.equal(del.message, `Deleted job ${j1.metadata.name}`);
    const cj = await eventually('active is the new job', async () => {
      const c = await getCJ('replace');
      return c.status?.active?.length === 1 && c.status.active[0].name === js[0].metadata.name && c;
    });
    assert.equal(cj.status.lastScheduleTime, '2025-01-01T00:02:00Z');
  });

  test('concurrencyPolicy Allow: overlapping Jobs', async () => {
    await createCJ('allow');
    h.clock.advance(31_000);
    await eventually('first', async () => (await jobsOf('allow')).length === 1);
    await eventually('active', async () => (await getCJ('allow')).status?.active?.length === 1);
    h.clock.advance(60_000);
    await eventually('second', async () => (await getCJ('allow')).status?.active?.length === 2);
  });

  test('missed runs: without a deadline the latest missed run starts; with startingDeadlineSeconds it is skipped', async () => {
    await createCJ('late', { suspend: true });
    await createCJ('strict', { suspend: true, startingDeadlineSeconds: 10 });
    h.clock.advance(5 * 60_000); // 00:05:30: five runs were missed while suspended
    await settle();
    for (const n of ['late', 'strict']) {
      const r = await h.client.request('PATCH', `/apis/batch/v1/namespaces/default/cronjobs/${n}`, { body: { spec: { suspend: false } }, contentType: 'application/merge-patch+json' });
      assert.equal(r.status, 200);
    }
    const [j] = await eventually('late runs the latest missed minute', async () => {
      const js = await jobsOf('late');
      return js.length === 1 && js;
    });
    assert.equal(j.metadata.name, `late-${minutes('2025-01-01T00:05:00Z')}`);
    await settle();
    assert.equal((await jobsOf('strict')).length, 0, 'strict: 00:05 is older than 10 s');
    h.clock.advance(31_000); // 00:06
    await eventually('strict runs on the next minute', async () => (await jobsOf('strict')).length === 1);
  });

  test('too many missed start times: a warning, and the most recent run still starts', async () => {
    await createCJ('many', { suspend: true });
    h.clock.advance(200 * 60_000);
    await settle();
    await call(h.client, 'PATCH', '/apis/batch/v1/namespaces/default/cronjobs/many', { body: { spec: { suspend: false } }, contentType: 'application/merge-patch+json' });
    const ev = await eventually('TooManyMissedTimes', async () => (await events('many')).find((e) => e.reason === 'TooManyMissedTimes'));
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, 'too many missed start times: 200. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    const [j] = await eventually('job', async () => {
      const js = await jobsOf('many');
      return js.length === 1 && js;
    });
    assert.equal(j.metadata.name, `many-${minutes('2025-01-01T03:20:00Z')}`);
  });

  test('suspend: no Jobs while suspended', async () => {
    await createCJ('sleepy', { suspend: true });
    h.clock.advance(3 * 60_000);
    await settle();
    assert.equal((await jobsOf('sleepy')).length, 0);
    assert.equal((await getCJ('sleepy')).status?.lastScheduleTime, undefined);
  });

  test('history limits: older finished Jobs are deleted, oldest first', async () => {
    await createCJ('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 });
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      h.clock.advance(i === 0 ? 31_000 : 60_000);
      const js = await eventually(`job ${i + 1}`, async () => {
        const js = await jobsOf('hist');
        const fresh = js.filter((j: any) => !names.includes(j.metadata.name));
        return fresh.length === 1 && fresh;
      });
      names.push(js[0].metadata.name);
      await finishJob(js[0].metadata.name, i === 1 ? 'Failed' : 'Complete');
      await eventually('active emptied', async () => !(await getCJ('hist')).status?.active);
    }
    // Complete: names[0], names[2] (limit 1 → names[0] goes); Failed: names[1] (kept).
    const left = await eventually('cleanup', async () => {
      const js = (await jobsOf('hist')).map((j) => j.metadata.name);
      return js.length === 2 && js;
    });
    assert.deepEqual(left, [names[1], names[2]].sort());
    const del = await eventually('SuccessfulDelete', async () => (await events('hist')).find((e) => e.reason === 'SuccessfulDelete'));
    assert.equal(del.message, `Deleted job ${names[0]}`);
    const cj = await getCJ('hist');
    assert.equal(minutes(cj.status.lastSuccessfulTime), minutes('2025-01-01T00:03:00Z'));
  });
});

describe('CronJob pure helpers', () => {
  const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, created = '2025-01-01T00:00:30Z'): KObject =>
    ({ metadata: { name: 'c', namespace: 'default', uid: 'u1', creationTimestamp: created }, spec, status }) as KObject;

  test('job names are minutes since the epoch', () => {
    assert.equal(jobNameFor('hello', new Date('2025-01-01T00:01:00Z')), `hello-${Date.parse('2025-01-01T00:01:00Z') / 60_000}`);
  });

  test('mostRecentScheduleTime: none yet, one, several missed', () => {
    const s = parseCron('*/1 * * * *');
    const c = cj({ schedule: '*/1 * * * *' });
    assert.equal(mostRecentScheduleTime(c, new Date('2025-01-01T00:00:59Z'), s, true).mostRecent, undefined);
    assert.equal(mostRecentScheduleTime(c, new Date('2025-01-01T00:01:10Z'), s, true).mostRecent?.toISOString(), '2025-01-01T00:01:00.000Z');
    const r = mostRecentScheduleTime(c, new Date('2025-01-01T00:10:10Z'), s, true);
    assert.equal(r.mostRecent?.toISOString(), '2025-01-01T00:10:00.000Z');
    assert.equal(r.missed, 10);
    // startingDeadlineSeconds moves the earliest time up.
    const d = cj({ schedule: '*/1 * * * *', startingDeadlineSeconds: 5 });
    assert.equal(mostRecentScheduleTime(d, new Date('2025-01-01T00:10:10Z'), s, true).mostRecent, undefined);
    // An irregular schedule (weekday office hours) is walked exactly.
    const o = parseCron('30 6-16/4 * * 1-5');
    const w = cj({ schedule: '30 6-16/4 * * 1-5' }, {}, '2025-01-06T00:00:00Z'); // a Monday
    assert.equal(mostRecentScheduleTime(w, new Date('2025-01-08T12:00:00Z'), o, false).mostRecent?.toISOString(), '2025-01-08T10:30:00.000Z');
  });

  test('nextScheduleDelayMs: until the next run plus 100 ms', () => {
    const s = parseCron('@hourly');
    assert.equal(nextScheduleDelayMs(cj({ schedule: '@hourly' }), new Date('2025-01-01T00:59:00Z'), s), 60_100);
  });

  test('jobFromTemplate: name, scheduled-timestamp annotation, controller ownerReference', () => {
    const c = cj({ schedule: '* * * * *', timeZone: 'America/New_York', jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { parallelism: 2 } } });
    const j = jobFromTemplate(c, new Date('2025-07-01T12:00:00Z'));
    assert.equal(j.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-07-01T08:00:00-04:00');
    assert.deepEqual(j.metadata.labels, { a: 'b' });
    assert.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'c', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(j.spec, { parallelism: 2 });
  });

  test('time formats', () => {
    assert.equal(rfc3339In(new Date('2025-01-01T00:00:00Z')), '2025-01-01T00:00:00Z');
    assert.equal(rfc3339In(new Date('2025-01-01T00:00:00Z'), 'Asia/Kolkata'), '2025-01-01T05:30:00+05:30');
    assert.equal(rfc1123z(new Date('2025-01-01T00:00:00Z')), 'Wed, 01 Jan 2025 00:00:00 +0000');
  });

  test('oldestJobsBeyond: by startTime, jobs without one last', () => {
    const mk = (name: string, startTime?: string) => ({ metadata: { name }, status: startTime ? { startTime } : {} }) as KObject;
    const jobs = [mk('c', '2025-01-01T00:03:00Z'), mk('x'), mk('a', '2025-01-01T00:01:00Z'), mk('b', '2025-01-01T00:02:00Z')];
    assert.deepEqual(oldestJobsBeyond(jobs, 2).map((j) => j.metadata.name), ['a', 'b']);
    assert.deepEqual(oldestJobsBeyond(jobs, 4), []);
  });
});
