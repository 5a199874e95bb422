// The DaemonSet controller's pure decisions (pkg/controller/daemon and daemon/util): which
// nodes should run a daemon pod, the pod template with its default tolerations and
// node-name affinity, which pods to create or delete per node, rolling update planning
// (maxUnavailable or maxSurge) and status counts. No I/O here, so unit tests drive it.
import type { KObject } from '../../api/types.js';
import { isPodAvailable, isPodReady } from '../replicaset.js';
import { scaledValue } from '../deployment/util.js';
import { podMatchesNodeSelectorAndAffinity, toleratesTaint, type Toleration } from '../../scheduler/plugins/helpers.js';
import type { NodeInfo, Taint } from '../../scheduler/types.js';
import { CONTROLLER_REVISION_HASH } from '../statefulset/history.js';

/** extensions.DaemonSetTemplateGenerationKey (pod label). */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** appsv1.DeprecatedTemplateGeneration (DaemonSet annotation). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

// ---- tolerations and affinity ------------------------------------------------------------------

const NO_EXECUTE = 'NoExecute';
const NO_SCHEDULE = 'NoSchedule';

/** util.AddOrUpdateDaemonPodTolerations, in upstream's order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function addOrUpdateDaemonPodTolerations(spec: any): void {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: NO_EXECUTE },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: NO_EXECUTE },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: NO_SCHEDULE },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: NO_SCHEDULE },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: NO_SCHEDULE },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: NO_SCHEDULE },
  ];
  if (spec.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: NO_SCHEDULE });
  for (const t of add) addOrUpdateToleration(spec, t);
}

/** v1helper.AddOrUpdateTolerationInPodSpec: replaces a toleration with the same key/operator/value/effect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function addOrUpdateToleration(spec: any, t: Toleration): void {
  const list: Toleration[] = spec.tolerations ?? [];
  const same = (a: Toleration) => (a.key ?? '') === (t.key ?? '') && (a.operator ?? '') === (t.operator ?? '') && (a.value ?? '') === (t.value ?? '') && (a.effect ?? '') === (t.effect ?? '');
  const i = list.findIndex(same);
  if (i >= 0) list[i] = { ...t };
  else list.push({ ...t });
  spec.tolerations = list;
}

/** util.ReplaceDaemonSetPodNodeNameNodeAffinity: required affinity `metadata.name In [node]`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function replaceNodeNameAffinity(affinity: any, nodeName: string): any {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const selector = { nodeSelectorTerms: [term] };
  if (!affinity) return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: selector } };
  if (!affinity.nodeAffinity) {
    affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: selector };
    return affinity;
  }
  if (!affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) {
    affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = selector;
    return affinity;
  }
  affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms = [term];
  return affinity;
}

/**
 * util.GetTemplateGeneration: the DaemonSet's deprecated template-generation annotation
 * (which upstream's API server maintains). Without it, metadata.generation stands in.
 */
export function templateGeneration(ds: KObject): number | undefined {
  const v = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (v === undefined) return typeof ds.metadata.generation === 'number' ? ds.metadata.generation : undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/** util.CreatePodTemplate: default tolerations, template-generation and revision-hash labels. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createPodTemplate(ds: KObject, hash: string): any {
  const tmpl = structuredClone(ds.spec?.template ?? {});
  tmpl.spec = tmpl.spec ?? {};
  addOrUpdateDaemonPodTolerations(tmpl.spec);
  tmpl.metadata = tmpl.metadata ?? {};
  tmpl.metadata.labels = { ...(tmpl.metadata.labels ?? {}) };
  const gen = templateGeneration(ds);
  if (gen !== undefined) tmpl.metadata.labels[POD_TEMPLATE_GENERATION] = String(gen);
  if (hash) tmpl.metadata.labels[CONTROLLER_REVISION_HASH] = hash;
  return tmpl;
}

/** The pod created for `nodeName`: the template plus node-name affinity (the scheduler binds it). */
export function newDaemonPod(ds: KObject, hash: string, nodeName: string): KObject {
  const tmpl = createPodTemplate(ds, hash);
  tmpl.spec.affinity = replaceNodeNameAffinity(tmpl.spec.affinity, nodeName);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: tmpl.metadata.labels,
      ...(tmpl.metadata.annotations ? { annotations: tmpl.metadata.annotations } : {}),
      ...(tmpl.metadata.finalizers ? { finalizers: tmpl.metadata.finalizers } : {}),
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name!, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: tmpl.spec,
  };
}

