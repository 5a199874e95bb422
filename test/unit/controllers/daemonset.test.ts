// DaemonSet controller decisions without a server: node eligibility (nodeSelector, required
// node affinity, taints vs the default daemon tolerations), the pod template, per-node
// create/delete decisions, rolling update planning and status counts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../src/api/types.js';
import {
  computeDaemonSetCounts,
  newDaemonPod,
  nodeShouldRunDaemonPod,
  planRollingUpdate,
  podsShouldBeOnNode,
  replaceNodeNameAffinity,
  targetNodeName,
} from '../../../src/controllers/daemonset/util.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const NOW = new Date('2024-01-01T00:10:00Z');

function ds(spec: Json = {}, strategy: Json = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
    spec: { selector: { matchLabels: { app: 'a' } }, updateStrategy: strategy, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } } },
  };
}
function node(name: string, labels: Record<string, string> = {}, taints: Json[] = []): KObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } };
}
function pod(name: string, nodeName: string, hash: string, ready = true, extra: Json = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'a', 'controller-revision-hash': hash }, creationTimestamp: '2024-01-01T00:00:00Z', ...(extra.metadata ?? {}) },
    spec: { nodeName },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:01:00Z' }] },
  };
}

describe('nodeShouldRunDaemonPod', () => {
  it('follows nodeSelector and required node affinity', () => {
    const d = ds({ nodeSelector: { disk: 'ssd' } });
    assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { disk: 'ssd' }), d), [true, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n2', { disk: 'hdd' }), d), [false, false]);
    const aff = ds({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } },
    });
    assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { zone: 'b' }), aff), [true, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n1', { zone: 'c' }), aff), [false, false]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n1'), ds({ nodeName: 'n2' })), [false, false]);
  });

  it('tolerates the default taints, keeps running on NoSchedule, leaves NoExecute nodes', () => {
    const d = ds();
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), d), [true, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), d), [true, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]), d), [false, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]), d), [false, false]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'dedicated', value: 'gpu', effect: 'PreferNoSchedule' }]), d), [true, true]);
    const tol = ds({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]), tol), [true, true]);
    // network-unavailable is tolerated only with hostNetwork.
    const net = [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }];
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, net), d), [false, true]);
    assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, net), ds({ hostNetwork: true })), [true, true]);
  });
});

describe('daemon pod template', () => {
  it('adds tolerations, labels and the node-name affinity', () => {
    const p = newDaemonPod(ds({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] }), 'abc', 'n1');
    assert.equal(p.metadata.generateName, 'agent-');
    assert.deepEqual(p.metadata.labels, { app: 'a', 'pod-template-generation': '2', 'controller-revision-hash': 'abc' });
    assert.equal(p.spec.tolerations.length, 6);
    assert.deepEqual(p.spec.tolerations[0], { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
    assert.deepEqual(p.spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } });
    assert.equal(targetNodeName(p), 'n1');
    assert.deepEqual(p.metadata.ownerReferences?.[0], { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true });
  });

  it('replaces existing required terms but keeps other affinity', () => {
    const a = replaceNodeNameAffinity(
      { podAffinity: { x: 1 }, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] } } },
      'n2',
    );
    assert.deepEqual(a.podAffinity, { x: 1 });
    assert.deepEqual(a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]);
  });
});

describe('podsShouldBeOnNode', () => {
  it('creates on a node without a pod, keeps the oldest of duplicates, removes from ineligible nodes', () => {
    const d = ds({ nodeSelector: { run: 'yes' } });
    assert.deepEqual(podsShouldBeOnNode(node('n1', { run: 'yes' }), undefined, d, 'h', NOW), { create: true, delete: [], failed: [] });
    const older = pod('a-1', 'n1', 'h');
    const newer = pod('a-2', 'n1', 'h', true, { metadata: { creationTimestamp: '2024-01-01T00:05:00Z' } });
    assert.deepEqual(podsShouldBeOnNode(node('n1', { run: 'yes' }), [newer, older], d, 'h', NOW).delete, ['a-2']);
    assert.deepEqual(podsShouldBeOnNode(node('n1'), [older], d, 'h', NOW).delete, ['a-1']);
    const failed = pod('a-3', 'n1', 'h');
    failed.status.phase = 'Failed';
    assert.deepEqual(podsShouldBeOnNode(node('n1', { run: 'yes' }), [failed], d, 'h', NOW).failed.map((p) => p.metadata.name), ['a-3']);
  });
});

describe('rolling update', () => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  it('deletes at most maxUnavailable available old pods', () => {
    const m = new Map([
      ['n1', [pod('p1', 'n1', 'old')]],
      ['n2', [pod('p2', 'n2', 'old')]],
      ['n3', [pod('p3', 'n3', 'old')]],
    ]);
    assert.deepEqual(planRollingUpdate(ds(), nodes, m, 'new', NOW), { deletePods: ['p1'], createNodes: [] });
    const two = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', maxSurge: 0 } });
    assert.deepEqual(planRollingUpdate(two, nodes, m, 'new', NOW).deletePods, ['p1', 'p2']);
    // An unavailable new pod uses up the budget; unavailable old pods are replaced anyway.
    const m2 = new Map([
      ['n1', [pod('p1', 'n1', 'new', false)]],
      ['n2', [pod('p2', 'n2', 'old', false)]],
      ['n3', [pod('p3', 'n3', 'old')]],
    ]);
    assert.deepEqual(planRollingUpdate(ds(), nodes, m2, 'new', NOW).deletePods, ['p2']);
  });

  it('surges new pods next to old ones and deletes the old once the new is available', () => {
    const surge = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const m = new Map([
      ['n1', [pod('p1', 'n1', 'old')]],
      ['n2', [pod('p2', 'n2', 'old')]],
      ['n3', [pod('p3', 'n3', 'old')]],
    ]);
    assert.deepEqual(planRollingUpdate(surge, nodes, m, 'new', NOW), { deletePods: [], createNodes: ['n1'] });
    m.set('n1', [pod('p1', 'n1', 'old'), pod('q1', 'n1', 'new')]);
    assert.deepEqual(planRollingUpdate(surge, nodes, m, 'new', NOW), { deletePods: ['p1'], createNodes: ['n2'] });
    m.set('n1', [pod('p1', 'n1', 'old'), pod('q1', 'n1', 'new', false)]);
    assert.deepEqual(planRollingUpdate(surge, nodes, m, 'new', NOW), { deletePods: [], createNodes: [] });
  });
});

describe('status counts', () => {
  it('counts desired, current, ready, updated, available and misscheduled', () => {
    const d = ds({ nodeSelector: { run: 'yes' } });
    const nodes = [node('n1', { run: 'yes' }), node('n2', { run: 'yes' }), node('n3', { run: 'yes' }), node('n4')];
    const m = new Map([
      ['n1', [pod('p1', 'n1', 'h')]],
      ['n2', [pod('p2', 'n2', 'old', false)]],
      ['n4', [pod('p4', 'n4', 'h')]],
    ]);
    assert.deepEqual(computeDaemonSetCounts(d, nodes, m, 'h', NOW), {
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      numberReady: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
    });
  });
});
