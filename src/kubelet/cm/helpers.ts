// Resource arithmetic of upstream's kubelet (pkg/kubelet/cm/helpers_linux.go,
// pkg/kubelet/qos/policy.go, kuberuntime_container_linux.go calculateLinuxResources):
// container requests/limits → cpu shares, CFS quota/period, memory limit, oom_score_adj;
// a pod's QoS class → its pod cgroup under kubepods and that cgroup's limits.
import { Quantity } from '../../api/quantity.js';
import type { KObject } from '../../api/types.js';
import type { ContainerResources } from '../runtime/types.js';
import { qosClass } from '../status.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
export const MILLI_CPU_TO_CPU = 1000;
/** CFS period in microseconds (100 ms), the kubelet's default --cpu-cfs-quota-period. */
export const QUOTA_PERIOD = 100000;
/** The smallest CFS quota the kernel accepts (1 ms). */
export const MIN_QUOTA_PERIOD = 1000;

export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
/** The sandbox (pause) container's, as upstream's PodInfraOOMAdj. */
export const POD_INFRA_OOM_ADJ = -998;

/** cpu.shares for a CPU request in millicores (0 → the minimum, 2). */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** cpu.cfs_quota_us for a CPU limit in millicores (0 → 0: no quota). */
export function milliCPUToQuota(milliCPU: number, period = QUOTA_PERIOD): number {
  if (milliCPU === 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD, Math.floor((milliCPU * period) / MILLI_CPU_TO_CPU));
}

function q(v: unknown): Quantity | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  try {
    return Quantity.parse(String(v));
  } catch {
    return undefined;
  }
}
const milli = (v: unknown) => q(v)?.milliValue() ?? 0;
const bytes = (v: unknown) => q(v)?.value() ?? 0;

/** Upstream's IsNodeCriticalPod: a critical pod (static/mirror, or priority ≥ 2e9) of class system-node-critical. */
function isNodeCriticalPod(pod: KObject): boolean {
  const spec = (pod.spec ?? {}) as Json;
  if (spec.priorityClassName !== 'system-node-critical') return false;
  const ann = pod.metadata.annotations ?? {};
  const staticOrMirror = ann['kubernetes.io/config.mirror'] !== undefined || (ann['kubernetes.io/config.source'] !== undefined && ann['kubernetes.io/config.source'] !== 'api');
  return staticOrMirror || (typeof spec.priority === 'number' && spec.priority >= 2_000_000_000);
}

/** qos.GetContainerOOMScoreAdjust: -997 Guaranteed, 1000 BestEffort, Burstable by memory request share. */
export function containerOOMScoreAdjust(pod: KObject, container: Json, memoryCapacity: number): number {
  if (isNodeCriticalPod(pod)) return GUARANTEED_OOM_SCORE_ADJ;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const memoryRequest = bytes(container?.resources?.requests?.memory);
  // Go's integer division truncates toward zero
  const adj = 1000 - Math.trunc((1000 * memoryRequest) / memoryCapacity);
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/**
 * The container's LinuxContainerResources, as calculateLinuxResources: shares from the request
 * (the limit when there is no request), quota from the limit with a 100 ms period (0: none),
 * the memory limit, and oom_score_adj by QoS. Hugepages are not handled.
 */
export function containerResources(pod: KObject, container: Json, memoryCapacity: number): ContainerResources {
  const req = container?.resources?.requests ?? {};
  const lim = container?.resources?.limits ?? {};
  const cpuRequest = milli(req.cpu);
  const cpuLimit = milli(lim.cpu);
  const out: ContainerResources = {
    cpuShares: milliCPUToShares(cpuRequest === 0 && cpuLimit !== 0 ? cpuLimit : cpuRequest),
    cpuPeriod: QUOTA_PERIOD,
    cpuQuota: milliCPUToQuota(cpuLimit),
    oomScoreAdj: containerOOMScoreAdjust(pod, container, memoryCapacity),
  };
  const mem = bytes(lim.memory);
  if (mem !== 0) out.memoryLimitBytes = mem;
  return out;
}

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The pod cgroup (cgroupfs form): <root>/kubepods[/burstable|/besteffort]/pod<uid>. */
export function podCgroupName(pod: KObject, cgroupRoot = '/'): string {
  const qos = qosClass(pod);
  const parts = [...cgroupRoot.split('/').filter(Boolean), 'kubepods'];
  if (qos === 'Burstable') parts.push('burstable');
  else if (qos === 'BestEffort') parts.push('besteffort');
  parts.push(`pod${pod.metadata.uid}`);
  return '/' + parts.join('/');
}

export interface ResourceConfig {
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
}

/** Requests or limits of the whole pod (resource.PodRequests/PodLimits): sum of containers, at least each init container, plus overhead. */
function podTotal(pod: KObject, kind: 'requests' | 'limits', res: 'cpu' | 'memory'): number {
  const spec = (pod.spec ?? {}) as Json;
  const val = (v: unknown) => (res === 'cpu' ? milli(v) : bytes(v));
  // a request defaults to the limit (the API's defaulting; repeated here as for containers)
  const of = (c: Json) => val(c.resources?.[kind]?.[res]) || (kind === 'requests' ? val(c.resources?.limits?.[res]) : 0);
  let sum = 0;
  for (const c of spec.containers ?? []) sum += of(c);
  for (const c of spec.initContainers ?? []) sum = Math.max(sum, of(c));
  if (spec.overhead?.[res] !== undefined) sum += val(spec.overhead[res]);
  return sum;
}

/** ResourceConfigForPod: what the pod cgroup gets, by QoS class (cgroup v1 values). */
export function podResourceConfig(pod: KObject): ResourceConfig {
  const spec = (pod.spec ?? {}) as Json;
  const cpuShares = milliCPUToShares(podTotal(pod, 'requests', 'cpu'));
  const cpuQuota = milliCPUToQuota(podTotal(pod, 'limits', 'cpu'));
  const memoryLimit = podTotal(pod, 'limits', 'memory');
  let cpuLimitsDeclared = true;
  let memoryLimitsDeclared = true;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if (!milli(c.resources?.limits?.cpu)) cpuLimitsDeclared = false;
    if (!bytes(c.resources?.limits?.memory)) memoryLimitsDeclared = false;
  }
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return { cpuShares, cpuQuota, cpuPeriod: QUOTA_PERIOD, memoryLimitBytes: memoryLimit };
  if (qos === 'Burstable') {
    const out: ResourceConfig = { cpuShares };
    if (cpuLimitsDeclared) Object.assign(out, { cpuQuota, cpuPeriod: QUOTA_PERIOD });
    if (memoryLimitsDeclared) out.memoryLimitBytes = memoryLimit;
    return out;
  }
  return { cpuShares: MIN_SHARES };
}
