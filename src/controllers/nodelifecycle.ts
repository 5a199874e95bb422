// NodeLifecycleController: watches Nodes and their Leases (kube-node-lease); a node whose
// kubelet stops posting (no Lease renewal or status heartbeat within the grace period) has its
// Ready/MemoryPressure/DiskPressure/PIDPressure conditions set to Unknown ("Kubelet stopped
// posting node status."), its pods marked not ready, and is tainted
// node.kubernetes.io/unreachable (NoSchedule and NoExecute; not-ready when the kubelet says
// Ready=False). Condition taints (memory/disk/pid-pressure, network-unavailable) and
// node.kubernetes.io/unschedulable (spec.unschedulable, i.e. cordon) are kept in step too.
// The taint eviction part deletes pods on NoExecute-tainted nodes that don't tolerate the
// taint, once their tolerationSeconds have passed (TaintManagerEviction events).
//
// Defaults as upstream 1.32: --node-monitor-period 5s, --node-monitor-grace-period 50s,
// --node-startup-grace-period 1m. A Lease that declares a leaseDurationSeconds longer than
// the kubelet's 40 s (simulated nodes at scale renew less often) extends the grace period to
// that duration. All time decisions use ctx.clock.
import type { KObject } from '../api/types.js';
import { call, isConflict, isNotFound, resourcePath } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { keyOf, type Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** Taint keys this controller owns (others' taints are never touched). */
const MANAGED_KEYS = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  TAINT_MEMORY_PRESSURE,
  TAINT_DISK_PRESSURE,
  TAINT_PID_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
]);

