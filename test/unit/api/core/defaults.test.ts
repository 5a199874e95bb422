// Defaults: a minimal manifest comes back with what upstream adds (compare
// `kubectl run nginx --image=nginx` then `kubectl get pod nginx -o yaml`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ResourceDecl } from '../../../../src/api/types.js';
import { defaultPodTemplateSpec, pods, podGracePeriod } from '../../../../src/api/core/pods.js';
import { services } from '../../../../src/api/core/services.js';
import { namespaces } from '../../../../src/api/core/namespaces.js';
import { secrets } from '../../../../src/api/core/secrets.js';
import { replicationcontrollers } from '../../../../src/api/core/replicationcontrollers.js';
import { limitranges } from '../../../../src/api/core/limitranges.js';
import { persistentvolumes } from '../../../../src/api/core/persistentvolumes.js';
import { persistentvolumeclaims } from '../../../../src/api/core/persistentvolumeclaims.js';
import { nodes } from '../../../../src/api/core/nodes.js';

const ctx = { now: () => new Date('2024-05-01T12:00:00Z') };

function create(decl: ResourceDecl, o: KObject): KObject {
  decl.strategy?.defaults?.(o);
  decl.strategy?.prepareForCreate?.(o, ctx);
  return o;
}

test('a minimal pod gets every default upstream shows', () => {
  const pod = create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nginx' }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } });
  assert.deepEqual(pod.spec, {
    containers: [
      { name: 'nginx', image: 'nginx', imagePullPolicy: 'Always', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    serviceAccount: 'default',
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
    tolerations: [
      { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
      { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
    ],
  });
  assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('container defaults: pull policy by tag, ports, probes, volumes, requests from limits', () => {
  const pod = create(pods, {
    metadata: { name: 'p' },
    spec: {
      containers: [
        {
          name: 'a',
          image: 'nginx:1.25',
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: '0.5', memory: '128Mi' } },
          livenessProbe: { httpGet: { port: 80 } },
          readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
        { name: 'b', image: 'busybox:latest' },
        { name: 'c', image: 'registry.local:5000/app@sha256:abc' },
        { name: 'd', image: 'registry.local:5000/app' },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'sec', secret: { secretName: 's' } }, { name: 'scratch' }, { name: 'h', hostPath: { path: '/tmp' } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
    },
  });
  const [a, b, c, d] = pod.spec.containers;
  assert.equal(a.imagePullPolicy, 'IfNotPresent');
  assert.equal(b.imagePullPolicy, 'Always');
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(d.imagePullPolicy, 'Always');
  assert.deepEqual(a.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(a.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
  assert.deepEqual(a.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.equal(a.readinessProbe.periodSeconds, 5);
  assert.equal(a.env[0].valueFrom.fieldRef.apiVersion, 'v1');
  assert.deepEqual(pod.spec.volumes, [
    { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
    { name: 'sec', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'scratch', emptyDir: {} },
    { name: 'h', hostPath: { path: '/tmp', type: '' } },
  ]);
  // A toleration the user already set for not-ready is kept; only unreachable is added.
  assert.equal(pod.spec.tolerations.length, 2);
  assert.equal(pod.spec.tolerations[0].tolerationSeconds, 60);
  assert.equal(pod.status.qosClass, 'Burstable');
});

test('QoS: Guaranteed when every container has equal cpu and memory requests and limits', () => {
  const p = create(pods, { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } });
  assert.equal(p.status.qosClass, 'Guaranteed');
  const q = create(pods, { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m' } } }] } });
  assert.equal(q.status.qosClass, 'Burstable');
});

test('pod templates get PodSpec defaults but not the pod-only ones', () => {
  const t: KObject = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx', resources: { limits: { cpu: '1' } } }] } };
  defaultPodTemplateSpec(t);
  assert.equal(t.spec.restartPolicy, 'Always');
  assert.equal(t.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(t.spec.schedulerName, 'default-scheduler');
  assert.equal(t.spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(t.spec.serviceAccountName, undefined);
  assert.equal(t.spec.tolerations, undefined);
  assert.equal(t.spec.enableServiceLinks, undefined);
  assert.equal(t.spec.containers[0].resources.requests, undefined);
});

test('pods get a grace period on delete only when scheduled and still running', () => {
  const p = (spec: Record<string, unknown>, phase = 'Running'): KObject => ({ metadata: { name: 'p' }, spec, status: { phase } });
  assert.equal(podGracePeriod(p({ nodeName: 'n1', terminationGracePeriodSeconds: 30 }), undefined), 30);
  assert.equal(podGracePeriod(p({ nodeName: 'n1', terminationGracePeriodSeconds: 30 }), 5), 5);
  assert.equal(podGracePeriod(p({ terminationGracePeriodSeconds: 30 }), undefined), 0);
  assert.equal(podGracePeriod(p({ nodeName: 'n1', terminationGracePeriodSeconds: 30 }, 'Succeeded'), undefined), 0);
  assert.equal(podGracePeriod(p({ nodeName: 'n1' }), undefined), 30);
});

test('service defaults', () => {
  const svc = create(services, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }] } });
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' },
    ],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(svc.status, { loadBalancer: {} });
  const np = create(services, { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  const lb = create(services, { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  const headless = create(services, { metadata: { name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
  assert.deepEqual(headless.spec.clusterIPs, ['None']);
});

test('namespace, secret, rc, pv, pvc, limitrange and node defaults', () => {
  const ns = create(namespaces, { metadata: { name: 'dev' } });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], 'dev');

  const sec = create(secrets, { metadata: { name: 's' }, stringData: { password: 'hunter2' } });
  assert.equal(sec.type, 'Opaque');
  assert.deepEqual(sec.data, { password: Buffer.from('hunter2').toString('base64') });
  assert.equal(sec.stringData, undefined);

  const rc = create(replicationcontrollers, { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } } });
  assert.equal(rc.spec.replicas, 1);
  assert.deepEqual(rc.spec.selector, { app: 'web' });
  assert.deepEqual(rc.metadata.labels, { app: 'web' });
  assert.equal(rc.spec.template.spec.restartPolicy, 'Always');
  assert.deepEqual(rc.status, { replicas: 0 });

  const pv = create(persistentvolumes, { metadata: { name: 'pv' }, spec: { capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } });
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(pv.spec.volumeMode, 'Filesystem');
  assert.equal(pv.spec.capacity.storage, '1Gi');
  assert.equal(pv.status.phase, 'Pending');

  const pvc = create(persistentvolumeclaims, { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  assert.equal(pvc.spec.volumeMode, 'Filesystem');
  assert.deepEqual(pvc.status, { phase: 'Pending' });

  const lr = create(limitranges, { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '1' }, min: { memory: '64Mi' } }] } });
  assert.deepEqual(lr.spec.limits[0], { type: 'Container', max: { cpu: '1' }, min: { memory: '64Mi' }, default: { cpu: '1' }, defaultRequest: { cpu: '1', memory: '64Mi' } });

  const node = create(nodes, { metadata: { name: 'n1' }, status: { capacity: { cpu: '2', memory: '4026532Ki', pods: '110' } } });
  assert.deepEqual(node.status.allocatable, { cpu: '2', memory: '4026532Ki', pods: '110' });
  assert.equal(nodes.keepStatusOnCreate, true);
});
