// Field validation over HTTPS: fieldValidation=Strict fails with upstream's message, Warn
// answers with Warning headers, Ignore (and every mode) drops unknown fields from what is stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.stop();
});

const D = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx', imagePullPolcy: 'Always', ...extra }] },
      },
    },
  };
}

function warnings(h: string | string[] | undefined): string[] {
  const all = Array.isArray(h) ? h.join(', ') : (h ?? '');
  // 299 - "text", 299 - "text" (the text is a quoted string with \" escapes).
  return [...all.matchAll(/299 - ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);
}

test('Strict: create with a misspelt field is a 400 naming it; nothing is stored', async () => {
  const r = await s.req('POST', `${D}?fieldValidation=Strict`, deployment('strict'));
  assert.equal(r.status, 400);
  assert.equal(r.body.reason, 'BadRequest');
  assert.equal(
    r.body.message,
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolcy"',
  );
  assert.equal((await s.req('GET', `${D}/strict`)).status, 404);

  // Several problems, duplicates included, joined with ", ".
  const body = JSON.stringify(deployment('strict2', { foo: 1 })).replace('"name":"strict2"', '"name":"x","name":"strict2"');
  const r2 = await s.req('POST', `${D}?fieldValidation=Strict`, body);
  assert.equal(r2.status, 400);
  assert.equal(
    r2.body.message,
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name", unknown field "spec.template.spec.containers[0].imagePullPolcy", unknown field "spec.template.spec.containers[0].foo"',
  );
});

test('Warn: the object is created, each problem comes back as a Warning header, the field is not stored', async () => {
  const r = await s.req('POST', `${D}?fieldValidation=Warn`, deployment('warn'));
  assert.equal(r.status, 201);
  assert.deepEqual(warnings(r.headers['warning']), ['unknown field "spec.template.spec.containers[0].imagePullPolcy"']);
  assert.equal(r.body.spec.template.spec.containers[0].imagePullPolcy, undefined);
  const g = await s.req('GET', `${D}/warn`);
  assert.ok(!g.text.includes('imagePullPolcy'));
  assert.equal(g.body.spec.template.spec.containers[0].imagePullPolicy, 'Always', 'defaulting still happens');

  // Update (PUT) and status writes too.
  // No resourceVersion: the deployment controller writes status meanwhile.
  const put = { ...g.body, metadata: { ...g.body.metadata, resourceVersion: undefined, labelz: { a: 'b' } } };
  const u = await s.req('PUT', `${D}/warn?fieldValidation=Warn`, put);
  assert.equal(u.status, 200);
  assert.deepEqual(warnings(u.headers['warning']), ['unknown field "metadata.labelz"']);
  assert.equal(u.body.metadata.labelz, undefined);
  const st = { ...u.body, metadata: { ...u.body.metadata, resourceVersion: undefined }, status: { ...(u.body.status ?? {}), replicaz: 3 } };
  const su = await s.req('PUT', `${D}/warn/status?fieldValidation=Warn`, st);
  assert.equal(su.status, 200);
  assert.deepEqual(warnings(su.headers['warning']), ['unknown field "status.replicaz"']);
  assert.equal(su.body.status.replicaz, undefined);
});

test('no parameter means Warn (upstream default); Ignore drops silently', async () => {
  const r = await s.req('POST', D, deployment('default'));
  assert.equal(r.status, 201);
  assert.deepEqual(warnings(r.headers['warning']), ['unknown field "spec.template.spec.containers[0].imagePullPolcy"']);

  const i = await s.req('POST', `${D}?fieldValidation=Ignore`, deployment('ignore'));
  assert.equal(i.status, 201);
  assert.equal(i.headers['warning'], undefined);
  const g = await s.req('GET', `${D}/ignore`);
  assert.ok(!g.text.includes('imagePullPolcy'));
});

test('patches: Strict is 422 Invalid on "patch", Warn warns and drops', async () => {
  const smp = { 'content-type': 'application/strategic-merge-patch+json' };
  const p = await s.req('PATCH', `${D}/ignore?fieldValidation=Strict`, { spec: { replicaz: 2 } }, smp);
  assert.equal(p.status, 422);
  assert.equal(p.body.reason, 'Invalid');
  assert.equal(p.body.message, ' "" is invalid: patch: Invalid value: "map[spec:map[replicaz:2]]": strict decoding error: unknown field "spec.replicaz"');

  const merge = { 'content-type': 'application/merge-patch+json' };
  const w = await s.req('PATCH', `${D}/ignore?fieldValidation=Warn`, { spec: { replicas: 2, replicaz: 2 } }, merge);
  assert.equal(w.status, 200);
  assert.deepEqual(warnings(w.headers['warning']), ['unknown field "spec.replicaz"']);
  assert.equal(w.body.spec.replicas, 2);
  assert.equal(w.body.spec.replicaz, undefined);

  const jp = { 'content-type': 'application/json-patch+json' };
  const j = await s.req('PATCH', `${D}/ignore?fieldValidation=Ignore`, [{ op: 'add', path: '/spec/paused2', value: true }], jp);
  assert.equal(j.status, 200);
  assert.equal(j.headers['warning'], undefined);
  assert.equal(j.body.spec.paused2, undefined);

  const sp = await s.req('PATCH', `${D}/ignore/status?fieldValidation=Strict`, { status: { replicaz: 1 } }, merge);
  assert.equal(sp.status, 422);
  assert.match(sp.body.message, /strict decoding error: unknown field "status.replicaz"$/);
});

test('YAML bodies are checked too; free-form and map fields are kept', async () => {
  const yaml = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: cm-yaml',
    '  annotations: {a: "1"}',
    'data:',
    '  any-key: v',
    'dataa: {}',
    '',
  ].join('\n');
  const r = await s.req('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', yaml, { 'content-type': 'application/yaml' });
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dataa"');
  const ok = await s.req('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', yaml.replace('dataa: {}\n', ''), { 'content-type': 'application/yaml' });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.body.data, { 'any-key': 'v' });

  // ControllerRevision.data is a RawExtension: anything goes.
  const cr = await s.req('POST', '/apis/apps/v1/namespaces/default/controllerrevisions?fieldValidation=Strict', {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: 'rev' },
    revision: 1,
    data: { spec: { template: { anything: [1, { x: true }] } } },
  });
  assert.equal(cr.status, 201);
  assert.deepEqual(cr.body.data, { spec: { template: { anything: [1, { x: true }] } } });
});

