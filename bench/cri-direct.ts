// containerd's own cost, without kts's kubelet: N sandboxes (busybox `sleep 3600` in each) run
// straight over CRI with everything at once — RunPodSandbox, CreateContainer, StartContainer per
// pod, all pods concurrently — once on the pod network (CNI bridge) and once with hostNetwork
// (no CNI), so the kubelet rows in bench/kubelet.ts can be split into ours and containerd's.
// Needs the caller to hold /tmp/kts-ctr.lock (bench/kubelet.ts does).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerdPaths, createCRIRuntime } from '../src/kubelet/runtime/cri/index.js';
import type { ContainerRuntime, PodSandboxConfig } from '../src/kubelet/runtime/types.js';
import { silentLogger } from '../src/util/log.js';
import { BUSYBOX, PAUSE, importTestImages } from '../test/containers/images.js';
import { criCleanup } from './pods.js';
import { pct } from './harness.js';

export interface DirectResult {
  pods: number;
  hostNetwork: boolean;
  /** ms per call kind: sorted durations. */
  calls: Record<string, number[]>;
  /** ms from the first RunPodSandbox to each pod's StartContainer returning, sorted. */
  podMs: number[];
  wallS: number;
}

async function onePod(rt: ContainerRuntime, i: number, root: string, hostNetwork: boolean, calls: Record<string, number[]>): Promise<void> {
  const time = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      (calls[name] ??= []).push(performance.now() - t);
    }
  };
  const uid = `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
  const sb: PodSandboxConfig = {
    uid,
    name: `direct-${i}`,
    namespace: 'bench',
    attempt: 0,
    hostname: `direct-${i}`,
    logDirectory: join(root, 'logs', uid),
    portMappings: [],
    hostNetwork,
    labels: {},
    annotations: {},
  };
  const id = await time('RunPodSandbox', () => rt.runPodSandbox(sb));
  const cid = await time('CreateContainer', () =>
    rt.createContainer(id, { name: 'c', attempt: 0, image: BUSYBOX, command: ['sleep', '3600'], args: [], env: [], mounts: [], logPath: 'c/0.log', stdin: false, stdinOnce: false, tty: false, labels: {}, annotations: {} }, sb),
  );
  await time('StartContainer', () => rt.startContainer(cid));
}

export async function benchCRIDirect(pods: number, hostNetwork: boolean, bridge: string): Promise<DirectResult> {
  const root = fs.mkdtempSync(join(tmpdir(), 'kts-bench-cri-'));
  const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: bridge, podCIDR: '10.244.200.0/24' });
  try {
    await importTestImages(containerdPaths(root).socket, join(root, 'images'));
    const calls: Record<string, number[]> = {};
    const done: number[] = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: pods }, (_, i) => onePod(rt, i, root, hostNetwork, calls).then(() => done.push(performance.now() - t0))));
    const wallS = (performance.now() - t0) / 1000;
    for (const v of Object.values(calls)) v.sort((a, b) => a - b);
    return { pods, hostNetwork, calls, podMs: done.sort((a, b) => a - b), wallS };
  } finally {
    await rt.close();
    await criCleanup(root, bridge);
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

export function directRow(r: DirectResult): string[] {
  const c = (m: string) => `${pct(r.calls[m] ?? [], 50).toFixed(0)} / ${pct(r.calls[m] ?? [], 99).toFixed(0)}`;
  return [`containerd alone, ${r.pods} at once, ${r.hostNetwork ? 'hostNetwork' : 'pod network'}`, c('RunPodSandbox'), c('CreateContainer'), c('StartContainer'), `${pct(r.podMs, 50).toFixed(0)} / ${pct(r.podMs, 99).toFixed(0)}`, r.wallS.toFixed(1)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 50);
  for (const hn of [false, true]) {
    const r = await benchCRIDirect(n, hn, 'ktsbench1');
    console.log(directRow(r).join(' | '));
  }
}
