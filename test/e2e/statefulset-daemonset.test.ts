// kubectl e2e for DaemonSets and StatefulSets against `kts server --simulated-nodes 3`:
// apply, get ds,sts -o wide, rollout status / history / history --revision / undo, describe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();
const V = '1.32';

const DS = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: busybox:1.36
`;

const STS = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`;

describe('kubectl with DaemonSets and StatefulSets (simulated nodes)', { skip }, () => {
  let c: Cluster;
  let cfgDir: string;
  before(async () => {
    cfgDir = mkdtempSync(join(tmpdir(), 'kts-e2e-sts-ds-'));
    const cfg = join(cfgDir, 'config.yaml');
    writeFileSync(cfg, 'simulated-nodes: 3\n');
    process.env['KTS_CONFIG_FILE'] = cfg;
    try {
      c = await startCluster({ serverArgs: ["--disable-agent"] });
    } finally {
      delete process.env['KTS_CONFIG_FILE'];
    }
    await c.ok(V, ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  test('daemonset: apply, rollout status, get -o wide, set image, history, undo, describe', async () => {
    assert.equal(await c.ok(V, ['apply', '-f', await c.file('ds.yaml', DS)]), 'daemonset.apps/agent created\n');
    const st = await c.ok(V, ['rollout', 'status', 'ds/agent', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.match(st, /daemon set "agent" successfully rolled out\n$/);
    const wide = await c.ok(V, ['get', 'ds', '-o', 'wide']);
    assert.match(wide, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
    assert.match(wide, /^agent\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+\s+agent\s+busybox:1\.36\s+app=agent$/m);
    await c.ok(V, ['set', 'image', 'ds/agent', 'agent=busybox:1.37']);
    const st2 = await c.ok(V, ['rollout', 'status', 'ds/agent', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.match(st2, /daemon set "agent" successfully rolled out\n$/);
    const hist = await c.ok(V, ['rollout', 'history', 'ds/agent']);
    assert.match(hist, /^daemonset\.apps\/agent \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const rev1 = await c.ok(V, ['rollout', 'history', 'ds/agent', '--revision=1']);
    assert.match(rev1, /Image:\s+busybox:1\.36/);
    assert.equal(await c.ok(V, ['rollout', 'undo', 'ds/agent']), 'daemonset.apps/agent rolled back\n');
    await c.ok(V, ['rollout', 'status', 'ds/agent', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(await c.ok(V, ['get', 'ds', 'agent', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1.36');
    const hist2 = await c.ok(V, ['rollout', 'history', 'ds/agent']);
    assert.match(hist2, /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    const desc = await c.ok(V, ['describe', 'ds', 'agent']);
    assert.match(desc, /^Desired Number of Nodes Scheduled: 3$/m);
    assert.match(desc, /^Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    assert.match(desc, /SuccessfulCreate\s+.*daemonset-controller\s+Created pod: agent-/);
  });

  test('statefulset: apply, rollout status, get -o wide, pods and claims, history, undo, describe', async () => {
    assert.equal(await c.ok(V, ['apply', '-f', await c.file('sts.yaml', STS)]), 'statefulset.apps/web created\n');
    const st = await c.ok(V, ['rollout', 'status', 'sts/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(st, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$|statefulset rolling update complete 3 pods at revision web-\w+\.\.\.\n$/);
    const wide = await c.ok(V, ['get', 'sts', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES$/m);
    assert.match(wide, /^web\s+3\/3\s+\S+\s+nginx\s+nginx:1\.25$/m);
    const pods = await c.ok(V, ['get', 'pods', '-l', 'app=web', '-o', 'name']);
    assert.equal(pods, 'pod/web-0\npod/web-1\npod/web-2\n');
    const pvcs = await c.ok(V, ['get', 'pvc', '-o', 'name']);
    assert.equal(pvcs, 'persistentvolumeclaim/www-web-0\npersistentvolumeclaim/www-web-1\npersistentvolumeclaim/www-web-2\n');
    await c.ok(V, ['set', 'image', 'sts/web', 'nginx=nginx:1.26']);
    const st2 = await c.ok(V, ['rollout', 'status', 'sts/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(st2, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$/);
    const hist = await c.ok(V, ['rollout', 'history', 'sts/web']);
    assert.match(hist, /^statefulset\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.equal(await c.ok(V, ['rollout', 'undo', 'sts/web']), 'statefulset.apps/web rolled back\n');
    await c.ok(V, ['rollout', 'status', 'sts/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(await c.ok(V, ['get', 'pod', 'web-0', '-o', 'jsonpath={.spec.containers[0].image}']), 'nginx:1.25');
    const desc = await c.ok(V, ['describe', 'sts', 'web']);
    assert.match(desc, /^Replicas:\s+3 desired \| 3 total$/m);
    assert.match(desc, /^Pods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    assert.match(desc, /SuccessfulCreate\s+.*statefulset-controller\s+create Claim www-web-0 Pod web-0 in StatefulSet web success/);
    assert.match(desc, /SuccessfulCreate\s+.*statefulset-controller\s+create Pod web-0 in StatefulSet web successful/);
  });
});
