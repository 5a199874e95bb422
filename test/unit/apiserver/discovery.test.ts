import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  compareKubeAwareVersions,
  negotiateDiscovery,
  storageVersionHash,
} from '../../../src/apiserver/discovery.js';
import { allDecls, deployments, pods } from './fixtures.js';

test('GET /api is APIVersions with the serving address, byte for byte as upstream', () => {
  assert.equal(
    JSON.stringify(apiVersions(allDecls, '10.0.0.1:6443')),
    '{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"10.0.0.1:6443"}]}',
  );
});

test('storageVersionHash matches upstream values', () => {
  // Values served by a real kube-apiserver.
  assert.equal(storageVersionHash('', 'v1', 'Pod'), 'xPOwRZ+Yhw8=');
  assert.equal(storageVersionHash('', 'v1', 'ConfigMap'), 'qFsyl6wFWjQ=');
  assert.equal(storageVersionHash('apps', 'v1', 'Deployment'), '8aSe+NMegvE=');
  assert.equal(storageVersionHash('', 'v1', 'Namespace'), 'Q3oi5N2YM8M=');
});

test('GET /api/v1 lists resources and subresources sorted by name, with upstream field order', () => {
  const list = apiResourceList(allDecls, '', 'v1')!;
  assert.deepEqual(
    list.resources.map((r) => r.name),
    ['bindings', 'componentstatuses', 'configmaps', 'namespaces', 'namespaces/status', 'pods', 'pods/binding', 'pods/eviction', 'pods/exec', 'pods/log', 'pods/status'],
  );
  const json = JSON.stringify(list);
  assert.ok(json.startsWith('{"kind":"APIResourceList","groupVersion":"v1","resources":['), json.slice(0, 80));
  const byName = Object.fromEntries(list.resources.map((r) => [r.name, JSON.stringify(r)]));
  assert.equal(byName['pods'], '{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"],"storageVersionHash":"xPOwRZ+Yhw8="}');
  assert.equal(byName['pods/binding'], '{"name":"pods/binding","singularName":"","namespaced":true,"kind":"Binding","verbs":["create"]}');
  assert.equal(byName['pods/eviction'], '{"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]}');
  assert.equal(byName['pods/exec'], '{"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]}');
  assert.equal(byName['pods/log'], '{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]}');
  assert.equal(byName['pods/status'], '{"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch","update"]}');
  // Not persisted: no storageVersionHash, as upstream.
  assert.equal(byName['bindings'], '{"name":"bindings","singularName":"binding","namespaced":true,"kind":"Binding","verbs":["create"]}');
  assert.equal(byName['componentstatuses'], '{"name":"componentstatuses","singularName":"componentstatus","namespaced":false,"kind":"ComponentStatus","verbs":["get","list"],"shortNames":["cs"]}');
  assert.equal(byName['namespaces'], '{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["ns"],"storageVersionHash":"Q3oi5N2YM8M="}');
});

test('GET /apis/apps/v1 carries apiVersion and the scale subresource as autoscaling/v1 Scale', () => {
  const list = apiResourceList(allDecls, 'apps', 'v1')!;
  assert.ok(JSON.stringify(list).startsWith('{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":['));
  assert.deepEqual(
    list.resources.map((r) => r.name),
    ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status'],
  );
  assert.equal(
    JSON.stringify(list.resources[1]),
    '{"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]}',
  );
  assert.equal(list.resources[0]!.storageVersionHash, '8aSe+NMegvE=');
  assert.equal(apiResourceList(allDecls, 'apps', 'v2'), undefined);
  assert.equal(apiResourceList(allDecls, 'nope', 'v1'), undefined);
});

test('GET /apis lists groups in kube-aggregator priority order, preferred version first', () => {
  const list = apiGroupList(allDecls);
  assert.equal(list.kind, 'APIGroupList');
  assert.equal(list.apiVersion, 'v1');
  assert.deepEqual(
    list.groups.map((g) => g.name),
    // apps 17800, events 17750, autoscaling 17500, batch 17400, rbac 17000, coordination 16500, CRDs 1000.
    ['apps', 'events.k8s.io', 'autoscaling', 'batch', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'stable.example.com'],
  );
  const autoscaling = list.groups.find((g) => g.name === 'autoscaling')!;
  assert.equal(
    JSON.stringify(autoscaling),
    '{"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v2","version":"v2"},{"groupVersion":"autoscaling/v1","version":"v1"}],"preferredVersion":{"groupVersion":"autoscaling/v2","version":"v2"}}',
  );
  // CRD versions follow kube-aware ordering: v1 before v1beta1 whatever the decl says.
  const crd = list.groups.find((g) => g.name === 'stable.example.com')!;
  assert.deepEqual(crd.versions.map((v) => v.version), ['v1', 'v1beta1']);
  assert.equal(crd.preferredVersion.version, 'v1');
});

