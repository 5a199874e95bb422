// Resources with real containers (issue 5): requests and limits become cgroup limits in the
// pod's QoS cgroup (kubepods/pod<uid>, kubepods/burstable/…, kubepods/besteffort/…), a memory
// hog is OOMKilled (exit 137, RESTARTS grows), and the kubelet's /stats/summary and
// /metrics/resource are reachable through nodes/proxy with the pods' usage.
// `kts server --container-runtime cri` with its own containerd, driven by kubectl 1.32; cgroup
// v1 paths (the machines here are hybrid v1). Needs root, containerd, runc, CNI plugins and
// busybox-static; skips otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, containerdPaths, createCRIRuntime } from '../../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../../src/kubelet/runtime/cri/cni.js';
import { cgroupMode } from '../../src/kubelet/cm/cgroups.js';
import { silentLogger } from '../../src/util/log.js';
import { skipReason as kubectlMissing, startCluster, type Cluster } from '../e2e/harness.js';
import { PAUSE, imagesUnavailable, importTestImages } from './images.js';
import { cleanupCRI } from './cleanup.js';

const V = '1.32';
const BRIDGE = 'ktsres0';
const CLUSTER_CIDR = '10.247.0.0/16';
const POD_CIDR = '10.247.0.0/24';
// our own cgroup root, so the paths are ours alone and removed at the end
const CGROUP_ROOT = `kts-res-test-${process.pid}`;
const CG = '/sys/fs/cgroup';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI, cgroups)';
  if (!containerdAvailable()) return 'containerd is not installed (Debian package containerd)';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc is not installed (Debian package runc)';
  }
  if (!findCNIBinDir()) return 'no CNI plugins (Debian package containernetworking-plugins)';
  if (cgroupMode() !== 'v1') return `this test reads cgroup v1 files; this machine has ${cgroupMode()}`;
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

const read = (p: string) => fs.readFileSync(p, 'utf8').trim();
const readOr = (p: string) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

