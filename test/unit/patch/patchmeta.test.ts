// Checks the hand-written patch metadata against upstream's OpenAPI document (a test
// oracle read at test time, never shipped): same patch strategies and merge keys on every
// field of every type we describe, and full coverage of what each served kind can reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describedKinds, type FieldSpec, patchMetaTypes, schemaFor, schemaForType, type PatchSchema } from '../../../src/apiserver/patch/patchmeta.js';

const swaggerPath = '/work/shared/reference/swagger.json';

interface Prop {
  $ref?: string;
  items?: { $ref?: string };
  additionalProperties?: { $ref?: string };
  allOf?: { $ref?: string }[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
}
type Definitions = Record<string, { properties?: Record<string, Prop> }>;

function load(): Definitions | undefined {
  if (!existsSync(swaggerPath)) return undefined;
  return (JSON.parse(readFileSync(swaggerPath, 'utf8')) as { definitions: Definitions }).definitions;
}

/** Our short type name -> upstream definition name. */
function defName(ours: string): string {
  if (ours.startsWith('meta.v1.')) return `io.k8s.apimachinery.pkg.apis.${ours}`;
  if (ours.startsWith('apiextensions.v1.')) return `io.k8s.apiextensions-apiserver.pkg.apis.${ours}`;
  return `io.k8s.api.${ours}`;
}

const refOf = (p: Prop): string | undefined =>
  (p.$ref ?? p.items?.$ref ?? p.additionalProperties?.$ref ?? p.allOf?.[0]?.$ref)?.replace('#/definitions/', '');

const patchOf = (p: Prop) => ({ strategy: p['x-kubernetes-patch-strategy'], mergeKey: p['x-kubernetes-patch-merge-key'] });

test('every described type matches upstream field by field', (t) => {
  const defs = load();
  if (!defs) return t.skip(`${swaggerPath} not present`);
  for (const [name, fields] of Object.entries(patchMetaTypes)) {
    const def: Definitions[string] | undefined = defs[defName(name)];
    assert.ok(def, `${name}: no definition ${defName(name)} upstream`);
    const props: Record<string, Prop> = def.properties ?? {};
    // Every upstream field with patch metadata is described the same way...
    for (const [field, p] of Object.entries(props)) {
      const want = patchOf(p);
      const got: FieldSpec | undefined = fields[field];
      assert.equal(got?.strategy, want.strategy, `${name}.${field}: patch strategy`);
      assert.equal(got?.mergeKey, want.mergeKey, `${name}.${field}: merge key`);
    }
    // ...and we describe nothing upstream does not have.
    for (const [field, spec] of Object.entries(fields)) {
      const p = props[field];
      assert.ok(p, `${name}.${field}: no such field upstream`);
      if (spec.type) assert.equal(refOf(p), defName(spec.type), `${name}.${field}: type`);
      if (spec.map) assert.ok(p.additionalProperties, `${name}.${field}: upstream is not a map`);
      if (spec.type) assert.ok(patchMetaTypes[spec.type], `${name}.${field}: refers to undescribed ${spec.type}`);
    }
  }
});

test('every served kind reaches all upstream patch metadata through our schema', (t) => {
  const defs = load();
  if (!defs) return t.skip(`${swaggerPath} not present`);
  // Definitions that carry patch metadata themselves or through a nested type.
  const interesting = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [n, d] of Object.entries(defs)) {
      if (interesting.has(n)) continue;
      const props = Object.values(d.properties ?? {});
      if (props.some((p) => p['x-kubernetes-patch-strategy'] || p['x-kubernetes-patch-merge-key'] || interesting.has(refOf(p) ?? ''))) {
        interesting.add(n);
        changed = true;
      }
    }
  }
  const seen = new Set<string>();
  const walk = (def: string, schema: PatchSchema, path: string) => {
    if (seen.has(def)) return;
    seen.add(def);
    for (const [field, p] of Object.entries(defs[def]?.properties ?? {})) {
      const meta = schema.lookup(field);
      const want = patchOf(p);
      assert.deepEqual(meta.strategies, want.strategy ? want.strategy.split(',') : [], `${path}.${field}: strategies`);
      assert.equal(meta.mergeKey, want.mergeKey, `${path}.${field}: merge key`);
      const ref = refOf(p);
      if (ref && interesting.has(ref)) {
        let sub = meta.schema;
        assert.ok(sub, `${path}.${field}: ${ref} has patch metadata but we describe no type there`);
        if (p.additionalProperties) sub = sub.lookup('anykey').schema;
        assert.ok(sub);
        walk(ref, sub, `${path}.${field}`);
      }
    }
  };
  const kinds = describedKinds();
  assert.ok(kinds.length >= 40);
  for (const [g, v, k, type] of kinds) {
    const schema = schemaFor(g, v, k);
    assert.ok(schema, `${g}/${v}/${k}`);
    assert.ok(defs[defName(type)], `${g}/${v}/${k}: ${defName(type)} upstream`);
    seen.clear();
    walk(defName(type), schema, k);
  }
});

test('the kinds the brief lists are all served; custom resources are not', () => {
  for (const [g, v, k] of [
    ['', 'v1', 'Pod'],
    ['', 'v1', 'PersistentVolumeClaim'],
    ['apps', 'v1', 'ControllerRevision'],
    ['batch', 'v1', 'CronJob'],
    ['networking.k8s.io', 'v1', 'IngressClass'],
    ['autoscaling', 'v1', 'HorizontalPodAutoscaler'],
    ['autoscaling', 'v2', 'HorizontalPodAutoscaler'],
    ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding'],
    ['storage.k8s.io', 'v1', 'StorageClass'],
    ['discovery.k8s.io', 'v1', 'EndpointSlice'],
    ['coordination.k8s.io', 'v1', 'Lease'],
    ['policy', 'v1', 'PodDisruptionBudget'],
    ['events.k8s.io', 'v1', 'Event'],
    ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
    ['admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration'],
  ] as const) {
    assert.ok(schemaFor(g, v, k), `${g}/${v}/${k}`);
  }
  assert.equal(schemaFor('stable.example.com', 'v1', 'CronTab'), undefined);
  assert.equal(schemaForType('core.v1.NoSuchType'), undefined);
  // Deep lookups resolve through nested types.
  const container = schemaFor('apps', 'v1', 'Deployment')!.lookup('spec').schema!.lookup('template').schema!.lookup('spec').schema!.lookup('containers');
  assert.deepEqual([container.strategies, container.mergeKey, container.schema?.name], [['merge'], 'name', 'core.v1.Container']);
});
