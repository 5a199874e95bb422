// metrics.k8s.io/v1beta1 served by kts itself (the built-in metrics-server): discovery like
// metrics-server's, NodeMetrics and PodMetrics scraped from the kubelet's Summary API through
// nodes/proxy (process runtime: real host processes), label selectors, Tables, and upstream's
// errors for what has no metrics. The scrape period is shortened so no test waits 15 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';
import { goDuration, cpuQuantity, memoryQuantity } from '../../src/metrics/api.js';
import { decodeSummary } from '../../src/metrics/scraper.js';
import { parseQuantity } from '../../src/api/quantity.js';

const NODE = 'kts-metrics-node';
const M = '/apis/metrics.k8s.io/v1beta1';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

test('quantities and windows are written as metrics-server writes them', () => {
  assert.equal(cpuQuantity(123456789), '123456789n');
  assert.equal(cpuQuantity(5_000_000), '5m');
  assert.equal(cpuQuantity(0), '0');
  assert.equal(memoryQuantity(12345 * 1024), '12345Ki');
  // Go's BinarySI below 1024 is printed as DecimalSI
  assert.equal(memoryQuantity(1000), '1k');
  assert.equal(memoryQuantity(1025), '1025');
  assert.equal(goDuration(15_000), '15s');
  assert.equal(goDuration(15_003), '15.003s');
  assert.equal(goDuration(20_050), '20.05s');
  assert.equal(goDuration(60_500), '1m0.5s');
  assert.equal(goDuration(500), '500ms');
});

test('a summary point needs a CPU rate, and a pod needs every container measured', () => {
  const time = '2025-01-01T00:00:00Z';
  const first = decodeSummary(
    {
      node: { cpu: { time, usageCoreNanoSeconds: 5 }, memory: { time, workingSetBytes: 10 } },
      pods: [{ podRef: { name: 'a', namespace: 'd' }, containers: [{ name: 'c', cpu: { time, usageCoreNanoSeconds: 1 }, memory: { time, workingSetBytes: 1 } }] }],
    },
    15_000,
  );
  assert.equal(first.node, undefined);
  assert.equal(first.pods.size, 0);
  const later = decodeSummary(
    {
      node: { cpu: { time, usageNanoCores: 7 }, memory: { time, workingSetBytes: 10 } },
      pods: [
        { podRef: { name: 'a', namespace: 'd' }, containers: [{ name: 'c', cpu: { time, usageNanoCores: 3 }, memory: { time, workingSetBytes: 4 } }] },
        // the fake runtime: containers listed, nothing measured
        { podRef: { name: 'f', namespace: 'd' }, containers: [{ name: 'c', startTime: time }] },
        { podRef: { name: 'm', namespace: 'd' }, containers: [{ name: 'x', cpu: { time, usageNanoCores: 3 }, memory: { time, workingSetBytes: 4 } }, { name: 'y' }] },
      ],
    },
    15_000,
  );
  assert.deepEqual(later.node, { timestamp: time, windowMs: 15_000, cpuNanoCores: 7, memoryBytes: 10 });
  assert.deepEqual([...later.pods.keys()], ['d/a']);
});

