// Cases follow upstream's strategic merge patch documentation (kubernetes/community
// devel/sig-api-machinery/strategic-merge-patch.md) and apimachinery's patch_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, createThreeWayMergePatch, createTwoWayMergePatch } from '../../../src/apiserver/patch/strategic.js';
import { schemaFor } from '../../../src/apiserver/patch/patchmeta.js';
import { PatchError } from '../../../src/apiserver/patch/errors.js';

const deploySchema = schemaFor('apps', 'v1', 'Deployment');
const podSchema = schemaFor('', 'v1', 'Pod');

function deployment(containers: unknown[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a.io/one', 'a.io/two'] },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } }, spec: { containers, ...extra } } },
  };
}
const names = (list: { name: string }[]) => list.map((c) => c.name);
const smp = (doc: unknown, patch: unknown, schema = deploySchema) => applyStrategicMergePatch<any>(doc, patch, schema);

function rejects(fn: () => unknown, message: string, status: number) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PatchError, String(e));
    assert.equal(e.message, message);
    assert.equal(e.status, status);
    return true;
  });
}

test('containers merge by name, env by name, ports by containerPort', () => {
  const d = deployment([
    { name: 'app', image: 'nginx', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
    { name: 'side', image: 'busybox' },
  ]);
  const out = smp(d, {
    spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2', env: [{ name: 'B', value: 'two' }], ports: [{ containerPort: 80, name: 'http' }] }] } } },
  });
  const [app, side] = out.spec.template.spec.containers;
  assert.equal(app.image, 'nginx:2');
  assert.deepEqual(app.env, [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }]);
  assert.deepEqual(app.ports, [{ containerPort: 80, name: 'http' }]);
  assert.deepEqual(side, { name: 'side', image: 'busybox' });
  assert.equal((d.spec.template.spec.containers[0] as any).image, 'nginx', 'input untouched');
});

test('a new list item without $setElementOrder goes before the server-only items (upstream ordering)', () => {
  const out = smp(deployment([{ name: 'a' }, { name: 'b' }]), { spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  assert.deepEqual(names(out.spec.template.spec.containers), ['c', 'a', 'b']);
});

test('$setElementOrder decides the order; server-only items keep their relative place', () => {
  const out = smp(deployment([{ name: 'a' }, { name: 'x' }, { name: 'b' }]), {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'c' }],
          containers: [{ name: 'c', image: 'new' }],
        },
      },
    },
  });
  // Patch items follow the order list; server-only "x" stays ahead of "b", as it was live.
  assert.deepEqual(names(out.spec.template.spec.containers), ['x', 'b', 'a', 'c']);
  assert.ok(!('$setElementOrder/containers' in out.spec.template.spec));
});

test('primitive lists with merge strategy union (finalizers); other lists replace (args)', () => {
  const d = deployment([{ name: 'a', args: ['x', 'y'] }]);
  const out = smp(d, {
    metadata: { finalizers: ['a.io/two', 'a.io/three'] },
    spec: { template: { spec: { containers: [{ name: 'a', args: ['z'] }] } } },
  });
  assert.deepEqual(out.metadata.finalizers, ['a.io/one', 'a.io/two', 'a.io/three']);
  assert.deepEqual(out.spec.template.spec.containers[0].args, ['z']);
});

test('$deleteFromPrimitiveList removes values from a merged primitive list', () => {
  const out = smp(deployment([]), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/one'] } });
  assert.deepEqual(out.metadata.finalizers, ['a.io/two']);
  rejects(() => smp(deployment([]), { metadata: { $deleteFromPrimitiveListfinalizers: ['x'] } }), 'invalid patch format of primitive list', 400);
});

test('null deletes a key; a null for a missing key is ignored', () => {
  const out = smp(deployment([{ name: 'a' }]), { metadata: { labels: { app: null, gone: null } }, spec: { replicas: null } });
  assert.deepEqual(out.metadata.labels, {});
  assert.ok(!('replicas' in out.spec));
  assert.ok(!('gone' in out.metadata.labels));
});

test('$patch: delete on a list item removes it by merge key', () => {
  const out = smp(deployment([{ name: 'a' }, { name: 'b' }]), { spec: { template: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } } } });
  assert.deepEqual(names(out.spec.template.spec.containers), ['b']);
});

