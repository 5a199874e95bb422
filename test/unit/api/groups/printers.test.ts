import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ResourceDecl } from '../../../../src/api/types.js';
import { deployments, statefulsets, controllerrevisions } from '../../../../src/api/groups/apps.js';
import { jobs, cronjobs } from '../../../../src/api/groups/batch.js';
import { horizontalpodautoscalers } from '../../../../src/api/groups/autoscaling.js';
import { hpaV2ToV1 } from '../../../../src/api/groups/hpa-conversion.js';
import { ingresses } from '../../../../src/api/groups/networking.js';
import { rolebindings, clusterroles } from '../../../../src/api/groups/rbac.js';
import { storageclasses } from '../../../../src/api/groups/storage.js';
import { endpointslices } from '../../../../src/api/groups/discovery.js';
import { poddisruptionbudgets } from '../../../../src/api/groups/policy.js';
import { customresourcedefinitions } from '../../../../src/api/groups/apiextensions.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

/** The row as kubectl shows it: headers upper-cased, optionally only priority-0 columns. */
function row(decl: ResourceDecl, obj: KObject, wide = false): Record<string, unknown> {
  const cells = decl.printer!.cells(obj, now);
  assert.equal(cells.length, decl.printer!.columns.length, 'one cell per column');
  const out: Record<string, unknown> = {};
  decl.printer!.columns.forEach((c, i) => {
    if (wide || c.priority === 0) out[c.name.toUpperCase()] = cells[i];
  });
  return out;
}

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } };

test('deployment mid-rollout: READY ready/desired, UP-TO-DATE, AVAILABLE, wide columns', () => {
  const d: KObject = {
    metadata: { name: 'web', creationTimestamp: ago(300) },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
    status: { replicas: 4, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2 },
  };
  assert.deepEqual(row(deployments, d), { NAME: 'web', READY: '2/3', 'UP-TO-DATE': 1, AVAILABLE: 2, AGE: '5m' });
  const wide = row(deployments, d, true);
  assert.equal(wide.CONTAINERS, 'nginx,log');
  assert.equal(wide.IMAGES, 'nginx:1.25,busybox');
  assert.equal(wide.SELECTOR, 'app=web');
});

test('a brand-new deployment shows 0/1 and zeros, not blanks', () => {
  const d: KObject = { metadata: { name: 'n', creationTimestamp: ago(5) }, spec: { replicas: 1, template } };
  assert.deepEqual(row(deployments, d), { NAME: 'n', READY: '0/1', 'UP-TO-DATE': 0, AVAILABLE: 0, AGE: '5s' });
});

test('statefulset READY and controllerrevision CONTROLLER', () => {
  const s: KObject = { metadata: { name: 'db', creationTimestamp: ago(60) }, spec: { replicas: 3, template }, status: { readyReplicas: 3 } };
  assert.deepEqual(row(statefulsets, s), { NAME: 'db', READY: '3/3', AGE: '60s' });
  const cr: KObject = {
    metadata: { name: 'db-7f9c', creationTimestamp: ago(60), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] },
    revision: 2,
  };
  assert.deepEqual(row(controllerrevisions, cr), { NAME: 'db-7f9c', CONTROLLER: 'statefulset.apps/db', REVISION: 2, AGE: '60s' });
});

test('completed job: STATUS Complete, COMPLETIONS 1/1, DURATION from start to completion', () => {
  const j: KObject = {
    metadata: { name: 'pi', creationTimestamp: ago(600) },
    spec: { completions: 1, parallelism: 1, template },
    status: {
      startTime: ago(590),
      completionTime: ago(553),
      succeeded: 1,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True' },
        { type: 'Complete', status: 'True' },
      ],
    },
  };
  assert.deepEqual(row(jobs, j), { NAME: 'pi', STATUS: 'Complete', COMPLETIONS: '1/1', DURATION: '37s', AGE: '10m' });
});

test('running jobs: DURATION counts to now; no completions means "n/1 of parallelism"', () => {
  const j: KObject = { metadata: { name: 'w', creationTimestamp: ago(200) }, spec: { parallelism: 3, template }, status: { startTime: ago(150), succeeded: 1 } };
  assert.deepEqual(row(jobs, j), { NAME: 'w', STATUS: 'Running', COMPLETIONS: '1/1 of 3', DURATION: '2m30s', AGE: '3m20s' });
  const failed: KObject = { metadata: { name: 'f', creationTimestamp: ago(10) }, spec: { completions: 2, template }, status: { conditions: [{ type: 'Failed', status: 'True' }] } };
  assert.deepEqual(row(jobs, failed), { NAME: 'f', STATUS: 'Failed', COMPLETIONS: '0/2', DURATION: '', AGE: '10s' });
});

test('cronjob: SCHEDULE, TIMEZONE <none>, SUSPEND False, ACTIVE, LAST SCHEDULE', () => {
  const cj: KObject = {
    metadata: { name: 'hello', creationTimestamp: ago(3600) },
    spec: { schedule: '*/1 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: 'hello-1' }], lastScheduleTime: ago(42) },
  };
  assert.deepEqual(row(cronjobs, cj), { NAME: 'hello', SCHEDULE: '*/1 * * * *', TIMEZONE: '<none>', SUSPEND: 'False', ACTIVE: 1, 'LAST SCHEDULE': '42s', AGE: '60m' });
  const fresh: KObject = { metadata: { name: 'x', creationTimestamp: ago(1) }, spec: { schedule: '@hourly', timeZone: 'Asia/Tokyo', suspend: true, jobTemplate: { spec: { template } } } };
  const r = row(cronjobs, fresh);
  assert.equal(r.TIMEZONE, 'Asia/Tokyo');
  assert.equal(r.SUSPEND, 'True');
  assert.equal(r.ACTIVE, 0);
  assert.equal(r['LAST SCHEDULE'], '<none>');
});

const hpa: KObject = {
  apiVersion: 'autoscaling/v2',
  metadata: { name: 'php-apache', creationTimestamp: ago(120) },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'php-apache' },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  },
  status: {
    currentReplicas: 1,
    desiredReplicas: 1,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 30, averageValue: '150m' } } }],
  },
};

