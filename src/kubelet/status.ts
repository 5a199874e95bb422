// The pod status the kubelet reports, computed from what the runtime says (pure functions),
// shaped as upstream's kubelet writes it: phase (getPhase), conditions in kubelet order,
// containerStatuses with state/lastState/restartCount/ready/started/image/imageID/containerID.
import type { KObject } from '../api/types.js';
import { Quantity } from '../api/quantity.js';
import { mergeConditions, ts } from './simulated/pod.js';
import type { ContainerStatus } from './runtime/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What the kubelet knows about one container of a pod. */
export interface ContainerView {
  name: string;
  /** spec image. */
  image: string;
  /** The newest attempt in the runtime. */
  current?: ContainerStatus;
  /** The attempt before it (for lastState). */
  previous?: ContainerStatus;
  restartCount: number;
  /** Why the container is not running (set by the pod worker: ContainerCreating, CrashLoopBackOff …). */
  waiting?: { reason: string; message?: string };
  /** Readiness probe result (true without a readiness probe once started). */
  ready: boolean;
  /** Startup probe passed (true without one once running). */
  started: boolean;
  /** Termination message per attempt id. */
  terminationMessages?: Record<string, string>;
}

export interface PodStatusInput {
  runtimeType: string;
  init: ContainerView[];
  containers: ContainerView[];
  sandboxReady: boolean;
  podIPs: string[];
  hostIP: string;
  now: Date;
  /** The pod is being torn down / has been: containers stopped on purpose. */
  terminating?: boolean;
}

const tsMs = (ms: number) => ts(new Date(ms));

function terminatedState(s: ContainerStatus, runtime: string, message?: string): Json {
  const t: Json = { exitCode: s.exitCode, reason: s.reason ?? (s.exitCode === 0 ? 'Completed' : 'Error') };
  if (message ?? s.message) t.message = message ?? s.message;
  t.startedAt = s.startedAt ? tsMs(s.startedAt) : null;
  t.finishedAt = s.finishedAt ? tsMs(s.finishedAt) : null;
  t.containerID = `${runtime}://${s.id}`;
  return t;
}

export function containerStatusOf(v: ContainerView, runtime: string, isInit: boolean): Json {
  const cur = v.current;
  const out: Json = { name: v.name, state: {}, lastState: {}, ready: false, restartCount: v.restartCount, image: v.image, imageID: '' };
  if (cur) {
    out.image = cur.image || v.image;
    out.imageID = cur.imageRef || '';
    out.containerID = `${runtime}://${cur.id}`;
  }
  if (v.waiting) out.state = { waiting: { reason: v.waiting.reason, ...(v.waiting.message ? { message: v.waiting.message } : {}) } };
  else if (cur?.state === 'running') out.state = { running: { startedAt: tsMs(cur.startedAt) } };
  else if (cur?.state === 'exited') out.state = { terminated: terminatedState(cur, runtime, v.terminationMessages?.[cur.id]) };
  else out.state = { waiting: { reason: 'ContainerCreating' } };
  // lastState: the previous attempt; while waiting to restart, the attempt that just ended.
  const last = v.waiting && cur?.state === 'exited' ? cur : v.previous;
  if (last && last.state === 'exited') out.lastState = { terminated: terminatedState(last, runtime, v.terminationMessages?.[last.id]) };
  out.ready = !v.waiting && cur?.state === 'running' && v.ready && v.started;
  if (isInit) out.ready = !v.waiting && cur?.state === 'exited' && cur.exitCode === 0;
  out.started = !v.waiting && cur?.state === 'running' && v.started;
  if (isInit) out.started = !v.waiting && cur?.state === 'running';
  // upstream field order: containerID, image, imageID, lastState, name, ready, restartCount, started, state
  const ordered: Json = {};
  for (const k of ['containerID', 'image', 'imageID', 'lastState', 'name', 'ready', 'restartCount', 'started', 'state']) if (out[k] !== undefined) ordered[k] = out[k];
  return ordered;
}

/** upstream kubelet getPhase. */
export function podPhase(pod: KObject, init: ContainerView[], containers: ContainerView[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown' {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = false;
  let initFailed = false;
  for (const v of init) {
    const c = v.current;
    if (c?.state === 'exited' && c.exitCode === 0 && !v.waiting) continue;
    if (c?.state === 'exited' && c.exitCode !== 0 && policy === 'Never') initFailed = true;
    if (v.waiting?.reason === 'CrashLoopBackOff' && policy === 'Never') initFailed = true;
    pendingInit = true;
  }
  const anyStarted = containers.some((v) => v.current);
  if (initFailed && !anyStarted) return 'Failed';
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const v of containers) {
    const c = v.current;
    if (v.waiting) {
      if (c?.state === 'exited' || v.previous) stopped++;
      else waiting++;
    } else if (c?.state === 'running') running++;
    else if (c?.state === 'exited') {
      stopped++;
      if (c.exitCode === 0) succeeded++;
    } else if (c?.state === 'unknown') unknown++;
    else waiting++;
  }
  if (pendingInit && !anyStarted) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  if (unknown > 0) return 'Unknown';
  return 'Pending';
}

