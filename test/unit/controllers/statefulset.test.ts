// StatefulSet controller decisions without a server: ordinals and identity, new pods at the
// current or update revision (partition), claims and their retention-policy owners, the
// rolling update's next victim, status counts and revision hashing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../src/api/types.js';
import {
  claimOwnerRefs,
  claimsFor,
  computeReplicaCounts,
  identityMatches,
  newVersionedPod,
  parentAndOrdinal,
  partitionPods,
  rollingUpdateVictim,
  storageMatches,
} from '../../../src/controllers/statefulset/util.js';
import { controllerRevisionName, equalRevision, hashRevisionData, sortRevisions, templateOfRevision, templatePatch } from '../../../src/controllers/statefulset/history.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const NOW = new Date('2024-01-01T00:10:00Z');

function sts(spec: Json = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid' },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }], volumes: [{ name: 'cfg', configMap: { name: 'x' } }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      ...spec,
    },
  };
}
function rev(set: KObject, image: string, name: string, revision: number): KObject {
  const s = structuredClone(set);
  s.spec.template.spec.containers[0].image = image;
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name }, data: templatePatch(s), revision };
}
function pod(name: string, revision: string, ready = true, extra: Json = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { 'controller-revision-hash': revision }, ...extra },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
  };
}

describe('identity', () => {
  it('parses ordinals and builds pods with identity and storage', () => {
    assert.deepEqual(parentAndOrdinal(pod('my-web-12', 'r')), ['my-web', 12]);
    assert.deepEqual(parentAndOrdinal(pod('web', 'r')), ['', -1]);
    const set = sts();
    const cur = rev(set, 'v1', 'web-aaa', 1);
    const p = newVersionedPod(set, cur, cur, 2);
    assert.equal(p.metadata.name, 'web-2');
    assert.deepEqual(p.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-aaa' });
    assert.equal(p.spec.hostname, 'web-2');
    assert.equal(p.spec.subdomain, 'nginx');
    assert.deepEqual(p.spec.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-2' } }, { name: 'cfg', configMap: { name: 'x' } }]);
    assert.ok(identityMatches(set, p));
    assert.ok(storageMatches(set, p));
    const claim = claimsFor(set, 2).get('www')!;
    assert.equal(claim.metadata.name, 'www-web-2');
    assert.deepEqual(claim.metadata.labels, { app: 'web' });
  });

  it('honours spec.ordinals.start', () => {
    const set = sts({ ordinals: { start: 5 }, replicas: 2 });
    const { replicas, condemned } = partitionPods(set, [pod('web-5', 'r'), pod('web-0', 'r'), pod('web-7', 'r'), pod('web-6', 'r')]);
    assert.deepEqual(replicas.map((p) => p?.metadata.name), ['web-5', 'web-6']);
    assert.deepEqual(condemned.map((p) => p.metadata.name), ['web-7', 'web-0']);
  });
});

describe('revisions', () => {
  it('creates pods below the partition at the current revision', () => {
    const set = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    set.spec.template.spec.containers[0].image = 'v2';
    const cur = rev(set, 'v1', 'web-old', 1);
    const upd = rev(set, 'v2', 'web-new', 2);
    const p1 = newVersionedPod(set, cur, upd, 1);
    const p2 = newVersionedPod(set, cur, upd, 2);
    assert.equal(p1.spec.containers[0].image, 'v1');
    assert.equal(p1.metadata.labels?.['controller-revision-hash'], 'web-old');
    assert.equal(p2.spec.containers[0].image, 'v2');
    assert.equal(p2.metadata.labels?.['controller-revision-hash'], 'web-new');
  });

  it('hashes revision data stably, with collisionCount changing the name', () => {
    const set = sts();
    const d = templatePatch(set);
    assert.equal(d.spec && (d.spec as Json).template.$patch, 'replace');
    assert.equal((d.spec as Json).template.metadata.creationTimestamp, null);
    const h = hashRevisionData(d, 0);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(hashRevisionData(structuredClone(d), 0), h);
    assert.notEqual(hashRevisionData(d, 1), h);
    assert.notEqual(hashRevisionData(rev(set, 'v2', 'x', 1)['data'], 0), h);
    assert.equal(controllerRevisionName('web', h), `web-${h}`);
    assert.equal(controllerRevisionName('x'.repeat(300), 'h').length, 225);
    assert.ok(equalRevision(rev(set, 'v1', 'a', 1), rev(set, 'v1', 'b', 3)));
    assert.ok(!equalRevision(rev(set, 'v1', 'a', 1), rev(set, 'v2', 'b', 1)));
    assert.deepEqual(templateOfRevision(rev(set, 'v1', 'a', 1)), set.spec.template);
    const sorted = sortRevisions([rev(set, 'v1', 'c', 3), rev(set, 'v1', 'a', 1), rev(set, 'v1', 'b', 2)]);
    assert.deepEqual(sorted.map((r) => r.metadata.name), ['a', 'b', 'c']);
  });
});

describe('rolling update order', () => {
  it('replaces from the highest ordinal down to the partition, waiting for health', () => {
    const set = sts();
    assert.equal(rollingUpdateVictim(set, [pod('web-0', 'old'), pod('web-1', 'old'), pod('web-2', 'old')], 'new')?.metadata.name, 'web-2');
    assert.equal(rollingUpdateVictim(set, [pod('web-0', 'old'), pod('web-1', 'old'), pod('web-2', 'new')], 'new')?.metadata.name, 'web-1');
    // An updated pod that is not ready blocks further progress.
    assert.equal(rollingUpdateVictim(set, [pod('web-0', 'old'), pod('web-1', 'old'), pod('web-2', 'new', false)], 'new'), undefined);
    const part = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    assert.equal(rollingUpdateVictim(part, [pod('web-0', 'old'), pod('web-1', 'old'), pod('web-2', 'new')], 'new'), undefined);
  });

  it('counts status per revision', () => {
    const c = computeReplicaCounts(0, 'old', 'new', NOW, [pod('web-0', 'old'), pod('web-1', 'new', false), pod('web-2', 'new', true, { deletionTimestamp: '2024-01-01T00:00:00Z' })]);
    assert.deepEqual(c, { replicas: 3, readyReplicas: 2, availableReplicas: 2, currentReplicas: 1, updatedReplicas: 1 });
  });
});

describe('claim retention', () => {
  const claim = (refs: Json[] = []): KObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'www-web-1', ownerReferences: refs } });
  it('sets owners per whenDeleted / whenScaled', () => {
    const p = pod('web-1', 'r');
    assert.equal(claimOwnerRefs(claim(), sts(), p), undefined);
    const del = sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
    assert.deepEqual(claimOwnerRefs(claim(), del, p), [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' }]);
    const scaled = sts({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
    assert.deepEqual(claimOwnerRefs(claim(), scaled, p), [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'uid-web-1' }]);
    // Back to Retain: the owners go.
    assert.deepEqual(claimOwnerRefs(claim([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' }]), sts(), p), []);
  });
});
