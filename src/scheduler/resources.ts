// Resource arithmetic for scheduling: quantities as plain numbers (milli-cpu, bytes),
// a pod's effective requests (containers, init containers, sidecars, overhead) and the
// non-zero defaults upstream uses for scoring.
import { quantityOf } from '../api/quantity.js';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Allowed pod count (allocatable) or pods counted (requested). */
  pods: number;
  /** Extended / hugepages resources by name. */
  scalar: Record<string, number>;
}

/** Upstream's defaults for scoring a container that requests nothing. */
export const DefaultMilliCPURequest = 100;
export const DefaultMemoryRequest = 200 * 1024 * 1024;

const valueCache = new Map<string, number>();
const milliCache = new Map<string, number>();

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Quantity.Value(): rounded up to an integer. */
export function quantityValue(v: unknown, milli = false): number {
  const key = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : undefined;
  if (key === undefined) return 0;
  const cache = milli ? milliCache : valueCache;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const q = quantityOf(v);
  let out = 0;
  if (q) {
    const scale = q.scale + (milli ? 3 : 0);
    let m = q.mantissa;
    if (scale >= 0) m = m * pow10(scale);
    else {
      const d = pow10(-scale);
      const r = m % d;
      m = m / d + (r > 0n ? 1n : 0n);
    }
    out = Number(m);
  }
  if (cache.size > 10000) cache.clear();
  cache.set(key, out);
  return out;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

/** A ResourceList (node allocatable, container requests) as numbers. */
export function resourceList(list: Record<string, unknown> | undefined | null): Resource {
  const r = emptyResource();
  if (!list) return r;
  for (const [k, v] of Object.entries(list)) {
    switch (k) {
      case 'cpu':
        r.milliCPU = quantityValue(v, true);
        break;
      case 'memory':
        r.memory = quantityValue(v);
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage = quantityValue(v);
        break;
      case 'pods':
        r.pods = quantityValue(v);
        break;
      default:
        if (isScalarResource(k)) r.scalar[k] = quantityValue(v);
    }
  }
  return r;
}

/** Extended resources (domain-prefixed, not kubernetes.io/), hugepages and attachable volumes. */
export function isScalarResource(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  // Extended resources ("example.com/gpu") and prefixed native ones ("x.kubernetes.io/y").
  return name.includes('/') && !name.startsWith('requests.');
}

function addInto(a: Resource, b: Resource): void {
  a.milliCPU += b.milliCPU;
  a.memory += b.memory;
  a.ephemeralStorage += b.ephemeralStorage;
  for (const [k, v] of Object.entries(b.scalar)) a.scalar[k] = (a.scalar[k] ?? 0) + v;
}

function maxInto(a: Resource, b: Resource): void {
  a.milliCPU = Math.max(a.milliCPU, b.milliCPU);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  for (const [k, v] of Object.entries(b.scalar)) a.scalar[k] = Math.max(a.scalar[k] ?? 0, v);
}

function cloneResource(r: Resource): Resource {
  return { ...r, scalar: { ...r.scalar } };
}

interface ContainerLike {
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  restartPolicy?: string;
}

function containerRequests(c: ContainerLike): Resource {
  // Requests default from limits (the API does this too; be tolerant of objects that skipped it).
  const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
  return resourceList(req);
}

/**
 * resourcehelper.PodRequests: the sum of the app containers and of restartable init
 * containers (sidecars), or the largest init container (plus the sidecars started before
 * it) if that is more; plus the pod's overhead.
 */
export function podRequests(spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[]; overhead?: Record<string, unknown> }): Resource {
  const sum = emptyResource();
  for (const c of spec.containers ?? []) addInto(sum, containerRequests(c));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const t = cloneResource(sidecars);
      addInto(t, r);
      maxInto(initMax, t);
    }
  }
  addInto(sum, sidecars);
  maxInto(sum, initMax);
  if (spec.overhead) addInto(sum, resourceList(spec.overhead));
  sum.pods = 0;
  return sum;
}

/** Requests for scoring: a container without a cpu/memory request counts as 100m / 200Mi. */
export function nonZeroRequests(spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[]; overhead?: Record<string, unknown> }): { milliCPU: number; memory: number } {
  const nz = (c: ContainerLike) => {
    const r = containerRequests(c);
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    return { milliCPU: 'cpu' in req ? r.milliCPU : DefaultMilliCPURequest, memory: 'memory' in req ? r.memory : DefaultMemoryRequest };
  };
  let cpu = 0;
  let mem = 0;
  for (const c of spec.containers ?? []) {
    const r = nz(c);
    cpu += r.milliCPU;
    mem += r.memory;
  }
  let sideCpu = 0;
  let sideMem = 0;
  let initCpu = 0;
  let initMem = 0;
  for (const c of spec.initContainers ?? []) {
    const r = nz(c);
    if (c.restartPolicy === 'Always') {
      sideCpu += r.milliCPU;
      sideMem += r.memory;
      initCpu = Math.max(initCpu, sideCpu);
      initMem = Math.max(initMem, sideMem);
    } else {
      initCpu = Math.max(initCpu, sideCpu + r.milliCPU);
      initMem = Math.max(initMem, sideMem + r.memory);
    }
  }
  cpu = Math.max(cpu + sideCpu, initCpu);
  mem = Math.max(mem + sideMem, initMem);
  if (spec.overhead) {
    const o = resourceList(spec.overhead);
    cpu += o.milliCPU;
    mem += o.memory;
  }
  return { milliCPU: cpu, memory: mem };
}
