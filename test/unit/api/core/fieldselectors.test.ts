// Field selectors beyond metadata.name/namespace, as upstream supports them
// (`kubectl get pods --field-selector spec.nodeName=n1,status.phase=Running`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../../src/api/types.js';
import { coreResources } from '../../../../src/api/core/index.js';

const by = Object.fromEntries(coreResources.map((d) => [d.plural, d]));
const fields = (plural: string, o: KObject) =>
  Object.fromEntries(Object.entries(by[plural]!.fieldSelectors ?? {}).map(([k, f]) => [k, f(o)]));

test('pod field selectors', () => {
  const pod: KObject = {
    metadata: { name: 'p' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], nominatedNodeName: '' },
  };
  assert.deepEqual(fields('pods', pod), {
    'spec.nodeName': 'n1',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'true',
    'status.phase': 'Running',
    'status.podIP': '10.0.0.5',
    'status.podIPs': '10.0.0.5',
    'status.nominatedNodeName': '',
  });
  assert.equal(fields('pods', { metadata: { name: 'q' }, spec: {} })['spec.hostNetwork'], 'false');
});

test('event, secret, node, namespace, rc and service field selectors', () => {
  const ev: KObject = {
    metadata: { name: 'e' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid: 'u1', apiVersion: 'v1', resourceVersion: '5', fieldPath: 'spec.containers{c}' },
    reason: 'Scheduled', reportingComponent: 'default-scheduler', type: 'Normal',
  };
  assert.deepEqual(fields('events', ev), {
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'default',
    'involvedObject.name': 'p',
    'involvedObject.uid': 'u1',
    'involvedObject.apiVersion': 'v1',
    'involvedObject.resourceVersion': '5',
    'involvedObject.fieldPath': 'spec.containers{c}',
    reason: 'Scheduled',
    reportingComponent: 'default-scheduler',
    source: 'default-scheduler',
    type: 'Normal',
  });
  assert.deepEqual(fields('secrets', { metadata: { name: 's' }, type: 'kubernetes.io/tls' }), { type: 'kubernetes.io/tls' });
  assert.deepEqual(fields('nodes', { metadata: { name: 'n' }, spec: { unschedulable: true } }), { 'spec.unschedulable': 'true' });
  assert.deepEqual(fields('nodes', { metadata: { name: 'n' } }), { 'spec.unschedulable': 'false' });
  assert.deepEqual(fields('namespaces', { metadata: { name: 'n' }, status: { phase: 'Terminating' } }), { 'status.phase': 'Terminating' });
  assert.deepEqual(fields('replicationcontrollers', { metadata: { name: 'r' }, status: { replicas: 2 } }), { 'status.replicas': '2' });
  assert.deepEqual(fields('services', { metadata: { name: 's' }, spec: { type: 'NodePort', clusterIP: '10.96.0.1' } }), { 'spec.clusterIP': '10.96.0.1', 'spec.type': 'NodePort' });
});
