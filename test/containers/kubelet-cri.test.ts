// Issue 5 end to end with real containers: `kts server --container-runtime cri` (its own
// supervised containerd, runc, the CNI bridge) driven by kubectl 1.32: run, logs (-f,
// --previous), exec, cp from a pod, port-forward, probes and restarts, CrashLoopBackOff, init
// containers with emptyDir, configMap volume updates, the Downward API, a Job, the seeds'
// Deployment, describe's events, and re-adoption of running containers across a server restart.
// Needs root, containerd, runc, CNI plugins and busybox-static (CI installs them); skips otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, containerdPaths, createCRIRuntime } from '../../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../../src/kubelet/runtime/cri/cni.js';
import { silentLogger } from '../../src/util/log.js';
import { skipReason as kubectlMissing, startCluster, type Cluster } from '../e2e/harness.js';
import { PAUSE, imagesUnavailable, importTestImages } from './images.js';
import { cleanupCRI } from './cleanup.js';

const V = '1.32';
// our own bridge and pod range, so a kts left running elsewhere on this machine does not interfere
const BRIDGE = 'ktse2e0';
const CLUSTER_CIDR = '10.243.0.0/16';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI)';
  if (!containerdAvailable()) return 'containerd is not installed (Debian package containerd)';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc is not installed (Debian package runc)';
  }
  if (!findCNIBinDir()) return 'no CNI plugins (Debian package containernetworking-plugins)';
  const img = imagesUnavailable();
  if (img) return img;
  try {
    execFileSync('ip', ['link', 'show', BRIDGE], { stdio: 'ignore' });
    if (execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim()) return `the bridge ${BRIDGE} is in use (another run of this test?)`;
  } catch {
    /* free */
  }
  return kubectlMissing();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000, describe?: () => Promise<string>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${describe ? `\n${await describe()}` : ''}`);
    await sleep(250);
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Everything this file's kts left on the machine goes (test/containers/cleanup.ts). */
const cleanup = (root: string) => cleanupCRI(root, BRIDGE, '10.243.0.0/24');

test('kts server --container-runtime cri through kubectl', { timeout: 300_000 }, async (t) => {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-kubelet-cri-'));
  let c: Cluster | undefined;
  try {
    // Import the offline images into the containerd kts will run (same root and content store),
    // so no pod ever sees ErrImagePull.
    {
      const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: BRIDGE, podCIDR: '10.243.0.0/24' });
      await importTestImages(containerdPaths(root).socket, path.join(root, 'images'));
      await rt.close();
    }
    process.env['KTS_CNI_BRIDGE'] = BRIDGE; // read by the cri runtime in the server child
    c = await startCluster({ serverArgs: ['--container-runtime', 'cri', '--kubelet-port', '0', '--pause-image', PAUSE, '--kubelet-root-dir', root, '--cluster-cidr', CLUSTER_CIDR] });
    const cl = c;
    const k = (args: string[], timeoutMs = 30_000) => cl.ok(V, args, { timeoutMs });
    const jsonpath = (what: string, jp: string) => cl.kubectl(V, ['get', ...what.split(' '), '-o', `jsonpath=${jp}`]).then((r) => r.stdout);
    const describe = (pod: string) => async () => (await cl.kubectl(V, ['describe', 'pod', pod])).stdout + '\n--- server log tail\n' + cl.serverLog().slice(-3000);
    const phaseRunning = (pod: string, ms = 40_000) =>
      until(`${pod} Running and ready`, async () => (await jsonpath(`pod ${pod}`, '{.status.phase} {.status.containerStatuses[*].ready}')) === 'Running true' || undefined, ms, describe(pod));

    await until('the node Ready', async () => /\bReady\b/.test((await c!.kubectl(V, ['get', 'nodes'])).stdout) || undefined, 60_000, async () => cl.serverLog().slice(-3000));

    await t.test('run, logs, logs -f, exec, cp, describe events', async () => {
      await k(['run', 'bb', '--image=busybox:1.28', '--', 'sh', '-c', 'echo hi; sleep 3600']);
      await phaseRunning('bb');
      assert.match(await k(['get', 'pod', 'bb']), /^bb\s+1\/1\s+Running\s+0\s+/m);
      assert.equal(await k(['logs', 'bb']), 'hi\n');
      const f = cl.spawnKubectl(V, ['logs', '-f', 'bb']);
      await f.waitFor(/^hi$/m, 15_000);
      assert.equal(f.proc.exitCode, null, 'logs -f keeps following');
      await f.kill();
      assert.equal(await k(['exec', 'bb', '--', 'cat', '/etc/hostname']), 'bb\n');
      // kubectl cp from the pod (tar in the container, streamed through exec)
      const dest = path.join(cl.tmp, 'hostname.txt');
      await k(['cp', 'bb:/etc/hostname', dest]);
      assert.equal(fs.readFileSync(dest, 'utf8'), 'bb\n');
      const d = await k(['describe', 'pod', 'bb']);
      for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) assert.match(d, new RegExp(`Normal\\s+${reason}\\s`), `describe shows ${reason}:\n${d}`);
      assert.match(d, /Container image "busybox:1\.28" already present on machine/);
      assert.match(d, /^IP:\s+10\.\d+\.\d+\.\d+$/m);
    });

    await t.test('port-forward to the myapp stand-in', async () => {
      await k(['run', 'web', '--image=ikubernetes/myapp:v1', '--port=80']);
      await phaseRunning('web');
      const port = await freePort();
      const pf = cl.spawnKubectl(V, ['port-forward', 'pod/web', `${port}:80`]);
      try {
        await pf.waitFor(new RegExp(`Forwarding from 127\\.0\\.0\\.1:${port} -> 80`), 15_000);
        const r = await until('HTTP through port-forward', async () => httpGet(port, '/hostname.html').catch(() => undefined), 15_000);
        assert.equal(r.status, 200);
        assert.equal(r.body, 'web\n');
        const idx = await httpGet(port, '/');
        assert.match(idx.body, /^Hello MyApp \| Version: v1 \|/);
      } finally {
        await pf.kill();
      }
    });

    await t.test('liveness probe failure restarts; logs --previous', async () => {
      const y = await cl.file(
        'live.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.28
    command: [sh, -c, 'echo started at $(date +%s); touch /tmp/ok; sleep 3; rm /tmp/ok; sleep 3600']
    livenessProbe:
      exec: {command: [cat, /tmp/ok]}
      periodSeconds: 1
      failureThreshold: 1
`,
      );
      await k(['apply', '-f', y]);
      await until('live restarted', async () => Number(await jsonpath('pod live', '{.status.containerStatuses[0].restartCount}')) >= 1 || undefined, 40_000, describe('live'));
      assert.match(await k(['get', 'pod', 'live']), /^live\s+\d\/1\s+\w+\s+[1-9]\d*( \(.+ ago\))?\s+/m);
      const prev = await k(['logs', 'live', '--previous']);
      assert.match(prev, /^started at \d+$/m);
      const d = await k(['describe', 'pod', 'live']);
      assert.match(d, /Liveness probe failed/);
    });

    await t.test('a container that exits 1 goes into CrashLoopBackOff', async () => {
      await k(['run', 'crash', '--image=busybox:1.28', '--', 'sh', '-c', 'echo dying; exit 1']);
      await until('CrashLoopBackOff', async () => /^crash\s+0\/1\s+CrashLoopBackOff\s+[1-9]/m.test(await k(['get', 'pod', 'crash'])) || undefined, 40_000, describe('crash'));
      assert.equal(await jsonpath('pod crash', '{.status.containerStatuses[0].lastState.terminated.exitCode}'), '1');
      assert.match(await k(['describe', 'pod', 'crash']), /Back-off restarting failed container crash in pod crash_default/);
    });

    await t.test('init container writes into an emptyDir the main container serves', async () => {
      const y = await cl.file(
        'init.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: initweb}
spec:
  initContainers:
  - name: prep
    image: busybox:1.28
    command: [sh, -c, 'echo from-init > /work/index.html']
    volumeMounts: [{name: w, mountPath: /work}]
  containers:
  - name: web
    image: nginx:1.20
    volumeMounts: [{name: w, mountPath: /usr/share/nginx/html}]
  volumes:
  - name: w
    emptyDir: {}
`,
      );
      await k(['apply', '-f', y]);
      await phaseRunning('initweb');
      assert.equal(await jsonpath('pod initweb', '{.status.initContainerStatuses[0].state.terminated.reason}'), 'Completed');
      const out = await until('served page', async () => {
        const r = await cl.kubectl(V, ['exec', 'initweb', '--', 'wget', '-qO-', 'http://127.0.0.1/index.html']);
        return r.code === 0 ? r.stdout : undefined;
      }, 15_000);
      assert.equal(out, 'from-init\n');
    });

    await t.test('configMap volume follows kubectl edit cm; Downward API env', async () => {
      await k(['create', 'configmap', 'cfg', '--from-literal=greeting=hello']);
      const y = await cl.file(
        'cm.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: cmpod, labels: {tier: backend}}
spec:
  containers:
  - name: c
    image: busybox:1.28
    command: [sleep, '3600']
    env:
    - name: MY_POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: MY_TIER
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
    - name: MY_MEM
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
  volumes:
  - name: cfg
    configMap: {name: cfg}
`,
      );
      await k(['apply', '-f', y]);
      await phaseRunning('cmpod');
      assert.equal(await k(['exec', 'cmpod', '--', 'cat', '/etc/cfg/greeting']), 'hello');
      const env = await k(['exec', 'cmpod', '--', 'env']);
      assert.match(env, /^MY_POD_NAME=cmpod$/m);
      assert.match(env, /^MY_TIER=backend$/m);
      assert.match(env, /^MY_MEM=64$/m);
      const ip = await jsonpath('pod cmpod', '{.status.podIP}');
      assert.match(env, new RegExp(`^MY_POD_IP=${ip.replace(/\./g, '\\.')}$`, 'm'));
      // `kubectl edit cm`, with an editor that changes the value in the file kubectl hands it
      await cl.ok(V, ['edit', 'cm', 'cfg'], { env: { KUBE_EDITOR: "sed -i 's/greeting: hello/greeting: bonjour/'" } });
      assert.equal(await jsonpath('cm cfg', '{.data.greeting}'), 'bonjour');
      await until('updated configMap file', async () => (await cl.kubectl(V, ['exec', 'cmpod', '--', 'cat', '/etc/cfg/greeting'])).stdout === 'bonjour' || undefined, 90_000);
    });

    await t.test("a Job's pod completes", async () => {
      await k(['create', 'job', 'once', '--image=busybox:1.28', '--', 'sh', '-c', 'echo job done']);
      await until('job complete', async () => /^once\s+Complete\s+1\/1\s/m.test(await k(['get', 'job', 'once'])) || undefined, 40_000, async () => (await cl.kubectl(V, ['describe', 'job', 'once'])).stdout);
      assert.match(await k(['get', 'pods', '-l', 'job-name=once']), /^once-\w+\s+0\/1\s+Completed\s+0\s/m);
      assert.equal(await k(['logs', 'job/once']), 'job done\n');
    });

    await t.test("the seeds' Deployment reaches 4/4", async () => {
      await k(['create', 'deployment', 'myapp', '--image=ikubernetes/myapp:v1', '--replicas=4']);
      await until('4/4', async () => /^myapp\s+4\/4\s+4\s+4\s/m.test(await k(['get', 'deploy', 'myapp'])) || undefined, 60_000, async () => (await cl.kubectl(V, ['get', 'pods', '-o', 'wide'])).stdout);
      const ips = (await jsonpath('pods -l app=myapp', '{.items[*].status.podIP}')).split(' ');
      assert.equal(new Set(ips).size, 4, `four distinct pod IPs: ${ips}`);
    });

    await t.test('restarting kts server re-adopts running containers', async () => {
      const before = await jsonpath('pod bb', '{.status.containerStatuses[0].containerID}');
      assert.match(before, /^containerd:\/\/[0-9a-f]{64}$/);
      await cl.restart();
      await sleep(3000);
      await until('bb Running after restart', async () => (await jsonpath('pod bb', '{.status.phase} {.status.containerStatuses[0].ready}')) === 'Running true' || undefined, 40_000, describe('bb'));
      assert.equal(await jsonpath('pod bb', '{.status.containerStatuses[0].containerID}'), before, 'same container');
      assert.equal(await jsonpath('pod bb', '{.status.containerStatuses[0].restartCount}'), '0');
      assert.equal(await k(['logs', 'bb']), 'hi\n');
      assert.equal(await k(['exec', 'bb', '--', 'echo', 'alive']), 'alive\n');
    });

    await t.test('deleting the pods removes their containers and sandboxes', async () => {
      await k(['delete', 'deploy,job', '--all']);
      await k(['delete', 'pod', '--all', '--grace-period=1'], 60_000);
      await until('no pods', async () => (await cl.kubectl(V, ['get', 'pods', '-o', 'name'])).stdout.trim() === '' || undefined, 30_000);
      const crictl = async () => {
        const rt = await createCRIRuntime({ endpoint: containerdPaths(root).socket, rootDir: root, log: silentLogger });
        try {
          return { containers: (await rt.listContainers()).length, sandboxes: (await rt.listPodSandboxes()).length };
        } finally {
          await rt.close();
        }
      };
      const left = await until('containers and sandboxes removed', async () => {
        const n = await crictl();
        return n.containers === 0 && n.sandboxes === 0 ? n : undefined;
      }, 30_000, async () => JSON.stringify(await crictl()));
      assert.deepEqual(left, { containers: 0, sandboxes: 0 });
    });
  } finally {
    await c?.stop().catch(() => {});
    for (const p of await cleanup(root)) t.diagnostic(`cleanup: ${p}`);
  }
});
