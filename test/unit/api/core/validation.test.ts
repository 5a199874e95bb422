// Validation errors users hit most, with upstream's field paths and messages
// (what kubectl prints after `The Pod "x" is invalid:`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KObject, ResourceDecl } from '../../../../src/api/types.js';
import { fieldErrorMessage } from '../../../../src/api/validation/field.js';
import { pods, validatePodTemplateSpec } from '../../../../src/api/core/pods.js';
import { services } from '../../../../src/api/core/services.js';
import { configmaps } from '../../../../src/api/core/configmaps.js';
import { secrets } from '../../../../src/api/core/secrets.js';
import { replicationcontrollers } from '../../../../src/api/core/replicationcontrollers.js';
import { persistentvolumeclaims } from '../../../../src/api/core/persistentvolumeclaims.js';
import { persistentvolumes } from '../../../../src/api/core/persistentvolumes.js';
import { limitranges } from '../../../../src/api/core/limitranges.js';
import { resourcequotas } from '../../../../src/api/core/resourcequotas.js';
import { nodes } from '../../../../src/api/core/nodes.js';

const ctx = { now: () => new Date('2024-05-01T12:00:00Z') };

function errorsOf(decl: ResourceDecl, o: KObject): string[] {
  decl.strategy?.defaults?.(o);
  decl.strategy?.prepareForCreate?.(o, ctx);
  return (decl.strategy?.validate?.(o) ?? []).map(fieldErrorMessage);
}
function updateErrors(decl: ResourceDecl, o: KObject, old: KObject): string[] {
  decl.strategy?.defaults?.(o);
  decl.strategy?.prepareForUpdate?.(o, old, ctx);
  const errs: FieldError[] = [...(decl.strategy?.validate?.(o) ?? []), ...(decl.strategy?.validateUpdate?.(o, old) ?? [])];
  return errs.map(fieldErrorMessage);
}
const pod = (spec: Record<string, unknown>): KObject => ({ metadata: { name: 'p', namespace: 'default' }, spec });
const c = (extra: Record<string, unknown> = {}) => ({ name: 'app', image: 'nginx', ...extra });

test('a valid pod has no errors', () => {
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ ports: [{ containerPort: 80, name: 'http' }] })] })), []);
});

test('pod spec mistakes', () => {
  assert.deepEqual(errorsOf(pods, pod({ containers: [] })), ['spec.containers: Required value']);
  assert.deepEqual(errorsOf(pods, pod({ containers: [{ name: 'app' }] })), ['spec.containers[0].image: Required value']);
  assert.deepEqual(errorsOf(pods, pod({ containers: [{ image: 'nginx' }] })), ['spec.containers[0].name: Required value']);
  assert.match(
    errorsOf(pods, pod({ containers: [c({ name: 'My_App' })] }))[0]!,
    /^spec\.containers\[0\]\.name: Invalid value: "My_App": a lowercase RFC 1123 label must consist of/,
  );
  assert.deepEqual(errorsOf(pods, pod({ containers: [c(), c()] })), ['spec.containers[1].name: Duplicate value: "app"']);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ ports: [{ containerPort: 70000 }] })] })), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ ports: [{ containerPort: 80, protocol: 'HTTP' }] })] })), [
    'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c()], restartPolicy: 'Sometimes' })), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] })), [
    'spec.containers[0].volumeMounts[0].name: Not found: "data"',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c()], volumes: [{ name: 'a', emptyDir: {}, hostPath: { path: '/x' } }] })), [
    'spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c()], volumes: [{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }] })), [
    'spec.volumes[1].name: Duplicate value: "a"',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ env: [{ name: '1BAD', value: 'x' }] })] })).length, 1);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ resources: { limits: { cpu: 'lots' } } })] }))[0],
    "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert.deepEqual(errorsOf(pods, pod({ containers: [c({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } })] })), [
    'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  ]);
  assert.deepEqual(errorsOf(pods, pod({ containers: [c()], tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] })), [
    "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
  ]);
});

test('pod updates may only change images, activeDeadlineSeconds and add tolerations', () => {
  const old = pod({ containers: [c({ image: 'nginx:1.24' })] });
  pods.strategy!.defaults!(old);
  pods.strategy!.prepareForCreate!(old, ctx);
  const imageChange = structuredClone(old);
  imageChange.spec.containers[0].image = 'nginx:1.25';
  assert.deepEqual(updateErrors(pods, imageChange, old), []);
  const tolAdd = structuredClone(old);
  tolAdd.spec.tolerations.push({ key: 'x', operator: 'Exists', effect: 'NoSchedule' });
  assert.deepEqual(updateErrors(pods, tolAdd, old), []);
  const portChange = structuredClone(old);
  portChange.spec.containers[0].ports = [{ containerPort: 8080 }];
  const errs = updateErrors(pods, portChange, old);
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0]!.startsWith(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  );
});

