// Jobs and CronJobs with the real kubectl against `kts server`: create job, get jobs
// (STATUS / COMPLETIONS / DURATION), wait --for=condition=complete, create cronjob, get cj,
// create job --from=cronjob. The test plays the kubelet with `kubectl patch --subresource=status`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipReason, startCluster, table, type Cluster } from './harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const skip = skipReason();
const V = '1.32';
let c: Cluster;

before(async () => {
  if (!skip) c = await startCluster();
});
after(async () => {
  await c?.stop();
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${c.serverLog().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function json(args: string[]): Promise<any> {
  return JSON.parse(await c.ok(V, [...args, '-o', 'json']));
}

describe('kubectl jobs and cronjobs', { skip }, () => {
  test('create job, get jobs, the pod succeeds, wait for complete', async () => {
    assert.equal(await c.ok(V, ['create', 'job', 'pi', '--image=busybox', '--', 'echo', 'hi']), 'job.batch/pi created\n');
    const pod = await waitFor('the job pod', async () => (await json(['get', 'pods', '-l', 'job-name=pi'])).items[0]);
    assert.match(pod.metadata.name, /^pi-[a-z0-9]{5}$/);
    const running = table(await c.ok(V, ['get', 'jobs']));
    assert.deepEqual(Object.keys(running[0]!), ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    assert.equal(running[0]!['NAME'], 'pi');
    assert.equal(running[0]!['STATUS'], 'Running');
    assert.equal(running[0]!['COMPLETIONS'], '0/1');
    assert.match(running[0]!['DURATION']!, /^\d+s$/);

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const patch = {
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'pi', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } } }],
      },
    };
    await c.ok(V, ['patch', 'pod', pod.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]);
    assert.equal(await c.ok(V, ['wait', '--for=condition=complete', 'job/pi', '--timeout=30s']), 'job.batch/pi condition met\n');
    const done = table(await c.ok(V, ['get', 'jobs', 'pi']));
    assert.equal(done[0]!['STATUS'], 'Complete');
    assert.equal(done[0]!['COMPLETIONS'], '1/1');
    const wide = table(await c.ok(V, ['get', 'jobs', 'pi', '-o', 'wide']));
    assert.equal(wide[0]!['CONTAINERS'], 'pi');
    assert.equal(wide[0]!['IMAGES'], 'busybox');
    assert.match(wide[0]!['SELECTOR']!, /^batch\.kubernetes\.io\/controller-uid=[0-9a-f-]+$/);
    const describe = await c.ok(V, ['describe', 'job', 'pi']);
    assert.match(describe, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);
    assert.match(describe, /Normal\s+SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: pi-[a-z0-9]{5}/);
    assert.match(describe, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
  });

  test('create cronjob, get cj, create job --from=cronjob', async () => {
    assert.equal(await c.ok(V, ['create', 'cronjob', 'hello', '--image=busybox', '--schedule=*/1 * * * *', '--', 'date']), 'cronjob.batch/hello created\n');
    const rows = table(await c.ok(V, ['get', 'cj']));
    assert.deepEqual(Object.keys(rows[0]!), ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    assert.deepEqual(
      { ...rows[0]!, AGE: undefined, ACTIVE: undefined, 'LAST SCHEDULE': undefined },
      { NAME: 'hello', SCHEDULE: '*/1 * * * *', TIMEZONE: '<none>', SUSPEND: 'False', AGE: undefined, ACTIVE: undefined, 'LAST SCHEDULE': undefined },
    );
    assert.equal(await c.ok(V, ['create', 'job', '--from=cronjob/hello', 'manual']), 'job.batch/manual created\n');
    const j = await json(['get', 'job', 'manual']);
    assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(j.metadata.ownerReferences[0].kind, 'CronJob');
    assert.equal(j.metadata.ownerReferences[0].name, 'hello');
    // The Job controller runs it like any other Job.
    await waitFor('a pod for manual', async () => (await json(['get', 'pods', '-l', 'job-name=manual'])).items.length === 1);
    const pods = await json(['get', 'pods', '-l', 'job-name=manual']);
    assert.equal(pods.items[0].spec.containers[0].image, 'busybox');
  });
});
