// Simulated nodes (kwok inside kts): registers Nodes that have no machine behind them, keeps
// their Leases and status fresh, and moves the pods bound to them through their lifecycle
// as a kubelet would, without running anything.
//
// Names: `kts-node-1` … `kts-node-N` (1-based like kind's kind-worker, kind-worker2 …, and
// prefixed so they never collide with a real machine's hostname a real kubelet registers).
// Any Node annotated `kts.dev/simulated: "true"` (e.g. `kubectl apply`d later) is adopted:
// given a pod CIDR, capacity, addresses, nodeInfo and Ready conditions, then run the same way.
// Annotating a node `kts.dev/heartbeat=stopped` simulates its death: no more Lease renewals
// or status updates, and its pods freeze (they are neither started nor removed) until the
// annotation is removed — exactly what a dead kubelet looks like to the control plane.
//
// Pods: Pending (ContainerCreating) on binding, Running and Ready after `podStartDelayMs`
// (default 1 s) with a pod IP from the node's pod CIDR; pods with restartPolicy Never or
// OnFailure finish after `podRunDurationMs` (default 2 s; annotation
// `kts.dev/simulated-duration: "5s"` overrides it, `kts.dev/simulated-exit-code: "1"` makes it
// fail with reason Error). A pod with a deletionTimestamp is removed (deleted with grace 0)
// after min(its grace period, `podDeleteDelayMs` = 1 s) — simulated containers stop at once.
//
// Scale: one ticker drives every node's Lease and status heartbeats, with each node's due
// time spread over the interval, and writes go through a bounded number of in-flight calls.
// Leases renew every 10 s (as the kubelet, leaseDurationSeconds 40) up to 1,000 nodes; above
// that the interval is N × 10 ms (5,000 nodes: every 50 s, i.e. 100 writes/s instead of 500)
// and leaseDurationSeconds is 4 × the interval — the node lifecycle controller honours a
// lease duration longer than its grace period. Node status heartbeats are posted every
// minute (N × 20 ms above 3,000 nodes). Pod status writes go through one work queue
// (deduplicated per pod) with several workers; per-pod events (Pulled/Created/Started/Killing)
// are recorded only for clusters of up to 100 simulated nodes unless `podEvents` says otherwise.
import { EventRecorder } from '../../client/events.js';
import { call, isConflict, isNotFound, resourcePath, StatusError } from '../../client/client.js';
import { keyOf, type Informer } from '../../client/informer.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { KObject } from '../../api/types.js';
import type { ControllerContext } from '../../controllers/context.js';
import { NodeIPAllocator, PodCIDRAllocator, PodIPPool } from './ipam.js';
import {
  adoptedStatus,
  buildNode,
  DEFAULT_SHAPE,
  DURATION_ANNOTATION,
  EXIT_CODE_ANNOTATION,
  healthyConditions,
  heartbeatStopped,
  internalIPOf,
  isHealthy,
  isSimulated,
  microTime,
  type NodeShape,
} from './node.js';
import { hasStarted, isTerminal, mergeConditions, parseDuration, pendingStatus, runningStatus, terminatedStatus } from './pod.js';

export { SIMULATED_ANNOTATION, HEARTBEAT_ANNOTATION, DURATION_ANNOTATION, EXIT_CODE_ANNOTATION } from './node.js';

export interface SimulatedNodesOptions {
  count: number;
  /** Node names are `<namePrefix><i>`, i = 1…count. Default `kts-node-`. */
  namePrefix?: string;
  /** Pod CIDRs are /24s of this range (then of 100.64.0.0/10 when it runs out). */
  clusterCIDR?: string;
  /** Pending → Running delay (default 1000 ms). */
  podStartDelayMs?: number;
  /** How long Never/OnFailure pods run before they succeed (default 2000 ms). */
  podRunDurationMs?: number;
  /** Upper bound on how long a deleted pod lingers before its final delete (default 1000 ms). */
  podDeleteDelayMs?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  statusUpdateIntervalMs?: number;
  shape?: Partial<NodeShape>;
  /** Record kubelet events for pods (default: when count ≤ 100). */
  podEvents?: boolean;
  /** Pod status workers (default 16). */
  workers?: number;
  /** Heartbeat ticker period (default 1000 ms). */
  tickMs?: number;
}

