// kubectl e2e for Deployments against `kts server --simulated-nodes 3`: the seeds' flow —
// create deployment, get deploy,rs,pods, scale, set image, rollout status / history /
// history --revision / undo / undo --to-revision / pause / resume / restart, describe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSIONS, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();
const V = '1.32';

describe('kubectl rollout (deployments on simulated nodes)', { skip }, () => {
  let c: Cluster;
  let cfgDir: string;
  before(async () => {
    // The harness starts `kts server` with fixed flags; the rest comes from $KTS_CONFIG_FILE.
    cfgDir = mkdtempSync(join(tmpdir(), 'kts-e2e-rollout-'));
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

  const status = () => c.ok(V, ['rollout', 'status', 'deployment/myapp', '--timeout=60s'], { timeoutMs: 70_000 });
  const runningPods = async () =>
    table(await c.ok(V, ['get', 'pods', '-l', 'app=myapp'])).filter((r) => r['STATUS'] === 'Running');
  async function waitPods(n: number, image?: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const out = await c.ok(V, ['get', 'pods', '-l', 'app=myapp', '-o', 'jsonpath={range .items[*]}{.status.phase}/{.spec.containers[0].image}/{.metadata.deletionTimestamp}{"\\n"}{end}']);
      const lines = out.split('\n').filter(Boolean);
      if (lines.length === n && lines.every((l) => l.startsWith('Running/') && (!image || l.split('/').slice(1, -1).join('/') === image) && l.endsWith('/'))) return;
      if (Date.now() > deadline) throw new Error(`pods never became ${n} × ${image ?? 'Running'}:\n${out}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  test('create deployment → 4 Running pods, spread over the nodes', async () => {
    assert.equal(await c.ok(V, ['create', 'deployment', 'myapp', '--image=ikubernetes/myapp:v1', '--replicas=4']), 'deployment.apps/myapp created\n');
    const st = await status();
    assert.match(st, /deployment "myapp" successfully rolled out\n$/);
    for (const l of st.split('\n').slice(0, -2)) assert.match(l, /^Waiting for deployment "myapp" rollout to finish: \d of 4 updated replicas are available\.\.\.$/);
    const out = await c.ok(V, ['get', 'deploy,rs,pods', '-o', 'wide']);
    assert.match(out, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
    assert.match(out, /^deployment\.apps\/myapp\s+4\/4\s+4\s+4\s+\S+\s+myapp\s+ikubernetes\/myapp:v1\s+app=myapp$/m);
    const rs = /^replicaset\.apps\/(myapp-([bcdfghjklmnpqrstvwxz2456789]+))\s+4\s+4\s+4\s+\S+\s+myapp\s+ikubernetes\/myapp:v1\s+app=myapp,pod-template-hash=(\S+)$/m.exec(out);
    assert.ok(rs, out);
    assert.equal(rs[2], rs[3]);
    const pods = [...out.matchAll(new RegExp(`^pod/${rs[1]}-[bcdfghjklmnpqrstvwxz2456789]{5}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+\\S+\\s+(kts-node-\\d)`, 'gm'))];
    assert.equal(pods.length, 4, out);
    assert.ok(new Set(pods.map((m) => m[1])).size >= 2, `pods spread over nodes:\n${out}`);
  });

  test('scale to 6 and back to 4', async () => {
    assert.equal(await c.ok(V, ['scale', 'deployment/myapp', '--replicas=6']), 'deployment.apps/myapp scaled\n');
    await status();
    await waitPods(6);
    await c.ok(V, ['scale', 'deployment/myapp', '--replicas=4']);
    await status();
    await waitPods(4);
  });

  test('set image → a new ReplicaSet, rolled out; history with CHANGE-CAUSE', async () => {
    assert.equal(await c.ok(V, ['set', 'image', 'deployment/myapp', 'myapp=ikubernetes/myapp:v2']), 'deployment.apps/myapp image updated\n');
    const st = await status();
    assert.match(st, /deployment "myapp" successfully rolled out\n$/);
    assert.match(st, /^Waiting for deployment "myapp" rollout to finish: \d out of 4 new replicas have been updated\.\.\.$/m);
    await c.ok(V, ['annotate', 'deployment/myapp', 'kubernetes.io/change-cause=image v2']);
    await waitPods(4, 'ikubernetes/myapp:v2');
    const rss = table(await c.ok(V, ['get', 'rs', '-l', 'app=myapp']));
    assert.equal(rss.length, 2);
    assert.deepEqual(rss.map((r) => r['DESIRED']).sort(), ['0', '4']);
    // the change-cause reaches the current ReplicaSet, which history reads
    const deadline = Date.now() + 10_000;
    let hist = '';
    for (;;) {
      hist = await c.ok(V, ['rollout', 'history', 'deployment/myapp']);
      if (/^2\s+image v2$/m.test(hist) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(hist, /^deployment\.apps\/myapp $/m);
    assert.match(hist, /^REVISION\s+CHANGE-CAUSE$/m);
    assert.match(hist, /^1\s+<none>$/m);
    assert.match(hist, /^2\s+image v2$/m);
    const rev = await c.ok(V, ['rollout', 'history', 'deployment/myapp', '--revision=1']);
    assert.match(rev, /deployment\.apps\/myapp with revision #1/);
    assert.match(rev, /Image:\s+ikubernetes\/myapp:v1/);
    assert.match(rev, /pod-template-hash=/);
  });

  test('rollout undo and undo --to-revision', async () => {
    assert.equal(await c.ok(V, ['rollout', 'undo', 'deployment/myapp']), 'deployment.apps/myapp rolled back\n');
    await status();
    await waitPods(4, 'ikubernetes/myapp:v1');
    const hist = await c.ok(V, ['rollout', 'history', 'deployment/myapp']);
    assert.match(hist, /^2\s+image v2$/m);
    assert.match(hist, /^3\s+<none>$/m);
    assert.doesNotMatch(hist, /^1\s/m, 'revision 1 became revision 3');
    assert.equal((await c.ok(V, ['get', 'deploy', 'myapp', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}'])), '3');
    assert.equal(await c.ok(V, ['rollout', 'undo', 'deployment/myapp', '--to-revision=2']), 'deployment.apps/myapp rolled back\n');
    await status();
    await waitPods(4, 'ikubernetes/myapp:v2');
    assert.equal(table(await c.ok(V, ['get', 'rs', '-l', 'app=myapp'])).length, 2);
  });

  test('pause, change, resume; restart', async () => {
    assert.equal(await c.ok(V, ['rollout', 'pause', 'deployment/myapp']), 'deployment.apps/myapp paused\n');
    await c.ok(V, ['set', 'image', 'deployment/myapp', 'myapp=ikubernetes/myapp:v3']);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(table(await c.ok(V, ['get', 'rs', '-l', 'app=myapp'])).length, 2, 'no new ReplicaSet while paused');
    const undo = await c.kubectl(V, ['rollout', 'undo', 'deployment/myapp']);
    assert.notEqual(undo.code, 0);
    assert.match(undo.stderr, /you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again/);
    assert.equal(await c.ok(V, ['rollout', 'resume', 'deployment/myapp']), 'deployment.apps/myapp resumed\n');
    await status();
    await waitPods(4, 'ikubernetes/myapp:v3');
    assert.equal(await c.ok(V, ['rollout', 'restart', 'deployment/myapp']), 'deployment.apps/myapp restarted\n');
    await status();
    assert.equal(table(await c.ok(V, ['get', 'rs', '-l', 'app=myapp'])).length, 4);
    assert.equal((await runningPods()).length >= 4, true);
  });

  test('describe deployment shows the ReplicaSets, conditions and ScalingReplicaSet events', async () => {
    const d = await c.ok(V, ['describe', 'deployment', 'myapp']);
    assert.match(d, /^Replicas:\s+4 desired \| 4 updated \| 4 total \| 4 available \| 0 unavailable$/m);
    assert.match(d, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(d, /^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    assert.match(d, /^\s+Available\s+True\s+MinimumReplicasAvailable$/m);
    assert.match(d, /^\s+Progressing\s+True\s+NewReplicaSetAvailable$/m);
    assert.match(d, /^NewReplicaSet:\s+myapp-\S+ \(4\/4 replicas created\)$/m);
    // kubectl lists every old ReplicaSet, all scaled down to zero by now
    assert.match(d, /^OldReplicaSets:\s+myapp-\S+ \(0\/0 replicas created\)(, myapp-\S+ \(0\/0 replicas created\))*$/m);
    assert.match(d, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set myapp-\S+ from 0 to 4/);
    assert.match(d, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled down replica set myapp-\S+ from \d+ to \d+/);
    assert.match(d, /^Annotations:\s+deployment\.kubernetes\.io\/revision: 6$/m);
  });

  test('rollout status and history read the same with every kubectl version', async () => {
    for (const v of VERSIONS) {
      assert.equal(await c.ok(v, ['rollout', 'status', 'deployment/myapp']), 'deployment "myapp" successfully rolled out\n', `kubectl ${v}`);
      const h = await c.ok(v, ['rollout', 'history', 'deployment/myapp']);
      assert.match(h, /^REVISION\s+CHANGE-CAUSE$/m, `kubectl ${v}`);
      assert.match(h, /^6\s+image v2$/m, `kubectl ${v}:\n${h}`);
    }
  });
});