async function cleanup(root: string): Promise<string[]> {
  const problems = await cleanupCRI(root, BRIDGE, POD_CIDR);
  // our cgroup root in every hierarchy, deepest first (rmdir only: the kernel owns the files)
  for (const h of fs.readdirSync(CG)) {
    const top = path.join(CG, h, CGROUP_ROOT);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    };
    walk(top);
    for (const d of dirs.sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        problems.push(`cgroup ${d}: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

const podYaml = (name: string, resources: string, command = "['sh', '-c', 'sleep 3600']", restartPolicy = 'Always') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: ${restartPolicy}
  terminationGracePeriodSeconds: 1
  containers:
  - name: ${name}
    image: busybox:1.28
    command: ${command}
    resources: ${resources}
`;

test('resources become cgroup limits; OOMKilled; kubelet stats', { timeout: 300_000 }, async (t) => {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-resources-cri-'));
  let c: Cluster | undefined;
  try {
    {
      const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: BRIDGE, podCIDR: POD_CIDR });
      await importTestImages(containerdPaths(root).socket, path.join(root, 'images'));
      await rt.close();
    }
    process.env['KTS_CNI_BRIDGE'] = BRIDGE;
    c = await startCluster({ serverArgs: ['--container-runtime', 'cri', '--kubelet-port', '0', '--pause-image', PAUSE, '--kubelet-root-dir', root, '--cluster-cidr', CLUSTER_CIDR, '--cgroup-root', `/${CGROUP_ROOT}`] });
    const cl = c;
    const k = (args: string[], timeoutMs = 30_000) => cl.ok(V, args, { timeoutMs });
    const jsonpath = (what: string, jp: string) => cl.kubectl(V, ['get', ...what.split(' '), '-o', `jsonpath=${jp}`]).then((r) => r.stdout);
    const describe = (pod: string) => async () => (await cl.kubectl(V, ['describe', 'pod', pod])).stdout + '\n--- server log tail\n' + cl.serverLog().slice(-3000);
    const running = (pod: string) =>
      until(`${pod} Running`, async () => (await jsonpath(`pod ${pod}`, '{.status.phase} {.status.containerStatuses[*].ready}')) === 'Running true' || undefined, 40_000, describe(pod));
    const apply = async (name: string, yaml: string) => k(['apply', '-f', await cl.file(`${name}.yaml`, yaml)]);
    /** The pod's uid and its container's cgroup path (relative to a hierarchy), by QoS tier. */
    const cgroupOf = async (pod: string, tier: string) => {
      const uid = await jsonpath(`pod ${pod}`, '{.metadata.uid}');
      const cid = (await jsonpath(`pod ${pod}`, '{.status.containerStatuses[0].containerID}')).replace('containerd://', '');
      const podCg = path.posix.join('/', CGROUP_ROOT, 'kubepods', tier, `pod${uid}`);
      return { uid, podCg, ctrCg: `${podCg}/${cid}` };
    };

    await until('the node Ready', async () => /\bReady\b/.test((await c!.kubectl(V, ['get', 'nodes'])).stdout) || undefined, 60_000, async () => cl.serverLog().slice(-3000));
    const node = (await k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();

    await t.test('limits land in the container and pod cgroups, by QoS class', async () => {
      await apply('guaranteed', podYaml('guaranteed', '{limits: {cpu: 500m, memory: 64Mi}}'));
      await apply('burstable', podYaml('burstable', '{requests: {cpu: 250m, memory: 32Mi}, limits: {memory: 64Mi}}'));
      await apply('besteffort', podYaml('besteffort', '{}'));
      for (const p of ['guaranteed', 'burstable', 'besteffort']) await running(p);
      assert.equal(await jsonpath('pod guaranteed', '{.status.qosClass}'), 'Guaranteed');

      // Guaranteed: kubepods/pod<uid>; container quota 50000/100000, shares 512, 64Mi
      const g = await cgroupOf('guaranteed', '');
      assert.equal(read(`${CG}/cpu${g.ctrCg}/cpu.cfs_quota_us`), '50000');
      assert.equal(read(`${CG}/cpu${g.ctrCg}/cpu.cfs_period_us`), '100000');
      assert.equal(read(`${CG}/cpu${g.ctrCg}/cpu.shares`), '512');
      assert.equal(read(`${CG}/memory${g.ctrCg}/memory.limit_in_bytes`), '67108864');
      // the pod cgroup carries the pod's limits (ResourceConfigForPod)
      assert.equal(read(`${CG}/memory${g.podCg}/memory.limit_in_bytes`), '67108864');
      assert.equal(read(`${CG}/cpu${g.podCg}/cpu.cfs_quota_us`), '50000');
      assert.equal(read(`${CG}/cpu${g.podCg}/cpu.shares`), '512');
      // -997, raised to containerd's own score by restrict_oom_score_adj
      const containerdPid = fs.readdirSync('/proc').find((d) => /^\d+$/.test(d) && readOr(`/proc/${d}/cmdline`).startsWith(`containerd\0--config\0${root}/`));
      assert.ok(containerdPid, 'our containerd runs');
      const gPid = read(`${CG}/memory${g.ctrCg}/cgroup.procs`).split('\n')[0]!;
      assert.equal(read(`/proc/${gPid}/oom_score_adj`), String(Math.max(-997, Number(read(`/proc/${containerdPid}/oom_score_adj`)))));

      // Burstable: kubepods/burstable/pod<uid>; shares from the request, no quota, memory limit
      const b = await cgroupOf('burstable', 'burstable');
      assert.equal(read(`${CG}/cpu${b.ctrCg}/cpu.shares`), '256');
      assert.equal(read(`${CG}/cpu${b.ctrCg}/cpu.cfs_quota_us`), '-1');
      assert.equal(read(`${CG}/memory${b.ctrCg}/memory.limit_in_bytes`), '67108864');
      assert.equal(read(`${CG}/memory${b.podCg}/memory.limit_in_bytes`), '67108864');
      assert.equal(read(`${CG}/cpu${b.podCg}/cpu.shares`), '256');
      // oom_score_adj of a Burstable container: 1000 - 1000*request/capacity (a 32Mi request ≈ 999)
      const bPid = read(`${CG}/memory${b.ctrCg}/cgroup.procs`).split('\n')[0]!;
      const expected = Math.min(999, Math.max(3, 1000 - Math.trunc((1000 * 32 * 2 ** 20) / os.totalmem())));
      assert.equal(read(`/proc/${bPid}/oom_score_adj`), String(expected));

      // BestEffort: kubepods/besteffort/pod<uid>; minimum shares, oom_score_adj 1000
      const e = await cgroupOf('besteffort', 'besteffort');
      assert.equal(read(`${CG}/cpu${e.ctrCg}/cpu.shares`), '2');
      assert.equal(read(`${CG}/cpu${e.podCg}/cpu.shares`), '2');
      assert.equal(read(`${CG}/cpu/${CGROUP_ROOT}/kubepods/besteffort/cpu.shares`), '2');
      const ePid = read(`${CG}/memory${e.ctrCg}/cgroup.procs`).split('\n')[0]!;
      assert.equal(read(`/proc/${ePid}/oom_score_adj`), '1000');
    });

    await t.test('a memory hog is OOMKilled and restarted', async () => {
      await apply('hog', podYaml('hog', '{limits: {memory: 32Mi}}', `['sh', '-c', 'x=a; while :; do x=$x$x; done']`));
      const w = cl.spawnKubectl(V, ['get', 'pod', 'hog', '-w']);
      try {
        await until(
          'lastState OOMKilled',
          async () => (await jsonpath('pod hog', '{.status.containerStatuses[0].lastState.terminated.reason}')) === 'OOMKilled' || undefined,
          60_000,
          describe('hog'),
        );
        assert.equal(await jsonpath('pod hog', '{.status.containerStatuses[0].lastState.terminated.exitCode}'), '137');
        // kubectl get -w saw the OOMKilled status, then the restarts count up
        await w.waitFor(/^hog\s+0\/1\s+OOMKilled\s+\d+/m, 60_000);
        await until('RESTARTS ≥ 2', async () => Number(await jsonpath('pod hog', '{.status.containerStatuses[0].restartCount}')) >= 2 || undefined, 90_000, describe('hog'));
        await w.waitFor(/^hog\s+0\/1\s+CrashLoopBackOff\s+\d+/m, 60_000);
        const d = await k(['describe', 'pod', 'hog']);
        assert.match(d, /Last State:\s+Terminated\n\s+Reason:\s+OOMKilled\n\s+Exit Code:\s+137/);
      } finally {
        await w.kill();
      }
    });

    await t.test('stats/summary and metrics/resource through nodes/proxy', async () => {
      const summary = await until('the pods in /stats/summary with memory', async () => {
        const s = JSON.parse(await k(['get', '--raw', `/api/v1/nodes/${node}/proxy/stats/summary`]));
        const g = (s.pods ?? []).find((p: { podRef: { name: string } }) => p.podRef.name === 'guaranteed');
        return g?.containers?.[0]?.memory?.workingSetBytes > 0 ? s : undefined;
      });
      assert.equal(summary.node.nodeName, node);
      assert.ok(summary.node.cpu.usageCoreNanoSeconds > 0, 'node cpu');
      assert.ok(summary.node.memory.workingSetBytes > 0, 'node memory');
      const g = summary.pods.find((p: { podRef: { name: string } }) => p.podRef.name === 'guaranteed');
      assert.equal(g.podRef.namespace, 'default');
      assert.equal(g.containers[0].name, 'guaranteed');
      assert.ok(g.containers[0].cpu.usageCoreNanoSeconds > 0, 'container cpu');
      assert.ok(g.memory.workingSetBytes > 0, 'pod memory');
      const m = await k(['get', '--raw', `/api/v1/nodes/${node}/proxy/metrics/resource`]);
      assert.match(m, /^# TYPE container_memory_working_set_bytes gauge$/m);
      assert.match(m, /^container_memory_working_set_bytes\{container="guaranteed",namespace="default",pod="guaranteed"\} [0-9.e+]+ \d+$/m);
      assert.match(m, /^container_cpu_usage_seconds_total\{container="guaranteed",namespace="default",pod="guaranteed"\} /m);
      assert.match(m, /^pod_memory_working_set_bytes\{namespace="default",pod="guaranteed"\} /m);
      assert.match(m, /^node_memory_working_set_bytes [0-9.e+]+ \d+$/m);
      assert.match(m, /^resource_scrape_error 0$/m);
    });

    await t.test('deleting the pods removes their pod cgroups', async () => {
      const cgs = [await cgroupOf('guaranteed', ''), await cgroupOf('burstable', 'burstable'), await cgroupOf('besteffort', 'besteffort')];
      await k(['delete', 'pod', '--all', '--grace-period=1'], 60_000);
      await until('no pods', async () => (await cl.kubectl(V, ['get', 'pods', '-o', 'name'])).stdout.trim() === '' || undefined, 30_000);
      for (const cg of cgs) {
        await until(`${cg.podCg} removed`, async () => (['memory', 'cpu', 'pids'].every((h) => !fs.existsSync(`${CG}/${h}${cg.podCg}`)) ? true : undefined), 15_000);
      }
    });
  } finally {
    await c?.stop().catch(() => {});
    for (const p of await cleanup(root)) t.diagnostic(`cleanup: ${p}`);
  }
});
