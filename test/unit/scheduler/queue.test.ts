import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from '../../../src/scheduler/queue.js';
import type { Clock } from '../../../src/controllers/context.js';
import { mkPod } from './util.js';

class FakeClock implements Clock {
  t = 1_000_000;
  timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  now(): Date {
    return new Date(this.t);
  }
  setTimeout(fn: () => void, ms: number) {
    const e = { at: this.t + ms, fn, cancelled: false };
    this.timers.push(e);
    return { cancel: () => (e.cancelled = true) };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      due.cancelled = true;
      due.fn();
    }
    this.t = end;
  }
}

const name = (q: { pod: { metadata: { name?: string } } } | undefined) => q?.pod.metadata.name;

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const q = new SchedulingQueue(new FakeClock());
    q.add(mkPod('a', { priority: 1 }));
    q.add(mkPod('b', { priority: 5 }));
    q.add(mkPod('c', { priority: 1 }));
    q.add(mkPod('d', { priority: 5 }));
    const out = [];
    for (let i = 0; i < 4; i++) out.push(name(await q.pop()));
    assert.deepEqual(out, ['b', 'd', 'a', 'c']);
  });

  it('pop waits for a pod', async () => {
    const q = new SchedulingQueue(new FakeClock());
    const p = q.pop();
    q.add(mkPod('late'));
    assert.equal(name(await p), 'late');
  });

  it('unschedulable pods wait for a node event, then back off 1s, 2s, 4s ... capped at 10s', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock);
    q.run();
    q.add(mkPod('p'));
    let qpi = (await q.pop())!;
    assert.equal(qpi.attempts, 1);
    q.addUnschedulableIfNotPresent(qpi);
    assert.ok(q.inUnschedulable('default/p'));
    clock.advance(5000);
    assert.ok(q.inUnschedulable('default/p'), 'no event, no retry (before 60 s)');
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    assert.ok(q.inActive('default/p'), 'backoff (1 s) already over: straight to activeQ');
    qpi = (await q.pop())!;
    assert.equal(qpi.attempts, 2);
    q.addUnschedulableIfNotPresent(qpi);
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    assert.ok(q.inBackoff('default/p'), 'within its 2 s backoff');
    assert.equal(q.backoffDuration(qpi), 2000);
    clock.advance(1000);
    assert.ok(q.inBackoff('default/p'));
    clock.advance(1000);
    assert.ok(q.inActive('default/p'));
    qpi.attempts = 10;
    assert.equal(q.backoffDuration(qpi), 10_000);
    q.close();
  });

  it('a move request during the pod\'s cycle sends it to backoffQ, not unschedulable', async () => {
    const q = new SchedulingQueue(new FakeClock());
    q.add(mkPod('p'));
    const qpi = (await q.pop())!;
    q.moveAllToActiveOrBackoffQueue('NodeAdd'); // a node appeared while "p" was being scheduled
    q.addUnschedulableIfNotPresent(qpi);
    assert.ok(q.inBackoff('default/p'));
  });

  it('events only move pods they can help; leftovers retry after 60 s', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock);
    q.run();
    q.add(mkPod('p'));
    const qpi = (await q.pop())!;
    qpi.unschedulablePlugins = new Set(['NodeAffinity']);
    q.addUnschedulableIfNotPresent(qpi);
    q.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    assert.ok(q.inUnschedulable('default/p'), 'a pod deletion cannot fix node affinity');
    clock.advance(59_000);
    assert.ok(q.inUnschedulable('default/p'));
    clock.advance(31_000);
    assert.ok(q.inActive('default/p'));
    q.close();
  });

  it('a relevant update of an unschedulable pod retries it; a status-only update does not', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock);
    const pod = mkPod('p');
    q.add(pod);
    const qpi = (await q.pop())!;
    q.addUnschedulableIfNotPresent(qpi);
    clock.advance(2000);
    q.update({ ...pod, status: { conditions: [{ type: 'PodScheduled', status: 'False' }] } });
    assert.ok(q.inUnschedulable('default/p'));
    q.update({ ...pod, metadata: { ...pod.metadata, labels: { new: 'label' } } });
    assert.ok(q.inActive('default/p'));
    q.delete(pod);
    assert.deepEqual(q.stats(), { active: 0, backoff: 0, unschedulable: 0 });
  });
});
