// API semantics through the real HTTPS path: status codes and reasons, optimistic
// concurrency, generation, subresources, finalizers, selectors, pagination, watch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { configMap, startTestServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.stop();
});

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, replicas = 2) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
    },
  };
}

test('create, get, AlreadyExists and NotFound use upstream status codes and reasons', async () => {
  const c = await s.req('POST', CM, configMap('a', { k: 'v' }));
  assert.equal(c.status, 201);
  assert.match(c.body.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(c.body.metadata.resourceVersion, /^\d+$/);
  assert.match(c.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const dup = await s.req('POST', CM, configMap('a'));
  assert.equal(dup.status, 409);
  assert.equal(dup.body.reason, 'AlreadyExists');
  assert.equal(dup.body.message, 'configmaps "a" already exists');
  const nf = await s.req('GET', `${CM}/nope`);
  assert.equal(nf.status, 404);
  assert.equal(nf.body.reason, 'NotFound');
  assert.equal(nf.body.message, 'configmaps "nope" not found');
  const nfApps = await s.req('GET', `${DEPLOY}/nope`);
  assert.equal(nfApps.body.message, 'deployments.apps "nope" not found');
});

test('invalid objects get 422 with field causes', async () => {
  const r = await s.req('POST', CM, configMap('Bad_Name'));
  assert.equal(r.status, 422);
  assert.equal(r.body.reason, 'Invalid');
  assert.match(r.body.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  assert.equal(r.body.details.causes[0].field, 'metadata.name');
  assert.equal(r.body.details.causes[0].reason, 'FieldValueInvalid');
});

test('bad input: malformed JSON is 400, a body over 3 MiB is 413, an unknown resource is 404', async () => {
  const bad = await s.req('POST', CM, '{"apiVersion": "v1", "kind": ');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.reason, 'BadRequest');
  const big = await s.req('POST', CM, configMap('big', { k: 'x'.repeat(3 * 1024 * 1024 + 10) }));
  assert.equal(big.status, 413);
  // Under the request limit but over what the store keeps (1.5 MiB): refused, nothing stored.
  const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
  const objTooBig = await s.req('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'big2' }, spec: { holderIdentity: 'x'.repeat(1600 * 1024) } });
  assert.equal(objTooBig.status, 413);
  assert.equal((await s.req('GET', LEASES + '/big2')).status, 404);
  const cmTooBig = await s.req('POST', CM, configMap('big3', { k: 'x'.repeat(1100 * 1024) }));
  assert.equal(cmTooBig.status, 422);
  assert.match(cmTooBig.body.message, /Too long: must have at most 1048576 bytes/);
  const unknown = await s.req('GET', '/api/v1/namespaces/default/widgets');
  assert.equal(unknown.status, 404);
  const health = await s.req('GET', '/healthz');
  assert.equal(health.text, 'ok');
});

test('a stale resourceVersion on update is a 409 Conflict; a current one succeeds', async () => {
  const c = await s.req('POST', CM, configMap('occ', { v: '1' }));
  const stale = structuredClone(c.body);
  const ok = await s.req('PUT', `${CM}/occ`, { ...c.body, data: { v: '2' } });
  assert.equal(ok.status, 200);
  assert.ok(Number(ok.body.metadata.resourceVersion) > Number(c.body.metadata.resourceVersion));
  const conflict = await s.req('PUT', `${CM}/occ`, { ...stale, data: { v: '3' } });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.reason, 'Conflict');
  assert.equal(
    conflict.body.message,
    'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
  );
});

test('concurrent patches all land (the server retries its own conflicts)', async () => {
  await s.req('POST', CM, configMap('counter'));
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      s.req('PATCH', `${CM}/counter`, { data: { [`k${i}`]: String(i) } }, { 'content-type': 'application/merge-patch+json' }),
    ),
  );
  assert.ok(results.every((r) => r.status === 200));
  const got = await s.req('GET', `${CM}/counter`);
  assert.equal(Object.keys(got.body.data).length, 20);
});

