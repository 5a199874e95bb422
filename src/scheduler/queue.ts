// The scheduling queue, in kube-scheduler's shape: activeQ (a heap ordered by priority,
// then by the time the pod entered the queue), backoffQ (per-pod exponential back-off,
// 1 s doubling to 10 s) and unschedulablePods (parked until a cluster event that may make
// them schedulable moves them, or until they have waited 60 s).
import type { KObject } from '../api/types.js';
import type { Clock } from '../controllers/context.js';
import { podKey, priorityOf } from './types.js';

export interface QueuedPodInfo {
  pod: KObject;
  key: string;
  /** When the pod was last added to a queue (ms). */
  timestamp: number;
  /** When the pod first entered the queue (ms). */
  initialAttemptTimestamp: number;
  attempts: number;
  /** Plugins that rejected the pod last time (drives which events move it). */
  unschedulablePlugins: Set<string>;
  /** Set when the last attempt failed with an error, not a rejection. */
  lastError?: boolean;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried after this long even without an event. */
  unschedulableTimeoutMs?: number;
  /** Period of the backoff / leftover flushes. */
  backoffFlushMs?: number;
  unschedulableFlushMs?: number;
  priorityOf?: (pod: KObject) => number;
}

/** Cluster events that can make unschedulable pods schedulable, and the plugins each can help. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete' | 'NamespaceUpdate' | 'ForceActivate';

const eventPlugins: Record<ClusterEvent, string[] | '*'> = {
  NodeAdd: '*',
  NodeUpdate: '*',
  AssignedPodAdd: ['InterPodAffinity', 'PodTopologySpread'],
  AssignedPodUpdate: ['InterPodAffinity', 'PodTopologySpread', 'NodeResourcesFit'],
  AssignedPodDelete: ['NodeResourcesFit', 'NodePorts', 'InterPodAffinity', 'PodTopologySpread', 'DefaultPreemption'],
  NamespaceUpdate: ['InterPodAffinity'],
  ForceActivate: '*',
};

function eventHelps(ev: ClusterEvent, plugins: Set<string>): boolean {
  const list = eventPlugins[ev];
  if (list === '*' || plugins.size === 0) return true;
  for (const p of list) if (plugins.has(p)) return true;
  return false;
}

/** The parts of a pod whose change can make it schedulable (not its status or bookkeeping). */
function schedulingRelevant(pod: KObject): string {
  const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = pod.metadata;
  return JSON.stringify([meta, pod.spec]);
}

interface HeapEntry {
  qpi: QueuedPodInfo;
  prio: number;
  seq: number;
  ts: number;
}

export class SchedulingQueue {
  private heap: HeapEntry[] = [];
  private active = new Map<string, QueuedPodInfo>();
  private backoff = new Map<string, QueuedPodInfo>();
  private unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods popped and being scheduled: the cycle they were popped in. */
  private inFlight = new Map<string, number>();
  private waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  private seq = 0;
  private closed = false;
  private timers: { cancel(): void }[] = [];
  schedulingCycle = 0;
  private moveRequestCycle = -1;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly unschedTimeout: number;
  private readonly prio: (pod: KObject) => number;

  constructor(
    private readonly clock: Clock,
    private readonly opts: QueueOptions = {},
  ) {
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.unschedTimeout = opts.unschedulableTimeoutMs ?? 60_000;
    this.prio = opts.priorityOf ?? priorityOf;
  }

