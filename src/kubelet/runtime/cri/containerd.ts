// Our own containerd, as k3s runs one: a generated config under <rootDir>/containerd/, a
// supervised child process (restarted if it dies), stopped on close. Containers outlive it:
// each one has its own shim, and a restarted containerd finds them again in its state dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../../../util/log.js';
import { CRIClient } from './client.js';

export interface ContainerdPaths {
  dir: string;
  config: string;
  socket: string;
  root: string;
  state: string;
  runcRoot: string;
  certsDir: string;
  log: string;
}

export function containerdPaths(rootDir: string): ContainerdPaths {
  const dir = path.join(rootDir, 'containerd');
  return {
    dir,
    config: path.join(dir, 'config.toml'),
    socket: path.join(dir, 'containerd.sock'),
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    runcRoot: path.join(dir, 'runc'),
    certsDir: path.join(dir, 'certs.d'),
    log: path.join(dir, 'containerd.log'),
  };
}

/** k3s's registries.yaml shape. */
export interface RegistriesConfig {
  mirrors?: Record<string, { endpoint?: string[]; rewrite?: Record<string, string> }>;
  configs?: Record<
    string,
    {
      auth?: { username?: string; password?: string; auth?: string; identitytoken?: string };
      tls?: { ca_file?: string; cert_file?: string; key_file?: string; insecure_skip_verify?: boolean };
    }
  >;
}

export function readRegistriesConfig(file: string): RegistriesConfig {
  const doc = parseYaml(fs.readFileSync(file, 'utf8')) as RegistriesConfig | null;
  return doc ?? {};
}

const q = (s: string): string => JSON.stringify(s); // a TOML basic string

/** The host part of a registry endpoint URL ("http://127.0.0.1:5000/v2" → "127.0.0.1:5000"). */
function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  }
}

/**
 * Writes containerd's hosts.toml files (config_path layout: certs.d/<host>/hosts.toml) for the
 * mirrors and TLS settings of a registries.yaml. Returns the CRI `registry.configs` auth TOML.
 */
