// PodDisruptionBudget status (DisruptionController) and the pods/eviction subresource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';
import { countHealthyPods, disruptionsAllowed, expectedPodCount, scaledValue } from '../../src/controllers/disruption.js';

let s: TestServer;
const NS = 'pdb-test';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runningPod(name: string, labels: Record<string, string>, ip: string, opts: { ready?: boolean; phase?: string } = {}) {
  const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'nginx' }] } };
  const r = await s.req('POST', `/api/v1/namespaces/${NS}/pods`, p);
  assert.equal(r.status, 201, r.text);
  const ready = opts.ready ?? true;
  const st = await s.req(
    'PATCH',
    `/api/v1/namespaces/${NS}/pods/${name}/status`,
    { status: { phase: opts.phase ?? 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } },
    { 'content-type': 'application/strategic-merge-patch+json' },
  );
  assert.equal(st.status, 200, st.text);
}

const evict = (name: string, deleteOptions?: unknown) =>
  s.req('POST', `/api/v1/namespaces/${NS}/pods/${name}/eviction`, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace: NS },
    ...(deleteOptions ? { deleteOptions } : {}),
  });

const getPdb = async (name: string) => (await s.req('GET', `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/${name}`)).body;

before(async () => {
  s = await startTestServer();
  assert.equal((await s.req('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status, 201);
});

after(async () => {
  await s?.stop();
});

test('PDB status, eviction within the budget (201) and beyond it (429)', async () => {
  for (let i = 0; i < 3; i++) await runningPod(`db-${i}`, { app: 'db' }, `10.244.0.${10 + i}`);
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db-pdb' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } } };
  assert.equal((await s.req('POST', `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, pdb)).status, 201);
  const st = await waitFor('pdb status', async () => {
    const p = await getPdb('db-pdb');
    return p.status?.observedGeneration === 1 && p.status.currentHealthy === 3 && p.status;
  });
  assert.equal(st.expectedPods, 3);
  assert.equal(st.desiredHealthy, 2);
  assert.equal(st.disruptionsAllowed, 1);
  assert.equal(st.conditions.length, 1);
  assert.deepEqual({ ...st.conditions[0], lastTransitionTime: undefined }, {
    type: 'DisruptionAllowed',
    status: 'True',
    observedGeneration: 1,
    lastTransitionTime: undefined,
    reason: 'SufficientPods',
    message: '',
  });

  // Discovery lists the subresource, so kubectl drain uses it.
  const v1 = (await s.req('GET', '/api/v1')).body;
  assert.deepEqual(
    v1.resources.find((r: any) => r.name === 'pods/eviction'),
    { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  );

  // The first eviction is within the budget.
  const ok = await evict('db-0');
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(ok.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  const evicted = (await s.req('GET', `/api/v1/namespaces/${NS}/pods/db-0`)).body;
  assert.ok(evicted.metadata.deletionTimestamp, 'the pod is being deleted (gracefully: it is on a node)');
  const dt = evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
  assert.deepEqual({ ...dt, lastTransitionTime: undefined, lastProbeTime: undefined }, {
    type: 'DisruptionTarget',
    status: 'True',
    lastTransitionTime: undefined,
    lastProbeTime: undefined,
    reason: 'EvictionByEvictionAPI',
    message: 'Eviction API: evicting',
  });
  const after1 = await getPdb('db-pdb');
  assert.equal(after1.status.disruptionsAllowed, 0);

  // The second would leave fewer than 2 healthy pods.
  await waitFor('pdb recomputed', async () => {
    const p = await getPdb('db-pdb');
    return p.status.currentHealthy === 2 && p.status.disruptionsAllowed === 0 && !p.status.disruptedPods;
  });
  const denied = await evict('db-1');
  assert.equal(denied.status, 429, denied.text);
  assert.deepEqual(denied.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    reason: 'TooManyRequests',
    details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db-pdb needs 2 healthy pods and has 2 currently' }] },
    code: 429,
  });
  assert.equal((await s.req('GET', `/api/v1/namespaces/${NS}/pods/db-1`)).body.metadata.deletionTimestamp, undefined);
  const cond = (await getPdb('db-pdb')).status.conditions[0];
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'InsufficientPods');

  // Not running yet (Pending): evicted freely.
  await runningPod('db-pending', { app: 'db' }, '10.244.0.30', { ready: false, phase: 'Pending' });
  const pend = await evict('db-pending', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  assert.equal(pend.status, 201, pend.text);
  assert.equal((await s.req('GET', `/api/v1/namespaces/${NS}/pods/db-pending`)).status, 404);

  // Unknown pod: 404 from the pods registry.
  const missing = await evict('nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.message, 'pods "nope" not found');

  // Name mismatch.
  const bad = await s.req('POST', `/api/v1/namespaces/${NS}/pods/db-1/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'db-2' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, 'name in URL does not match name in Eviction object');
});

test('more than one PDB: 500; no PDB: evicted; policy/v1beta1 Eviction bodies too', async () => {
  await runningPod('web-0', { app: 'web' }, '10.244.0.40');
  for (const n of ['web-a', 'web-b']) {
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: n }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } };
    assert.equal((await s.req('POST', `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, pdb)).status, 201);
  }
  const r = await evict('web-0');
  assert.equal(r.status, 500, r.text);
  assert.deepEqual(r.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    code: 500,
  });

  await runningPod('free', { app: 'free' }, '10.244.0.41');
  const f = await s.req('POST', `/api/v1/namespaces/${NS}/pods/free/eviction`, {
    apiVersion: 'policy/v1beta1',
    kind: 'Eviction',
    metadata: { name: 'free' },
    deleteOptions: { gracePeriodSeconds: 0 },
  });
  assert.equal(f.status, 201, f.text);
  assert.equal((await s.req('GET', `/api/v1/namespaces/${NS}/pods/free`)).status, 404);
});

test('budget arithmetic', () => {
  // minAvailable as a number counts pods; as a percentage, the controllers' scale (rounded up).
  assert.deepEqual(expectedPodCount({ minAvailable: 2 }, 3, () => 10), { expectedCount: 3, desiredHealthy: 2 });
  assert.deepEqual(expectedPodCount({ minAvailable: '50%' }, 3, () => 5), { expectedCount: 5, desiredHealthy: 3 });
  // maxUnavailable: desiredHealthy = scale - ceil(maxUnavailable).
  assert.deepEqual(expectedPodCount({ maxUnavailable: '30%' }, 3, () => 4), { expectedCount: 4, desiredHealthy: 2 });
  assert.deepEqual(expectedPodCount({ maxUnavailable: 5 }, 3, () => 4), { expectedCount: 4, desiredHealthy: 0 });
  assert.deepEqual(expectedPodCount({}, 3, () => 4), { expectedCount: 0, desiredHealthy: 0 });
  assert.equal(scaledValue('10%', 15, true), 2);
  assert.equal(scaledValue('10%', 15, false), 1);
  assert.equal(disruptionsAllowed(3, 2, 3), 1);
  assert.equal(disruptionsAllowed(1, 2, 3), 0);
  assert.equal(disruptionsAllowed(3, 0, 0), 0, 'nothing expected: no disruptions');
  const now = new Date('2024-01-01T00:10:00Z');
  const ready = (name: string, extra: Record<string, unknown> = {}) => ({ metadata: { name, ...extra }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const pods = [ready('a'), ready('b'), ready('c', { deletionTimestamp: '2024-01-01T00:09:00Z' }), { metadata: { name: 'd' }, status: {} }, ready('e')];
  // e was evicted a minute ago (still expected to go); b was evicted long ago (counted again).
  assert.equal(countHealthyPods(pods as any, { e: '2024-01-01T00:09:00Z', b: '2024-01-01T00:00:00Z' }, now), 2);
});