test('generation bumps on spec changes only; status and scale subresources', async () => {
  const d = await s.req('POST', DEPLOY, deployment('gen'));
  assert.equal(d.status, 201);
  assert.equal(d.body.metadata.generation, 1);
  assert.equal(d.body.spec.strategy.rollingUpdate.maxSurge, '25%');
  assert.equal(d.body.spec.revisionHistoryLimit, 10);
  const labelOnly = await s.req('PATCH', `${DEPLOY}/gen`, { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(labelOnly.body.metadata.generation, 1);
  const spec = await s.req('PATCH', `${DEPLOY}/gen`, { spec: { replicas: 3 } }, { 'content-type': 'application/strategic-merge-patch+json' });
  assert.equal(spec.body.metadata.generation, 2);
  // Status writes through /status only (the deployment controller may be writing status too,
  // so compare with values no controller would produce).
  const viaMain = await s.req('PATCH', `${DEPLOY}/gen`, { status: { replicas: 77 } }, { 'content-type': 'application/merge-patch+json' });
  assert.notEqual(viaMain.body.status?.replicas, 77);
  const viaStatus = await s.req('PATCH', `${DEPLOY}/gen/status`, { status: { observedGeneration: 42 }, spec: { replicas: 9 } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(viaStatus.body.status.observedGeneration, 42);
  assert.equal(viaStatus.body.spec.replicas, 3);
  const scale = await s.req('GET', `${DEPLOY}/gen/scale`);
  assert.equal(scale.body.kind, 'Scale');
  assert.equal(scale.body.spec.replicas, 3);
  assert.equal(scale.body.status.selector, 'app=gen');
  const scaled = await s.req('PATCH', `${DEPLOY}/gen/scale`, { spec: { replicas: 5 } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(scaled.body.spec.replicas, 5);
  assert.equal((await s.req('GET', `${DEPLOY}/gen`)).body.spec.replicas, 5);
});

test('finalizers keep an object until they are removed', async () => {
  await s.req('POST', CM, { ...configMap('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
  const del = await s.req('DELETE', `${CM}/fin`);
  assert.equal(del.status, 200);
  const held = await s.req('GET', `${CM}/fin`);
  assert.equal(held.status, 200);
  assert.ok(held.body.metadata.deletionTimestamp);
  const addMore = await s.req('PATCH', `${CM}/fin`, { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(addMore.status, 422);
  const release = await s.req('PATCH', `${CM}/fin`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(release.status, 200);
  assert.equal((await s.req('GET', `${CM}/fin`)).status, 404);
});

test('delete preconditions: a wrong uid is a Conflict', async () => {
  await s.req('POST', CM, configMap('pre'));
  const r = await s.req('DELETE', `${CM}/pre`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-the-uid' } });
  assert.equal(r.status, 409);
  assert.match(r.body.message, /Precondition failed: UID in precondition: not-the-uid/);
});

test('label and field selectors, and bad selectors', async () => {
  await s.req('POST', CM, configMap('sel-a', {}, { env: 'prod', tier: 'web' }));
  await s.req('POST', CM, configMap('sel-b', {}, { env: 'dev' }));
  await s.req('POST', CM, configMap('sel-c', {}, { env: 'qa', tier: 'db' }));
  const names = async (q: string) =>
    ((await s.req('GET', `${CM}?${q}`)).body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name).filter((n) => n.startsWith('sel-'));
  assert.deepEqual(await names('labelSelector=env%3Dprod'), ['sel-a']);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent('env in (dev,qa)')}`), ['sel-b', 'sel-c']);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent('!tier')}`), ['sel-b']);
  assert.deepEqual(await names(`fieldSelector=${encodeURIComponent('metadata.name=sel-c')}`), ['sel-c']);
  const bad = await s.req('GET', `${CM}?fieldSelector=spec.nope%3Dx`);
  assert.equal(bad.status, 400);
  const badLabel = await s.req('GET', `${CM}?labelSelector=${encodeURIComponent('a in (')}`);
  assert.equal(badLabel.status, 400);
});

test('pagination with limit and continue reads one consistent snapshot', async () => {
  const ns = '/api/v1/namespaces/pages';
  assert.equal((await s.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pages' } })).status, 201);
  for (let i = 0; i < 25; i++) await s.req('POST', `${ns}/configmaps`, configMap(`p${String(i).padStart(2, '0')}`));
  const seen: string[] = [];
  let cont = '';
  let pages = 0;
  let rv = '';
  do {
    const r = await s.req('GET', `${ns}/configmaps?limit=10${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    assert.equal(r.status, 200);
    if (!rv) rv = r.body.metadata.resourceVersion;
    else assert.equal(r.body.metadata.resourceVersion, rv);
    seen.push(...r.body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
    cont = r.body.metadata.continue ?? '';
    if (pages === 0) {
      assert.ok(r.body.metadata.remainingItemCount >= 15);
      // Writes between pages do not show up in this list.
      await s.req('POST', `${ns}/configmaps`, configMap('p99-late'));
    }
    pages++;
  } while (cont);
  const ours = seen.filter((n) => n.startsWith('p'));
  assert.equal(ours.length, 25);
  assert.ok(!ours.includes('p99-late'));
  assert.ok(pages >= 3);
  const badToken = await s.req('GET', `${ns}/configmaps?limit=10&continue=garbage`);
  assert.equal(badToken.status, 400);
});

test('watch: initial ADDED events, then changes in order, filtered by selector', async () => {
  await s.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w1' } });
  const base = '/api/v1/namespaces/w1/configmaps';
  await s.req('POST', base, configMap('pre', {}, { w: 'yes' }));
  const w = s.watch(`${base}?watch=true&labelSelector=w%3Dyes`);
  const [first] = await w.next(1);
  assert.equal(first.type, 'ADDED');
  assert.equal(first.object.metadata.name, 'pre');
  await s.req('POST', base, configMap('x', {}, { w: 'yes' }));
  await s.req('POST', base, configMap('ignored', {}, { w: 'no' }));
  await s.req('PATCH', `${base}/x`, { data: { a: 'b' } }, { 'content-type': 'application/merge-patch+json' });
  await s.req('PATCH', `${base}/x`, { metadata: { labels: { w: 'no' } } }, { 'content-type': 'application/merge-patch+json' });
  await s.req('PATCH', `${base}/x`, { metadata: { labels: { w: 'yes' } } }, { 'content-type': 'application/merge-patch+json' });
  await s.req('DELETE', `${base}/x`);
  const evs = await w.next(5);
  assert.deepEqual(
    evs.map((e) => `${e.type}:${e.object.metadata.name}`),
    ['ADDED:x', 'MODIFIED:x', 'DELETED:x', 'ADDED:x', 'DELETED:x'],
  );
  const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual([...rvs].sort((a, b) => a - b), rvs);
  w.close();
});

test('watch from a resourceVersion replays what happened after it; timeoutSeconds ends the stream', async () => {
  const c = await s.req('POST', CM, configMap('rvw'));
  await s.req('PATCH', `${CM}/rvw`, { data: { a: '1' } }, { 'content-type': 'application/merge-patch+json' });
  await s.req('PATCH', `${CM}/rvw`, { data: { a: '2' } }, { 'content-type': 'application/merge-patch+json' });
  const w = s.watch(`${CM}?watch=1&resourceVersion=${c.body.metadata.resourceVersion}&fieldSelector=metadata.name%3Drvw&timeoutSeconds=1`);
  const evs = await w.next(2);
  assert.deepEqual(evs.map((e) => `${e.type}:${e.object.data.a}`), ['MODIFIED:1', 'MODIFIED:2']);
  await w.ended;
});

test('watch with sendInitialEvents ends the initial state with a bookmark', async () => {
  await s.req('POST', CM, configMap('sie'));
  const w = s.watch(`${CM}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dsie`);
  const evs = await w.next(2);
  assert.equal(evs[0].type, 'ADDED');
  assert.equal(evs[1].type, 'BOOKMARK');
  assert.equal(evs[1].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  w.close();
});

test('Table responses carry upstream columns', async () => {
  const r = await s.req('GET', DEPLOY, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
  assert.equal(r.body.kind, 'Table');
  assert.deepEqual(
    r.body.columnDefinitions.map((c: { name: string }) => c.name),
    ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector'],
  );
  const svc = await s.req('GET', '/api/v1/namespaces/default/services', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const row = svc.body.rows.find((x: { cells: unknown[] }) => x.cells[0] === 'kubernetes');
  assert.deepEqual(row.cells.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
});

test('services get distinct cluster IPs and node ports, released on delete', async () => {
  const svc = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80 }], ...extra },
  });
  const SVC = '/api/v1/namespaces/default/services';
  const created = await Promise.all(Array.from({ length: 20 }, (_, i) => s.req('POST', SVC, svc(`ip${i}`, { type: 'NodePort' }))));
  assert.ok(created.every((r) => r.status === 201), JSON.stringify(created.find((r) => r.status !== 201)?.body));
  const ips = new Set(created.map((r) => r.body.spec.clusterIP));
  const ports = new Set(created.map((r) => r.body.spec.ports[0].nodePort));
  assert.equal(ips.size, 20);
  assert.equal(ports.size, 20);
  for (const r of created) {
    assert.match(r.body.spec.clusterIP, /^10\.(9[6-9]|1[01]\d)\./);
    assert.equal(r.body.spec.ports[0].targetPort, 80);
    assert.ok(r.body.spec.ports[0].nodePort >= 30000 && r.body.spec.ports[0].nodePort <= 32767);
  }
  const taken = created[0]!.body.spec.clusterIP;
  const clash = await s.req('POST', SVC, svc('clash', { clusterIP: taken }));
  assert.equal(clash.status, 422);
  assert.match(clash.body.message, /provided IP is already allocated/);
  await s.req('DELETE', `${SVC}/ip0`);
  const reuse = await s.req('POST', SVC, svc('reuse', { clusterIP: taken }));
  assert.equal(reuse.status, 201);
  const headless = await s.req('POST', SVC, svc('headless', { clusterIP: 'None' }));
  assert.equal(headless.body.spec.clusterIP, 'None');
});

test('creating in a missing or terminating namespace is refused', async () => {
  const missing = await s.req('POST', '/api/v1/namespaces/ghost/configmaps', configMap('x'));
  assert.equal(missing.status, 404);
  assert.equal(missing.body.message, 'namespaces "ghost" not found');
  await s.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  // A finalizer keeps something in the namespace, so it stays Terminating for this check.
  await s.req('POST', '/api/v1/namespaces/doomed/configmaps', { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  const del = await s.req('DELETE', '/api/v1/namespaces/doomed');
  assert.equal(del.status, 200);
  assert.equal(del.body.status.phase, 'Terminating');
  const refused = await s.req('POST', '/api/v1/namespaces/doomed/configmaps', configMap('y'));
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /unable to create new content in namespace doomed because it is being terminated/);
  await s.req('PATCH', '/api/v1/namespaces/doomed/configmaps/held', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
  for (let i = 0; i < 100; i++) {
    if ((await s.req('GET', '/api/v1/namespaces/doomed')).status === 404) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await s.req('GET', '/api/v1/namespaces/doomed')).status, 404);
  const system = await s.req('DELETE', '/api/v1/namespaces/kube-system');
  assert.equal(system.status, 403);
});

test('anonymous requests may read /healthz and /version only', async () => {
  const https = await import('node:https');
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: s.server.port, path, ca: s.server.pki.caCert }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
  assert.equal(await get('/version'), 200);
  assert.equal(await get('/healthz'), 200);
  assert.equal(await get('/api/v1/namespaces'), 403);
});

test('access and identity reviews are answered, not stored', async () => {
  const ssar = await s.req('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default' } },
  });
  assert.equal(ssar.status, 201);
  assert.equal(ssar.body.status.allowed, true);
  const who = await s.req('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  assert.equal(who.body.status.userInfo.username, 'kubernetes-admin');
  assert.ok(who.body.status.userInfo.groups.includes('system:masters'));
  const list = await s.req('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
  assert.equal(list.status, 405);
});

test('pods get their priority from their PriorityClass; an unknown class is refused', async () => {
  const pc = await s.req('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
  assert.equal(pc.status, 201);
  const pod = (name: string, cls: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { priorityClassName: cls, containers: [{ name: 'c', image: 'nginx' }] },
  });
  const ok = await s.req('POST', '/api/v1/namespaces/default/pods', pod('prio', 'high'));
  assert.equal(ok.status, 201);
  assert.equal(ok.body.spec.priority, 1000);
  const bad = await s.req('POST', '/api/v1/namespaces/default/pods', pod('prio2', 'nope'));
  assert.equal(bad.status, 403);
  assert.equal(bad.body.message, 'pods "prio2" is forbidden: no PriorityClass with name nope was found');
  const sys = await s.req('GET', '/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical');
  assert.equal(sys.body.value, 2000001000);
});

test('a uid in an update or patch is a precondition', async () => {
  await s.req('POST', CM, configMap('uidpre'));
  const r = await s.req('PATCH', `${CM}/uidpre`, { metadata: { uid: 'abc' }, data: { a: 'b' } }, { 'content-type': 'application/merge-patch+json' });
  assert.equal(r.status, 409);
  assert.match(r.body.message, /Precondition failed: UID in precondition: abc, UID in object meta: /);
});

test('componentstatuses report real health, with upstream\'s deprecation warning', async () => {
  const r = await s.req('GET', '/api/v1/componentstatuses');
  assert.equal(r.status, 200);
  assert.equal(r.headers['warning'], '299 - "v1 ComponentStatus is deprecated in v1.19+"');
  const etcd = r.body.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'etcd-0');
  assert.equal(etcd.conditions[0].status, 'True');
});
