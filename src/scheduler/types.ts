// The scheduling framework's vocabulary: statuses, per-pod and per-node info, and the
// plugin interfaces at each extension point (PreFilter, Filter, PostFilter, PreScore,
// Score, NormalizeScore; Reserve is the cache's assume, Bind is the binding POST).
import type { KObject } from '../api/types.js';
import { type Resource, podRequests, nonZeroRequests, resourceList } from './resources.js';

export const enum Code {
  Success = 0,
  Error = 1,
  /** The pod does not fit; preemption may help. */
  Unschedulable = 2,
  /** The pod does not fit and preemption cannot help. */
  UnschedulableAndUnresolvable = 3,
  /** PreFilter: this plugin has nothing to do for the pod. */
  Skip = 4,
}

export interface Status {
  code: Code;
  reasons: string[];
  /** The plugin that returned it (for queueing hints). */
  plugin?: string;
}

export const success: Status = { code: Code.Success, reasons: [] };
export const skip: Status = { code: Code.Skip, reasons: [] };
export function unschedulable(...reasons: string[]): Status {
  return { code: Code.Unschedulable, reasons };
}
export function unresolvable(...reasons: string[]): Status {
  return { code: Code.UnschedulableAndUnresolvable, reasons };
}
export function isRejected(s: Status): boolean {
  return s.code === Code.Unschedulable || s.code === Code.UnschedulableAndUnresolvable;
}

export interface ContainerPort {
  protocol: string;
  hostIP: string;
  hostPort: number;
}

/** A pod with what the plugins need, computed once. */
export interface PodInfo {
  pod: KObject;
  key: string;
  uid: string;
  namespace: string;
  labels: Record<string, string>;
  nodeName: string;
  priority: number;
  requests: Resource;
  /** Requests with upstream's non-zero defaults for cpu/memory (scoring). */
  nonZero: { milliCPU: number; memory: number };
  hostPorts: ContainerPort[];
  /** uid of the controller owner, if any (default topology spreading). */
  ownerUid?: string;
  hasAffinity: boolean;
  hasRequiredAntiAffinity: boolean;
  terminating: boolean;
}

export function priorityOf(pod: KObject): number {
  const p = pod.spec?.priority;
  return typeof p === 'number' ? p : 0;
}

