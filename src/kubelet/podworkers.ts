// Pod workers: one serialized worker per pod UID, driven by the pods bound to this node.
// syncPod moves a pod one step: volumes → sandbox → init containers one by one → containers,
// with restartPolicy and CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min), image
// pull back-off, probes, lifecycle hooks; then posts the status when it changed. Terminating
// pods get preStop, SIGTERM, SIGKILL after the grace period, and the final DELETE (grace 0).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import { call, isConflict, isNotFound, resourcePath } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import type { KObject } from '../api/types.js';
import type { ControllerContext } from '../controllers/context.js';
import { EnvConfigError, expandCommand, makeEnvironment } from './env.js';
import { runHook } from './lifecycle.js';
import { containerLogPath, podLogDir, tailLogText } from './logs.js';
import { ContainerLogManager, DEFAULT_LOG_ROTATION } from './logrotation.js';
import { ProbeWorker, runProbe, unhealthyMessage, type ProbeEnv, type ProbeKind } from './probes.js';
import { ContainerConfigError, ImagePullError } from './runtime/errors.js';
import type { ContainerConfig, ContainerRuntime, ContainerStatus, Mount, PodSandboxConfig, SandboxStatus } from './runtime/types.js';
import { isStaticPod } from './config/file.js';
import { PodCgroups } from './cm/cgroups.js';
import { containerResources } from './cm/helpers.js';
import { Backoff, computePodStatus, statusEqual, type ContainerView } from './status.js';
import { mountHostPath, PodVolumes, VolumeError, type MountedVolume, type VolumeSources } from './volumes.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

export interface PodWorkersOptions {
  nodeName: string;
  rootDir: string;
  hostIP: () => string;
  clusterDNS?: string[];
  clusterDomain: string;
  sources: VolumeSources;
  /** Resync period of a live pod (default 1000 ms): picks up exits, back-off expiry, config changes. */
  resyncMs?: number;
  backoff?: Backoff;
  /** Parent of the kubepods cgroup (upstream's --cgroup-root); default "/". */
  cgroupRoot?: string;
  /** The mirror pod of a static pod (its status is written there), if the API has it. */
  mirrorPod?: (pod: KObject) => KObject | undefined;
  /** Container log rotation (upstream's containerLogMaxSize 10Mi / containerLogMaxFiles 5). */
  containerLogMaxSize?: number;
  containerLogMaxFiles?: number;
}

interface PodState {
  uid: string;
  pod: KObject;
  removed: boolean;
  sandboxId?: string;
  sandboxConfig?: PodSandboxConfig;
  /** Runtime container ids per container name, oldest first. */
  containers: Map<string, string[]>;
  waiting: Map<string, { reason: string; message?: string }>;
  probes: Map<string, ProbeWorker>;
  kill: Set<string>;
  termMessages: Record<string, string>;
  termPaths: Map<string, string>;
  volumes: PodVolumes;
  mounted?: Map<string, MountedVolume>;
  syncing: boolean;
  again: boolean;
  timer?: { cancel(): void };
  warned: boolean;
  terminating: boolean;
  finished: boolean;
  lastPosted?: Json;
  postedRV?: string;
  lastEvent: Map<string, number>;
  statuses: Map<string, ContainerStatus>;
  /** The last PodSandboxStatus, with the container states it was read at (see sandboxStatus). */
  sandboxSeen?: { id: string; states: string; at: number; status: SandboxStatus | undefined };
}

const SANDBOX_RECHECK_MS = 10_000;

const isTerminalPhase = (p: unknown) => p === 'Succeeded' || p === 'Failed';

