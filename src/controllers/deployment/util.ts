// Pure deployment arithmetic and bookkeeping (pkg/controller/deployment/util): template
// hashing, maxSurge/maxUnavailable resolution, revision and replica annotations, conditions,
// proportional scaling and the ReplicaSet orderings. No I/O here, so it is unit-tested alone.
import type { KObject } from '../../api/types.js';
import { stableStringify } from '../replicaset.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const MAX_REV_HISTORY_CHARS = 2000;

/** Condition reasons (deploymentutil). */
export const Reasons = {
  NewReplicaSet: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  FailedRSCreate: 'ReplicaSetCreateError',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

const annotationsToSkip = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

// ---- hashing ----------------------------------------------------------------------------------

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each byte mapped onto an alphabet without vowels or look-alikes. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHABET[ch.codePointAt(0)! % SAFE_ALPHABET.length];
  return out;
}

function fnv32aUpdate(h: number, bytes: Uint8Array): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * controller.ComputeHash: FNV-32a of the template (a canonical JSON form here, where
 * upstream hashes its Go dump) plus collisionCount as 4 little-endian bytes, written out
 * in decimal through SafeEncodeString.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32aUpdate(0x811c9dc5, Buffer.from(stableStringify(template ?? {}, true), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32aUpdate(h, b);
  }
  return safeEncodeString(String(h >>> 0));
}

/** EqualIgnoreHash: templates equal once the pod-template-hash label is removed. */
export function equalIgnoreHash(a: KObject | undefined, b: KObject | undefined): boolean {
  const strip = (t: KObject | undefined) => {
    const c = structuredClone(t ?? {}) as KObject;
    if (c.metadata?.labels) {
      delete c.metadata.labels[POD_TEMPLATE_HASH];
      if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
    }
    const s = stableStringify(c, true);
    return s.startsWith('{"metadata":{},') ? `{${s.slice('{"metadata":{},'.length)}` : s;
  };
  return strip(a) === strip(b);
}

// ---- intOrPercent -----------------------------------------------------------------------------

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) {
    if (/^-?\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: surge rounds up, unavailable down; both zero → unavailable 1. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function replicasOf(o: KObject | undefined): number {
  const r = o?.spec?.replicas;
  return typeof r === 'number' ? r : 1;
}

export function isRollingUpdate(d: KObject): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function maxSurge(d: KObject): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', replicasOf(d))[0];
}

export function maxUnavailable(d: KObject): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const u = resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', replicas)[1];
  return Math.min(u, replicas);
}

// ---- ReplicaSet sums and orderings ------------------------------------------------------------

export const specReplicas = (rs: KObject): number => (typeof rs.spec?.replicas === 'number' ? rs.spec.replicas : 1);
export const sumSpec = (rss: (KObject | undefined)[]): number => rss.reduce((s, r) => s + (r ? specReplicas(r) : 0), 0);
export const sumStatus = (rss: (KObject | undefined)[], f: string): number => rss.reduce((s, r) => s + (r ? (r.status?.[f] ?? 0) : 0), 0);
export const filterActive = (rss: (KObject | undefined)[]): KObject[] => rss.filter((r): r is KObject => !!r && specReplicas(r) > 0);

