// kubectl e2e: server-side apply with field managers, conflicts and --force-conflicts;
// kubectl diff (client- and server-side); apply --prune -l; view/set/edit-last-applied;
// and @kubernetes/client-node applying a custom resource — with kubectl 1.27, 1.32, 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

const deployment = (ns: string, replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: "${image}"
        ports: [{containerPort: 80}]
`;

describe('kubectl apply --server-side, diff, prune, last-applied', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-ssa-${v.replace('.', '-')}`;

    test(`kubectl ${v}: two field managers, conflict, --force-conflicts`, async () => {
      await c.ok(v, ['create', 'namespace', ns]);
      const one = await c.file(`${v}/one.yaml`, deployment(ns, 1));
      const two = await c.file(`${v}/two.yaml`, deployment(ns, 2));
      assert.equal((await c.ok(v, ['apply', '--server-side', '--field-manager=a', '-f', one])).trim(), 'deployment.apps/web serverside-applied');
      const r = await c.kubectl(v, ['apply', '--server-side', '--field-manager=b', '-f', two]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^error: Apply failed with 1 conflict: conflict with "a": \.spec\.replicas\n/);
      assert.match(r.stderr, /--force-conflicts/);
      await c.ok(v, ['apply', '--server-side', '--field-manager=b', '--force-conflicts', '-f', two]);
      assert.equal(await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '2');
      // managedFields are hidden by default and shown on request.
      assert.doesNotMatch(await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'yaml']), /managedFields/);
      const shown = await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'yaml', '--show-managed-fields']);
      assert.match(shown, /manager: a\n\s+operation: Apply/);
      assert.match(shown, /manager: b\n\s+operation: Apply/);
      assert.match(shown, /k:\{"containerPort":80,"protocol":"TCP"\}:/);
      const back = await c.kubectl(v, ['apply', '--server-side', '--field-manager=a', '-f', one]);
      assert.match(back.stderr, /conflict with "b": \.spec\.replicas/);
    });

    test(`kubectl ${v}: diff shows the change before apply (client- and server-side)`, async () => {
      const img = await c.file(`${v}/img.yaml`, deployment(ns, 2, 'nginx:1.26'));
      for (const args of [['diff', '-f', img], ['diff', '--server-side', '--field-manager=b', '--force-conflicts', '-f', img]]) {
        const r = await c.kubectl(v, args);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stdout, /^-\s+- image: nginx:1\.25$/m);
        assert.match(r.stdout, /^\+\s+- image: nginx:1\.26$/m);
      }
      assert.equal(await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25');
    });

    test(`kubectl ${v}: client-side apply --prune -l removes objects no longer in the file`, async () => {
      const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}, labels: {app: x}}\ndata: {k: "${name}"}\n`;
      const both = await c.file(`${v}/both.yaml`, `${cm('p1')}---\n${cm('p2')}`);
      const only = await c.file(`${v}/only.yaml`, cm('p1'));
      await c.ok(v, ['apply', '-f', both]);
      const out = await c.ok(v, ['apply', '--prune', '-l', 'app=x', '-n', ns, '-f', only]);
      assert.match(out, /configmap\/p2 pruned/);
      const names = await c.ok(v, ['get', 'cm', '-n', ns, '-l', 'app=x', '-o', 'name']);
      assert.equal(names.trim(), 'configmap/p1');

      // view-last-applied / set-last-applied / edit-last-applied
      const view = await c.ok(v, ['apply', 'view-last-applied', 'configmap/p1', '-n', ns, '-o', 'json']);
      assert.equal(JSON.parse(view).data.k, 'p1');
      const changed = await c.file(`${v}/changed.yaml`, cm('p1').replace('k: "p1"', 'k: "set"'));
      await c.ok(v, ['apply', 'set-last-applied', '-f', changed]);
      assert.equal(JSON.parse(await c.ok(v, ['apply', 'view-last-applied', 'configmap/p1', '-n', ns, '-o', 'json'])).data.k, 'set');
      await c.ok(v, ['apply', 'edit-last-applied', 'configmap/p1', '-n', ns], { env: { KUBE_EDITOR: 'sed -i s/set/edited/' } });
      assert.equal(JSON.parse(await c.ok(v, ['apply', 'view-last-applied', 'configmap/p1', '-n', ns, '-o', 'json'])).data.k, 'edited');
      // The live data was not touched by the last-applied commands.
      assert.equal(await c.ok(v, ['get', 'cm', 'p1', '-n', ns, '-o', 'jsonpath={.data.k}']), 'p1');
    });

    test(`kubectl ${v}: moving from client-side to server-side apply needs no force`, async () => {
      const f = await c.file(`${v}/csa.yaml`, deployment(ns, 1).replace('name: web,', 'name: csa,'));
      await c.ok(v, ['apply', '-f', f]);
      const g = await c.file(`${v}/csa3.yaml`, deployment(ns, 3).replace('name: web,', 'name: csa,'));
      await c.ok(v, ['apply', '--server-side', '-f', g]);
      assert.equal(await c.ok(v, ['get', 'deploy', 'csa', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '3');
      const last = JSON.parse(await c.ok(v, ['apply', 'view-last-applied', 'deploy/csa', '-n', ns, '-o', 'json']));
      assert.equal(last.spec.replicas, 3);
    });
  }

  test('@kubernetes/client-node applies a custom resource and reads it back', async () => {
    const crd = await c.file(
      'crd.yaml',
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.e2e.example.com}
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
`,
    );
    await c.ok('1.32', ['apply', '-f', crd]);
    await c.ok('1.32', ['wait', '--for=condition=Established', 'crd/gadgets.e2e.example.com']);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const obj = { apiVersion: 'e2e.example.com/v1', kind: 'Gadget', metadata: { name: 'g1', namespace: 'default' }, spec: { size: 3 } };
    let applied: k8s.KubernetesObject & { spec?: { size?: number } } | undefined;
    for (let i = 0; ; i++) {
      try {
        applied = await api.patch(obj, undefined, undefined, 'js-client', false, k8s.PatchStrategy.ServerSideApply);
        break;
      } catch (e) {
        // Discovery of the new group may take a moment.
        if (i > 40) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.equal(applied!.spec?.size, 3);
    assert.equal(applied!.metadata?.managedFields?.[0]?.manager, 'js-client');
    assert.equal(applied!.metadata?.managedFields?.[0]?.operation, 'Apply');
    const read = await api.read({ apiVersion: 'e2e.example.com/v1', kind: 'Gadget', metadata: { name: 'g1', namespace: 'default' } });
    assert.equal((read as { spec?: { size?: number } }).spec?.size, 3);
    // kubectl sees the client's ownership and conflicts on the field.
    const f = await c.file('g1.yaml', `apiVersion: e2e.example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {size: 4}\n`);
    const r = await c.kubectl('1.32', ['apply', '--server-side', '-f', f]);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "js-client": \.spec\.size/);
  });
});
