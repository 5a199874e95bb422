// ReplicaSet controller logic without a server: which pods go first on scale-down,
// slow-start batches, expectations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../src/api/types.js';
import { comparePodsForDeletion, Expectations, isPodAvailable, podsToDelete, slowStartBatch } from '../../../src/controllers/replicaset.js';

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readyAt?: string; restarts?: number; created?: string; cost?: string } = {}): KObject {
  return {
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
      ...(o.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readyAt ?? '2024-01-01T00:00:10Z' }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (ps: KObject[]) => ps.map((p) => p.metadata.name);

describe('pod deletion ranking (ActivePods ordering)', () => {
  it('unassigned < assigned, Pending < Unknown < Running, not ready < ready', () => {
    const ps = [
      pod('running-ready', { node: 'n1' }),
      pod('running-notready', { node: 'n1', ready: false }),
      pod('unknown', { node: 'n1', phase: 'Unknown' }),
      pod('pending', { node: 'n1', phase: 'Pending', ready: false }),
      pod('unassigned', { phase: 'Pending', ready: false }),
    ];
    assert.deepEqual(names([...ps].sort((a, b) => comparePodsForDeletion(a, b))), ['unassigned', 'pending', 'unknown', 'running-notready', 'running-ready']);
  });
  it('then lower deletion cost, more pods on the node, shorter ready time, more restarts, newer', () => {
    const cheap = pod('cheap', { node: 'n1', cost: '-5' });
    const plain = pod('plain', { node: 'n1' });
    assert.ok(comparePodsForDeletion(cheap, plain) < 0);
    assert.ok(comparePodsForDeletion(pod('crowded', { node: 'n1' }), pod('alone', { node: 'n2' }), 3, 1) < 0);
    assert.ok(comparePodsForDeletion(pod('fresh', { node: 'n1', readyAt: '2024-01-01T00:05:00Z' }), pod('veteran', { node: 'n1', readyAt: '2024-01-01T00:01:00Z' })) < 0);
    assert.ok(comparePodsForDeletion(pod('flaky', { node: 'n1', restarts: 4 }), pod('steady', { node: 'n1' })) < 0);
    assert.ok(comparePodsForDeletion(pod('young', { node: 'n1', created: '2024-01-02T00:00:00Z' }), pod('old', { node: 'n1' })) < 0);
  });
  it('podsToDelete ranks by related pods on the same node', () => {
    const a = pod('a', { node: 'n1' });
    const b = pod('b', { node: 'n2' });
    const c = pod('c', { node: 'n2' });
    const sibling = pod('sibling', { node: 'n2' });
    const victims = podsToDelete([a, b, c], [a, b, c, sibling], 1);
    assert.ok(['b', 'c'].includes(victims[0]!.metadata.name!));
    assert.deepEqual(names(podsToDelete([a, b], [a, b], 5)).sort(), ['a', 'b']);
  });
});

describe('availability', () => {
  it('needs minReadySeconds of readiness', () => {
    const p = pod('p', { readyAt: '2024-01-01T00:00:10Z' });
    assert.equal(isPodAvailable(p, 0, new Date('2024-01-01T00:00:10Z')), true);
    assert.equal(isPodAvailable(p, 5, new Date('2024-01-01T00:00:14Z')), false);
    assert.equal(isPodAvailable(p, 5, new Date('2024-01-01T00:00:16Z')), true);
    assert.equal(isPodAvailable(pod('q', { ready: false }), 0, new Date()), false);
  });
});

describe('slowStartBatch', () => {
  it('creates in batches of 1, 2, 4 … and stops after the first failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls === 5) throw new Error('quota');
    });
    // batches 1, 2, 4: the failure is in the third batch; nothing after it runs
    assert.equal(calls, 7);
    assert.equal(r.successes, 6);
    assert.equal((r.error as Error).message, 'quota');
    let n = 0;
    const ok = await slowStartBatch(10, 1, async () => void n++);
    assert.deepEqual([n, ok.successes, ok.error], [10, 10, undefined]);
  });
});

describe('expectations', () => {
  it('block further syncs until creations and deletions are observed, or expire', () => {
    let now = 0;
    const e = new Expectations({ now: () => new Date(now) });
    assert.ok(e.satisfied('ns/rs'));
    e.expectCreations('ns/rs', 2);
    assert.ok(!e.satisfied('ns/rs'));
    e.creationObserved('ns/rs');
    assert.ok(!e.satisfied('ns/rs'));
    e.creationObserved('ns/rs');
    assert.ok(e.satisfied('ns/rs'));
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    assert.ok(!e.satisfied('ns/rs'));
    now += 5 * 60 * 1000 + 1;
    assert.ok(e.satisfied('ns/rs'), 'expired expectations do not block forever');
  });
});