  /** Starts the periodic flushes (backoffQ every second, unschedulable leftovers every 30 s). */
  run(): void {
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.closed) return;
        fn();
        this.timers.push(this.clock.setTimeout(tick, ms));
      };
      this.timers.push(this.clock.setTimeout(tick, ms));
    };
    every(this.opts.backoffFlushMs ?? 1000, () => this.flushBackoffCompleted());
    every(this.opts.unschedulableFlushMs ?? 30_000, () => this.flushUnschedulableLeftover());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private pushActive(qpi: QueuedPodInfo): void {
    this.active.set(qpi.key, qpi);
    const w = this.waiters.shift();
    if (w) {
      this.active.delete(qpi.key);
      this.startCycle(qpi);
      w(qpi);
      return;
    }
    this.heapPush({ qpi, prio: this.prio(qpi.pod), seq: this.seq++, ts: qpi.timestamp });
  }

  private startCycle(qpi: QueuedPodInfo): void {
    this.schedulingCycle++;
    qpi.attempts++;
    this.inFlight.set(qpi.key, this.schedulingCycle);
  }

  /** A new pending pod. */
  add(pod: KObject): void {
    const key = podKey(pod);
    const now = this.now();
    if (this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key)) return this.update(pod);
    this.pushActive({ pod, key, timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set() });
  }

  /** A pending pod changed: keep the newest object; a relevant change retries an unschedulable pod. */
  update(pod: KObject): void {
    const key = podKey(pod);
    const a = this.active.get(key);
    if (a) {
      const oldPrio = this.prio(a.pod);
      a.pod = pod;
      if (this.prio(pod) !== oldPrio) this.heapPush({ qpi: a, prio: this.prio(pod), seq: this.seq++, ts: a.timestamp });
      return;
    }
    const b = this.backoff.get(key);
    if (b) {
      b.pod = pod;
      return;
    }
    const u = this.unschedulable.get(key);
    if (u) {
      const changed = schedulingRelevant(u.pod) !== schedulingRelevant(pod);
      u.pod = pod;
      if (changed) {
        this.unschedulable.delete(key);
        if (this.backoffExpiry(u) > this.now()) this.backoff.set(key, u);
        else {
          u.timestamp = this.now();
          this.pushActive(u);
        }
      }
      return;
    }
    if (!this.inFlight.has(key)) this.add(pod);
  }

  delete(pod: KObject): void {
    const key = podKey(pod);
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key);
  }

  /** The next pod to schedule (highest priority, then oldest); waits while activeQ is empty. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    for (;;) {
      const top = this.heapPop();
      if (!top) break;
      const cur = this.active.get(top.qpi.key);
      if (cur !== top.qpi || this.prio(cur.pod) !== top.prio) continue; // stale heap entry
      this.active.delete(top.qpi.key);
      this.startCycle(cur);
      return Promise.resolve(cur);
    }
    return new Promise((r) => this.waiters.push(r));
  }

  /** The pod's scheduling attempt is over (bound, assumed, or requeued). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  backoffDuration(qpi: QueuedPodInfo): number {
    let d = this.initialBackoff;
    for (let i = 1; i < qpi.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  backoffExpiry(qpi: QueuedPodInfo): number {
    return qpi.timestamp + this.backoffDuration(qpi);
  }

  /**
   * A pod that could not be scheduled in the cycle it was popped in. If a move request came
   * while it was being scheduled (a node appeared...), it goes to backoffQ rather than
   * waiting for another event; errors always go to backoffQ.
   */
  addUnschedulableIfNotPresent(qpi: QueuedPodInfo): void {
    const cycle = this.inFlight.get(qpi.key) ?? this.schedulingCycle;
    this.inFlight.delete(qpi.key);
    if (this.closed || this.has(qpi.key)) return;
    qpi.timestamp = this.now();
    if (qpi.lastError || this.moveRequestCycle >= cycle) this.backoff.set(qpi.key, qpi);
    else this.unschedulable.set(qpi.key, qpi);
  }

  /** Puts a pod straight back to backoffQ (e.g. its binding failed). */
  addBackoff(qpi: QueuedPodInfo): void {
    this.inFlight.delete(qpi.key);
    if (this.closed || this.has(qpi.key)) return;
    qpi.timestamp = this.now();
    this.backoff.set(qpi.key, qpi);
  }

  /** A cluster event: unschedulable pods it may help move to activeQ (or backoffQ while backing off). */
  moveAllToActiveOrBackoffQueue(ev: ClusterEvent): void {
    const now = this.now();
    for (const [key, qpi] of this.unschedulable) {
      if (!eventHelps(ev, qpi.unschedulablePlugins)) continue;
      this.unschedulable.delete(key);
      if (this.backoffExpiry(qpi) > now) this.backoff.set(key, qpi);
      else {
        qpi.timestamp = now;
        this.pushActive(qpi);
      }
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  flushBackoffCompleted(): void {
    const now = this.now();
    for (const [key, qpi] of this.backoff) {
      if (this.backoffExpiry(qpi) > now) continue;
      this.backoff.delete(key);
      this.pushActive(qpi);
    }
  }

  flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const [key, qpi] of this.unschedulable) {
      if (now - qpi.timestamp < this.unschedTimeout) continue;
      this.unschedulable.delete(key);
      if (this.backoffExpiry(qpi) > now) this.backoff.set(key, qpi);
      else {
        qpi.timestamp = now;
        this.pushActive(qpi);
      }
    }
  }

  /** Counts per sub-queue (tests, metrics). */
  stats(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }
  inUnschedulable(key: string): boolean {
    return this.unschedulable.has(key);
  }
  inBackoff(key: string): boolean {
    return this.backoff.has(key);
  }
  inActive(key: string): boolean {
    return this.active.has(key);
  }

  // ---- binary heap: higher priority first, then lower seq (earlier) ----
  private less(a: HeapEntry, b: HeapEntry): boolean {
    if (a.prio !== b.prio) return a.prio > b.prio;
    if (a.ts !== b.ts) return a.ts < b.ts;
    return a.seq < b.seq;
  }
  private heapPush(e: HeapEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private heapPop(): HeapEntry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
