// Liveness, readiness and startup probes: exec, httpGet, tcpSocket and grpc, with every timing
// field (initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold)
// and upstream's results: readiness starts false, liveness true, startup unknown until it passes;
// a result flips after `threshold` consecutive results. One ProbeWorker per (container attempt,
// probe kind), driven by the injectable clock.
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import type { Clock } from '../controllers/context.js';
import type { ExecResult } from './runtime/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeOutcome {
  ok: boolean;
  output: string;
}

export interface ProbeEnv {
  /** The pod IP (default host for httpGet/tcpSocket/grpc). */
  host: string;
  exec(cmd: string[], timeoutSeconds: number): Promise<ExecResult>;
  /** Named container ports. */
  ports: Json[];
}

export function resolvePort(port: unknown, ports: Json[]): number {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const p = ports.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${String(port)}`);
  return Number(p.containerPort);
}

/** Runs one probe attempt. Never throws. */
export async function runProbe(probe: Json, env: ProbeEnv): Promise<ProbeOutcome> {
  const timeout = Number(probe.timeoutSeconds ?? 1);
  try {
    if (probe.exec) {
      const cmd: string[] = probe.exec.command ?? [];
      let r: ExecResult;
      try {
        r = await env.exec(cmd, timeout);
      } catch (e) {
        const m = (e as Error).message;
        if (/timed out/.test(m)) return { ok: false, output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
        return { ok: false, output: m };
      }
      const out = r.stdout + r.stderr;
      return { ok: r.exitCode === 0, output: out };
    }
    if (probe.httpGet) return await httpProbe(probe.httpGet, env, timeout);
    if (probe.tcpSocket) {
      const host = probe.tcpSocket.host || env.host;
      const port = resolvePort(probe.tcpSocket.port, env.ports);
      return await new Promise<ProbeOutcome>((resolve) => {
        const s = connect({ host, port });
        const t = setTimeout(() => {
          s.destroy();
          resolve({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` });
        }, timeout * 1000);
        s.once('connect', () => {
          clearTimeout(t);
          s.destroy();
          resolve({ ok: true, output: '' });
        });
        s.once('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(t);
          resolve({ ok: false, output: `dial tcp ${host}:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}` });
        });
      });
    }
    if (probe.grpc) return await grpcProbe(probe.grpc, env, timeout);
    return { ok: false, output: 'missing probe handler' };
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
}

async function httpProbe(h: Json, env: ProbeEnv, timeout: number): Promise<ProbeOutcome> {
  const scheme = String(h.scheme ?? 'HTTP').toLowerCase();
  const host = h.host || env.host;
  const port = resolvePort(h.port, env.ports);
  let path = String(h.path ?? '/');
  if (!path.startsWith('/')) path = '/' + path;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const hh of h.httpHeaders ?? []) headers[hh.name] = hh.value;
  return new Promise((resolve) => {
    const mod = scheme === 'https' ? https : http;
    const req = mod.request(url, { method: 'GET', headers, rejectUnauthorized: false, timeout: timeout * 1000 } as https.RequestOptions, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < 10240) body += c.toString();
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 400) resolve({ ok: true, output: body });
        else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      resolve({ ok: false, output: `Get "${url}": dial tcp ${host}:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}` });
    });
    req.end();
  });
}

/** grpc.health.v1.Health/Check with a hand-encoded HealthCheckRequest { string service = 1; }. */
async function grpcProbe(g: Json, env: ProbeEnv, timeout: number): Promise<ProbeOutcome> {
  const target = `${env.host}:${g.port}`;
  let grpc: Json;
  try {
    const name = '@grpc/grpc-js';
    grpc = await import(name);
  } catch {
    return { ok: false, output: 'grpc probes need @grpc/grpc-js, which is not installed' };
  }
  const svc = String(g.service ?? '');
  const enc = Buffer.from(svc);
  const req = svc ? Buffer.concat([Buffer.from([0x0a, enc.length]), enc]) : Buffer.alloc(0);
  const Client = grpc.makeGenericClientConstructor({}, 'Health');
  const client = new Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + timeout * 1000);
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      req,
      new grpc.Metadata(),
      { deadline },
      (err: Json, res: Buffer | undefined) => {
        client.close();
        if (err) {
          if (err.code === 4 || err.code === 14) return resolve({ ok: false, output: `timeout: failed to connect service "${target}" within ${timeout}s` });
          return resolve({ ok: false, output: `rpc error: code = ${err.code} desc = ${err.details ?? err.message}` });
        }
        // HealthCheckResponse { ServingStatus status = 1; } SERVING = 1
        const status = res && res.length >= 2 && res[0] === 0x08 ? res[1]! : 0;
        const names = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
        if (status === 1) resolve({ ok: true, output: '' });
        else resolve({ ok: false, output: `service unhealthy (responded with "${names[status] ?? status}")` });
      },
    );
  });
}

/**
 * Runs one probe periodically. `onResult` is called on every attempt with the (thresholded)
 * result and the raw outcome, so the kubelet can post Unhealthy events and act on changes.
 */
export class ProbeWorker {
  private timer?: { cancel(): void };
  private stopped = false;
  private successes = 0;
  private failures = 0;
  /** The current result: readiness false, liveness true, startup false until proven. */
  result: boolean;
  /** Once a startup probe succeeded it stops running (as upstream). */
  private done = false;

  constructor(
    readonly kind: ProbeKind,
    readonly probe: Json,
    private readonly clock: Clock,
    private readonly attempt: () => Promise<ProbeOutcome>,
    private readonly onResult: (w: ProbeWorker, outcome: ProbeOutcome, changed: boolean) => void,
  ) {
    this.result = kind === 'liveness';
  }

  get periodMs(): number {
    return Math.max(1, Number(this.probe.periodSeconds ?? 10)) * 1000;
  }

  start(): void {
    const initial = Number(this.probe.initialDelaySeconds ?? 0) * 1000;
    this.schedule(initial);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped || this.done) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), ms);
  }

  /** One attempt now (exported for tests driving a fake clock). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const outcome = await this.attempt();
    if (this.stopped) return;
    const before = this.result;
    if (outcome.ok) {
      this.failures = 0;
      this.successes++;
      const need = this.kind === 'readiness' ? Number(this.probe.successThreshold ?? 1) : 1;
      if (this.successes >= need) this.result = true;
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= Number(this.probe.failureThreshold ?? 3)) {
        this.result = false;
        // Liveness/startup failures restart the container: start counting afresh.
        if (this.kind !== 'readiness') this.failures = 0;
      }
    }
    const changed = before !== this.result;
    const failedHard = !outcome.ok && this.kind !== 'readiness' && !this.result;
    this.onResult(this, outcome, changed || failedHard);
    if (this.kind === 'startup' && this.result) {
      this.done = true;
      return;
    }
    if (failedHard) return; // the container is being restarted; a new worker will follow
    this.schedule(this.periodMs);
  }
}

/** The Unhealthy event message: "Liveness probe failed: <output>". */
export function unhealthyMessage(kind: ProbeKind, output: string): string {
  const k = kind[0]!.toUpperCase() + kind.slice(1);
  return `${k} probe failed: ${output}`.trimEnd();
}
