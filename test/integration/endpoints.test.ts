// Endpoints and EndpointSlice controllers against an in-process server: the test plays the
// kubelet (pods get a node, then Running/Ready and an IP through /status).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';
import { planSlices, type SliceEndpoint } from '../../src/controllers/endpointslice.js';
import { repackSubsets, truncateSubsets } from '../../src/controllers/endpoints.js';

let s: TestServer;
const NS = 'ep-test';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pod(name: string, labels: Record<string, string>, opts: { node?: string; ports?: { name?: string; containerPort: number }[]; hostname?: string; subdomain?: string } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      nodeName: opts.node ?? 'node-a',
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      ...(opts.subdomain ? { subdomain: opts.subdomain } : {}),
      containers: [{ name: 'c', image: 'nginx', ...(opts.ports ? { ports: opts.ports } : {}) }],
    },
  };
}

async function createPod(ns: string, p: ReturnType<typeof pod>, ip: string, ready: boolean) {
  const r = await s.req('POST', `/api/v1/namespaces/${ns}/pods`, p);
  assert.equal(r.status, 201, r.text);
  await setReady(ns, p.metadata.name, ip, ready);
}

async function setReady(ns: string, name: string, ip: string, ready: boolean) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await s.req(
    'PATCH',
    `/api/v1/namespaces/${ns}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
      },
    },
    { 'content-type': 'application/strategic-merge-patch+json' },
  );
  assert.equal(r.status, 200, r.text);
}

async function getEndpoints(ns: string, name: string) {
  const r = await s.req('GET', `/api/v1/namespaces/${ns}/endpoints/${name}`);
  return r.status === 200 ? r.body : undefined;
}

async function slicesOf(ns: string, svc: string) {
  const r = await s.req('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io/service-name=${svc}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items as any[];
}

before(async () => {
  s = await startTestServer();
  assert.equal((await s.req('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status, 201);
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } };
  assert.equal((await s.req('POST', '/api/v1/nodes', node)).status, 201);
});

after(async () => {
  await s?.stop();
});

test('endpoints follow readiness, named targetPorts resolve per pod, slices mirror them', async () => {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { tier: 'frontend' } },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http-port' },
        { name: 'metrics', port: 9090, targetPort: 9090 },
      ],
    },
  };
  assert.equal((await s.req('POST', `/api/v1/namespaces/${NS}/services`, svc)).status, 201);
  await createPod(NS, pod('web-1', { app: 'web' }, { ports: [{ name: 'http-port', containerPort: 8080 }] }), '10.244.1.10', true);
  // web-2 has no port named http-port: it only serves the metrics port. Not ready yet.
  await createPod(NS, pod('web-2', { app: 'web' }), '10.244.1.11', false);
  // Not selected.
  await createPod(NS, pod('other', { app: 'other' }, { ports: [{ name: 'http-port', containerPort: 8080 }] }), '10.244.1.12', true);

  const web1 = (await s.req('GET', `/api/v1/namespaces/${NS}/pods/web-1`)).body;
  const web2 = (await s.req('GET', `/api/v1/namespaces/${NS}/pods/web-2`)).body;

  const ep = await waitFor('endpoints with both pods', async () => {
    const e = await getEndpoints(NS, 'web');
    return e?.subsets?.length === 2 && e;
  });
  assert.deepEqual(ep.metadata.labels, { tier: 'frontend' });
  assert.match(ep.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time'], /^\d{4}-\d\d-\d\dT/);
  // Subsets group addresses by the set of ports they serve (RepackSubsets): web-1 alone
  // serves http; web-1 and (not ready) web-2 serve metrics.
  const a1 = { ip: '10.244.1.10', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: NS, name: 'web-1', uid: web1.metadata.uid } };
  const a2 = { ip: '10.244.1.11', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: NS, name: 'web-2', uid: web2.metadata.uid } };
  assert.deepEqual(ep.subsets.find((x: any) => x.ports[0].name === 'http'), { addresses: [a1], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
  assert.deepEqual(ep.subsets.find((x: any) => x.ports[0].name === 'metrics'), {
    addresses: [a1],
    notReadyAddresses: [a2],
    ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }],
  });

  // Slices: one per port set, owned by the Service.
  const svcObj = (await s.req('GET', `/api/v1/namespaces/${NS}/services/web`)).body;
  const slices = await waitFor('two slices', async () => {
    const l = await slicesOf(NS, 'web');
    return l.length === 2 && l.every((x) => x.endpoints?.length === 1) && l;
  });
  for (const sl of slices) {
    assert.match(sl.metadata.name, /^web-[a-z0-9]{5}$/);
    assert.equal(sl.metadata.generateName, 'web-');
    assert.equal(sl.addressType, 'IPv4');
    assert.deepEqual(sl.metadata.labels, { tier: 'frontend', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(sl.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svcObj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const s1 = slices.find((x) => x.ports.length === 2);
  assert.deepEqual(s1.endpoints, [
    {
      addresses: ['10.244.1.10'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: NS, name: 'web-1', uid: web1.metadata.uid },
      nodeName: 'node-a',
      zone: 'zone-1',
    },
  ]);
  const s2 = slices.find((x) => x.ports.length === 1);
  assert.deepEqual(s2.ports, [{ name: 'metrics', port: 9090, protocol: 'TCP' }]);
  assert.deepEqual(s2.endpoints[0].conditions, { ready: false, serving: false, terminating: false });

  // web-2 becomes ready: it moves to addresses, and its slice is updated in place.
  await setReady(NS, 'web-2', '10.244.1.11', true);
  await waitFor('web-2 ready', async () => {
    const e = await getEndpoints(NS, 'web');
    return e?.subsets?.find((x: any) => x.ports[0].name === 'metrics')?.addresses?.length === 2;
  });
  const updated = await waitFor('slice updated', async () => {
    const l = await slicesOf(NS, 'web');
    const x = l.find((y) => y.metadata.name === s2.metadata.name);
    return x?.endpoints?.[0]?.conditions?.ready === true && x;
  });
  assert.equal(updated.metadata.uid, s2.metadata.uid);

  // A terminating pod leaves Endpoints; its slice endpoint says terminating.
  const del = await s.req('DELETE', `/api/v1/namespaces/${NS}/pods/web-1`);
  assert.equal(del.status, 200, del.text);
  assert.ok(del.body.metadata.deletionTimestamp, 'pod on a node is deleted gracefully');
  await waitFor('web-1 gone from endpoints', async () => {
    const e = await getEndpoints(NS, 'web');
    return e && !JSON.stringify(e.subsets).includes('10.244.1.10') && e;
  });
  await waitFor('web-1 terminating in its slice', async () => {
    const l = await slicesOf(NS, 'web');
    const ep1 = l.flatMap((x) => x.endpoints ?? []).find((e: any) => e.targetRef?.name === 'web-1');
    return ep1 && ep1.conditions.terminating === true && ep1.conditions.ready === false && ep1.conditions.serving === true;
  });
  // The kubelet finishes the deletion: the slice for the two-port set goes away.
  assert.equal((await s.req('DELETE', `/api/v1/namespaces/${NS}/pods/web-1`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })).status, 200);
  await waitFor('one slice left', async () => (await slicesOf(NS, 'web')).length === 1);

  // The Service goes: its Endpoints are deleted by the controller.
  assert.equal((await s.req('DELETE', `/api/v1/namespaces/${NS}/services/web`)).status, 200);
  await waitFor('endpoints deleted', async () => (await s.req('GET', `/api/v1/namespaces/${NS}/endpoints/web`)).status === 404);
});

test('headless services, publishNotReadyAddresses and hostnames', async () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' } } };
  assert.equal((await s.req('POST', `/api/v1/namespaces/${NS}/services`, svc)).status, 201);
  await createPod(NS, pod('db-0', { app: 'db' }, { hostname: 'db-0', subdomain: 'db' }), '10.244.2.10', true);
  const ep = await waitFor('headless endpoints', async () => {
    const e = await getEndpoints(NS, 'db');
    return e?.subsets?.[0]?.addresses?.length === 1 && e;
  });
  assert.deepEqual(ep.metadata.labels, { 'service.kubernetes.io/headless': '' });
  assert.equal(ep.subsets[0].ports, undefined, 'a headless service without ports has subsets without ports');
  assert.equal(ep.subsets[0].addresses[0].hostname, 'db-0');
  const [slice] = await waitFor('headless slice', async () => {
    const l = await slicesOf(NS, 'db');
    return l.length === 1 && l[0].endpoints?.length === 1 && l;
  });
  assert.equal(slice.metadata.labels['service.kubernetes.io/headless'], '');
  assert.equal(slice.endpoints[0].hostname, 'db-0');

  // publishNotReadyAddresses: an unready pod is listed as ready.
  const pub = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'pub' },
    spec: { publishNotReadyAddresses: true, selector: { app: 'pub' }, ports: [{ port: 80 }] },
  };
  assert.equal((await s.req('POST', `/api/v1/namespaces/${NS}/services`, pub)).status, 201);
  await createPod(NS, pod('pub-0', { app: 'pub' }), '10.244.2.20', false);
  const pe = await waitFor('published endpoints', async () => {
    const e = await getEndpoints(NS, 'pub');
    return e?.subsets?.length === 1 && e;
  });
  assert.deepEqual(pe.subsets[0].addresses.map((a: any) => a.ip), ['10.244.2.20']);
  assert.deepEqual(pe.subsets[0].ports, [{ port: 80, protocol: 'TCP' }]);
});

test('services without a selector are left alone; a service with no pods gets an empty Endpoints and a placeholder slice', async () => {
  const manual = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db' }, spec: { ports: [{ port: 5432 }] } };
  assert.equal((await s.req('POST', `/api/v1/namespaces/${NS}/services`, manual)).status, 201);
  const userEp = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'external-db' },
    subsets: [{ addresses: [{ ip: '192.168.0.50' }], ports: [{ port: 5432 }] }],
  };
  const created = await s.req('POST', `/api/v1/namespaces/${NS}/endpoints`, userEp);
  assert.equal(created.status, 201, created.text);

  // A later service with a selector but no pods: once it has been handled, the earlier one was too.
  const empty = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } };
  assert.equal((await s.req('POST', `/api/v1/namespaces/${NS}/services`, empty)).status, 201);
  const ee = await waitFor('empty endpoints', async () => getEndpoints(NS, 'empty'));
  assert.deepEqual(ee.subsets ?? [], []);
  const [placeholder] = await waitFor('placeholder slice', async () => {
    const l = await slicesOf(NS, 'empty');
    return l.length === 1 && l;
  });
  assert.deepEqual(placeholder.endpoints ?? [], []);
  await waitFor('no slices for the selector-less service', async () => (await slicesOf(NS, 'external-db')).length === 0);

  const now = await getEndpoints(NS, 'external-db');
  assert.equal(now.metadata.resourceVersion, created.body.metadata.resourceVersion);
  assert.deepEqual(now.subsets, created.body.subsets);

  // The API server's own `kubernetes` slice stays as it is.
  const k = await slicesOf('default', 'kubernetes');
  assert.equal(k.length, 1);
  assert.equal(k[0].metadata.name, 'kubernetes');
});

test('slice planning: at most N endpoints a slice, endpoints stay where they are', () => {
  const svc = { metadata: { name: 'big', namespace: 'x', uid: 'u1', labels: {} }, spec: { clusterIP: '10.96.0.9', selector: { a: 'b' } } };
  const ep = (i: number): SliceEndpoint => ({ addresses: [`10.0.0.${i}`], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: `p${i}`, uid: `uid${i}` } });
  const ports = [{ name: '', port: 80, protocol: 'TCP' }];
  const desired = (ids: number[]) => new Map([['/80/TCP/', { ports, endpoints: new Map(ids.map((i) => [`uid${i}|10.0.0.${i}`, ep(i)])) }]]);
  const first = planSlices(svc as any, 'IPv4', desired([1, 2, 3, 4, 5]), [], { maxPerSlice: 2, placeholder: true });
  assert.deepEqual(first.create.map((x) => x.endpoints.length), [2, 2, 1]);
  assert.equal(first.update.length + first.delete.length, 0);

  // Existing slices: A holds 1,2; B holds 3,4; C holds 5. Pod 3 goes, pod 6 comes.
  const existing = first.create.map((x, i) => ({ ...x, metadata: { ...x.metadata, name: `s${i}`, uid: `su${i}` } }));
  const second = planSlices(svc as any, 'IPv4', desired([1, 2, 4, 5, 6]), existing, { maxPerSlice: 2, placeholder: true });
  assert.equal(second.create.length, 0, 'pod 6 fills the room pod 3 left');
  assert.equal(second.delete.length, 0);
  assert.deepEqual(second.update.map((x) => [x.metadata.name, x.endpoints.map((e: SliceEndpoint) => e.targetRef!.name)]), [['s1', ['p4', 'p6']]]);

  // Nothing changed: nothing to do.
  const third = planSlices(svc as any, 'IPv4', desired([1, 2, 3, 4, 5]), existing, { maxPerSlice: 2, placeholder: true });
  assert.deepEqual([third.create.length, third.update.length, third.delete.length], [0, 0, 0]);

  // No endpoints at all: the slices go and one placeholder is created.
  const fourth = planSlices(svc as any, 'IPv4', new Map(), existing, { maxPerSlice: 2, placeholder: true });
  assert.equal(fourth.delete.length, 3);
  assert.deepEqual(fourth.create.map((x) => [x.endpoints, x.ports]), [[[], null]]);
});

test('endpoints repacking and truncation at 1000 addresses', () => {
  const a = (ip: string) => ({ ip, targetRef: { kind: 'Pod', name: ip, uid: ip } });
  const packed = repackSubsets([
    { addresses: [a('10.0.0.2')], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { addresses: [a('10.0.0.2')], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
    { notReadyAddresses: [a('10.0.0.1')], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { notReadyAddresses: [a('10.0.0.1')], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
  ]);
  assert.deepEqual(packed, [
    {
      addresses: [a('10.0.0.2')],
      notReadyAddresses: [a('10.0.0.1')],
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 443, protocol: 'TCP' },
      ],
    },
  ]);
  const many = Array.from({ length: 1200 }, (_, i) => a(`10.1.${i >> 8}.${i & 255}`));
  const subsets = [{ addresses: many.slice(0, 900), notReadyAddresses: many.slice(900), ports: [{ port: 80, protocol: 'TCP' }] }];
  assert.equal(truncateSubsets(subsets), true);
  assert.equal(subsets[0]!.addresses!.length, 900, 'ready addresses are kept first');
  assert.equal(subsets[0]!.notReadyAddresses!.length, 100);
  assert.equal(truncateSubsets([{ addresses: many.slice(0, 10) }]), false);
});