describe('metrics.k8s.io served by kts', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ kubelet: { containerRuntime: 'process', port: 0, nodeName: NODE }, simulatedNodes: 1, metricResolutionMs: 500 });
  });
  after(async () => {
    await ts?.req('DELETE', '/api/v1/namespaces/default/pods/spin?gracePeriodSeconds=0');
    await ts?.stop();
  });

  test('discovery lists the group and its two read-only resources as metrics-server does', async () => {
    const groups = (await ts.req('GET', '/apis')).body;
    const g = groups.groups.find((x: { name: string }) => x.name === 'metrics.k8s.io');
    assert.deepEqual(g, { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } });
    // metrics-server's APIService has the lowest group priority: listed last.
    assert.equal(groups.groups[groups.groups.length - 1].name, 'metrics.k8s.io');
    const list = (await ts.req('GET', M)).body;
    assert.deepEqual(list, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'metrics.k8s.io/v1beta1',
      resources: [
        { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
        { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
      ],
    });
    const agg = (await ts.req('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    const ag = agg.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'metrics.k8s.io');
    assert.deepEqual(ag.versions[0].resources.map((r: { resource: string; scope: string; responseKind: { kind: string } }) => [r.resource, r.scope, r.responseKind.kind]), [
      ['nodes', 'Cluster', 'NodeMetrics'],
      ['pods', 'Namespaced', 'PodMetrics'],
    ]);
  });

  test('NodeMetrics for the kubelet node; none for the simulated node', async () => {
    const list = await until('node metrics', async () => {
      const r = await ts.req('GET', `${M}/nodes`);
      return r.status === 200 && r.body.items.length ? r.body : undefined;
    });
    assert.equal(list.kind, 'NodeMetricsList');
    assert.equal(list.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.deepEqual(list.items.map((i: { metadata: { name: string } }) => i.metadata.name), [NODE]);
    const nm = (await ts.req('GET', `${M}/nodes/${NODE}`)).body;
    assert.equal(nm.kind, 'NodeMetrics');
    assert.equal(nm.metadata.name, NODE);
    assert.equal(nm.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.match(nm.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(nm.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(nm.window, /^[\d.]+m?s$/);
    assert.ok(parseQuantity(nm.usage.cpu).toNumber() > 0, nm.usage.cpu);
    assert.ok(parseQuantity(nm.usage.memory).toNumber() > 1 << 20, nm.usage.memory);
    // label selectors select on the node's labels
    assert.equal((await ts.req('GET', `${M}/nodes?labelSelector=${encodeURIComponent(`kubernetes.io/hostname=${NODE}`)}`)).body.items.length, 1);
    assert.equal((await ts.req('GET', `${M}/nodes?labelSelector=nope%3Dx`)).body.items.length, 0);
    // the simulated node exists but has no kubelet to scrape
    const sim = await ts.req('GET', `${M}/nodes/kts-node-1`);
    assert.equal(sim.status, 404);
    assert.equal(sim.body.message, 'nodemetrics.metrics.k8s.io "kts-node-1" not found');
    const missing = await ts.req('GET', `${M}/nodes/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.reason, 'NotFound');
    assert.equal(missing.body.message, 'node "nope" not found');
  });

  test('server-side Table with metrics-server columns', async () => {
    const t = (await ts.req('GET', `${M}/nodes`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
    assert.equal(t.kind, 'Table');
    assert.deepEqual(t.columnDefinitions.map((c: { name: string; format: string }) => [c.name, c.format]), [
      ['Name', 'name'],
      ['cpu', 'quantity'],
      ['memory', 'quantity'],
      ['Window', 'duration'],
    ]);
    assert.equal(t.rows[0].cells[0], NODE);
  });

  test('PodMetrics of a busy process: non-zero CPU, per container, found by label', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'spin', labels: { app: 'spin' } },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'busy', image: 'busybox', command: ['sh', '-c', 'while :; do :; done'] }] },
    };
    assert.equal((await ts.req('POST', '/api/v1/namespaces/default/pods', pod)).status, 201);
    const pm = await until('pod metrics', async () => {
      const r = await ts.req('GET', `${M}/namespaces/default/pods/spin`);
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(pm.kind, 'PodMetrics');
    assert.equal(pm.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.deepEqual(pm.metadata.labels, { app: 'spin' });
    assert.equal(pm.metadata.namespace, 'default');
    assert.deepEqual(pm.containers.map((c: { name: string }) => c.name), ['busy']);
    // a shell loop keeps one core busy: well above 100m
    assert.ok(parseQuantity(pm.containers[0].usage.cpu).milliValue() > 100, pm.containers[0].usage.cpu);
    assert.ok(parseQuantity(pm.containers[0].usage.memory).value() > 0, pm.containers[0].usage.memory);

    const sel = (await ts.req('GET', `${M}/namespaces/default/pods?labelSelector=app%3Dspin`)).body;
    assert.equal(sel.kind, 'PodMetricsList');
    assert.deepEqual(sel.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['spin']);
    assert.equal((await ts.req('GET', `${M}/namespaces/default/pods?labelSelector=app%3Dother`)).body.items.length, 0);
    assert.equal((await ts.req('GET', `${M}/namespaces/kube-system/pods`)).body.items.length, 0);
    const all = (await ts.req('GET', `${M}/pods`)).body;
    assert.ok(all.items.some((i: { metadata: { name: string; namespace: string } }) => i.metadata.name === 'spin' && i.metadata.namespace === 'default'));
  });

  test('NotFound for a pod that does not exist, and for one without metrics', async () => {
    const nope = await ts.req('GET', `${M}/namespaces/default/pods/nope`);
    assert.equal(nope.status, 404);
    assert.deepEqual(
      { reason: nope.body.reason, message: nope.body.message, details: nope.body.details },
      { reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } },
    );
    // a pod on the simulated node runs nowhere that can be measured
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sim' }, spec: { nodeName: 'kts-node-1', containers: [{ name: 'c', image: 'nginx' }] } };
    assert.equal((await ts.req('POST', '/api/v1/namespaces/default/pods', pod)).status, 201);
    const r = await until('the pod to be seen', async () => {
      const x = await ts.req('GET', `${M}/namespaces/default/pods/sim`);
      return x.body?.message !== 'pods "sim" not found' ? x : undefined;
    });
    assert.equal(r.status, 404);
    assert.equal(r.body.message, 'podmetrics.metrics.k8s.io "default/sim" not found');
    assert.deepEqual(r.body.details, { name: 'default/sim', group: 'metrics.k8s.io', kind: 'podmetrics' });
  });

  test('read-only: watch and writes are not allowed', async () => {
    const w = await ts.req('GET', `${M}/nodes?watch=true`);
    assert.equal(w.status, 405);
    assert.equal(w.body.reason, 'MethodNotAllowed');
    const c = await ts.req('POST', `${M}/namespaces/default/pods`, { apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name: 'x' } });
    assert.equal(c.status, 405);
    const d = await ts.req('DELETE', `${M}/nodes/${NODE}`);
    assert.equal(d.status, 405);
  });
});
