// kubectl e2e: what a user sees first — version, cluster-info, api-resources, api-versions,
// health endpoints — with kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl discovery', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    test(`kubectl ${v}: version reports the server as v1.32`, async () => {
      const out = await c.ok(v, ['version']);
      if (v === '1.27') {
        // 1.27 still prints the long version.Info form by default.
        assert.match(out, /^Server Version: version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.0\+kts"/m);
      } else {
        assert.match(out, new RegExp(`^Client Version: v${v.replace('.', '\\.')}\\.\\d+$`, 'm'));
        assert.match(out, /^Server Version: v1\.32\.0\+kts$/m);
      }
      const json = JSON.parse(await c.ok(v, ['version', '-o', 'json'])) as { serverVersion: { major: string; minor: string; gitVersion: string } };
      assert.equal(json.serverVersion.major, '1');
      assert.equal(json.serverVersion.minor, '32');
    });

    test(`kubectl ${v}: cluster-info names the control plane URL`, async () => {
      const out = await c.ok(v, ['cluster-info']);
      // kubectl colours the line; strip ANSI escapes before matching.
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      assert.match(plain, new RegExp(`^Kubernetes control plane is running at ${c.url.replace(/[.]/g, '\\.')}$`, 'm'));
      assert.match(plain, /To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'\./);
    });

    test(`kubectl ${v}: api-resources lists resources with upstream short names`, async () => {
      const out = await c.ok(v, ['api-resources']);
      const header = out.split('\n')[0]!.trim().split(/\s+/);
      assert.deepEqual(header, ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
      const rows = table(out);
      const byName = (name: string, apiVersion?: string) => {
        const r = rows.find((x) => x['NAME'] === name && (!apiVersion || x['APIVERSION'] === apiVersion));
        assert.ok(r, `api-resources has no ${name} ${apiVersion ?? ''}:\n${out}`);
        return r;
      };
      const expect: [string, string, string, string, string][] = [
        ['pods', 'po', 'v1', 'true', 'Pod'],
        ['services', 'svc', 'v1', 'true', 'Service'],
        ['configmaps', 'cm', 'v1', 'true', 'ConfigMap'],
        ['namespaces', 'ns', 'v1', 'false', 'Namespace'],
        ['nodes', 'no', 'v1', 'false', 'Node'],
        ['endpoints', 'ep', 'v1', 'true', 'Endpoints'],
        ['serviceaccounts', 'sa', 'v1', 'true', 'ServiceAccount'],
        ['persistentvolumes', 'pv', 'v1', 'false', 'PersistentVolume'],
        ['persistentvolumeclaims', 'pvc', 'v1', 'true', 'PersistentVolumeClaim'],
        ['replicationcontrollers', 'rc', 'v1', 'true', 'ReplicationController'],
        ['componentstatuses', 'cs', 'v1', 'false', 'ComponentStatus'],
        ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment'],
        ['replicasets', 'rs', 'apps/v1', 'true', 'ReplicaSet'],
        ['daemonsets', 'ds', 'apps/v1', 'true', 'DaemonSet'],
        ['statefulsets', 'sts', 'apps/v1', 'true', 'StatefulSet'],
        ['ingresses', 'ing', 'networking.k8s.io/v1', 'true', 'Ingress'],
        ['networkpolicies', 'netpol', 'networking.k8s.io/v1', 'true', 'NetworkPolicy'],
        ['horizontalpodautoscalers', 'hpa', 'autoscaling/v2', 'true', 'HorizontalPodAutoscaler'],
        ['cronjobs', 'cj', 'batch/v1', 'true', 'CronJob'],
        ['jobs', '', 'batch/v1', 'true', 'Job'],
        ['customresourcedefinitions', 'crd,crds', 'apiextensions.k8s.io/v1', 'false', 'CustomResourceDefinition'],
        ['roles', '', 'rbac.authorization.k8s.io/v1', 'true', 'Role'],
        ['clusterroles', '', 'rbac.authorization.k8s.io/v1', 'false', 'ClusterRole'],
        ['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass'],
      ];
      for (const [name, short, apiVersion, namespaced, kind] of expect) {
        const r = byName(name, apiVersion);
        assert.deepEqual([r['SHORTNAMES'], r['APIVERSION'], r['NAMESPACED'], r['KIND']], [short, apiVersion, namespaced, kind], `row for ${name}`);
      }
      // Short names resolve in get.
      const ns = await c.ok(v, ['get', 'ns', '-o', 'name']);
      assert.match(ns, /^namespace\/default$/m);
      await c.ok(v, ['get', 'deploy,rs,ds,sts,cm,ep,sa,pvc,ing,hpa,cj,netpol', '-n', 'default']);
      await c.ok(v, ['get', 'no,pv,crd']);
    });

    test(`kubectl ${v}: api-resources --namespaced=false lists only cluster-scoped resources`, async () => {
      const out = await c.ok(v, ['api-resources', '--namespaced=false']);
      const rows = table(out);
      assert.ok(rows.length > 5, out);
      for (const r of rows) assert.equal(r['NAMESPACED'], 'false', `${r['NAME']} is namespaced`);
      const names = rows.map((r) => r['NAME']);
      for (const n of ['namespaces', 'nodes', 'persistentvolumes', 'customresourcedefinitions', 'clusterroles', 'storageclasses']) assert.ok(names.includes(n), `${n} missing`);
      assert.ok(!names.includes('pods'));
      // -o name: resource.group, as scripts use it.
      const byName = await c.ok(v, ['api-resources', '--namespaced=true', '-o', 'name']);
      assert.match(byName, /^pods$/m);
      assert.match(byName, /^deployments\.apps$/m);
    });

    test(`kubectl ${v}: api-versions lists group/versions`, async () => {
      const out = (await c.ok(v, ['api-versions'])).trim().split('\n');
      for (const gv of ['v1', 'apps/v1', 'batch/v1', 'autoscaling/v1', 'autoscaling/v2', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'apiextensions.k8s.io/v1', 'coordination.k8s.io/v1'])
        assert.ok(out.includes(gv), `${gv} missing from api-versions:\n${out.join('\n')}`);
      assert.deepEqual(out, [...out].sort(), 'api-versions is sorted');
    });

    test(`kubectl ${v}: get --raw health endpoints`, async () => {
      assert.equal(await c.ok(v, ['get', '--raw', '/healthz']), 'ok');
      assert.equal(await c.ok(v, ['get', '--raw', '/livez']), 'ok');
      const verbose = await c.ok(v, ['get', '--raw', '/readyz?verbose']);
      assert.match(verbose, /^\[\+\]ping ok$/m);
      assert.match(verbose, /^\[\+\]etcd ok$/m);
      assert.match(verbose, /^readyz check passed$/m);
      const one = await c.ok(v, ['get', '--raw', '/readyz/ping']);
      assert.equal(one, 'ok');
      const missing = await c.kubectl(v, ['get', '--raw', '/nonexistent']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /the server could not find the requested resource/);
    });
  }
});
