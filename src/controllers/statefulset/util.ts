// The StatefulSet controller's pure decisions (pkg/controller/statefulset/stateful_set_utils.go
// and stateful_set_control.go): ordinals and identities, new pods at the current or update
// revision, claims from volumeClaimTemplates and their retention-policy ownerReferences,
// replicas vs condemned pods, the next pod a rolling update replaces, and status counts.
import type { KObject, OwnerReference } from '../../api/types.js';
import { isPodAvailable, isPodReady } from '../replicaset.js';
import { CONTROLLER_REVISION_HASH, templateOfRevision } from './history.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** getParentNameAndOrdinal: `<parent>-<ordinal>`, ordinal -1 when the name has none. */
export function parentAndOrdinal(pod: KObject): [string, number] {
  const m = /^(.*)-([0-9]+)$/.exec(pod.metadata.name ?? '');
  if (!m) return ['', -1];
  const n = Number(m[2]);
  return Number.isSafeInteger(n) && n <= 2147483647 ? [m[1]!, n] : ['', -1];
}

export const ordinalOf = (pod: KObject): number => parentAndOrdinal(pod)[1];
export const podName = (set: KObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const replicasOf = (set: KObject): number => (typeof set.spec?.replicas === 'number' ? set.spec.replicas : 1);
export const startOrdinal = (set: KObject): number => set.spec?.ordinals?.start ?? 0;
export const endOrdinal = (set: KObject): number => startOrdinal(set) + replicasOf(set) - 1;

export function inOrdinalRange(pod: KObject, set: KObject): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

/** isMemberOf: the pod's parent name is the set's name. */
export const isMemberOf = (set: KObject, pod: KObject): boolean => parentAndOrdinal(pod)[0] === set.metadata.name;

export const podRevision = (pod: KObject | undefined): string => pod?.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '';
/** isCreated: the pod exists in the API (has a phase). */
export const isCreated = (pod: KObject): boolean => !!pod.status?.phase;
export const isPending = (pod: KObject): boolean => pod.status?.phase === 'Pending';
export const isFailed = (pod: KObject): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: KObject): boolean => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: KObject): boolean => !!pod.metadata.deletionTimestamp;
export const isRunningAndReady = (pod: KObject): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: KObject, mrs: number, now: Date): boolean => isPodAvailable(pod, mrs, now);
export const isHealthy = (pod: KObject): boolean => isRunningAndReady(pod) && !isTerminating(pod);

export function ownerRefOf(set: KObject): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export const claimName = (set: KObject, template: string, ordinal: number): string => `${template}-${set.metadata.name}-${ordinal}`;

/** getPersistentVolumeClaims: template name → the claim for the pod at `ordinal`. */
export function claimsFor(set: KObject, ordinal: number): Map<string, KObject> {
  const out = new Map<string, KObject>();
  const matchLabels: Record<string, string> = set.spec?.selector?.matchLabels ?? {};
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const claim: KObject = structuredClone(t);
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = { ...(claim.metadata ?? {}), name: claimName(set, t.metadata?.name ?? '', ordinal), namespace: set.metadata.namespace };
    claim.metadata.labels = { ...(claim.metadata.labels ?? {}), ...matchLabels };
    delete claim.status;
    delete claim.metadata.creationTimestamp;
    out.set(t.metadata?.name ?? '', claim);
  }
  return out;
}

/** updateIdentity: pod-name and pod-index labels. */
export function updateIdentity(set: KObject, pod: KObject): void {
  const ord = ordinalOf(pod);
  pod.metadata.name = podName(set, ord);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name, [POD_INDEX_LABEL]: String(ord) };
}

export function identityMatches(set: KObject, pod: KObject): boolean {
  const [parent, ord] = parentAndOrdinal(pod);
  return (
    ord >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ord) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name &&
    pod.metadata.labels?.[POD_INDEX_LABEL] === String(ord)
  );
}

/** storageMatches: every claim template has a volume using the pod's claim. */
export function storageMatches(set: KObject, pod: KObject): boolean {
  const ord = ordinalOf(pod);
  if (ord < 0) return false;
  const vols = new Map<string, { persistentVolumeClaim?: { claimName?: string } }>((pod.spec?.volumes ?? []).map((v: { name: string }) => [v.name, v]));
  for (const [name, claim] of claimsFor(set, ord)) {
    const v = vols.get(name);
    if (!v || v.persistentVolumeClaim?.claimName !== claim.metadata.name) return false;
  }
  return true;
}

/** newStatefulSetPod: the template under the set's controller ref, named and with its storage. */
export function newStatefulSetPod(set: KObject, template: KObject, ordinal: number): KObject {
  const meta = template.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      namespace: set.metadata.namespace,
      labels: structuredClone(meta.labels ?? {}),
      ...(meta.annotations ? { annotations: structuredClone(meta.annotations) } : {}),
      ...(meta.finalizers ? { finalizers: structuredClone(meta.finalizers) } : {}),
      ownerReferences: [ownerRefOf(set)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  updateIdentity(set, pod);
  pod.spec.hostname = pod.metadata.name;
  if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
  // updateStorage: claim volumes first, then the template's other volumes.
  const claims = claimsFor(set, ordinal);
  const vols: unknown[] = [];
  for (const [name, claim] of claims) vols.push({ name, persistentVolumeClaim: { claimName: claim.metadata.name } });
  for (const v of pod.spec.volumes ?? []) if (!claims.has(v.name)) vols.push(v);
  if (vols.length) pod.spec.volumes = vols;
  return pod;
}

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without rollingUpdate, below
 * the current replica count) are made at the current revision, the rest at the update revision.
 */
