// Server-side apply internals: field sets and their FieldsV1 form, apply merge, removal of
// fields a manager stops applying, conflicts, force, ownership transfer, associative lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import type { KObject } from '../../../src/api/types.js';
import { ApiError } from '../../../src/apiserver/errors.js';
import { schemaFor } from '../../../src/apiserver/patch/patchmeta.js';
import { FieldSet, pathString } from '../../../src/apiserver/fieldmanager/fieldpath.js';
import { compare, merge, toFieldSet } from '../../../src/apiserver/fieldmanager/structured.js';
import { builtinNode, crdNode, applyOverrides } from '../../../src/apiserver/fieldmanager/typeschema.js';
import { applyConfig, trackUpdate, decodeManagedFields, type TrackContext } from '../../../src/apiserver/fieldmanager/managedfields.js';

const deployNode = builtinNode(schemaFor('apps', 'v1', 'Deployment'));
const ctx = (manager: string, extra: Partial<TrackContext> = {}): TrackContext => ({
  manager,
  apiVersion: 'apps/v1',
  subresource: '',
  hasStatus: true,
  node: deployNode,
  now: '2024-01-01T00:00:00Z',
  ...extra,
});

function deployment(replicas: number, containers: unknown[] = [{ name: 'nginx', image: 'nginx' }]): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
    },
  };
}

type Entry = { manager: string; operation: string; subresource?: string; fieldsV1?: unknown };
const entries = (o: KObject) => (o.metadata.managedFields ?? []) as Entry[];
const managers = (o: KObject) => entries(o).map((e) => `${e.manager}/${e.operation}`);
const fieldsOf = (o: KObject, manager: string) =>
  decodeManagedFields(o.metadata.managedFields).get([...decodeManagedFields(o.metadata.managedFields).keys()].find((k) => JSON.parse(k).manager === manager)!)!.set;

test('field set of an applied Deployment in FieldsV1, as upstream writes it', () => {
  const d = deployment(1, [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }]);
  const set = toFieldSet(d, deployNode);
  assert.deepEqual(set.toFieldsV1(), {
    'f:apiVersion': {},
    'f:kind': {},
    'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
    'f:spec': {
      'f:replicas': {},
      // LabelSelector is atomic: owned as a whole.
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {},
              'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
              'f:image': {},
              'f:name': {},
              // Ports are keyed by containerPort and protocol; protocol defaults to TCP.
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
  });
  // Round trip through FieldsV1.
  assert.ok(FieldSet.fromFieldsV1(set.toFieldsV1()).equals(set));
  assert.equal(
    pathString(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']),
    '.spec.template.spec.containers[name="nginx"].image',
  );
  assert.equal(pathString(['f:metadata', 'f:finalizers', 'v:"a"']), '.metadata.finalizers[="a"]');
});

test('set operations keep per-node membership', () => {
  const a = FieldSet.fromPaths([['f:spec', 'f:replicas'], ['f:spec', 'f:paused']]);
  const b = FieldSet.fromPaths([['f:spec', 'f:replicas']]);
  assert.deepEqual(a.difference(b).toFieldsV1(), { 'f:spec': { 'f:paused': {} } });
  assert.deepEqual(a.intersection(b).toFieldsV1(), { 'f:spec': { 'f:replicas': {} } });
  assert.deepEqual(b.union(FieldSet.fromPaths([['f:spec']])).toFieldsV1(), { 'f:spec': { '.': {}, 'f:replicas': {} } });
  assert.ok(a.difference(a).empty());
});

test('merge: associative lists merge by key, atomic lists and selectors are replaced', () => {
  const live = deployment(1, [
    { name: 'a', image: 'a:1', args: ['x', 'y'] },
    { name: 'b', image: 'b:1' },
  ]);
  const cfg = { spec: { selector: { matchLabels: { tier: 'x' } }, template: { spec: { containers: [{ name: 'c', image: 'c' }, { name: 'a', args: ['z'] }] } } } };
  const out = merge(live, cfg, deployNode) as KObject;
  assert.deepEqual(out.spec.selector, { matchLabels: { tier: 'x' } });
  assert.deepEqual(out.spec.template.spec.containers, [
    { name: 'c', image: 'c' },
    { name: 'a', image: 'a:1', args: ['z'] },
    { name: 'b', image: 'b:1' },
  ]);
});

test('compare finds added, modified and removed fields', () => {
  const c = compare(deployment(1), deployment(2, [{ name: 'nginx' }, { name: 'side', image: 's' }]), deployNode);
  assert.deepEqual(c.modified.paths().map(pathString), ['.spec.replicas']);
  assert.deepEqual(c.removed.paths().map(pathString), ['.spec.template.spec.containers[name="nginx"].image']);
  assert.deepEqual(c.added.paths().map(pathString), [
    '.spec.template.spec.containers[name="side"]',
    '.spec.template.spec.containers[name="side"].image',
    '.spec.template.spec.containers[name="side"].name',
  ]);
});

test('apply creates ownership; a second manager changing a field conflicts, force takes it over', () => {
  const { obj: a } = applyConfig(undefined, deployment(1), ctx('a'), false);
  assert.deepEqual(managers(a), ['a/Apply']);
  assert.ok(fieldsOf(a, 'a').has(['f:spec', 'f:replicas']));
  // Identity metadata is never owned.
  assert.ok(!fieldsOf(a, 'a').has(['f:metadata', 'f:name']));

  // Same value: shared ownership, no conflict.
  const { obj: shared } = applyConfig(a, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } }, ctx('b'), false);
  assert.deepEqual(managers(shared).sort(), ['a/Apply', 'b/Apply']);
  assert.ok(fieldsOf(shared, 'b').has(['f:spec', 'f:replicas']));

  // A different value: 409 naming the manager and the field.
  const change = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } };
  assert.throws(
    () => applyConfig(a, change, ctx('b'), false),
    (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 409);
      assert.equal(e.reason, 'Conflict');
      assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "a": .spec.replicas');
      assert.deepEqual(e.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' }]);
      return true;
    },
  );
  const { obj: forced } = applyConfig(a, change, ctx('b'), true);
  assert.equal(forced.spec.replicas, 3);
  assert.ok(fieldsOf(forced, 'b').has(['f:spec', 'f:replicas']));
  assert.ok(!fieldsOf(forced, 'a').has(['f:spec', 'f:replicas']));
  assert.ok(fieldsOf(forced, 'a').has(['f:spec', 'f:selector']));
});

