// Resource arithmetic of the kubelet as upstream's (helpers_linux.go, qos/policy.go,
// calculateLinuxResources, ResourceConfigForPod), pod cgroup names by QoS class, the cgroupfs
// writes on a stand-in hierarchy, and the stats endpoints' shapes over a fake runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  containerOOMScoreAdjust,
  containerResources,
  milliCPUToQuota,
  milliCPUToShares,
  podCgroupName,
  podResourceConfig,
} from '../../src/kubelet/cm/helpers.js';
import { PodCgroups, sharesToWeight } from '../../src/kubelet/cm/cgroups.js';
import { StatsProvider, goFloat } from '../../src/kubelet/server/stats.js';
import type { ContainerRuntime, ContainerStats, ContainerStatus, SandboxStatus } from '../../src/kubelet/runtime/types.js';
import type { KObject } from '../../src/api/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const GI = 2 ** 30;

function pod(containers: Json[], extra: Json = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u-1' }, spec: { containers, ...extra } } as KObject;
}
const ctr = (resources: Json) => ({ name: 'c', image: 'busybox', resources });

test('MilliCPUToShares: 1024 per CPU, at least 2, at most 262144', () => {
  assert.equal(milliCPUToShares(0), 2);
  assert.equal(milliCPUToShares(1), 2);
  assert.equal(milliCPUToShares(100), 102);
  assert.equal(milliCPUToShares(500), 512);
  assert.equal(milliCPUToShares(1000), 1024);
  assert.equal(milliCPUToShares(300_000), 262144);
});

test('MilliCPUToQuota: limit × 100 ms period, at least 1 ms, 0 for no limit', () => {
  assert.equal(milliCPUToQuota(0), 0);
  assert.equal(milliCPUToQuota(500), 50000);
  assert.equal(milliCPUToQuota(2000), 200000);
  assert.equal(milliCPUToQuota(5), 1000);
  assert.equal(milliCPUToQuota(250, 50000), 12500);
});

test('oom_score_adj by QoS: Guaranteed -997, BestEffort 1000, Burstable 1000 − 1000·request/capacity in [3, 999]', () => {
  const g = ctr({ limits: { cpu: '1', memory: '1Gi' } });
  assert.equal(containerOOMScoreAdjust(pod([g]), g, 8 * GI), -997);
  const be = ctr({});
  assert.equal(containerOOMScoreAdjust(pod([be]), be, 8 * GI), 1000);
  const b = ctr({ requests: { memory: '2Gi' } });
  assert.equal(containerOOMScoreAdjust(pod([b]), b, 8 * GI), 750);
  const tiny = ctr({ requests: { cpu: '100m' } });
  assert.equal(containerOOMScoreAdjust(pod([tiny]), tiny, 8 * GI), 999, 'never the BestEffort score');
  const huge = ctr({ requests: { memory: '8Gi' } });
  assert.equal(containerOOMScoreAdjust(pod([huge]), huge, 8 * GI), 3, 'never below Guaranteed + 1000');
  // a node-critical static pod counts as Guaranteed
  const crit = pod([be], { priorityClassName: 'system-node-critical', priority: 2000001000 });
  assert.equal(containerOOMScoreAdjust(crit, be, 8 * GI), -997);
});

test('container resources: shares from the request (or the limit), quota and memory from limits', () => {
  const c1 = ctr({ limits: { cpu: '500m', memory: '64Mi' } });
  assert.deepEqual(containerResources(pod([c1]), c1, 8 * GI), { cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitBytes: 67108864, oomScoreAdj: -997 });
  const c2 = ctr({ requests: { cpu: '250m', memory: '32Mi' }, limits: { memory: '64Mi' } });
  const r2 = containerResources(pod([c2]), c2, 8 * GI);
  assert.equal(r2.cpuShares, 256);
  assert.equal(r2.cpuQuota, 0);
  assert.equal(r2.memoryLimitBytes, 67108864);
  const c3 = ctr({});
  assert.deepEqual(containerResources(pod([c3]), c3, 8 * GI), { cpuShares: 2, cpuPeriod: 100000, cpuQuota: 0, oomScoreAdj: 1000 });
  const c4 = ctr({ requests: { cpu: '1.5' }, limits: { cpu: '2', memory: '1G' } });
  const r4 = containerResources(pod([c4]), c4, 8 * GI);
  assert.equal(r4.cpuShares, 1536);
  assert.equal(r4.cpuQuota, 200000);
  assert.equal(r4.memoryLimitBytes, 1e9);
});