interface SimNode {
  name: string;
  uid: string;
  index: number;
  pool?: PodIPPool;
  hostIP?: string;
  stopped: boolean;
  leaseDue: number;
  statusDue: number;
  inflight: boolean;
  /** Has the first renewal happened (after which the node keeps its own phase)? */
  renewed: boolean;
  recorder?: EventRecorder;
}

interface Timer {
  uid: string;
  at: number;
  cancel(): void;
}

const POD_INDEX = 'kts-simulated/nodeName';
const LEASE_NS = 'kube-node-lease';
const MAX_INFLIGHT = 32;

function hashFrac(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

export class SimulatedNodes {
  readonly namePrefix: string;
  leaseRenewIntervalMs: number;
  readonly leaseDurationSeconds: number;
  statusUpdateIntervalMs: number;
  podStartDelayMs: number;
  podRunDurationMs: number;
  podDeleteDelayMs: number;
  private readonly shape: NodeShape;
  private readonly podEvents: boolean;
  private readonly nodes = new Map<string, SimNode>();
  private readonly podIPs = new Map<string, { node: string; ip: string }>();
  private readonly timers = new Map<string, Timer>();
  private readonly pendingSince = new Map<string, number>();
  private readonly cidrs: PodCIDRAllocator;
  private readonly nodeIPs = new NodeIPAllocator();
  private readonly podQueue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 10_000 });
  private readonly nodeQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 10_000 });
  private nodeInf!: Informer;
  private podInf!: Informer;
  private tick?: { cancel(): void };
  private stopped = false;
  private inflight = 0;
  private readonly waiters: (() => void)[] = [];
  private readyResolve!: () => void;
  /** Resolves once the first `count` nodes are registered. */
  readonly ready: Promise<void> = new Promise((r) => (this.readyResolve = r));

  constructor(
    readonly ctx: ControllerContext,
    readonly opts: SimulatedNodesOptions,
  ) {
    this.namePrefix = opts.namePrefix ?? 'kts-node-';
    this.leaseRenewIntervalMs = opts.leaseRenewIntervalMs ?? Math.max(10_000, opts.count * 10);
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? Math.max(40, Math.ceil((4 * this.leaseRenewIntervalMs) / 1000));
    this.statusUpdateIntervalMs = opts.statusUpdateIntervalMs ?? Math.max(60_000, opts.count * 20);
    this.podStartDelayMs = opts.podStartDelayMs ?? 1000;
    this.podRunDurationMs = opts.podRunDurationMs ?? 2000;
    this.podDeleteDelayMs = opts.podDeleteDelayMs ?? 1000;
    this.shape = { ...DEFAULT_SHAPE, ...opts.shape };
    this.podEvents = opts.podEvents ?? opts.count <= 100;
    this.cidrs = new PodCIDRAllocator(opts.clusterCIDR ?? '10.244.0.0/16');
  }

  /** Changes the heartbeat intervals at run time (tests); every node heartbeats at once. */
  setHeartbeatIntervals(o: { leaseRenewIntervalMs?: number; statusUpdateIntervalMs?: number }): void {
    if (o.leaseRenewIntervalMs) this.leaseRenewIntervalMs = o.leaseRenewIntervalMs;
    if (o.statusUpdateIntervalMs) this.statusUpdateIntervalMs = o.statusUpdateIntervalMs;
    const now = this.now();
    for (const rec of this.nodes.values()) {
      rec.leaseDue = now;
      rec.renewed = false;
      if (o.statusUpdateIntervalMs) rec.statusDue = now;
    }
  }

  /** Names of the nodes this process runs. */
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  start(): void {
    this.nodeInf = this.ctx.informers.nodes();
    this.podInf = this.ctx.informers.pods();
    this.podInf.addIndexer(POD_INDEX, (p) => (p.spec?.nodeName ? [String(p.spec.nodeName)] : []));
    this.nodeInf.addHandlers({
      onAdd: (n) => this.onNode(n),
      onUpdate: (_o, n) => this.onNode(n),
      onDelete: (n) => {
        this.forgetNode(n.metadata.name!);
        // Node IPAM releases a deleted node's pod CIDR (and we its address) for reuse.
        for (const c of (n.spec?.podCIDRs as string[] | undefined) ?? []) this.cidrs.release(c);
        const ip = internalIPOf(n);
        if (ip) this.nodeIPs.release(ip);
      },
    });
    this.podInf.addHandlers({
      onAdd: (p) => this.onPod(p),
      onUpdate: (_o, p) => this.onPod(p),
      onDelete: (p) => this.onPodDeleted(p),
    });
    const workers = this.opts.workers ?? 16;
    for (let i = 0; i < workers; i++) void this.worker(this.podQueue, (k) => this.syncPod(k));
    for (let i = 0; i < 4; i++) void this.worker(this.nodeQueue, (k) => this.syncNode(k));
    void this.register().catch((e) => this.ctx.log.error('registering simulated nodes failed', { err: String(e) }));
  }

  stop(): void {
    this.stopped = true;
    this.tick?.cancel();
    this.podQueue.shutDown();
    this.nodeQueue.shutDown();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  // ---- registration and heartbeats -------------------------------------------------------

  private async register(): Promise<void> {
    await this.nodeInf.waitForSync();
    if (this.stopped) return;
    for (const n of this.nodeInf.list()) {
      for (const c of (n.spec?.podCIDRs as string[] | undefined) ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) this.cidrs.occupy(c);
      const ip = internalIPOf(n);
      if (ip) this.nodeIPs.occupy(ip);
    }
    const todo: number[] = [];
    for (let i = 1; i <= this.opts.count; i++) if (!this.nodeInf.get(this.namePrefix + i)) todo.push(i);
    await this.limit(todo, async (i) => {
      const name = this.namePrefix + i;
      const node = buildNode(name, {
        podCIDR: this.cidrs.allocate(i - 1),
        internalIP: this.nodeIPs.allocate(i - 1),
        shape: this.shape,
        now: this.ctx.clock.now(),
      });
      try {
        const created = await call(this.ctx.client, 'POST', '/api/v1/nodes', { body: node });
        this.onNode(created);
        if (this.opts.count <= 100) this.nodeEvents(created);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 409)) throw e;
      }
    });
    this.readyResolve();
    this.scheduleTick();
  }

  private nodeEvents(node: KObject): void {
    const rec = this.nodes.get(node.metadata.name!)?.recorder;
    if (!rec) return;
    // The kubelet names the node by name as its UID in its events.
    const ref: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.name } };
    const name = node.metadata.name!;
    rec.event(ref, 'Normal', 'Starting', 'Starting kubelet.');
    rec.event(ref, 'Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
    rec.event(ref, 'Normal', 'NodeHasSufficientMemory', `Node ${name} status is now: NodeHasSufficientMemory`);
    rec.event(ref, 'Normal', 'NodeHasNoDiskPressure', `Node ${name} status is now: NodeHasNoDiskPressure`);
    rec.event(ref, 'Normal', 'NodeHasSufficientPID', `Node ${name} status is now: NodeHasSufficientPID`);
    rec.event(ref, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
  }

  private onNode(node: KObject): void {
    if (this.stopped) return;
    const name = node.metadata.name!;
    if (!isSimulated(node)) {
      if (this.nodes.has(name)) this.forgetNode(name);
      return;
    }
    for (const c of (node.spec?.podCIDRs as string[] | undefined) ?? []) this.cidrs.occupy(c);
    let rec = this.nodes.get(name);
    const now = this.now();
    if (!rec || rec.uid !== node.metadata.uid) {
      const m = name.startsWith(this.namePrefix) ? Number(name.slice(this.namePrefix.length)) : NaN;
      rec = {
        name,
        uid: node.metadata.uid!,
        index: Number.isInteger(m) && m > 0 ? m - 1 : this.nodes.size,
        stopped: heartbeatStopped(node),
        // First renewal at once; after that each node keeps its own phase within the interval.
        leaseDue: now,
        statusDue: now + Math.floor(hashFrac(name) * this.statusUpdateIntervalMs),
        inflight: false,
        renewed: false,
        recorder: new EventRecorder(this.ctx.client, { component: 'kubelet', host: name }, this.ctx.clock),
      };
      this.nodes.set(name, rec);
      for (const p of this.podInf.byIndex(POD_INDEX, name)) this.podQueue.add(keyOf(p));
    }
    const podCIDR = node.spec?.podCIDR as string | undefined;
    if (podCIDR && !rec.pool) {
      rec.pool = new PodIPPool(podCIDR);
      for (const [, v] of this.podIPs) if (v.node === name) rec.pool.occupy(v.ip);
    }
    rec.hostIP = internalIPOf(node) ?? rec.hostIP;
    const stopped = heartbeatStopped(node);
    if (rec.stopped && !stopped) {
      // Back to life: heartbeat at once and pick up the pods that waited.
      rec.leaseDue = now;
      for (const p of this.podInf.byIndex(POD_INDEX, name)) this.podQueue.add(keyOf(p));
    }
    rec.stopped = stopped;
    if (!podCIDR || (!stopped && (!isHealthy(node) || !rec.hostIP || !node.status?.nodeInfo?.kubeletVersion))) this.nodeQueue.add(name);
  }

  private forgetNode(name: string): void {
    const rec = this.nodes.get(name);
    if (!rec) return;
    this.nodes.delete(name);
  }

  /** Gives an adopted node what the kubelet and node IPAM would: pod CIDR, addresses, status. */
  private async syncNode(name: string): Promise<void> {
    const node = this.nodeInf.get(name);
    const rec = this.nodes.get(name);
    if (!node || !rec || !isSimulated(node)) return;
    if (!node.spec?.podCIDR) {
      const cidr = this.cidrs.allocate(rec.index);
      if (cidr) {
        try {
          await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, name), {
            contentType: 'application/merge-patch+json',
            body: { spec: { podCIDR: cidr, podCIDRs: [cidr] } },
          });
        } catch (e) {
          this.cidrs.release(cidr);
          throw e;
        }
      }
    }
    if (heartbeatStopped(node)) return;
    if (!isHealthy(node) || !internalIPOf(node) || !node.status?.nodeInfo?.kubeletVersion) {
      const ip = internalIPOf(node) ?? this.nodeIPs.allocate(rec.index);
      const status = adoptedStatus(node, ip, this.shape, this.ctx.clock.now());
      await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { status },
      });
      rec.statusDue = this.now() + this.statusUpdateIntervalMs;
      if (!node.status?.nodeInfo?.kubeletVersion && this.opts.count <= 100) this.nodeEvents(node);
    }
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.runTick();
    this.tick = this.ctx.clock.setTimeout(() => this.scheduleTick(), this.opts.tickMs ?? 1000);
  }

  /** Renews the Leases and posts the statuses that are due (spread over their intervals). */
  runTick(): void {
    const now = this.now();
    for (const rec of this.nodes.values()) {
      if (rec.stopped || rec.inflight) continue;
      const lease = now >= rec.leaseDue;
      const status = now >= rec.statusDue;
      if (!lease && !status) continue;
      if (lease) {
        // After the first renewal the node settles on its own phase within the interval.
        rec.leaseDue = rec.renewed ? rec.leaseDue + this.leaseRenewIntervalMs : now + Math.min(this.leaseRenewIntervalMs, Math.max(1000, Math.floor(hashFrac(rec.name) * this.leaseRenewIntervalMs)));
        if (rec.leaseDue <= now) rec.leaseDue = now + this.leaseRenewIntervalMs;
        rec.renewed = true;
      }
      if (status) rec.statusDue = now + this.statusUpdateIntervalMs;
      rec.inflight = true;
      void this.withSlot(async () => {
        try {
          if (lease) await this.renewLease(rec);
          if (status) await this.postStatus(rec);
        } catch (e) {
          if (!this.stopped) this.ctx.log.debug?.('heartbeat failed', { node: rec.name, err: String(e) });
          if (lease) rec.leaseDue = Math.min(rec.leaseDue, this.now() + 1000);
        } finally {
          rec.inflight = false;
        }
      });
    }
  }

  /** Runs fn once fewer than MAX_INFLIGHT heartbeat writes are in flight. */
  private async withSlot(fn: () => Promise<void>): Promise<void> {
    while (this.inflight >= MAX_INFLIGHT && !this.stopped) await new Promise<void>((r) => this.waiters.push(r));
    if (this.stopped) return;
    this.inflight++;
    try {
      await fn();
    } finally {
      this.inflight--;
      this.waiters.shift()?.();
    }
  }

  private async limit<T>(items: T[], fn: (t: T) => Promise<void>): Promise<void> {
    let i = 0;
    const run = async () => {
      while (i < items.length && !this.stopped) await fn(items[i++]!);
    };
    await Promise.all(Array.from({ length: Math.min(MAX_INFLIGHT, items.length) }, run));
  }

  private async renewLease(rec: SimNode): Promise<void> {
    const spec = { holderIdentity: rec.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: microTime(this.ctx.clock.now()) };
    const path = resourcePath('coordination.k8s.io', 'v1', 'leases', LEASE_NS, rec.name);
    try {
      await call(this.ctx.client, 'PATCH', path, { contentType: 'application/merge-patch+json', body: { spec } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await call(this.ctx.client, 'POST', resourcePath('coordination.k8s.io', 'v1', 'leases', LEASE_NS), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: rec.name,
            namespace: LEASE_NS,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: rec.name, uid: rec.uid }],
          },
          spec,
        },
      });
    }
  }

  private async postStatus(rec: SimNode): Promise<void> {
    const node = this.nodeInf.get(rec.name);
    if (!node || heartbeatStopped(node)) return;
    await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'nodes', undefined, rec.name, 'status'), {
      contentType: 'application/merge-patch+json',
      body: { status: { conditions: healthyConditions(node.status?.conditions, this.ctx.clock.now()) } },
    });
  }

  // ---- pods --------------------------------------------------------------------------------

  private onPod(pod: KObject): void {
    const n = pod.spec?.nodeName;
    if (n && this.nodes.has(n)) this.podQueue.add(keyOf(pod));
  }

  private onPodDeleted(pod: KObject): void {
    const key = keyOf(pod);
    const t = this.timers.get(key);
    if (t && t.uid === pod.metadata.uid) {
      t.cancel();
      this.timers.delete(key);
    }
    for (const k of [pod.metadata.uid!, `run/${pod.metadata.uid}`, `del/${pod.metadata.uid}`]) this.pendingSince.delete(k);
    this.releaseIP(pod.metadata.uid!);
  }

  private releaseIP(uid: string): void {
    const a = this.podIPs.get(uid);
    if (!a) return;
    this.podIPs.delete(uid);
    this.nodes.get(a.node)?.pool?.release(a.ip);
  }

  /** Wakes the pod's sync at `at` (keeps the earliest wake-up per pod). */
  private wakeAt(key: string, uid: string, at: number): void {
    const prev = this.timers.get(key);
    if (prev && prev.uid === uid && prev.at <= at) return;
    prev?.cancel();
    const h = this.ctx.clock.setTimeout(() => {
      if (this.timers.get(key) === timer) this.timers.delete(key);
      this.podQueue.add(key);
    }, Math.max(0, at - this.now()));
    const timer: Timer = { uid, at, cancel: () => h.cancel() };
    this.timers.set(key, timer);
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
          if (!isConflict(e)) this.ctx.log.debug?.('simulated kubelet sync failed', { key, err: String(e) });
          q.addRateLimited(key);
        }
      } finally {
        q.done(key);
      }
    }
  }

  private podEvent(rec: SimNode, pod: KObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    if (!this.podEvents || !rec.recorder) return;
    rec.recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
  }

  private async writeStatus(pod: KObject, status: unknown): Promise<void> {
    await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name, 'status'), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { resourceVersion: pod.metadata.resourceVersion }, status },
    });
  }

  private async syncPod(key: string): Promise<void> {
    const pod = this.podInf.get(key);
    if (!pod) return;
    const uid = pod.metadata.uid!;
    const rec = this.nodes.get(pod.spec?.nodeName);
    if (!rec || rec.stopped) return;
    const now = this.now();

    if (pod.metadata.deletionTimestamp) {
      const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
      let since = this.pendingSince.get(`del/${uid}`);
      if (since === undefined) {
        since = now;
        this.pendingSince.set(`del/${uid}`, now);
        if (!isTerminal(pod) && hasStarted(pod))
          for (const c of pod.spec?.containers ?? []) this.podEvent(rec, pod, 'Normal', 'Killing', `Stopping container ${c.name}`, `spec.containers{${c.name}}`);
      }
      const at = since + Math.min(grace * 1000, this.podDeleteDelayMs);
      if (now < at) return this.wakeAt(key, uid, at);
      try {
        await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
        });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      this.pendingSince.delete(`del/${uid}`);
      return;
    }

    if (isTerminal(pod)) {
      this.releaseIP(uid);
      return;
    }
    const hostIP = rec.hostIP ?? '';

    if (pod.status?.phase === 'Running') {
      const ip = pod.status?.podIP as string | undefined;
      if (ip && !pod.spec?.hostNetwork && !this.podIPs.has(uid) && rec.pool?.contains(ip)) {
        rec.pool.occupy(ip);
        this.podIPs.set(uid, { node: rec.name, ip });
      }
      // Someone (the node controller, while this node looked dead) marked the pod not ready:
      // the kubelet's status manager puts its own view back.
      const notReady = ['Ready', 'ContainersReady'].some((t) => (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === t)?.status !== 'True');
      if (notReady && pod.status?.containerStatuses?.every((c: { state?: { running?: unknown } }) => c.state?.running)) {
        const conds = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True' as const }));
        await this.writeStatus(pod, {
          conditions: mergeConditions(pod.status?.conditions, conds, this.ctx.clock.now()),
          containerStatuses: pod.status.containerStatuses.map((c: Record<string, unknown>) => ({ ...c, ready: true })),
        });
        return;
      }
      const policy = pod.spec?.restartPolicy ?? 'Always';
      if (policy === 'Always') return;
      const duration = parseDuration(pod.metadata.annotations?.[DURATION_ANNOTATION]) ?? this.podRunDurationMs;
      const startedAt = Date.parse(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? pod.status?.startTime ?? '') || now;
      // startedAt has second precision: count from whichever is later, it or when we started it.
      const began = Math.max(startedAt, this.pendingSince.get(`run/${uid}`) ?? 0);
      const at = began + duration;
      if (now < at) return this.wakeAt(key, uid, at);
      const code = Number(pod.metadata.annotations?.[EXIT_CODE_ANNOTATION] ?? 0) || 0;
      await this.writeStatus(pod, terminatedStatus(pod, code, this.ctx.clock.now()));
      this.pendingSince.delete(`run/${uid}`);
      this.releaseIP(uid);
      return;
    }

    // Pending.
    if (!hasStarted(pod)) {
      await this.writeStatus(pod, pendingStatus(pod, { hostIP }, this.ctx.clock.now()));
      this.pendingSince.set(uid, now);
      for (const c of pod.spec?.containers ?? [])
        this.podEvent(rec, pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, `spec.containers{${c.name}}`);
      return this.wakeAt(key, uid, now + this.podStartDelayMs);
    }
    const since = this.pendingSince.get(uid) ?? (Date.parse(pod.status?.startTime ?? '') || now);
    const at = since + this.podStartDelayMs;
    if (now < at) return this.wakeAt(key, uid, at);
    let ip = this.podIPs.get(uid)?.ip;
    if (pod.spec?.hostNetwork) ip = hostIP;
    else if (!ip) {
      if (!rec.pool) throw new Error(`node ${rec.name} has no pod CIDR yet`);
      ip = rec.pool.allocate();
      if (!ip) throw new Error(`no free pod IPs on node ${rec.name}`);
      this.podIPs.set(uid, { node: rec.name, ip });
    }
    try {
      await this.writeStatus(pod, runningStatus(pod, { hostIP }, ip, this.ctx.clock.now()));
    } catch (e) {
      if (!pod.spec?.hostNetwork) this.releaseIP(uid);
      throw e;
    }
    this.pendingSince.delete(uid);
    this.pendingSince.set(`run/${uid}`, this.now());
    for (const c of pod.spec?.containers ?? []) {
      this.podEvent(rec, pod, 'Normal', 'Created', `Created container: ${c.name}`, `spec.containers{${c.name}}`);
      this.podEvent(rec, pod, 'Normal', 'Started', `Started container ${c.name}`, `spec.containers{${c.name}}`);
    }
  }
}
