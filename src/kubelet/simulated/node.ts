// The Node object a simulated kubelet registers, and the status it keeps posting.
import { createHash } from 'node:crypto';
import type { KObject } from '../../api/types.js';
import { mergeConditions, ts } from './pod.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const SIMULATED_ANNOTATION = 'kts.dev/simulated';
export const HEARTBEAT_ANNOTATION = 'kts.dev/heartbeat';
export const DURATION_ANNOTATION = 'kts.dev/simulated-duration';
export const EXIT_CODE_ANNOTATION = 'kts.dev/simulated-exit-code';

export const KUBELET_VERSION = 'v1.32.0-kts';
export const RUNTIME_VERSION = 'fake://1.0.0-kts';
export const OS_IMAGE = 'Debian GNU/Linux 12 (bookworm)';
export const KERNEL_VERSION = '6.1.0-kts';

export interface NodeShape {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
  pods: string;
}

/** An 8-core, 32 GiB machine with a 100 GiB disk; allocatable minus the kubelet's eviction thresholds. */
export const DEFAULT_SHAPE: NodeShape = { cpu: '8', memory: '32Gi', ephemeralStorage: '100Gi', pods: '110' };

function hex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

function uuid(s: string): string {
  const h = hex(s, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const KI = 1024;

/** Quantity → bytes, for the two units we use ("32Gi", "100Gi", plain numbers). */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) return 0;
  const mult = { Ki: KI, Mi: KI ** 2, Gi: KI ** 3, Ti: KI ** 4 }[m[2] as 'Ki'] ?? 1;
  return Number(m[1]) * mult;
}

/** capacity and allocatable as the kubelet reports them (memory in Ki; allocatable net of evictionHard). */
export function resources(shape: NodeShape): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  // A machine reports a little less than its nominal size (firmware, kernel reservations).
  const odd = (n: number) => (n % 2 === 0 ? n + 1 : n);
  const memKi = odd(Math.floor((bytes(shape.memory) / KI) * 0.98));
  const diskKi = odd(Math.floor((bytes(shape.ephemeralStorage) / KI) * 0.98));
  const capacity = {
    cpu: shape.cpu,
    'ephemeral-storage': `${diskKi}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods: shape.pods,
  };
  const allocatable = {
    ...capacity,
    // evictionHard: memory.available<100Mi, nodefs.available<10%
    'ephemeral-storage': String(Math.floor(diskKi * KI * 0.9)),
    memory: `${memKi - 100 * KI}Ki`,
  };
  return { capacity, allocatable };
}

/** The conditions a healthy kubelet posts, in kubelet order. */
export function healthyConditions(existing: Json[] | undefined, now: Date): Json[] {
  const ours = [
    { type: 'MemoryPressure', status: 'False' as const, reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False' as const, reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False' as const, reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: 'True' as const, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
  // Node conditions carry lastHeartbeatTime instead of lastProbeTime.
  return mergeConditions(existing, ours, now).map((c) => {
    if (!ours.some((o) => o.type === c.type)) return c;
    const { lastProbeTime: _drop, ...rest } = c;
    return { type: rest.type, status: rest.status, lastHeartbeatTime: ts(now), lastTransitionTime: rest.lastTransitionTime, reason: rest.reason, message: rest.message };
  });
}

export function nodeInfo(name: string, arch = 'amd64'): Json {
  return {
    architecture: arch,
    bootID: uuid(`boot/${name}`),
    containerRuntimeVersion: RUNTIME_VERSION,
    kernelVersion: KERNEL_VERSION,
    kubeProxyVersion: KUBELET_VERSION,
    kubeletVersion: KUBELET_VERSION,
    machineID: hex(`machine/${name}`, 32),
    operatingSystem: 'linux',
    osImage: OS_IMAGE,
    systemUUID: uuid(`system/${name}`),
  };
}

export function labelsFor(name: string, arch = 'amd64'): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'kts-simulated',
    type: 'kts-simulated',
  };
}

/** A new simulated Node with its status (created in one write). */
export function buildNode(name: string, opts: { podCIDR: string | undefined; internalIP: string; shape: NodeShape; now: Date }): KObject {
  const { capacity, allocatable } = resources(opts.shape);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: labelsFor(name),
      annotations: {
        [SIMULATED_ANNOTATION]: 'true',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: opts.podCIDR ? { podCIDR: opts.podCIDR, podCIDRs: [opts.podCIDR] } : {},
    status: {
      capacity,
      allocatable,
      conditions: healthyConditions(undefined, opts.now),
      addresses: [
        { type: 'InternalIP', address: opts.internalIP },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: nodeInfo(name),
    },
  };
}

/** The status fields a simulated kubelet fills in on a Node someone else created. */
export function adoptedStatus(node: KObject, internalIP: string | undefined, shape: NodeShape, now: Date): Json {
  const { capacity, allocatable } = resources(shape);
  const st = node.status ?? {};
  const addrs: Json[] = Array.isArray(st.addresses) && st.addresses.length ? st.addresses : [
    ...(internalIP ? [{ type: 'InternalIP', address: internalIP }] : []),
    { type: 'Hostname', address: node.metadata.name },
  ];
  const info = st.nodeInfo && st.nodeInfo.kubeletVersion ? st.nodeInfo : nodeInfo(node.metadata.name!, node.metadata.labels?.['kubernetes.io/arch'] ?? 'amd64');
  return {
    capacity: st.capacity && Object.keys(st.capacity).length ? st.capacity : capacity,
    allocatable: st.allocatable && Object.keys(st.allocatable).length ? st.allocatable : allocatable,
    conditions: healthyConditions(st.conditions, now),
    addresses: addrs,
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: info,
  };
}

export function isSimulated(node: KObject): boolean {
  return node.metadata.annotations?.[SIMULATED_ANNOTATION] === 'true';
}

export function heartbeatStopped(node: KObject): boolean {
  return node.metadata.annotations?.[HEARTBEAT_ANNOTATION] === 'stopped';
}

export function internalIPOf(node: KObject): string | undefined {
  const a = (node.status?.addresses ?? []).find((x: Json) => x?.type === 'InternalIP');
  return a?.address;
}

/** Is the node's own status what a healthy kubelet posts (Ready True from KubeletReady)? */
export function isHealthy(node: KObject): boolean {
  const ready = (node.status?.conditions ?? []).find((c: Json) => c?.type === 'Ready');
  return ready?.status === 'True' && ready?.reason === 'KubeletReady';
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
