// Node lifecycle decisions with explicit (fake) times: when a node is stale, what its
// conditions become, which taints it carries, and when each pod on it is evicted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  desiredTaints,
  evictionTime,
  isStale,
  reconcileTaints,
  tolerates,
  unknownConditions,
  type Taint,
} from '../../../src/controllers/nodelifecycle.js';
import { terminatedPodsToDelete } from '../../../src/controllers/podgc.js';
import type { KObject } from '../../../src/api/types.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function node(conds: Record<string, string> | undefined, spec: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', creationTimestamp: '2024-12-31T23:00:00Z' },
    spec,
    status: conds
      ? {
          conditions: Object.entries(conds).map(([type, status]) => ({
            type,
            status,
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: '2024-12-31T23:59:00Z',
            lastTransitionTime: '2024-12-31T23:00:00Z',
          })),
        }
      : {},
  };
}

const healthy = { MemoryPressure: 'False', DiskPressure: 'False', PIDPressure: 'False', Ready: 'True' };

describe('node health', () => {
  it('is stale only after the grace period since the last heartbeat (startup grace before the first Ready)', () => {
    const n = node(healthy);
    assert.equal(isStale(n, T0, T0 + 50_000, 50_000, 60_000), false);
    assert.equal(isStale(n, T0, T0 + 50_001, 50_000, 60_000), true);
    const fresh = node(undefined);
    assert.equal(isStale(fresh, T0, T0 + 55_000, 50_000, 60_000), false);
    assert.equal(isStale(fresh, T0, T0 + 60_001, 50_000, 60_000), true);
  });

  it('sets every monitored condition Unknown with upstream reasons, once', () => {
    const now = new Date(T0);
    const conds = unknownConditions(node(healthy), now)!;
    assert.equal(conds.length, 4);
    for (const c of conds) {
      assert.equal(c.status, 'Unknown');
      assert.equal(c.reason, 'NodeStatusUnknown');
      assert.equal(c.message, 'Kubelet stopped posting node status.');
      assert.equal(c.lastTransitionTime, '2025-01-01T00:00:00Z');
      assert.equal(c.lastHeartbeatTime, '2024-12-31T23:59:00Z', 'the last heartbeat is kept');
    }
    const dead = node(undefined);
    dead.status!.conditions = conds;
    assert.equal(unknownConditions(dead, now), undefined, 'nothing to change the second time');

    const never = unknownConditions(node(undefined), now)!;
    assert.deepEqual(never.map((c) => c.type), ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);
    assert.equal(never[0].reason, 'NodeStatusNeverUpdated');
    assert.equal(never[0].message, 'Kubelet never posted node status.');
    assert.equal(never[0].lastHeartbeatTime, '2024-12-31T23:00:00Z');
  });
});

describe('node taints', () => {
  const keys = (ts: Taint[]) => ts.map((t) => `${t.key}:${t.effect}`).sort();

  it('follows Ready, pressure conditions and spec.unschedulable', () => {
    assert.deepEqual(desiredTaints(node(healthy)), []);
    assert.deepEqual(keys(desiredTaints(node({ ...healthy, Ready: 'Unknown' }))), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.deepEqual(keys(desiredTaints(node({ ...healthy, Ready: 'False' }))), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
    assert.deepEqual(keys(desiredTaints(node({ ...healthy, MemoryPressure: 'True', DiskPressure: 'True' }))), [
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
    ]);
    assert.deepEqual(keys(desiredTaints(node(healthy, { unschedulable: true }))), ['node.kubernetes.io/unschedulable:NoSchedule']);
  });

  it('reconciles only owned taints, stamping timeAdded on new NoExecute ones and keeping existing ones', () => {
    const now = new Date(T0);
    const foreign: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const want = desiredTaints(node({ ...healthy, Ready: 'Unknown' }));
    const next = reconcileTaints([foreign], want, now)!;
    assert.deepEqual(next[0], foreign);
    assert.equal(next.find((t) => t.effect === 'NoExecute')?.timeAdded, '2025-01-01T00:00:00Z');
    assert.equal(next.find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule')?.timeAdded, undefined);
    assert.equal(reconcileTaints(next, want, new Date(T0 + 10_000)), undefined, 'unchanged: no write, timeAdded kept');
    // Back to Ready: the owned taints go, the foreign one stays.
    assert.deepEqual(reconcileTaints(next, [], now), [foreign]);
    // Ready=False replaces unreachable with not-ready.
    assert.deepEqual(keys(reconcileTaints(next, desiredTaints(node({ ...healthy, Ready: 'False' })), now)!), [
      'dedicated:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
    ]);
  });
});

describe('taint eviction timing', () => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' };

  it('matches tolerations like the scheduler does', () => {
    assert.equal(tolerates({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, unreachable), true);
    assert.equal(tolerates({ operator: 'Exists' }, unreachable), true);
    assert.equal(tolerates({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, unreachable), false);
    assert.equal(tolerates({ key: 'a', value: 'b' }, { key: 'a', value: 'b', effect: 'NoExecute' }), true);
    assert.equal(tolerates({ key: 'a', value: 'c' }, { key: 'a', value: 'b', effect: 'NoExecute' }), false);
  });

  it('evicts at once without a toleration, after tolerationSeconds from the taint time, never when tolerated forever', () => {
    const now = T0 + 5_000;
    assert.equal(evictionTime([], [unreachable], now, now), now);
    // The API's default tolerations: 300 s.
    const dflt = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
    assert.equal(evictionTime(dflt, [unreachable], now, now), T0 + 300_000);
    assert.equal(evictionTime([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], [unreachable], now, now), undefined);
    // The smallest tolerationSeconds among matching tolerations wins.
    assert.equal(evictionTime([...dflt, { operator: 'Exists', tolerationSeconds: 10 }], [unreachable], now, now), T0 + 10_000);
    // Without timeAdded the time the taint was first seen counts.
    assert.equal(evictionTime(dflt, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], T0 + 1000, now), T0 + 301_000);
    // A second taint not tolerated at all evicts now; NoSchedule taints never evict.
    assert.equal(evictionTime(dflt, [unreachable, { key: 'x', effect: 'NoExecute' }], now, now), now);
    assert.equal(evictionTime([], [{ key: 'x', effect: 'NoSchedule' }], now, now), undefined);
  });
});

describe('pod GC of terminated pods', () => {
  const p = (name: string, phase: string, created: string): KObject => ({
    metadata: { name, namespace: 'default', creationTimestamp: created },
    status: { phase },
  });

  it('deletes the oldest terminated pods beyond the threshold only', () => {
    const pods = [
      p('new-done', 'Succeeded', '2025-01-03T00:00:00Z'),
      p('running', 'Running', '2025-01-01T00:00:00Z'),
      p('old-failed', 'Failed', '2025-01-01T00:00:00Z'),
      p('mid-done', 'Succeeded', '2025-01-02T00:00:00Z'),
    ];
    assert.deepEqual(terminatedPodsToDelete(pods, 1).map((x) => x.metadata.name), ['old-failed', 'mid-done']);
    assert.deepEqual(terminatedPodsToDelete(pods, 3), []);
    assert.deepEqual(terminatedPodsToDelete(pods, 0), [], '0 disables');
  });
});
