// The kubelet of one node: registers the Node (node.ts), runs the pods bound to it (pod
// workers over a ContainerRuntime) and reports their status. It talks to the API only through
// ctx.client, so the same code runs inside `kts server` and (later) `kts agent`.
import { mkdirSync } from 'node:fs';
import { call, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { KObject } from '../api/types.js';
import type { ControllerContext } from '../controllers/context.js';
import { FileSource, isMirrorPod, podFullName } from './config/file.js';
import { isMirrorPodOf, MirrorClient } from './mirror.js';
import { NodeAgent } from './node.js';
import { PodWorkers } from './podworkers.js';
import type { ContainerRuntime } from './runtime/types.js';
import type { VolumeSources } from './volumes.js';

/** Builds the runtime once the node's pod CIDR is known (the cri runtime's CNI needs it). */
export type RuntimeFactory = (node: { podCIDR?: string; hostIP: string }) => Promise<ContainerRuntime>;

export interface KubeletOptions {
  nodeName: string;
  runtime: ContainerRuntime | RuntimeFactory;
  rootDir: string;
  /** The cluster CIDR the node's pod CIDR is taken from when it has none. */
  clusterCIDR?: string;
  podCIDR?: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  hostIP?: string;
  /** Servers label their node node-role.kubernetes.io/control-plane. */
  controlPlane?: boolean;
  nodeLabels?: Record<string, string>;
  /** Pod resync (ms), default 1000. */
  resyncMs?: number;
  leaseRenewIntervalMs?: number;
  statusUpdateIntervalMs?: number;
  /** Static pod manifests (upstream's --pod-manifest-path); unset: no file source. */
  podManifestsDir?: string;
  /** Parent cgroup of kubepods (upstream's --cgroup-root; default /). */
  cgroupRoot?: string;
  /** Container log rotation (upstream's containerLogMaxSize in bytes, containerLogMaxFiles). */
  containerLogMaxSize?: number;
  containerLogMaxFiles?: number;
  /** How often the manifest directory is re-read besides fs.watch (default 20 s, upstream's fileCheckFrequency). */
  fileCheckFrequencyMs?: number;
}

/** How often static pods and their mirrors are reconciled when nothing triggers it. */
const STATIC_RESYNC_MS = 10_000;
/** Re-check interval while a replaced static pod is still terminating. */
const STATIC_PENDING_MS = 200;

export class Kubelet {
  readonly node: NodeAgent;
  workers!: PodWorkers;
  private rt?: ContainerRuntime;
  private readonly sources: VolumeSources;
  private readyResolve!: (rt: ContainerRuntime) => void;
  private readyReject!: (e: Error) => void;
  /** Resolves with the runtime once the node is registered and the runtime is up. */
  readonly ready: Promise<ContainerRuntime> = new Promise((res, rej) => ((this.readyResolve = res), (this.readyReject = rej)));
  private podInf!: Informer;
  private cmInf!: Informer;
  private secretInf!: Informer;
  private svcInf!: Informer;
  private pvcInf!: Informer;
  private pvInf!: Informer;
  private nodeInf?: Informer;
  private stopped = false;
  private fileSource?: FileSource;
  private mirrors: MirrorClient;
  /** Static pods handed to the pod workers, by UID; `removing` until their worker is gone. */
  private readonly statics = new Map<string, { pod: KObject; removing: boolean }>();
  private staticReady = false;
  private staticSyncing = false;
  private staticAgain = false;
  private staticTimer?: { cancel(): void };

  constructor(
    private readonly ctx: ControllerContext,
    readonly opts: KubeletOptions,
  ) {
    mkdirSync(opts.rootDir, { recursive: true });
    if (typeof opts.runtime !== 'function') this.rt = opts.runtime;
    this.node = new NodeAgent(ctx, () => this.rt, {
      nodeName: opts.nodeName,
      rootDir: opts.rootDir,
      hostIP: opts.hostIP,
      clusterCIDR: opts.clusterCIDR,
      controlPlane: opts.controlPlane,
      extraLabels: opts.nodeLabels,
      leaseRenewIntervalMs: opts.leaseRenewIntervalMs,
      statusUpdateIntervalMs: opts.statusUpdateIntervalMs,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const sources: VolumeSources = {
      configMap: (ns, name) => this.cmInf.get(`${ns}/${name}`),
      secret: (ns, name) => this.secretInf.get(`${ns}/${name}`),
      services: (ns) => this.svcInf.list().filter((s) => s.metadata.namespace === ns || (s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes')),
      pvc: (ns, name) => this.pvcInf.get(`${ns}/${name}`),
      pv: (name) => this.pvInf.get(name),
      podIPs: [],
      hostIP: this.node.hostIP,
      nodeName: opts.nodeName,
      get nodeAllocatable() {
        return self.nodeInf?.get(opts.nodeName)?.status?.allocatable as Record<string, string> | undefined;
      },
      requestToken: (ns, sa, audience, exp, pod) => this.requestToken(ns, sa, audience, exp, pod),
    };
    this.sources = sources;
    this.mirrors = new MirrorClient(ctx.client, opts.nodeName, () => this.nodeUID());
    void this.ready.catch(() => {});
  }

  /** Publishes the kubelet server's port in the Node's daemonEndpoints. */
  async setKubeletPort(port: number): Promise<void> {
    this.node.opts.kubeletPort = port;
    await this.node.registered;
    await this.node.postStatus(true);
  }

  get runtime(): ContainerRuntime | undefined {
    return this.rt;
  }

  /** Registers informers; then (async) the node, and the pods once caches are synced. */
  start(): void {
    const inf = this.ctx.informers;
    this.podInf = inf.informer({ group: '', version: 'v1', plural: 'pods', fieldSelector: `spec.nodeName=${this.opts.nodeName}` });
    this.cmInf = inf.informer({ group: '', version: 'v1', plural: 'configmaps' });
    this.secretInf = inf.informer({ group: '', version: 'v1', plural: 'secrets' });
    this.svcInf = inf.informer({ group: '', version: 'v1', plural: 'services' });
    this.pvcInf = inf.informer({ group: '', version: 'v1', plural: 'persistentvolumeclaims' });
    this.pvInf = inf.informer({ group: '', version: 'v1', plural: 'persistentvolumes' });
    this.nodeInf = inf.informer({ group: '', version: 'v1', plural: 'nodes', fieldSelector: `metadata.name=${this.opts.nodeName}` });
    const refresh = () => this.workers?.resyncAll();
    for (const i of [this.cmInf, this.secretInf]) i.addHandlers({ onUpdate: refresh, onAdd: () => {} });
    inf.start();
    void this.run().catch((e) => {
      this.ctx.log.error('kubelet failed to start', { err: String(e) });
      this.readyReject(e as Error);
    });
  }

  private async run(): Promise<void> {
    await this.node.start();
    if (this.stopped) return;
    if (!this.rt) {
      this.rt = await (this.opts.runtime as RuntimeFactory)({ podCIDR: this.node.podCIDR, hostIP: this.node.hostIP });
      if (this.stopped) {
        await this.rt.close();
        return;
      }
      await this.node.postStatus(true).catch(() => {});
    }
    this.workers = new PodWorkers(this.ctx, this.rt, {
      nodeName: this.opts.nodeName,
      rootDir: this.opts.rootDir,
      hostIP: () => this.node.hostIP,
      clusterDNS: this.opts.clusterDNS,
      clusterDomain: this.opts.clusterDomain ?? 'cluster.local',
      sources: this.sources,
      resyncMs: this.opts.resyncMs,
      cgroupRoot: this.opts.cgroupRoot,
      containerLogMaxSize: this.opts.containerLogMaxSize,
      containerLogMaxFiles: this.opts.containerLogMaxFiles,
      mirrorPod: (pod) => {
        const m = this.podInf.get(podFullName(pod));
        return m && isMirrorPodOf(m, pod) ? m : undefined;
      },
    });
    this.readyResolve(this.rt);
    await Promise.all([this.cmInf, this.secretInf, this.svcInf, this.pvcInf, this.pvInf].map((i) => i.waitForSync()));
    await this.podInf.waitForSync();
    if (this.stopped) return;
    // Re-adopt what the runtime already runs for pods still bound here, clean up the rest.
    // Mirror pods are not run: they stand for static pods, which come from the manifest files.
    for (const p of this.podInf.list()) if (!isMirrorPod(p)) this.workers.update(p, false);
    if (this.opts.podManifestsDir) {
      this.fileSource = new FileSource({
        dir: this.opts.podManifestsDir,
        nodeName: this.opts.nodeName,
        log: this.ctx.log,
        clock: this.ctx.clock,
        periodMs: this.opts.fileCheckFrequencyMs,
        onChange: () => this.kickStatic(),
      });
      this.fileSource.start();
      // Known before adopt(), so a restarted kubelet re-adopts their containers (same UIDs).
      for (const p of this.fileSource.pods()) {
        this.statics.set(p.metadata.uid!, { pod: p, removing: false });
        this.workers.update(p, false);
      }
    }
    await this.workers.adopt().catch((e) => this.ctx.log.warn('adopting running containers failed', { err: String(e) }));
    this.podInf.addHandlers({
      onAdd: (p) => (isMirrorPod(p) ? this.kickStatic() : this.workers.update(p)),
      onUpdate: (_o, p) => (isMirrorPod(p) ? this.kickStatic() : this.workers.update(p)),
      // A deleted mirror pod is recreated; the static pod keeps running.
      onDelete: (p) => (isMirrorPod(p) ? this.kickStatic() : this.workers.remove(p)),
    });
    for (const s of this.statics.values()) this.workers.update(s.pod);
    this.staticReady = true;
    this.kickStatic();
    this.ctx.log.info('kubelet started', { node: this.opts.nodeName, runtime: this.rt.type, podCIDR: this.node.podCIDR });
  }

  private async requestToken(ns: string, sa: string, audience: string | undefined, exp: number, pod: KObject): Promise<string> {
    const res = await call<{ status?: { token?: string } }>(this.ctx.client, 'POST', resourcePath('', 'v1', 'serviceaccounts', ns, sa, 'token'), {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: audience ? [audience] : [],
          expirationSeconds: exp,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        },
      },
    });
    if (!res.status?.token) throw new Error('the TokenRequest API returned no token');
    return res.status.token;
  }

  private async nodeUID(): Promise<string | undefined> {
    const cached = this.nodeInf?.get(this.opts.nodeName)?.metadata.uid;
    if (cached) return cached;
    const n = await call(this.ctx.client, 'GET', resourcePath('', 'v1', 'nodes', undefined, this.opts.nodeName)).catch(() => undefined);
    return n?.metadata.uid;
  }

  /** Runs syncStatic, serialized; a kick while it runs makes it run once more. */
  private kickStatic(): void {
    if (!this.staticReady || this.stopped) return;
    if (this.staticSyncing) {
      this.staticAgain = true;
      return;
    }
    this.staticTimer?.cancel();
    this.staticSyncing = true;
    void (async () => {
      let pending = false;
      try {
        do {
          this.staticAgain = false;
          try {
            pending = await this.syncStatic();
          } catch (e) {
            this.ctx.log.warn('static pod sync failed', { err: String(e) });
          }
        } while (this.staticAgain && !this.stopped);
      } finally {
        this.staticSyncing = false;
      }
      if (!this.stopped) this.staticTimer = this.ctx.clock.setTimeout(() => this.kickStatic(), pending ? STATIC_PENDING_MS : STATIC_RESYNC_MS);
    })();
  }

  /**
   * Level-triggered: the pod workers run exactly the static pods of the manifest directory,
   * and the API has one up-to-date mirror pod for each. Returns whether a replaced static pod
   * is still terminating (its successor waits, as upstream's waitingToStartStaticPods).
   */
  private async syncStatic(): Promise<boolean> {
    const desired = new Map((this.fileSource?.pods() ?? []).map((p) => [p.metadata.uid!, p]));
    const live = new Set(this.workers.uids());
    for (const [uid, s] of this.statics) {
      if (!desired.has(uid) && !s.removing) {
        s.removing = true;
        this.workers.remove(s.pod);
      }
      if (s.removing && !live.has(uid)) this.statics.delete(uid);
    }
    let pending = false;
    for (const [uid, pod] of desired) {
      if (this.statics.has(uid)) continue;
      // A new version starts only when the old one (same name) has terminated.
      if ([...this.statics.values()].some((s) => podFullName(s.pod) === podFullName(pod))) {
        pending = true;
        continue;
      }
      this.statics.set(uid, { pod, removing: false });
      this.workers.update(pod);
    }
    if ([...this.statics.values()].some((s) => s.removing)) pending = true;

    // Mirror pods: recreate deleted or outdated ones; delete those no static pod stands behind.
    const mirrors = new Map(this.podInf.list().filter(isMirrorPod).map((m) => [podFullName(m), m]));
    for (const s of this.statics.values()) {
      if (s.removing) continue;
      const pod = s.pod;
      const m = mirrors.get(podFullName(pod));
      try {
        if (m && !m.metadata.deletionTimestamp && isMirrorPodOf(m, pod)) continue;
        if (m) {
          this.ctx.log.info('Deleting mirror pod because it is outdated', { pod: podFullName(m) });
          await this.mirrors.delete(m.metadata.namespace!, m.metadata.name!, m.metadata.uid);
        }
        this.ctx.log.info('Creating a mirror pod for static pod', { pod: podFullName(pod) });
        await this.mirrors.create(pod);
      } catch (e) {
        this.ctx.log.warn('Failed creating a mirror pod', { pod: podFullName(pod), err: String((e as Error).message ?? e) });
      }
    }
    const names = new Set([...this.statics.values()].map((s) => podFullName(s.pod)));
    for (const [name, m] of mirrors) {
      if (names.has(name)) continue;
      this.ctx.log.info('Deleting orphaned mirror pod', { pod: name });
      await this.mirrors.delete(m.metadata.namespace!, m.metadata.name!, m.metadata.uid).catch((e) => this.ctx.log.warn('Failed deleting a mirror pod', { pod: name, err: String(e) }));
    }
    return pending;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.fileSource?.stop();
    this.staticTimer?.cancel();
    this.node.stop();
    await this.workers?.stop();
    await this.rt?.close();
  }
}
