// The node this kubelet runs on: registration (capacity/allocatable from the host, addresses,
// nodeInfo, labels), Lease heartbeats every 10 s in kube-node-lease, status every minute or
// when it changes, and a pod CIDR (the next free /24 of the cluster CIDR) when it has none.
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, freemem, networkInterfaces, release, totalmem } from 'node:os';
import { call, isConflict, isNotFound, resourcePath } from '../client/client.js';
import type { KObject } from '../api/types.js';
import type { ControllerContext } from '../controllers/context.js';
import { EventRecorder } from '../client/events.js';
import { PodCIDRAllocator } from './simulated/ipam.js';
import { KUBELET_VERSION, microTime } from './simulated/node.js';
import { mergeConditions, ts } from './simulated/pod.js';
import type { ContainerRuntime } from './runtime/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export { KUBELET_VERSION };
const LEASE_NS = 'kube-node-lease';

/** The first non-internal IPv4 address, else loopback. */
export function hostIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

function readTrim(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function osImage(): string {
  const t = readTrim('/etc/os-release') ?? '';
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(t);
  return m?.[1] ?? 'Linux';
}

export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

export interface NodeOptions {
  nodeName: string;
  rootDir: string;
  hostIP?: string;
  clusterCIDR?: string;
  /** Labels for servers: node-role.kubernetes.io/control-plane. */
  controlPlane?: boolean;
  extraLabels?: Record<string, string>;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  statusUpdateIntervalMs?: number;
  /** The kubelet server's port, published as daemonEndpoints.kubeletEndpoint.Port. */
  kubeletPort?: number;
}

/** Host capacity and allocatable (kubelet defaults: evictionHard memory 100Mi, nodefs 10 %). */
export function hostResources(rootDir: string): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memKi = Math.floor(totalmem() / 1024);
  let diskKi = 0;
  try {
    const s = statfsSync(rootDir);
    diskKi = Math.floor((s.blocks * s.bsize) / 1024);
  } catch {
    diskKi = 0;
  }
  const capacity = {
    cpu: String(cpus().length),
    'ephemeral-storage': `${diskKi}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods: '110',
  };
  const allocatable = { ...capacity, 'ephemeral-storage': String(Math.floor(diskKi * 1024 * 0.9)), memory: `${Math.max(0, memKi - 100 * 1024)}Ki` };
  return { capacity, allocatable };
}

/** Ready/MemoryPressure/DiskPressure/PIDPressure with upstream's reasons, from the host's state. */
export function nodeConditions(existing: Json[] | undefined, now: Date, p: { memoryPressure: boolean; diskPressure: boolean; pidPressure: boolean; ready: boolean; notReadyMessage?: string }): Json[] {
  const ours = [
    p.memoryPressure
      ? { type: 'MemoryPressure', status: 'True' as const, reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False' as const, reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    p.diskPressure
      ? { type: 'DiskPressure', status: 'True' as const, reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False' as const, reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    p.pidPressure
      ? { type: 'PIDPressure', status: 'True' as const, reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False' as const, reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    p.ready
      ? { type: 'Ready', status: 'True' as const, reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False' as const, reason: 'KubeletNotReady', message: p.notReadyMessage ?? 'container runtime is down' },
  ];
  return mergeConditions(existing, ours, now).map((c) => {
    if (!ours.some((o) => o.type === c.type)) return c;
    return { type: c.type, status: c.status, lastHeartbeatTime: ts(now), lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  });
}

export class NodeAgent {
  readonly hostIP: string;
  podCIDR?: string;
  uid?: string;
  private leaseTimer?: { cancel(): void };
  private statusTimer?: { cancel(): void };
  private stopped = false;
  private lastStatusKey = '';
  private readonly recorder: EventRecorder;
  private readonly leaseMs: number;
  private readonly statusMs: number;
  private readyResolve!: () => void;
  /** Resolves once the Node exists (with its pod CIDR). */
  readonly registered: Promise<void> = new Promise((r) => (this.readyResolve = r));

  constructor(
    private readonly ctx: ControllerContext,
    private readonly runtime: () => ContainerRuntime | undefined,
    readonly opts: NodeOptions,
  ) {
    this.hostIP = opts.hostIP ?? hostIPv4();
    this.recorder = new EventRecorder(ctx.client, { component: 'kubelet', host: opts.nodeName }, ctx.clock);
    this.leaseMs = opts.leaseRenewIntervalMs ?? 10_000;
    this.statusMs = opts.statusUpdateIntervalMs ?? 60_000;
  }

  get name(): string {
    return this.opts.nodeName;
  }

  labels(): Record<string, string> {
    const a = goArch();
    return {
      'beta.kubernetes.io/arch': a,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': a,
      'kubernetes.io/hostname': this.name,
      'kubernetes.io/os': 'linux',
      ...(this.opts.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      ...this.opts.extraLabels,
    };
  }

  private async nodeInfo(): Promise<Json> {
    const rt = this.runtime();
    const v = rt ? await rt.version().catch(() => ({ name: rt.type, version: 'unknown' })) : { name: 'unknown', version: 'unknown' };
    const machineID = readTrim('/etc/machine-id') ?? '';
    return {
      architecture: goArch(),
      bootID: readTrim('/proc/sys/kernel/random/boot_id') ?? '',
      containerRuntimeVersion: `${v.name}://${v.version}`,
      kernelVersion: release(),
      kubeProxyVersion: KUBELET_VERSION,
      kubeletVersion: KUBELET_VERSION,
      machineID,
      operatingSystem: 'linux',
      osImage: osImage(),
      systemUUID: readTrim('/sys/class/dmi/id/product_uuid') ?? machineID.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
    };
  }

  private pressure(): { memoryPressure: boolean; diskPressure: boolean; pidPressure: boolean; ready: boolean } {
    let diskPressure = false;
    try {
      const s = statfsSync(this.opts.rootDir);
      diskPressure = s.bavail / s.blocks < 0.1;
    } catch {
      diskPressure = false;
    }
    return { memoryPressure: freemem() < 100 * 1024 * 1024, diskPressure, pidPressure: false, ready: !!this.runtime() };
  }

  private async buildStatus(existing: Json | undefined): Promise<Json> {
    const { capacity, allocatable } = hostResources(this.opts.rootDir);
    return {
      capacity,
      allocatable,
      conditions: nodeConditions(existing?.conditions, this.ctx.clock.now(), this.pressure()),
      addresses: [
        { type: 'InternalIP', address: this.hostIP },
        { type: 'Hostname', address: this.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.kubeletPort ?? 10250 } },
      nodeInfo: await this.nodeInfo(),
    };
  }

  /** Registers (or updates) the Node, then heartbeats until stop(). */
  async start(): Promise<void> {
    await this.register();
    this.readyResolve();
    this.scheduleLease(0);
    this.scheduleStatus(this.statusMs);
  }

  stop(): void {
    this.stopped = true;
    this.leaseTimer?.cancel();
    this.statusTimer?.cancel();
  }

  private async allocateCIDR(): Promise<string | undefined> {
    const alloc = new PodCIDRAllocator(this.opts.clusterCIDR ?? '10.244.0.0/16');
    const list = await call<{ items: KObject[] }>(this.ctx.client, 'GET', '/api/v1/nodes');
    for (const n of list.items ?? []) for (const c of (n.spec?.podCIDRs as string[] | undefined) ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) alloc.occupy(c);
    return alloc.allocate(0);
  }

  private async register(): Promise<void> {
    const now = this.ctx.clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        let node: KObject | undefined;
        try {
          node = await call(this.ctx.client, 'GET', resourcePath('', 'v1', 'nodes', undefined, this.name));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        if (!node) {
          const cidr = await this.allocateCIDR();
          const body: KObject = {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: {
              name: this.name,
              labels: this.labels(),
              annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
            },
            spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
            status: await this.buildStatus(undefined),
          };
          node = await call(this.ctx.client, 'POST', '/api/v1/nodes', { body });
          const ref: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, uid: this.name } };
          this.recorder.event(ref, 'Normal', 'Starting', 'Starting kubelet.');
          this.recorder.event(ref, 'Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
          for (const r of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID', 'NodeReady']) this.recorder.event(ref, 'Normal', r, `Node ${this.name} status is now: ${r}`);
        } else {
          const patch: Json = { metadata: { labels: this.labels() } };
          if (!node.spec?.podCIDR) {
            const cidr = await this.allocateCIDR();
            if (cidr) patch.spec = { podCIDR: cidr, podCIDRs: [cidr] };
          }
          node = await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, this.name), { contentType: 'application/merge-patch+json', body: patch });
          node = await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, this.name, 'status'), {
            contentType: 'application/merge-patch+json',
            body: { status: await this.buildStatus(node!.status) },
          });
          const ref: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, uid: this.name } };
          this.recorder.event(ref, 'Normal', 'Starting', 'Starting kubelet.');
        }
        this.uid = node!.metadata.uid;
        this.podCIDR = node!.spec?.podCIDR;
        void now;
        return;
      } catch (e) {
        if (this.stopped) return;
        if (!isConflict(e)) this.ctx.log.warn('node registration failed; retrying', { node: this.name, err: String(e) });
        await new Promise((r) => this.ctx.clock.setTimeout(() => r(undefined), Math.min(7000, 500 * 2 ** attempt)));
      }
    }
  }

  private scheduleLease(ms: number): void {
    if (this.stopped) return;
    this.leaseTimer = this.ctx.clock.setTimeout(() => {
      void this.renewLease()
        .then(() => this.scheduleLease(this.leaseMs))
        .catch((e) => {
          if (!this.stopped) this.ctx.log.debug?.('lease renewal failed', { err: String(e) });
          this.scheduleLease(Math.min(this.leaseMs, 1000));
        });
    }, ms);
  }

  private scheduleStatus(ms: number): void {
    if (this.stopped) return;
    this.statusTimer = this.ctx.clock.setTimeout(() => {
      void this.postStatus(false)
        .catch((e) => this.ctx.log.debug?.('node status update failed', { err: String(e) }))
        .finally(() => this.scheduleStatus(this.statusMs));
    }, ms);
  }

  async renewLease(): Promise<void> {
    const spec = { holderIdentity: this.name, leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40, renewTime: microTime(this.ctx.clock.now()) };
    const path = resourcePath('coordination.k8s.io', 'v1', 'leases', LEASE_NS, this.name);
    try {
      await call(this.ctx.client, 'PATCH', path, { contentType: 'application/merge-patch+json', body: { spec } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await call(this.ctx.client, 'POST', resourcePath('coordination.k8s.io', 'v1', 'leases', LEASE_NS), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.name, namespace: LEASE_NS, ...(this.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.uid }] } : {}) },
          spec,
        },
      });
    }
  }

  /** Posts the node status (always when `force`, else when the pressure picture changed or it is due). */
  async postStatus(force: boolean): Promise<void> {
    const p = this.pressure();
    const key = JSON.stringify(p);
    if (!force && key === this.lastStatusKey && false) return;
    this.lastStatusKey = key;
    const node = await call(this.ctx.client, 'GET', resourcePath('', 'v1', 'nodes', undefined, this.name));
    await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, this.name, 'status'), {
      contentType: 'application/merge-patch+json',
      body: { status: await this.buildStatus(node.status) },
    });
  }
}
