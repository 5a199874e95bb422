// The `process` runtime: containers are host processes, for machines without a container
// runtime. What works: command + args, env, working directory, logs (CRI format), restarts,
// exec (probes, hooks, kubectl exec), attach to stdio, port-forward (to 127.0.0.1: process
// containers share the host network, so the pod IP is the node IP).
//
// What cannot work, and what we do instead (also returned by limitations(), which the kubelet
// posts as a Warning event on each pod):
// - No image filesystem: the image is not pulled or unpacked; the command runs from the host.
//   A container without `command` fails with CreateContainerConfigError "process runtime needs
//   an explicit command", except pause images (registry.k8s.io/pause, k8s.gcr.io/pause), which
//   run `sleep infinity`. The image name only feeds status.image/imageID.
// - No mount namespace: each container gets a directory <rootDir>/process/containers/<id>/root
//   (its working directory unless spec.workingDir says otherwise, then that directory under
//   root if it is not an existing absolute host path), in which every volume mount appears as a
//   symlink at its containerPath (root/etc/config → the volume's host directory). Absolute
//   container paths of mounts written in command, args and env values are rewritten to the
//   volume's host path, so `cat /etc/config/key` reads the mounted file. $KTS_CONTAINER_ROOT
//   names the root directory.
// - No isolation: no PID/network/user namespaces, no cgroup limits (no OOMKilled), TTYs are
//   plain pipes (no terminal resize).
// - Stats: a container's usage is its process tree's, read from /proc: the session its main
//   process leads (CPU: utime+stime plus reaped children's cutime+cstime; memory: the sum of
//   VmRSS, reported as the working set, since there is no cgroup to read).
// Containers run in their own process group; stop sends SIGTERM to the group, then SIGKILL.
// Children are tied to this process (their stdio is ours), so close() stops them: a restarted
// kts starts the pods' containers again instead of re-adopting them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, existsSync, lstatSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { CRILogWriter } from '../logs.js';
import { ContainerConfigError } from './errors.js';
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ExecResult,
  ImageInfo,
  PodSandboxConfig,
  SandboxStatus,
  StreamOptions,
  StreamSession,
} from './types.js';
import { createHash } from 'node:crypto';

export const PROCESS_RUNTIME_VERSION = '1.0.0-kts';

const LIMITATIONS =
  'The process runtime runs containers as host processes: images are not pulled or unpacked (the command runs from the host), ' +
  'volumes appear as symlinks under the container directory (absolute mount paths in command, args and env are rewritten), ' +
  'and there is no isolation, no cgroup limits and no TTY.';

interface Sandbox {
  id: string;
  config: PodSandboxConfig;
  state: 'ready' | 'notready';
  createdAt: number;
  ips: string[];
}

interface Container {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  dir: string;
  root: string;
  cwd: string;
  env: Record<string, string>;
  argv: string[];
  logPath: string;
  state: 'created' | 'running' | 'exited';
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason?: string;
  message?: string;
  child?: ChildProcess;
  log?: CRILogWriter;
  exited?: Promise<void>;
  attachOut: Set<PassThrough>;
  attachErr: Set<PassThrough>;
  image: string;
  imageRef: string;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

const PAUSE = /^(registry\.k8s\.io|k8s\.gcr\.io|gcr\.io\/google[_-]containers)\/pause(:|@|$)/;

/** The image reference containerd would report (docker.io/library/x:latest) and a stable digest. */
export function imageRefFor(image: string): { name: string; ref: string } {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (!last.includes(':') && !name.includes('@')) name += ':latest';
  if (name.includes('@')) return { name, ref: name };
  const repo = name.slice(0, name.lastIndexOf(':'));
  return { name, ref: `${repo}@sha256:${createHash('sha256').update(name).digest('hex')}` };
}

/** Rewrites absolute mount paths inside a string to their host paths (longest first). */
export function rewriteMountPaths(s: string, mounts: { containerPath: string; hostPath: string }[]): string {
  const sorted = [...mounts].filter((m) => isAbsolute(m.containerPath) && m.containerPath !== '/').sort((a, b) => b.containerPath.length - a.containerPath.length);
  if (!sorted.length) return s;
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s"'=:;(<>|&])(${sorted.map((m) => esc(m.containerPath.replace(/\/+$/, ''))).join('|')})(?=$|[/\\s"';:)<>|&])`, 'g');
  return s.replace(re, (_all, pre: string, path: string) => pre + sorted.find((m) => m.containerPath.replace(/\/+$/, '') === path)!.hostPath);
}

export class ProcessRuntime implements ContainerRuntime {
  readonly type = 'process' as const;
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  private readonly images = new Map<string, ImageInfo>();