/** Guaranteed / Burstable / BestEffort, as upstream's GetPodQOS. */
export function qosClass(pod: KObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs: Json[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const reqs: Record<string, Quantity> = {};
  const lims: Record<string, Quantity> = {};
  let guaranteed = true;
  for (const c of cs) {
    const r = c.resources?.requests ?? {};
    const l = c.resources?.limits ?? {};
    for (const k of ['cpu', 'memory']) {
      if (r[k] !== undefined) {
        const q = Quantity.parse(String(r[k]));
        if (!q.isZero()) reqs[k] = reqs[k] ? reqs[k]!.add(q) : q;
      }
      if (l[k] !== undefined) {
        const q = Quantity.parse(String(l[k]));
        if (!q.isZero()) lims[k] = lims[k] ? lims[k]!.add(q) : q;
      }
    }
    if (l['cpu'] === undefined || l['memory'] === undefined) guaranteed = false;
  }
  if (!Object.keys(reqs).length && !Object.keys(lims).length) return 'BestEffort';
  if (guaranteed) {
    for (const k of ['cpu', 'memory']) if (!reqs[k] || !lims[k] || reqs[k]!.cmp(lims[k]!) !== 0) {
      // requests default to limits (the API's defaulting); absent requests mean equal.
      if (reqs[k] && lims[k] && reqs[k]!.cmp(lims[k]!) !== 0) guaranteed = false;
    }
  }
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

interface Cond {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** The whole status (phase, conditions, container statuses, IPs, startTime, qosClass). */
export function computePodStatus(pod: KObject, input: PodStatusInput): Json {
  const phase = podPhase(pod, input.init, input.containers);
  const runtime = input.runtimeType === 'cri' ? 'containerd' : input.runtimeType;
  const initStatuses = input.init.map((v) => containerStatusOf(v, runtime, true));
  const statuses = input.containers.map((v) => containerStatusOf(v, runtime, false));
  const incompleteInit = input.init.filter((_v, i) => !initStatuses[i].ready).map((v) => v.name);
  const unready = input.containers.filter((_v, i) => !statuses[i].ready).map((v) => v.name);
  const conds: Cond[] = [];
  conds.push({ type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' });
  if (!incompleteInit.length || phase === 'Succeeded' || input.containers.some((v) => v.current)) conds.push({ type: 'Initialized', status: 'True' });
  else conds.push({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incompleteInit.join(' ')}]` });
  let ready: Cond;
  if (phase === 'Succeeded') ready = { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  else if (incompleteInit.length && !input.containers.some((v) => v.current))
    ready = { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with incomplete status: [${incompleteInit.join(' ')}]` };
  else if (unready.length) ready = { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  else ready = { type: 'ContainersReady', status: 'True' };
  // Readiness gates: Ready needs every gate's condition True too.
  let podReady: Cond = { ...ready, type: 'Ready' };
  if (podReady.status === 'True') {
    const gates: string[] = (pod.spec?.readinessGates ?? []).map((g: Json) => g.conditionType);
    const missing = gates.filter((g) => (pod.status?.conditions ?? []).find((c: Json) => c.type === g)?.status !== 'True');
    if (missing.length) podReady = { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: `corresponding condition of pod readiness gate "${missing[0]}" does not exist.` };
  }
  conds.push(podReady, ready, { type: 'PodScheduled', status: 'True' });
  const status: Json = {
    phase,
    conditions: mergeConditions(pod.status?.conditions, conds, input.now),
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
  };
  if (input.podIPs.length) {
    status.podIP = input.podIPs[0];
    status.podIPs = input.podIPs.map((ip) => ({ ip }));
  }
  status.startTime = pod.status?.startTime ?? ts(input.now);
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  status.containerStatuses = statuses;
  status.qosClass = pod.status?.qosClass ?? qosClass(pod);
  return status;
}

/** Compares two statuses ignoring condition timestamps' churn (what we would PATCH). */
export function statusEqual(a: Json, b: Json): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(s: Json): Json {
  if (!s) return s;
  const keys = ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses', 'qosClass', 'message', 'reason'];
  const out: Json = {};
  for (const k of keys) {
    if (s[k] === undefined) continue;
    if (k === 'conditions') out[k] = (s[k] as Json[]).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })).sort((x, y) => String(x.type).localeCompare(String(y.type)));
    else out[k] = s[k];
  }
  return out;
}

/** The backoff of restarts (CrashLoopBackOff) and image pulls: 10 s doubling to 5 min, reset after 10 min without a failure. */
export class Backoff {
  private readonly entries = new Map<string, { delay: number; lastUpdate: number }>();
  constructor(
    readonly initialMs = 10_000,
    readonly maxMs = 300_000,
    readonly resetAfterMs = 600_000,
  ) {}

  /** Is `key` still backing off at `now` (since the failure recorded at `from`)? */
  isInBackOffSince(key: string, from: number, now: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (now - e.lastUpdate > this.resetAfterMs) return false;
    return now - from < e.delay;
  }

  /** Records one more failure: the delay doubles (first one: initial). Returns the delay. */
  next(key: string, now: number): number {
    const e = this.entries.get(key);
    if (!e || now - e.lastUpdate > this.resetAfterMs) {
      this.entries.set(key, { delay: this.initialMs, lastUpdate: now });
      return this.initialMs;
    }
    e.delay = Math.min(e.delay * 2, this.maxMs);
    e.lastUpdate = now;
    return e.delay;
  }

  get(key: string): number {
    return this.entries.get(key)?.delay ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets entries not updated for longer than resetAfterMs (or with a prefix). */
  gc(now: number, prefix?: string): void {
    for (const [k, e] of this.entries) if ((prefix && k.startsWith(prefix)) || now - e.lastUpdate > this.resetAfterMs * 2) this.entries.delete(k);
  }
}
