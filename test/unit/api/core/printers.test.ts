// Table cells as `kubectl get` prints them, computed like upstream's printers.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../../src/api/types.js';
import { pods } from '../../../../src/api/core/pods.js';
import { podStatusCells } from '../../../../src/api/core/pod_printer.js';
import { services } from '../../../../src/api/core/services.js';
import { nodes } from '../../../../src/api/core/nodes.js';
import { endpoints } from '../../../../src/api/core/endpoints.js';
import { events } from '../../../../src/api/core/events.js';
import { secrets } from '../../../../src/api/core/secrets.js';
import { configmaps } from '../../../../src/api/core/configmaps.js';
import { replicationcontrollers } from '../../../../src/api/core/replicationcontrollers.js';
import { persistentvolumes } from '../../../../src/api/core/persistentvolumes.js';
import { persistentvolumeclaims } from '../../../../src/api/core/persistentvolumeclaims.js';
import { resourcequotas } from '../../../../src/api/core/resourcequotas.js';
import { componentstatuses } from '../../../../src/api/core/componentstatuses.js';
import { namespaces } from '../../../../src/api/core/namespaces.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const headers = (d: { printer?: { columns: { name: string; priority: number }[] } }, wide = false) =>
  d.printer!.columns.filter((c) => wide || c.priority === 0).map((c) => c.name.toUpperCase());

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}): KObject {
  return { metadata: { name: 'p', creationTimestamp: ago(300), ...meta }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec }, status };
}
const running = (ready = true, restartCount = 0, extra: Record<string, unknown> = {}) => ({
  name: 'c', ready, restartCount, state: { running: { startedAt: ago(100) } }, ...extra,
});

test('pod columns are upstream\'s, wide adds IP, NODE, NOMINATED NODE, READINESS GATES', () => {
  assert.deepEqual(headers(pods), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(headers(pods, true).slice(5), ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
});

test('pod STATUS variations', () => {
  const s = (p: KObject) => podStatusCells(p, now).status;
  assert.equal(s(pod({}, { phase: 'Pending' })), 'Pending');
  assert.equal(s(pod({ nodeName: 'n1' }, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] })), 'ContainerCreating');
  assert.equal(s(pod({}, { phase: 'Running', containerStatuses: [running()] })), 'Running');
  assert.equal(s(pod({}, { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] })), 'Completed');
  assert.equal(s(pod({}, { phase: 'Failed', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] })), 'Error');
  assert.equal(s(pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] })), 'CrashLoopBackOff');
  assert.equal(s(pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 0 } } }] })), 'ExitCode:137');
  assert.equal(s(pod({}, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] })), 'ImagePullBackOff');
  assert.equal(s(pod({}, { phase: 'Running', containerStatuses: [running()] }, { deletionTimestamp: ago(1) })), 'Terminating');
  assert.equal(s(pod({}, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(1) })), 'Unknown');
  assert.equal(s(pod({}, { phase: 'Succeeded' }, { deletionTimestamp: ago(1) })), 'Succeeded', 'finished pods are not Terminating');
  assert.equal(s(pod({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] })), 'SchedulingGated');
  assert.equal(s(pod({}, { phase: 'Failed', reason: 'Evicted' })), 'Evicted');
});

test('pod init container STATUS: Init:0/1, Init:Error, Init:CrashLoopBackOff, PodInitializing', () => {
  const init = { initContainers: [{ name: 'i', image: 'busybox' }] };
  const s = (initState: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    podStatusCells(pod(init, { phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, state: initState }], ...extra }), now).status;
  assert.equal(s({ waiting: { reason: 'PodInitializing' } }), 'Init:0/1');
  assert.equal(s({ running: {} }), 'Init:0/1');
  assert.equal(s({ terminated: { exitCode: 1, reason: 'Error' } }), 'Init:Error');
  assert.equal(s({ terminated: { exitCode: 2 } }), 'Init:ExitCode:2');
  assert.equal(s({ waiting: { reason: 'CrashLoopBackOff' } }), 'Init:CrashLoopBackOff');
  // Init done, main container being created.
  assert.equal(
    s({ terminated: { exitCode: 0, reason: 'Completed' } }, { containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] }),
    'PodInitializing',
  );
});

test('sidecar (restartable init) containers count toward READY', () => {
  const p = pod(
    { initContainers: [{ name: 'side', image: 'envoy', restartPolicy: 'Always' }] },
    {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
      initContainerStatuses: [{ name: 'side', ready: true, started: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } }],
      containerStatuses: [running()],
    },
  );
  const cells = podStatusCells(p, now);
  assert.equal(cells.ready, '2/2');
  assert.equal(cells.status, 'Running');
  assert.equal(cells.restarts, '1 (2m ago)');
});

