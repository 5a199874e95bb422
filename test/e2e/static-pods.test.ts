// Static pods through kubectl: a manifest in the server's pod manifest directory runs on its
// node and shows in the API as a mirror pod `<name>-<node>` (config.* annotations, owned by the
// Node). Deleting the mirror brings it back while the pod keeps running; editing the file
// replaces the pod; removing the file removes it. With the process runtime, `kubectl logs`
// and `kubectl exec` on the mirror reach the static pod's container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const manifest = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels:
    role: myrole
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${image}
    ports:
    - containerPort: 80
`;

describe('static pods and mirror pods (fake runtime)', { skip }, () => {
  const node = 'kts-static-node';
  const mirror = `static-web-${node}`;
  let c: Cluster;
  let file: string;
  const getPod = async (): Promise<Json | undefined> => {
    const r = await c.kubectl('1.32', ['get', 'pod', mirror, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  };
  before(async () => {
    c = await startCluster({ serverArgs: ['--container-runtime', 'fake', '--kubelet-port', '0', '--node-name', node] });
    await c.ok('1.32', ['wait', '--for=condition=Ready', `node/${node}`, '--timeout=30s']);
    // The default manifest directory: <data-dir>/pod-manifests.
    file = join(c.dataDir, 'pod-manifests', 'web.yaml');
  });
  after(async () => {
    if (process.env['KTS_DEBUG_STATIC']) process.stderr.write(c?.serverLog() ?? '');
    await c?.stop();
  });

  let first: Json;
  test('a manifest becomes a running static pod with a mirror pod named <name>-<node>', async () => {
    writeFileSync(file, manifest('nginx:1.20'));
    first = await until('the mirror pod to run', async () => {
      const p = await getPod();
      return p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    });
    const ann = first.metadata.annotations;
    assert.match(ann['kubernetes.io/config.hash'], /^[0-9a-f]{32}$/);
    assert.equal(ann['kubernetes.io/config.mirror'], ann['kubernetes.io/config.hash']);
    assert.equal(ann['kubernetes.io/config.source'], 'file');
    assert.ok(!Number.isNaN(Date.parse(ann['kubernetes.io/config.seen'])));
    // The API assigns the mirror its own UID; the static pod's UID is the config hash.
    assert.notEqual(first.metadata.uid, ann['kubernetes.io/config.hash']);
    const nodeUID = await c.ok('1.32', ['get', 'node', node, '-o', 'jsonpath={.metadata.uid}']);
    assert.deepEqual(first.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUID, controller: true }]);
    // ServiceAccount admission leaves mirror pods alone, as upstream.
    assert.equal(first.spec.serviceAccountName, undefined);
    assert.equal(first.spec.nodeName, node);
    assert.ok(first.spec.tolerations.some((t: Json) => t.operator === 'Exists' && t.effect === 'NoExecute' && !t.key && t.tolerationSeconds === undefined));
    assert.deepEqual(first.metadata.labels, { role: 'myrole' });
    const wide = await c.ok('1.32', ['get', 'pods', '-o', 'wide']);
    assert.match(wide, new RegExp(`^${mirror}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+\\S+\\s+${node}\\s`, 'm'));
  });

  test('kubectl delete pod on the mirror: the mirror comes back, the static pod keeps running', async () => {
    const hash = first.metadata.annotations['kubernetes.io/config.hash'];
    const containerID = first.status.containerStatuses[0].containerID;
    assert.ok(containerID);
    const out = await c.ok('1.32', ['delete', 'pod', mirror, '--timeout=30s']);
    assert.match(out, new RegExp(`pod "${mirror}" deleted`));
    const back = await until('the mirror pod to come back', async () => {
      const p = await getPod();
      return p && p.metadata.uid !== first.metadata.uid && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' ? p : undefined;
    });
    // The same static pod (same hash, same container, no restart) behind a new mirror.
    assert.equal(back.metadata.annotations['kubernetes.io/config.hash'], hash);
    assert.equal(back.metadata.annotations['kubernetes.io/config.mirror'], hash);
    assert.equal(back.status.containerStatuses[0].containerID, containerID);
    assert.equal(back.status.containerStatuses[0].restartCount, 0);
    first = back;
  });

  test('restarting the server keeps the static pod and its mirror', async () => {
    await c.restart();
    await c.ok('1.32', ['wait', '--for=condition=Ready', `node/${node}`, '--timeout=30s']);
    // Give the kubelet a moment to reconcile, then the same mirror must still be there.
    await until('the mirror pod to be Running', async () => ((await getPod())?.status?.phase === 'Running' ? true : undefined));
    await sleep(1500);
    const p = await getPod();
    assert.equal(p.metadata.uid, first.metadata.uid);
    assert.equal(p.metadata.annotations['kubernetes.io/config.hash'], first.metadata.annotations['kubernetes.io/config.hash']);
  });

  test('editing the manifest replaces the pod: new hash, new mirror, new image', async () => {
    writeFileSync(file, manifest('nginx:1.21'));
    const next = await until('the new mirror pod', async () => {
      const p = await getPod();
      return p && p.metadata.annotations['kubernetes.io/config.hash'] !== first.metadata.annotations['kubernetes.io/config.hash'] && p.status?.phase === 'Running' ? p : undefined;
    });
    assert.notEqual(next.metadata.uid, first.metadata.uid);
    assert.equal(next.spec.containers[0].image, 'nginx:1.21');
    assert.match(next.status.containerStatuses[0].image, /nginx:1\.21$/);
    // The old pod's container was stopped and a new one started.
    assert.notEqual(next.status.containerStatuses[0].containerID, first.status.containerStatuses[0].containerID);
    assert.equal(next.metadata.annotations['kubernetes.io/config.mirror'], next.metadata.annotations['kubernetes.io/config.hash']);
  });

  test('controllers leave the mirror alone: NoExecute taints and kubectl drain', async () => {
    const uid = (await getPod()).metadata.uid;
    // A regular pod is evicted by the taint; the static pod tolerates every NoExecute taint.
    await c.ok('1.32', ['run', 'plain', '--image=busybox:1.28', '--restart=Never']);
    await c.ok('1.32', ['taint', 'node', node, 'example.com/broken=true:NoExecute']);
    await until('the regular pod to be evicted', async () => ((await c.kubectl('1.32', ['get', 'pod', 'plain'])).code !== 0 ? true : undefined));
    assert.equal((await getPod()).metadata.uid, uid);
    await c.ok('1.32', ['taint', 'node', node, 'example.com/broken=true:NoExecute-']);
    // kubectl drain skips mirror pods (they are the kubelet's).
    const out = await c.ok('1.32', ['drain', node, '--timeout=30s']);
    assert.doesNotMatch(out, /evicting pod/);
    assert.match(out, new RegExp(`node/${node} drained`));
    await c.ok('1.32', ['uncordon', node]);
    const p = await getPod();
    assert.equal(p.metadata.uid, uid);
    assert.ok(!p.metadata.deletionTimestamp);
  });

  test('an invalid manifest is skipped, the server keeps running', async () => {
    const bad = join(c.dataDir, 'pod-manifests', 'bad.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n');
    await until('the bad manifest to be reported', async () => (/Could not process manifest file/.test(c.serverLog()) ? true : undefined));
    const r = await c.kubectl('1.32', ['get', 'pod', `bad-${node}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/);
    unlinkSync(bad);
    assert.ok(await getPod());
  });

  test('removing the manifest removes the mirror pod', async () => {
    unlinkSync(file);
    await until('the mirror pod to be gone', async () => ((await getPod()) === undefined ? true : undefined));
    const r = await c.kubectl('1.32', ['get', 'pod', mirror]);
    assert.match(r.stderr, new RegExp(`pods "${mirror}" not found`));
  });
});