test('$patch: replace on a list replaces the whole list', () => {
  const out = smp(deployment([{ name: 'a', image: 'i' }, { name: 'b' }]), {
    spec: { template: { spec: { containers: [{ name: 'z', image: 'new' }, { $patch: 'replace' }] } } },
  });
  assert.deepEqual(out.spec.template.spec.containers, [{ name: 'z', image: 'new' }]);
});

test('$patch: replace on a map replaces it; $patch: delete empties it', () => {
  const out = smp(deployment([]), { metadata: { labels: { $patch: 'replace', only: 'this' } } });
  assert.deepEqual(out.metadata.labels, { only: 'this' });
  const out2 = smp(deployment([]), { spec: { template: { metadata: { $patch: 'delete' } } } });
  assert.deepEqual(out2.spec.template.metadata, {});
});

test('bad directives are rejected with upstream messages', () => {
  rejects(
    () => smp(deployment([{ name: 'a' }]), { spec: { template: { spec: { containers: [{ name: 'a', $patch: 'merge' }] } } } }),
    'merging lists cannot yet be specified in the patch',
    500,
  );
  rejects(() => smp(deployment([]), { metadata: { labels: { $patch: 'frob' } } }), 'unknown patch type: frob in map: map[$patch:frob]', 500);
  rejects(
    () => smp(deployment([{ name: 'a' }]), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }),
    'map: map[image:x] does not contain declared merge key: name',
    500,
  );
  rejects(() => smp([], {}), 'invalid JSON document', 400);
});

test('$retainKeys clears the fields not listed (Deployment strategy Recreate)', () => {
  const d = deployment([]);
  (d.spec as any).strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } };
  const out = smp(d, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  rejects(() => smp(d, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 2 } } } }), 'invalid patch format of retainKeys', 400);
});

test('volumes merge by name and honour $retainKeys per item', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }], volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }] } };
  const out = smp(pod, { spec: { volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } }, podSchema);
  assert.deepEqual(out.spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }]);
});

test('PodDisruptionBudget selector has patchStrategy replace', () => {
  const pdb = { metadata: { name: 'p' }, spec: { selector: { matchLabels: { a: '1' } } } };
  const out = smp(pdb, { spec: { selector: { matchLabels: { b: '2' } } } }, schemaFor('policy', 'v1', 'PodDisruptionBudget'));
  assert.deepEqual(out.spec.selector, { matchLabels: { b: '2' } });
  // Without that tag the maps would merge, as for any other object.
  assert.deepEqual(smp(pdb, { spec: { selector: { matchLabels: { b: '2' } } } }, undefined).spec.selector, { matchLabels: { a: '1', b: '2' } });
});

test('Service ports merge by port; without a schema every list replaces', () => {
  const svc = { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
  const out = smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, schemaFor('', 'v1', 'Service'));
  assert.deepEqual(out.spec.ports, [{ port: 80, targetPort: 9090 }, { port: 443 }]);
  assert.deepEqual(smp(svc, { spec: { ports: [{ port: 80 }] } }, undefined).spec.ports, [{ port: 80 }]);
});

test('conditions in status merge by type (status subresource patches)', () => {
  const node = { metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'MemoryPressure', status: 'False' }] } };
  const out = smp(node, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, schemaFor('', 'v1', 'Node'));
  assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }]);
});

test('two-way patch: exact shape for primitive list changes, and round trip', () => {
  const a = deployment([{ name: 'a' }]);
  const b = deployment([{ name: 'a' }]);
  b.metadata.finalizers = ['a.io/one', 'a.io/three'];
  assert.deepEqual(createTwoWayMergePatch(a, b, deploySchema), {
    metadata: {
      '$setElementOrder/finalizers': ['a.io/one', 'a.io/three'],
      '$deleteFromPrimitiveList/finalizers': ['a.io/two'],
      finalizers: ['a.io/three'],
    },
  });
  assert.deepEqual(smp(a, createTwoWayMergePatch(a, b, deploySchema)), b);
});

