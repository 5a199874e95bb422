// kubectl end-to-end harness: a real `kts server` child process on a temp data dir and free
// port, driven by the real kubectl binaries (1.27, 1.32, 1.33) with their own HOME and
// discovery cache each, so versions never share cached discovery.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kubectl minors the suite drives. */
export const VERSIONS = ['1.27', '1.32', '1.33'] as const;
export type KubectlVersion = (typeof VERSIONS)[number] | string;

const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

/** Repo root: dist/test/e2e/harness.js → ../../.. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const KTS = join(ROOT, 'bin', 'kts.js');

export function kubectlPath(version: KubectlVersion): string {
  return join(KUBECTL_DIR, `kubectl.${version}`);
}

/** Why the suite cannot run on this machine, or undefined. */
export function skipReason(): string | undefined {
  const missing = VERSIONS.filter((v) => !existsSync(kubectlPath(v)));
  if (missing.length) return `kubectl ${missing.join(', ')} not installed under ${KUBECTL_DIR}`;
  if (!existsSync(KTS)) return `${KTS} missing`;
  return undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Kill the process after this many ms (default 30 s). */
  timeoutMs?: number;
  cwd?: string;
}

export interface Cluster {
  url: string;
  kubeconfig: string;
  dataDir: string;
  /** A scratch directory for manifests; removed by stop(). */
  tmp: string;
  kubectl(version: KubectlVersion, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** kubectl that must succeed: returns stdout, throws with stderr otherwise. */
  ok(version: KubectlVersion, args: string[], opts?: RunOptions): Promise<string>;
  /** Starts kubectl in the background (for `get -w`); stop it with kill(). */
  spawnKubectl(version: KubectlVersion, args: string[]): Background;
  /** Writes a file under tmp and returns its path. */
  file(name: string, content: string): Promise<string>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The server's combined output so far (for failure messages). */
  serverLog(): string;
}

export interface Background {
  proc: ChildProcess;
  /** Everything kubectl wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout matches, rejects after timeoutMs. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

function homeEnv(home: string, extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', ...extra };
  return env;
}

export interface ClusterOptions {
  /**
   * Extra `kts server` flags. Default: the server's own node runs the fake container runtime
   * on a free kubelet port, so pods "run" without containerd (kubectl scenarios need a node,
   * not real containers; several servers can run at once).
   */
  serverArgs?: string[];
}

export const DEFAULT_SERVER_ARGS = ['--container-runtime', 'fake', '--kubelet-port', '0'];

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const serverArgs = opts.serverArgs ?? DEFAULT_SERVER_ARGS;
  const tmp = await mkdtemp(join(tmpdir(), 'kts-e2e-'));
  const dataDir = join(tmp, 'data');
  let child: ChildProcess | undefined;
  let log = '';
  let url = '';
  let kubeconfig = '';

  async function boot(): Promise<void> {
    log += `--- starting server\n`;
    const p = spawn(process.execPath, [KTS, 'server', '--data-dir', dataDir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', ...serverArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: tmp },
    });
    child = p;
    let out = '';
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`kts server did not start in 30 s:\n${log}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        log += d.toString();
        const u = /kts server is running at (\S+)/.exec(out);
        const k = /Kubeconfig written to (\S+)/.exec(out);
        if (u && k) {
          url = u[1]!;
          kubeconfig = k[1]!;
          clearTimeout(timer);
          res();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      p.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`kts server exited with ${code}:\n${log}`));
      });
    });
    p.removeAllListeners('exit');
    p.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    await waitReady();
  }

  async function waitReady(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await run('1.32', ['get', '--raw', '/readyz'], { timeoutMs: 10_000 });
      if (r.code === 0 && r.stdout.trim() === 'ok') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server never became ready:\n${log}`);
  }

  async function halt(): Promise<void> {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }

  const homes = new Map<string, string>();
  async function homeFor(version: string): Promise<string> {
    let h = homes.get(version);
    if (!h) {
      h = join(tmp, `home-${version}`);
      await mkdir(h, { recursive: true });
      homes.set(version, h);
    }
    return h;
  }

  function baseArgs(version: string, home: string): string[] {
    return ['--kubeconfig', kubeconfig, '--cache-dir', join(home, '.kube', 'cache')];
  }

  async function run(version: KubectlVersion, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const home = await homeFor(version);
    return new Promise((res, rej) => {
      const p = spawn(kubectlPath(version), [...baseArgs(version, home), ...args], {
        env: homeEnv(home, opts.env),
        cwd: opts.cwd ?? tmp,
        stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      p.on('error', rej);
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        res({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
      if (p.stdin) {
        // kubectl may exit without reading its input: that is its answer, not a harness error.
        p.stdin.on('error', () => {});
        p.stdin.end(opts.input);
      }
    });
  }

  await boot();

  const cluster: Cluster = {
    get url() {
      return url;
    },
    get kubeconfig() {
      return kubeconfig;
    },
    dataDir,
    tmp,
    kubectl: run,
    async ok(version, args, opts) {
      const r = await run(version, args, opts);
      if (r.code !== 0) throw new Error(`kubectl ${version} ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    spawnKubectl(version, args) {
      const home = join(tmp, `home-${version}`);
      const p = spawn(kubectlPath(version), [...baseArgs(version, home), ...args], { env: homeEnv(home), cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const waiters: { re: RegExp; res: (s: string) => void }[] = [];
      const check = () => {
        for (const w of [...waiters]) {
          if (w.re.test(stdout)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.res(stdout);
          }
        }
      };
      p.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        check();
      });
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
      return {
        proc: p,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        waitFor(re, timeoutMs = 15_000) {
          if (re.test(stdout)) return Promise.resolve(stdout);
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`timed out waiting for ${re} in kubectl output:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
            waiters.push({ re, res: (s) => (clearTimeout(t), res(s)) });
          });
        },
        async kill() {
          if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
          await exited;
        },
      };
    },
    async file(name, content) {
      const path = join(tmp, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, { mode: 0o755 });
      return path;
    },
    async stop() {
      await halt();
      try {
        await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        // Mounts a real container runtime left behind must not fail the scenario; say so.
        process.stderr.write(`e2e harness: could not remove ${tmp}: ${(e as Error).message}\n`);
      }
    },
    async restart() {
      await halt();
      await boot();
    },
    serverLog: () => log,
  };
  return cluster;
}

/** Splits a kubectl table into rows of cells (header included), on runs of 2+ spaces... or 3 when cells can be empty. */
export function tableRows(out: string): string[][] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (!lines.length) return [];
  // Column starts come from the header: each header word begins a column.
  const header = lines[0]!;
  const starts: number[] = [];
  const re = /\S+(?: \S+)*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) starts.push(m.index);
  return lines.map((l) =>
    starts.map((s, i) => (i + 1 < starts.length ? l.slice(s, starts[i + 1]) : l.slice(s)).trim()),
  );
}

/** The table as objects keyed by header (first row). */
export function table(out: string): Record<string, string>[] {
  const rows = tableRows(out);
  const [head, ...rest] = rows;
  if (!head) return [];
  return rest.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}