// ---- node eligibility --------------------------------------------------------------------------

function nodeInfo(node: KObject): NodeInfo {
  return { name: node.metadata.name ?? '', labels: node.metadata.labels ?? {} } as unknown as NodeInfo;
}

/** v1helper.FindMatchingUntoleratedTaint restricted to the effects `filter` accepts. */
function hasUntoleratedTaint(taints: Taint[], tolerations: Toleration[], filter: (t: Taint) => boolean): boolean {
  for (const taint of taints) {
    if (!filter(taint)) continue;
    if (!tolerations.some((t) => toleratesTaint(t, taint))) return true;
  }
  return false;
}

/**
 * NodeShouldRunDaemonPod: [shouldRun, shouldContinueRunning]. A node fits when the
 * template's nodeName (if any), nodeSelector, required node affinity and taints (with the
 * default daemon tolerations) allow it; an existing pod keeps running on a node whose only
 * untolerated taints are NoSchedule.
 */
export function nodeShouldRunDaemonPod(node: KObject, ds: KObject): [boolean, boolean] {
  const tspec = ds.spec?.template?.spec ?? {};
  if (tspec.nodeName && tspec.nodeName !== node.metadata.name) return [false, false];
  const spec = structuredClone(tspec);
  addOrUpdateDaemonPodTolerations(spec);
  if (!podMatchesNodeSelectorAndAffinity(spec, nodeInfo(node))) return [false, false];
  const taints: Taint[] = node.spec?.taints ?? [];
  const tolerations: Toleration[] = spec.tolerations ?? [];
  const fitsTaints = !hasUntoleratedTaint(taints, tolerations, (t) => t.effect === NO_EXECUTE || t.effect === NO_SCHEDULE);
  if (!fitsTaints) return [false, !hasUntoleratedTaint(taints, tolerations, (t) => t.effect === NO_EXECUTE)];
  return [true, true];
}

/** util.GetTargetNodeName: spec.nodeName, else the node-name affinity's single value. */
export function targetNodeName(pod: KObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  for (const f of terms[0]?.matchFields ?? []) {
    if (f.key === 'metadata.name' && f.operator === 'In' && (f.values ?? []).length === 1) return f.values[0];
  }
  return undefined;
}

