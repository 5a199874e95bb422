// kubectl e2e for the verbs users reach for beyond get/apply (issue 3, item 7), with the real
// kubectl 1.27 / 1.32 / 1.33 against `kts server --simulated-nodes 2` (pods run without
// containers): wait (condition, delete, jsonpath), get --watch-only, --sort-by, --chunk-size,
// events, set env|image|resources|selector|serviceaccount, create --save-config, auth can-i /
// whoami, get --raw, proxy, top.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { VERSIONS, kubectlPath, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();
const V = '1.32';

describe('kubectl verbs (wait, watch-only, sort-by, chunk-size, events, set, auth, raw, proxy, top)', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ serverArgs: ['--disable-agent', '--simulated-nodes', '2'] });
    await c.ok(V, ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
  });

  test('wait --for=condition=Available, --for=jsonpath, --for=delete', async () => {
    await c.ok(V, ['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2']);
    for (const v of VERSIONS) {
      const out = await c.ok(v, ['wait', '--for=condition=Available', 'deploy/web', '--timeout=30s'], { timeoutMs: 40_000 });
      assert.equal(out, 'deployment.apps/web condition met\n', `kubectl ${v}`);
    }
    await c.ok(V, ['run', 'w1', '--image=busybox', '--restart=Never']);
    for (const v of VERSIONS) {
      const out = await c.ok(v, ['wait', '--for=jsonpath={.status.phase}=Running', 'pod/w1', '--timeout=30s'], { timeoutMs: 40_000 });
      assert.equal(out, 'pod/w1 condition met\n', `kubectl ${v}`);
    }
    // A condition that is never met times out with upstream's message.
    const r = await c.kubectl(V, ['wait', '--for=condition=Nope', 'pod/w1', '--timeout=1s']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timed out waiting for the condition on pods\/w1/);
    // --for=delete: started first, then the pod is deleted.
    const waiter = c.kubectl(V, ['wait', '--for=delete', 'pod/w1', '--timeout=30s'], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 300));
    await c.ok(V, ['delete', 'pod', 'w1', '--wait=false']);
    const w = await waiter;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, 'pod/w1 condition met\n');
    // Waiting for the deletion of something already gone succeeds at once (1.32+ prints nothing for it).
    const gone = await c.kubectl(V, ['wait', '--for=delete', 'pod/w1', '--timeout=5s']);
    assert.equal(gone.code, 0, gone.stderr);
  });

  test('get --watch-only prints only changes', async () => {
    await c.ok(V, ['create', 'configmap', 'wo-a', '--from-literal=k=v']);
    const bg = c.spawnKubectl(V, ['get', 'configmaps', '--watch-only']);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.doesNotMatch(bg.stdout(), /wo-a/);
      await c.ok(V, ['create', 'configmap', 'wo-b', '--from-literal=k=v']);
      const out = await bg.waitFor(/wo-b/, 10_000);
      assert.match(out, /^NAME\s+DATA\s+AGE$/m);
      assert.match(out, /^wo-b\s+1\s+\S+$/m);
      assert.doesNotMatch(out, /wo-a/);
    } finally {
      await bg.kill();
    }
  });

  test('--sort-by=.metadata.name and .status.startTime', async () => {
    await c.ok(V, ['create', 'namespace', 'sort']);
    for (const n of ['zeta', 'alpha', 'mid']) {
      await c.ok(V, ['run', n, '-n', 'sort', '--image=busybox', '--restart=Never']);
      await c.ok(V, ['wait', '--for=jsonpath={.status.phase}=Running', `pod/${n}`, '-n', 'sort', '--timeout=30s']);
    }
    for (const v of VERSIONS) {
      const byName = table(await c.ok(v, ['get', 'pods', '-n', 'sort', '--sort-by=.metadata.name'])).map((r) => r['NAME']);
      assert.deepEqual(byName, ['alpha', 'mid', 'zeta'], `kubectl ${v}`);
      const byStart = (await c.ok(v, ['get', 'pods', '-n', 'sort', '--sort-by=.status.startTime', '-o', 'name'])).split('\n').filter(Boolean);
      assert.deepEqual(byStart, ['pod/zeta', 'pod/alpha', 'pod/mid'], `kubectl ${v}`);
    }
  });

  test('--chunk-size=2 pages through limit/continue', async () => {
    await c.ok(V, ['create', 'namespace', 'chunk']);
    for (let i = 0; i < 5; i++) await c.ok(V, ['create', 'configmap', `cm${i}`, '-n', 'chunk', '--from-literal=k=v']);
    for (const v of VERSIONS) {
      const r = await c.kubectl(v, ['get', 'configmaps', '-n', 'chunk', '--chunk-size=2', '-v=6']);
      assert.equal(r.code, 0, r.stderr);
      const names = table(r.stdout).map((x) => x['NAME']);
      assert.deepEqual(names, ['cm0', 'cm1', 'cm2', 'cm3', 'cm4', 'kube-root-ca.crt'].filter((n) => names.includes(n)), `kubectl ${v}`);
      for (let i = 0; i < 5; i++) assert.ok(names.includes(`cm${i}`), `kubectl ${v}: ${r.stdout}`);
      // Three pages or more: the first without continue, then with the previous page's token.
      const gets = r.stderr.split('\n').filter((l) => /GET.*https:\/\/[^/\s]+\/api\/v1\/namespaces\/chunk\/configmaps\?\S*\blimit=2\b/.test(l));
      assert.ok(gets.length >= 3, `kubectl ${v} paged:\n${r.stderr}`);
      assert.doesNotMatch(gets[0]!, /[?&]continue=/);
      assert.ok(gets.slice(1).every((l) => /[?&]continue=/.test(l)), r.stderr);
    }
  });

  test('kubectl events, --for, --types=Warning', async () => {
    await c.ok(V, ['create', 'namespace', 'ev']);
    await c.ok(V, ['run', 'evpod', '-n', 'ev', '--image=busybox', '--restart=Never']);
    await c.ok(V, ['wait', '--for=jsonpath={.status.phase}=Running', 'pod/evpod', '-n', 'ev', '--timeout=30s']);
    const evJson = (o: Record<string, unknown>) => JSON.stringify({ apiVersion: 'v1', kind: 'Event', ...o });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const warn = await c.file('warn.json', evJson({
      metadata: { name: 'evpod.warn', namespace: 'ev' },
      involvedObject: { kind: 'Pod', name: 'evpod', namespace: 'ev', apiVersion: 'v1' },
      reason: 'BackOff', message: 'Back-off pulling image', type: 'Warning', count: 1,
      firstTimestamp: now, lastTimestamp: now, source: { component: 'kubelet' },
    }));
    await c.ok(V, ['create', '-f', warn]);
    const other = await c.file('other.json', evJson({
      metadata: { name: 'other.info', namespace: 'ev' },
      involvedObject: { kind: 'ConfigMap', name: 'other', namespace: 'ev', apiVersion: 'v1' },
      reason: 'Touched', message: 'unrelated', type: 'Normal', count: 1,
      firstTimestamp: now, lastTimestamp: now, source: { component: 'test' },
    }));
    await c.ok(V, ['create', '-f', other]);
    for (const v of VERSIONS) {
      const all = await c.ok(v, ['events', '-n', 'ev']);
      assert.match(all, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m, `kubectl ${v}`);
      assert.match(all, /^\S+\s+Warning\s+BackOff\s+Pod\/evpod\s+Back-off pulling image$/m, all);
      assert.match(all, /^\S+\s+Normal\s+Touched\s+ConfigMap\/other\s+unrelated$/m, all);
      const forPod = await c.ok(v, ['events', '-n', 'ev', '--for', 'pod/evpod']);
      assert.match(forPod, /BackOff/);
      assert.doesNotMatch(forPod, /Touched/);
      const warnings = await c.ok(v, ['events', '-n', 'ev', '--types=Warning']);
      assert.match(warnings, /BackOff/);
      assert.doesNotMatch(warnings, /Touched/);
    }
  });

  test('kubectl set env|image|resources|selector|serviceaccount', async () => {
    await c.ok(V, ['create', 'deployment', 'setme', '--image=nginx:1.25']);
    assert.equal(await c.ok(V, ['set', 'env', 'deploy/setme', 'FOO=bar', 'X=1']), 'deployment.apps/setme env updated\n');
    assert.equal(await c.ok(V, ['set', 'env', 'deploy/setme', '--list']), '# Deployment setme, container nginx\nFOO=bar\nX=1\n');
    assert.equal(await c.ok(V, ['set', 'env', 'deploy/setme', 'X-']), 'deployment.apps/setme env updated\n');
    assert.equal(await c.ok(V, ['set', 'image', 'deploy/setme', 'nginx=nginx:1.26']), 'deployment.apps/setme image updated\n');
    assert.equal(await c.ok(V, ['set', 'resources', 'deploy/setme', '--limits=cpu=200m,memory=512Mi', '--requests=cpu=100m']), 'deployment.apps/setme resource requirements updated\n');
    assert.equal(await c.ok('1.27', ['set', 'serviceaccount', 'deploy/setme', 'builder']), 'deployment.apps/setme serviceaccount updated\n');
    const spec = JSON.parse(await c.ok(V, ['get', 'deploy/setme', '-o', 'jsonpath={.spec.template.spec}']));
    assert.deepEqual(spec.containers[0].env, [{ name: 'FOO', value: 'bar' }]);
    assert.equal(spec.containers[0].image, 'nginx:1.26');
    assert.deepEqual(spec.containers[0].resources, { limits: { cpu: '200m', memory: '512Mi' }, requests: { cpu: '100m' } });
    assert.equal(spec.serviceAccountName, 'builder');
    // set selector on a Service.
    await c.ok(V, ['create', 'service', 'clusterip', 'sel', '--tcp=80:80']);
    assert.equal(await c.ok(V, ['set', 'selector', 'svc/sel', 'app=other,tier=web']), 'service/sel selector updated\n');
    assert.equal(await c.ok(V, ['get', 'svc/sel', '-o', 'jsonpath={.spec.selector}']), '{"app":"other","tier":"web"}');
    // --dry-run=server changes nothing.
    assert.equal(await c.ok('1.33', ['set', 'image', 'deploy/setme', 'nginx=nginx:9', '--dry-run=server']), 'deployment.apps/setme image updated (server dry run)\n');
    assert.equal(await c.ok(V, ['get', 'deploy/setme', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.26');
  });

  test('create --save-config records last-applied-configuration', async () => {
    const f = await c.file('saved.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: saved\ndata:\n  a: "1"\n');
    assert.equal(await c.ok(V, ['create', '-f', f, '--save-config']), 'configmap/saved created\n');
    const last = await c.ok(V, ['apply', 'view-last-applied', 'configmap/saved', '-o', 'json']);
    assert.deepEqual(JSON.parse(last), { apiVersion: 'v1', data: { a: '1' }, kind: 'ConfigMap', metadata: { annotations: {}, name: 'saved', namespace: 'default' } });
    // A later apply computes its three-way diff from it: removing a key deletes it.
    await c.file('saved.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: saved\ndata:\n  b: "2"\n');
    assert.equal(await c.ok(V, ['apply', '-f', f]), 'configmap/saved configured\n');
    assert.equal(await c.ok(V, ['get', 'cm/saved', '-o', 'jsonpath={.data}']), '{"b":"2"}');
  });

  test('auth can-i, can-i --list, whoami', async () => {
    for (const v of VERSIONS) {
      assert.equal(await c.ok(v, ['auth', 'can-i', 'create', 'pods']), 'yes\n', `kubectl ${v}`);
      assert.equal(await c.ok(v, ['auth', 'can-i', '*', '*']), 'yes\n', `kubectl ${v}`);
      const list = await c.ok(v, ['auth', 'can-i', '--list']);
      assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m, list);
      assert.match(list, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m, list);
    }
    for (const v of ['1.32', '1.33']) {
      const who = await c.ok(v, ['auth', 'whoami']);
      assert.match(who, /^ATTRIBUTE\s+VALUE$/m, who);
      assert.match(who, /^Username\s+\S+$/m, who);
      assert.match(who, /^Groups\s+\[.*system:masters.*\]$/m, who);
      const j = JSON.parse(await c.ok(v, ['auth', 'whoami', '-o', 'json']));
      assert.equal(j.kind, 'SelfSubjectReview');
      assert.ok(j.status.userInfo.groups.includes('system:masters'));
    }
  });

  test('get --raw', async () => {
    for (const v of VERSIONS) {
      const ns = JSON.parse(await c.ok(v, ['get', '--raw', '/api/v1/namespaces/default']));
      assert.equal(ns.metadata.name, 'default');
      const ver = JSON.parse(await c.ok(v, ['get', '--raw', '/version']));
      assert.match(ver.gitVersion, /^v1\.32\./);
      const r = await c.kubectl(v, ['get', '--raw', '/api/v1/namespaces/nope']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Error from server \(NotFound\): namespaces "nope" not found/);
    }
  });

  test('kubectl proxy --port=0 serves the API over plain HTTP', async () => {
    const proc = spawn(kubectlPath(V), ['proxy', '--port=0'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: c.tmp, KUBECONFIG: c.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const port = await new Promise<number>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`proxy printed no port: ${out}`)), 10_000);
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) (clearTimeout(t), res(Number(m[1])));
        });
      });
      const body = await new Promise<{ status: number; text: string }>((res, rej) => {
        httpGet(`http://127.0.0.1:${port}/api/v1/namespaces/default`, (r) => {
          let text = '';
          r.on('data', (d: Buffer) => (text += d.toString()));
          r.on('end', () => res({ status: r.statusCode ?? 0, text }));
        }).on('error', rej);
      });
      assert.equal(body.status, 200);
      assert.equal(JSON.parse(body.text).metadata.name, 'default');
    } finally {
      proc.kill('SIGTERM');
    }
  });

  test('logs, exec and port-forward on a simulated node fail at once with a clear error', async () => {
    await c.ok(V, ['create', 'namespace', 'nokubelet']);
    await c.ok(V, ['create', 'deployment', 'nk', '-n', 'nokubelet', '--image=nginx']);
    await c.ok(V, ['wait', '--for=condition=Available', 'deploy/nk', '-n', 'nokubelet', '--timeout=30s']);
    const pod = (await c.ok(V, ['get', 'pods', '-n', 'nokubelet', '-o', 'name'])).trim();
    const name = pod.slice('pod/'.length);
    const msg = `pod ${name} runs on simulated node kts-node-\\d, which has no kubelet: logs, exec, attach and port-forward are not available`;
    for (const v of VERSIONS) {
      const logs = await c.kubectl(v, ['logs', '-n', 'nokubelet', pod], { timeoutMs: 10_000 });
      assert.equal(logs.code, 1);
      assert.match(logs.stderr, new RegExp(`^Error from server \\(BadRequest\\): ${msg}\n$`), `kubectl ${v}`);
      const exec = await c.kubectl(v, ['exec', '-n', 'nokubelet', pod, '--', 'ls'], { timeoutMs: 10_000 });
      assert.equal(exec.code, 1);
      assert.match(exec.stderr, new RegExp(msg), `kubectl ${v}: ${exec.stderr}`);
      const pf = await c.kubectl(v, ['port-forward', '-n', 'nokubelet', pod, '0:80'], { timeoutMs: 10_000 });
      assert.equal(pf.code, 1);
      assert.match(pf.stderr, new RegExp(msg), `kubectl ${v}: ${pf.stderr}`);
    }
  });

  test('kubectl top on a node whose runtime measures nothing says metrics are not available yet', async () => {
    // The fake runtime reports no stats (see test/e2e/top.test.ts for real numbers).
    for (const v of VERSIONS) {
      const r = await c.kubectl(v, ['top', 'pods']);
      assert.equal(r.code, 1, `kubectl ${v}`);
      assert.equal(r.stderr, 'error: metrics not available yet\n', `kubectl ${v}`);
    }
  });
});