describe('static pods with the process runtime: logs and exec through the mirror', { skip }, () => {
  const node = 'kts-static-proc';
  const mirror = `echo-${node}`;
  let c: Cluster;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-e2e-manifests-'));
    writeFileSync(
      join(dir, 'echo.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'echo', namespace: 'kube-system' },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'echo', image: 'busybox:1.28', command: ['sh', '-c', 'echo hello from a static pod; exec sleep 3600'] }] },
      }),
    );
    c = await startCluster({ serverArgs: ['--container-runtime', 'process', '--kubelet-port', '0', '--node-name', node, '--pod-manifests-dir', dir] });
  });
  after(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl logs and exec on the mirror pod', async () => {
    await until('the mirror pod to run', async () => {
      const r = await c.kubectl('1.32', ['get', 'pod', '-n', 'kube-system', mirror, '-o', 'jsonpath={.status.phase}']);
      return r.stdout === 'Running' ? true : undefined;
    });
    const logs = await until('the log line', async () => {
      const out = await c.ok('1.32', ['logs', '-n', 'kube-system', mirror]);
      return /hello from a static pod/.test(out) ? out : undefined;
    });
    assert.equal(logs, 'hello from a static pod\n');
    const out = await c.ok('1.32', ['exec', '-n', 'kube-system', mirror, '--', 'sh', '-c', 'echo exec-ok']);
    assert.equal(out, 'exec-ok\n');
    // The server stops cleanly with the static pod running (its processes go with it).
    unlinkSync(join(dir, 'echo.json'));
    await until('the mirror pod to be gone', async () => ((await c.kubectl('1.32', ['get', 'pod', '-n', 'kube-system', mirror])).code !== 0 ? true : undefined));
  });
});