const created = (o: KObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreation(a: KObject, b: KObject): number {
  const d = created(a) - created(b);
  if (d) return d;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/** ReplicaSetsBySizeNewer: larger first; equal size → newer first. */
export function bySizeNewer(a: KObject, b: KObject): number {
  const d = specReplicas(b) - specReplicas(a);
  return d || byCreation(b, a);
}

/** ReplicaSetsBySizeOlder: larger first; equal size → older first. */
export function bySizeOlder(a: KObject, b: KObject): number {
  const d = specReplicas(b) - specReplicas(a);
  return d || byCreation(a, b);
}

export function revisionOf(o: KObject): number {
  const v = o.metadata.annotations?.[REVISION];
  const n = v === undefined ? 0 : Number(v);
  return Number.isInteger(n) ? n : 0;
}

export function maxRevision(rss: KObject[]): number {
  return rss.reduce((m, r) => Math.max(m, revisionOf(r)), 0);
}

/** ReplicaSetsByRevision: lower revision first, then older. */
export function byRevision(a: KObject, b: KObject): number {
  const d = revisionOf(a) - revisionOf(b);
  return d || byCreation(a, b);
}

/** FindNewReplicaSet: the oldest RS whose template equals the deployment's (ignoring the hash). */
export function findNewReplicaSet(d: KObject, rss: KObject[]): KObject | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** FindActiveOrLatest: the only active RS, or the newest when none is active, else undefined. */
export function findActiveOrLatest(newRS: KObject | undefined, oldRSs: KObject[]): KObject | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

// ---- annotations ------------------------------------------------------------------------------

function intAnnotation(o: KObject, k: string): number | undefined {
  const v = o.metadata.annotations?.[k];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

export const desiredReplicasAnnotation = (rs: KObject) => intAnnotation(rs, DESIRED_REPLICAS);
export const maxReplicasAnnotation = (rs: KObject) => intAnnotation(rs, MAX_REPLICAS);

export function replicasAnnotationsNeedUpdate(rs: KObject, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

/** SetReplicasAnnotations (mutates rs): true when something changed. */
export function setReplicasAnnotations(rs: KObject, desired: number, max: number): boolean {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  rs.metadata.annotations ??= {};
  rs.metadata.annotations[DESIRED_REPLICAS] = String(desired);
  rs.metadata.annotations[MAX_REPLICAS] = String(max);
  return true;
}

/** copyDeploymentAnnotationsToReplicaSet (mutates rs). */
function copyAnnotations(d: KObject, rs: KObject): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (annotationsToSkip.has(k)) continue;
    if (rs.metadata.annotations?.[k] === v) continue;
    rs.metadata.annotations ??= {};
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/** SetNewReplicaSetAnnotations (mutates rs): revision, revision-history, replicas, copied ones. */
export function setNewReplicaSetAnnotations(d: KObject, rs: KObject, newRevision: string, exists: boolean, maxHistoryChars = MAX_REV_HISTORY_CHARS): boolean {
  let changed = copyAnnotations(d, rs);
  rs.metadata.annotations ??= {};
  const a = rs.metadata.annotations;
  const oldRevision = a[REVISION];
  const oldInt = oldRevision === undefined || oldRevision === '' ? 0 : Number(oldRevision);
  if (!Number.isInteger(oldInt)) return changed;
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    a[REVISION] = newRevision;
    changed = true;
  }
  if (oldRevision !== undefined && oldInt < newInt) {
    const hist = a[REVISION_HISTORY] ?? '';
    const olds = hist.split(',');
    if (olds[0]!.length === 0) a[REVISION_HISTORY] = oldRevision;
    else {
      let total = hist.length + oldRevision.length + 1;
      let start = 0;
      while (total > maxHistoryChars && start < olds.length) {
        total -= olds[start]!.length + 1;
        start++;
      }
      if (total <= maxHistoryChars) a[REVISION_HISTORY] = [...olds.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

// ---- replica arithmetic -----------------------------------------------------------------------

/** NewRSNewReplicas: the size the new RS may grow to now. */
export function newRSNewReplicas(d: KObject, allRSs: KObject[], newRS: KObject): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const surge = maxSurge(d);
  const current = sumSpec(allRSs);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + up;
}

/** Go's math.Round: half away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** getReplicaSetFraction. */
function rsFraction(rs: KObject, d: KObject): number {
  const replicas = replicasOf(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentReplicas = replicas + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (!annotated) return 0;
  return roundHalfAway((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
}

/** GetProportion: this RS' share of `toAdd`, never overshooting what is left. */
export function getProportion(rs: KObject | undefined, d: KObject, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const f = rsFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(f, allowed) : Math.max(f, allowed);
}

/**
 * The proportional part of DeploymentController.scale: new sizes for every active RS when a
 * rolling deployment is resized mid-rollout. Returns [rs, newSize] in the order to apply.
 */
export function proportionalScale(d: KObject, newRS: KObject | undefined, oldRSs: KObject[]): [KObject, number][] {
  const all = filterActive([...oldRSs, newRS]);
  const total = sumSpec(all);
  const replicas = replicasOf(d);
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - total;
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = new Map<KObject, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const p = getProportion(rs, d, toAdd, added);
      sizes.set(rs, specReplicas(rs) + p);
      added += p;
    } else sizes.set(rs, specReplicas(rs));
  }
  return all.map((rs, i) => {
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    return [rs, size];
  });
}

/** IsSaturated: the new RS runs exactly the deployment's replicas, all available. */
export function isSaturated(d: KObject, rs: KObject | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  const r = replicasOf(d);
  return desired === r && specReplicas(rs) === r && (rs.status?.availableReplicas ?? 0) === r;
}

/**
 * cleanupUnhealthyReplicas' arithmetic: how far each old RS (oldest first) may be shrunk by
 * dropping its unavailable pods, up to maxCleanup in total. Returns [rs, newSize] pairs.
 */
export function unhealthyCleanupPlan(oldRSs: KObject[], maxCleanup: number): [KObject, number][] {
  const out: [KObject, number][] = [];
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= maxCleanup) break;
    const spec = specReplicas(rs);
    const avail = rs.status?.availableReplicas ?? 0;
    if (spec === 0 || spec === avail) continue;
    const down = Math.min(maxCleanup - total, spec - avail);
    out.push([rs, spec - down]);
    total += down;
  }
  return out;
}

/** reconcileOldReplicaSets' budget: how many old pods may go now (≤ 0: none). */
export function maxScaledDown(d: KObject, allRSs: KObject[], newRS: KObject | undefined): number {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = newRS ? specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
  return sumSpec(allRSs) - minAvailable - newUnavailable;
}

/** scaleDownOldReplicaSetsForRollingUpdate's arithmetic: [rs, newSize] for old RSs, oldest first. */
export function oldScaleDownPlan(d: KObject, allRSs: KObject[], oldRSs: KObject[]): [KObject, number][] {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = sumStatus(allRSs, 'availableReplicas');
  if (available <= minAvailable) return [];
  const totalDown = available - minAvailable;
  const out: [KObject, number][] = [];
  let done = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (done >= totalDown) break;
    const spec = specReplicas(rs);
    if (spec === 0) continue;
    const down = Math.min(spec, totalDown - done);
    out.push([rs, spec - down]);
    done += down;
  }
  return out;
}

// ---- conditions and status --------------------------------------------------------------------

export interface Condition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newCondition(type: string, status: string, reason: string, message: string, now: Date): Condition {
  return { type, status, lastUpdateTime: ts(now), lastTransitionTime: ts(now), reason, message };
}

export function getCondition(status: { conditions?: Condition[] } | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** SetDeploymentCondition: no-op for the same status and reason; keeps lastTransitionTime for the same status. */
export function setCondition(status: { conditions?: Condition[] }, c: Condition): void {
  const cur = getCondition(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c = { ...c, lastTransitionTime: cur.lastTransitionTime };
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), c];
}

export function removeCondition(status: { conditions?: Condition[] }, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((x) => x.type !== type);
}

export function hasProgressDeadline(d: KObject): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return typeof p === 'number' && p !== 2147483647;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

/** DeploymentComplete. */
export function deploymentComplete(d: KObject, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: any sign of progress against the deployment's current status. */
export function deploymentProgressing(d: KObject, s: DeploymentStatus): boolean {
  const o: DeploymentStatus = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut. */
export function deploymentTimedOut(d: KObject, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === Reasons.NewRSAvailable) return false;
  if (c.reason === Reasons.TimedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '') || 0;
  return from + d.spec.progressDeadlineSeconds * 1000 < now.getTime();
}

/** Zero-valued omitempty fields dropped, as upstream's JSON leaves them out. */
export function normalizeStatus(s: DeploymentStatus): DeploymentStatus {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || v === null) continue;
    if (v === 0 && k !== 'collisionCount') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as DeploymentStatus;
}