test('two-way patch round-trips reorders, deletions and strategy changes', () => {
  const a = deployment(
    [
      { name: 'a', image: 'x', env: [{ name: 'E1', value: '1' }, { name: 'E2', value: '2' }] },
      { name: 'b', image: 'y' },
      { name: 'c', image: 'z' },
    ],
    { volumes: [{ name: 'v', emptyDir: {} }] },
  );
  (a.spec as any).strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } };
  const b = deployment(
    [
      { name: 'c', image: 'z2' },
      { name: 'a', image: 'x', env: [{ name: 'E2', value: '2' }, { name: 'E3', value: '3' }] },
    ],
    { volumes: [{ name: 'v', configMap: { name: 'cm' } }] },
  );
  (b.spec as any).strategy = { type: 'Recreate' };
  b.metadata.labels = { app: 'web', tier: 'front' } as any;
  const p = createTwoWayMergePatch(a, b, deploySchema) as any;
  assert.deepEqual(p.spec.strategy, { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' });
  assert.deepEqual(smp(a, p), b);
});

test('three-way patch (kubectl apply) keeps fields other writers set', () => {
  // last-applied configuration, the user's new configuration, and the live object.
  const lastApplied = deployment([
    { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
  ]);
  const modified = deployment([
    { name: 'app', image: 'nginx:2', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }, { containerPort: 443 }] },
  ]);
  const live = deployment([
    // An injected sidecar and server defaults the user never wrote.
    { name: 'mesh-proxy', image: 'proxy' },
    {
      name: 'app',
      image: 'nginx:1',
      imagePullPolicy: 'IfNotPresent',
      env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    },
  ]);
  (live.spec as any).replicas = 5; // scaled by an autoscaler; the config says 1 too, so no change.
  (live.metadata as any).annotations = { 'deployment.kubernetes.io/revision': '3' };

  const patch = createThreeWayMergePatch(lastApplied, modified, live, deploySchema) as any;
  const c = patch.spec.template.spec;
  assert.deepEqual(c['$setElementOrder/containers'], [{ name: 'app' }]);
  assert.equal(c.containers.length, 1);
  assert.equal(c.containers[0].name, 'app');
  assert.equal(c.containers[0].image, 'nginx:2');
  assert.deepEqual(c.containers[0].env, [{ name: 'B', $patch: 'delete' }]);

  const out = smp(live, patch);
  const [proxy, app] = out.spec.template.spec.containers;
  assert.deepEqual(proxy, { name: 'mesh-proxy', image: 'proxy' });
  assert.equal(app.image, 'nginx:2');
  assert.equal(app.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(app.env, [{ name: 'A', value: '1' }]);
  assert.deepEqual(app.ports, [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }]);
  assert.equal(out.spec.replicas, 1);
  assert.deepEqual(out.metadata.annotations, { 'deployment.kubernetes.io/revision': '3' });
});

test('three-way patch deletes fields removed from the configuration only', () => {
  const lastApplied = { metadata: { name: 'x', labels: { a: '1', b: '2' } }, spec: { replicas: 2 } };
  const modified = { metadata: { name: 'x', labels: { a: '1' } }, spec: {} };
  const live = { metadata: { name: 'x', labels: { a: '1', b: '2', c: 'added-by-someone' } }, spec: { replicas: 2, paused: false } };
  const patch = createThreeWayMergePatch(lastApplied, modified, live, deploySchema);
  assert.deepEqual(patch, { metadata: { labels: { b: null } }, spec: { replicas: null } });
  assert.deepEqual(smp(live, patch), { metadata: { name: 'x', labels: { a: '1', c: 'added-by-someone' } }, spec: { paused: false } });
});

test('nulls and directives inside newly added values are dropped, not stored', () => {
  const out = smp(deployment([{ name: 'a' }]), {
    metadata: { annotations: { keep: 'x', drop: null } },
    spec: { template: { spec: { containers: [{ name: 'b', image: 'i', command: null, '$setElementOrder/env': [] }] } } },
  });
  assert.deepEqual(out.metadata.annotations, { keep: 'x' });
  assert.deepEqual(out.spec.template.spec.containers[0], { name: 'b', image: 'i' });
});

test('$setElementOrder reorders a primitive list', () => {
  const out = smp(deployment([]), { metadata: { '$setElementOrder/finalizers': ['a.io/two', 'a.io/one'] } });
  assert.deepEqual(out.metadata.finalizers, ['a.io/two', 'a.io/one']);
});
