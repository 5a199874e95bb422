// PodGCController: every gcCheckPeriod (20 s, as upstream) deletes with grace 0
//  - pods bound to nodes that no longer exist (after confirming with a GET that the node is
//    really gone; they are first marked Failed with a DisruptionTarget condition
//    "PodGC: node no longer exists", as upstream does),
//  - terminating pods that were never scheduled,
//  - the oldest terminated (Succeeded/Failed) pods beyond terminatedPodThreshold (12500).
// A node deletion triggers a pass soon after. Pods stuck terminating on out-of-service
// nodes are not handled (no out-of-service taint support).
import type { KObject } from '../api/types.js';
import { call, isConflict, isNotFound, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';

export interface PodGCOptions {
  /** Terminated pods kept before the oldest are deleted (default 12500; 0 disables). */
  terminatedPodThreshold?: number;
  gcCheckPeriodMs?: number;
  /** Delay between a node's deletion and the orphan pass it triggers (default 1 s). */
  nodeDeletedDelayMs?: number;
}

function isTerminated(p: KObject): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** The terminated pods to delete so that at most `threshold` remain: the oldest first. */
export function terminatedPodsToDelete(pods: KObject[], threshold: number): KObject[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter((p) => isTerminated(p) && !p.metadata.deletionTimestamp);
  const excess = terminated.length - threshold;
  if (excess <= 0) return [];
  terminated.sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  return terminated.slice(0, excess);
}

export class PodGCController implements Controller {
  private podInf!: Informer;
  private nodeInf!: Informer;
  private timer?: { cancel(): void };
  private soon?: { cancel(): void };
  private running = false;
  private stopped = false;
  readonly threshold: number;
  readonly periodMs: number;
  readonly nodeDeletedDelayMs: number;

  constructor(
    readonly ctx: ControllerContext,
    opts: PodGCOptions = {},
  ) {
    this.threshold = opts.terminatedPodThreshold ?? 12500;
    this.periodMs = opts.gcCheckPeriodMs ?? 20_000;
    this.nodeDeletedDelayMs = opts.nodeDeletedDelayMs ?? 1000;
  }

  start(): void {
    this.podInf = this.ctx.informers.pods();
    this.nodeInf = this.ctx.informers.nodes();
    this.nodeInf.addHandlers({
      onDelete: () => {
        if (this.soon || this.stopped) return;
        this.soon = this.ctx.clock.setTimeout(() => {
          this.soon = undefined;
          void this.gc();
        }, this.nodeDeletedDelayMs);
      },
    });
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.soon?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.ctx.clock.setTimeout(() => {
      void this.gc().finally(() => this.schedule());
    }, this.periodMs);
  }

  /** One pass; exported for tests. */
  async gc(): Promise<void> {
    if (this.running || this.stopped || !this.podInf.hasSynced() || !this.nodeInf.hasSynced()) return;
    this.running = true;
    try {
      const pods = this.podInf.list();
      for (const p of terminatedPodsToDelete(pods, this.threshold)) await this.forceDelete(p);
      const missing = new Map<string, boolean>();
      for (const p of pods) {
        const nodeName = p.spec?.nodeName as string | undefined;
        if (!nodeName) {
          if (p.metadata.deletionTimestamp) await this.forceDelete(p);
          continue;
        }
        if (this.nodeInf.get(nodeName)) continue;
        let gone = missing.get(nodeName);
        if (gone === undefined) {
          gone = await this.nodeGone(nodeName);
          missing.set(nodeName, gone);
        }
        if (!gone) continue;
        await this.markFailed(p);
        await this.forceDelete(p);
      }
    } catch (e) {
      this.ctx.log.debug('pod gc pass failed', { err: String(e) });
    } finally {
      this.running = false;
    }
  }

  private async nodeGone(name: string): Promise<boolean> {
    try {
      await call(this.ctx.client, 'GET', resourcePath('', 'v1', 'nodes', undefined, name));
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  }

  private async markFailed(p: KObject): Promise<void> {
    if (isTerminated(p)) return;
    const conds = ((p.status?.conditions ?? []) as { type: string }[]).filter((c) => c?.type !== 'DisruptionTarget');
    conds.push({
      type: 'DisruptionTarget',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      reason: 'DeletionByPodGC',
      message: 'PodGC: node no longer exists',
    } as { type: string });
    try {
      await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: p.metadata.resourceVersion }, status: { phase: 'Failed', conditions: conds } },
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  private async forceDelete(p: KObject): Promise<void> {
    try {
      await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } },
      });
      this.ctx.log.info('pod garbage collected', { pod: `${p.metadata.namespace}/${p.metadata.name}` });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
