// The scheduler: watches pods and nodes, keeps a cache of nodes and their (assumed) pods,
// schedules one pending pod at a time through its profile's framework, assumes the result
// and binds asynchronously (POST pods/<name>/binding). Pods that fit nowhere get a
// FailedScheduling event and a PodScheduled=False condition, and may preempt.
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { ControllerContext } from '../controllers/context.js';
import { SchedulerCache } from './cache.js';
import { Framework, NoNodesAvailable, type FitError, type ProfileConfig } from './framework.js';
import { preempt } from './preemption.js';
import { SchedulingQueue, type QueuedPodInfo, type QueueOptions } from './queue.js';
import { newPodInfo, podKey, type PodInfo } from './types.js';

export interface SchedulerOptions {
  /** Profiles by schedulerName (default: one, "default-scheduler"). */
  profiles?: ProfileConfig[];
  queue?: QueueOptions;
  /** Random source for tie-breaking (tests make it deterministic). */
  rand?: () => number;
}

const builtinPriorities: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isTerminal(pod: KObject): boolean {
  const ph = pod.status?.phase;
  return ph === 'Succeeded' || ph === 'Failed';
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly profiles = new Map<string, Framework>();
  private podInf?: Informer;
  private nodeInf?: Informer;
  private pcInf?: Informer;
  private stopped = false;
  private isRunning = false;
  private readonly recorder;
  /** Bindings in flight (tests and the bench wait on them). */
  inFlightBindings = 0;
  /** Counters for the bench and tests. */
  readonly stats = { scheduled: 0, failed: 0, bindErrors: 0, preemptions: 0 };

  constructor(
    readonly ctx: ControllerContext,
    readonly opts: SchedulerOptions = {},
  ) {
    for (const p of opts.profiles ?? [{ schedulerName: 'default-scheduler' }]) this.profiles.set(p.schedulerName, new Framework(p, undefined, opts.rand));
    this.queue = new SchedulingQueue(ctx.clock, { ...opts.queue, priorityOf: (p) => this.priority(p) });
    this.recorder = ctx.recorder('default-scheduler');
  }

  running(): boolean {
    return this.isRunning;
  }

  /** spec.priority, else the PriorityClass named (when the API serves them), else 0. */
  priority(pod: KObject): number {
    const p = pod.spec?.priority;
    if (typeof p === 'number') return p;
    const name = pod.spec?.priorityClassName as string | undefined;
    if (!name) return 0;
    if (name in builtinPriorities) return builtinPriorities[name]!;
    const pc = this.pcInf?.get(name);
    return typeof pc?.value === 'number' ? pc.value : 0;
  }

  private responsible(pod: KObject): boolean {
    return this.profiles.has(pod.spec?.schedulerName ?? 'default-scheduler');
  }

  private podInfo(pod: KObject): PodInfo {
    return newPodInfo(pod, this.priority(pod));
  }

  start(): void {
    const inf = this.ctx.informers;
    this.podInf = inf.pods();
    this.nodeInf = inf.nodes();
    const nsInf = inf.informer({ group: '', version: 'v1', plural: 'namespaces' });

    this.nodeInf.addHandlers({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
      },
      onUpdate: (o, n) => {
        this.cache.updateNode(n);
        if (nodeSchedulingChanged(o, n)) this.queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
      },
      onDelete: (n) => this.cache.removeNode(n),
    });
    nsInf.addHandlers({
      onAdd: (ns) => this.cache.setNamespace(ns),
      onUpdate: (o, ns) => {
        this.cache.setNamespace(ns);
        if (JSON.stringify(o.metadata.labels ?? {}) !== JSON.stringify(ns.metadata.labels ?? {})) this.queue.moveAllToActiveOrBackoffQueue('NamespaceUpdate');
      },
      onDelete: (ns) => this.cache.removeNamespace(ns),
    });
    this.podInf.addHandlers({
      onAdd: (p) => this.onPodAdd(p),
      onUpdate: (o, p) => this.onPodUpdate(o, p),
      onDelete: (p) => this.onPodDelete(p),
    });
    // PriorityClasses, only if the API serves them.
    void call(this.ctx.client, 'GET', '/apis/scheduling.k8s.io/v1')
      .then(() => {
        if (!this.stopped) this.pcInf = inf.informer({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' });
      })
      .catch(() => {});
    this.isRunning = true;
    this.queue.run();
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.isRunning = false;
    this.queue.close();
  }

  // ---- informer events ----
  private onPodAdd(pod: KObject): void {
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) return;
      this.cache.addPod(this.podInfo(pod));
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
      return;
    }
    if (!this.responsible(pod) || isTerminal(pod)) return;
    this.trackNomination(pod);
    if (!this.cache.isAssumed(podKey(pod))) this.queue.add(pod);
  }

  private onPodUpdate(old: KObject, pod: KObject): void {
    const key = podKey(pod);
    if (pod.spec?.nodeName) {
      if (!old.spec?.nodeName) {
        this.queue.delete(pod);
        this.cache.unnominate(key);
      }
      if (isTerminal(pod)) {
        if (this.cache.hasPod(key)) {
          this.cache.removePod(key);
          this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
        }
        return;
      }
      this.cache.updatePod(this.podInfo(pod));
      if (old.spec?.nodeName) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodUpdate');
      else this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
      return;
    }
    if (!this.responsible(pod)) return;
    this.trackNomination(pod);
    if (isTerminal(pod)) return this.queue.delete(pod);
    if (this.cache.isAssumed(key)) return;
    this.queue.update(pod);
  }

  private onPodDelete(pod: KObject): void {
    const key = podKey(pod);
    this.cache.unnominate(key);
    if (this.cache.hasPod(key)) {
      this.cache.removePod(key);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    }
    this.queue.delete(pod);
  }

  private trackNomination(pod: KObject): void {
    const nom = pod.status?.nominatedNodeName as string | undefined;
    if (nom) this.cache.nominate(this.podInfo(pod), nom);
    else this.cache.unnominate(podKey(pod));
  }

  // ---- the scheduling loop ----
  private async loop(): Promise<void> {
    await Promise.all([this.podInf!.waitForSync(), this.nodeInf!.waitForSync()]);
    let sliceStart = performance.now();
    while (!this.stopped) {
      const qpi = await this.queue.pop();
      if (!qpi || this.stopped) break;
      try {
        this.scheduleOne(qpi);
      } catch (e) {
        this.ctx.log.error('scheduling failed', { pod: qpi.key, err: String(e) });
        qpi.lastError = true;
        this.queue.addUnschedulableIfNotPresent(qpi);
      }
      // Let informer events and bindings run between pods, every few milliseconds: bindings
      // issued together are committed together (the store's group commit), where one
      // binding per turn of the event loop would cost one fsync each.
      if (performance.now() - sliceStart >= 10) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  }

  /** One scheduling cycle for one pod. */
  scheduleOne(qpi: QueuedPodInfo): void {
    const key = qpi.key;
    // Schedule the newest version of the pod; skip it if it is gone, bound or being deleted.
    const pod = this.podInf?.get(key);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return;
    }
    const fw = this.profiles.get(pod.spec?.schedulerName ?? 'default-scheduler');
    if (!fw) {
      this.queue.done(key);
      return;
    }
    const pi = this.podInfo(pod);
    const result = fw.schedule(pi, this.cache);
    if (result.node) {
      this.cache.assumePod(pi, result.node);
      this.queue.done(key);
      this.bind(qpi, pi, result.node);
      return;
    }
    const fitError = result.fitError!;
    let nominated: string | undefined;
    if (fitError.numAllNodes > 0) {
      const pre = preempt(fw, result.state, pi, this.cache, fitError);
      fitError.postFilterMsg = pre.message;
      if (pre.candidate) {
        nominated = pre.candidate.node;
        this.stats.preemptions++;
        this.cache.nominate(pi, nominated);
        for (const v of pre.candidate.victims) this.evict(v, pi, nominated, fw.name);
      }
    }
    this.stats.failed++;
    qpi.unschedulablePlugins = fitError.plugins();
    const msg = fitError.numAllNodes === 0 ? NoNodesAvailable : fitError.message;
    this.recordFailure(pod, msg, 'Unschedulable', nominated);
    qpi.pod = pod;
    this.queue.addUnschedulableIfNotPresent(qpi);
  }

  private bind(qpi: QueuedPodInfo, pi: PodInfo, node: string): void {
    const pod = pi.pod;
    this.inFlightBindings++;
    const body = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    };
    call(this.ctx.client, 'POST', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name, 'binding'), { body })
      .then(() => {
        this.stats.scheduled++;
        this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`);
      })
      .catch((e: unknown) => {
        this.stats.bindErrors++;
        this.cache.forgetPod(pi.key);
        if (isNotFound(e) || this.stopped) return;
        const msg = `Binding rejected: ${e instanceof Error ? e.message : String(e)}`;
        this.recorder.event(pod, 'Warning', 'FailedScheduling', msg);
        qpi.lastError = true;
        this.queue.addBackoff(qpi);
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      })
      .finally(() => {
        this.inFlightBindings--;
      });
  }

  /** Preemption: mark and delete a victim (gracefully), telling its owner why. */
  private evict(victim: PodInfo, preemptor: PodInfo, node: string, schedulerName: string): void {
    const v = victim.pod;
    const ns = v.metadata.namespace;
    const name = v.metadata.name;
    this.recorder.event(v, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${node}`);
    const now = ts(this.ctx.clock.now());
    void (async () => {
      try {
        await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', ns, name, 'status'), {
          contentType: 'application/strategic-merge-patch+json',
          body: {
            status: {
              conditions: [
                {
                  type: 'DisruptionTarget',
                  status: 'True',
                  reason: 'PreemptionByScheduler',
                  message: `${schedulerName}: preempting to accommodate a higher priority pod`,
                  lastTransitionTime: now,
                },
              ],
            },
          },
        });
      } catch {
        // best effort
      }
      try {
        await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', ns, name), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: v.metadata.uid } },
        });
      } catch (e) {
        if (!isNotFound(e)) this.ctx.log.warn('preemption: deleting victim failed', { pod: `${ns}/${name}`, err: String(e) });
      }
    })();
  }

  /** FailedScheduling event, and PodScheduled=False (plus nominatedNodeName) when they changed. */
  private recordFailure(pod: KObject, message: string, reason: string, nominated?: string): void {
    this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const cond = ((pod.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[]).find((c) => c.type === 'PodScheduled');
    const nomChanged = nominated !== undefined && pod.status?.nominatedNodeName !== nominated;
    if (cond && cond.status === 'False' && cond.reason === reason && cond.message === message && !nomChanged) return;
    const status: Record<string, unknown> = {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason,
          message,
          lastProbeTime: null,
          lastTransitionTime: cond && cond.status === 'False' ? (cond as { lastTransitionTime?: string }).lastTransitionTime : ts(this.ctx.clock.now()),
        },
      ],
    };
    if (nominated !== undefined) status['nominatedNodeName'] = nominated;
    void call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name, 'status'), {
      contentType: 'application/strategic-merge-patch+json',
      body: { status },
    }).catch(() => {});
  }

  /** Why a pod failed last (tests). */
  static fitMessage(fe: FitError): string {
    return fe.numAllNodes === 0 ? NoNodesAvailable : fe.message;
  }
}

/** Node changes that can make a pod fit: labels, taints, allocatable, unschedulable. */
function nodeSchedulingChanged(o: KObject, n: KObject): boolean {
  const j = (x: unknown) => JSON.stringify(x ?? null);
  return (
    j(o.metadata.labels) !== j(n.metadata.labels) ||
    j(o.spec?.taints) !== j(n.spec?.taints) ||
    !!o.spec?.unschedulable !== !!n.spec?.unschedulable ||
    j(o.status?.allocatable) !== j(n.status?.allocatable)
  );
}
