// The `cri` container runtime: CRI v1 over gRPC to containerd. Without an endpoint, and with
// `containerd` on PATH, kts runs its own containerd (generated config under
// <rootDir>/containerd/, CNI conflist for the node's pod CIDR, a locally built pause image).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../util/log.js';
import { ImagePullError } from '../errors.js';
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ExecResult,
  ImageInfo,
  PodSandboxConfig,
  SandboxStatus,
  StreamOptions,
  StreamSession,
} from '../types.js';
import { CRIClient, CRIError } from './client.js';
import { findCNIBinDir, writeCNIConfig } from './cni.js';
import { ContainerdSupervisor, containerdConfig, containerdPaths, readRegistriesConfig, waitForCRI, writeRegistryHosts } from './containerd.js';
import { buildAndImport, busyboxPath, pauseImageSpec } from './oci.js';
import { enumValue, type Msg } from './proto.js';
import { attachStream, execStream, portForwardStream } from './stream.js';

export { CRIClient, CRIError } from './client.js';
export { containerdPaths } from './containerd.js';

/** The sandbox image kts configures by default; built locally from busybox-static if absent. */
export const DEFAULT_PAUSE_IMAGE = 'localhost/kts/pause:busybox';

export interface CRIRuntimeOptions {
  /** CRI socket of a containerd (or CRI-O) someone else runs. Unset: kts runs its own containerd. */
  endpoint?: string;
  /** The kubelet's root directory; our containerd lives under <rootDir>/containerd, CNI under <rootDir>/cni. */
  rootDir: string;
  /** The node's pod CIDR (CNI host-local range). Default 10.42.0.0/24. */
  podCIDR?: string;
  pauseImage?: string;
  /** k3s registries.yaml (mirrors, auth, tls) applied to our containerd. */
  registryConfig?: string;
  /** Linux bridge for the pod network (default kts0). */
  cniBridge?: string;
  log: Logger;
}