test('conflicts with an Update manager name its apiVersion; several conflicts are listed by manager', () => {
  const created = deployment(1);
  trackUpdate(undefined, created, ctx('kubectl-client-side-apply'));
  assert.deepEqual(managers(created), ['kubectl-client-side-apply/Update']);
  const cfg = deployment(2, [{ name: 'nginx', image: 'nginx:2' }]);
  assert.throws(
    () => applyConfig(created, cfg, ctx('b'), false),
    (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(
        e.message,
        'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
      );
      assert.equal(e.details?.causes?.[0]?.message, 'conflict with "kubectl-client-side-apply" using apps/v1');
      return true;
    },
  );
});

test('fields a manager stops applying are removed unless someone else owns them', () => {
  const two = deployment(1, [
    { name: 'nginx', image: 'nginx' },
    { name: 'side', image: 'side' },
  ]);
  two.metadata.labels = { app: 'web', extra: 'x' };
  const { obj: a } = applyConfig(undefined, two, ctx('a'), false);
  // b co-owns the label "extra".
  const { obj: b } = applyConfig(a, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { extra: 'x' } } }, ctx('b'), false);
  // a drops the sidecar and the label.
  const { obj: after } = applyConfig(b, deployment(1), ctx('a'), false);
  assert.deepEqual(
    after.spec.template.spec.containers.map((c: { name: string }) => c.name),
    ['nginx'],
  );
  assert.deepEqual(after.metadata.labels, { app: 'web', extra: 'x' });
  // Unmanaged fields (defaults, other writers' fields not owned by anyone) stay.
  const withDefault = structuredClone(after);
  withDefault.spec.revisionHistoryLimit = 10;
  const { obj: again } = applyConfig(withDefault, deployment(1), ctx('a'), false);
  assert.equal(again.spec.revisionHistoryLimit, 10);
});