export function writeRegistryHosts(certsDir: string, reg: RegistriesConfig): string {
  fs.rmSync(certsDir, { recursive: true, force: true });
  fs.mkdirSync(certsDir, { recursive: true });
  const tlsLines = (host: string): string[] => {
    const tls = reg.configs?.[host]?.tls;
    if (!tls) return [];
    const out: string[] = [];
    if (tls.ca_file) out.push(`  ca = ${q(tls.ca_file)}`);
    if (tls.cert_file && tls.key_file) out.push(`  client = [[${q(tls.cert_file)}, ${q(tls.key_file)}]]`);
    if (tls.insecure_skip_verify) out.push('  skip_verify = true');
    return out;
  };
  const hosts = new Set([...Object.keys(reg.mirrors ?? {}), ...Object.keys(reg.configs ?? {})]);
  for (const host of hosts) {
    const name = host === '*' ? '_default' : host;
    const lines: string[] = [];
    const endpoints = (reg.mirrors?.[host]?.endpoint ?? []).map((ep) => (/^[a-z]+:\/\//.test(ep) ? ep : `https://${ep}`));
    // An endpoint on the registry's own host (k3s's way to say "plain HTTP" or "this port") is
    // the registry itself: it becomes the server, not a mirror with https://<host> behind it.
    const self = endpoints.find((u) => hostOf(u) === host);
    if (host !== '*') lines.push(`server = ${q(self ?? (host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`))}`, ...(self ? tlsLines(host).map((l) => l.trim()) : []), '');
    for (const url of endpoints) {
      if (url === self) continue;
      lines.push(`[host.${q(url)}]`, '  capabilities = ["pull", "resolve"]', ...tlsLines(hostOf(url)), '');
    }
    if (lines.length === 0 && tlsLines(host).length === 0) continue;
    if (tlsLines(host).length && host !== '*' && !self) {
      lines.push(`[host.${q(`https://${host}`)}]`, '  capabilities = ["pull", "resolve", "push"]', ...tlsLines(host), '');
    }
    fs.mkdirSync(path.join(certsDir, name), { recursive: true });
    fs.writeFileSync(path.join(certsDir, name, 'hosts.toml'), lines.join('\n'));
  }
  const auth: string[] = [];
  for (const [host, c] of Object.entries(reg.configs ?? {})) {
    if (!c.auth) continue;
    auth.push(`    [plugins."io.containerd.grpc.v1.cri".registry.configs.${q(host)}.auth]`);
    if (c.auth.username) auth.push(`      username = ${q(c.auth.username)}`);
    if (c.auth.password) auth.push(`      password = ${q(c.auth.password)}`);
    if (c.auth.auth) auth.push(`      auth = ${q(c.auth.auth)}`);
    if (c.auth.identitytoken) auth.push(`      identitytoken = ${q(c.auth.identitytoken)}`);
  }
  return auth.join('\n');
}

export interface ContainerdConfigOptions {
  paths: ContainerdPaths;
  pauseImage: string;
  cniConfDir: string;
  cniBinDir: string;
  registryAuthToml?: string;
}

/** containerd 1.6 config (version 2), per DESIGN.md §4. */
export function containerdConfig(o: ContainerdConfigOptions): string {
  const p = o.paths;
  return `# Generated by kts; rewritten at every start.
version = 2
root = ${q(p.root)}
state = ${q(p.state)}
oom_score = 0

[grpc]
  address = ${q(p.socket)}

[ttrpc]
  address = ""

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(path.join(p.dir, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(o.pauseImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(o.cniBinDir)}
    conf_dir = ${q(o.cniConfDir)}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(p.runcRoot)}
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${q(p.certsDir)}
${o.registryAuthToml ?? ''}
`;
}

export interface SupervisorOptions {
  paths: ContainerdPaths;
  binary?: string;
  log: Logger;
}

/** Runs containerd as a child process, restarting it (with back-off) if it exits. */
export class ContainerdSupervisor {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;
  private readonly binary: string;

  constructor(private readonly o: SupervisorOptions) {
    this.binary = o.binary ?? 'containerd';
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts containerd and resolves once its CRI Version RPC answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.spawnOnce();
    await waitForCRI(this.o.paths.socket, timeoutMs, () => this.child === undefined || this.child.exitCode !== null);
  }

  private spawnOnce(): void {
    const p = this.o.paths;
    fs.mkdirSync(p.dir, { recursive: true });
    killStale(p);
    // a stale socket from a killed containerd would make the new one fail to listen
    fs.rmSync(p.socket, { force: true });
    const logFd = fs.openSync(p.log, 'a');
    const child = spawn(this.binary, ['--config', p.config], {
      stdio: ['ignore', logFd, logFd],
      // its own process group: a Ctrl-C on kts's terminal must not kill it before we stop it
      detached: true,
    });
    fs.closeSync(logFd);
    this.child = child;
    if (child.pid) fs.writeFileSync(path.join(p.dir, 'containerd.pid'), String(child.pid));
    this.o.log.info('started containerd', { pid: child.pid, config: p.config, log: p.log });
    child.on('error', (err) => this.o.log.error('containerd failed to start', { err: String(err) }));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.restarts++;
      const delay = Math.min(10_000, 200 * 2 ** Math.min(this.restarts - 1, 6));
      this.o.log.error('containerd exited; restarting', { code, signal, inMs: delay, log: p.log });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopping) this.spawnOnce();
      }, delay);
      this.restartTimer.unref?.();
    });
  }

  /** Stops containerd (SIGTERM, then SIGKILL after 10 s). Containers keep running. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/**
 * A containerd left running by a kts that was killed (SIGKILL) still holds our root's lock:
 * stop it before starting ours. Only a process whose command line names our config is touched.
 */
function killStale(p: ContainerdPaths): void {
  const pidFile = path.join(p.dir, 'containerd.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!(pid > 1)) return;
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes(p.config)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  // wait (briefly, synchronously) for it to go away
  const until = Date.now() + 5000;
  while (Date.now() < until && fs.existsSync(`/proc/${pid}`)) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
    if (stat === 'Z') break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** Polls the CRI socket until Version answers. */
export async function waitForCRI(socket: string, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error(`containerd exited before it was ready`);
    if (fs.existsSync(socket)) {
      const c = new CRIClient(socket);
      try {
        await c.call('Version', { version: 'v1' }, { timeoutMs: 2000 });
        return;
      } catch (err) {
        last = err;
      } finally {
        c.close();
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`containerd at ${socket} not ready after ${timeoutMs} ms: ${String(last ?? 'no socket')}`);
}