  constructor(
    readonly rootDir: string,
    private readonly opts: { hostIP?: string } = {},
  ) {
    mkdirSync(join(rootDir, 'process', 'containers'), { recursive: true });
  }

  async version(): Promise<{ name: string; version: string }> {
    return { name: 'process', version: PROCESS_RUNTIME_VERSION };
  }

  limitations(): string {
    return LIMITATIONS;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    mkdirSync(config.logDirectory, { recursive: true });
    this.sandboxes.set(id, { id, config, state: 'ready', createdAt: Date.now(), ips: this.opts.hostIP ? [this.opts.hostIP] : [] });
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sb = this.sandboxes.get(id);
    if (!sb) return;
    await Promise.all([...this.containers.values()].filter((c) => c.sandboxId === id && c.state === 'running').map((c) => this.stopContainer(c.id, 0)));
    sb.state = 'notready';
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.stopPodSandbox(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) await this.removeContainer(c.id);
    this.sandboxes.delete(id);
  }

  async podSandboxStatus(id: string): Promise<SandboxStatus | undefined> {
    const sb = this.sandboxes.get(id);
    return sb && this.sandboxStatus(sb);
  }

  private sandboxStatus(sb: Sandbox): SandboxStatus {
    const c = sb.config;
    return { id: sb.id, uid: c.uid, name: c.name, namespace: c.namespace, attempt: c.attempt, state: sb.state, createdAt: sb.createdAt, ips: sb.ips, labels: c.labels, annotations: c.annotations };
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()].map((s) => this.sandboxStatus(s));
  }

