// The Job controller's pure decisions: how many pods to run, which indexes, which pods go
// first, the pod-failure back-off, podFailurePolicy matching, conditions and the pod template.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../../src/api/types.js';
import {
  backoffDelayMs,
  backoffRemainingMs,
  firstPendingIndexes,
  formatIndexes,
  isPodFailed,
  matchPodFailurePolicy,
  nextBackoffRecord,
  parseIndexes,
  podFromTemplate,
  setCondition,
  sortPodsForDeletion,
  wantActivePods,
} from '../../../src/controllers/job.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const pod = (name: string, extra: any = {}): KObject =>
  ({ metadata: { name, namespace: 'ns', uid: name, creationTimestamp: extra.created ?? '2025-01-01T00:00:00Z', ...(extra.metadata ?? {}) }, spec: extra.spec ?? {}, status: extra.status ?? {} }) as KObject;

describe('Job controller decisions', () => {
  test('wantActivePods: never more than parallelism, never more than remaining completions', () => {
    assert.equal(wantActivePods(5, 2, 0, 0), 2);
    assert.equal(wantActivePods(5, 2, 4, 1), 1);
    assert.equal(wantActivePods(5, 2, 5, 0), 0);
    assert.equal(wantActivePods(5, 10, 7, 0), 0);
    // No completions (work queue): parallelism until the first success, then leave the rest running.
    assert.equal(wantActivePods(null, 3, 0, 1), 3);
    assert.equal(wantActivePods(null, 3, 1, 2), 2);
  });

  test('back-off: 10 s, 20 s, 40 s … capped at 6 minutes', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelayMs(n)), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
    const rec = { failuresAfterLastSuccess: 2, lastFailureTime: 1_000_000 };
    assert.equal(backoffRemainingMs(rec, 1_000_000), 20_000);
    assert.equal(backoffRemainingMs(rec, 1_015_000), 5_000);
    assert.equal(backoffRemainingMs(rec, 1_020_000), 0);
    assert.equal(backoffRemainingMs(undefined, 0), 0);
  });

  test('back-off record: failures since the last success', () => {
    let r = nextBackoffRecord(undefined, [], [100]);
    assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureTime: 100 });
    r = nextBackoffRecord(r, [], [200, 300]);
    assert.deepEqual(r, { failuresAfterLastSuccess: 3, lastFailureTime: 300 });
    assert.deepEqual(nextBackoffRecord(r, [400], []), { failuresAfterLastSuccess: 0 });
    assert.deepEqual(nextBackoffRecord(r, [250], [200, 300]), { failuresAfterLastSuccess: 1, lastFailureTime: 300 });
    assert.deepEqual(nextBackoffRecord(r, [350], [200, 300]), { failuresAfterLastSuccess: 0 });
  });

  test('completed indexes: parse and format intervals', () => {
    assert.deepEqual([...parseIndexes('0-2,4,7-8')], [0, 1, 2, 4, 7, 8]);
    assert.deepEqual([...parseIndexes('0-2,4,7-8', 5)], [0, 1, 2, 4]);
    assert.equal(formatIndexes([4, 0, 2, 1, 8, 7]), '0-2,4,7-8');
    assert.equal(formatIndexes([]), '');
    assert.deepEqual(firstPendingIndexes(2, 5, new Set([0, 2]), new Set([1])), [3, 4]);
    assert.deepEqual(firstPendingIndexes(5, 3, new Set(), new Set()), [0, 1, 2]);
  });

  test('pods to delete first: unscheduled, pending, not ready, newest', () => {
    const ready = { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running' };
    const pods = [
      pod('running-ready', { spec: { nodeName: 'n' }, status: ready }),
      pod('running-notready-old', { spec: { nodeName: 'n' }, status: { phase: 'Running' } }),
      pod('running-notready-new', { spec: { nodeName: 'n' }, status: { phase: 'Running' }, created: '2025-01-02T00:00:00Z' }),
      pod('pending', { spec: { nodeName: 'n' }, status: { phase: 'Pending' } }),
      pod('unscheduled', { status: { phase: 'Pending' } }),
    ];
    assert.deepEqual(sortPodsForDeletion(pods).map((p) => p.metadata.name), ['unscheduled', 'pending', 'running-notready-new', 'running-notready-old', 'running-ready']);
  });

  test('isPodFailed: phase Failed, or deleted before success unless only Failed pods are replaced', () => {
    const job = { metadata: {}, spec: {} } as KObject;
    const failedOnly = { metadata: {}, spec: { podReplacementPolicy: 'Failed' } } as KObject;
    const deleting = pod('d', { metadata: { deletionTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Running' } });
    assert.equal(isPodFailed(pod('f', { status: { phase: 'Failed' } }), job), true);
    assert.equal(isPodFailed(deleting, job), true);
    assert.equal(isPodFailed(deleting, failedOnly), false);
    assert.equal(isPodFailed(pod('s', { metadata: { deletionTimestamp: 'x' }, status: { phase: 'Succeeded' } }), job), false);
  });

  test('podFailurePolicy: first matching rule decides; FailJob message as upstream', () => {
    const policy = {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
        { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
      ],
    };
    const term = (name: string, exitCode: number) => ({ name, state: { terminated: { exitCode } } });
    const failed = (cs: any[], conditions: any[] = []) => pod('p', { status: { phase: 'Failed', containerStatuses: cs, conditions } });
    assert.deepEqual(matchPodFailurePolicy(policy, failed([term('main', 42)])), {
      countFailed: true,
      action: 'FailJob',
      failJobMessage: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1',
    });
    assert.deepEqual(matchPodFailurePolicy(policy, failed([term('main', 1)], [{ type: 'DisruptionTarget', status: 'True' }])), { countFailed: false, action: 'Ignore' });
    assert.deepEqual(matchPodFailurePolicy(policy, failed([term('side', 42)])), { countFailed: true, action: 'Count' });
    assert.deepEqual(matchPodFailurePolicy(policy, failed([term('main', 1)])), { countFailed: true });
    // Exit code 0 never matches.
    assert.deepEqual(matchPodFailurePolicy({ rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [1] } }] }, failed([term('main', 0)])), { countFailed: true });
    const byCond = matchPodFailurePolicy({ rules: [{ action: 'FailJob', onPodConditions: [{ type: 'ConfigIssue', status: 'True' }] }] }, failed([], [{ type: 'ConfigIssue', status: 'True' }]));
    assert.equal(byCond.failJobMessage, 'Pod ns/p has condition ConfigIssue matching FailJob rule at index 0');
  });

  test('conditions: added once, transition time kept while the status holds', () => {
    let c = setCondition([], 'Suspended', 'False', 'JobResumed', 'Job resumed', 't0');
    assert.deepEqual(c, []);
    c = setCondition(c, 'Suspended', 'True', 'JobSuspended', 'Job suspended', 't1');
    assert.deepEqual(c, [{ type: 'Suspended', status: 'True', lastProbeTime: 't1', lastTransitionTime: 't1', reason: 'JobSuspended', message: 'Job suspended' }]);
    assert.deepEqual(setCondition(c, 'Suspended', 'True', 'JobSuspended', 'Job suspended', 't2'), c);
    c = setCondition(c, 'Suspended', 'False', 'JobResumed', 'Job resumed', 't3');
    assert.equal(c[0]!.lastTransitionTime, 't3');
    assert.equal(c[0]!.status, 'False');
  });

  test('pod template: generateName, finalizer, controller ownerReference, completion index', () => {
    const job = {
      metadata: { name: 'pi', namespace: 'ns', uid: 'u1' },
      spec: { template: { metadata: { labels: { 'job-name': 'pi' } }, spec: { containers: [{ name: 'c', image: 'perl' }] } } },
    } as KObject;
    const p = podFromTemplate(job);
    assert.equal(p.metadata.generateName, 'pi-');
    assert.deepEqual(p.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(p.spec.containers[0].env, undefined);
    const ip = podFromTemplate(job, 3);
    assert.equal(ip.metadata.generateName, 'pi-3-');
    assert.equal(ip.metadata.annotations!['batch.kubernetes.io/job-completion-index'], '3');
    assert.equal(ip.metadata.labels!['batch.kubernetes.io/job-completion-index'], '3');
    assert.equal(ip.spec.hostname, 'pi-3');
    assert.deepEqual(ip.spec.containers[0].env, [
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    ]);
    // The Job's template is not modified.
    assert.equal(job.spec.template.spec.containers[0].env, undefined);
  });
});
