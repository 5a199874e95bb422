// The kubelet's HTTPS server (port 10250): container logs, exec, attach, port-forward, stats.
// Only the API server may use it: a client certificate signed by the cluster CA in the
// system:masters group (the API server's kube-apiserver-kubelet-client identity).
//
//   GET  /healthz
//   GET  /containerLogs/<ns>/<pod>/<container>?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
//   GET|POST /exec/<ns>/<pod>/<container>?command=…&stdin&stdout&stderr&tty   (upgrade: WebSocket or SPDY)
//   GET|POST /attach/<ns>/<pod>/<container>?stdin&stdout&stderr&tty             (upgrade)
//   GET|POST /portForward/<ns>/<pod>?port=…                                     (upgrade)
//   GET  /stats/summary, /metrics/resource                                      (stats.ts)
//
// The streaming protocols are terminated here (src/util/stream); the API server proxies
// the upgraded connection byte for byte, as upstream's does.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { readLogs } from '../logs.js';
import type { ContainerRuntime, ContainerStatus, SandboxStatus, StreamSession } from '../runtime/types.js';
import { UpgradeError, streamFlagsFromQuery, upgradeRemoteCommand, writeHttpError, type RemoteIO } from '../../util/stream/remotecommand.js';
import { servePortForward } from '../../util/stream/portforward.js';
import { isWebSocketRequest } from '../../util/stream/websocket.js';
import type { SpdySession } from '../../util/stream/spdy.js';
import { StatsProvider, serveStats } from './stats.js';

export const DEFAULT_KUBELET_PORT = 10250;

export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  /** Serving certificate and key (PEM). */
  cert: string;
  key: string;
  /** CA whose client certificates are accepted. */
  clientCA: string;
  host?: string;
  /** 10250 by default; 0 picks a free port. */
  port?: number;
  /** Groups (certificate O) allowed in; default system:masters. */
  allowedGroups?: string[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** The filesystem reported as the node's in /stats/summary (default /). */
  rootDir?: string;
}

interface Identity {
  cn: string;
  groups: string[];
}

export class KubeletServer {
  private server?: https.Server;
  private readonly sessions = new Set<{ close(): void }>();
  private readonly log: NonNullable<KubeletServerOptions['log']>;
  port = 0;
  /** Streaming sessions served, by transport (WebSocket or SPDY). */
  readonly upgrades = { websocket: 0, spdy: 0 };

  constructor(private readonly opts: KubeletServerOptions) {
    this.log = opts.log ?? (() => {});
    this.stats = new StatsProvider({ runtime: opts.runtime, nodeName: opts.nodeName, rootDir: opts.rootDir ?? '/' });
  }

  private readonly stats: StatsProvider;