  async pullImage(image: string): Promise<string> {
    const { name, ref } = imageRefFor(image);
    this.images.set(name, { id: ref.slice(ref.indexOf('@') + 1), repoTags: [name], repoDigests: [ref], size: 0 });
    return ref;
  }

  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    // Every image is "present": nothing is ever downloaded.
    const { name, ref } = imageRefFor(image);
    return this.images.get(name) ?? { id: ref.slice(ref.indexOf('@') + 1), repoTags: [name], repoDigests: [ref], size: 0 };
  }

  async listImages(): Promise<ImageInfo[]> {
    return [...this.images.values()];
  }

  async removeImage(image: string): Promise<void> {
    this.images.delete(imageRefFor(image).name);
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`sandbox ${sandboxId} not found`);
    let argv = [...config.command, ...config.args];
    if (!config.command.length) {
      if (PAUSE.test(imageRefFor(config.image).name) || PAUSE.test(config.image)) argv = ['sleep', 'infinity'];
      else throw new ContainerConfigError('process runtime needs an explicit command');
    }
    const id = newId();
    const dir = join(this.rootDir, 'process', 'containers', id);
    const root = join(dir, 'root');
    mkdirSync(root, { recursive: true });
    for (const m of config.mounts) {
      if (!isAbsolute(m.containerPath)) continue;
      const link = join(root, m.containerPath);
      mkdirSync(dirname(link), { recursive: true });
      try {
        if (existsSync(link) || lstatExists(link)) rmSync(link, { recursive: true, force: true });
        symlinkSync(m.hostPath, link);
      } catch {
        // best effort: the path rewriting still points at the host path
      }
    }
    let cwd = root;
    if (config.workingDir) {
      const inRoot = join(root, config.workingDir);
      if (isAbsolute(config.workingDir) && isDir(config.workingDir) && !config.mounts.some((m) => config.workingDir!.startsWith(m.containerPath))) cwd = config.workingDir;
      else {
        const rewritten = rewriteMountPaths(config.workingDir, config.mounts);
        if (rewritten !== config.workingDir) cwd = rewritten;
        else {
          mkdirSync(inRoot, { recursive: true });
          cwd = inRoot;
        }
      }
    }
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: sandbox.hostname,
      HOME: '/root',
      KTS_CONTAINER_ROOT: root,
    };
    for (const e of config.env) env[e.name] = rewriteMountPaths(e.value, config.mounts);
    argv = argv.map((a) => rewriteMountPaths(a, config.mounts));
    const logPath = join(sandbox.logDirectory, config.logPath);
    const { name, ref } = imageRefFor(config.image);
    this.containers.set(id, {
      id,
      sandboxId,
      config,
      dir,
      root,
      cwd,
      env,
      argv,
      logPath,
      state: 'created',
      createdAt: Date.now(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      attachOut: new Set(),
      attachErr: new Set(),
      image: name,
      imageRef: ref,
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    if (c.state !== 'created') throw new Error(`container ${id} is ${c.state}, not created`);
    const log = new CRILogWriter(c.logPath);
    c.log = log;
    const child = spawn(c.argv[0]!, c.argv.slice(1), {
      cwd: c.cwd,
      env: c.env,
      detached: true,
      stdio: [c.config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    c.child = child;
    let resolveExit!: () => void;
    c.exited = new Promise((r) => (resolveExit = r));
    const failed = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (failed) {
      c.state = 'exited';
      c.startedAt = c.finishedAt = Date.now();
      c.exitCode = 128;
      c.reason = 'StartError';
      const msg = (failed as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${c.argv[0]}": executable file not found in $PATH` : failed.message;
      c.message = msg;
      await log.close();
      resolveExit();
      throw new Error(`failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${msg}: unknown`);
    }
    c.state = 'running';
    c.startedAt = Date.now();
    child.stdout!.on('data', (d: Buffer) => {
      log.write('stdout', d);
      for (const p of c.attachOut) p.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      log.write('stderr', d);
      for (const p of c.attachErr) p.write(d);
    });
    child.stdin?.on('error', () => {});
    child.once('exit', (code, signal) => {
      c.state = 'exited';
      c.finishedAt = Date.now();
      c.exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
      c.reason = c.exitCode === 0 ? 'Completed' : 'Error';
      // Wait for the pipes to drain before the log closes.
      let open = 2;
      const end = () => {
        if (--open > 0) return;
        void log.close().then(() => {
          for (const p of [...c.attachOut, ...c.attachErr]) p.end();
          resolveExit();
        });
      };
      if (child.stdout!.readableEnded) end();
      else child.stdout!.once('close', end);
      if (child.stderr!.readableEnded) end();
      else child.stderr!.once('close', end);
    });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state !== 'running' || !c.child?.pid) return;
    const pid = c.child.pid;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          c.child?.kill(sig);
        } catch {
          // gone
        }
      }
    };
    kill('SIGTERM');
    const t = setTimeout(() => kill('SIGKILL'), Math.max(0, timeoutSeconds) * 1000);
    await c.exited;
    clearTimeout(t);
    // Children of the main process that ignored SIGTERM go with the group.
    kill('SIGKILL');
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    if (c.state === 'running') await this.stopContainer(id, 0);
    this.containers.delete(id);
    rmSync(c.dir, { recursive: true, force: true });
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(id);
    return c && this.statusOf(c);
  }

  private statusOf(c: Container): ContainerStatus {
    return {
      id: c.id,
      sandboxId: c.sandboxId,
      name: c.config.name,
      attempt: c.config.attempt,
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      reason: c.state === 'exited' ? c.reason : undefined,
      message: c.state === 'exited' ? c.message : undefined,
      image: c.image,
      imageRef: c.imageRef,
      logPath: c.logPath,
      labels: c.config.labels,
      annotations: c.config.annotations,
    };
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.containers.values()].map((c) => this.statusOf(c));
  }

  private spawnIn(c: Container, cmd: string[], stdio: ('pipe' | 'ignore')[]): ChildProcess {
    if (!cmd.length) throw new Error('exec: no command');
    return spawn(cmd[0]!, cmd.slice(1).map((a) => rewriteMountPaths(a, c.config.mounts)), { cwd: c.cwd, env: c.env, stdio: stdio as ('pipe' | 'ignore')[], detached: true });
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    const c = this.containers.get(containerId);
    if (!c || c.state !== 'running') throw new Error(`container not running (${containerId})`);
    const child = this.spawnIn(c, cmd, ['ignore', 'pipe', 'pipe']);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const t = timeoutSeconds > 0 ? setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutSeconds * 1000) : undefined;
      child.once('error', (e) => {
        if (t) clearTimeout(t);
        const code = (e as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? `OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd[0]}": executable file not found in $PATH: unknown` : e.message));
      });
      child.once('close', (code, signal) => {
        if (t) clearTimeout(t);
        if (timedOut) return reject(new Error(`command ${JSON.stringify(cmd.join(' '))} timed out`));
        resolve({ stdout, stderr, exitCode: code ?? 128 + (signal ? signalNumber(signal) : 0) });
      });
    });
  }

  async exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession> {
    const c = this.containers.get(containerId);
    if (!c || c.state !== 'running') throw new Error(`container not running (${containerId})`);
    const child = this.spawnIn(c, cmd, [opts.stdin ? 'pipe' : 'ignore', opts.stdout ? 'pipe' : 'ignore', opts.stderr && !opts.tty ? 'pipe' : opts.tty && opts.stdout ? 'pipe' : 'ignore']);
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawned) {
      const code = (spawned as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd[0]}": executable file not found in $PATH: unknown` : spawned.message);
    }
    child.stdin?.on('error', () => {});
    const done = new Promise<{ exitCode: number; message?: string }>((resolve) => child.once('close', (code, signal) => resolve({ exitCode: code ?? 128 + (signal ? signalNumber(signal) : 0) })));
    // With a TTY there is one output stream (stderr merged into stdout).
    let stdout = child.stdout ?? undefined;
    if (opts.tty && child.stdout && child.stderr) {
      const merged = new PassThrough();
      let open = 2;
      for (const s of [child.stdout, child.stderr]) {
        s.on('data', (d: Buffer) => merged.write(d));
        s.on('end', () => --open === 0 && merged.end());
      }
      stdout = merged;
    }
    return {
      stdin: child.stdin ?? undefined,
      stdout,
      stderr: opts.tty ? undefined : (child.stderr ?? undefined),
      resize: () => {},
      done,
      close: () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      },
    };
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const c = this.containers.get(containerId);
    if (!c || c.state !== 'running') throw new Error(`container not running (${containerId})`);
    const out = opts.stdout ? new PassThrough() : undefined;
    const err = opts.stderr && !opts.tty ? new PassThrough() : undefined;
    if (out) c.attachOut.add(out);
    if (err) c.attachErr.add(err);
    if (opts.tty && out) c.attachErr.add(out);
    let stdin: PassThrough | undefined;
    if (opts.stdin && c.child?.stdin) {
      stdin = new PassThrough();
      stdin.on('data', (d: Buffer) => c.child?.stdin?.write(d));
      stdin.on('end', () => {
        if (c.config.stdinOnce) c.child?.stdin?.end();
      });
    }
    const detach = () => {
      if (out) c.attachOut.delete(out), c.attachErr.delete(out);
      if (err) c.attachErr.delete(err);
    };
    const done = (c.exited ?? Promise.resolve()).then(() => ({ exitCode: c.exitCode }));
    return {
      stdin,
      stdout: out,
      stderr: err,
      resize: () => {},
      done,
      close: () => {
        detach();
        out?.end();
        err?.end();
      },
    };
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`sandbox ${sandboxId} not found`);
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  /** CRI ListContainerStats for running containers, from /proc (see the header). */
  async listContainerStats(): Promise<ContainerStats[]> {
    const running = [...this.containers.values()].filter((c) => c.state === 'running' && c.child?.pid);
    if (!running.length) return [];
    const timestamp = Date.now();
    const usage = sessionUsage(new Set(running.map((c) => c.child!.pid!)));
    return running.flatMap((c) => {
      const u = usage.get(c.child!.pid!);
      if (!u) return [];
      return [{
        id: c.id,
        name: c.config.name,
        labels: c.config.labels,
        timestamp,
        cpuUsageCoreNanoSeconds: u.cpuNs,
        memoryWorkingSetBytes: u.rssBytes,
        memoryUsageBytes: u.rssBytes,
        memoryRssBytes: u.rssBytes,
      }];
    });
  }

  /** Stops every container (their stdio is this process's: they cannot outlive it usefully). */
  async close(): Promise<void> {
    await Promise.all([...this.containers.values()].filter((c) => c.state === 'running').map((c) => this.stopContainer(c.id, 2)));
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = (
    { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 } as Record<string, number>
  )[sig];
  return n ?? 0;
}

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/**
 * CPU (cumulative ns) and resident memory (bytes) of every process in each of `sessions` (session
 * ids: a container's main process is spawned detached, so it leads its own session).
 */
export function sessionUsage(sessions: Set<number>, procDir = '/proc'): Map<number, { cpuNs: number; rssBytes: number }> {
  const out = new Map<number, { cpuNs: number; rssBytes: number }>();
  let pids: string[];
  try {
    pids = readdirSync(procDir).filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(join(procDir, pid, 'stat'), 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name, which may itself hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sid = Number(f[3]);
    if (!sessions.has(sid)) continue;
    // utime stime cutime cstime are fields 14–17 (f[11]..f[14]); rss (pages) is field 24 (f[21]).
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    let rss = Number(f[21]) * 4096;
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(join(procDir, pid, 'status'), 'utf8'));
      if (m) rss = Number(m[1]) * 1024;
    } catch {
      // keep the page estimate
    }
    const u = out.get(sid) ?? { cpuNs: 0, rssBytes: 0 };
    u.cpuNs += Math.round((ticks * 1e9) / USER_HZ);
    u.rssBytes += rss;
    out.set(sid, u);
  }
  return out;
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
