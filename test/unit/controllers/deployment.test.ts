// Deployment arithmetic without a server: maxSurge/maxUnavailable resolution, the rolling
// update plans, proportional scaling, annotations, hashing and conditions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../src/api/types.js';
import {
  computeHash,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  maxScaledDown,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  oldScaleDownPlan,
  proportionalScale,
  resolveFenceposts,
  safeEncodeString,
  scaledValue,
  setCondition,
  setNewReplicaSetAnnotations,
  unhealthyCleanupPlan,
  type DeploymentStatus,
} from '../../../src/controllers/deployment/util.js';

function deploy(replicas: number, maxSurge: number | string = '25%', maxUnavailable: number | string = '25%', extra: Record<string, unknown> = {}): KObject {
  return {
    metadata: { name: 'd', namespace: 'default', generation: 1, annotations: {} },
    spec: {
      replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
      ...extra,
    },
    status: {},
  };
}

let seq = 0;
function rs(name: string, replicas: number, available = replicas, annotations: Record<string, string> = {}): KObject {
  seq++;
  return {
    metadata: { name, namespace: 'default', creationTimestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, seq)).toISOString(), annotations },
    spec: { replicas },
    status: { replicas, availableReplicas: available },
  };
}

describe('maxSurge / maxUnavailable', () => {
  it('rounds surge up and unavailable down, as upstream', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 4), [1, 1]);
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), [3, 2]);
    assert.deepEqual(resolveFenceposts('25%', '25%', 1), [1, 0]);
    assert.deepEqual(resolveFenceposts('30%', '30%', 5), [2, 1]);
    assert.deepEqual(resolveFenceposts(2, 0, 5), [2, 0]);
    assert.equal(scaledValue('100%', 7, false), 7);
  });
  it('never leaves both at zero: unavailable becomes 1', () => {
    assert.deepEqual(resolveFenceposts('0%', '10%', 3), [0, 1]);
    assert.deepEqual(resolveFenceposts(0, 0, 3), [0, 1]);
  });
  it('MaxUnavailable is capped at replicas and zero for Recreate or zero replicas', () => {
    assert.equal(maxUnavailable(deploy(2, 0, 5)), 2);
    assert.equal(maxUnavailable(deploy(0)), 0);
    const rec = deploy(4);
    rec.spec.strategy = { type: 'Recreate' };
    assert.equal(maxUnavailable(rec), 0);
    assert.equal(maxSurge(rec), 0);
    assert.equal(maxSurge(deploy(10)), 3);
  });
});

describe('rolling update arithmetic', () => {
  it('grows the new ReplicaSet only up to replicas + maxSurge', () => {
    const d = deploy(4, 1, 1);
    const old = rs('old', 4);
    const nw = rs('new', 0);
    assert.equal(newRSNewReplicas(d, [old, nw], nw), 1);
    old.spec.replicas = 3;
    assert.equal(newRSNewReplicas(d, [old, nw], nw), 2);
    nw.spec.replicas = 4;
    old.spec.replicas = 0;
    assert.equal(newRSNewReplicas(d, [old, nw], nw), 4);
  });
  it('scales old ReplicaSets down only while availability stays above replicas - maxUnavailable', () => {
    const d = deploy(4, 1, 1);
    const old = rs('old', 4, 4);
    const nw = rs('new', 1, 0);
    // 5 wanted, 3 must stay available, the new pod is not available yet: 1 may go
    assert.equal(maxScaledDown(d, [old, nw], nw), 1);
    assert.deepEqual(
      oldScaleDownPlan(d, [old, nw], [old]).map(([r, n]) => [r.metadata.name, n]),
      [['old', 3]],
    );
    // nothing available beyond the minimum: nothing goes
    old.status.availableReplicas = 3;
    assert.deepEqual(oldScaleDownPlan(d, [old, nw], [old]), []);
  });
  it('drops unhealthy old replicas first, oldest ReplicaSet first', () => {
    const a = rs('a', 3, 1);
    const b = rs('b', 2, 0);
    assert.deepEqual(
      unhealthyCleanupPlan([b, a], 3).map(([r, n]) => [r.metadata.name, n]),
      [
        ['a', 1],
        ['b', 1],
      ],
    );
  });
});

