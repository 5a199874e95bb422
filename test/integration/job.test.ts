// Job, CronJob and TTL-after-finished controllers in a whole in-process kts server. The test
// plays the kubelet: it PATCHes pod /status to Succeeded or Failed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

let s: TestServer;
const NS = 'default';
const jobsPath = `/apis/batch/v1/namespaces/${NS}/jobs`;

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.stop();
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

function job(name: string, spec: Record<string, unknown>): any {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
  };
}

async function getJob(name: string): Promise<any> {
  const r = await s.req('GET', `${jobsPath}/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function podsOf(name: string): Promise<any[]> {
  const r = await s.req('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`batch.kubernetes.io/job-name=${name}`)}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

const isActive = (p: any) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/** The kubelet's part: the pod's container terminated with `exitCode`. */
async function finishPod(p: any, exitCode: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await s.req(
    'PATCH',
    `/api/v1/namespaces/${NS}/pods/${p.metadata.name}/status`,
    {
      status: {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: 'c',
            image: 'busybox',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
          },
        ],
      },
    },
    { 'content-type': 'application/merge-patch+json' },
  );
  assert.equal(r.status, 200, r.text);
}

const cond = (j: any, type: string) => (j.status?.conditions ?? []).find((c: any) => c.type === type);

async function eventsFor(name: string): Promise<any[]> {
  const r = await s.req('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`);
  return r.body?.items ?? [];
}

