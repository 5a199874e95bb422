// StatefulSet controller end to end in one in-process server with 3 simulated nodes:
// ordered creation web-0, web-1, web-2 (each Ready before the next), claims created before
// their pods and kept, identity labels/hostname, ordered scale-down from the highest ordinal,
// and a partitioned rolling update.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STS = '/apis/apps/v1/namespaces/default/statefulsets';
const PODS = '/api/v1/namespaces/default/pods';

describe('StatefulSet controller', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ simulatedNodes: 3 });
  });
  after(async () => {
    await ts?.stop();
  });

  const webPods = async (): Promise<Json[]> => (await ts.req('GET', `${PODS}?labelSelector=app%3Dweb`)).body.items;

  it('creates web-0..2 in order with claims, scales down in reverse and keeps the claims', async () => {
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        serviceName: 'nginx',
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    assert.equal((await ts.req('POST', STS, set)).status, 201);
    await until('3 ready replicas', async () => (await ts.req('GET', `${STS}/web`)).body.status?.readyReplicas === 3);
    const ps = await webPods();
    assert.deepEqual(ps.map((p: Json) => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2']);
    for (const p of ps) {
      const ord = p.metadata.name.split('-')[1];
      assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], p.metadata.name);
      assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], ord);
      assert.equal(p.spec.hostname, p.metadata.name);
      assert.equal(p.spec.subdomain, 'nginx');
      assert.deepEqual(p.spec.volumes[0], { name: 'www', persistentVolumeClaim: { claimName: `www-web-${ord}` } });
      assert.match(p.metadata.labels['controller-revision-hash'], /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    }
    const pvcs = (await ts.req('GET', '/api/v1/namespaces/default/persistentvolumeclaims')).body.items.map((c: Json) => c.metadata.name).sort();
    assert.deepEqual(pvcs, ['www-web-0', 'www-web-1', 'www-web-2']);
    const st = (await ts.req('GET', `${STS}/web`)).body.status;
    assert.equal(st.replicas, 3);
    assert.equal(st.currentReplicas, 3);
    assert.equal(st.updatedReplicas, 3);
    assert.equal(st.availableReplicas, 3);
    assert.equal(st.currentRevision, st.updateRevision);
    assert.equal(st.collisionCount, 0);
    const evs = (await ts.req('GET', '/api/v1/namespaces/default/events')).body.items.filter((e: Json) => e.involvedObject.name === 'web' && e.involvedObject.kind === 'StatefulSet');
    const msgs = evs.map((e: Json) => `${e.reason}: ${e.message}`);
    assert.ok(msgs.includes('SuccessfulCreate: create Pod web-0 in StatefulSet web successful'), msgs.join('\n'));
    assert.ok(msgs.includes('SuccessfulCreate: create Claim www-web-0 Pod web-0 in StatefulSet web success'), msgs.join('\n'));

    // Scale down to 1: web-2 goes before web-1.
    await ts.req('PATCH', `${STS}/web/scale`, { spec: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' });
    const order: string[] = [];
    await until('only web-0 left', async () => {
      const p = await webPods();
      for (const x of p) if (x.metadata.deletionTimestamp && !order.includes(x.metadata.name)) order.push(x.metadata.name);
      return p.length === 1 && p[0].metadata.name === 'web-0';
    });
    if (order.length === 2) assert.deepEqual(order, ['web-2', 'web-1']);
    const pvcs2 = (await ts.req('GET', '/api/v1/namespaces/default/persistentvolumeclaims')).body.items.map((c: Json) => c.metadata.name).sort();
    assert.deepEqual(pvcs2, ['www-web-0', 'www-web-1', 'www-web-2']);
  });

  it('creates pods one at a time: web-1 waits for web-0 to be Ready', async () => {
    // Watch for the creation order when scaling back up to 3.
    const w = ts.watch(`${PODS}?watch=true&labelSelector=app%3Dweb&resourceVersion=${(await ts.req('GET', PODS)).body.metadata.resourceVersion}`);
    await ts.req('PATCH', `${STS}/web/scale`, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    await until('3 ready', async () => (await ts.req('GET', `${STS}/web`)).body.status?.readyReplicas === 3);
    const evs: Json[] = [];
    for (;;) {
      const got = await w.next(1, 1000).catch(() => []);
      if (!got.length) break;
      evs.push(...got);
    }
    w.close();
    const added = evs.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name);
    assert.deepEqual(added, ['web-1', 'web-2']);
    // When web-2 was added, web-1 was already Running and Ready.
    const idx2 = evs.findIndex((e) => e.type === 'ADDED' && e.object.metadata.name === 'web-2');
    const before1 = evs.slice(0, idx2).filter((e) => e.object.metadata.name === 'web-1');
    const last1 = before1[before1.length - 1]?.object;
    assert.equal(last1?.status?.phase, 'Running');
    assert.ok(last1.status.conditions.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
  });

  it('rolls out a partitioned update to ordinals at or above the partition only', async () => {
    await ts.req(
      'PATCH',
      `${STS}/web`,
      { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } } },
      { 'content-type': 'application/strategic-merge-patch+json' },
    );
    const st = await until('2 updated', async () => {
      const s = (await ts.req('GET', `${STS}/web`)).body.status;
      return s.updatedReplicas === 2 && s.readyReplicas === 3 && s;
    });
    assert.notEqual(st.currentRevision, st.updateRevision);
    assert.equal(st.currentReplicas, 1);
    const images = Object.fromEntries((await webPods()).map((p: Json) => [p.metadata.name, p.spec.containers[0].image]));
    assert.deepEqual(images, { 'web-0': 'nginx:1.25', 'web-1': 'nginx:1.26', 'web-2': 'nginx:1.26' });
    // Partition 0 finishes the rollout: the current revision becomes the update revision.
    await ts.req('PATCH', `${STS}/web`, { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, { 'content-type': 'application/merge-patch+json' });
    const done = await until('rolled out', async () => {
      const s = (await ts.req('GET', `${STS}/web`)).body.status;
      return s.updatedReplicas === 3 && s.readyReplicas === 3 && s.currentRevision === s.updateRevision && s;
    });
    assert.equal(done.currentReplicas, 3);
    const revs = (await ts.req('GET', '/apis/apps/v1/namespaces/default/controllerrevisions')).body.items.filter((c: Json) => c.metadata.ownerReferences?.[0]?.name === 'web');
    assert.deepEqual(revs.map((r: Json) => r.revision).sort(), [1, 2]);
  });

  it('deletes claims with the set when the retention policy says Delete', async () => {
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 1,
        podManagementPolicy: 'Parallel',
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    const created = (await ts.req('POST', STS, set)).body;
    const claim = await until('claim owned by the set', async () => {
      const c = (await ts.req('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data-db-0')).body;
      return c?.metadata?.ownerReferences?.some((r: Json) => r.kind === 'StatefulSet' && r.uid === created.metadata.uid) && c;
    });
    assert.ok(claim);
    await ts.req('DELETE', `${STS}/db`);
    await until('claim deleted', async () => (await ts.req('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data-db-0')).status === 404);
  });
});
