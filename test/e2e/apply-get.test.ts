// kubectl e2e: create -f / apply -f (client-side apply, multi-document files, directories)
// and every `get` output form users rely on, with kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();

const nsOf = (v: string) => `e2e-get-${v.replace('.', '-')}`;

function manifests(ns: string, cmValue: string): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
  labels: {env: prod, tier: web}
data:
  mode: "${cmValue}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {env: dev, app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: ${ns}
  labels: {env: a, app: solo}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
`;
}

describe('kubectl create/apply/get', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = nsOf(v);

    test(`kubectl ${v}: create -f a multi-document file, then apply twice`, async () => {
      const f = await c.file(`${v}/all.yaml`, manifests(ns, 'one'));
      const created = await c.ok(v, ['create', '-f', f]);
      assert.equal(created, `namespace/${ns} created\nconfigmap/settings created\ndeployment.apps/web created\npod/solo created\n`);

      // Creating again: AlreadyExists for each object, exit code 1.
      const again = await c.kubectl(v, ['create', '-f', f]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Error from server \(AlreadyExists\): error when creating ".*all\.yaml": configmaps "settings" already exists/);

      // First apply on objects made by create: kubectl warns and patches the annotation in.
      const a1 = await c.kubectl(v, ['apply', '-f', f]);
      assert.equal(a1.code, 0, a1.stderr);
      assert.match(a1.stdout, /^configmap\/settings configured$/m);
      assert.match(a1.stderr, /Warning: resource configmaps\/settings is missing the kubectl\.kubernetes\.io\/last-applied-configuration annotation/);

      // An edited file: apply updates the changed object, leaves the rest unchanged.
      await c.file(`${v}/all.yaml`, manifests(ns, 'two'));
      const a2 = await c.ok(v, ['apply', '-f', f]);
      assert.match(a2, /^namespace\/\S+ unchanged$/m);
      assert.match(a2, /^configmap\/settings configured$/m);
      assert.match(a2, /^deployment\.apps\/web unchanged$/m);
      assert.match(a2, /^pod\/solo unchanged$/m);
      assert.equal(await c.ok(v, ['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.data.mode}']), 'two');
      const ann = await c.ok(v, ['get', 'cm', 'settings', '-n', ns, '-o', "jsonpath={.metadata.annotations['kubectl\\.kubernetes\\.io/last-applied-configuration']}"]);
      assert.equal((JSON.parse(ann) as { data: { mode: string } }).data.mode, 'two');
    });

    test(`kubectl ${v}: apply -f a directory creates every file's objects`, async () => {
      await c.file(`${v}/dir/a.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-a\n  namespace: ${ns}\ndata: {k: a}\n`);
      await c.file(`${v}/dir/b.json`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dir-b', namespace: ns }, data: { k: 'b' } }));
      const out = await c.ok(v, ['apply', '-f', `${c.tmp}/${v}/dir`]);
      assert.equal(out, 'configmap/dir-a created\nconfigmap/dir-b created\n');
      const again = await c.ok(v, ['apply', '-f', `${c.tmp}/${v}/dir`]);
      assert.equal(again, 'configmap/dir-a unchanged\nconfigmap/dir-b unchanged\n');
      // Removing a key from the file removes it from the object (three-way merge).
      await c.file(`${v}/dir/a.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-a\n  namespace: ${ns}\ndata: {j: x}\n`);
      assert.equal(await c.ok(v, ['apply', '-f', `${c.tmp}/${v}/dir/a.yaml`]), 'configmap/dir-a configured\n');
      assert.equal(await c.ok(v, ['get', 'cm', 'dir-a', '-n', ns, '-o', 'jsonpath={.data}']), '{"j":"x"}');
    });

    test(`kubectl ${v}: get tables, wide, --show-labels and -L`, async () => {
      const pods = table(await c.ok(v, ['get', 'pods', '-n', ns]));
      assert.deepEqual(Object.keys(pods[0] ?? {}), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      const solo = pods.find((p) => p['NAME'] === 'solo');
      assert.ok(solo);
      assert.match(solo['READY']!, /^[01]\/1$/);
      assert.match(solo['STATUS']!, /^(Pending|ContainerCreating|Running)$/);
      assert.equal(solo['RESTARTS'], '0');

      const wide = await c.ok(v, ['get', 'pod', 'solo', '-n', ns, '-o', 'wide']);
      assert.deepEqual(wide.split('\n')[0]!.trim().split(/\s{2,}/), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);

      const deploy = await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'wide']);
      const d = table(deploy)[0]!;
      assert.deepEqual(Object.keys(d), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      assert.equal(d['CONTAINERS'], 'nginx');
      assert.equal(d['IMAGES'], 'nginx:1.25');
      assert.equal(d['SELECTOR'], 'app=web');
      assert.match(d['READY']!, /^\d\/2$/);

      const labels = table(await c.ok(v, ['get', 'pod', 'solo', '-n', ns, '--show-labels']))[0]!;
      assert.equal(labels['LABELS'], 'app=solo,env=a');

      const cols = table(await c.ok(v, ['get', 'cm', 'settings', '-n', ns, '-L', 'env', '-L', 'tier']))[0]!;
      assert.deepEqual(Object.keys(cols), ['NAME', 'DATA', 'AGE', 'ENV', 'TIER']);
      assert.equal(cols['ENV'], 'prod');
      assert.equal(cols['TIER'], 'web');
      assert.equal(cols['DATA'], '1');
    });

    test(`kubectl ${v}: label selectors and field selectors`, async () => {
      const names = async (args: string[]) => (await c.ok(v, ['get', ...args, '-n', ns, '-o', 'name'])).trim().split('\n').filter(Boolean).sort();
      assert.deepEqual(await names(['cm,pod', '-l', 'env=prod']), ['configmap/settings']);
      assert.deepEqual(await names(['cm,pod', '-l', 'env in (a,prod)']), ['configmap/settings', 'pod/solo']);
      const untiered = await names(['cm', '-l', '!tier']);
      assert.ok(untiered.includes('configmap/dir-a') && untiered.includes('configmap/dir-b'), untiered.join(' '));
      assert.ok(!untiered.includes('configmap/settings'), untiered.join(' '));
      assert.deepEqual(await names(['pod', '-l', 'env notin (a),app']), (await names(['pod', '-l', 'app'])).filter((n) => n !== 'pod/solo'));
      assert.deepEqual(await names(['pod', '--field-selector', 'metadata.name=solo']), ['pod/solo']);
      assert.deepEqual(await names(['pod', '--field-selector', 'metadata.name!=solo,metadata.name=solo']), []);
      const none = await c.ok(v, ['get', 'cm', '-n', ns, '-l', 'env=nothing']);
      assert.equal(none, '');
      const noneErr = await c.kubectl(v, ['get', 'cm', '-n', ns, '-l', 'env=nothing']);
      assert.equal(noneErr.stderr.trim(), `No resources found in ${ns} namespace.`);
      const bad = await c.kubectl(v, ['get', 'pods', '-n', ns, '--field-selector', 'spec.nothing=x']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Error from server \(BadRequest\): Unable to find "\/v1, Resource=pods" that match label selector "", field selector "spec\.nothing=x": field label not supported: spec\.nothing/);
    });

    test(`kubectl ${v}: -o yaml|json|name|jsonpath|custom-columns|go-template`, async () => {
      const yaml = await c.ok(v, ['get', 'cm', 'settings', '-n', ns, '-o', 'yaml']);
      assert.match(yaml, /^apiVersion: v1$/m);
      assert.match(yaml, /^kind: ConfigMap$/m);
      assert.match(yaml, /^ {2}name: settings$/m);
      assert.match(yaml, /^ {2}resourceVersion: "\d+"$/m);
      assert.match(yaml, /^ {2}uid: [0-9a-f-]{36}$/m);
      assert.match(yaml, /^ {2}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);

      const json = JSON.parse(await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'json'])) as Record<string, any>;
      assert.equal(json['kind'], 'Deployment');
      assert.equal(json['apiVersion'], 'apps/v1');
      assert.equal(json['spec'].replicas, 2);
      assert.equal(json['spec'].strategy.type, 'RollingUpdate');
      assert.equal(json['metadata'].generation, 1);

      const list = JSON.parse(await c.ok(v, ['get', 'cm', '-n', ns, '-o', 'json'])) as { kind: string; items: unknown[] };
      assert.equal(list.kind, 'List');
      assert.ok(list.items.length >= 3);

      assert.equal(await c.ok(v, ['get', 'deploy', '-n', ns, '-o', 'name']), 'deployment.apps/web\n');
      assert.equal(await c.ok(v, ['get', 'pods', '-n', ns, '-l', 'app=solo', '-o', 'jsonpath={.items[*].spec.containers[0].image}']), 'busybox:1.36');
      assert.equal(
        await c.ok(v, ['get', 'pods', '-n', ns, '-l', 'app=solo', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.metadata.labels.env}{"\\n"}{end}']),
        'solo:a\n',
      );

      const cc = await c.ok(v, ['get', 'pod', 'solo', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,NS:.metadata.namespace']);
      assert.deepEqual(table(cc), [{ NAME: 'solo', IMAGE: 'busybox:1.36', NS: ns }]);

      assert.equal(await c.ok(v, ['get', 'cm', 'settings', '-n', ns, '-o', 'go-template={{.metadata.name}}={{index .data "mode"}}']), 'settings=two');
      assert.equal(
        await c.ok(v, ['get', 'cm', '-n', ns, '-l', 'env', '-o', 'go-template={{range .items}}{{.metadata.name}} {{end}}']),
        'settings ',
      );
    });

    test(`kubectl ${v}: get -A shows the NAMESPACE column across namespaces`, async () => {
      const out = await c.ok(v, ['get', 'cm', '-A', '-l', 'env=prod']);
      const rows = table(out);
      assert.deepEqual(Object.keys(rows[0] ?? {}), ['NAMESPACE', 'NAME', 'DATA', 'AGE']);
      const mine = rows.filter((r) => r['NAME'] === 'settings').map((r) => r['NAMESPACE']);
      assert.ok(mine.includes(ns), out);
      const svc = table(await c.ok(v, ['get', 'svc', '--all-namespaces']));
      const k = svc.find((r) => r['NAME'] === 'kubernetes');
      assert.deepEqual(k && [k['NAMESPACE'], k['TYPE'], k['CLUSTER-IP'], k['EXTERNAL-IP'], k['PORT(S)']], ['default', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
    });
  }
});