export class PodWorkers {
  private readonly pods = new Map<string, PodState>();
  private readonly recorder: EventRecorder;
  readonly backoff: Backoff;
  readonly imageBackoff = new Backoff();
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly runtime: ContainerRuntime,
    private readonly opts: PodWorkersOptions,
  ) {
    this.recorder = new EventRecorder(ctx.client, { component: 'kubelet', host: opts.nodeName }, ctx.clock);
    this.backoff = opts.backoff ?? new Backoff();
    // Pod cgroups (QoS tiers under kubepods) only where a runtime applies cgroupParent.
    if (runtime.type === 'cri') this.cgroups = new PodCgroups(opts.cgroupRoot ?? '/', undefined, (m, f) => ctx.log.warn(m, f));
    // The runtime writes the containers' log files; the kubelet bounds them (where the runtime can reopen one).
    if (runtime.reopenContainerLog) {
      const policy = { maxSize: opts.containerLogMaxSize ?? DEFAULT_LOG_ROTATION.maxSize, maxFiles: opts.containerLogMaxFiles ?? DEFAULT_LOG_ROTATION.maxFiles };
      this.logRotation = new ContainerLogManager(runtime, policy, (m, f) => ctx.log.warn(m, f));
      this.logRotation.start();
    }
  }

  private readonly logRotation?: ContainerLogManager;

  private readonly cgroups?: PodCgroups;

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  /** A pod bound to this node was added or changed. */
  update(pod: KObject, sync = true): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid!;
    let st = this.pods.get(uid);
    if (!st) {
      st = {
        uid,
        pod,
        removed: false,
        containers: new Map(),
        waiting: new Map(),
        probes: new Map(),
        kill: new Set(),
        termMessages: {},
        termPaths: new Map(),
        volumes: new PodVolumes(this.opts.rootDir, pod),
        syncing: false,
        again: false,
        warned: false,
        terminating: false,
        finished: false,
        lastEvent: new Map(),
        statuses: new Map(),
      };
      this.pods.set(uid, st);
    }
    st.pod = pod;
    if (sync) this.enqueue(uid);
  }

  /** The pod is gone from the API (deleted with grace 0 or force-deleted): kill what remains. */
  remove(pod: KObject): void {
    const st = this.pods.get(pod.metadata.uid!);
    if (!st) return;
    st.removed = true;
    this.enqueue(st.uid);
  }

  /** Wakes every pod (e.g. a ConfigMap changed). */
  resyncAll(): void {
    for (const uid of this.pods.keys()) this.enqueue(uid);
  }

  uids(): string[] {
    return [...this.pods.keys()];
  }

  /** The runtime container id of a pod's container (newest attempt), for the kubelet server. */
  containerId(uid: string, container: string, previous = false): string | undefined {
    const ids = this.pods.get(uid)?.containers.get(container);
    if (!ids?.length) return undefined;
    return previous ? ids[ids.length - 2] : ids[ids.length - 1];
  }

  sandboxId(uid: string): string | undefined {
    return this.pods.get(uid)?.sandboxId;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.logRotation?.stop();
    for (const st of this.pods.values()) {
      st.timer?.cancel();
      for (const p of st.probes.values()) p.stop();
    }
  }

  /** Adopts containers and sandboxes the runtime already has (after a kubelet restart). */
  async adopt(): Promise<void> {
    const sandboxes = await this.runtime.listPodSandboxes();
    const containers = await this.runtime.listContainers();
    for (const st of this.pods.values()) {
      const sb = sandboxes.filter((s) => s.uid === st.uid && s.state === 'ready').sort((a, b) => b.attempt - a.attempt)[0];
      if (sb && !st.sandboxId) st.sandboxId = sb.id;
      const mine = containers.filter((c) => c.labels[LABEL_POD_UID] === st.uid).sort((a, b) => a.attempt - b.attempt);
      for (const c of mine) {
        const list = st.containers.get(c.name) ?? [];
        if (!list.includes(c.id)) list.push(c.id);
        st.containers.set(c.name, list);
      }
    }
    // Sandboxes of pods this node no longer has.
    const known = new Set(this.pods.keys());
    for (const s of sandboxes) {
      if (!known.has(s.uid)) {
        await this.runtime.stopPodSandbox(s.id).catch(() => {});
        await this.runtime.removePodSandbox(s.id).catch(() => {});
        this.cgroups?.remove(s.uid);
      }
    }
  }

  private enqueue(uid: string): void {
    const st = this.pods.get(uid);
    if (!st || this.stopped) return;
    if (st.syncing) {
      st.again = true;
      return;
    }
    st.timer?.cancel();
    st.timer = undefined;
    void this.run(st);
  }

  private async run(st: PodState): Promise<void> {
    st.syncing = true;
    try {
      do {
        st.again = false;
        try {
          await this.sync(st);
        } catch (e) {
          if (!this.stopped && !isConflict(e)) this.ctx.log.warn('pod sync failed', { pod: `${st.pod.metadata.namespace}/${st.pod.metadata.name}`, err: String((e as Error).stack ?? e) });
        }
      } while (st.again && !this.stopped);
    } finally {
      st.syncing = false;
    }
    if (this.stopped || !this.pods.has(st.uid)) return;
    if (st.finished && !st.terminating) return;
    st.timer = this.ctx.clock.setTimeout(() => this.enqueue(st.uid), this.opts.resyncMs ?? 1000);
  }

  private event(st: PodState, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string, dedupMs = 0): void {
    if (dedupMs) {
      const k = `${reason}/${fieldPath}/${message}`;
      const last = st.lastEvent.get(k);
      if (last !== undefined && this.now() - last < dedupMs) return;
      st.lastEvent.set(k, this.now());
    }
    this.recorder.event({ ...st.pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
  }

  private async status(id: string | undefined): Promise<ContainerStatus | undefined> {
    if (!id) return undefined;
    return this.runtime.containerStatus(id);
  }

  private fieldPath(spec: Json, isInit: boolean): string {
    return `spec.${isInit ? 'initContainers' : 'containers'}{${spec.name}}`;
  }

  private async sync(st: PodState): Promise<void> {
    const pod = st.pod;
    if (st.removed || pod.metadata.deletionTimestamp) {
      await this.terminate(st);
      return;
    }
    if (st.finished) return;
    const apiPhase = pod.status?.phase;
    if (isTerminalPhase(apiPhase) && !st.sandboxId && !st.containers.size) {
      // Finished before this kubelet (re)started: nothing to run.
      st.finished = true;
      return;
    }
    if (!st.warned) {
      st.warned = true;
      const lim = this.runtime.limitations();
      if (lim) this.event(st, 'Warning', 'RuntimeLimitations', lim);
    }
    const specs: Json[] = pod.spec?.containers ?? [];
    const inits: Json[] = pod.spec?.initContainers ?? [];
    const policy: string = pod.spec?.restartPolicy ?? 'Always';

    // Volumes (also refreshes configMap/secret/downwardAPI/projected contents).
    try {
      st.mounted = await st.volumes.setUp(pod, this.opts.sources, this.ctx.clock.now());
      for (const w of st.volumes.warnings.splice(0)) this.event(st, 'Warning', 'FailedMount', w);
    } catch (e) {
      if (!(e instanceof VolumeError)) throw e;
      this.event(st, 'Warning', 'FailedMount', e.message, undefined, 30_000);
      if (!st.sandboxId) {
        for (const c of [...inits, ...specs]) if (!st.containers.get(c.name)?.length) st.waiting.set(c.name, { reason: inits.length && !inits.includes(c) ? 'PodInitializing' : 'ContainerCreating' });
        await this.postStatus(st);
        return;
      }
    }

    if (!st.sandboxId) {
      const cfg = this.sandboxConfig(pod);
      this.cgroups?.ensure(pod);
      st.sandboxConfig = cfg;
      st.sandboxId = await this.runtime.runPodSandbox(cfg);
    }
    st.sandboxConfig ??= this.sandboxConfig(pod);

    // Refresh runtime statuses once per sync.
    st.statuses.clear();
    for (const [, ids] of st.containers) {
      const id = ids[ids.length - 1];
      const s = await this.status(id);
      if (s) st.statuses.set(id!, s);
    }
    const current = (name: string) => {
      const ids = st.containers.get(name);
      const id = ids?.[ids.length - 1];
      return id ? st.statuses.get(id) : undefined;
    };

    // Init containers, one at a time.
    let initDone = true;
    for (const c of inits) {
      const cur = current(c.name);
      await this.collectTermination(st, c, cur);
      if (cur?.state === 'exited' && cur.exitCode === 0) {
        st.waiting.delete(c.name);
        continue;
      }
      initDone = false;
      if (!cur || cur.state === 'created') {
        if (!cur) await this.startContainer(st, c, true);
        break;
      }
      if (cur.state === 'running') break;
      // Failed init container.
      if (policy === 'Never') break;
      await this.maybeRestart(st, c, cur, true);
      break;
    }
    const anyMain = specs.some((c) => st.containers.get(c.name)?.length);
    if (!initDone && !anyMain) {
      for (const c of specs) st.waiting.set(c.name, { reason: 'PodInitializing' });
    } else {
      for (const c of specs) {
        const cur = current(c.name);
        await this.collectTermination(st, c, cur);
        if (!cur) {
          if (!st.waiting.has(c.name) || st.waiting.get(c.name)!.reason === 'PodInitializing' || st.waiting.get(c.name)!.reason === 'ContainerCreating' || this.retryDue(st, c)) await this.startContainer(st, c, false);
          continue;
        }
        if (cur.state === 'running') {
          st.waiting.delete(c.name);
          if (st.kill.has(cur.id)) {
            st.kill.delete(cur.id);
            this.stopProbes(st, cur.id);
            await this.runtime.stopContainer(cur.id, Number(pod.spec?.terminationGracePeriodSeconds ?? 30));
            st.statuses.set(cur.id, (await this.status(cur.id)) ?? cur);
          } else continue;
        }
        const now = st.statuses.get(cur.id) ?? cur;
        if (now.state !== 'exited') continue;
        this.stopProbes(st, now.id);
        const restart = policy === 'Always' || (policy === 'OnFailure' && now.exitCode !== 0);
        // As upstream's status at the start of a sync: a new exit (OOMKilled, Error …) is posted before the restart or back-off
        if (restart && this.prevStatus.get(now.id)?.state !== 'exited') await this.postStatus(st);
        if (restart) await this.maybeRestart(st, c, now, false);
        else st.waiting.delete(c.name);
      }
    }
    await this.postStatus(st);
    const phase = st.lastPosted?.phase;
    if (isTerminalPhase(phase)) {
      // Everything ended for good: release the sandbox and stop resyncing.
      for (const p of st.probes.values()) p.stop();
      st.probes.clear();
      if (st.sandboxId) await this.runtime.stopPodSandbox(st.sandboxId);
      st.finished = true;
    }
  }

  /** A new attempt after a failure, unless the container is backing off (CrashLoopBackOff). */
  private async maybeRestart(st: PodState, c: Json, cur: ContainerStatus, isInit: boolean): Promise<void> {
    const pod = st.pod;
    const key = `${st.uid}/${c.name}`;
    const finished = cur.finishedAt || this.now();
    if (this.backoff.isInBackOffSince(key, finished, this.now())) {
      const delay = this.backoff.get(key);
      const msg = `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${st.uid})`;
      st.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: msg });
      this.event(st, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${st.uid})`, this.fieldPath(c, isInit), 10_000);
      return;
    }
    this.backoff.next(key, this.now());
    await this.startContainer(st, c, isInit);
  }

  private retryDue(st: PodState, c: Json): boolean {
    const w = st.waiting.get(c.name);
    if (!w) return true;
    // ErrImagePull / ImagePullBackOff: pull() decides (image back-off), as do
    // CreateContainerConfigError / RunContainerError: retry every sync
    return true;
  }

  /** Image pull failures by `${pod uid}_${image}` (upstream's back-off key). */
  private readonly imagePulls = new Map<string, { failedAt: number; retryAt: number; error: string }>();

  private async collectTermination(st: PodState, c: Json, cur: ContainerStatus | undefined): Promise<void> {
    if (!cur || cur.state !== 'exited' || st.termMessages[cur.id] !== undefined) return;
    let msg = '';
    const p = st.termPaths.get(cur.id);
    if (p) {
      try {
        msg = readFileSync(p, 'utf8').slice(0, 4096);
      } catch {
        msg = '';
      }
    }
    if (!msg && c.terminationMessagePolicy === 'FallbackToLogsOnError' && cur.exitCode !== 0) msg = await tailLogText(cur.logPath);
    st.termMessages[cur.id] = msg;
  }

  private sandboxConfig(pod: KObject): PodSandboxConfig {
    const ports = [];
    for (const c of (pod.spec?.containers ?? []) as Json[]) for (const p of c.ports ?? []) if (p.hostPort) ports.push({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP });
    const ns = pod.metadata.namespace ?? 'default';
    const dnsPolicy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
    let dns: PodSandboxConfig['dns'];
    if (dnsPolicy === 'None') dns = { servers: pod.spec?.dnsConfig?.nameservers ?? [], searches: pod.spec?.dnsConfig?.searches ?? [], options: (pod.spec?.dnsConfig?.options ?? []).map((o: Json) => (o.value ? `${o.name}:${o.value}` : o.name)) };
    else if ((dnsPolicy === 'ClusterFirst' || dnsPolicy === 'ClusterFirstWithHostNet') && this.opts.clusterDNS?.length && !(pod.spec?.hostNetwork && dnsPolicy === 'ClusterFirst'))
      dns = { servers: this.opts.clusterDNS, searches: [`${ns}.svc.${this.opts.clusterDomain}`, `svc.${this.opts.clusterDomain}`, this.opts.clusterDomain], options: ['ndots:5'] };
    return {
      uid: pod.metadata.uid!,
      name: pod.metadata.name!,
      namespace: ns,
      attempt: 0,
      hostname: pod.spec?.hostname ?? String(pod.metadata.name).slice(0, 63),
      logDirectory: podLogDir(this.opts.rootDir, ns, pod.metadata.name!, pod.metadata.uid!),
      dns,
      portMappings: ports,
      hostNetwork: !!pod.spec?.hostNetwork,
      labels: { ...(pod.metadata.labels ?? {}), [LABEL_POD_UID]: pod.metadata.uid!, [LABEL_POD_NAME]: pod.metadata.name!, [LABEL_POD_NAMESPACE]: ns },
      annotations: { ...(pod.metadata.annotations ?? {}) },
      cgroupParent: this.cgroups?.podCgroup(pod),
    };
  }

  /** The pod's IPs; `known` is a PodSandboxStatus the caller already has (one CRI call per sync, not two). */
  private async podIPs(st: PodState, known?: { status: SandboxStatus | undefined }): Promise<string[]> {
    if (st.pod.spec?.hostNetwork) return [this.opts.hostIP()];
    if (!st.sandboxId) return [];
    const s = known ? known.status : await this.runtime.podSandboxStatus(st.sandboxId);
    if (!s) return [];
    return s.ips.length ? s.ips : [this.opts.hostIP()];
  }

  private probeEnv(st: PodState, c: Json, containerId: string, ip: string): ProbeEnv {
    return { host: ip, ports: c.ports ?? [], exec: (cmd, t) => this.runtime.execSync(containerId, cmd, t) };
  }

  private async pull(st: PodState, c: Json, fp: string): Promise<boolean> {
    const image = String(c.image ?? '');
    const key = `${st.uid}_${image}`;
    const failed = this.imagePulls.get(key);
    const w = st.waiting.get(c.name)?.reason;
    // After an image error the pod worker comes back after its error back-off (upstream: 10 s),
    // so ErrImagePull stays visible for a while before the next pull or ImagePullBackOff.
    if (failed && (w === 'ErrImagePull' || w === 'ImagePullBackOff') && this.now() < failed.retryAt) return false;
    const policy = c.imagePullPolicy ?? (image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent');
    const present = await this.runtime.imageStatus(image).catch(() => undefined);
    if (policy !== 'Always' && present) {
      this.event(st, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, fp);
      return true;
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      st.waiting.set(c.name, { reason: 'ErrImageNeverPull', message: msg });
      this.event(st, 'Warning', 'ErrImageNeverPull', msg, fp, IMAGE_ERROR_RESYNC_MS);
      this.event(st, 'Warning', 'Failed', 'Error: ErrImageNeverPull', fp, IMAGE_ERROR_RESYNC_MS);
      return false;
    }
    if (failed && this.imageBackoff.isInBackOffSince(key, failed.failedAt, this.now())) {
      const msg = `Back-off pulling image "${image}"`;
      // the waiting message carries the last pull error (kubelet ≥ 1.30)
      st.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `${msg}: ${failed.error}` });
      failed.retryAt = this.now() + IMAGE_ERROR_RESYNC_MS;
      this.event(st, 'Normal', 'BackOff', msg, fp);
      this.event(st, 'Warning', 'Failed', 'Error: ImagePullBackOff', fp);
      return false;
    }
    this.event(st, 'Normal', 'Pulling', `Pulling image "${image}"`, fp);
    const t0 = Date.now();
    try {
      await this.pullWithCredentials(st, image);
    } catch (e) {
      const msg = (e as Error).message;
      this.event(st, 'Warning', 'Failed', `Failed to pull image "${image}": ${msg}`, fp);
      this.imageBackoff.next(key, this.now());
      // forget failures of pods long gone (a live one in back-off fails at least every 5 min)
      for (const [k, f] of this.imagePulls) if (this.now() - f.failedAt > 2 * this.imageBackoff.resetAfterMs) this.imagePulls.delete(k);
      this.imagePulls.set(key, { failedAt: this.now(), retryAt: this.now() + IMAGE_ERROR_RESYNC_MS, error: `ErrImagePull: ${msg}` });
      st.waiting.set(c.name, { reason: 'ErrImagePull', message: msg });
      this.event(st, 'Warning', 'Failed', 'Error: ErrImagePull', fp);
      return false;
    }
    this.imagePulls.delete(key);
    this.imageBackoff.reset(key);
    this.imageBackoff.gc(this.now());
    const took = goDuration(Date.now() - t0);
    const size = (await this.runtime.imageStatus(image).catch(() => undefined))?.size ?? 0;
    this.event(st, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`, fp);
    return true;
  }

  /**
   * Pulls with each credential the pod's imagePullSecrets hold for the image's registry, in
   * keyring order, until one works (upstream's kuberuntime PullImage); anonymously if none.
   */
  private async pullWithCredentials(st: PodState, image: string): Promise<void> {
    const pod = st.pod;
    const configs: DockerConfig[] = [];
    const missing: string[] = [];
    for (const ref of (pod.spec?.imagePullSecrets ?? []) as Json[]) {
      if (!ref?.name) continue;
      const s = this.opts.sources.secret(pod.metadata.namespace ?? 'default', ref.name) as Json;
      if (!s) {
        missing.push(ref.name);
        continue;
      }
      const cfg = dockerConfigOfSecret(s);
      if (cfg) configs.push(cfg);
    }
    if (missing.length)
      this.event(st, 'Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`, undefined, IMAGE_ERROR_RESYNC_MS);
    const creds = lookupPullCredentials(image, configs);
    if (!creds.length) {
      await this.runtime.pullImage(image);
      return;
    }
    const errs: Error[] = [];
    for (const a of creds) {
      try {
        await this.runtime.pullImage(image, a);
        return;
      } catch (e) {
        errs.push(e as Error);
      }
    }
    // utilerrors.NewAggregate: one error as itself, several as [a, b]
    throw errs.length === 1 ? errs[0]! : new ImagePullError(`[${errs.map((e) => e.message).join(', ')}]`);
  }

  private async startContainer(st: PodState, c: Json, isInit: boolean): Promise<void> {
    const pod = st.pod;
    const fp = this.fieldPath(c, isInit);
    const ids = st.containers.get(c.name) ?? [];
    const attempt = ids.length;
    if (!(await this.pull(st, c, fp))) return;
    const ips = await this.podIPs(st);
    let env: { name: string; value: string }[];
    let mounts: Mount[];
    try {
      env = makeEnvironment(pod, c, { ...this.opts.sources, podIPs: ips, hostIP: this.opts.hostIP() });
      mounts = this.mounts(st, c, env);
    } catch (e) {
      if (!(e instanceof EnvConfigError) && !(e instanceof VolumeError)) throw e;
      st.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.event(st, 'Warning', 'Failed', `Error: ${e.message}`, fp, 10_000);
      return;
    }
    // The termination message file (terminationMessagePath, default /dev/termination-log).
    const termDir = join(this.opts.rootDir, 'pods', st.uid, 'containers', c.name);
    mkdirSync(termDir, { recursive: true });
    const termFile = join(termDir, randomBytes(4).toString('hex'));
    writeFileSync(termFile, '', { mode: 0o666 });
    mounts.push({ containerPath: c.terminationMessagePath ?? '/dev/termination-log', hostPath: termFile, readonly: false });
    const cfg: ContainerConfig = {
      name: c.name,
      attempt,
      image: String(c.image ?? ''),
      command: expandCommand(c.command, env),
      args: expandCommand(c.args, env),
      workingDir: c.workingDir,
      env,
      mounts,
      logPath: `${c.name}/${attempt}.log`,
      stdin: !!c.stdin,
      stdinOnce: !!c.stdinOnce,
      tty: !!c.tty,
      labels: { [LABEL_POD_UID]: st.uid, [LABEL_POD_NAME]: pod.metadata.name!, [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default', [LABEL_CONTAINER_NAME]: c.name },
      annotations: { 'io.kubernetes.container.restartCount': String(attempt), 'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log' },
      resources: containerResources(pod, c, totalmem()),
      securityContext: c.securityContext,
    };
    let id: string;
    try {
      id = await this.runtime.createContainer(st.sandboxId!, cfg, st.sandboxConfig!);
    } catch (e) {
      const reason = e instanceof ContainerConfigError ? 'CreateContainerConfigError' : e instanceof ImagePullError ? 'ErrImagePull' : 'CreateContainerError';
      st.waiting.set(c.name, { reason, message: (e as Error).message });
      this.event(st, 'Warning', 'Failed', `Error: ${(e as Error).message}`, fp, 10_000);
      return;
    }
    ids.push(id);
    st.containers.set(c.name, ids);
    st.termPaths.set(id, termFile);
    st.waiting.delete(c.name);
    this.event(st, 'Normal', 'Created', `Created container: ${c.name}`, fp);
    try {
      await this.runtime.startContainer(id);
    } catch (e) {
      this.event(st, 'Warning', 'Failed', `Error: ${(e as Error).message}`, fp);
      st.waiting.set(c.name, { reason: 'RunContainerError', message: (e as Error).message });
      return;
    }
    this.event(st, 'Normal', 'Started', `Started container ${c.name}`, fp);
    const s = await this.status(id);
    if (s) st.statuses.set(id, s);
    const ip = ips[0] ?? this.opts.hostIP();
    if (c.lifecycle?.postStart) {
      const err = await runHook(c.lifecycle.postStart, this.probeEnv(st, c, id, ip), Number(pod.spec?.terminationGracePeriodSeconds ?? 30), (ms) => this.sleep(ms));
      if (err) {
        this.event(st, 'Warning', 'FailedPostStartHook', `PostStartHook failed`, fp);
        this.ctx.log.debug?.('postStart hook failed', { container: c.name, err });
        await this.runtime.stopContainer(id, 0);
        const s2 = await this.status(id);
        if (s2) st.statuses.set(id, s2);
        return;
      }
    }
    if (!isInit) this.startProbes(st, c, id, ip);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.ctx.clock.setTimeout(r, ms));
  }

  private mounts(st: PodState, c: Json, env: { name: string; value: string }[]): Mount[] {
    const out: Mount[] = [];
    const envMap = new Map(env.map((e) => [e.name, e.value]));
    for (const m of (c.volumeMounts ?? []) as Json[]) {
      const vol = st.mounted?.get(m.name);
      if (!vol) throw new VolumeError(`cannot find volume "${m.name}" to mount into container "${c.name}"`);
      let sub: string | undefined = m.subPath;
      if (m.subPathExpr) sub = String(m.subPathExpr).replace(/\$\(([^)]+)\)/g, (_a, n: string) => envMap.get(n) ?? '');
      out.push({ containerPath: m.mountPath, hostPath: mountHostPath(vol, sub), readonly: !!m.readOnly || vol.readOnly });
    }
    return out;
  }

  private startProbes(st: PodState, c: Json, id: string, ip: string): void {
    const env = this.probeEnv(st, c, id, ip);
    const kinds: [ProbeKind, Json][] = [
      ['startup', c.startupProbe],
      ['liveness', c.livenessProbe],
      ['readiness', c.readinessProbe],
    ];
    const fp = this.fieldPath(c, false);
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const w = new ProbeWorker(kind, probe, this.ctx.clock, async () => {
        // Liveness and readiness wait for the startup probe.
        const startup = st.probes.get(`${id}/startup`);
        if (kind !== 'startup' && startup && !startup.result) return { ok: kind === 'liveness', output: '' };
        return runProbe(probe, env);
      }, (worker, outcome, changed) => {
        if (!outcome.ok) this.event(st, 'Warning', 'Unhealthy', unhealthyMessage(kind, outcome.output), fp);
        if (!changed) return;
        if (kind !== 'readiness' && !worker.result) {
          const why = kind === 'liveness' ? 'liveness' : 'startup';
          this.event(st, 'Normal', 'Killing', `Container ${c.name} failed ${why} probe, will be restarted`, fp);
          st.kill.add(id);
        }
        this.enqueue(st.uid);
      });
      st.probes.set(`${id}/${kind}`, w);
      w.start();
    }
  }

  private stopProbes(st: PodState, id: string): void {
    for (const [k, w] of st.probes) if (k.startsWith(`${id}/`)) {
      w.stop();
      st.probes.delete(k);
    }
  }

  private views(st: PodState, specs: Json[]): ContainerView[] {
    return specs.map((c) => {
      const ids = st.containers.get(c.name) ?? [];
      const cur = ids.length ? st.statuses.get(ids[ids.length - 1]!) : undefined;
      const prevId = ids.length > 1 ? ids[ids.length - 2] : undefined;
      const prev = prevId ? this.prevStatus.get(prevId) : undefined;
      const id = cur?.id;
      const readiness = id ? st.probes.get(`${id}/readiness`) : undefined;
      const startup = id ? st.probes.get(`${id}/startup`) : undefined;
      const w = st.waiting.get(c.name);
      return {
        name: c.name,
        image: String(c.image ?? ''),
        current: cur,
        previous: prev,
        restartCount: Math.max(0, ids.length - 1),
        waiting: w && !(cur?.state === 'running') ? w : undefined,
        ready: readiness ? readiness.result : true,
        started: startup ? startup.result : true,
        terminationMessages: st.termMessages,
      };
    });
  }

  /**
   * PodSandboxStatus for the status update. Every live pod resyncs each second, and with 100 pods
   * these calls were a third of the kubelet's CRI traffic (and of its idle CPU). A sandbox's state
   * changes with its containers (they share its PID namespace) or by being stopped, so it is read
   * again when a container's state moved, while terminating, and otherwise every 10 s.
   */
  private async sandboxStatus(st: PodState): Promise<SandboxStatus | undefined> {
    if (!st.sandboxId) return undefined;
    const states = [...st.statuses.values()].map((c) => `${c.id}=${c.state}`).join(',');
    const seen = st.sandboxSeen;
    const now = this.now();
    if (seen && seen.id === st.sandboxId && seen.states === states && !st.terminating && now - seen.at < SANDBOX_RECHECK_MS) return seen.status;
    const status = await this.runtime.podSandboxStatus(st.sandboxId);
    st.sandboxSeen = { id: st.sandboxId, states, at: now, status };
    return status;
  }

  /** Last known statuses of previous attempts (kept for lastState after the runtime forgets them). */
  private readonly prevStatus = new Map<string, ContainerStatus>();

  private async postStatus(st: PodState): Promise<void> {
    // Remember the newest status of every attempt we know (for lastState).
    for (const [, ids] of st.containers) {
      for (const id of ids.slice(-2)) {
        const s = st.statuses.get(id) ?? (this.prevStatus.has(id) ? undefined : await this.status(id));
        if (s) this.prevStatus.set(id, s);
      }
    }
    const pod = st.pod;
    const sandbox = { status: await this.sandboxStatus(st) };
    const ips = await this.podIPs(st, sandbox);
    const sandboxReady = !!st.sandboxId && !st.terminating && sandbox.status?.state === 'ready';
    // A static pod's status lives in its mirror pod (upstream's status manager translates the UID).
    const target = isStaticPod(pod) ? this.opts.mirrorPod?.(pod) : pod;
    if (!target) return;
    const base: KObject = { ...pod, status: { ...(target.status ?? {}), conditions: st.lastPosted?.conditions ?? target.status?.conditions } };
    const status = computePodStatus(base, {
      runtimeType: this.runtime.type,
      init: this.views(st, pod.spec?.initContainers ?? []),
      containers: this.views(st, pod.spec?.containers ?? []),
      sandboxReady,
      podIPs: ips,
      hostIP: this.opts.hostIP(),
      now: this.ctx.clock.now(),
      terminating: st.terminating,
    });
    // Compare with what the API has when the informer caught up with our last write, else with that write.
    const apiRV = target.metadata.resourceVersion;
    const compareTo = st.lastPosted && st.postedRV && !rvNewer(apiRV, st.postedRV) ? st.lastPosted : target.status;
    if (statusEqual(status, compareTo)) return;
    try {
      const res = await call(this.ctx.client, 'PATCH', resourcePath('', 'v1', 'pods', target.metadata.namespace, target.metadata.name, 'status'), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { uid: target.metadata.uid }, status },
      });
      st.lastPosted = res.status;
      st.postedRV = res.metadata.resourceVersion;
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** preStop, SIGTERM, SIGKILL after the grace period; final status; DELETE with grace 0; cleanup. */
  private async terminate(st: PodState): Promise<void> {
    const pod = st.pod;
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    if (!st.terminating) {
      st.terminating = true;
      for (const p of st.probes.values()) p.stop();
      st.probes.clear();
      const running: [Json, string, boolean][] = [];
      for (const [list, isInit] of [[pod.spec?.initContainers ?? [], true], [pod.spec?.containers ?? [], false]] as [Json[], boolean][]) {
        for (const c of list) {
          const ids = st.containers.get(c.name);
          const id = ids?.[ids.length - 1];
          const s = await this.status(id);
          if (s?.state === 'running') running.push([c, s.id, isInit]);
        }
      }
      const deadline = this.now() + grace * 1000;
      const ip = (await this.podIPs(st))[0] ?? this.opts.hostIP();
      await Promise.all(
        running.map(async ([c, id, isInit]) => {
          if (!st.removed) this.event(st, 'Normal', 'Killing', `Stopping container ${c.name}`, this.fieldPath(c, isInit));
          if (c.lifecycle?.preStop) {
            const err = await runHook(c.lifecycle.preStop, this.probeEnv(st, c, id, ip), grace, (ms) => this.sleep(ms));
            if (err && !st.removed) this.event(st, 'Warning', 'FailedPreStopHook', `PreStopHook failed`, this.fieldPath(c, isInit));
          }
          const left = Math.max(0, Math.ceil((deadline - this.now()) / 1000));
          await this.runtime.stopContainer(id, left);
        }),
      );
      if (st.sandboxId) await this.runtime.stopPodSandbox(st.sandboxId);
      if (!st.removed) {
        st.statuses.clear();
        for (const [, ids] of st.containers) {
          const id = ids[ids.length - 1]!;
          const s = await this.status(id);
          if (s) st.statuses.set(id, s);
        }
        for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) st.waiting.delete(c.name);
        await this.postStatus(st).catch(() => {});
      }
    }
    if (!st.removed) {
      try {
        await call(this.ctx.client, 'DELETE', resourcePath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: st.uid } },
        });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    // Cleanup: the runtime's records, volumes, back-off entries.
    st.timer?.cancel();
    // Every container and sandbox of this pod the runtime has, not only those this worker
    // tracked (a sandbox adopted after a restart, an older attempt's sandbox).
    const containerIds = new Set<string>();
    for (const [, ids] of st.containers) for (const id of ids) containerIds.add(id);
    for (const c of await this.runtime.listContainers().catch(() => [])) if (c.labels[LABEL_POD_UID] === st.uid) containerIds.add(c.id);
    for (const id of containerIds) {
      await this.runtime.removeContainer(id).catch(() => {});
      this.prevStatus.delete(id);
    }
    const sandboxIds = new Set<string>();
    if (st.sandboxId) sandboxIds.add(st.sandboxId);
    for (const sb of await this.runtime.listPodSandboxes().catch(() => [])) if (sb.uid === st.uid) sandboxIds.add(sb.id);
    for (const id of sandboxIds) {
      if (id !== st.sandboxId) await this.runtime.stopPodSandbox(id).catch(() => {});
      await this.runtime.removePodSandbox(id).catch(() => {});
    }
    this.cgroups?.remove(st.uid);
    st.volumes.tearDown();
    this.backoff.gc(this.now(), `${st.uid}/`);
    this.pods.delete(st.uid);
  }
}