test('pod cgroup names by QoS class under <cgroup-root>/kubepods', () => {
  assert.equal(podCgroupName(pod([ctr({ limits: { cpu: '1', memory: '1Gi' } })])), '/kubepods/podu-1');
  assert.equal(podCgroupName(pod([ctr({ requests: { cpu: '1' } })])), '/kubepods/burstable/podu-1');
  assert.equal(podCgroupName(pod([ctr({})])), '/kubepods/besteffort/podu-1');
  assert.equal(podCgroupName(pod([ctr({})]), '/kts/node-a/'), '/kts/node-a/kubepods/besteffort/podu-1');
});

test('ResourceConfigForPod: sums of containers, init containers as a floor, limits only when every container declares them', () => {
  const g = pod([ctr({ limits: { cpu: '500m', memory: '64Mi' } }), { ...ctr({ limits: { cpu: '250m', memory: '32Mi' } }), name: 'd' }]);
  assert.deepEqual(podResourceConfig(g), { cpuShares: 768, cpuQuota: 75000, cpuPeriod: 100000, memoryLimitBytes: 100663296 });
  const b = pod([ctr({ requests: { cpu: '100m' }, limits: { memory: '64Mi' } }), { ...ctr({ requests: { cpu: '100m' } }), name: 'd' }]);
  assert.deepEqual(podResourceConfig(b), { cpuShares: 204 }, 'one container without limits: no pod limits');
  const bi = pod([ctr({ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } })], { initContainers: [{ ...ctr({ requests: { cpu: '1' }, limits: { cpu: '1', memory: '128Mi' } }), name: 'i' }] });
  assert.deepEqual(podResourceConfig(bi), { cpuShares: 1024, cpuQuota: 100000, cpuPeriod: 100000, memoryLimitBytes: 134217728 });
  assert.deepEqual(podResourceConfig(pod([ctr({})])), { cpuShares: 2 });
});

test('cgroup v2 weight from shares', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
});

