// Pod cgroups with the cgroupfs driver, as upstream's pod container manager and QoS container
// manager (pkg/kubelet/cm): <root>/kubepods for Guaranteed pods, <root>/kubepods/burstable and
// <root>/kubepods/besteffort (cpu.shares 2) for the others, one pod<uid> cgroup per pod holding
// the pod's limits. The runtime puts the sandbox and each container below it (cgroupParent +
// "/" + container id) and removes those leaves itself; the pod cgroup is ours to remove.
//
// cgroup v1 (hybrid or legacy: /sys/fs/cgroup/<controller>/) and v2 (unified) are handled.
// Not done: the burstable cgroup's cpu.shares following the sum of burstable requests, and
// node-allocatable enforcement on kubepods (upstream's --enforce-node-allocatable).
import fs from 'node:fs';
import path from 'node:path';
import type { KObject } from '../../api/types.js';
import { MAX_SHARES, MIN_SHARES, podCgroupName, podResourceConfig, type ResourceConfig } from './helpers.js';

const CGROUP_FS = '/sys/fs/cgroup';

/** The controllers whose pod cgroup we create and limit (v1); the runtime creates the rest. */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

export type CgroupMode = 'v1' | 'v2' | 'none';

export function cgroupMode(base = CGROUP_FS): CgroupMode {
  if (process.platform !== 'linux') return 'none';
  if (fs.existsSync(path.join(base, 'cgroup.controllers'))) return 'v2';
  if (fs.existsSync(path.join(base, 'memory', 'memory.limit_in_bytes'))) return 'v1';
  return 'none';
}

/** cgroup v2 cpu.weight from v1 shares (the conversion runc and the kubelet use). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - MIN_SHARES) * 9999) / (MAX_SHARES - MIN_SHARES));
}

export class PodCgroups {
  readonly mode: CgroupMode;

  constructor(
    /** --cgroup-root: the parent of kubepods ("/" by default). */
    readonly cgroupRoot = '/',
    private readonly base = CGROUP_FS,
    private readonly warn: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {
    this.mode = cgroupMode(base);
  }

  /** The cgroupParent for the pod's sandbox and containers. */
  podCgroup(pod: KObject): string {
    return podCgroupName(pod, this.cgroupRoot);
  }

  /** Creates the QoS cgroups (once) and the pod cgroup with the pod's limits (EnsureExists + Update). */
  ensure(pod: KObject): string {
    const name = this.podCgroup(pod);
    if (this.mode === 'none') return name;
    const kubepods = path.posix.join('/', this.cgroupRoot, 'kubepods');
    this.create(kubepods, {});
    this.create(`${kubepods}/burstable`, {});
    this.create(`${kubepods}/besteffort`, { cpuShares: MIN_SHARES });
    this.create(name, podResourceConfig(pod));
    return name;
  }

  /** Removes the pod cgroup (all of its hierarchies) once nothing runs in it; leftovers below it first. */
  remove(uid: string): void {
    if (this.mode === 'none') return;
    const kubepods = path.posix.join('/', this.cgroupRoot, 'kubepods');
    for (const parent of [kubepods, `${kubepods}/burstable`, `${kubepods}/besteffort`]) {
      for (const dir of this.hierarchies(`${parent}/pod${uid}`)) rmTree(dir);
    }
  }

  /** Pod UIDs that have a cgroup under kubepods (for cleaning up after pods gone while we were down). */
  podUIDs(): string[] {
    if (this.mode === 'none') return [];
    const kubepods = path.posix.join('/', this.cgroupRoot, 'kubepods');
    const dir = (p: string) => (this.mode === 'v2' ? path.join(this.base, p) : path.join(this.base, 'memory', p));
    const out = new Set<string>();
    for (const parent of [kubepods, `${kubepods}/burstable`, `${kubepods}/besteffort`]) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir(parent));
      } catch {
        continue;
      }
      for (const n of names) if (n.startsWith('pod')) out.add(n.slice(3));
    }
    return [...out];
  }

  /** Absolute directories of a cgroup in every mounted hierarchy (v1: one per controller). */
  private hierarchies(cg: string): string[] {
    if (this.mode === 'v2') return [path.join(this.base, cg)];
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(this.base, { withFileTypes: true });
    } catch {
      return [];
    }
    // cpu and cpuacct may be one mount with symlinks (cpu,cpuacct): visit each real directory once
    const seen = new Set<string>();
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const dir = path.join(this.base, e.name, cg);
      let real: string;
      try {
        real = fs.realpathSync(dir);
      } catch {
        continue;
      }
      if (!seen.has(real)) {
        seen.add(real);
        out.push(real);
      }
    }
    return out;
  }

  private create(cg: string, cfg: ResourceConfig): void {
    try {
      if (this.mode === 'v2') this.createV2(cg, cfg);
      else this.createV1(cg, cfg);
    } catch (e) {
      this.warn('cannot set up a pod cgroup', { cgroup: cg, err: String((e as Error).message ?? e) });
    }
  }

  private createV1(cg: string, cfg: ResourceConfig): void {
    for (const ctl of V1_CONTROLLERS) fs.mkdirSync(path.join(this.base, ctl, cg), { recursive: true });
    const cpu = path.join(this.base, 'cpu', cg);
    const mem = path.join(this.base, 'memory', cg);
    if (cfg.cpuShares !== undefined) write(cpu, 'cpu.shares', cfg.cpuShares);
    if (cfg.cpuPeriod) write(cpu, 'cpu.cfs_period_us', cfg.cpuPeriod);
    if (cfg.cpuQuota) write(cpu, 'cpu.cfs_quota_us', cfg.cpuQuota);
    if (cfg.memoryLimitBytes) setMemoryLimitV1(mem, cfg.memoryLimitBytes);
  }

  private createV2(cg: string, cfg: ResourceConfig): void {
    // every level below the root must delegate cpu, memory and pids to the next
    const parts = cg.split('/').filter(Boolean);
    let dir = this.base;
    for (const p of parts) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+cpu +memory +pids');
      } catch {
        /* a controller not available here: the limits below it are skipped */
      }
      dir = path.join(dir, p);
      fs.mkdirSync(dir, { recursive: true });
    }
    if (cfg.cpuShares !== undefined) write(dir, 'cpu.weight', sharesToWeight(cfg.cpuShares));
    if (cfg.cpuQuota) write(dir, 'cpu.max', `${cfg.cpuQuota} ${cfg.cpuPeriod ?? 100000}`);
    if (cfg.memoryLimitBytes) write(dir, 'memory.max', cfg.memoryLimitBytes);
  }
}

function write(dir: string, file: string, v: number | string): void {
  fs.writeFileSync(path.join(dir, file), String(v));
}

/** A lower limit than current usage fails with EBUSY; a resized pod is rare: keep what is there then. */
function setMemoryLimitV1(dir: string, limit: number): void {
  try {
    write(dir, 'memory.limit_in_bytes', limit);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
  }
}

/** rmdir a cgroup and any (empty) children; a cgroup with tasks stays (EBUSY). */
function rmTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* still has tasks, or already gone */
  }
}
