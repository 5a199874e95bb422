// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does:
// acquire when the lease is free or expired, renew every retryPeriod, give up leadership if
// renewals fail for renewDeadline. Several kts servers sharing one etcd run exactly one
// controller manager and one scheduler.
import type { KObject } from '../api/types.js';
import { call, isConflict, isNotFound, type Client } from './client.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number; // 15
  renewDeadlineMs?: number; // 10 s
  retryPeriodMs?: number; // 2 s
  onStartedLeading(): void;
  onStoppedLeading(): void;
  now?: () => Date;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;
  private readonly now: () => Date;

  constructor(
    private readonly client: Client,
    private readonly cfg: LeaderElectionConfig,
  ) {
    this.duration = cfg.leaseDurationSeconds ?? 15;
    this.renewDeadline = cfg.renewDeadlineMs ?? 10_000;
    this.retry = cfg.retryPeriodMs ?? 2_000;
    this.now = cfg.now ?? (() => new Date());
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another server can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      this.cfg.onStoppedLeading();
      await this.release().catch(() => {});
    }
  }

  private path(name?: string): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.cfg.namespace}/leases${name ? `/${name}` : ''}`;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.cfg.log?.('leader election request failed', { lease: this.cfg.name, error: (e as Error).message });
    }
    const nowMs = this.now().getTime();
    if (ok) {
      this.lastRenew = nowMs;
      if (!this.leading && !this.stopped) {
        this.leading = true;
        this.cfg.log?.('became leader', { lease: `${this.cfg.namespace}/${this.cfg.name}`, identity: this.cfg.identity });
        this.cfg.onStartedLeading();
      }
    } else if (this.leading && nowMs - this.lastRenew > this.renewDeadline) {
      this.leading = false;
      this.cfg.log?.('lost leadership', { lease: `${this.cfg.namespace}/${this.cfg.name}` });
      this.cfg.onStoppedLeading();
    }
    this.schedule(this.retry);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    let lease: KObject;
    try {
      lease = await call<KObject>(this.client, 'GET', this.path(this.cfg.name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await call(this.client, 'POST', this.path(), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
            spec: {
              holderIdentity: this.cfg.identity,
              leaseDurationSeconds: this.duration,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (e2) {
        if (isConflict(e2)) return false;
        throw e2;
      }
    }
    const spec = lease.spec ?? {};
    const holder: string | undefined = spec.holderIdentity;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
    const mine = holder === this.cfg.identity;
    if (holder && !mine && !expired) return false;
    const next = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.cfg.identity,
        leaseDurationSeconds: this.duration,
        renewTime: microTime(now),
        ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }),
      },
    };
    try {
      await call(this.client, 'PUT', this.path(this.cfg.name), { body: next });
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private async release(): Promise<void> {
    const lease = await call<KObject>(this.client, 'GET', this.path(this.cfg.name));
    if (lease.spec?.holderIdentity !== this.cfg.identity) return;
    await call(this.client, 'PUT', this.path(this.cfg.name), {
      // Like client-go's ReleaseOnCancel: no holder, a 1 s lease, so a successor takes over at once.
      body: (() => {
        const { holderIdentity: _h, ...rest } = lease.spec ?? {};
        return { ...lease, spec: { ...rest, leaseDurationSeconds: 1, renewTime: microTime(this.now()), acquireTime: microTime(this.now()) } };
      })(),
    });
  }
}
