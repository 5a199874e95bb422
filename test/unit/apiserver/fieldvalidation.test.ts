// Field validation: unknown fields against the built-in schemas (at depth, in lists and maps,
// in metadata), free-form fields left alone, duplicate keys in JSON and YAML, and each
// directive (Strict, Warn, Ignore) with upstream's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  builtinSchema,
  duplicateFields,
  fieldValidationDirective,
  patchValidation,
  pruneUnknownFields,
  pruneWithSchema,
  validateBody,
  withWarnings,
  yamlDuplicateError,
} from '../../../src/apiserver/fieldvalidation.js';
import { ApiError } from '../../../src/apiserver/errors.js';
import type { ApiRequest } from '../../../src/apiserver/request.js';
import type { ServedResource } from '../../../src/apiserver/resources.js';
import type { KObject, ResourceDecl } from '../../../src/api/types.js';

const deployments: ResourceDecl = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true };
const served: ServedResource = { decl: deployments, version: 'v1', storage: deployments } as ServedResource;

function request(query: string, body?: string, contentType = 'application/json'): ApiRequest {
  return {
    method: 'POST',
    path: '/apis/apps/v1/namespaces/default/deployments',
    query: new URLSearchParams(query),
    headers: { 'content-type': contentType },
    ...(body !== undefined ? { body: Buffer.from(body) } : {}),
    user: { username: 'admin', groups: ['system:masters'] },
  } as ApiRequest;
}

function deployment(): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'x/y': 'z' }, managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:anything': {} } } }] },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'nginx', resources: { limits: { cpu: '1', memory: 128 } }, ports: [{ containerPort: 80 }], env: [{ name: 'X', value: '1' }] },
            { name: 'b', image: 'busybox', imagePullPolicy: 'IfNotPresent' },
          ],
          nodeSelector: { disk: 'ssd' },
        },
      },
    },
  };
}

test('a valid Deployment has no unknown fields and is left as it is', () => {
  const d = deployment();
  const before = JSON.stringify(d);
  assert.deepEqual(pruneUnknownFields(served, d), []);
  assert.equal(JSON.stringify(d), before);
});

test('unknown fields at depth, in lists and in metadata are reported in document order and removed', () => {
  const d = deployment();
  d.metadata.labelz = { a: 'b' };
  d.spec.foo = 1;
  d.spec.template.spec.containers[1].imagePullPolcy = 'Always';
  d.spec.template.spec.containers[0].ports[0].bogus = true;
  d.spec.template.metadata.nmae = 'x';
  d.spec.strategy.rollingUpdate.maxSurgee = 1;
  const unknown = pruneUnknownFields(served, d);
  assert.deepEqual(unknown, [
    'metadata.labelz',
    'spec.strategy.rollingUpdate.maxSurgee',
    'spec.template.metadata.nmae',
    'spec.template.spec.containers[0].ports[0].bogus',
    'spec.template.spec.containers[1].imagePullPolcy',
    'spec.foo',
  ]);
  assert.deepEqual(d, (() => {
    const want = deployment();
    return want;
  })());
});

test('maps check their values; free-form fields (RawExtension, FieldsV1, JSON) keep anything', () => {
  // Map values of a typed map: Pod overhead is map[string]Quantity (scalar), volumes' configMap items are lists of structs.
  const pod = builtinSchema('', 'v1', 'Pod')!;
  const p = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'i' }], overhead: { cpu: '1' }, volumes: [{ name: 'v', configMap: { name: 'cm', items: [{ key: 'k', path: 'p', mod: 1 }] } }] },
  };
  assert.deepEqual(pruneWithSchema(pod, p), ['spec.volumes[0].configMap.items[0].mod']);

  // ControllerRevision.data is a RawExtension: anything goes.
  const cr = builtinSchema('apps', 'v1', 'ControllerRevision')!;
  const rev = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { spec: { template: { whatever: [1, { deep: true }] } } } };
  assert.deepEqual(pruneWithSchema(cr, rev), []);
  assert.deepEqual(rev.data, { spec: { template: { whatever: [1, { deep: true }] } } });

  // A CRD's openAPIV3Schema (JSONSchemaProps, recursive; default/example are JSON) is checked at depth.
  const crd = builtinSchema('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')!;
  const def = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      names: { plural: 'crontabs', kind: 'CronTab' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, default: { any: { thing: 1 } }, properties: { cron: { type: 'string', maxLenght: 3 } } } },
            },
          },
        },
      ],
    },
  };
  assert.deepEqual(pruneWithSchema(crd, def), ['spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.cron.maxLenght']);
});

test('int-or-string and Quantity fields accept either form', () => {
  const svc = builtinSchema('', 'v1', 'Service')!;
  const s = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }] } };
  assert.deepEqual(pruneWithSchema(svc, s), []);
});