test('pod template validation prefixes paths', () => {
  const errs = validatePodTemplateSpec({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', restartPolicy: undefined }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } }, 'spec.template').map(fieldErrorMessage);
  assert.ok(errs.includes('spec.template.spec.containers[0].image: Required value'), errs.join('\n'));
});

test('service mistakes', () => {
  const svc = (spec: Record<string, unknown>): KObject => ({ metadata: { name: 's' }, spec });
  assert.deepEqual(errorsOf(services, svc({ selector: { app: 'x' } })), ['spec.ports: Required value']);
  assert.deepEqual(errorsOf(services, svc({ ports: [{ port: 80 }, { port: 81 }] })), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  // targetPort defaults to port, so upstream reports both.
  assert.deepEqual(errorsOf(services, svc({ ports: [{ port: 0 }] })), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(errorsOf(services, svc({ type: 'Cluster', ports: [{ port: 80 }] })), [
    'spec.type: Unsupported value: "Cluster": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]);
  assert.deepEqual(errorsOf(services, svc({ ports: [{ port: 80, nodePort: 30080 }] })), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  const old = svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] });
  services.strategy!.defaults!(old);
  const changed = structuredClone(old);
  changed.spec.clusterIP = '10.96.0.11';
  changed.spec.clusterIPs = ['10.96.0.11'];
  assert.deepEqual(updateErrors(services, changed, old), ['spec.clusterIPs[0]: Invalid value: "10.96.0.11": may not change once set']);
});

test('configmap and secret keys, immutability and secret types', () => {
  assert.match(errorsOf(configmaps, { metadata: { name: 'c' }, data: { 'bad key': 'x' } })[0]!, /^data\[bad key\]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters/);
  const old: KObject = { metadata: { name: 'c' }, immutable: true, data: { a: '1' } };
  assert.deepEqual(updateErrors(configmaps, { metadata: { name: 'c' }, immutable: true, data: { a: '2' } }, old), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(errorsOf(secrets, { metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'AA==' } }), ['data[tls.key]: Required value']);
  assert.deepEqual(updateErrors(secrets, { metadata: { name: 's' }, type: 'kubernetes.io/basic-auth', data: { username: 'YQ==' } }, { metadata: { name: 's' }, type: 'Opaque', data: {} }), [
    'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
  ]);
});

test('replication controller selector must match template labels', () => {
  const rc: KObject = {
    metadata: { name: 'rc' },
    spec: { replicas: -1, selector: { app: 'a' }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [c()] } } },
  };
  assert.deepEqual(errorsOf(replicationcontrollers, rc), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`',
  ]);
});

test('pvc and pv required fields', () => {
  assert.deepEqual(errorsOf(persistentvolumeclaims, { metadata: { name: 'c' }, spec: {} }), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  const old: KObject = { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  persistentvolumeclaims.strategy!.defaults!(old);
  const changed = structuredClone(old);
  changed.spec.accessModes = ['ReadWriteMany'];
  assert.deepEqual(updateErrors(persistentvolumeclaims, changed, old), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
  ]);
  const bind = structuredClone(old);
  bind.spec.volumeName = 'pv1';
  assert.deepEqual(updateErrors(persistentvolumeclaims, bind, old), []);
  assert.deepEqual(errorsOf(persistentvolumes, { metadata: { name: 'pv' }, spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }), [
    'spec: Required value: must specify a volume type',
  ]);
});

test('limitrange, quota and node validation', () => {
  assert.deepEqual(errorsOf(limitranges, { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } }).slice(0, 1), [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
  ]);
  assert.deepEqual(errorsOf(resourcequotas, { metadata: { name: 'q' }, spec: { hard: { pods: '-1' } } }), ['spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0']);
  assert.deepEqual(errorsOf(nodes, { metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } }), [
    'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ]);
});

test('events must live in the namespace of the object they are about', async () => {
  const { events } = await import('../../../../src/api/core/events.js');
  const ev = (ns: string, io: Record<string, unknown>): KObject => ({ metadata: { name: 'e', namespace: ns }, involvedObject: io, reason: 'R' });
  assert.deepEqual(errorsOf(events, ev('default', { kind: 'Pod', name: 'p', namespace: 'default' })), []);
  assert.deepEqual(errorsOf(events, ev('default', { kind: 'Node', name: 'n1' })), []);
  assert.deepEqual(errorsOf(events, ev('dev', { kind: 'Pod', name: 'p', namespace: 'default' })), [
    'involvedObject.namespace: Invalid value: "default": does not match event.namespace',
  ]);
});