test('hpa TARGETS as 1.32 prints it: "cpu: 30%/50%", "<unknown>" before metrics arrive', () => {
  assert.deepEqual(row(horizontalpodautoscalers, hpa), {
    NAME: 'php-apache',
    REFERENCE: 'Deployment/php-apache',
    TARGETS: 'cpu: 30%/50%',
    MINPODS: '1',
    MAXPODS: 10,
    REPLICAS: 1,
    AGE: '2m',
  });
  const noStatus = { ...hpa, status: undefined };
  assert.equal(row(horizontalpodautoscalers, noStatus).TARGETS, 'cpu: <unknown>/50%');
  // The same table whichever version the object is read in.
  assert.equal(row(horizontalpodautoscalers, hpaV2ToV1(hpa)).TARGETS, 'cpu: 30%/50%');
});

test('hpa with more than two metrics lists two and "+ N more..."', () => {
  const many = structuredClone(hpa);
  many.spec.metrics.push(
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
  );
  assert.equal(row(horizontalpodautoscalers, many).TARGETS, 'cpu: 30%/50%, memory: <unknown>/100Mi + 1 more...');
});

test('ingress CLASS, HOSTS, ADDRESS, PORTS', () => {
  const ing: KObject = {
    metadata: { name: 'web', creationTimestamp: ago(30) },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }], tls: [{ hosts: ['a.example.com'] }] },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }] } },
  };
  assert.deepEqual(row(ingresses, ing), { NAME: 'web', CLASS: 'nginx', HOSTS: 'a.example.com,b.example.com', ADDRESS: '10.0.0.2', PORTS: '80, 443', AGE: '30s' });
  const bare: KObject = { metadata: { name: 'd', creationTimestamp: ago(30) }, spec: { defaultBackend: {} } };
  assert.deepEqual(row(ingresses, bare), { NAME: 'd', CLASS: '<none>', HOSTS: '*', ADDRESS: '', PORTS: '80', AGE: '30s' });
});

test('rbac: bindings show ROLE kind/name and wide subjects; roles use NAME / CREATED AT', () => {
  const rb: KObject = {
    metadata: { name: 'read', creationTimestamp: ago(10) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', name: 'jane' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'default', namespace: 'ci' },
    ],
  };
  assert.deepEqual(row(rolebindings, rb, true), { NAME: 'read', ROLE: 'ClusterRole/view', AGE: '10s', USERS: 'jane', GROUPS: 'devs', SERVICEACCOUNTS: 'ci/default' });
  const cr: KObject = { metadata: { name: 'view', creationTimestamp: '2024-04-30T08:01:02.000Z' } };
  assert.deepEqual(row(clusterroles, cr), { NAME: 'view', 'CREATED AT': '2024-04-30T08:01:02Z' });
  assert.deepEqual(row(customresourcedefinitions, { metadata: { name: 'crontabs.stable.example.com', creationTimestamp: '2024-04-30T08:01:02Z' } }), {
    NAME: 'crontabs.stable.example.com',
    'CREATED AT': '2024-04-30T08:01:02Z',
  });
});

test('storageclass marks the default class and prints defaults for unset fields', () => {
  const sc: KObject = {
    metadata: { name: 'standard', creationTimestamp: ago(60), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
  assert.deepEqual(row(storageclasses, sc), {
    NAME: 'standard (default)',
    PROVISIONER: 'rancher.io/local-path',
    RECLAIMPOLICY: 'Delete',
    VOLUMEBINDINGMODE: 'WaitForFirstConsumer',
    ALLOWVOLUMEEXPANSION: false,
    AGE: '60s',
  });
});

test('endpointslice PORTS/ENDPOINTS lists cut at three, <unset> when empty', () => {
  const es: KObject = {
    metadata: { name: 'web-abc', creationTimestamp: ago(60) },
    addressType: 'IPv4',
    ports: [{ port: 80, name: 'http' }],
    endpoints: [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2'] }, { addresses: ['10.1.0.3'] }, { addresses: ['10.1.0.4'] }],
  };
  assert.deepEqual(row(endpointslices, es), { NAME: 'web-abc', ADDRESSTYPE: 'IPv4', PORTS: '80', ENDPOINTS: '10.1.0.1,10.1.0.2,10.1.0.3 + 1 more...', AGE: '60s' });
  assert.equal(row(endpointslices, { metadata: { name: 'e' }, addressType: 'IPv4' }).ENDPOINTS, '<unset>');
});

test('pdb shows N/A for the unset bound', () => {
  const pdb: KObject = { metadata: { name: 'zk', creationTimestamp: ago(60) }, spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } };
  assert.deepEqual(row(poddisruptionbudgets, pdb), { NAME: 'zk', 'MIN AVAILABLE': '2', 'MAX UNAVAILABLE': 'N/A', 'ALLOWED DISRUPTIONS': 1, AGE: '60s' });
});