test('RESTARTS shows the count and when the last restart happened', () => {
  const p = pod({}, { phase: 'Running', containerStatuses: [running(true, 3, { lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } })] });
  const cells = pods.printer!.cells(p, now);
  assert.deepEqual(cells.slice(0, 5), ['p', '1/1', 'Running', '3 (5m ago)', '5m']);
  assert.equal(podStatusCells(pod({}, { phase: 'Running', containerStatuses: [running()] }), now).restarts, '0');
});

test('pod wide cells: <none> when unscheduled, readiness gates counted', () => {
  const p = pod({ readinessGates: [{ conditionType: 'x/ready' }] }, { phase: 'Pending', conditions: [{ type: 'x/ready', status: 'True' }] });
  assert.deepEqual(pods.printer!.cells(p, now).slice(5), ['<none>', '<none>', '<none>', '1/1']);
  const q = pod({ nodeName: 'n1' }, { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], nominatedNodeName: 'n2' });
  assert.deepEqual(pods.printer!.cells(q, now).slice(5), ['10.0.0.5', 'n1', 'n2', '<none>']);
});

test('service TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) and SELECTOR', () => {
  assert.deepEqual(headers(services, true), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KObject => ({ metadata: { name: 's', creationTimestamp: ago(60) }, spec, status });
  const cells = (o: KObject) => services.printer!.cells(o, now);
  assert.deepEqual(
    cells(svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 'web', tier: 'a' } })),
    ['s', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '60s', 'app=web,tier=a'],
  );
  assert.deepEqual(cells(svc({ type: 'NodePort', clusterIPs: ['10.96.1.1'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] })).slice(1, 5), ['NodePort', '10.96.1.1', '<none>', '80:30080/TCP']);
  assert.equal(cells(svc({ type: 'LoadBalancer', clusterIPs: ['10.96.1.2'], ports: [] }))[3], '<pending>');
  assert.equal(cells(svc({ type: 'LoadBalancer', clusterIPs: ['10.96.1.2'] }, { loadBalancer: { ingress: [{ ip: '192.168.1.240' }] } }))[3], '192.168.1.240');
  assert.deepEqual(cells(svc({ type: 'ExternalName', externalName: 'example.com' })).slice(1, 5), ['ExternalName', '<none>', 'example.com', '<none>']);
  assert.equal(cells(svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80, protocol: 'TCP' }] }))[2], 'None');
  assert.equal(cells(svc({ type: 'ClusterIP', clusterIPs: ['10.0.0.1'], externalIPs: ['1.2.3.4'] }))[3], '1.2.3.4');
  assert.equal(cells(svc({ type: 'ClusterIP' }))[6], '<none>');
});

test('node STATUS and ROLES', () => {
  assert.deepEqual(headers(nodes), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
  assert.deepEqual(headers(nodes, true).slice(5), ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
  const node = (labels: Record<string, string>, unschedulable: boolean, ready?: string): KObject => ({
    metadata: { name: 'n1', creationTimestamp: ago(3 * 86400), labels },
    spec: { unschedulable },
    status: {
      conditions: ready ? [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] : [],
      addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '192.168.0.10' }],
      nodeInfo: { kubeletVersion: 'v1.30.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.6.20' },
    },
  });
  assert.deepEqual(nodes.printer!.cells(node({ 'node-role.kubernetes.io/control-plane': '' }, false, 'True'), now), [
    'n1', 'Ready', 'control-plane', '3d', 'v1.30.0', '192.168.0.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.6.20',
  ]);
  assert.equal(nodes.printer!.cells(node({}, true, 'True'), now)[1], 'Ready,SchedulingDisabled');
  assert.equal(nodes.printer!.cells(node({}, false, 'Unknown'), now)[1], 'NotReady');
  assert.equal(nodes.printer!.cells(node({}, false), now)[1], 'Unknown');
  const roles = nodes.printer!.cells(node({ 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/master': '', 'kubernetes.io/role': 'infra' }, false, 'True'), now)[2];
  assert.equal(roles, 'infra,master,worker');
  assert.equal(nodes.printer!.cells(node({}, false, 'True'), now)[2], '<none>');
});

test('endpoints list the first three ip:port pairs then "+ N more..."', () => {
  const ep = (subsets: unknown[]): KObject => ({ metadata: { name: 'e', creationTimestamp: ago(10) }, subsets });
  const cell = (o: KObject) => endpoints.printer!.cells(o, now)[1];
  assert.equal(cell(ep([])), '<none>');
  assert.equal(cell(ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }] }])), '10.0.0.1:80,10.0.0.2:80');
  assert.equal(
    cell(ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 80 }] }])),
    '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...',
  );
  assert.equal(cell(ep([{ addresses: [{ ip: '10.0.0.1' }] }])), '10.0.0.1');
  assert.equal(cell(ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 443 }] }])), '[fd00::1]:443');
});