test('GET /apis/<group> is an APIGroup; unknown groups are undefined (404)', () => {
  assert.equal(
    JSON.stringify(apiGroup(allDecls, 'apps')),
    '{"kind":"APIGroup","apiVersion":"v1","name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}',
  );
  assert.equal(apiGroup(allDecls, 'nope'), undefined);
});

test('kube-aware version ordering', () => {
  const sorted = ['v1beta1', 'v11alpha2', 'foo10', 'v2', 'v12alpha1', 'v10', 'v3beta1', 'foo1', 'v10beta3', 'v1', 'v11beta2'].sort(compareKubeAwareVersions);
  // The example from upstream's APIService versionPriority documentation.
  assert.deepEqual(sorted, ['v10', 'v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v1beta1', 'v12alpha1', 'v11alpha2', 'foo1', 'foo10']);
});

test('aggregated discovery for /apis: one item per group, resources with subresources', () => {
  const doc = aggregatedDiscovery(allDecls, 'apis', 'v2');
  assert.equal(doc.kind, 'APIGroupDiscoveryList');
  assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.deepEqual(doc.metadata, {});
  assert.deepEqual(doc.items.map((i) => i.metadata), apiGroupList(allDecls).groups.map((g) => ({ name: g.name, creationTimestamp: null })));
  const apps = doc.items[0]!;
  assert.equal(apps.versions.length, 1);
  assert.equal(apps.versions[0]!.freshness, 'Current');
  assert.equal(
    JSON.stringify(apps.versions[0]!.resources[0]),
    '{"resource":"deployments","responseKind":{"group":"","version":"","kind":"Deployment"},"scope":"Namespaced","singularResource":"deployment","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],"categories":["all"],' +
      '"subresources":[{"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get","patch","update"]},{"subresource":"status","responseKind":{"group":"","version":"","kind":"Deployment"},"verbs":["get","patch","update"]}]}',
  );
  const autoscaling = doc.items.find((i) => i.metadata.name === 'autoscaling')!;
  assert.deepEqual(autoscaling.versions.map((v) => v.version), ['v2', 'v1']);
  assert.equal(aggregatedDiscovery(allDecls, 'apis', 'v2beta1').apiVersion, 'apidiscovery.k8s.io/v2beta1');
});

test('aggregated discovery for /api: the core group without a name', () => {
  const doc = aggregatedDiscovery([pods, deployments], 'api', 'v2beta1');
  assert.equal(doc.items.length, 1);
  assert.equal(JSON.stringify(doc.items[0]!.metadata), '{"creationTimestamp":null}');
  const [pod] = doc.items[0]!.versions[0]!.resources as Record<string, unknown>[];
  assert.equal(pod!.resource, 'pods');
  assert.equal(pod!.scope, 'Namespaced');
  assert.deepEqual(
    (pod!.subresources as { subresource: string }[]).map((s) => s.subresource),
    ['binding', 'eviction', 'exec', 'log', 'status'],
  );
  assert.deepEqual(aggregatedDiscovery([deployments], 'api', 'v2').items, []);
});

test('negotiateDiscovery picks what each kubectl generation asks for', () => {
  const kubectl127 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  const kubectl130 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  assert.deepEqual(negotiateDiscovery(kubectl127), { version: 'v2beta1', contentType: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' });
  assert.deepEqual(negotiateDiscovery(kubectl130), { version: 'v2', contentType: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
  // Newer clients put a profile first; parameter order does not matter.
  assert.equal(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,application/json')?.version, 'v2');
  assert.equal(negotiateDiscovery('application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io')?.version, 'v2');
  // Legacy clients and browsers.
  assert.equal(negotiateDiscovery('application/json'), undefined);
  assert.equal(negotiateDiscovery('*/*'), undefined);
  assert.equal(negotiateDiscovery(undefined), undefined);
  // Protobuf aggregated discovery is not served; JSON legacy is the fallback.
  assert.equal(negotiateDiscovery('application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'), undefined);
  // Explicit q-values win over order.
  assert.equal(negotiateDiscovery('application/json;q=0.9,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')?.version, 'v2');
  assert.equal(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json'), undefined);
  assert.equal(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList'), undefined);
});
