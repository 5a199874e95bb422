// The kind schemas kts publishes (/openapi/v2 definitions, /openapi/v3 component schemas) against
// upstream's OpenAPI document (/work/shared/reference/swagger.json, Kubernetes 1.36): for every
// definition we serve, the same property names, types, formats, references, required fields,
// GVKs and strategic merge patch metadata. Tolerances are listed below, each with its reason.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { builtinResources } from '../../../src/api/builtin.js';
import type { ResourceDecl } from '../../../src/api/types.js';
import { openapiV2, openapiV3GroupVersion } from '../../../src/apiserver/openapi.js';
import { builtinDefinitions } from '../../../src/apiserver/openapi/definitions.js';
import protoSchema from '../../../src/apiserver/protobuf/schema.json' with { type: 'json' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REF = '/work/shared/reference';
const refDoc = existsSync(`${REF}/swagger.json`) ? (JSON.parse(readFileSync(`${REF}/swagger.json`, 'utf8')) as Json) : undefined;
const NO_REF = refDoc ? undefined : `${REF}/swagger.json not present`;
const messages = (protoSchema as unknown as { messages: Record<string, [number, string, string, string?, number?][]> }).messages;

const ours = () => openapiV2(builtinResources).doc as Json;

// ---- tolerances ----

/**
 * The reference is upstream 1.36; kts emulates 1.32 and takes its structure from kubectl 1.33's
 * protobuf descriptors. A property upstream has and we lack is fine when kubectl 1.33 does not know
 * it either (newer than what we emulate). apiextensions.k8s.io types have no descriptors in
 * kubectl, so their newer fields are listed by hand.
 */
const NEWER_APIEXTENSIONS_FIELDS = new Set([
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionCondition.observedGeneration',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus.observedGeneration',
]);

function knownToKubectl133(def: string, prop: string): boolean {
  const msg = def.replace(/^io\.k8s\./, 'k8s.io.');
  const fields = (m: string): string[] => (messages[m] ?? []).flatMap((f) => (f[4] && f[4] & 2 ? fields(f[3]!) : [f[1].toLowerCase()]));
  return fields(msg).includes(prop.toLowerCase());
}

/**
 * Required fields come from kubernetes-types 1.30 (a property without `?`); upstream changed these
 * between 1.30 and 1.36 (new +required / +optional markers, or types newer than 1.30 whose
 * required fields the package does not know).
 */
const REQUIRED_DIFFERS = new Set([
  'io.k8s.api.authentication.v1.TokenRequest',
  'io.k8s.api.authentication.v1.TokenRequestSpec',
  'io.k8s.api.authentication.v1.TokenRequestStatus',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingList',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyList',
  'io.k8s.api.apps.v1.StatefulSetSpec',
  'io.k8s.api.authentication.v1.TokenReviewSpec',
  'io.k8s.api.authorization.v1.ResourceRule',
  'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  'io.k8s.api.batch.v1.CronJob',
  'io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern',
  'io.k8s.api.core.v1.HostAlias',
  'io.k8s.api.core.v1.HostIP',
  'io.k8s.api.core.v1.LinuxContainerUser',
  'io.k8s.api.core.v1.PodIP',
  'io.k8s.api.core.v1.ResourceHealth',
  'io.k8s.api.core.v1.ResourceStatus',
  'io.k8s.api.discovery.v1.EndpointSlice',
  'io.k8s.api.discovery.v1.ForNode',
  'io.k8s.api.networking.v1.NetworkPolicySpec',
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus',
  'io.k8s.api.rbac.v1.RoleRef',
  'io.k8s.api.scheduling.v1.PriorityClass',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement',
]);

/**
 * x-kubernetes-list-type / list-map-keys are derived from the patch metadata (lists merged by key
 * are maps keyed by it, lists merged by value are sets). Upstream's other list types (mostly
 * "atomic", from +listType tags that nothing in our sources records) are not published yet; a
 * list type we do publish must be upstream's. These lists are merged by key or value for strategic
 * merge patch, but upstream gives them no (or another) list type: tolerated.
 */
const LIST_TYPE_DIFFERS = new Set([
  // +listType=set on lists without a patch strategy: nothing in our sources records it.
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement.values',
  'io.k8s.api.batch.v1.UncountedTerminatedPods.failed',
  'io.k8s.api.batch.v1.UncountedTerminatedPods.succeeded',
  'io.k8s.api.discovery.v1.Endpoint.addresses',
  // Merged by key for strategic merge patch, but no list type upstream (or a newer one).
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec.validationActions',
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus.conditions',
  'io.k8s.api.core.v1.ResourceRequirements.claims',
  'io.k8s.api.core.v1.ResourceStatus.resources',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus.conditions',
]);

// ---- comparison ----

/** What must be identical about a property: JSON type, format, reference, element and value shapes. */
function shape(p: Json | undefined): unknown {
  if (!p) return undefined;
  return { type: p.type, format: p.format, $ref: p.$ref, items: shape(p.items), additionalProperties: shape(p.additionalProperties) };
}

test('every definition we serve matches upstream: properties, types, formats, required, GVK, patch metadata', { skip: NO_REF }, () => {
  const mine = ours().definitions as Json;
  const theirs = refDoc!.definitions as Json;
  const problems: string[] = [];
  let compared = 0;
  for (const [name, d] of Object.entries(mine)) {
    const r = theirs[name];
    if (!r) {
      problems.push(`${name}: not an upstream definition`);
      continue;
    }
    compared++;
    if (d.type !== r.type) problems.push(`${name}: type ${d.type} != ${r.type}`);
    if (d.format !== r.format) problems.push(`${name}: format ${d.format} != ${r.format}`);
    assert.ok(!d['x-kubernetes-preserve-unknown-fields'] || r['x-kubernetes-preserve-unknown-fields'], `${name} is a placeholder`);
    if (name.endsWith('.DeleteOptions') || name.endsWith('.WatchEvent')) {
      // Upstream lists every group version it serves; we list the ones we serve.
      for (const g of d['x-kubernetes-group-version-kind']) assert.ok(r['x-kubernetes-group-version-kind'].some((x: Json) => JSON.stringify(x) === JSON.stringify(g)), `${name} ${JSON.stringify(g)}`);
    } else assert.deepEqual(d['x-kubernetes-group-version-kind'], r['x-kubernetes-group-version-kind'], `${name} GVK`);
    const mp: Json = d.properties ?? {};
    const rp: Json = r.properties ?? {};
    for (const k of Object.keys(rp)) {
      if (mp[k]) continue;
      if (knownToKubectl133(name, k) || (name.includes('apiextensions') && !NEWER_APIEXTENSIONS_FIELDS.has(`${name}.${k}`))) problems.push(`${name}.${k}: missing`);
    }
    for (const [k, p] of Object.entries(mp)) {
      const q = rp[k];
      if (!q) {
        problems.push(`${name}.${k}: not an upstream property`);
        continue;
      }
      try {
        assert.deepEqual(shape(p), shape(q));
      } catch {
        problems.push(`${name}.${k}: ${JSON.stringify(shape(p))} != ${JSON.stringify(shape(q))}`);
      }
      for (const x of ['x-kubernetes-patch-strategy', 'x-kubernetes-patch-merge-key']) {
        if (p[x] !== q[x]) problems.push(`${name}.${k}: ${x} ${p[x]} != ${q[x]}`);
      }
      const lt = p['x-kubernetes-list-type'];
      if (!LIST_TYPE_DIFFERS.has(`${name}.${k}`)) {
        if (lt && lt !== q['x-kubernetes-list-type']) problems.push(`${name}.${k}: list-type ${lt} != ${q['x-kubernetes-list-type']}`);
        if (!lt && q['x-kubernetes-list-type'] && q['x-kubernetes-list-type'] !== 'atomic') problems.push(`${name}.${k}: list-type missing (${q['x-kubernetes-list-type']})`);
        if (JSON.stringify(p['x-kubernetes-list-map-keys']) !== JSON.stringify(q['x-kubernetes-list-map-keys'])) {
          problems.push(`${name}.${k}: list-map-keys ${JSON.stringify(p['x-kubernetes-list-map-keys'])} != ${JSON.stringify(q['x-kubernetes-list-map-keys'])}`);
        }
      }
    }
    if (!REQUIRED_DIFFERS.has(name)) {
      const a = ((d.required ?? []) as string[]).filter((k) => rp[k]).sort();
      const b = ((r.required ?? []) as string[]).filter((k) => mp[k]).sort();
      if (a.join() !== b.join()) problems.push(`${name}: required [${a}] != [${b}]`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(compared > 300, `compared ${compared} definitions`);
});

test('every served built-in kind has its full schema, with descriptions', { skip: NO_REF }, () => {
  const defs = ours().definitions as Json;
  for (const name of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.apps.v1.Deployment', 'io.k8s.api.batch.v1.CronJob', 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler']) {
    assert.equal(defs[name].description, refDoc!.definitions[name].description, name);
    assert.deepEqual(Object.keys(defs[name].properties), Object.keys(refDoc!.definitions[name].properties), name);
  }
  // Descriptions come from kubernetes-types 1.30: a property without one is newer than that.
  const probe = defs['io.k8s.api.core.v1.Probe'].properties;
  assert.equal(probe.periodSeconds.description, refDoc!.definitions['io.k8s.api.core.v1.Probe'].properties.periodSeconds.description);
  const require = createRequire(import.meta.url);
  let typesDir: string | undefined;
  try {
    typesDir = dirname(require.resolve('kubernetes-types/package.json'));
  } catch {
    typesDir = undefined;
  }
  const typesText = new Map<string, string>();
  const inKubernetesTypes = (def: string, prop: string): boolean => {
    const m = /^io\.k8s\.(?:api\.([a-z0-9]+)\.(v[a-z0-9]+)|apimachinery\.pkg\.apis\.(meta)\.(v1)|apiextensions-apiserver\.pkg\.apis\.(apiextensions)\.(v1))\.(\w+)$/.exec(def);
    if (!m || !typesDir) return false;
    const [group, version] = [m[1] ?? m[3] ?? m[5], m[2] ?? m[4] ?? m[6]];
    const file = join(typesDir, group!, `${version}.d.ts`);
    if (!existsSync(file)) return false;
    const text = typesText.get(file) ?? readFileSync(file, 'utf8');
    typesText.set(file, text);
    const start = text.indexOf(`export interface ${m[7]} {`);
    if (start < 0) return false;
    const body = text.slice(start, text.indexOf('\n}', start));
    // Documented: a JSDoc comment ends on the line before the property.
    return new RegExp(`\\*/\\n    (readonly )?"?${prop.replace(/\$/g, '\\$')}"?\\??:`).test(body);
  };
  // A property upstream describes and we do not must be newer than kubernetes-types 1.30.
  let described = 0;
  for (const [n, d] of Object.entries(defs) as [string, Json][]) {
    for (const [k, p] of Object.entries((d.properties ?? {}) as Json)) {
      if (p.description) described++;
      else if (refDoc!.definitions[n]?.properties?.[k]?.description) assert.ok(!inKubernetesTypes(n, k), `${n}.${k} has a description in kubernetes-types`);
    }
  }
  assert.ok(described > 1800, `${described} properties described`);
  assert.ok(inKubernetesTypes('io.k8s.api.core.v1.Probe', 'periodSeconds') || !typesDir);
  for (const d of builtinResources) {
    for (const version of d.versions ?? [d.version]) {
      const name = Object.keys(defs).find((n) => defs[n]['x-kubernetes-group-version-kind']?.some((g: Json) => g.group === d.group && g.version === version && g.kind === d.kind));
      assert.ok(name, `${d.group}/${version} ${d.kind} has a definition`);
      assert.ok(defs[name].description, `${name} description`);
      assert.ok(!defs[name]['x-kubernetes-preserve-unknown-fields'], `${name} is a placeholder`);
    }
  }
});

test('patch metadata: merge keys, strategies and list map keys where kubectl apply and server-side apply look', () => {
  const defs = ours().definitions as Json;
  const containers = defs['io.k8s.api.core.v1.PodSpec'].properties.containers;
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  assert.equal(defs['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.deepEqual(defs['io.k8s.api.core.v1.Container'].properties.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(defs['io.k8s.api.core.v1.Container'].properties.env['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(defs['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.finalizers['x-kubernetes-list-type'], 'set');
  assert.deepEqual(defs['io.k8s.api.core.v1.ServicePort'].required, ['port']);
  assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], { ...refDoc?.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], format: 'int-or-string', type: 'string' });
});

test('v3 documents: references with descriptions become allOf, well-known types get their v3 shapes, as upstream', () => {
  const doc = openapiV3GroupVersion(builtinResources, 'api/v1')!.doc as Json;
  const schemas = doc.components.schemas as Json;
  const pod = schemas['io.k8s.api.core.v1.Pod'];
  assert.deepEqual(pod.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
  assert.ok(pod.properties.spec.description);
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
  assert.equal(schemas['io.k8s.api.core.v1.Container'].properties.resources.allOf[0].$ref, '#/components/schemas/io.k8s.api.core.v1.ResourceRequirements');
  assert.ok(!JSON.stringify(doc).includes('#/definitions/'));
  // Where upstream's v3 document for core/v1 wraps a reference in allOf, so do we, to the same schema.
  const refPath = `${REF}/openapi-v3/api__v1_openapi.json`;
  if (!existsSync(refPath)) return;
  const theirs = (JSON.parse(readFileSync(refPath, 'utf8')) as Json).components.schemas as Json;
  let checked = 0;
  for (const [name, s] of Object.entries(schemas)) {
    for (const [k, p] of Object.entries((s.properties ?? {}) as Json)) {
      const q = theirs[name]?.properties?.[k];
      if (!q?.allOf) continue;
      // A reference without siblings (no description: newer than kubernetes-types) stays a plain $ref.
      const mine = p.description ? p.allOf : [{ $ref: p.$ref }];
      assert.ok(Array.isArray(mine) && mine.length === 1 && typeof mine[0].$ref === 'string', `${name}.${k}`);
      // The reference document is older than 1.29 in places (ResourceRequirements for
      // VolumeResourceRequirements): count the references that agree.
      if (mine[0].$ref === q.allOf[0].$ref) checked++;
    }
  }
  assert.ok(checked > 100, `${checked} references compared`);
});

test('custom resources: the CRD schema, with apiVersion, kind, metadata and the GVK; no schema keeps unknown fields', () => {
  const schema = {
    description: 'CronTab runs a command on a schedule.',
    type: 'object',
    properties: { spec: { type: 'object', required: ['cronSpec'], properties: { cronSpec: { type: 'string', description: 'When to run.' }, replicas: { type: 'integer' } } } },
  };
  const crontabs: ResourceDecl = {
    group: 'stable.example.com',
    version: 'v1',
    versions: ['v1', 'v1beta1'],
    kind: 'CronTab',
    plural: 'crontabs',
    singular: 'crontab',
    namespaced: true,
    openAPISchemas: { v1: schema },
  };
  const decls = [...builtinResources, crontabs];
  const v2 = openapiV2(decls).doc as Json;
  const def = v2.definitions['com.example.stable.v1.CronTab'];
  assert.equal(def.description, schema.description);
  assert.deepEqual(Object.keys(def.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.equal(def.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.deepEqual(def.properties.spec, schema.properties.spec);
  assert.deepEqual(def['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
  assert.equal(v2.definitions['com.example.stable.v1.CronTabList'].properties.items.items.$ref, '#/definitions/com.example.stable.v1.CronTab');
  // v1beta1 has no schema: an object that keeps every field.
  assert.equal(v2.definitions['com.example.stable.v1beta1.CronTab']['x-kubernetes-preserve-unknown-fields'], true);
  const v3 = openapiV3GroupVersion(decls, 'apis/stable.example.com/v1')!.doc as Json;
  assert.deepEqual(v3.components.schemas['com.example.stable.v1.CronTab'].properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  assert.ok(v3.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels);
  // A changed schema changes the document (the cache follows CRD updates).
  const changed = { ...crontabs, openAPISchemas: { v1: { ...schema, description: 'Changed.' } } };
  assert.equal((openapiV2([...builtinResources, changed]).doc as Json).definitions['com.example.stable.v1.CronTab'].description, 'Changed.');
});

test('the generated definitions are current: regenerating from the sources gives the same file', async (t) => {
  const require = createRequire(import.meta.url);
  let typesDir: string;
  try {
    typesDir = dirname(require.resolve('kubernetes-types/package.json'));
  } catch {
    return t.skip('kubernetes-types (devDependency) not installed');
  }
  assert.ok(existsSync(join(typesDir, 'core', 'v1.d.ts')));
  const root = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
  const gen = (await import(join(root, 'scripts', 'gen-openapi-defs.mjs'))) as { generate(): { definitions: Json } };
  const fresh = gen.generate().definitions;
  const loaded = builtinDefinitions();
  assert.ok(loaded, 'definitions load');
  // Loaded definitions add patch metadata only; names and property sets are the generator's.
  assert.deepEqual(Object.keys(loaded).sort(), Object.keys(fresh).sort());
  for (const [n, d] of Object.entries(fresh)) assert.deepEqual(Object.keys(loaded[n]!.properties ?? {}), Object.keys(d.properties ?? {}), n);
});