/** podByCreationTimestampAndPhase: scheduled first, then oldest, then name. */
export function compareDaemonPods(a: KObject, b: KObject): number {
  const na = a.spec?.nodeName ? 0 : 1;
  const nb = b.spec?.nodeName ? 0 : 1;
  if (na !== nb) return na - nb;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/** util.IsPodUpdated: the pod carries the current hash or template generation. */
export function isPodUpdated(pod: KObject, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  const templateMatches = generation !== undefined && labels[POD_TEMPLATE_GENERATION] === String(generation);
  const hashMatches = hash.length > 0 && labels[CONTROLLER_REVISION_HASH] === hash;
  return hashMatches || templateMatches;
}

const isRollingUpdate = (ds: KObject) => ds.spec?.updateStrategy?.type === 'RollingUpdate' && !!ds.spec?.updateStrategy?.rollingUpdate;

/** util.SurgeCount (rounded up). */
export function surgeCount(ds: KObject, desired: number): number {
  if (!isRollingUpdate(ds)) return 0;
  return scaledValue(ds.spec.updateStrategy.rollingUpdate.maxSurge ?? 0, desired, true);
}

/** util.UnavailableCount (rounded up). */
export function unavailableCount(ds: KObject, desired: number): number {
  if (!isRollingUpdate(ds)) return 0;
  return scaledValue(ds.spec.updateStrategy.rollingUpdate.maxUnavailable ?? 0, desired, true);
}

export const allowsSurge = (ds: KObject): boolean => surgeCount(ds, 1) !== 0;

// ---- manage: pods per node ---------------------------------------------------------------------

export interface NodePlan {
  create: boolean;
  /** Pod names to delete. */
  delete: string[];
  /** Failed pods found (the controller backs off and records FailedDaemonPod). */
  failed: KObject[];
}

/**
 * podsShouldBeOnNode. `daemonPods` are the DaemonSet's pods targeting the node (undefined:
 * none). Failed pods are returned in `failed`, not in `delete`: the caller applies back-off.
 */
export function podsShouldBeOnNode(node: KObject, daemonPods: KObject[] | undefined, ds: KObject, hash: string, now: Date): NodePlan {
  const plan: NodePlan = { create: false, delete: [], failed: [] };
  const [shouldRun, shouldContinueRunning] = nodeShouldRunDaemonPod(node, ds);
  const exists = daemonPods !== undefined && daemonPods.length > 0;
  if (shouldRun && !exists) {
    plan.create = true;
    return plan;
  }
  if (shouldContinueRunning) {
    const running: KObject[] = [];
    for (const pod of daemonPods ?? []) {
      if (pod.metadata.deletionTimestamp) continue;
      if (pod.status?.phase === 'Failed') plan.failed.push(pod);
      else if (pod.status?.phase === 'Succeeded') plan.delete.push(pod.metadata.name!);
      else running.push(pod);
    }
    running.sort(compareDaemonPods);
    if (!allowsSurge(ds)) {
      for (let i = 1; i < running.length; i++) plan.delete.push(running[i]!.metadata.name!);
      return plan;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) plan.create = true;
      return plan;
    }
    // Surging: keep the oldest new pod and, while it is not yet available, the oldest ready old pod.
    let oldestNew: KObject | undefined;
    let oldestOld: KObject | undefined;
    for (const pod of running) {
      if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash) {
        if (!oldestNew) {
          oldestNew = pod;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = pod;
        continue;
      }
      plan.delete.push(pod.metadata.name!);
    }
    if (oldestNew && oldestOld) {
      if (!isPodReady(oldestOld)) plan.delete.push(oldestOld.metadata.name!);
      else if (isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now)) plan.delete.push(oldestOld.metadata.name!);
    }
    return plan;
  }
  if (exists) for (const pod of daemonPods!) if (!pod.metadata.deletionTimestamp) plan.delete.push(pod.metadata.name!);
  return plan;
}

// ---- rolling update ----------------------------------------------------------------------------

/** findUpdatedPodsOnNode: ok=false when the node has more than one new or old pod. */
export function findUpdatedPodsOnNode(ds: KObject, pods: KObject[], hash: string): { newPod?: KObject; oldPod?: KObject; ok: boolean } {
  let newPod: KObject | undefined;
  let oldPod: KObject | undefined;
  const gen = templateGeneration(ds);
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, gen)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

/** updatedDesiredNodeCounts: [maxSurge, maxUnavailable, desired]; adds empty entries for wanted nodes. */
export function updatedDesiredNodeCounts(ds: KObject, nodes: KObject[], nodeToPods: Map<string, KObject[]>): [number, number, number] {
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds)[0]) continue;
    desired++;
    if (!nodeToPods.has(node.metadata.name!)) nodeToPods.set(node.metadata.name!, []);
  }
  let maxUnavailable = unavailableCount(ds, desired);
  const maxSurge = surgeCount(ds, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return [maxSurge, maxUnavailable, desired];
}