const KUBELET_LEASE_DURATION_S = 40;
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeLifecycleOptions {
  /** How often node health is checked (default 5 s). */
  nodeMonitorPeriodMs?: number;
  /** How long a running node may go without a heartbeat before it is Unknown (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** The same for a node that has never posted Ready (default 60 s). */
  nodeStartupGracePeriodMs?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

function ts(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function condition(node: KObject, type: string): Json | undefined {
  return (node.status?.conditions ?? []).find((c: Json) => c?.type === type);
}

/**
 * The conditions after the node controller gives up on the kubelet: every monitored
 * condition Unknown (NodeStatusUnknown, or NodeStatusNeverUpdated if the kubelet never set
 * it). Undefined when they already are.
 */
export function unknownConditions(node: KObject, now: Date): Json[] | undefined {
  const conds: Json[] = structuredClone(node.status?.conditions ?? []);
  let changed = false;
  for (const type of MONITORED_CONDITIONS) {
    const c = conds.find((x) => x?.type === type);
    if (!c) {
      conds.push({
        type,
        status: 'Unknown',
        lastHeartbeatTime: node.metadata.creationTimestamp,
        lastTransitionTime: ts(now),
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = ts(now);
      changed = true;
    }
  }
  return changed ? conds : undefined;
}

/** The taints (of the keys this controller owns) a node should carry given its conditions and spec. */
export function desiredTaints(node: KObject): Taint[] {
  const out: Taint[] = [];
  const ready = condition(node, 'Ready')?.status;
  if (ready === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' });
  else if (ready === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  if (condition(node, 'MemoryPressure')?.status === 'True') out.push({ key: TAINT_MEMORY_PRESSURE, effect: 'NoSchedule' });
  if (condition(node, 'DiskPressure')?.status === 'True') out.push({ key: TAINT_DISK_PRESSURE, effect: 'NoSchedule' });
  if (condition(node, 'PIDPressure')?.status === 'True') out.push({ key: TAINT_PID_PRESSURE, effect: 'NoSchedule' });
  if (condition(node, 'NetworkUnavailable')?.status === 'True') out.push({ key: TAINT_NETWORK_UNAVAILABLE, effect: 'NoSchedule' });
  if (node.spec?.unschedulable === true) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/**
 * The node's new taint list: foreign taints kept as they are, owned taints made to match
 * `desired` (existing ones keep their timeAdded; new NoExecute taints get timeAdded = now).
 * Undefined when nothing changes.
 */
export function reconcileTaints(existing: Taint[] | undefined, desired: Taint[], now: Date): Taint[] | undefined {
  const cur = existing ?? [];
  const id = (t: Taint) => `${t.key}:${t.effect}`;
  const want = new Map(desired.map((t) => [id(t), t]));
  const out: Taint[] = [];
  let changed = false;
  for (const t of cur) {
    if (!MANAGED_KEYS.has(t.key) || want.has(id(t))) {
      out.push(t);
      want.delete(id(t));
    } else changed = true;
  }
  for (const t of want.values()) {
    out.push(t.effect === 'NoExecute' ? { ...t, timeAdded: ts(now) } : { ...t });
    changed = true;
  }
  return changed ? out : undefined;
}

/** v1helper.ToleratesTaint. */
export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  const op = tol.operator || 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (tol.value ?? '') === (taint.value ?? '');
  return false;
}

/**
 * When a pod must be evicted from a node with these NoExecute taints: `now` if some taint is
 * not tolerated, never (undefined) if every taint is tolerated forever, else the earliest
 * taint time + tolerationSeconds over the taints' tolerations (the minimum, as upstream).
 * `since` is when the taints were first seen (used for taints without timeAdded).
 */
export function evictionTime(tolerations: Toleration[] | undefined, taints: Taint[], since: number, now: number): number | undefined {
  const noExec = taints.filter((t) => t.effect === 'NoExecute');
  if (noExec.length === 0) return undefined;
  let at: number | undefined;
  for (const taint of noExec) {
    const matching = (tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return now;
    let secs: number | undefined;
    for (const m of matching) {
      if (m.tolerationSeconds === undefined || m.tolerationSeconds === null) continue;
      const s = Math.max(0, Number(m.tolerationSeconds));
      secs = secs === undefined ? s : Math.min(secs, s);
    }
    if (secs === undefined) continue; // tolerated forever
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    const start = Number.isFinite(added) ? added : since;
    const t = start + secs * 1000;
    at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}

/**
 * Is the node's kubelet late? `probe` is when we last saw it post (lease renewal or status
 * heartbeat, in our clock).
 */
export function isStale(node: KObject, probe: number, now: number, graceMs: number, startupGraceMs: number): boolean {
  const ready = condition(node, 'Ready');
  const grace = ready ? graceMs : Math.max(graceMs, startupGraceMs);
  return now > probe + grace;
}

interface Health {
  probe: number;
  leaseRenew?: string;
  heartbeat?: string;
  leaseDurationMs?: number;
  /** Ready status as last synced, to notice transitions. */
  lastReady?: string;
}

const POD_INDEX = 'nodelifecycle/nodeName';

export class NodeLifecycleController implements Controller {
  readonly monitorPeriodMs: number;
  readonly gracePeriodMs: number;
  readonly startupGracePeriodMs: number;
  private nodeInf!: Informer;
  private leaseInf!: Informer;
  private podInf!: Informer;
  private readonly health = new Map<string, Health>();
  private readonly nodeQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 30_000 });
  private readonly podQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 30_000 });
  private readonly evictions = new Map<string, { uid: string; at: number; cancel(): void }>();
  /** When a node's current NoExecute taints were first seen (for taints without timeAdded). */
  private readonly taintedSince = new Map<string, number>();
  private monitor?: { cancel(): void };
  private stopped = false;
  private readonly nodeRecorder: EventRecorder;
  private readonly taintRecorder: EventRecorder;

  constructor(
    readonly ctx: ControllerContext,
    opts: NodeLifecycleOptions = {},
  ) {
    this.monitorPeriodMs = opts.nodeMonitorPeriodMs ?? 5000;
    this.gracePeriodMs = opts.nodeMonitorGracePeriodMs ?? 50_000;
    this.startupGracePeriodMs = opts.nodeStartupGracePeriodMs ?? 60_000;
    this.nodeRecorder = ctx.recorder('node-controller');
    this.taintRecorder = ctx.recorder('taint-eviction-controller');
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  start(): void {
    this.nodeInf = this.ctx.informers.nodes();
    this.leaseInf = this.ctx.informers.informer({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-node-lease' });
    this.podInf = this.ctx.informers.pods();
    this.podInf.addIndexer(POD_INDEX, (p) => (p.spec?.nodeName ? [String(p.spec.nodeName)] : []));
    this.nodeInf.addHandlers({
      onAdd: (n) => {
        this.observe(n.metadata.name!);
        this.nodeQueue.add(n.metadata.name!);
        this.nodeRecorder.event(nodeRef(n), 'Normal', 'RegisteredNode', `Node ${n.metadata.name} event: Registered Node ${n.metadata.name} in Controller`);
      },
      onUpdate: (o, n) => {
        this.observe(n.metadata.name!);
        this.nodeQueue.add(n.metadata.name!);
        if (JSON.stringify(noExecute(o)) !== JSON.stringify(noExecute(n)))
          for (const p of this.podInf.byIndex(POD_INDEX, n.metadata.name!)) this.podQueue.add(keyOf(p));
      },
      onDelete: (n) => {
        this.health.delete(n.metadata.name!);
        this.taintedSince.delete(n.metadata.name!);
      },
    });
    this.leaseInf.addHandlers({
      onAdd: (l) => this.observe(l.metadata.name!),
      onUpdate: (_o, l) => this.observe(l.metadata.name!),
    });
    this.podInf.addHandlers({
      onAdd: (p) => this.podQueue.add(keyOf(p)),
      onUpdate: (o, p) => {
        if (o.spec?.nodeName !== p.spec?.nodeName || !!o.metadata.deletionTimestamp !== !!p.metadata.deletionTimestamp || o.status?.phase !== p.status?.phase)
          this.podQueue.add(keyOf(p));
      },
      onDelete: (p) => {
        const k = keyOf(p);
        this.evictions.get(k)?.cancel();
        this.evictions.delete(k);
      },
    });
    for (let i = 0; i < 2; i++) void this.worker(this.nodeQueue, (k) => this.syncNode(k));
    for (let i = 0; i < 4; i++) void this.worker(this.podQueue, (k) => this.syncPod(k));
    this.scheduleMonitor();
  }

  stop(): void {
    this.stopped = true;
    this.monitor?.cancel();
    this.nodeQueue.shutDown();
    this.podQueue.shutDown();
    for (const e of this.evictions.values()) e.cancel();
    this.evictions.clear();
  }

  private scheduleMonitor(): void {
    if (this.stopped) return;
    this.monitor = this.ctx.clock.setTimeout(() => {
      this.monitorPass();
      this.scheduleMonitor();
    }, this.monitorPeriodMs);
  }

  /** monitorNodeHealth: enqueue every node whose kubelet is late and not yet marked so. */
  monitorPass(): void {
    const now = this.now();
    for (const n of this.nodeInf.list()) {
      const name = n.metadata.name!;
      const h = this.observe(name);
      if (isStale(n, h.probe, now, this.graceFor(h), this.startupGracePeriodMs) && unknownConditions(n, new Date(now))) this.nodeQueue.add(name);
    }
  }

  private graceFor(h: Health): number {
    return h.leaseDurationMs && h.leaseDurationMs > KUBELET_LEASE_DURATION_S * 1000 ? Math.max(this.gracePeriodMs, h.leaseDurationMs) : this.gracePeriodMs;
  }

  /** Refreshes the probe time when the lease renewTime or the Ready heartbeat changed. */
  private observe(name: string): Health {
    const now = this.now();
    let h = this.health.get(name);
    if (!h) {
      h = { probe: now };
      this.health.set(name, h);
    }
    const lease = this.leaseInf?.get(`kube-node-lease/${name}`);
    const renew = lease?.spec?.renewTime as string | undefined;
    if (renew && renew !== h.leaseRenew) {
      h.leaseRenew = renew;
      h.probe = now;
    }
    if (lease?.spec?.leaseDurationSeconds) h.leaseDurationMs = Number(lease.spec.leaseDurationSeconds) * 1000;
    const node = this.nodeInf?.get(name);
    const hb = node ? condition(node, 'Ready')?.lastHeartbeatTime : undefined;
    if (hb && hb !== h.heartbeat) {
      h.heartbeat = hb;
      h.probe = now;
    }
    return h;
  }

  private async worker(q: WorkQueue, fn: (key: string) => Promise<void>): Promise<void> {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      try {
        await fn(key);
        q.forget(key);
      } catch (e) {
        if (!this.stopped) {
          if (!isConflict(e)) this.ctx.log.debug('sync failed', { key, err: String(e) });
          q.addRateLimited(key);
        }
      } finally {
        q.done(key);
      }
    }
  }

  private async syncNode(name: string): Promise<void> {
    let node = this.nodeInf.get(name);
    if (!node) return;
    const h = this.observe(name);
    const now = this.now();
    if (isStale(node, h.probe, now, this.graceFor(h), this.startupGracePeriodMs)) {
      const conds = unknownConditions(node, new Date(now));
      if (conds) {
        node = await call<KObject>(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, name, 'status'), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { resourceVersion: node.metadata.resourceVersion }, status: { conditions: conds } },
        });
        this.ctx.log.info('node stopped posting status', { node: name });
      }
    }
    const ready = condition(node, 'Ready')?.status;
    const prev = h.lastReady;
    h.lastReady = ready;
    if (prev === 'True' && ready !== 'True') {
      this.nodeRecorder.event(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      await this.markPodsNotReady(name);
    }
    const taints = reconcileTaints(node.spec?.taints, desiredTaints(node), new Date(now));
    if (taints) {
      await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, name), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: taints.length ? taints : null } },
      });
    }
  }

  /** MarkPodsNotReady: the pods of a node that stopped reporting are no longer Ready. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    for (const pod of this.podInf.byIndex(POD_INDEX, nodeName)) {
      const conds: Json[] = pod.status?.conditions ?? [];
      const ready = conds.find((c) => c?.type === 'Ready');
      if (!ready || ready.status === 'False' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const next = conds.map((c) => (c?.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: ts(this.now()) } : c));
      try {
        await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name, 'status'), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions: next } },
        });
        this.nodeRecorder.event(podRef(pod), 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }

  /** Taint eviction: schedule or carry out the deletion of a pod on a NoExecute-tainted node. */
  private async syncPod(key: string): Promise<void> {
    const pod = this.podInf.get(key);
    const cancel = () => {
      this.evictions.get(key)?.cancel();
      this.evictions.delete(key);
    };
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return cancel();
    const node = this.nodeInf.get(pod.spec.nodeName);
    const taints = node ? noExecute(node) : [];
    if (!node || taints.length === 0) {
      this.taintedSince.delete(pod.spec.nodeName);
      return cancel();
    }
    const now = this.now();
    let since = this.taintedSince.get(node.metadata.name!);
    if (since === undefined) this.taintedSince.set(node.metadata.name!, (since = now));
    const at = evictionTime(pod.spec?.tolerations, taints, since, now);
    if (at === undefined) return cancel();
    if (at > now) {
      const prev = this.evictions.get(key);
      if (prev && prev.uid === pod.metadata.uid && prev.at === at) return;
      prev?.cancel();
      const h = this.ctx.clock.setTimeout(() => this.podQueue.add(key), at - now);
      this.evictions.set(key, { uid: pod.metadata.uid!, at, cancel: () => h.cancel() });
      return;
    }
    cancel();
    await this.evict(pod);
  }

  private async evict(pod: KObject): Promise<void> {
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    this.taintRecorder.event(podRef(pod), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
    const conds: Json[] = (pod.status?.conditions ?? []).filter((c: Json) => c?.type !== 'DisruptionTarget');
    conds.push({
      type: 'DisruptionTarget',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: ts(this.now()),
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
    });
    try {
      await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', ns, name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions: conds } },
      });
      await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', ns, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: pod.metadata.uid } },
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}

function noExecute(node: KObject): Taint[] {
  return ((node.spec?.taints ?? []) as Taint[]).filter((t) => t?.effect === 'NoExecute');
}

function nodeRef(node: KObject): KObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.uid } };
}

function podRef(pod: KObject): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion } };
}
