// The kubelet's resource usage endpoints, as metrics-server and `kubectl top` read them:
//   GET /stats/summary          the Summary API (k8s.io/kubelet/pkg/apis/stats/v1alpha1)
//   GET /metrics/resource       the same numbers in Prometheus text (upstream's resource metrics)
// The node's numbers come from the host (/proc, the root cgroup), the pods' and containers'
// from the runtime (CRI ListContainerStats); a pod's usage is the sum of its containers'.
// usageNanoCores is a rate: computed from the previous sample, absent on the first one (as
// upstream's CRI stats provider does).
import fs from 'node:fs';
import os from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContainerRuntime, ContainerStats } from '../runtime/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const USER_HZ = 100;

interface CpuSample {
  at: number;
  usage: number;
  rate?: number;
}

/** metav1.Time: seconds precision. */
const t = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function readFile(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** Cumulative CPU time of the whole host in nanoseconds: the root cpuacct cgroup, else /proc/stat. */
export function hostCPUUsageNs(): number {
  const acct = readFile('/sys/fs/cgroup/cpuacct/cpuacct.usage');
  if (acct && /^\d+/.test(acct)) return Number(acct.trim());
  const v2 = readFile('/sys/fs/cgroup/cpu.stat');
  const m = v2 && /^usage_usec (\d+)/m.exec(v2);
  if (m) return Number(m[1]) * 1000;
  const line = (readFile('/proc/stat') ?? '').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return Math.round((busy * 1e9) / USER_HZ);
}

/** The host's memory as upstream reports the node: working set = usage − inactive file pages. */
export function hostMemory(): { availableBytes: number; usageBytes: number; workingSetBytes: number; rssBytes: number; pageFaults: number; majorPageFaults: number } {
  const info: Record<string, number> = {};
  for (const l of (readFile('/proc/meminfo') ?? '').split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(l);
    if (m) info[m[1]!] = Number(m[2]) * 1024;
  }
  const total = info['MemTotal'] ?? os.totalmem();
  const usage = total - (info['MemFree'] ?? os.freemem());
  const workingSet = Math.max(0, usage - (info['Inactive(file)'] ?? 0));
  const vm: Record<string, number> = {};
  for (const l of (readFile('/proc/vmstat') ?? '').split('\n')) {
    const [k, v] = l.split(' ');
    if (k) vm[k] = Number(v);
  }
  return {
    availableBytes: Math.max(0, total - workingSet),
    usageBytes: usage,
    workingSetBytes: workingSet,
    rssBytes: (info['AnonPages'] ?? 0) + (info['Shmem'] ?? 0),
    pageFaults: vm['pgfault'] ?? 0,
    majorPageFaults: vm['pgmajfault'] ?? 0,
  };
}

function fsStats(dir: string, time: string): Json | undefined {
  try {
    const s = fs.statfsSync(dir);
    return {
      time,
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}

export interface StatsProviderOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  /** Filesystem reported as node.fs (the kubelet's root directory). */
  rootDir?: string;
}

export class StatsProvider {
  private readonly cpu = new Map<string, CpuSample>();
  private nodeCpu: CpuSample = { at: Date.now(), usage: hostCPUUsageNs() };

  constructor(private readonly opts: StatsProviderOptions) {}

  /** A rate in nanocores from the previous cumulative sample of `key`. */
  private nanoCores(key: string, at: number, usage: number): number | undefined {
    const prev = this.cpu.get(key);
    if (prev && prev.at === at) return prev.rate;
    const rate = prev && at > prev.at && usage >= prev.usage ? Math.round((usage - prev.usage) / ((at - prev.at) / 1e3)) : undefined;
    this.cpu.set(key, { at, usage, rate });
    return rate;
  }

  private nodeStats(now: number): Json {
    const usage = hostCPUUsageNs();
    const prev = this.nodeCpu;
    this.nodeCpu = { at: now, usage };
    const cpu: Json = { time: t(now), usageCoreNanoSeconds: usage };
    if (now > prev.at && usage >= prev.usage) cpu.usageNanoCores = Math.round((usage - prev.usage) / ((now - prev.at) / 1e3));
    const node: Json = {
      nodeName: this.opts.nodeName,
      startTime: t(Date.now() - os.uptime() * 1000),
      cpu,
      memory: { time: t(now), ...hostMemory() },
    };
    const f = this.opts.rootDir ? fsStats(this.opts.rootDir, t(now)) : undefined;
    if (f) node.fs = f;
    return node;
  }

  /** The Summary API object. */
  async summary(onlyCpuAndMemory = false): Promise<Json> {
    const now = Date.now();
    const rt = this.opts.runtime;
    const [sandboxes, containers, stats] = await Promise.all([
      rt.listPodSandboxes(),
      rt.listContainers(),
      rt.listContainerStats ? rt.listContainerStats().catch(() => [] as ContainerStats[]) : Promise.resolve([] as ContainerStats[]),
    ]);
    const byId = new Map(stats.map((s) => [s.id, s]));
    const live = new Set<string>();
    const pods: Json[] = [];
    for (const sb of sandboxes) {
      if (sb.state !== 'ready') continue;
      const podCpu = { usageCoreNanoSeconds: 0, usageNanoCores: 0, rate: true, any: false };
      const podMem = { workingSetBytes: 0, usageBytes: 0, rssBytes: 0, pageFaults: 0, majorPageFaults: 0, any: false };
      const cs: Json[] = [];
      for (const c of containers) {
        if (c.sandboxId !== sb.id || c.state !== 'running') continue;
        const s = byId.get(c.id);
        const out: Json = { name: c.name, startTime: t(c.startedAt || c.createdAt) };
        if (s) {
          live.add(c.id);
          const at = s.timestamp || now;
          const cpu: Json = { time: t(at) };
          if (s.cpuUsageCoreNanoSeconds !== undefined) {
            cpu.usageCoreNanoSeconds = s.cpuUsageCoreNanoSeconds;
            const nc = s.cpuUsageNanoCores ?? this.nanoCores(c.id, at, s.cpuUsageCoreNanoSeconds);
            if (nc !== undefined) cpu.usageNanoCores = nc;
            podCpu.any = true;
            podCpu.usageCoreNanoSeconds += s.cpuUsageCoreNanoSeconds;
            if (nc === undefined) podCpu.rate = false;
            else podCpu.usageNanoCores += nc;
          }
          const mem: Json = { time: t(at) };
          for (const [k, v] of [
            ['availableBytes', s.memoryAvailableBytes],
            ['usageBytes', s.memoryUsageBytes],
            ['workingSetBytes', s.memoryWorkingSetBytes],
            ['rssBytes', s.memoryRssBytes],
            ['pageFaults', s.pageFaults],
            ['majorPageFaults', s.majorPageFaults],
          ] as const) {
            if (v === undefined) continue;
            mem[k] = v;
            if (k !== 'availableBytes') podMem[k] += v;
            podMem.any = true;
          }
          out.cpu = cpu;
          out.memory = mem;
          if (!onlyCpuAndMemory && s.writableLayerUsedBytes !== undefined) out.rootfs = { time: t(at), usedBytes: s.writableLayerUsedBytes };
        }
        cs.push(out);
      }
      const pod: Json = {
        podRef: { name: sb.name, namespace: sb.namespace, uid: sb.uid },
        startTime: t(sb.createdAt),
        containers: cs,
      };
      if (podCpu.any) {
        pod.cpu = { time: t(now), usageCoreNanoSeconds: podCpu.usageCoreNanoSeconds };
        if (podCpu.rate) pod.cpu.usageNanoCores = podCpu.usageNanoCores;
      }
      if (podMem.any) {
        const { any: _any, ...m } = podMem;
        pod.memory = { time: t(now), ...m };
      }
      pods.push(pod);
    }
    // forget containers that are gone
    for (const k of this.cpu.keys()) if (!live.has(k)) this.cpu.delete(k);
    const node = this.nodeStats(now);
    if (onlyCpuAndMemory) delete node.fs;
    return { node, pods };
  }

  /** /metrics/resource: upstream's resource metrics (STABLE set) in Prometheus text format 0.0.4. */
  async resourceMetrics(): Promise<string> {
    let s: Json;
    let scrapeError = 0;
    try {
      s = await this.summary(true);
    } catch {
      scrapeError = 1;
      s = { node: this.nodeStats(Date.now()), pods: [] };
    }
    const ms = (time: string) => Date.parse(time);
    const lines: string[] = [];
    const family = (name: string, help: string, type: 'counter' | 'gauge', samples: [Record<string, string>, number, string | undefined][]) => {
      lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v, time] of samples) lines.push(`${name}${labelText(labels)} ${goFloat(v)}${time ? ` ${ms(time)}` : ''}`);
    };
    const cpuC: [Record<string, string>, number, string][] = [];
    const memC: [Record<string, string>, number, string][] = [];
    const startC: [Record<string, string>, number, string | undefined][] = [];
    const cpuP: [Record<string, string>, number, string][] = [];
    const memP: [Record<string, string>, number, string][] = [];
    for (const p of s.pods as Json[]) {
      const pl = { namespace: p.podRef.namespace, pod: p.podRef.name };
      for (const c of p.containers as Json[]) {
        const l = { container: c.name, ...pl };
        if (c.cpu?.usageCoreNanoSeconds !== undefined) cpuC.push([l, c.cpu.usageCoreNanoSeconds / 1e9, c.cpu.time]);
        if (c.memory?.workingSetBytes !== undefined) memC.push([l, c.memory.workingSetBytes, c.memory.time]);
        startC.push([l, Date.parse(c.startTime) / 1000, undefined]);
      }
      if (p.cpu?.usageCoreNanoSeconds !== undefined) cpuP.push([pl, p.cpu.usageCoreNanoSeconds / 1e9, p.cpu.time]);
      if (p.memory?.workingSetBytes !== undefined) memP.push([pl, p.memory.workingSetBytes, p.memory.time]);
    }
    family('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the container in core-seconds', 'counter', cpuC);
    family('container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge', memC);
    family('container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge', startC);
    family('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter', [[{}, s.node.cpu.usageCoreNanoSeconds / 1e9, s.node.cpu.time]]);
    family('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge', [[{}, s.node.memory.workingSetBytes, s.node.memory.time]]);
    family('pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds', 'counter', cpuP);
    family('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge', memP);
    family('resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge', [[{}, scrapeError, undefined]]);
    return lines.join('\n') + '\n';
  }
}

function labelText(labels: Record<string, string>): string {
  const e = Object.entries(labels);
  if (!e.length) return '';
  return `{${e.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64), as the Prometheus client writes sample values. */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  // shortest digits; %e form when the exponent is < -4 or >= 6 (Go's eprec for shortest 'g')
  const [m, e] = v.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}

/** Serves the stats routes; false when the path is not one of them. */
export async function serveStats(provider: StatsProvider, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET') return false;
  if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
    const body = JSON.stringify(await provider.summary(url.searchParams.get('only_cpu_and_memory') === 'true'), null, 2);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
    return true;
  }
  if (url.pathname === '/metrics/resource') {
    const body = await provider.resourceMetrics();
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
    return true;
  }
  return false;
}