export function newVersionedPod(set: KObject, currentRevision: KObject, updateRevision: KObject, ordinal: number): KObject {
  const us = set.spec?.updateStrategy ?? {};
  const start = startOrdinal(set);
  const useCurrent =
    (us.type === 'RollingUpdate' && !us.rollingUpdate && ordinal < start + (set.status?.currentReplicas ?? 0)) ||
    (!!us.rollingUpdate && ordinal < start + (us.rollingUpdate.partition ?? 0));
  const rev = useCurrent ? currentRevision : updateRevision;
  const pod = newStatefulSetPod(set, templateOfRevision(rev), ordinal);
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH]: rev.metadata.name ?? "" };
  return pod;
}

/** Splits pods into replicas[ordinal - start] (missing: undefined) and condemned (descending). */
export function partitionPods(set: KObject, pods: KObject[]): { replicas: (KObject | undefined)[]; condemned: KObject[] } {
  const replicas: (KObject | undefined)[] = new Array(Math.max(replicasOf(set), 0)).fill(undefined);
  const condemned: KObject[] = [];
  const start = startOrdinal(set);
  for (const pod of pods) {
    if (inOrdinalRange(pod, set)) replicas[ordinalOf(pod) - start] = pod;
    else if (ordinalOf(pod) >= 0) condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  return { replicas, condemned };
}

export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
}

/** computeReplicaStatus over every list given. */
export function computeReplicaCounts(mrs: number, currentRevision: string, updateRevision: string, now: Date, ...lists: KObject[][]): ReplicaCounts {
  const c: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const list of lists) {
    for (const pod of list) {
      if (isCreated(pod)) c.replicas++;
      if (isRunningAndReady(pod)) {
        c.readyReplicas++;
        if (isRunningAndAvailable(pod, mrs, now)) c.availableReplicas++;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        const r = podRevision(pod);
        if (r === currentRevision) c.currentReplicas++;
        if (r === updateRevision) c.updatedReplicas++;
      }
    }
  }
  return c;
}

/**
 * The rolling update's next step over `replicas` (all created): the highest ordinal at or
 * above the partition not at the update revision is deleted; an unhealthy updated pod
 * blocks. Returns the pod to delete, or undefined (done or waiting).
 */
export function rollingUpdateVictim(set: KObject, replicas: KObject[], updateRevision: string): KObject | undefined {
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let target = replicas.length - 1; target >= partition; target--) {
    const pod = replicas[target]!;
    if (podRevision(pod) !== updateRevision && !isTerminating(pod)) return pod;
    if (!isHealthy(pod)) return undefined;
  }
  return undefined;
}

/** The retention policy with upstream's defaults (Retain, Retain). */
export function retentionPolicy(set: KObject): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}

/**
 * updateClaimOwnerRefForSetAndPod: the claim's ownerReferences under the retention policy —
 * the set owns it when whenDeleted=Delete (and the pod is in range), the pod owns it when
 * whenScaled=Delete and the pod was scaled away. Returns undefined when nothing changes.
 */
export function claimOwnerRefs(claim: KObject, set: KObject, pod: KObject): OwnerReference[] | undefined {
  const refs: OwnerReference[] = structuredClone(claim.metadata.ownerReferences ?? []);
  const policy = retentionPolicy(set);
  const setRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid! };
  const podRef: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid! };
  let changed = false;
  const has = (r: OwnerReference) => refs.some((x) => x.uid === r.uid);
  const set_ = (r: OwnerReference) => {
    if (!r.uid || has(r)) return;
    refs.push(r);
    changed = true;
  };
  const remove = (kind: string, name: string) => {
    for (let i = refs.length - 1; i >= 0; i--) {
      if (refs[i]!.kind === kind && refs[i]!.name === name) {
        refs.splice(i, 1);
        changed = true;
      }
    }
  };
  const scaledDown = !inOrdinalRange(pod, set);
  const del = (v: string) => v === 'Delete';
  if (!del(policy.whenScaled) && !del(policy.whenDeleted)) {
    remove('StatefulSet', set.metadata.name!);
    remove('Pod', pod.metadata.name!);
  } else if (!del(policy.whenScaled) && del(policy.whenDeleted)) {
    set_(setRef);
    remove('Pod', pod.metadata.name!);
  } else if (del(policy.whenScaled) && !del(policy.whenDeleted)) {
    remove('StatefulSet', set.metadata.name!);
    if (scaledDown) set_(podRef);
    else remove('Pod', pod.metadata.name!);
  } else {
    if (scaledDown) {
      remove('StatefulSet', set.metadata.name!);
      set_(podRef);
    } else {
      set_(setRef);
      remove('Pod', pod.metadata.name!);
    }
  }
  return changed ? refs : undefined;
}

/** hasStaleOwnerRef: the claim is owned by an earlier pod of the same name (whenScaled=Delete). */
export function claimIsStale(claim: KObject, pod: KObject): boolean {
  return (claim.metadata.ownerReferences ?? []).some((r) => r.kind === 'Pod' && r.name === pod.metadata.name && r.uid !== pod.metadata.uid);
}
