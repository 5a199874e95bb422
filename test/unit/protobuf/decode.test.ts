// decodeProtobufObject: Kubernetes protobuf bodies (as kubectl's typed clients send them) into
// the JSON upstream would build. A small encoder below writes messages the way gogo-protobuf
// does, including the zero values of non-pointer fields that Go's JSON would omit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProtobufObject, formatDuration, messageFor } from '../../../src/apiserver/protobuf/decode.js';
import { decodeBody } from '../../../src/apiserver/negotiation.js';
import { ApiError } from '../../../src/apiserver/errors.js';

// ---- encoder ---------------------------------------------------------------------------------

type Field = { no: number; wt: 0; v: bigint } | { no: number; wt: 2; b: Buffer };

function varint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u) b |= 0x80;
    out.push(b);
  } while (u);
  return Buffer.from(out);
}

function enc(fields: Field[]): Buffer {
  return Buffer.concat(
    fields.map((f) =>
      f.wt === 0
        ? Buffer.concat([varint(BigInt(f.no << 3)), varint(f.v)])
        : Buffer.concat([varint(BigInt((f.no << 3) | 2)), varint(BigInt(f.b.length)), f.b]),
    ),
  );
}

const int = (no: number, v: number | bigint): Field => ({ no, wt: 0, v: BigInt(v) });
const bool = (no: number, v: boolean): Field => int(no, v ? 1 : 0);
const str = (no: number, s: string): Field => ({ no, wt: 2, b: Buffer.from(s, 'utf8') });
const bytes = (no: number, b: Buffer): Field => ({ no, wt: 2, b });
const msg = (no: number, ...fields: Field[]): Field => ({ no, wt: 2, b: enc(fields) });
/** One map<string, X> entry. */
const entry = (no: number, key: string, value: Field): Field => msg(no, str(1, key), { ...value, no: 2 });
const quantity = (no: number, s: string): Field => msg(no, str(1, s));
const intstrInt = (no: number, i: number): Field => msg(no, int(1, 0), int(2, i), str(3, ''));
const intstrStr = (no: number, s: string): Field => msg(no, int(1, 1), int(2, 0), str(3, s));

function envelope(apiVersion: string, kind: string, raw: Buffer, extra: Field[] = []): Buffer {
  const unknown = enc([msg(1, str(1, apiVersion), str(2, kind)), bytes(2, raw), str(3, ''), str(4, ''), ...extra]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
}

/** ObjectMeta as gogo writes it: every non-pointer string, the (empty) creationTimestamp. */
function objectMeta(no: number, name: string, namespace: string, extra: Field[] = []): Field {
  return msg(no, str(1, name), str(2, ''), str(3, namespace), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8), ...extra);
}

// ---- tests -----------------------------------------------------------------------------------

