// kubectl e2e: a server restart on the same data dir keeps every object, resourceVersions
// keep growing, and a running `kubectl get -w` ends with a clear message instead of hanging
// or vanishing silently. kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Background, type Cluster } from './harness.js';

const skip = skipReason();

describe('kts server restart', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  test('objects survive a restart, resourceVersions keep growing, watches end clearly', async () => {
    const before: Record<string, { uid: string; rv: number; data: string }> = {};
    for (const v of VERSIONS) {
      const ns = `e2e-restart-${v.replace('.', '-')}`;
      const f = await c.file(
        `${v}/objs.yaml`,
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: ${ns}}\ndata: {v: "${v}"}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: nginx, image: nginx}]\n`,
      );
      await c.ok(v, ['apply', '-f', f]);
      const o = JSON.parse(await c.ok(v, ['get', 'cm', 'keep', '-n', ns, '-o', 'json'])) as { metadata: { uid: string; resourceVersion: string }; data: { v: string } };
      before[v] = { uid: o.metadata.uid, rv: Number(o.metadata.resourceVersion), data: o.data.v };
    }
    const listRV = Number((JSON.parse(await c.ok('1.32', ['get', '--raw', '/api/v1/configmaps'])) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    assert.ok(listRV > 0);

    // One running watch per kubectl version.
    const watches: [string, Background][] = VERSIONS.map((v) => [v, c.spawnKubectl(v, ['get', 'cm', '-w', '-n', `e2e-restart-${v.replace('.', '-')}`])]);
    try {
      for (const [, w] of watches) await w.waitFor(/^keep\s+1\s+/m);
      // Let every watch register before the server goes away.
      await new Promise((r) => setTimeout(r, 300));

      await c.restart();

      for (const [v, w] of watches) {
        const code = await Promise.race([w.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
        if (code === 'still running') {
          // Surviving is fine too: then it must see a change made after the restart.
          const ns = `e2e-restart-${v.replace('.', '-')}`;
          await c.ok(v, ['label', 'cm', 'keep', '-n', ns, 'after=restart']);
          await w.waitFor(/(^keep\s+1\s+.*$[\s\S]*){2}/m);
          continue;
        }
        // It ended: the server said why, and kubectl showed it.
        const said = w.stdout() + w.stderr();
        assert.match(said, /apiserver is shutting down/, `kubectl ${v} get -w ended without a clear message:\n${said}`);
        assert.match(w.stdout(), /^Failure\s+ServiceUnavailable\s+apiserver is shutting down$/m);
      }
    } finally {
      for (const [, w] of watches) await w.kill();
    }

    for (const v of VERSIONS) {
      const ns = `e2e-restart-${v.replace('.', '-')}`;
      const o = JSON.parse(await c.ok(v, ['get', 'cm', 'keep', '-n', ns, '-o', 'json'])) as { metadata: { uid: string; resourceVersion: string }; data: { v: string } };
      assert.equal(o.metadata.uid, before[v]!.uid, 'same object after restart');
      assert.equal(o.data.v, before[v]!.data);
      assert.ok(Number(o.metadata.resourceVersion) >= before[v]!.rv);
      assert.match(await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'name']), /^deployment\.apps\/web$/m);
      assert.match(await c.ok(v, ['get', 'ns', ns, '-o', 'jsonpath={.status.phase}']), /^Active$/);
      // A write after the restart gets a larger resourceVersion than anything before it.
      await c.ok(v, ['annotate', 'cm', 'keep', '-n', ns, `restarted=${v}`, '--overwrite']);
      const rv = Number(await c.ok(v, ['get', 'cm', 'keep', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']));
      assert.ok(rv > listRV, `resourceVersion ${rv} after restart is not above ${listRV} from before`);
      // A new watch from an old resourceVersion still works (history survives, or a clean 410).
      const created = JSON.parse(await c.ok(v, ['create', 'configmap', `fresh-${v.replace('.', '-')}`, '-n', ns, '-o', 'json'])) as { metadata: { resourceVersion: string } };
      assert.ok(Number(created.metadata.resourceVersion) > rv);
    }
    // The kubernetes Service and Endpoints follow the restarted server's address.
    const port = new URL(c.url).port;
    assert.equal(await c.ok('1.32', ['get', 'ep', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.subsets[0].ports[0].port}']), port);
  });
});