/**
 * rollingUpdate's plan: old pods to delete and nodes to create new pods on. Without surge,
 * old available pods are deleted while fewer than maxUnavailable pods are unavailable (the
 * manage loop then creates the replacements); with surge, new pods are created next to old
 * ones (up to maxSurge at a time) and an old pod goes once its new one is available.
 */
export function planRollingUpdate(ds: KObject, nodes: KObject[], nodeToPodsIn: Map<string, KObject[]>, hash: string, now: Date): { deletePods: string[]; createNodes: string[] } {
  const nodeToPods = new Map(nodeToPodsIn);
  const [maxSurge, maxUnavailable, desired] = updatedDesiredNodeCounts(ds, nodes, nodeToPods);
  const mrs = ds.spec?.minReadySeconds ?? 0;
  const available = (p: KObject) => isPodAvailable(p, mrs, now);
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  const names = [...nodeToPods.keys()].sort();
  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowed: string[] = [];
    const candidates: string[] = [];
    for (const nodeName of names) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(ds, nodeToPods.get(nodeName)!, hash);
      if (!ok) {
        numUnavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
      else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) {
          allowed.push(oldPod.metadata.name!);
          numUnavailable++;
        } else if (numUnavailable >= maxUnavailable) continue;
        else candidates.push(oldPod.metadata.name!);
      }
    }
    const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
    return { deletePods: [...allowed, ...candidates.slice(0, remaining)], createNodes: [] };
  }
  const oldPodsToDelete: string[] = [];
  const shouldNotRun: KObject[] = [];
  const candidateNew: string[] = [];
  const allowedNew: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const nodeName of names) {
    const { newPod, oldPod, ok } = findUpdatedPodsOnNode(ds, nodeToPods.get(nodeName)!, hash);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod) {
      if (available(oldPod)) numAvailable++;
    } else if (newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    const node = nodeByName.get(nodeName);
    if (!newPod) {
      const shouldRun = node ? nodeShouldRunDaemonPod(node, ds)[0] : false;
      if (!available(oldPod)) {
        if (!shouldRun) oldPodsToDelete.push(oldPod.metadata.name!);
        else allowedNew.push(nodeName);
      } else {
        if (!shouldRun) {
          shouldNotRun.push(oldPod);
          continue;
        }
        if (numSurge >= maxSurge) continue;
        candidateNew.push(nodeName);
      }
    } else {
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      oldPodsToDelete.push(oldPod.metadata.name!);
    }
  }
  let deletable = numAvailable - desired;
  if (deletable > 0) {
    deletable = Math.min(deletable, shouldNotRun.length);
    for (const p of shouldNotRun.slice(0, deletable)) if (!p.metadata.deletionTimestamp) oldPodsToDelete.push(p.metadata.name!);
  }
  const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNew.length);
  return { deletePods: oldPodsToDelete, createNodes: [...allowedNew, ...candidateNew.slice(0, remainingSurge)] };
}

// ---- status ------------------------------------------------------------------------------------

export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
}

/** updateDaemonSetStatus' counting, over every node. */
export function computeDaemonSetCounts(ds: KObject, nodes: KObject[], nodeToPods: Map<string, KObject[]>, hash: string, now: Date): DaemonSetCounts {
  const c: DaemonSetCounts = {
    desiredNumberScheduled: 0,
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
  };
  const gen = templateGeneration(ds);
  for (const node of nodes) {
    const [shouldRun] = nodeShouldRunDaemonPod(node, ds);
    const pods = nodeToPods.get(node.metadata.name!) ?? [];
    const scheduled = pods.length > 0;
    if (shouldRun) {
      c.desiredNumberScheduled++;
      if (!scheduled) continue;
      c.currentNumberScheduled++;
      const pod = [...pods].sort(compareDaemonPods)[0]!;
      if (isPodReady(pod)) {
        c.numberReady++;
        if (isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, now)) c.numberAvailable++;
      }
      if (isPodUpdated(pod, hash, gen)) c.updatedNumberScheduled++;
    } else if (scheduled) c.numberMisscheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