  async start(): Promise<number> {
    const server = https.createServer(
      { cert: this.opts.cert, key: this.opts.key, ca: this.opts.clientCA, requestCert: true, rejectUnauthorized: false },
      (req, res) => void this.serve(req, res),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.serveUpgrade(req, socket, head));
    server.on('tlsClientError', () => {});
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? DEFAULT_KUBELET_PORT, this.opts.host ?? '0.0.0.0', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
      setTimeout(resolve, 1000).unref();
    });
  }

  private identity(req: IncomingMessage): Identity | undefined {
    const sock = req.socket as TLSSocket;
    if (!sock.authorized) return undefined;
    const cert = sock.getPeerCertificate();
    if (!cert?.subject) return undefined;
    const o = cert.subject.O as string | string[] | undefined;
    const cn = cert.subject.CN as string | string[] | undefined;
    return { cn: (Array.isArray(cn) ? cn[0] : cn) ?? '', groups: Array.isArray(o) ? o : o ? [o] : [] };
  }

  /** undefined when allowed, else [code, message]. */
  private authorize(req: IncomingMessage): [number, string] | undefined {
    const id = this.identity(req);
    if (!id) return [401, 'Unauthorized'];
    const allowed = this.opts.allowedGroups ?? ['system:masters'];
    if (!id.groups.some((g) => allowed.includes(g))) {
      return [403, `Forbidden (user=${id.cn}, verb=${(req.method ?? 'get').toLowerCase()}, resource=nodes, subresource=proxy)`];
    }
    return undefined;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const denied = this.authorize(req);
    if (denied) {
      res.writeHead(denied[0], { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(denied[1]);
      return;
    }
    try {
      const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      if (p[0] === 'containerLogs' && p.length === 4 && req.method === 'GET') {
        await this.containerLogs(p[1]!, p[2]!, p[3]!, url.searchParams, req, res);
        return;
      }
      if (await serveStats(this.stats, url, req, res)) return;
      if (['exec', 'attach', 'portForward'].includes(p[0] ?? '')) {
        sendStatus(res, 400, 'BadRequest', 'Upgrade request required');
        return;
      }
      sendStatus(res, 404, 'NotFound', '404 page not found');
    } catch (e) {
      if (res.headersSent) res.end();
      else if (e instanceof KubeletError) sendStatus(res, e.code, e.reason, e.message);
      else sendStatus(res, 500, 'InternalError', String((e as Error)?.message ?? e));
    }
  }

  private async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const denied = this.authorize(req);
    if (denied) {
      writeHttpError(socket, denied[0], denied[1], 'text/plain; charset=utf-8');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if ((p[0] === 'exec' || p[0] === 'attach') && (p.length === 4 || p.length === 5)) {
        // /exec/<ns>/<pod>/<container> or /exec/<ns>/<pod>/<uid>/<container>
        const [ns, pod, container] = p.length === 4 ? [p[1]!, p[2]!, p[3]!] : [p[1]!, p[2]!, p[4]!];
        await this.remoteCommand(p[0], ns, pod, container, url.searchParams, req, socket, head);
        return;
      }
      if (p[0] === 'portForward' && (p.length === 3 || p.length === 4)) {
        await this.portForward(p[1]!, p[2]!, url.searchParams, req, socket, head);
        return;
      }
      writeHttpError(socket, 404, '404 page not found', 'text/plain; charset=utf-8');
    } catch (e) {
      if (e instanceof UpgradeError) writeHttpError(socket, e.code, e.body ?? e.message, typeof (e.body ?? e.message) === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
      else if (e instanceof KubeletError) writeHttpError(socket, e.code, e.message, 'text/plain; charset=utf-8');
      else {
        this.log('streaming request failed', { path: url.pathname, error: String((e as Error)?.stack ?? e) });
        if (socket.writable) writeHttpError(socket, 500, String((e as Error)?.message ?? e), 'text/plain; charset=utf-8');
      }
    }
  }

  // ---- lookups through the runtime ----

  private async podSandboxes(ns: string, pod: string): Promise<SandboxStatus[]> {
    const all = await this.opts.runtime.listPodSandboxes();
    return all.filter((s) => s.namespace === ns && s.name === pod).sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  }

  /** The pod's instances of `container`, newest first. */
  private async containerInstances(ns: string, pod: string, container: string): Promise<ContainerStatus[]> {
    const sandboxes = await this.podSandboxes(ns, pod);
    const ids = new Set(sandboxes.map((s) => s.id));
    const all = await this.opts.runtime.listContainers();
    return all
      .filter((c) => ids.has(c.sandboxId) && c.name === container)
      .sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
  }

  private async containerLogs(ns: string, pod: string, container: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const previous = q.get('previous') === 'true';
    const instances = await this.containerInstances(ns, pod, container);
    const target = previous ? instances.find((c, i) => i > 0 && c.state === 'exited') : instances[0];
    if (!target) {
      if (previous) throw new KubeletError(400, 'BadRequest', `previous terminated container "${container}" in pod "${pod}" not found`);
      throw new KubeletError(404, 'NotFound', `container "${container}" in pod "${pod}" is not available`);
    }
    const opts = logOptionsFromQuery(q);
    const follow = q.get('follow') === 'true' && !previous;
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    req.on('close', () => ac.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    try {
      await readLogs(target.logPath, res, {
        ...opts,
        follow,
        signal: ac.signal,
        // Writes wake a follower at once (inotify); the container's state is checked at least every second.
        stillRunning: async () => (await this.opts.runtime.containerStatus(target.id))?.state === 'running',
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    res.end();
  }

  private async runningContainer(ns: string, pod: string, container: string): Promise<ContainerStatus> {
    const instances = await this.containerInstances(ns, pod, container);
    const c = instances.find((i) => i.state === 'running');
    if (!c) throw new KubeletError(404, 'NotFound', `container not found ("${container}")`);
    return c;
  }

  private async remoteCommand(kind: 'exec' | 'attach', ns: string, pod: string, container: string, q: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const flags = streamFlagsFromQuery(q);
    const command = q.getAll('command');
    if (kind === 'exec' && command.length === 0) throw new KubeletError(400, 'BadRequest', 'you must specify at least 1 command');
    if (!flags.stdin && !flags.stdout && !flags.stderr) throw new KubeletError(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr');
    const c = await this.runningContainer(ns, pod, container);
    const io = await upgradeRemoteCommand(req, socket, head, flags);
    this.upgrades[io.transport]++;
    let session: StreamSession;
    try {
      session = kind === 'exec' ? await this.opts.runtime.exec(c.id, command, flags) : await this.opts.runtime.attach(c.id, flags);
    } catch (e) {
      await io.finish({ exitCode: -1, message: String((e as Error)?.message ?? e) }, command);
      return;
    }
    const handle = { close: () => session.close() };
    this.sessions.add(handle);
    try {
      await pipeSession(io, session, kind === 'exec' ? command : undefined, flags.tty);
    } finally {
      this.sessions.delete(handle);
    }
  }

  private async portForward(ns: string, pod: string, q: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const sandboxes = (await this.podSandboxes(ns, pod)).filter((s) => s.state === 'ready');
    const sandbox = sandboxes[0];
    if (!sandbox) throw new KubeletError(404, 'NotFound', `pod not found ("${pod}_${ns}")`);
    const ports = q.getAll('port').flatMap((p) => p.split(',')).map(Number).filter((n) => n > 0);
    const session: SpdySession = await servePortForward(req, socket, head, {
      connect: (port) => this.opts.runtime.portForward(sandbox.id, port),
      describeError: (port, err) => `error forwarding port ${port} to pod ${pod}, uid ${sandbox.uid}: ${err.message}`,
      allowedPorts: ports,
    });
    this.upgrades[isWebSocketRequest(req) ? 'websocket' : 'spdy']++;
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
  }

}

class KubeletError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** PodLogOptions from the query (the same names on the API server's pods/log and the kubelet's containerLogs). */
export function logOptionsFromQuery(q: URLSearchParams, now = Date.now()): { tailLines?: number; since?: Date; timestamps: boolean; limitBytes?: number } {
  const tail = q.get('tailLines');
  const sinceSeconds = q.get('sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const limit = q.get('limitBytes');
  let since: Date | undefined;
  if (sinceSeconds) since = new Date(now - Number(sinceSeconds) * 1000);
  else if (sinceTime) since = new Date(sinceTime);
  return {
    tailLines: tail !== null && tail !== '' ? Number(tail) : undefined,
    since: since && !Number.isNaN(since.getTime()) ? since : undefined,
    timestamps: q.get('timestamps') === 'true',
    limitBytes: limit ? Number(limit) : undefined,
  };
}

/** Connects a runtime session to the client's streams and reports the exit status at the end. */
export async function pipeSession(io: RemoteIO, session: StreamSession, command: string[] | undefined, tty: boolean): Promise<void> {
  if (io.stdin && session.stdin) {
    const sin = session.stdin;
    sin.on('error', () => {});
    io.stdin.on('data', (d: Buffer) => {
      if (sin.writable) sin.write(d);
    });
    io.stdin.on('end', () => {
      if (sin.writable) sin.end();
    });
  }
  io.onResize((w, h) => session.resize?.(w, h));
  io.onClientGone(() => session.close());
  const copies: Promise<void>[] = [];
  const copy = (from: NodeJS.ReadableStream | undefined, to: NodeJS.WritableStream | undefined) => {
    if (!from) return;
    copies.push(
      new Promise<void>((resolve) => {
        // The client's writers send asynchronously (WebSocket): the exit status written by
        // finish() must not overtake output still queued in them, so wait for the last write.
        let lastWrite: Promise<void> = Promise.resolve();
        from.on('data', (d: Buffer) => {
          if (to) lastWrite = new Promise<void>((r) => to.write(d, () => r()));
        });
        const ended = () => void lastWrite.then(() => resolve());
        from.on('end', ended);
        from.on('close', ended);
        from.on('error', ended);
      }),
    );
  };
  copy(session.stdout, io.stdout);
  copy(session.stderr, tty ? io.stdout : io.stderr);
  const result = await session.done;
  // Output the process wrote just before it ended may still be in flight.
  await Promise.race([Promise.all(copies), new Promise((r) => setTimeout(r, 2000).unref())]);
  await io.finish(result, command);
}