describe('proportional scaling', () => {
  it('spreads a scale-up over ReplicaSets in proportion to their size (upstream example)', () => {
    // 10 replicas, maxSurge 3, mid-rollout with 8 old + 5 new; scaled to 15 (maxSurge 4 → 19 allowed).
    const d = deploy(15, 3, 2);
    d.spec.strategy.rollingUpdate.maxSurge = 3;
    const old = rs('old', 8, 8, { 'deployment.kubernetes.io/max-replicas': '13' });
    const nw = rs('new', 5, 0, { 'deployment.kubernetes.io/max-replicas': '13' });
    const plan = proportionalScale(d, nw, [old]);
    const sizes = Object.fromEntries(plan.map(([r, n]) => [r.metadata.name, n]));
    assert.equal(sizes['old']! + sizes['new']!, 18);
    assert.deepEqual(sizes, { old: 11, new: 7 });
  });
  it('a scale-down takes from the larger, older ReplicaSets first and never goes negative', () => {
    const d = deploy(2, 0, 1);
    const old = rs('old', 3, 3, { 'deployment.kubernetes.io/max-replicas': '4' });
    const nw = rs('new', 1, 0, { 'deployment.kubernetes.io/max-replicas': '4' });
    const plan = proportionalScale(d, nw, [old]);
    const sizes = Object.fromEntries(plan.map(([r, n]) => [r.metadata.name, n]));
    assert.equal(sizes['old']! + sizes['new']!, 2);
    assert.ok(sizes['old']! >= 0 && sizes['new']! >= 0);
  });
  it('finds the single active ReplicaSet, or the newest when none is active', () => {
    const a = rs('a', 0);
    const b = rs('b', 0);
    assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata.name, 'b');
    const c = rs('c', 2);
    assert.equal(findActiveOrLatest(undefined, [a, c])?.metadata.name, 'c');
    assert.equal(findActiveOrLatest(rs('n', 1), [c]), undefined);
  });
});

describe('revision annotations', () => {
  it('sets revision, desired and max replicas on a new ReplicaSet and copies change-cause', () => {
    const d = deploy(4);
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'because', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const r = rs('new', 0);
    assert.equal(setNewReplicaSetAnnotations(d, r, '3', false), true);
    assert.deepEqual(r.metadata.annotations, {
      'kubernetes.io/change-cause': 'because',
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
  });
  it('keeps the old revisions in revision-history when an old ReplicaSet comes back', () => {
    const d = deploy(4);
    const r = rs('back', 0, 0, { 'deployment.kubernetes.io/revision': '1' });
    setNewReplicaSetAnnotations(d, r, '3', true);
    assert.equal(r.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
    assert.equal(r.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
    setNewReplicaSetAnnotations(d, r, '5', true);
    assert.equal(r.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1,3');
    // the same revision again changes nothing
    assert.equal(setNewReplicaSetAnnotations(d, r, '5', true), false);
  });
});

describe('pod-template-hash', () => {
  it('is stable, uses the safe alphabet, and changes with the template or collisionCount', () => {
    const t = deploy(1).spec.template;
    const h = computeHash(t);
    assert.equal(h, computeHash(structuredClone(t)));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    // key order does not matter
    assert.equal(computeHash({ spec: t.spec, metadata: t.metadata }), h);
    const t2 = structuredClone(t);
    t2.spec.containers[0].image = 'nginx:2';
    assert.notEqual(computeHash(t2), h);
    assert.notEqual(computeHash(t, 1), h);
    assert.notEqual(computeHash(t, 1), computeHash(t, 2));
  });
  it('SafeEncodeString maps each byte onto the alphabet', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });
  it('EqualIgnoreHash ignores only the pod-template-hash label', () => {
    const t = deploy(1).spec.template;
    const withHash = structuredClone(t);
    withHash.metadata.labels['pod-template-hash'] = 'abc';
    assert.ok(equalIgnoreHash(withHash, t));
    // a null field (Go's zero creationTimestamp) is the same as an absent one
    const withNull = structuredClone(t);
    withNull.metadata.creationTimestamp = null;
    assert.ok(equalIgnoreHash(withHash, withNull));
    assert.equal(computeHash(withNull), computeHash(t));
    withHash.metadata.labels['x'] = 'y';
    assert.ok(!equalIgnoreHash(withHash, t));
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime while the status stays the same', () => {
    const st: DeploymentStatus = {};
    const t0 = new Date('2024-01-01T00:00:00Z');
    const t1 = new Date('2024-01-01T00:01:00Z');
    setCondition(st, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'x', t0));
    setCondition(st, newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'y', t1));
    assert.equal(st.conditions!.length, 1);
    assert.equal(st.conditions![0]!.lastTransitionTime, '2024-01-01T00:00:00Z');
    assert.equal(st.conditions![0]!.lastUpdateTime, '2024-01-01T00:01:00Z');
    // same status and reason: unchanged
    setCondition(st, newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'z', t1));
    assert.equal(st.conditions![0]!.message, 'y');
  });
  it('times out progressDeadlineSeconds after the last progress', () => {
    const d = deploy(1, 1, 0, { progressDeadlineSeconds: 600 });
    const st: DeploymentStatus = { conditions: [newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'm', new Date('2024-01-01T00:00:00Z'))] };
    assert.equal(deploymentTimedOut(d, st, new Date('2024-01-01T00:09:59Z')), false);
    assert.equal(deploymentTimedOut(d, st, new Date('2024-01-01T00:10:01Z')), true);
    st.conditions![0]!.reason = 'NewReplicaSetAvailable';
    assert.equal(deploymentTimedOut(d, st, new Date('2024-01-01T01:00:00Z')), false);
  });
});