export function containerdAvailable(): boolean {
  try {
    execFileSync('containerd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const nsToMs = (ns: number | undefined): number => (ns ? Math.floor(ns / 1e6) : 0);

const CONTAINER_STATES: Record<number, ContainerState> = { 0: 'created', 1: 'running', 2: 'exited', 3: 'unknown' };

export async function createCRIRuntime(opts: CRIRuntimeOptions): Promise<ContainerRuntime> {
  const log = opts.log;
  const pauseImage = opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
  let supervisor: ContainerdSupervisor | undefined;
  let socket = opts.endpoint?.replace(/^unix:\/\//, '');
  if (!socket) {
    if (!containerdAvailable()) throw new Error('no CRI endpoint given and containerd is not on PATH');
    const paths = containerdPaths(opts.rootDir);
    fs.mkdirSync(paths.dir, { recursive: true });
    const cniBin = findCNIBinDir();
    if (!cniBin) log.warn('no CNI plugins found in /usr/lib/cni or /opt/cni/bin (Debian: containernetworking-plugins); pods will not get a network');
    const cniConfDir = path.join(opts.rootDir, 'cni', 'net.d');
    writeCNIConfig(cniConfDir, {
      podCIDR: opts.podCIDR ?? '10.42.0.0/24',
      // KTS_CNI_BRIDGE: a second kts on one machine (tests) needs its own bridge
      bridge: opts.cniBridge ?? process.env['KTS_CNI_BRIDGE'],
      dataDir: path.join(opts.rootDir, 'cni', 'networks'),
    });
    const auth = writeRegistryHosts(paths.certsDir, opts.registryConfig ? readRegistriesConfig(opts.registryConfig) : {});
    fs.writeFileSync(paths.config, containerdConfig({ paths, pauseImage, cniConfDir, cniBinDir: cniBin ?? '/usr/lib/cni', registryAuthToml: auth }));
    supervisor = new ContainerdSupervisor({ paths, log });
    await supervisor.start();
    socket = paths.socket;
  } else {
    await waitForCRI(socket, 10_000);
  }
  const rt = new CRIRuntime(new CRIClient(socket), socket, log, supervisor);
  if (supervisor) await rt.ensurePauseImage(pauseImage, path.join(opts.rootDir, 'containerd', 'tmp'));
  return rt;
}

function sandboxRequestConfig(c: PodSandboxConfig, privileged = false): Msg {
  const labels: Record<string, string> = {
    'io.kubernetes.pod.name': c.name,
    'io.kubernetes.pod.namespace': c.namespace,
    'io.kubernetes.pod.uid': c.uid,
    ...c.labels,
  };
  return {
    metadata: { name: c.name, uid: c.uid, namespace: c.namespace, attempt: c.attempt },
    hostname: c.hostNetwork ? '' : c.hostname,
    logDirectory: c.logDirectory,
    dnsConfig: c.dns,
    portMappings: c.portMappings.map((p) => ({
      protocol: enumValue('Protocol', p.protocol),
      containerPort: p.containerPort,
      hostPort: p.hostPort ?? 0,
      hostIp: p.hostIp ?? '',
    })),
    labels,
    annotations: c.annotations,
    linux: {
      cgroupParent: c.cgroupParent ?? '',
      securityContext: {
        namespaceOptions: { network: c.hostNetwork ? 2 : 0, pid: 1, ipc: 0 },
        privileged,
      },
    },
  };
}

function int64Value(v: unknown): Msg | undefined {
  return typeof v === 'number' ? { value: v } : undefined;
}

function securityContext(sc: Record<string, unknown> | undefined, sandbox: PodSandboxConfig): Msg {
  const caps = (sc?.capabilities ?? {}) as { add?: string[]; drop?: string[] };
  const out: Msg = {
    namespaceOptions: { network: sandbox.hostNetwork ? 2 : 0, pid: 1, ipc: 0 },
    privileged: sc?.privileged === true,
    runAsUser: int64Value(sc?.runAsUser),
    runAsGroup: int64Value(sc?.runAsGroup),
    readonlyRootfs: sc?.readOnlyRootFilesystem === true,
    noNewPrivs: sc?.allowPrivilegeEscalation === false,
    supplementalGroups: Array.isArray(sc?.supplementalGroups) ? sc.supplementalGroups : [],
  };
  if (caps.add?.length || caps.drop?.length) {
    const norm = (c: string) => (c === 'ALL' || c.startsWith('CAP_') ? c : `CAP_${c}`);
    out.capabilities = { addCapabilities: (caps.add ?? []).map(norm), dropCapabilities: (caps.drop ?? []).map(norm) };
  }
  return out;
}

class CRIRuntime implements ContainerRuntime {
  readonly type = 'cri' as const;
  /** container id → sandbox id (ContainerStatus does not carry it). */
  private readonly sandboxOf = new Map<string, string>();
  private versionInfo?: { name: string; version: string };

  constructor(
    readonly client: CRIClient,
    readonly socket: string,
    private readonly log: Logger,
    private readonly supervisor?: ContainerdSupervisor,
  ) {}

  async version(): Promise<{ name: string; version: string }> {
    if (!this.versionInfo) {
      const v = await this.client.call('Version', { version: 'v1' });
      this.versionInfo = { name: v.runtimeName || 'containerd', version: v.runtimeVersion };
    }
    return this.versionInfo;
  }

  limitations(): string | undefined {
    return undefined;
  }

  /** Makes sure the sandbox image exists locally: builds it from busybox-static when missing. */
  async ensurePauseImage(image: string, workDir: string): Promise<void> {
    if (await this.imageStatus(image)) return;
    if (!busyboxPath()) {
      this.log.warn('sandbox image is not present and busybox-static is not installed to build one; RunPodSandbox will try to pull it', { image });
      return;
    }
    this.log.info('building the sandbox image locally (busybox sh that sleeps until SIGTERM)', { image });
    await buildAndImport(this.socket, [pauseImageSpec(image)], workDir);
  }

  // ---- sandboxes ----------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    fs.mkdirSync(config.logDirectory, { recursive: true });
    const res = await this.client.call('RunPodSandbox', { config: sandboxRequestConfig(config) }, { timeoutMs: 4 * 60_000 });
    return res.podSandboxId as string;
  }

  async stopPodSandbox(id: string): Promise<void> {
    try {
      await this.client.call('StopPodSandbox', { podSandboxId: id }, { timeoutMs: 4 * 60_000 });
    } catch (err) {
      if (!(err instanceof CRIError && err.notFound)) throw err;
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    try {
      await this.client.call('RemovePodSandbox', { podSandboxId: id }, { timeoutMs: 4 * 60_000 });
    } catch (err) {
      if (!(err instanceof CRIError && err.notFound)) throw err;
    }
    for (const [c, s] of this.sandboxOf) if (s === id) this.sandboxOf.delete(c);
  }

  async podSandboxStatus(id: string): Promise<SandboxStatus | undefined> {
    let res: Msg;
    try {
      res = await this.client.call('PodSandboxStatus', { podSandboxId: id });
    } catch (err) {
      if (err instanceof CRIError && err.notFound) return undefined;
      throw err;
    }
    const s = res.status as Msg | undefined;
    if (!s) return undefined;
    const ips: string[] = [];
    if (s.network?.ip) ips.push(s.network.ip);
    for (const a of s.network?.additionalIps ?? []) if (a.ip) ips.push(a.ip);
    return {
      id: s.id,
      uid: s.metadata?.uid ?? '',
      name: s.metadata?.name ?? '',
      namespace: s.metadata?.namespace ?? '',
      attempt: s.metadata?.attempt ?? 0,
      state: s.state === 0 ? 'ready' : 'notready',
      createdAt: nsToMs(s.createdAt),
      ips,
      labels: s.labels,
      annotations: s.annotations,
    };
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    const res = await this.client.call('ListPodSandbox', {});
    const items = res.items as Msg[];
    const out = await Promise.all(
      items.map(async (s): Promise<SandboxStatus> => {
        const full = s.state === 0 ? await this.podSandboxStatus(s.id).catch(() => undefined) : undefined;
        return (
          full ?? {
            id: s.id,
            uid: s.metadata?.uid ?? '',
            name: s.metadata?.name ?? '',
            namespace: s.metadata?.namespace ?? '',
            attempt: s.metadata?.attempt ?? 0,
            state: s.state === 0 ? 'ready' : 'notready',
            createdAt: nsToMs(s.createdAt),
            ips: [],
            labels: s.labels,
            annotations: s.annotations,
          }
        );
      }),
    );
    return out;
  }

  // ---- images -------------------------------------------------------------------------------

  async pullImage(image: string, auth?: { username?: string; password?: string; auth?: string; serverAddress?: string }): Promise<string> {
    try {
      const res = await this.client.call('PullImage', { image: { image }, auth: auth && Object.values(auth).some(Boolean) ? auth : undefined }, { timeoutMs: 30 * 60_000 });
      return res.imageRef as string;
    } catch (err) {
      if (err instanceof CRIError) throw new ImagePullError(err.message);
      throw err;
    }
  }

  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    const res = await this.client.call('ImageStatus', { image: { image } });
    const i = res.image as Msg | undefined;
    if (!i || !i.id) return undefined;
    return { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size };
  }

  async listImages(): Promise<ImageInfo[]> {
    const res = await this.client.call('ListImages', {});
    return (res.images as Msg[]).map((i) => ({ id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size }));
  }

  async removeImage(image: string): Promise<void> {
    try {
      await this.client.call('RemoveImage', { image: { image } });
    } catch (err) {
      if (!(err instanceof CRIError && err.notFound)) throw err;
    }
  }

  // ---- containers ---------------------------------------------------------------------------

  async createContainer(sandboxId: string, c: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const sc = securityContext(c.securityContext, sandbox);
    const r = c.resources;
    const labels: Record<string, string> = {
      'io.kubernetes.container.name': c.name,
      'io.kubernetes.pod.name': sandbox.name,
      'io.kubernetes.pod.namespace': sandbox.namespace,
      'io.kubernetes.pod.uid': sandbox.uid,
      ...c.labels,
    };
    const config: Msg = {
      metadata: { name: c.name, attempt: c.attempt },
      image: { image: c.image },
      command: c.command,
      args: c.args,
      workingDir: c.workingDir ?? '',
      envs: c.env.map((e) => ({ key: e.name, value: e.value })),
      mounts: c.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly })),
      labels,
      annotations: c.annotations,
      logPath: c.logPath,
      stdin: c.stdin,
      stdinOnce: c.stdinOnce,
      tty: c.tty,
      linux: {
        // containerd (restrict_oom_score_adj) raises an oomScoreAdj below its own to its own
        resources: r
          ? { cpuShares: r.cpuShares ?? 0, cpuQuota: r.cpuQuota ?? 0, cpuPeriod: r.cpuPeriod ?? 0, memoryLimitInBytes: r.memoryLimitBytes ?? 0, oomScoreAdj: r.oomScoreAdj ?? 0 }
          : undefined,
        securityContext: sc,
      },
    };
    // containerd refuses a privileged container unless the sandbox config it is given says privileged
    const res = await this.client.call('CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig: sandboxRequestConfig(sandbox, sc.privileged === true) });
    const id = res.containerId as string;
    this.sandboxOf.set(id, sandboxId);
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.client.call('StartContainer', { containerId: id });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.client.call('StopContainer', { containerId: id, timeout: Math.max(0, Math.floor(timeoutSeconds)) }, { timeoutMs: (timeoutSeconds + 60) * 1000 });
    } catch (err) {
      if (!(err instanceof CRIError && err.notFound)) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.client.call('RemoveContainer', { containerId: id });
    } catch (err) {
      if (!(err instanceof CRIError && err.notFound)) throw err;
    }
    this.sandboxOf.delete(id);
  }

  private async sandboxIdOf(id: string): Promise<string> {
    let s = this.sandboxOf.get(id);
    if (!s) {
      const res = await this.client.call('ListContainers', { filter: { id } });
      s = (res.containers as Msg[])[0]?.podSandboxId ?? '';
      if (s) this.sandboxOf.set(id, s);
    }
    return s ?? '';
  }

  async containerStatus(id: string, sandboxId?: string): Promise<ContainerStatus | undefined> {
    let res: Msg;
    try {
      res = await this.client.call('ContainerStatus', { containerId: id });
    } catch (err) {
      if (err instanceof CRIError && err.notFound) return undefined;
      throw err;
    }
    const s = res.status as Msg | undefined;
    if (!s) return undefined;
    return {
      id: s.id,
      sandboxId: sandboxId ?? (await this.sandboxIdOf(id)),
      name: s.metadata?.name ?? '',
      attempt: s.metadata?.attempt ?? 0,
      state: CONTAINER_STATES[s.state] ?? 'unknown',
      createdAt: nsToMs(s.createdAt),
      startedAt: nsToMs(s.startedAt),
      finishedAt: nsToMs(s.finishedAt),
      exitCode: s.exitCode,
      reason: s.reason || undefined,
      message: s.message || undefined,
      image: s.image?.image ?? '',
      imageRef: s.imageRef,
      logPath: s.logPath,
      labels: s.labels,
      annotations: s.annotations,
    };
  }

  async listContainers(): Promise<ContainerStatus[]> {
    const res = await this.client.call('ListContainers', {});
    const list = res.containers as Msg[];
    for (const c of list) this.sandboxOf.set(c.id, c.podSandboxId);
    const out = await Promise.all(list.map((c) => this.containerStatus(c.id, c.podSandboxId).catch(() => undefined)));
    return out.filter((x): x is ContainerStatus => x !== undefined);
  }

  // ---- stats ------------------------------------------------------------------------------

  async listContainerStats(): Promise<ContainerStats[]> {
    const res = await this.client.call('ListContainerStats', {});
    const u = (v: Msg | undefined): number | undefined => (v && typeof v.value === 'number' ? v.value : undefined);
    return (res.stats as Msg[]).map((s) => ({
      id: s.attributes?.id ?? '',
      name: s.attributes?.metadata?.name ?? '',
      labels: s.attributes?.labels ?? {},
      timestamp: nsToMs(s.cpu?.timestamp || s.memory?.timestamp) || Date.now(),
      cpuUsageCoreNanoSeconds: u(s.cpu?.usageCoreNanoSeconds),
      cpuUsageNanoCores: u(s.cpu?.usageNanoCores),
      memoryWorkingSetBytes: u(s.memory?.workingSetBytes),
      memoryUsageBytes: u(s.memory?.usageBytes),
      memoryRssBytes: u(s.memory?.rssBytes),
      memoryAvailableBytes: u(s.memory?.availableBytes),
      pageFaults: u(s.memory?.pageFaults),
      majorPageFaults: u(s.memory?.majorPageFaults),
      writableLayerUsedBytes: u(s.writableLayer?.usedBytes),
    }));
  }

  /** After the kubelet renamed the log to rotate it: containerd closes it and creates the path anew. */
  async reopenContainerLog(id: string): Promise<void> {
    await this.client.call('ReopenContainerLog', { containerId: id });
  }

  // ---- exec, attach, port-forward -----------------------------------------------------------

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    const res = await this.client.call(
      'ExecSync',
      { containerId, cmd, timeout: Math.max(0, Math.floor(timeoutSeconds)) },
      { timeoutMs: ((timeoutSeconds > 0 ? timeoutSeconds : 600) + 10) * 1000 },
    );
    return { stdout: Buffer.from(res.stdout).toString('utf8'), stderr: Buffer.from(res.stderr).toString('utf8'), exitCode: res.exitCode };
  }

  async exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession> {
    const res = await this.client.call('Exec', { containerId, cmd, tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr && !opts.tty });
    return execStream(res.url as string, opts);
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const res = await this.client.call('Attach', { containerId, tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr && !opts.tty });
    return attachStream(res.url as string, opts);
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const res = await this.client.call('PortForward', { podSandboxId: sandboxId, port: [port] });
    return portForwardStream(res.url as string, port);
  }

  async close(): Promise<void> {
    this.client.close();
    await this.supervisor?.stop();
  }
}