test('custom resources: pruned paths of the structural schema, and metadata checked as ObjectMeta', () => {
  const decl: ResourceDecl = {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    singular: 'crontab',
    namespaced: true,
    openAPISchemas: {
      v1: {
        type: 'object',
        properties: {
          spec: { type: 'object', properties: { cron: { type: 'string' }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        },
      },
    },
  } as ResourceDecl;
  const cr = { decl, version: 'v1', storage: decl } as ServedResource;
  const obj: KObject = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c', labelz: {} }, spec: { cron: '* * * * *', crn: 'x', extra: { keep: { me: 1 } } }, top: 1 };
  assert.deepEqual(pruneUnknownFields(cr, obj), ['metadata.labelz', 'spec.crn', 'top']);
  assert.deepEqual(obj, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec: { cron: '* * * * *', extra: { keep: { me: 1 } } } });
});

test('duplicate keys in JSON are named by path; escaped keys and nested lists handled', () => {
  assert.deepEqual(duplicateFields('{"a":1,"b":2}'), []);
  assert.deepEqual(duplicateFields('{"metadata":{"name":"a","labels":{"x":"1","x":"2"},"name":"b"}}'), ['metadata.labels.x', 'metadata.name']);
  assert.deepEqual(duplicateFields('{"spec":{"containers":[{"name":"a"},{"name":"b","image":"i","image":"j"}]}}'), ['spec.containers[1].image']);
  assert.deepEqual(duplicateFields('{"k\\u0061":1,"ka":2,"s":"a\\"b,}{","s":[]}'), ['ka', 's']);
  assert.deepEqual(duplicateFields(' [ {"a" : 1 , "a" : { } } , 2 , "x" ] '), ['[0].a']);
});

test('duplicate keys in YAML are reported as go-yaml does', () => {
  assert.equal(yamlDuplicateError('a: 1\nb: 2\n'), undefined);
  assert.equal(
    yamlDuplicateError('apiVersion: v1\nmetadata:\n  name: a\n  name: b\n'),
    'error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key "name" already set in map',
  );
});

test('the directive: Warn by default, an unknown value is invalid options', () => {
  assert.equal(fieldValidationDirective(request('')), 'Warn');
  assert.equal(fieldValidationDirective(request('fieldValidation=Strict')), 'Strict');
  assert.equal(fieldValidationDirective(request('fieldValidation=Ignore')), 'Ignore');
  assert.throws(
    () => fieldValidationDirective(request('fieldValidation=strict'), 'PatchOptions'),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 422 &&
      e.message === 'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
  );
});

function withUnknown(): { obj: KObject; text: string } {
  const obj = deployment();
  obj.spec.template.spec.containers[0].imagePullPolcy = 'Always';
  obj.spec.foo = 1;
  const text = JSON.stringify(obj).replace('"name":"web"', '"name":"x","name":"web"');
  return { obj, text };
}

test('Strict: 400 with every unknown and duplicate field', () => {
  const { obj, text } = withUnknown();
  assert.throws(
    () => validateBody(served, request('fieldValidation=Strict', text), obj, 'create'),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 400 &&
      e.reason === 'BadRequest' &&
      e.message ===
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name", unknown field "spec.template.spec.containers[0].imagePullPolcy", unknown field "spec.foo"',
  );
});

test('Warn: the request goes on, each problem becomes a Warning header value; the fields are dropped', () => {
  const { obj, text } = withUnknown();
  const { warnings } = validateBody(served, request('fieldValidation=Warn', text), obj, 'update');
  assert.deepEqual(warnings, ['duplicate field "metadata.name"', 'unknown field "spec.template.spec.containers[0].imagePullPolcy"', 'unknown field "spec.foo"']);
  assert.equal(obj.spec.foo, undefined);
  assert.equal(obj.spec.template.spec.containers[0].imagePullPolcy, undefined);
  const res = withWarnings({ status: 200, headers: { Warning: '299 - "other"' } }, ['unknown field "spec.foo"']);
  assert.equal(res.headers!['Warning'], '299 - "other", 299 - "unknown field \\"spec.foo\\""');
  // No parameter means Warn, as upstream.
  const again = withUnknown();
  assert.equal(validateBody(served, request('', again.text), again.obj, 'create').warnings.length, 3);
});

test('Ignore: nothing reported, unknown fields still dropped', () => {
  const { obj, text } = withUnknown();
  assert.deepEqual(validateBody(served, request('fieldValidation=Ignore', text), obj, 'create').warnings, []);
  assert.equal(obj.spec.foo, undefined);
});

test('patches: Strict is a 422 on the field "patch"; Warn collects warnings', () => {
  const patch = { spec: { foo: 1, replicas: 2 } };
  const patched = deployment();
  patched.spec.foo = 1;
  const smp = patchValidation(request('fieldValidation=Strict', JSON.stringify(patch)), 'application/strategic-merge-patch+json');
  assert.throws(
    () => smp.checkPatched(served, patch, structuredClone(patched)),
    (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 422);
      assert.equal(e.message, ' "" is invalid: patch: Invalid value: "map[spec:map[foo:1 replicas:2]]": strict decoding error: unknown field "spec.foo"');
      assert.deepEqual(e.details, { causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "map[spec:map[foo:1 replicas:2]]": strict decoding error: unknown field "spec.foo"', field: 'patch' }] });
      return true;
    },
  );
  const warn = patchValidation(request('fieldValidation=Warn', '{"spec":{"foo":1,"foo":2}}'), 'application/merge-patch+json');
  const out = structuredClone(patched);
  warn.checkPatched(served, patch, out);
  assert.deepEqual(warn.warnings, ['duplicate field "spec.foo"', 'unknown field "spec.foo"']);
  assert.equal(out.spec.foo, undefined);
});

test('YAML bodies: duplicates reported in Strict', () => {
  const yaml = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  name: b\n';
  assert.throws(
    () => validateBody(served, request('fieldValidation=Strict', yaml, 'application/yaml'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'b' } }, 'create'),
    (e: unknown) =>
      e instanceof ApiError &&
      e.message ===
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: error converting YAML to JSON: yaml: unmarshal errors:\n  line 5: key "name" already set in map',
  );
});
