// Shared pieces of the API server benchmarks: a `kts server` child process (so its RSS can
// be read and its cold start timed), an HTTP/2 client authenticated with the admin client
// certificate, and small statistics/table helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export function median(xs: number[]): number {
  return pct([...xs].sort((a, b) => a - b), 50);
}

/** Resident set size of a process in MiB (Linux /proc), or NaN. */
export function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** One GET over a throwaway HTTPS/1.1 connection; resolves with the status or 0 when not listening. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

export interface ServerProcess {
  pid: number;
  url: string;
  port: number;
  dataDir: string;
  /** ms from spawn to the first 200 from /readyz. */
  startMs: number;
  tls: { ca: string; cert: string; key: string };
  stop(): Promise<void>;
}

/**
 * Starts `node bin/kts.js server` on a fixed free port and polls /readyz every 5 ms until it
 * answers 200. KTS_BENCH_CPU_PROF=<dir> runs the server under --cpu-prof (written on exit).
 */
export async function startServerProcess(opts: { dataDir: string; port: number; etcdEndpoint?: string; timeoutMs?: number }): Promise<ServerProcess> {
  // --disable-agent: this measures the control plane; the pods it creates must not start
  // real containers on the machine's own node (bench/pods.ts measures that separately).
  const args = [join(REPO_ROOT, 'bin/kts.js'), 'server', '--data-dir', opts.dataDir, '--https-listen-port', String(opts.port), '--bind-address', '127.0.0.1', '--disable-agent'];
  if (opts.etcdEndpoint) args.push('--datastore-endpoint', opts.etcdEndpoint);
  const nodeArgs = process.env['KTS_BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['KTS_BENCH_CPU_PROF']] : [];
  const url = `https://127.0.0.1:${opts.port}`;
  const t0 = performance.now();
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => ((exited = true), resolve())));

  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(t);
    }
  };
  const deadline = t0 + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(`kts server exited during start-up:\n${output}`);
    if ((await probe(`${url}/readyz`)) === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`kts server not ready within ${opts.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await sleep(5);
  }
  const startMs = performance.now() - t0;
  const tlsDir = join(opts.dataDir, 'tls');
  const tls = {
    ca: readFileSync(join(tlsDir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(tlsDir, 'admin.crt'), 'utf8'),
    key: readFileSync(join(tlsDir, 'admin.key'), 'utf8'),
  };
  return { pid: proc.pid!, url, port: opts.port, dataDir: opts.dataDir, startMs, tls, stop };
}

export interface Response {
  status: number;
  body: string;
}

/** One client = one HTTP/2 connection (TLS, admin client certificate), like one client-go process. */
export class H2Client {
  readonly session: http2.ClientHttp2Session;

  private constructor(session: http2.ClientHttp2Session) {
    this.session = session;
  }

  static async connect(url: string, tls: { ca: string; cert: string; key: string }): Promise<H2Client> {
    const session = http2.connect(url, { ca: tls.ca, cert: tls.cert, key: tls.key });
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    session.on('error', () => {});
    return new H2Client(session);
  }

  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    return new Promise((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': path, accept: 'application/json' };
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['content-type'] = contentType;
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const stream = this.session.request(headers);
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      stream.on('error', reject);
      stream.end(payload);
    });
  }

  /** Like request, but throws unless the status is 2xx; returns the parsed body. */
  async json<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.request(method, path, body, contentType);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.session.closed || this.session.destroyed) return resolve();
      const t = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 1000);
      this.session.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Formats a table as aligned plain text (first column left-aligned, the rest right-aligned). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