test('PodCgroups writes the QoS and pod cgroups on a v1 hierarchy (a stand-in directory)', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cgfs-'));
  try {
    for (const c of ['cpu', 'cpuacct', 'memory', 'pids']) fs.mkdirSync(path.join(base, c));
    fs.writeFileSync(path.join(base, 'memory', 'memory.limit_in_bytes'), '9223372036854771712');
    const cg = new PodCgroups('/node-a', base);
    assert.equal(cg.mode, 'v1');
    const p = pod([ctr({ limits: { cpu: '500m', memory: '64Mi' } })]);
    assert.equal(cg.ensure(p), '/node-a/kubepods/podu-1');
    const rd = (f: string) => fs.readFileSync(path.join(base, f), 'utf8');
    assert.equal(rd('memory/node-a/kubepods/podu-1/memory.limit_in_bytes'), '67108864');
    assert.equal(rd('cpu/node-a/kubepods/podu-1/cpu.cfs_quota_us'), '50000');
    assert.equal(rd('cpu/node-a/kubepods/podu-1/cpu.cfs_period_us'), '100000');
    assert.equal(rd('cpu/node-a/kubepods/podu-1/cpu.shares'), '512');
    assert.equal(rd('cpu/node-a/kubepods/besteffort/cpu.shares'), '2');
    assert.ok(fs.existsSync(path.join(base, 'pids/node-a/kubepods/podu-1')));
    assert.deepEqual(cg.podUIDs(), ['u-1']);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('goFloat formats sample values as Go (strconv g, shortest)', () => {
  assert.equal(goFloat(0), '0');
  assert.equal(goFloat(1), '1');
  assert.equal(goFloat(123456), '123456');
  assert.equal(goFloat(12000000), '1.2e+07');
  assert.equal(goFloat(1234567), '1.234567e+06');
  assert.equal(goFloat(0.5), '0.5');
  assert.equal(goFloat(0.00001), '1e-05');
  assert.equal(goFloat(2.65), '2.65');
});

function fakeRuntime(stats: () => ContainerStats[]): ContainerRuntime {
  const sb: SandboxStatus = { id: 's1', uid: 'u-1', name: 'web', namespace: 'default', attempt: 0, state: 'ready', createdAt: 1_700_000_000_000, ips: [], labels: {}, annotations: {} };
  const c: ContainerStatus = {
    id: 'c1', sandboxId: 's1', name: 'app', attempt: 0, state: 'running', createdAt: 1_700_000_000_000, startedAt: 1_700_000_001_000, finishedAt: 0, exitCode: 0,
    image: 'busybox', imageRef: 'sha256:x', logPath: '', labels: {}, annotations: {},
  };
  return { listPodSandboxes: async () => [sb], listContainers: async () => [c], listContainerStats: async () => stats() } as unknown as ContainerRuntime;
}

test('stats/summary: the node from the host, pods and containers from the runtime, rates from the previous sample', async () => {
  let sample: ContainerStats = { id: 'c1', name: 'app', labels: {}, timestamp: 1_700_000_010_000, cpuUsageCoreNanoSeconds: 5e9, memoryWorkingSetBytes: 4096, memoryUsageBytes: 8192 };
  const sp = new StatsProvider({ runtime: fakeRuntime(() => [sample]), nodeName: 'n1', rootDir: os.tmpdir() });
  const s1 = await sp.summary();
  assert.equal(s1.node.nodeName, 'n1');
  assert.ok(s1.node.cpu.usageCoreNanoSeconds > 0);
  assert.ok(s1.node.memory.workingSetBytes > 0);
  assert.ok(s1.node.fs.capacityBytes > 0);
  assert.deepEqual(s1.pods[0].podRef, { name: 'web', namespace: 'default', uid: 'u-1' });
  const c = s1.pods[0].containers[0];
  assert.equal(c.name, 'app');
  assert.equal(c.startTime, '2023-11-14T22:13:21Z');
  assert.equal(c.cpu.usageCoreNanoSeconds, 5e9);
  assert.equal(c.cpu.usageNanoCores, undefined, 'no rate from one sample');
  assert.equal(c.memory.workingSetBytes, 4096);
  assert.equal(s1.pods[0].memory.workingSetBytes, 4096);
  sample = { ...sample, timestamp: sample.timestamp + 2000, cpuUsageCoreNanoSeconds: 6e9 };
  const s2 = await sp.summary();
  assert.equal(s2.pods[0].containers[0].cpu.usageNanoCores, 5e8, '1 s of CPU over 2 s: half a core');
  assert.equal(s2.pods[0].cpu.usageNanoCores, 5e8);

  const m = await sp.resourceMetrics();
  assert.match(m, /^# HELP container_cpu_usage_seconds_total \[STABLE\] Cumulative cpu time consumed by the container in core-seconds$/m);
  assert.match(m, /^container_cpu_usage_seconds_total\{container="app",namespace="default",pod="web"\} 6 1700000012000$/m);
  assert.match(m, /^container_memory_working_set_bytes\{container="app",namespace="default",pod="web"\} 4096 1700000012000$/m);
  assert.match(m, /^pod_memory_working_set_bytes\{namespace="default",pod="web"\} 4096 \d+$/m);
  assert.match(m, /^# TYPE node_cpu_usage_seconds_total counter$/m);
  assert.match(m, /^resource_scrape_error 0$/m);
});