test('an Update moves ownership of what it changes to its manager and merges repeated updates', () => {
  const { obj: a } = applyConfig(undefined, deployment(1), ctx('a'), false);
  const scaled = structuredClone(a);
  scaled.spec.replicas = 5;
  trackUpdate(a, scaled, ctx('kubectl-scale'));
  assert.ok(fieldsOf(scaled, 'kubectl-scale').has(['f:spec', 'f:replicas']));
  assert.ok(!fieldsOf(scaled, 'a').has(['f:spec', 'f:replicas']));
  const again = structuredClone(scaled);
  again.spec.paused = true;
  trackUpdate(scaled, again, ctx('kubectl-scale'));
  assert.deepEqual(managers(again).filter((m: string) => m.startsWith('kubectl-scale')), ['kubectl-scale/Update']);
  assert.ok(fieldsOf(again, 'kubectl-scale').has(['f:spec', 'f:paused']));
  assert.ok(fieldsOf(again, 'kubectl-scale').has(['f:spec', 'f:replicas']));
  // An update that changes nothing records nothing.
  const same = structuredClone(again);
  trackUpdate(again, same, ctx('other'));
  assert.deepEqual(same.metadata.managedFields, again.metadata.managedFields);
  // managedFields: [{}] resets them.
  const reset = structuredClone(again);
  reset.metadata.managedFields = [{}];
  trackUpdate(again, reset, ctx('other'));
  assert.equal(reset.metadata.managedFields, undefined);
  // Status is not owned through the main resource.
  const st = structuredClone(again);
  st.status = { replicas: 1 };
  trackUpdate(again, st, ctx('c'));
  assert.ok(!managers(st).includes('c/Update'));
});

test('apply to the status subresource owns status only', () => {
  const { obj: a } = applyConfig(undefined, deployment(1), ctx('a'), false);
  const { obj } = applyConfig(
    a,
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 9 }, status: { replicas: 1 } },
    ctx('st', { subresource: 'status' }),
    false,
  );
  const entry = entries(obj).find((e) => e.manager === 'st')!;
  assert.equal(entry.subresource, 'status');
  assert.deepEqual(entry.fieldsV1, { 'f:status': { 'f:replicas': {} } });
  assert.equal(obj.spec.replicas, 1);
});

test('custom resources use their schema: list-map keys, sets, atomic maps', () => {
  const node = crdNode({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { id: { type: 'string' }, v: { type: 'integer' } } } },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          sel: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
        },
      },
    },
  });
  const set = toFieldSet({ spec: { items: [{ id: 'a', v: 1 }], tags: ['x'], sel: { k: 'v' } } }, node);
  assert.deepEqual(set.toFieldsV1(), {
    'f:spec': { 'f:items': { 'k:{"id":"a"}': { '.': {}, 'f:id': {}, 'f:v': {} } }, 'f:sel': {}, 'f:tags': { 'v:"x"': {} } },
  });
});

test('apply-specific list and map types agree with upstream OpenAPI', (t) => {
  const path = '/work/shared/reference/swagger.json';
  if (!existsSync(path)) return t.skip(`${path} missing`);
  const defs = (JSON.parse(readFileSync(path, 'utf8')) as { definitions: Record<string, { properties?: Record<string, Record<string, unknown>>; 'x-kubernetes-map-type'?: string }> }).definitions;
  const prefix = (name: string) => {
    const [g, v, k] = name.split('.') as [string, string, string];
    if (g === 'meta') return `io.k8s.apimachinery.pkg.apis.meta.${v}.${k}`;
    return `io.k8s.api.${g}.${v}.${k}`;
  };
  for (const [type, fields] of Object.entries(applyOverrides)) {
    const def = defs[prefix(type)];
    assert.ok(def, type);
    for (const [field, ov] of Object.entries(fields)) {
      const p = def.properties?.[field];
      assert.ok(p, `${type}.${field}`);
      if (ov.list) {
        assert.equal(p['x-kubernetes-list-type'], ov.list, `${type}.${field}`);
        assert.deepEqual(p['x-kubernetes-list-map-keys'], ov.keys, `${type}.${field}`);
      }
      if (ov.atomic) {
        const ref = typeof p['$ref'] === 'string' ? defs[(p['$ref'] as string).split('/').pop()!] : undefined;
        assert.equal(p['x-kubernetes-map-type'] ?? ref?.['x-kubernetes-map-type'], 'atomic', `${type}.${field}`);
      }
    }
  }
});
