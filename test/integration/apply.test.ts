// Server-side apply through the HTTP API: PATCH with application/apply-patch+yaml creates
// or merges by field ownership, answers upstream's 409 on conflicts, honours force, works on
// the status subresource and on custom resources; every write records managedFields.
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

const APPLY = { 'content-type': 'application/apply-patch+yaml' };
const D = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, replicas: number, image = 'nginx') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}

type Entry = { manager: string; operation: string; apiVersion: string; time?: string; fieldsType: string; fieldsV1: Record<string, unknown>; subresource?: string };
const entry = (o: { metadata: { managedFields?: Entry[] } }, manager: string) => o.metadata.managedFields?.find((e) => e.manager === manager);

async function until(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

test('apply needs a fieldManager', async () => {
  const r = await s.req('PATCH', `${D}/x`, deployment('x', 1), APPLY);
  assert.equal(r.status, 422);
  assert.equal(r.body.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const f = await s.req('PATCH', '/api/v1/namespaces/default/configmaps/x', { data: {} }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(f.status, 404);
  const forced = await s.req('PATCH', '/api/v1/namespaces/default/configmaps/x?force=true', { data: {} }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(forced.status, 422);
  assert.match(forced.body.message, /force: Forbidden: may not be specified for non-apply patch/);
});

test('apply creates, conflicts name the manager and field, force takes ownership', async () => {
  const c = await s.req('PATCH', `${D}/web?fieldManager=a`, deployment('web', 1), APPLY);
  assert.equal(c.status, 201, c.text);
  const a = entry(c.body, 'a')!;
  assert.equal(a.operation, 'Apply');
  assert.equal(a.apiVersion, 'apps/v1');
  assert.equal(a.fieldsType, 'FieldsV1');
  assert.match(a.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual((a.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas'], {});

  // Re-applying the same configuration is a no-op write.
  const same = await s.req('PATCH', `${D}/web?fieldManager=a`, deployment('web', 1), APPLY);
  assert.equal(same.status, 200);
  assert.equal(same.body.metadata.resourceVersion, c.body.metadata.resourceVersion);

  const conflict = await s.req('PATCH', `${D}/web?fieldManager=b`, deployment('web', 2), APPLY);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.kind, 'Status');
  assert.equal(conflict.body.reason, 'Conflict');
  assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "a": .spec.replicas');
  assert.deepEqual(conflict.body.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' }]);

  // Dry run with force changes nothing.
  const dry = await s.req('PATCH', `${D}/web?fieldManager=b&force=true&dryRun=All`, deployment('web', 2), APPLY);
  assert.equal(dry.status, 200);
  assert.equal(dry.body.spec.replicas, 2);
  assert.equal((await s.req('GET', `${D}/web`)).body.spec.replicas, 1);

  const forced = await s.req('PATCH', `${D}/web?fieldManager=b&force=true`, deployment('web', 2), APPLY);
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.body.spec.replicas, 2);
  assert.ok((entry(forced.body, 'b')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']);
  assert.equal((entry(forced.body, 'a')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas'], undefined);

  // Now a conflicts with b.
  const back = await s.req('PATCH', `${D}/web?fieldManager=a`, deployment('web', 1), APPLY);
  assert.equal(back.status, 409);
  assert.equal(back.body.message, 'Apply failed with 1 conflict: conflict with "b": .spec.replicas');
});

test('an update through PUT or merge patch is recorded for its manager and conflicts with appliers', async () => {
  await s.req('PATCH', `${D}/upd?fieldManager=a`, deployment('upd', 1), APPLY);
  const p = await s.req('PATCH', `${D}/upd?fieldManager=scaler`, { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(p.status, 200);
  const sc = entry(p.body, 'scaler')!;
  assert.equal(sc.operation, 'Update');
  assert.deepEqual(sc.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  // Without fieldManager the manager is the first segment of the User-Agent.
  const ua = await s.req('PATCH', `${D}/upd`, { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json', 'user-agent': 'my-tool/1.0 (linux)' });
  assert.ok(entry(ua.body, 'my-tool'), JSON.stringify(ua.body.metadata.managedFields));
  const conflict = await s.req('PATCH', `${D}/upd?fieldManager=a`, deployment('upd', 1), APPLY);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "scaler" using apps/v1: .spec.replicas');

  // Clients may reset managedFields with [{}].
  const cur = (await s.req('GET', `${D}/upd`)).body;
  cur.metadata.managedFields = [{}];
  delete cur.metadata.resourceVersion;
  const put = await s.req('PUT', `${D}/upd`, cur);
  assert.equal(put.status, 200);
  assert.equal(put.body.metadata.managedFields, undefined);

  // A create records the creator.
  const cm = await s.req('POST', '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create', { metadata: { name: 'mf' }, data: { a: '1' } });
  assert.equal(cm.status, 201);
  assert.deepEqual(entry(cm.body, 'kubectl-create')!.fieldsV1, { 'f:data': { '.': {}, 'f:a': {} } });
  // managedFields in an applied configuration are refused.
  const bad = await s.req('PATCH', '/api/v1/namespaces/default/configmaps/mf?fieldManager=x', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf', managedFields: [] } }, APPLY);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, 'metadata.managedFields must be nil');
});

test('fields dropped from the applied configuration are removed; YAML bodies are accepted', async () => {
  const yaml = (data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drop\ndata:\n${data}`;
  const c = await s.req('PATCH', '/api/v1/namespaces/default/configmaps/drop?fieldManager=m', yaml('  a: "1"\n  b: "2"\n'), APPLY);
  assert.equal(c.status, 201, c.text);
  const r = await s.req('PATCH', '/api/v1/namespaces/default/configmaps/drop?fieldManager=m', yaml('  a: "1"\n'), APPLY);
  assert.deepEqual(r.body.data, { a: '1' });
});

test('apply to the status subresource', async () => {
  await s.req('PATCH', `${D}/st?fieldManager=a`, deployment('st', 1), APPLY);
  const r = await s.req(
    'PATCH',
    `${D}/st/status?fieldManager=status-writer&force=true`,
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' }, status: { observedGeneration: 7 } },
    APPLY,
  );
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status.observedGeneration, 7);
  const e = entry(r.body, 'status-writer')!;
  assert.equal(e.subresource, 'status');
  assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:observedGeneration': {} } });
  // Through /status nothing is created.
  const missing = await s.req('PATCH', `${D}/nope/status?fieldManager=a`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nope' }, status: {} }, APPLY);
  assert.equal(missing.status, 404);
});

test('custom resources are applied by their CRD schema', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.ssa.example.com' },
    spec: {
      group: 'ssa.example.com',
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
                spec: {
                  type: 'object',
                  properties: {
                    ports: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  assert.equal((await s.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
  const W = '/apis/ssa.example.com/v1/namespaces/default/widgets';
  await until(async () => (await s.req('GET', W)).status === 200);
  const w = (ports: unknown[]) => ({ apiVersion: 'ssa.example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { ports } });
  assert.equal((await s.req('PATCH', `${W}/w?fieldManager=a`, w([{ name: 'http', port: 80 }]), APPLY)).status, 201);
  const b = await s.req('PATCH', `${W}/w?fieldManager=b`, w([{ name: 'metrics', port: 9090 }]), APPLY);
  assert.equal(b.status, 200, b.text);
  // Each manager owns its own list item: the list merges by key.
  assert.deepEqual(b.body.spec.ports, [
    { name: 'http', port: 80 },
    { name: 'metrics', port: 9090 },
  ]);
  assert.deepEqual(entry(b.body, 'b')!.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"name":"metrics"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
  const conflict = await s.req('PATCH', `${W}/w?fieldManager=b`, w([{ name: 'metrics', port: 9090 }, { name: 'http', port: 81 }]), APPLY);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "a": .spec.ports[name="http"].port');
});
