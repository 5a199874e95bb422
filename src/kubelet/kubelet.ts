// The kubelet of one node: registers the Node (node.ts), runs the pods bound to it (pod
// workers over a ContainerRuntime) and reports their status. It talks to the API only through
// ctx.client, so the same code runs inside `kts server` and (later) `kts agent`.
import { mkdirSync } from 'node:fs';
import { call, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { KObject } from '../api/types.js';
import type { ControllerContext } from '../controllers/context.js';
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
}

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
    });
    this.readyResolve(this.rt);
    await Promise.all([this.cmInf, this.secretInf, this.svcInf, this.pvcInf, this.pvInf].map((i) => i.waitForSync()));
    await this.podInf.waitForSync();
    if (this.stopped) return;
    // Re-adopt what the runtime already runs for pods still bound here, clean up the rest.
    for (const p of this.podInf.list()) this.workers.update(p, false);
    await this.workers.adopt().catch((e) => this.ctx.log.warn('adopting running containers failed', { err: String(e) }));
    this.podInf.addHandlers({
      onAdd: (p) => this.workers.update(p),
      onUpdate: (_o, p) => this.workers.update(p),
      onDelete: (p) => this.workers.remove(p),
    });
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

  async stop(): Promise<void> {
    this.stopped = true;
    this.node.stop();
    await this.workers?.stop();
    await this.rt?.close();
  }
}