test('Deployment: containers, ports, resources, quantities, intstr, labels, annotations, pointers', () => {
  const container = msg(
    2,
    str(1, 'myapp'),
    str(2, 'ikubernetes/myapp:v1'),
    str(3, 'sh'),
    str(3, '-c'),
    str(3, ''), // an empty element of a list stays
    str(5, ''),
    msg(6, str(1, 'http'), int(2, 0), int(3, 80), str(4, 'TCP'), str(5, '')),
    msg(6, str(1, ''), int(2, 0), int(3, 0), str(4, 'UDP'), str(5, '')), // containerPort 0 is printed (no omitempty)
    msg(7, str(1, 'MODE'), str(2, '')),
    msg(7, str(1, 'FROM_CM'), str(2, ''), msg(3, msg(3, msg(1, str(1, 'cfg')), str(2, 'k'), bool(3, false)))),
    msg(8, entry(1, 'cpu', quantity(2, '500m')), entry(1, 'memory', quantity(2, '128Mi')), entry(2, 'cpu', quantity(2, '250m'))),
    msg(10, msg(1, msg(2, str(1, '/healthz'), intstrStr(2, 'http'), str(3, ''), str(4, 'HTTP'))), int(2, 5), int(3, 0), int(4, 0), int(5, 0), int(6, 0)),
    msg(11, msg(1, msg(2, str(1, '/ready'), intstrInt(2, 8080), str(3, ''), str(4, ''))), int(2, 0), int(3, 1)),
    str(13, ''),
    str(20, ''),
    str(14, 'IfNotPresent'),
    bool(16, false),
    bool(17, false),
    bool(18, false),
  );
  const podSpec = msg(
    2,
    msg(1, str(1, 'secret-vol'), msg(2, msg(6, str(1, 'creds'), int(3, 0o400), bool(4, false)))),
    container,
    str(3, ''),
    int(4, 0), // terminationGracePeriodSeconds: a pointer, 0 means "kill now"
    str(6, ''),
    str(8, ''),
    str(9, ''),
    str(10, ''),
    bool(11, false),
    bool(12, false),
    bool(13, false),
    msg(14), // securityContext: {} (non-nil pointer)
    str(16, ''),
    str(17, ''),
    str(19, ''),
    msg(22, str(1, 'node.kubernetes.io/not-ready'), str(2, 'Exists'), str(3, ''), str(4, 'NoExecute'), int(5, 300)),
    str(24, ''),
  );
  const spec = msg(
    2,
    int(1, 4),
    msg(2, entry(1, 'app', str(2, 'myapp'))),
    msg(1 + 2, objectMeta(1, '', '', [entry(11, 'app', str(2, 'myapp'))]), podSpec),
    msg(4, str(1, 'RollingUpdate'), msg(2, intstrStr(1, '25%'), intstrInt(2, 0))),
    int(5, 0),
    int(6, 10),
    bool(7, false),
  );
  const raw = enc([
    objectMeta(1, 'myapp', 'default', [
      entry(11, 'app', str(2, 'myapp')),
      entry(11, 'empty', str(2, '')),
      entry(12, 'note', str(2, 'a "quoted" value')),
    ]),
    spec,
    msg(3, int(1, 0), int(2, 0)),
  ]);
  const obj = decodeProtobufObject(envelope('apps/v1', 'Deployment', raw));
  assert.deepEqual(obj, {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'myapp',
      namespace: 'default',
      labels: { app: 'myapp', empty: '' },
      annotations: { note: 'a "quoted" value' },
    },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'myapp' } },
      template: {
        metadata: { labels: { app: 'myapp' } },
        spec: {
          volumes: [{ name: 'secret-vol', secret: { secretName: 'creds', defaultMode: 0o400, optional: false } }],
          containers: [
            {
              name: 'myapp',
              image: 'ikubernetes/myapp:v1',
              command: ['sh', '-c', ''],
              ports: [
                { name: 'http', containerPort: 80, protocol: 'TCP' },
                { containerPort: 0, protocol: 'UDP' },
              ],
              env: [{ name: 'MODE' }, { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k', optional: false } } }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5 },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, timeoutSeconds: 1 },
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          terminationGracePeriodSeconds: 0,
          securityContext: {},
          tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
    status: {},
  });
});

test('Secret: bytes become base64, empty values stay, immutable pointer', () => {
  const raw = enc([
    objectMeta(1, 's1', 'default'),
    entry(2, 'password', bytes(2, Buffer.from('s3cr3t\n'))),
    entry(2, 'empty', bytes(2, Buffer.alloc(0))),
    entry(2, 'binary', bytes(2, Buffer.from([0, 0xff, 0x10]))),
    str(3, 'Opaque'),
    bool(5, false),
  ]);
  assert.deepEqual(decodeProtobufObject(envelope('v1', 'Secret', raw)), {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name: 's1', namespace: 'default' },
    immutable: false,
    data: { password: 'czNjcjN0Cg==', empty: '', binary: 'AP8Q' },
    type: 'Opaque',
  });
});

test('Namespace with finalizers, timestamps and owner references', () => {
  const raw = enc([
    objectMeta(1, 'team-a', '', [
      msg(9, int(1, 1704164645), int(2, 0)), // deletionTimestamp
      int(10, 0), // deletionGracePeriodSeconds: pointer
      msg(13, str(1, 'Thing'), str(3, 'owner'), str(4, 'u-1'), str(5, 'example.com/v1'), bool(6, true), bool(7, false)),
      str(14, 'example.com/cleanup'),
    ]),
    msg(2, str(1, 'kubernetes')),
    msg(3, str(1, '')),
  ]);
  assert.deepEqual(decodeProtobufObject(envelope('v1', 'Namespace', raw)), {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name: 'team-a',
      deletionTimestamp: '2024-01-02T03:04:05Z',
      deletionGracePeriodSeconds: 0,
      ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Thing', name: 'owner', uid: 'u-1', controller: true, blockOwnerDeletion: false }],
      finalizers: ['example.com/cleanup'],
    },
    spec: { finalizers: ['kubernetes'] },
    status: {},
  });
});

test('DeleteOptions: registered in every group version; zero grace period and dryRun kept', () => {
  const raw = enc([int(1, 0), msg(2, str(1, 'uid-1')), str(4, 'Foreground'), str(5, 'All')]);
  const want = {
    gracePeriodSeconds: 0,
    preconditions: { uid: 'uid-1' },
    propagationPolicy: 'Foreground',
    dryRun: ['All'],
  };
  assert.deepEqual(decodeProtobufObject(envelope('apps/v1', 'DeleteOptions', raw)), { kind: 'DeleteOptions', apiVersion: 'apps/v1', ...want });
  assert.deepEqual(decodeProtobufObject(envelope('meta.k8s.io/v1', 'DeleteOptions', raw)), { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', ...want });
  assert.equal(messageFor('v1', 'DeleteOptions'), 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
});

test('group to proto package mapping', () => {
  assert.equal(messageFor('rbac.authorization.k8s.io/v1', 'RoleBinding'), 'k8s.io.api.rbac.v1.RoleBinding');
  assert.equal(messageFor('networking.k8s.io/v1', 'Ingress'), 'k8s.io.api.networking.v1.Ingress');
  assert.equal(messageFor('authorization.k8s.io/v1', 'SelfSubjectAccessReview'), 'k8s.io.api.authorization.v1.SelfSubjectAccessReview');
  assert.equal(messageFor('policy/v1', 'PodDisruptionBudget'), 'k8s.io.api.policy.v1.PodDisruptionBudget');
  assert.equal(messageFor('internal.apiserver.k8s.io/v1alpha1', 'StorageVersion'), 'k8s.io.api.apiserverinternal.v1alpha1.StorageVersion');
  assert.equal(messageFor('v1', 'PodLogOptions'), 'k8s.io.api.core.v1.PodLogOptions');
});

test('special types: MicroTime, Duration, RawExtension, ExtraValue, packed and negative numbers', () => {
  // events.k8s.io/v1 Event: eventTime is a MicroTime; deprecatedCount a plain int32.
  const ev = enc([objectMeta(1, 'e', 'default'), msg(2, int(1, 1704164645), int(2, 123456789)), str(4, 'kubelet'), str(5, ''), int(15, 0)]);
  assert.deepEqual(decodeProtobufObject(envelope('events.k8s.io/v1', 'Event', ev)), {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: { name: 'e', namespace: 'default' },
    eventTime: '2024-01-02T03:04:05.123456Z',
    reportingController: 'kubelet',
  });

  assert.equal(formatDuration(0n), '0s');
  assert.equal(formatDuration(1_500_000_000n), '1.5s');
  assert.equal(formatDuration(3_600_000_000_000n), '1h0m0s');
  assert.equal(formatDuration(90_000_000_000n), '1m30s');
  assert.equal(formatDuration(2_500_000n), '2.5ms');
  assert.equal(formatDuration(-1500n), '-1.5µs');

  // ControllerRevision.data is a RawExtension holding JSON.
  const cr = enc([objectMeta(1, 'r', 'default'), msg(2, bytes(1, Buffer.from('{"spec":{"x":1}}'))), int(3, 2)]);
  assert.deepEqual(decodeProtobufObject(envelope('apps/v1', 'ControllerRevision', cr)), {
    kind: 'ControllerRevision',
    apiVersion: 'apps/v1',
    metadata: { name: 'r', namespace: 'default' },
    data: { spec: { x: 1 } },
    revision: 2,
  });

  // SubjectAccessReview: extra is map<string, ExtraValue{items}> → map of arrays.
  const sar = enc([
    objectMeta(1, '', ''),
    msg(2, msg(1, str(1, 'default'), str(2, 'get'), str(3, ''), str(4, ''), str(5, 'pods'), str(6, ''), str(7, '')), str(3, 'bob'), str(4, 'system:authenticated'), entry(5, 'scopes', msg(2, str(1, 'a'), str(1, 'b'))), str(6, '')),
  ]);
  const s = decodeProtobufObject(envelope('authorization.k8s.io/v1', 'SubjectAccessReview', sar));
  assert.deepEqual(s['spec'], {
    resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' },
    user: 'bob',
    groups: ['system:authenticated'],
    extra: { scopes: ['a', 'b'] },
  });

  // Pod securityContext: negative runAsUser (10-byte varint), packed supplementalGroups.
  const packed = Buffer.concat([varint(1000n), varint(2000n)]);
  const pod = enc([objectMeta(1, 'p', 'default'), msg(2, msg(14, int(2, -1), bytes(4, packed), int(4, 3000)))]);
  const p = decodeProtobufObject(envelope('v1', 'Pod', pod));
  assert.deepEqual(p['spec'], { securityContext: { runAsUser: -1, supplementalGroups: [1000, 2000, 3000] } });
});

test('unknown fields are skipped like gogo does', () => {
  const raw = enc([objectMeta(1, 'cm', 'default'), entry(2, 'k', str(2, 'v')), str(99, 'from the future')]);
  assert.deepEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', raw)), {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'cm', namespace: 'default' },
    data: { k: 'v' },
  });
});

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail('expected a BadRequest');
}

test('errors: unknown kinds, missing magic, truncated input', () => {
  assert.equal(
    badRequestMessage(() => decodeProtobufObject(envelope('apps/v1', 'Widget', Buffer.alloc(0)))),
    'no kind "Widget" is registered for version "apps/v1" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"',
  );
  assert.match(
    badRequestMessage(() => decodeProtobufObject(envelope('example.com/v1', 'Deployment', Buffer.alloc(0)))),
    /^no kind "Deployment" is registered for version "example.com\/v1"/,
  );
  // A part of an object is not a kind.
  assert.match(badRequestMessage(() => decodeProtobufObject(envelope('apps/v1', 'DeploymentSpec', Buffer.alloc(0)))), /no kind "DeploymentSpec"/);
  assert.equal(
    badRequestMessage(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}'))),
    'unable to decode protobuf body: provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
  );
  const good = envelope('v1', 'ConfigMap', enc([objectMeta(1, 'cm', 'default')]));
  assert.equal(badRequestMessage(() => decodeProtobufObject(good.subarray(0, good.length - 3))), 'unable to decode protobuf body: unexpected EOF');
  assert.match(badRequestMessage(() => decodeProtobufObject(Buffer.from([0x6b, 0x38, 0x73, 0, 0x0f]))), /^unable to decode protobuf body: /);
});

test('decodeBody routes application/vnd.kubernetes.protobuf to the decoder', () => {
  const body = envelope('v1', 'ConfigMap', enc([objectMeta(1, 'cm', 'default'), entry(2, 'a', str(2, 'b'))]));
  assert.deepEqual(decodeBody(body, 'application/vnd.kubernetes.protobuf'), {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'cm', namespace: 'default' },
    data: { a: 'b' },
  });
  assert.equal(badRequestMessage(() => decodeBody(Buffer.from('garbage'), 'application/vnd.kubernetes.protobuf; charset=utf-8')).startsWith('unable to decode protobuf body'), true);
  // JSON still works.
  assert.deepEqual(decodeBody(Buffer.from('{"a":1}'), 'application/json'), { a: 1 });
});