function rvNewer(a: string | undefined, b: string): boolean {
  if (!a) return false;
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return a !== b;
  }
}

function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return r ? `${m}m${r}s` : `${m}m0s`;
}

export { containerLogPath };

// ---- image pulls ------------------------------------------------------------------------------

/** How soon a pod worker looks at a container again after an image error (upstream's backOffPeriod). */
const IMAGE_ERROR_RESYNC_MS = 10_000;

/** Go's time.Duration.String() of a millisecond count: "0s", "313ms", "1.594s", "1m5.2s". */
export function goDuration(ms: number): string {
  ms = Math.max(0, Math.floor(ms));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const secs = `${Math.floor(rest / 1000)}${rest % 1000 ? `.${String(rest % 1000).padStart(3, '0').replace(/0+$/, '')}` : ''}s`;
  return h ? `${h}h${m}m${secs}` : m ? `${m}m${secs}` : secs;
}

/** The auths of a ~/.docker/config.json: registry key → entry. */
export type DockerConfig = Record<string, { username?: string; password?: string; auth?: string; email?: string }>;

/** The docker config a kubernetes.io/dockerconfigjson (or legacy dockercfg) secret holds. */
export function dockerConfigOfSecret(secret: Json): DockerConfig | undefined {
  const data = secret?.data ?? {};
  try {
    if (data['.dockerconfigjson']) return (JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')).auths ?? {}) as DockerConfig;
    if (data['.dockercfg']) return JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as DockerConfig;
  } catch {
    // a malformed secret gives no credentials, as upstream's keyring skips it
  }
  return undefined;
}

/** "busybox:1.28" → "docker.io/library/busybox"; "127.0.0.1:5000/a/b:v1" → "127.0.0.1:5000/a/b". */
export function repositoryOf(image: string): string {
  let name = image.replace(/@.*$/, '');
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  const parts = name.split('/');
  if (parts.length === 1 || !(parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    if (parts.length === 1) parts.unshift('library');
    parts.unshift('docker.io');
  }
  return parts.join('/');
}

/** A docker config key as upstream's keyring stores it: host plus path, /v1/ and /v2/ dropped. */
function keyringKey(server: string): string | undefined {
  let u: URL;
  try {
    u = new URL(/^https?:\/\//.test(server) ? server : `https://${server}`);
  } catch {
    return undefined;
  }
  let p = u.pathname;
  if (p.startsWith('/v2/') || p.startsWith('/v1/')) p = p.slice(3);
  return p && p !== '/' ? u.host + p : u.host;
}

const globRe = (g: string): RegExp => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')}$`);

/** upstream's URLsMatch: host labels glob-match one by one, same port, key path a prefix of the image path. */
function keyMatches(key: string, repo: string): boolean {
  const split = (s: string) => {
    const i = s.indexOf('/');
    const hostport = i < 0 ? s : s.slice(0, i);
    const [host, port = ''] = hostport.split(':');
    return { labels: host!.split('.'), port, path: i < 0 ? '' : s.slice(i) };
  };
  const k = split(key);
  const r = split(repo);
  if (k.port !== r.port || k.labels.length !== r.labels.length) return false;
  if (!k.labels.every((l, i) => globRe(l).test(r.labels[i]!))) return false;
  return r.path.startsWith(k.path);
}

/**
 * The credentials for `image` from the pod's pull secrets, the most specific key first (upstream's
 * BasicDockerKeyring); Docker Hub images also take the index.docker.io entry. The CRI gets
 * username and password only: no server address, so they also work through a mirror.
 */
export function lookupPullCredentials(image: string, configs: DockerConfig[]): { username?: string; password?: string }[] {
  const creds = new Map<string, { username?: string; password?: string }[]>();
  for (const cfg of configs)
    for (const [server, e] of Object.entries(cfg ?? {})) {
      const key = keyringKey(server);
      if (!key || !e) continue;
      let { username, password } = e;
      if (e.auth) {
        const dec = Buffer.from(e.auth, 'base64').toString('utf8');
        const i = dec.indexOf(':');
        if (i > 0) [username, password] = [dec.slice(0, i), dec.slice(i + 1)];
      }
      creds.set(key, [...(creds.get(key) ?? []), { username, password }]);
    }
  const repo = repositoryOf(image);
  const out: { username?: string; password?: string }[] = [];
  for (const key of [...creds.keys()].sort().reverse()) if (keyMatches(key, repo)) out.push(...creds.get(key)!);
  if (!out.length && repo.startsWith('docker.io/')) out.push(...(creds.get('index.docker.io') ?? []));
  return out;
}
