// The `fake` runtime: no processes. Containers "run" until stopped, or exit after the pod's
// `kts.dev/simulated-duration` annotation (e.g. "5s") with `kts.dev/simulated-exit-code`
// (default 0) — the same annotations the simulated nodes honour. Pods with restartPolicy
// Never/OnFailure and no duration annotation run forever here (the kubelet decides restarts).
// Sandboxes get IPs from the pod CIDR given at construction (else none: the node IP is used).
// exec runs nothing: execSync succeeds with empty output (probes pass), interactive exec and
// attach end at once, port-forward is refused.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { PodIPPool } from '../simulated/ipam.js';
import { parseDuration } from '../simulated/pod.js';
import { DURATION_ANNOTATION, EXIT_CODE_ANNOTATION } from '../simulated/node.js';
import { imageRefFor } from './process.js';
import type { ContainerConfig, ContainerRuntime, ContainerStatus, ExecResult, ImageInfo, PodSandboxConfig, SandboxStatus, StreamOptions, StreamSession } from './types.js';
import type { Clock } from '../../controllers/context.js';
import { realClock } from '../../controllers/context.js';

interface FakeContainer {
  status: ContainerStatus;
  timer?: { cancel(): void };
  sandbox: PodSandboxConfig;
}

export class FakeRuntime implements ContainerRuntime {
  readonly type = 'fake' as const;
  private readonly sandboxes = new Map<string, SandboxStatus>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly images = new Map<string, ImageInfo>();
  private pool?: PodIPPool;

  constructor(private readonly opts: { podCIDR?: string; clock?: Clock } = {}) {
    if (opts.podCIDR) this.pool = new PodIPPool(opts.podCIDR);
  }

  setPodCIDR(cidr: string): void {
    if (!this.pool) this.pool = new PodIPPool(cidr);
  }

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  async version() {
    return { name: 'fake', version: '1.0.0-kts' };
  }

  limitations(): string {
    return 'The fake runtime runs no processes: containers are simulated (kts.dev/simulated-duration and kts.dev/simulated-exit-code annotations end them).';
  }

  async runPodSandbox(c: PodSandboxConfig): Promise<string> {
    const id = randomBytes(32).toString('hex');
    const ip = c.hostNetwork ? undefined : this.pool?.allocate();
    this.sandboxes.set(id, { id, uid: c.uid, name: c.name, namespace: c.namespace, attempt: c.attempt, state: 'ready', createdAt: this.clock.now().getTime(), ips: ip ? [ip] : [], labels: c.labels, annotations: c.annotations });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sb = this.sandboxes.get(id);
    if (!sb) return;
    for (const c of this.containers.values()) if (c.status.sandboxId === id) await this.stopContainer(c.status.id, 0);
    sb.state = 'notready';
    for (const ip of sb.ips) this.pool?.release(ip);
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.stopPodSandbox(id);
    for (const [cid, c] of this.containers) if (c.status.sandboxId === id) this.containers.delete(cid);
    this.sandboxes.delete(id);
  }

  async podSandboxStatus(id: string) {
    return this.sandboxes.get(id);
  }

  async listPodSandboxes() {
    return [...this.sandboxes.values()];
  }

  async pullImage(image: string): Promise<string> {
    const { name, ref } = imageRefFor(image);
    this.images.set(name, { id: ref.slice(ref.indexOf('@') + 1), repoTags: [name], repoDigests: [ref], size: 0 });
    return ref;
  }

  async imageStatus(image: string) {
    return this.images.get(imageRefFor(image).name);
  }

  async listImages() {
    return [...this.images.values()];
  }

  async removeImage(image: string) {
    this.images.delete(imageRefFor(image).name);
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const id = randomBytes(32).toString('hex');
    const { name, ref } = imageRefFor(config.image);
    this.containers.set(id, {
      sandbox,
      status: {
        id,
        sandboxId,
        name: config.name,
        attempt: config.attempt,
        state: 'created',
        createdAt: this.clock.now().getTime(),
        startedAt: 0,
        finishedAt: 0,
        exitCode: 0,
        image: name,
        imageRef: ref,
        logPath: `${sandbox.logDirectory}/${config.logPath}`,
        labels: config.labels,
        annotations: config.annotations,
      },
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    c.status.state = 'running';
    c.status.startedAt = this.clock.now().getTime();
    const dur = parseDuration(c.sandbox.annotations[DURATION_ANNOTATION]);
    if (dur !== undefined) {
      const code = Number(c.sandbox.annotations[EXIT_CODE_ANNOTATION] ?? 0) || 0;
      c.timer = this.clock.setTimeout(() => this.exit(c, code), dur);
    }
  }

  private exit(c: FakeContainer, code: number): void {
    if (c.status.state !== 'running') return;
    c.timer?.cancel();
    c.status.state = 'exited';
    c.status.exitCode = code;
    c.status.finishedAt = this.clock.now().getTime();
    c.status.reason = code === 0 ? 'Completed' : 'Error';
  }

  async stopContainer(id: string, _timeoutSeconds?: number): Promise<void> {
    const c = this.containers.get(id);
    if (c) this.exit(c, c.status.state === 'running' ? 137 : c.status.exitCode);
  }

  async removeContainer(id: string) {
    this.containers.get(id)?.timer?.cancel();
    this.containers.delete(id);
  }

  async containerStatus(id: string) {
    const c = this.containers.get(id);
    return c && { ...c.status };
  }

  async listContainers() {
    return [...this.containers.values()].map((c) => ({ ...c.status }));
  }

  async execSync(): Promise<ExecResult> {
    return { stdout: '', stderr: '', exitCode: 0 };
  }

  async exec(_id: string, _cmd: string[], opts: StreamOptions): Promise<StreamSession> {
    return this.emptySession(opts);
  }

  async attach(_id: string, opts: StreamOptions): Promise<StreamSession> {
    return this.emptySession(opts);
  }

  private emptySession(opts: StreamOptions): StreamSession {
    const out = opts.stdout ? new PassThrough() : undefined;
    out?.end();
    return { stdout: out, done: Promise.resolve({ exitCode: 0 }), close: () => {} };
  }

  async portForward(): Promise<Duplex> {
    throw new Error('the fake runtime has no network to forward to');
  }

  async close(): Promise<void> {
    for (const c of this.containers.values()) c.timer?.cancel();
  }
}
