// @kubernetes/client-node (v1, the official JavaScript client) against an in-process
// `kts server` through its real HTTPS listener, authenticated with the kubeconfig the server
// writes: an informer (list + watch) sees add/update/delete in order, and chunked lists
// page with limit + continue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createLogger } from '../../src/util/log.js';
import { freePort } from '../storage/etcd-harness.js';

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('@kubernetes/client-node: informer events and paginated lists', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-client-node-'));
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (d: Buffer) => (logText = (logText + d.toString()).slice(-8000)));
  let server: RunningServer | undefined;
  const informers: k8s.Informer<k8s.V1ConfigMap>[] = [];
  try {
    server = await startServer({
      dataDir,
      bindAddress: '127.0.0.1',
      // A fixed free port: the port is published in the kubernetes Service's endpoints.
      httpsListenPort: await freePort(),
      tlsSANs: [],
      serviceCIDR: '10.96.0.0/12',
      clusterCIDR: '10.244.0.0/16',
      serviceNodePortRange: '30000-32767',
      logFormat: 'text',
      compactIntervalMs: 0,
      logger: createLogger('text', { out: logs }),
    });

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    assert.equal(kc.getCurrentCluster()?.server, server.url);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    /** Creates a namespace and waits for its kube-root-ca.crt ConfigMap (published asynchronously, as upstream does). */
    const createNamespace = async (name: string) => {
      await core.createNamespace({ body: { metadata: { name } } });
      await waitFor(`kube-root-ca.crt in ${name}`, async () => {
        const l = await core.listNamespacedConfigMap({ namespace: name, fieldSelector: 'metadata.name=kube-root-ca.crt' });
        return l.items.length === 1;
      });
    };

    await t.test('informer sees add, update and delete in order', async () => {
      const ns = 'informer-test';
      await createNamespace(ns);
      // An object that exists before the informer starts arrives as an add from the initial list.
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' }, data: { v: '0' } } });

      const informer = k8s.makeInformer<k8s.V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
      informers.push(informer);
      const events: string[] = [];
      const record = (verb: string) => (obj: k8s.V1ConfigMap) => events.push(`${verb} ${obj.metadata?.name} v=${obj.data?.['v']}`);
      informer.on(k8s.ADD, record('add'));
      informer.on(k8s.UPDATE, record('update'));
      informer.on(k8s.DELETE, record('delete'));
      const errors: unknown[] = [];
      informer.on(k8s.ERROR, (err) => errors.push(err));
      await informer.start();
      await waitFor('the initial adds', () => events.length >= 2);

      const created = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm' }, data: { v: '1' } } });
      assert.ok(created.metadata?.resourceVersion);
      // The client's default patch type (JSON patch), then a merge patch.
      await core.patchNamespacedConfigMap({ name: 'cm', namespace: ns, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await core.patchNamespacedConfigMap(
        { name: 'cm', namespace: ns, body: { data: { v: '3' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ name: 'cm', namespace: ns });

      await waitFor('six informer events', () => events.length >= 6);
      assert.deepEqual(events, ['add before v=0', 'add kube-root-ca.crt v=undefined', 'add cm v=1', 'update cm v=2', 'update cm v=3', 'delete cm v=3']);
      assert.deepEqual(errors, []);
      // The informer's cache follows the events.
      assert.deepEqual(
        informer.list(ns).map((o) => o.metadata?.name),
        ['before', 'kube-root-ca.crt'],
      );
      assert.equal(informer.get('cm', ns), undefined);
      await informer.stop();
    });

    await t.test('list with limit and _continue pages through every object once', async () => {
      const ns = 'paging-test';
      await createNamespace(ns);
      // Name order: the five ConfigMaps, then the namespace's kube-root-ca.crt.
      const names = ['cm-a', 'cm-b', 'cm-c', 'cm-d', 'cm-e'];
      for (const name of names) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });

      const first = await core.listNamespacedConfigMap({ namespace: ns, limit: 2 });
      assert.deepEqual(first.items.map((o) => o.metadata?.name), ['cm-a', 'cm-b']);
      assert.ok(first.metadata?._continue, 'first page has a continue token');
      assert.equal(first.metadata?.remainingItemCount, 4);
      // Objects created after the first page are not in the snapshot the token pins.
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm-f' } } });

      const seen = first.items.map((o) => o.metadata!.name!);
      let token: string = first.metadata._continue;
      const rv = first.metadata.resourceVersion;
      for (let pages = 1; token && pages < 10; pages++) {
        const page = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: token });
        assert.equal(page.metadata?.resourceVersion, rv, 'every page is read at the first page\'s resourceVersion');
        seen.push(...page.items.map((o) => o.metadata!.name!));
        token = page.metadata?._continue ?? '';
      }
      assert.deepEqual(seen, [...names, 'kube-root-ca.crt']);
      assert.ok(!token, 'the last page has no continue token');

      const all = await core.listNamespacedConfigMap({ namespace: ns });
      assert.deepEqual(all.items.map((o) => o.metadata?.name), [...names, 'cm-f', 'kube-root-ca.crt']);
      assert.ok(!all.metadata?._continue);
    });
  } catch (e) {
    process.stderr.write(`server log tail:\n${logText}\n`);
    throw e;
  } finally {
    for (const inf of informers) await inf.stop().catch(() => {});
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
