// NodeResourcesFit: the pod's requests (containers, init containers, overhead) must fit
// in what the node's allocatable leaves after its pods' requests, and the pod count must
// stay under allocatable pods. Scores with LeastAllocated (cpu and memory, weight 1 each).
import { type CycleState, type FilterPlugin, type NodeInfo, type PodInfo, type ScorePlugin, type Status, MaxNodeScore, success, unschedulable } from '../types.js';

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** noderesources.Fits: every shortage, in upstream's order (pods, cpu, memory, ephemeral-storage, extended). */
export function insufficientResources(pod: PodInfo, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const a = node.allocatable;
  const u = node.requested;
  if (u.pods + 1 > a.pods) out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: u.pods, capacity: a.pods });
  const r = pod.requests;
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - u.milliCPU)
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: r.milliCPU, used: u.milliCPU, capacity: a.milliCPU });
  if (r.memory > 0 && r.memory > a.memory - u.memory)
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: r.memory, used: u.memory, capacity: a.memory });
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage)
    out.push({
      resourceName: 'ephemeral-storage',
      reason: 'Insufficient ephemeral-storage',
      requested: r.ephemeralStorage,
      used: u.ephemeralStorage,
      capacity: a.ephemeralStorage,
    });
  for (const k in r.scalar) {
    const v = r.scalar[k]!;
    if (v === 0) continue;
    const cap = a.scalar[k] ?? 0;
    const used = u.scalar[k] ?? 0;
    if (v > cap - used) out.push({ resourceName: k, reason: `Insufficient ${k}`, requested: v, used, capacity: cap });
  }
  return out;
}

/** The filter's hot path: does the pod fit at all (no allocation when it does)? */
export function fits(pod: PodInfo, node: NodeInfo): boolean {
  const a = node.allocatable;
  const u = node.requested;
  const r = pod.requests;
  if (u.pods + 1 > a.pods) return false;
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - u.milliCPU) return false;
  if (r.memory > 0 && r.memory > a.memory - u.memory) return false;
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage) return false;
  for (const k in r.scalar) {
    const v = r.scalar[k]!;
    if (v > 0 && v > (a.scalar[k] ?? 0) - (u.scalar[k] ?? 0)) return false;
  }
  return true;
}

export interface ResourceWeight {
  name: 'cpu' | 'memory';
  weight: number;
}

export const defaultResources: ResourceWeight[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

function allocAndRequested(pod: PodInfo, node: NodeInfo, name: 'cpu' | 'memory'): [number, number] {
  return name === 'cpu'
    ? [node.allocatable.milliCPU, node.nonZeroRequested.milliCPU + pod.nonZero.milliCPU]
    : [node.allocatable.memory, node.nonZeroRequested.memory + pod.nonZero.memory];
}

/** LeastAllocated: favours nodes with more room left. */
export function leastAllocatedScore(pod: PodInfo, node: NodeInfo, resources = defaultResources): number {
  if (resources === defaultResources) {
    // cpu and memory, weight 1 each, without the general loop's allocations.
    const ac = node.allocatable.milliCPU;
    const am = node.allocatable.memory;
    const rc = node.nonZeroRequested.milliCPU + pod.nonZero.milliCPU;
    const rm = node.nonZeroRequested.memory + pod.nonZero.memory;
    let total = 0;
    let w = 0;
    if (ac > 0) {
      total += rc > ac ? 0 : Math.trunc(((ac - rc) * MaxNodeScore) / ac);
      w++;
    }
    if (am > 0) {
      total += rm > am ? 0 : Math.trunc(((am - rm) * MaxNodeScore) / am);
      w++;
    }
    return w === 0 ? 0 : Math.trunc(total / w);
  }
  let total = 0;
  let weights = 0;
  for (const { name, weight } of resources) {
    const [alloc, req] = allocAndRequested(pod, node, name);
    if (alloc === 0) continue;
    const s = req > alloc ? 0 : Math.trunc(((alloc - req) * MaxNodeScore) / alloc);
    total += s * weight;
    weights += weight;
  }
  return weights === 0 ? 0 : Math.trunc(total / weights);
}

/** BalancedAllocation: favours nodes whose cpu and memory fractions stay close. */
export function balancedAllocationScore(pod: PodInfo, node: NodeInfo, resources = defaultResources): number {
  if (resources === defaultResources) {
    const ac = node.allocatable.milliCPU;
    const am = node.allocatable.memory;
    if (ac > 0 && am > 0) {
      const fc = Math.min(1, (node.nonZeroRequested.milliCPU + pod.nonZero.milliCPU) / ac);
      const fm = Math.min(1, (node.nonZeroRequested.memory + pod.nonZero.memory) / am);
      return Math.trunc((1 - Math.abs(fc - fm) / 2) * MaxNodeScore);
    }
  }
  const fractions: number[] = [];
  for (const { name } of resources) {
    const [alloc, req] = allocAndRequested(pod, node, name);
    if (alloc === 0) continue;
    fractions.push(Math.min(1, req / alloc));
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs(fractions[0]! - fractions[1]!) / 2;
  else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MaxNodeScore);
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (fits(pod, node)) return success;
    const ins = insufficientResources(pod, node);
    return ins.length === 0 ? success : unschedulable(...ins.map((i) => i.reason));
  }
  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    return leastAllocatedScore(pod, node);
  }
}