describe('Job controller', () => {
  test('completions 5 / parallelism 2: never more than 2 active pods, then Complete', async () => {
    assert.equal((await s.req('POST', jobsPath, job('five', { completions: 5, parallelism: 2 }))).status, 201);
    let maxActive = 0;
    let finished = 0;
    const seen = new Set<string>();
    await waitFor(
      'job five to complete',
      async () => {
        const pods = await podsOf('five');
        const active = pods.filter(isActive);
        maxActive = Math.max(maxActive, active.length);
        assert.ok(active.length <= 2, `${active.length} active pods: ${active.map((p) => p.metadata.name).join(', ')}`);
        for (const p of active) {
          if (seen.has(p.metadata.uid)) continue;
          seen.add(p.metadata.uid);
          // Pods carry the Job's labels, controller ownerReference and tracking finalizer.
          assert.match(p.metadata.name, /^five-[a-z0-9]{5}$/);
          assert.equal(p.metadata.labels['job-name'], 'five');
          assert.ok(p.metadata.labels['batch.kubernetes.io/controller-uid']);
          assert.deepEqual(p.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
          const ref = p.metadata.ownerReferences[0];
          assert.equal(ref.kind, 'Job');
          assert.equal(ref.controller, true);
          assert.equal(ref.blockOwnerDeletion, true);
          await finishPod(p, 0);
          finished++;
        }
        const j = await getJob('five');
        return cond(j, 'Complete')?.status === 'True' && j;
      },
      30_000,
    );
    assert.equal(maxActive, 2);
    assert.equal(finished, 5);
    const j = await getJob('five');
    assert.equal(j.status.succeeded, 5);
    assert.equal(j.status.failed, undefined);
    assert.equal(j.status.active, undefined);
    assert.ok(j.status.startTime);
    assert.ok(j.status.completionTime);
    assert.deepEqual(j.status.uncountedTerminatedPods, {});
    for (const t of ['SuccessCriteriaMet', 'Complete']) {
      const c = cond(j, t);
      assert.equal(c.status, 'True');
      assert.equal(c.reason, 'CompletionsReached');
      assert.equal(c.message, 'Reached expected number of succeeded pods');
    }
    // Every pod was counted and let go of.
    await waitFor('finalizers removed', async () => (await podsOf('five')).every((p) => !p.metadata.finalizers?.length));
    const evs = await waitFor('Completed event', async () => {
      const e = await eventsFor('five');
      return e.some((x) => x.reason === 'Completed') && e;
    });
    const created = evs.filter((e: any) => e.reason === 'SuccessfulCreate');
    assert.ok(created.length >= 1);
    assert.match(created[0].message, /^Created pod: five-[a-z0-9]{5}$/);
    assert.equal(evs.find((e: any) => e.reason === 'Completed').message, 'Job completed');
    assert.equal(evs.find((e: any) => e.reason === 'Completed').source.component, 'job-controller');
  });

  test('failing pods exceed backoffLimit: FailureTarget then Failed (BackoffLimitExceeded)', async () => {
    assert.equal((await s.req('POST', jobsPath, job('fails', { completions: 2, parallelism: 2, backoffLimit: 1 }))).status, 201);
    const pods = await waitFor('2 pods', async () => {
      const p = (await podsOf('fails')).filter(isActive);
      return p.length === 2 && p;
    });
    for (const p of pods) await finishPod(p, 1);
    const j = await waitFor('job fails to fail', async () => {
      const j = await getJob('fails');
      return cond(j, 'Failed')?.status === 'True' && j;
    });
    for (const t of ['FailureTarget', 'Failed']) {
      assert.equal(cond(j, t).reason, 'BackoffLimitExceeded');
      assert.equal(cond(j, t).message, 'Job has reached the specified backoff limit');
    }
    assert.equal(j.status.failed, 2);
    assert.equal(j.status.succeeded, undefined);
    assert.equal(j.status.completionTime, undefined);
    const ev = await waitFor('BackoffLimitExceeded event', async () => (await eventsFor('fails')).find((e) => e.reason === 'BackoffLimitExceeded'));
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, 'Job has reached the specified backoff limit');
    // No replacement pods: the second failure is the last.
    assert.equal((await podsOf('fails')).length, 2);
  });

  test('podFailurePolicy FailJob on an exit code fails the Job at once', async () => {
    const pfp = { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } }] };
    assert.equal((await s.req('POST', jobsPath, job('pfp', { completions: 1, backoffLimit: 6, podFailurePolicy: pfp }))).status, 201);
    const [p] = await waitFor('a pod', async () => {
      const p = (await podsOf('pfp')).filter(isActive);
      return p.length === 1 && p;
    });
    await finishPod(p, 42);
    const j = await waitFor('job pfp to fail', async () => {
      const j = await getJob('pfp');
      return cond(j, 'Failed')?.status === 'True' && j;
    });
    assert.equal(cond(j, 'Failed').reason, 'PodFailurePolicy');
    assert.equal(cond(j, 'Failed').message, `Container c for pod default/${p.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
  });

  test('Indexed: pods named <job>-<index>-<random>, completedIndexes', async () => {
    assert.equal((await s.req('POST', jobsPath, job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }))).status, 201);
    const pods = await waitFor('3 indexed pods', async () => {
      const p = (await podsOf('idx')).filter(isActive);
      return p.length === 3 && p;
    });
    const byIndex = new Map<string, any>();
    for (const p of pods) {
      const ix = p.metadata.annotations['batch.kubernetes.io/job-completion-index'];
      assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], ix);
      assert.match(p.metadata.name, new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
      assert.equal(p.spec.hostname, `idx-${ix}`);
      byIndex.set(ix, p);
    }
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    await finishPod(byIndex.get('0'), 0);
    await finishPod(byIndex.get('2'), 0);
    const partial = await waitFor('completedIndexes 0,2', async () => {
      const j = await getJob('idx');
      return j.status?.completedIndexes === '0,2' && j;
    });
    assert.equal(partial.status.succeeded, 2);
    await finishPod(byIndex.get('1'), 0);
    const j = await waitFor('idx complete', async () => {
      const j = await getJob('idx');
      return cond(j, 'Complete')?.status === 'True' && j;
    });
    assert.equal(j.status.completedIndexes, '0-2');
    assert.equal(j.status.succeeded, 3);
  });

  test('suspend: no pods and a Suspended condition; resume creates them', async () => {
    assert.equal((await s.req('POST', jobsPath, job('sus', { completions: 1, suspend: true }))).status, 201);
    const j = await waitFor('Suspended condition', async () => {
      const j = await getJob('sus');
      return cond(j, 'Suspended')?.status === 'True' && j;
    });
    assert.equal(cond(j, 'Suspended').reason, 'JobSuspended');
    assert.equal(cond(j, 'Suspended').message, 'Job suspended');
    assert.equal(j.status.startTime, undefined);
    assert.equal((await podsOf('sus')).length, 0);
    const r = await s.req('PATCH', `${jobsPath}/sus`, { spec: { suspend: false } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 200, r.text);
    await waitFor('a pod after resume', async () => (await podsOf('sus')).filter(isActive).length === 1);
    const resumed = await waitFor('Suspended False', async () => {
      const j = await getJob('sus');
      return cond(j, 'Suspended')?.status === 'False' && j;
    });
    assert.equal(cond(resumed, 'Suspended').reason, 'JobResumed');
    assert.ok(resumed.status.startTime);
  });

  test('activeDeadlineSeconds: DeadlineExceeded, active pods deleted', async () => {
    assert.equal((await s.req('POST', jobsPath, job('slow', { completions: 2, parallelism: 2, activeDeadlineSeconds: 1 }))).status, 201);
    await waitFor('2 pods', async () => (await podsOf('slow')).filter(isActive).length === 2);
    const j = await waitFor('DeadlineExceeded', async () => {
      const j = await getJob('slow');
      return cond(j, 'Failed')?.status === 'True' && j;
    });
    assert.equal(cond(j, 'Failed').reason, 'DeadlineExceeded');
    assert.equal(cond(j, 'Failed').message, 'Job was active longer than specified deadline');
    assert.equal(cond(j, 'FailureTarget').reason, 'DeadlineExceeded');
    // The unfinished pods were deleted and count as failed.
    assert.equal(j.status.failed, 2);
    assert.equal(j.status.active, undefined);
    await waitFor('pods gone', async () => (await podsOf('slow')).length === 0);
    const ev = await waitFor('DeadlineExceeded event', async () => (await eventsFor('slow')).find((e) => e.reason === 'DeadlineExceeded'));
    assert.equal(ev.type, 'Warning');
    assert.ok((await eventsFor('slow')).some((e) => e.reason === 'SuccessfulDelete' && /^Deleted pod: slow-[a-z0-9]{5}$/.test(e.message)));
  });

  test('ttlSecondsAfterFinished 0: a finished Job and its pods are deleted', async () => {
    assert.equal((await s.req('POST', jobsPath, job('ttl', { completions: 1, ttlSecondsAfterFinished: 0 }))).status, 201);
    const [p] = await waitFor('a pod', async () => {
      const p = (await podsOf('ttl')).filter(isActive);
      return p.length === 1 && p;
    });
    await finishPod(p, 0);
    await waitFor('job ttl deleted', async () => (await s.req('GET', `${jobsPath}/ttl`)).status === 404);
    await waitFor('pods of ttl deleted', async () => (await podsOf('ttl')).length === 0);
  });
});

describe('CronJob controller', () => {
  test('a missed schedule within startingDeadlineSeconds runs at once', async () => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'hello' },
      spec: {
        schedule: '*/1 * * * *',
        startingDeadlineSeconds: 3600,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    };
    const created = await s.req('POST', `/apis/batch/v1/namespaces/${NS}/cronjobs`, cj);
    assert.equal(created.status, 201, created.text);
    // Pretend the last run was 5 minutes ago: the latest missed minute runs now.
    const last = new Date(Date.now() - 5 * 60_000);
    last.setUTCSeconds(0, 0);
    const cur = (await s.req('GET', `/apis/batch/v1/namespaces/${NS}/cronjobs/hello`)).body;
    cur.status = { lastScheduleTime: last.toISOString().replace('.000Z', 'Z') };
    const put = await s.req('PUT', `/apis/batch/v1/namespaces/${NS}/cronjobs/hello/status`, cur);
    assert.equal(put.status, 200, put.text);
    const jobs = await waitFor('a job from the cronjob', async () => {
      const r = await s.req('GET', jobsPath);
      const mine = r.body.items.filter((j: any) => j.metadata.ownerReferences?.[0]?.name === 'hello');
      return mine.length > 0 && mine;
    });
    const j = jobs[0];
    const minutes = Number(/^hello-(\d+)$/.exec(j.metadata.name)?.[1]);
    assert.ok(minutes * 60_000 > last.getTime(), `${j.metadata.name} is after the last schedule`);
    assert.ok(minutes * 60_000 <= Date.now());
    assert.equal(j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(minutes * 60_000).toISOString().replace('.000Z', 'Z'));
    const ref = j.metadata.ownerReferences[0];
    assert.equal(ref.kind, 'CronJob');
    assert.equal(ref.controller, true);
    const cjNow = await waitFor('status.active', async () => {
      const c = (await s.req('GET', `/apis/batch/v1/namespaces/${NS}/cronjobs/hello`)).body;
      return c.status?.active?.length === 1 && c;
    });
    assert.equal(cjNow.status.active[0].name, j.metadata.name);
    assert.equal(cjNow.status.active[0].kind, 'Job');
    assert.equal(Date.parse(cjNow.status.lastScheduleTime), minutes * 60_000);
    const ev = await waitFor('SuccessfulCreate', async () => (await eventsFor('hello')).find((e) => e.reason === 'SuccessfulCreate'));
    assert.equal(ev.message, `Created job ${j.metadata.name}`);
  });
});