test('an unknown fieldValidation value is rejected as invalid options', async () => {
  const r = await s.req('POST', `${D}?fieldValidation=strict`, deployment('bad'));
  assert.equal(r.status, 422);
  assert.equal(r.body.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
});

test('the scale subresource checks Scale bodies', async () => {
  const r = await s.req('PUT', `${D}/ignore/scale?fieldValidation=Strict`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'ignore', namespace: 'default' }, spec: { replicaz: 3 } });
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'Scale in version "v1" cannot be handled as a Scale: strict decoding error: unknown field "spec.replicaz"');
  const w = await s.req('PATCH', `${D}/ignore/scale`, { spec: { replicas: 3, replicaz: 3 } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(w.status, 200);
  assert.equal(w.body.spec.replicas, 3);
  assert.deepEqual(warnings(w.headers['warning']), ['unknown field "spec.replicaz"']);
});

test('custom resources: pruned fields are reported the same way; preserved fields are kept', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.fv.example.com' },
    spec: {
      group: 'fv.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
              },
            },
          },
        },
      ],
    },
  };
  const c = await s.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict', crd);
  assert.equal(c.status, 201, c.text);
  const W = '/apis/fv.example.com/v1/namespaces/default/widgets';
  for (let i = 0; i < 100 && (await s.req('GET', W)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  const obj = { apiVersion: 'fv.example.com/v1', kind: 'Widget', metadata: { name: 'w', labelz: {} }, spec: { size: 1, sise: 2, extra: { any: { thing: true } } } };
  const strict = await s.req('POST', `${W}?fieldValidation=Strict`, obj);
  assert.equal(strict.status, 400);
  assert.equal(strict.body.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "metadata.labelz", unknown field "spec.sise"');
  const warn = await s.req('POST', `${W}?fieldValidation=Warn`, obj);
  assert.equal(warn.status, 201);
  assert.deepEqual(warnings(warn.headers['warning']), ['unknown field "metadata.labelz"', 'unknown field "spec.sise"']);
  assert.deepEqual(warn.body.spec, { size: 1, extra: { any: { thing: true } } });
});
