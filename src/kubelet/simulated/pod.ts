// What the simulated kubelet writes into a pod's status at each step of its life, shaped as
// upstream's kubelet writes it (conditions in kubelet order, container statuses with
// containerID/image/imageID, podIP(s), hostIP(s), startTime). Pure functions.
import { createHash } from 'node:crypto';
import type { KObject } from '../../api/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** metav1.Time: RFC 3339 with second precision. */
export function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The fully-qualified reference containerd reports: docker.io/library/nginx:latest. */
export function normalizeImage(image: string): string {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  }
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function imageID(image: string): string {
  const n = normalizeImage(image);
  const at = n.indexOf('@');
  if (at >= 0) return n;
  const repo = n.slice(0, n.lastIndexOf(':') > n.lastIndexOf('/') ? n.lastIndexOf(':') : n.length);
  return `${repo}@sha256:${sha(n)}`;
}

export function containerID(pod: KObject, container: string): string {
  return `fake://${sha(`${pod.metadata.uid ?? pod.metadata.name}/${container}`)}`;
}

interface Cond {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** Replaces the conditions the kubelet owns, keeps the others (DisruptionTarget, readiness gates…). */
export function mergeConditions(existing: Json[] | undefined, ours: Cond[], now: Date): Json[] {
  const old = new Map<string, Json>();
  for (const c of existing ?? []) if (c && typeof c.type === 'string') old.set(c.type, c);
  const out: Json[] = [];
  const owned = new Set(ours.map((c) => c.type));
  for (const c of ours) {
    const prev = old.get(c.type);
    const transition = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : ts(now);
    const cond: Json = { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime: transition };
    if (c.reason) cond.reason = c.reason;
    if (c.message) cond.message = c.message;
    out.push(cond);
  }
  for (const c of existing ?? []) if (c && !owned.has(c.type)) out.push(c);
  return out;
}

const containersOf = (pod: KObject): Json[] => (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []);
const initContainersOf = (pod: KObject): Json[] => (Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []);

function unready(pod: KObject): string {
  return `containers with unready status: [${containersOf(pod).map((c) => c.name).join(' ')}]`;
}

export interface HostInfo {
  hostIP: string;
}

/** Pending: sandbox being created, containers waiting in ContainerCreating. */
export function pendingStatus(pod: KObject, host: HostInfo, now: Date): Json {
  const inits = initContainersOf(pod);
  const conds: Cond[] = [
    { type: 'PodReadyToStartContainers', status: 'False' },
    inits.length
      ? { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${inits.map((c) => c.name).join(' ')}]` }
      : { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: unready(pod) },
    { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: unready(pod) },
    { type: 'PodScheduled', status: 'True' },
  ];
  const waiting = (c: Json, reason: string): Json => ({
    image: c.image,
    imageID: '',
    lastState: {},
    name: c.name,
    ready: false,
    restartCount: 0,
    started: false,
    state: { waiting: { reason } },
  });
  const status: Json = {
    phase: 'Pending',
    conditions: mergeConditions(pod.status?.conditions, conds, now),
    hostIP: host.hostIP,
    hostIPs: [{ ip: host.hostIP }],
    startTime: pod.status?.startTime ?? ts(now),
    containerStatuses: containersOf(pod).map((c) => waiting(c, inits.length ? 'PodInitializing' : 'ContainerCreating')),
  };
  if (inits.length) status.initContainerStatuses = inits.map((c, i) => waiting(c, i === 0 ? 'PodInitializing' : 'PodInitializing'));
  return status;
}

/** Running: every init container completed, every container running, started and ready. */
export function runningStatus(pod: KObject, host: HostInfo, podIP: string, now: Date): Json {
  const conds: Cond[] = [
    { type: 'PodReadyToStartContainers', status: 'True' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'True' },
    { type: 'ContainersReady', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ];
  const started = ts(now);
  const status: Json = {
    phase: 'Running',
    conditions: mergeConditions(pod.status?.conditions, conds, now),
    hostIP: host.hostIP,
    hostIPs: [{ ip: host.hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? started,
    containerStatuses: containersOf(pod).map((c) => ({
      containerID: containerID(pod, c.name),
      image: normalizeImage(String(c.image ?? '')),
      imageID: imageID(String(c.image ?? '')),
      lastState: {},
      name: c.name,
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: started } },
    })),
  };
  const inits = initContainersOf(pod);
  if (inits.length)
    status.initContainerStatuses = inits.map((c) => ({
      containerID: containerID(pod, c.name),
      image: normalizeImage(String(c.image ?? '')),
      imageID: imageID(String(c.image ?? '')),
      lastState: {},
      name: c.name,
      ready: true,
      restartCount: 0,
      started: false,
      state: { terminated: { containerID: containerID(pod, c.name), exitCode: 0, finishedAt: started, reason: 'Completed', startedAt: started } },
    }));
  return status;
}

/**
 * Terminal: containers terminated (Completed with 0, Error otherwise); phase Succeeded or
 * Failed. Keeps podIP(s), hostIP(s) and the containers' startedAt.
 */
export function terminatedStatus(pod: KObject, exitCode: number, now: Date, phase?: 'Succeeded' | 'Failed'): Json {
  const p = phase ?? (exitCode === 0 ? 'Succeeded' : 'Failed');
  const reason = p === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
  const conds: Cond[] = [
    { type: 'PodReadyToStartContainers', status: 'False' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'False', reason },
    { type: 'ContainersReady', status: 'False', reason },
    { type: 'PodScheduled', status: 'True' },
  ];
  const finished = ts(now);
  const prev = new Map<string, Json>();
  for (const cs of Array.isArray(pod.status?.containerStatuses) ? pod.status.containerStatuses : []) prev.set(cs.name, cs);
  const status: Json = {
    phase: p,
    conditions: mergeConditions(pod.status?.conditions, conds, now),
    containerStatuses: containersOf(pod).map((c) => {
      const startedAt = prev.get(c.name)?.state?.running?.startedAt ?? finished;
      const id = containerID(pod, c.name);
      return {
        containerID: id,
        image: normalizeImage(String(c.image ?? '')),
        imageID: imageID(String(c.image ?? '')),
        lastState: {},
        name: c.name,
        ready: false,
        restartCount: 0,
        started: false,
        state: { terminated: { containerID: id, exitCode, finishedAt: finished, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt } },
      };
    }),
  };
  if (!pod.status?.startTime) status.startTime = finished;
  return status;
}

/** "5s", "1m30s", "250ms", "2" (seconds) → ms; undefined when unparsable. */
export function parseDuration(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(t))) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    pos = re.lastIndex;
  }
  if (pos !== t.length || t.length === 0) return undefined;
  return Math.round(total);
}

/** Is the pod's status already what pendingStatus wrote (or further along)? */
export function hasStarted(pod: KObject): boolean {
  return Array.isArray(pod.status?.containerStatuses) && pod.status.containerStatuses.length > 0;
}

export function isTerminal(pod: KObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
