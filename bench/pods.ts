// Pod startup latency on the server's own node: an in-process kts server with its kubelet,
// pods created through the in-process client, and for each pod the time from its create
// request to the first watch event showing it Running (scheduling, sandbox, container start,
// status update and the watch all included). The image is present beforehand. Runs on the cri
// runtime (kts's own containerd) when this machine can (root, containerd, runc, CNI,
// busybox-static), else on the process runtime; the table says which.
// Run: node dist/bench/pods.js  (or through bench/run).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { call, type Client } from '../src/client/client.js';
import { InProcessClient } from '../src/client/inprocess.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/util/log.js';
import { containerdAvailable, containerdPaths, createCRIRuntime } from '../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../src/kubelet/runtime/cri/cni.js';
import { PAUSE, imagesUnavailable, importTestImages } from '../test/containers/images.js';
import { formatTable, pct, progress, sleep } from './harness.js';

const BRIDGE = 'ktsbench0';
const CLUSTER_CIDR = '10.241.0.0/16';
const CONCURRENCY = 10;

/** Why the cri runtime cannot be benchmarked here, or undefined. */
export function criUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!containerdAvailable()) return 'no containerd';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no runc';
  }
  if (!findCNIBinDir()) return 'no CNI plugins';
  return imagesUnavailable();
}

export function shimsUnder(root: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && cmd.includes(`${root}/`)) pids.push(Number(d));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Removes what is left in kts's containerd under root, stops it, kills stray shims, drops the bridge and mounts. */
export async function criCleanup(root: string, bridge = BRIDGE): Promise<void> {
  try {
    const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: bridge });
    for (const c of await rt.listContainers()) await rt.removeContainer(c.id).catch(() => {});
    for (const p of await rt.listPodSandboxes()) {
      await rt.stopPodSandbox(p.id).catch(() => {});
      await rt.removePodSandbox(p.id).catch(() => {});
    }
    await rt.close();
  } catch {
    /* best effort */
  }
  for (const pid of shimsUnder(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    /* not created */
  }
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
}

export interface PodStartupResult {
  runtime: string;
  pods: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  allRunningSeconds: number;
}

export async function benchPodStartupOnce(pods: number): Promise<PodStartupResult> {
  // KTS_BENCH_POD_RUNTIME=process forces the process runtime
  const why = process.env['KTS_BENCH_POD_RUNTIME'] === 'process' ? 'KTS_BENCH_POD_RUNTIME=process' : criUnavailable();
  const runtime = why ? 'process' : 'cri';
  const dataDir = fs.mkdtempSync(join(tmpdir(), 'kts-bench-pods-'));
  const rootDir = join(dataDir, 'kubelet');
  if (runtime === 'cri') {
    // the image is present before the first pod: import the offline images into kts's containerd
    const rt = await createCRIRuntime({ rootDir, log: silentLogger, pauseImage: PAUSE, cniBridge: BRIDGE });
    await importTestImages(containerdPaths(rootDir).socket, join(rootDir, 'images'));
    await rt.close();
    process.env['KTS_CNI_BRIDGE'] = BRIDGE;
  }
  const server = await startServer({
    dataDir,
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    tlsSANs: [],
    serviceCIDR: '10.96.0.0/12',
    clusterCIDR: CLUSTER_CIDR,
    serviceNodePortRange: '30000-32767',
    logFormat: 'text',
    compactIntervalMs: 0,
    logger: silentLogger,
    kubelet: { containerRuntime: runtime, rootDir, port: 0, pauseImage: runtime === 'cri' ? PAUSE : undefined },
  });
  const client: Client = new InProcessClient(server.api);
  try {
    // the node must be Ready before pods can be scheduled to it
    for (let i = 0; ; i++) {
      const nodes = await call<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(client, 'GET', '/api/v1/nodes');
      if (nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) break;
      if (i > 600) throw new Error('the node never became Ready');
      await sleep(100);
    }
    await call(client, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
    // wait for the default ServiceAccount (pods are rejected without it)
    for (let i = 0; ; i++) {
      try {
        await call(client, 'GET', '/api/v1/namespaces/bench/serviceaccounts/default');
        break;
      } catch (e) {
        if (i > 100) throw e;
        await sleep(100);
      }
    }
    const created = new Map<string, number>();
    const latency = new Map<string, number>();
    let done!: () => void;
    const allRunning = new Promise<void>((r) => (done = r));
    const w = client.watch(
      '/api/v1/namespaces/bench/pods',
      {},
      (e) => {
        if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
        const name = e.object.metadata.name!;
        const phase = (e.object as { status?: { phase?: string } }).status?.phase;
        const t = created.get(name);
        if (phase === 'Running' && t !== undefined && !latency.has(name)) {
          latency.set(name, performance.now() - t);
          if (latency.size === pods) done();
        }
      },
      () => {},
    );
    const names = Array.from({ length: pods }, (_, i) => `pod-${i}`);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < names.length) {
          const n = names[next++]!;
          created.set(n, performance.now());
          await call(client, 'POST', '/api/v1/namespaces/bench/pods', {
            body: {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: n, namespace: 'bench' },
              spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.28', command: ['sleep', '3600'] }] },
            },
          });
        }
      }),
    );
    const timeout = new Promise<void>((r) => setTimeout(r, 180_000).unref());
    await Promise.race([allRunning, timeout]);
    const allRunningSeconds = (performance.now() - t0) / 1000;
    w.stop();
    const sorted = [...latency.values()].sort((a, b) => a - b);
    if (sorted.length < pods) progress(`pods: only ${sorted.length}/${pods} pods reached Running within 180 s`);
    // delete the pods and let the kubelet tear them down
    await call(client, 'DELETE', '/api/v1/namespaces/bench/pods', {}).catch(() => {});
    for (let i = 0; i < 300; i++) {
      const l = await call<{ items: unknown[] }>(client, 'GET', '/api/v1/namespaces/bench/pods');
      if (!l.items.length) break;
      await sleep(100);
    }
    return { runtime: why ? `process (cri unavailable: ${why})` : 'cri (containerd)', pods: sorted.length, p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), minMs: sorted[0] ?? NaN, maxMs: sorted[sorted.length - 1] ?? NaN, allRunningSeconds };
  } finally {
    await server.stop();
    if (runtime === 'cri') await criCleanup(rootDir);
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

export async function benchPodStartup(pods = 50): Promise<void> {
  const r = await benchPodStartupOnce(pods);
  console.log(`Pod startup latency (created → Running seen through a watch), ${r.pods} pods, ${CONCURRENCY} created at a time, image present; runtime: ${r.runtime}`);
  console.log('');
  console.log(
    formatTable(
      ['Runtime', 'Pods', 'min (ms)', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'All Running (s)'],
      [[r.runtime.split(' ')[0]!, String(r.pods), r.minMs.toFixed(0), r.p50Ms.toFixed(0), r.p99Ms.toFixed(0), r.maxMs.toFixed(0), r.allRunningSeconds.toFixed(1)]],
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 50);
  await benchPodStartup(n);
}