export function podKey(pod: KObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

export function newPodInfo(pod: KObject, priority = priorityOf(pod)): PodInfo {
  const spec = pod.spec ?? {};
  const hostPorts: ContainerPort[] = [];
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) hostPorts.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP ?? '', hostPort: p.hostPort });
    }
  }
  const aff = spec.affinity ?? {};
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  const requests = podRequests(spec);
  return {
    pod,
    key: podKey(pod),
    uid: pod.metadata.uid ?? '',
    namespace: pod.metadata.namespace ?? '',
    labels: pod.metadata.labels ?? {},
    nodeName: spec.nodeName ?? '',
    priority,
    requests,
    nonZero: nonZeroRequests(spec),
    hostPorts,
    ownerUid: owner?.uid,
    hasAffinity: !!(aff.podAffinity || aff.podAntiAffinity),
    hasRequiredAntiAffinity: (aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0,
    terminating: !!pod.metadata.deletionTimestamp,
  };
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** A node and the pods assigned (or assumed) to it. */
export class NodeInfo {
  node!: KObject;
  name = '';
  labels: Record<string, string> = {};
  taints: Taint[] = [];
  unschedulable = false;
  allocatable: Resource = { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
  requested: Resource = { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
  nonZeroRequested = { milliCPU: 0, memory: 0 };
  pods = new Map<string, PodInfo>();
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Bumped on every change (for callers that cache per-node results). */
  generation = 0;

  constructor(node?: KObject) {
    if (node) this.setNode(node);
  }

  setNode(node: KObject): void {
    this.node = node;
    this.name = node.metadata.name!;
    this.labels = node.metadata.labels ?? {};
    this.taints = (node.spec?.taints ?? []) as Taint[];
    this.unschedulable = !!node.spec?.unschedulable;
    const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
    this.allocatable = resourceList(alloc);
    this.generation++;
  }

  addPod(pi: PodInfo): void {
    const old = this.pods.get(pi.key);
    if (old) this.removePod(old.key);
    this.pods.set(pi.key, pi);
    const r = this.requested;
    r.milliCPU += pi.requests.milliCPU;
    r.memory += pi.requests.memory;
    r.ephemeralStorage += pi.requests.ephemeralStorage;
    r.pods += 1;
    for (const [k, v] of Object.entries(pi.requests.scalar)) r.scalar[k] = (r.scalar[k] ?? 0) + v;
    this.nonZeroRequested.milliCPU += pi.nonZero.milliCPU;
    this.nonZeroRequested.memory += pi.nonZero.memory;
    if (pi.hasAffinity) this.podsWithAffinity++;
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity++;
    this.generation++;
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    const r = this.requested;
    r.milliCPU -= pi.requests.milliCPU;
    r.memory -= pi.requests.memory;
    r.ephemeralStorage -= pi.requests.ephemeralStorage;
    r.pods -= 1;
    for (const [k, v] of Object.entries(pi.requests.scalar)) r.scalar[k] = (r.scalar[k] ?? 0) - v;
    this.nonZeroRequested.milliCPU -= pi.nonZero.milliCPU;
    this.nonZeroRequested.memory -= pi.nonZero.memory;
    if (pi.hasAffinity) this.podsWithAffinity--;
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity--;
    this.generation++;
    return pi;
  }

  /** A copy whose pods can be added/removed without touching this one (preemption dry runs). */
  clone(): NodeInfo {
    const n = new NodeInfo();
    n.node = this.node;
    n.name = this.name;
    n.labels = this.labels;
    n.taints = this.taints;
    n.unschedulable = this.unschedulable;
    n.allocatable = this.allocatable;
    n.requested = { ...this.requested, scalar: { ...this.requested.scalar } };
    n.nonZeroRequested = { ...this.nonZeroRequested };
    n.pods = new Map(this.pods);
    n.podsWithAffinity = this.podsWithAffinity;
    n.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    return n;
  }
}


/** What plugins can see of the cluster during one scheduling cycle. */
export interface Snapshot {
  /** Every node, in a stable order. */
  nodes(): NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Labels of a namespace (for namespaceSelector); undefined when unknown. */
  namespaceLabels(ns: string): Record<string, string> | undefined;
  /** Pods nominated (by preemption) to run on a node. */
  nominatedPods(nodeName: string): PodInfo[];
  /** Nodes holding at least one pod with (anti-)affinity terms. */
  havePodsWithAffinity(): NodeInfo[];
  havePodsWithRequiredAntiAffinity(): NodeInfo[];
}

/** Per-cycle scratch space shared by a pod's plugins. */
export class CycleState {
  private data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run. */
  skipFilter = new Set<string>();
  skipScore = new Set<string>();
  read<T>(k: string): T | undefined {
    return this.data.get(k) as T | undefined;
  }
  write(k: string, v: unknown): void {
    this.data.set(k, v);
  }
}

export interface Plugin {
  readonly name: string;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, snap: Snapshot): Status;
}
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot): Status;
}
/** Upstream's PreFilterExtensions: keep PreFilter state right when a pod is added/removed in a dry run. */
export interface PreFilterExtensions {
  addPod?(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo, snap: Snapshot): void;
  removePod?(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo, snap: Snapshot): void;
  /** A copy of this plugin's state (a dry run mutates its own copy). */
  cloneState?(state: CycleState, into: CycleState): void;
}
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snap: Snapshot): Status;
}
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot): number;
  /** Rescales raw scores to 0..100 in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: number[], nodeNames?: string[]): void;
}

export type AnyPlugin = Plugin &
  Partial<PreFilterPlugin> &
  Partial<FilterPlugin> &
  Partial<PreScorePlugin> &
  Partial<ScorePlugin> &
  PreFilterExtensions;

export const MaxNodeScore = 100;

/** framework.DefaultNormalizeScore: scale to 0..max, reversed if asked. */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) for (let i = 0; i < scores.length; i++) scores[i] = MaxNodeScore;
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((MaxNodeScore * scores[i]!) / max);
    if (reverse) s = MaxNodeScore - s;
    scores[i] = s;
  }
}
