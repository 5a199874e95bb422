// Custom resources: a CustomResourceDefinition is served at run time with schema
// validation, defaulting, pruning, printer columns, status and scale subresources, and
// deleting the definition deletes its objects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.stop();
});

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['cronSpec'],
                properties: {
                  cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
                  image: { type: 'string' },
                  replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                  size: { 'x-kubernetes-int-or-string': true },
                  policy: { type: 'string', enum: ['Allow', 'Forbid'] },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
            },
          },
        },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
        additionalPrinterColumns: [
          { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
        ],
      },
      { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    ],
  },
};

const CT = '/apis/stable.example.com/v1/namespaces/default/crontabs';

async function until(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

test('a CRD is served with discovery, validation, defaulting, pruning, columns and subresources', async () => {
  const c = await s.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  assert.equal(c.status, 201);
  assert.ok(c.body.status.conditions.some((x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True'));
  await until(async () => (await s.req('GET', '/apis/stable.example.com/v1')).status === 200);
  const disc = await s.req('GET', '/apis/stable.example.com/v1');
  const res = disc.body.resources.find((r: { name: string }) => r.name === 'crontabs');
  assert.deepEqual(res.shortNames, ['ct']);
  assert.ok(disc.body.resources.some((r: { name: string }) => r.name === 'crontabs/scale'));

  const created = await s.req('POST', CT, {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'one' },
    spec: { cronSpec: '* * * * */5', image: 'img', unknown: 'dropped', size: '10%', extra: { anything: { goes: 1 } } },
    status: { replicas: 9 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.spec.replicas, 1, 'default applied');
  assert.equal(created.body.spec.unknown, undefined, 'unknown field pruned');
  assert.deepEqual(created.body.spec.extra, { anything: { goes: 1 } }, 'preserve-unknown-fields kept');
  assert.equal(created.body.status, undefined, 'status is reset on create');

  const bad = await s.req('POST', CT, {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'bad' },
    spec: { cronSpec: 'nope', replicas: 15, policy: 'Maybe', size: true },
  });
  assert.equal(bad.status, 422);
  const fields = bad.body.details.causes.map((x: { field: string }) => x.field).sort();
  assert.deepEqual(fields, ['spec.cronSpec', 'spec.policy', 'spec.replicas', 'spec.size']);
  assert.match(bad.body.message, /spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10/);
  const missing = await s.req('POST', CT, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'm' }, spec: {} });
  assert.equal(missing.status, 422);
  assert.match(missing.body.message, /spec.cronSpec: Required value/);

  const table = await s.req('GET', CT, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.deepEqual(table.body.columnDefinitions.map((x: { name: string }) => x.name), ['Name', 'Spec', 'Replicas']);
  assert.deepEqual(table.body.rows[0].cells, ['one', '* * * * */5', 1]);

  const scaled = await s.req('PATCH', `${CT}/one/scale`, { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(scaled.status, 200);
  assert.equal((await s.req('GET', `${CT}/one`)).body.spec.replicas, 4);
  const st = await s.req('PATCH', `${CT}/one/status`, { status: { replicas: 4, selector: 'app=x' } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(st.body.status.replicas, 4);
  assert.equal((await s.req('GET', `${CT}/one/scale`)).body.status.selector, 'app=x');

  // Served in both versions; conversion None changes only apiVersion.
  const beta = await s.req('GET', '/apis/stable.example.com/v1beta1/namespaces/default/crontabs/one');
  assert.equal(beta.body.apiVersion, 'stable.example.com/v1beta1');
  assert.equal(beta.body.spec.cronSpec, '* * * * */5');
  // No strategic merge patch for custom resources, as upstream.
  const smp = await s.req('PATCH', `${CT}/one`, { spec: { image: 'x' } }, { 'content-type': 'application/strategic-merge-patch+json' });
  assert.equal(smp.status, 415);
});

test('deleting the CRD deletes its objects and stops serving it', async () => {
  const del = await s.req('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com');
  assert.equal(del.status, 200);
  await until(async () => (await s.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com')).status === 404);
  assert.equal((await s.req('GET', CT)).status, 404);
  // Re-creating it starts empty: the old objects are gone from storage.
  await s.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await until(async () => (await s.req('GET', CT)).status === 200);
  assert.equal((await s.req('GET', CT)).body.items.length, 0);
});