test('events: LAST SEEN TYPE REASON OBJECT MESSAGE, wide adds SUBOBJECT SOURCE FIRST SEEN COUNT NAME', () => {
  assert.deepEqual(headers(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.deepEqual(headers(events, true), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
  const ev: KObject = {
    metadata: { name: 'p.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', fieldPath: 'spec.containers{c}' },
    reason: 'Pulled', message: ' Successfully pulled image "nginx"\n', type: 'Normal',
    source: { component: 'kubelet', host: 'n1' }, firstTimestamp: ago(600), lastTimestamp: ago(30), count: 3,
  };
  assert.deepEqual(events.printer!.cells(ev, now), ['30s', 'Normal', 'Pulled', 'pod/p', 'spec.containers{c}', 'kubelet, n1', 'Successfully pulled image "nginx"', '10m', 3, 'p.17a']);
  const newApi: KObject = { metadata: { name: 'e2' }, involvedObject: { kind: 'Node' }, eventTime: ago(5), reportingComponent: 'scheduler', type: 'Warning', reason: 'X' };
  const cells = events.printer!.cells(newApi, now);
  assert.equal(cells[0], '5s');
  assert.equal(cells[3], 'node');
  assert.equal(cells[5], 'scheduler');
  assert.equal(cells[8], 1);
});

test('configmap and secret DATA counts, secret TYPE', () => {
  assert.deepEqual(configmaps.printer!.cells({ metadata: { name: 'c' }, data: { a: '1' }, binaryData: { b: 'AA==' } }, now).slice(0, 2), ['c', 2]);
  assert.deepEqual(secrets.printer!.cells({ metadata: { name: 's' }, type: 'Opaque', data: { a: 'MQ==' } }, now).slice(0, 3), ['s', 'Opaque', 1]);
  assert.deepEqual(headers(secrets), ['NAME', 'TYPE', 'DATA', 'AGE']);
});

test('replication controller, PV, PVC, quota, componentstatus and namespace cells', () => {
  const rc: KObject = {
    metadata: { name: 'rc', creationTimestamp: ago(60) },
    spec: { replicas: 3, selector: { app: 'web' }, template: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis:7' }] } } },
    status: { replicas: 3, readyReplicas: 2 },
  };
  assert.deepEqual(replicationcontrollers.printer!.cells(rc, now), ['rc', 3, 3, 2, '60s', 'a,b', 'nginx,redis:7', 'app=web']);

  const pv: KObject = {
    metadata: { name: 'pv1', creationTimestamp: ago(60) },
    spec: { capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'manual', volumeMode: 'Filesystem' },
    status: { phase: 'Bound' },
  };
  assert.deepEqual(persistentvolumes.printer!.cells(pv, now), ['pv1', '1Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'manual', '<unset>', '', '60s', 'Filesystem']);
  assert.deepEqual(headers(persistentvolumeclaims), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
  const pvc: KObject = {
    metadata: { name: 'data', creationTimestamp: ago(60) },
    spec: { volumeName: 'pv1', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
  };
  assert.deepEqual(persistentvolumeclaims.printer!.cells(pvc, now), ['data', 'Bound', 'pv1', '1Gi', 'RWO', 'manual', '<unset>', '60s', '<unset>']);
  const pending = { ...pvc, spec: { ...pvc.spec, volumeName: undefined }, status: { phase: 'Pending' } };
  assert.deepEqual(persistentvolumeclaims.printer!.cells(pending, now).slice(1, 5), ['Pending', '', '', '']);

  const quota: KObject = {
    metadata: { name: 'q', creationTimestamp: ago(60) },
    status: { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '1Gi' }, used: { pods: '2', 'requests.cpu': '500m', 'limits.memory': '0' } },
  };
  assert.deepEqual(resourcequotas.printer!.cells(quota, now), ['q', '60s', 'pods: 2/10, requests.cpu: 500m/1', 'limits.memory: 0/1Gi']);

  assert.deepEqual(componentstatuses.printer!.cells({ metadata: { name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] }, now), ['etcd-0', 'Healthy', 'ok', '']);
  assert.deepEqual(namespaces.printer!.cells({ metadata: { name: 'default', creationTimestamp: ago(60) }, status: { phase: 'Active' } }, now), ['default', 'Active', '60s']);
});
