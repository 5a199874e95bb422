// The server side of exec/attach (k8s.io/apimachinery remotecommand), over either transport:
// WebSocket channel protocols (kubectl 1.30+) or SPDY/3.1 streams (kubectl ≤1.29, and the
// fallback of later versions). Both end up as one RemoteIO: the client's stdin, our stdout
// and stderr, resize events, and finish() that reports the exit status on the error stream.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';
import {
  CHANNEL_ERROR,
  CHANNEL_RESIZE,
  CHANNEL_STDERR,
  CHANNEL_STDIN,
  CHANNEL_STDOUT,
  ChannelWebSocket,
  REMOTECOMMAND_WS_PROTOCOLS,
  acceptWebSocket,
  isWebSocketRequest,
  negotiateProtocol,
  requestedProtocols,
} from './websocket.js';
import { SpdySession, type SpdyStream } from './spdy.js';

export const SPDY_REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A failure before the protocol switch: answered as a plain HTTP response. */
export class UpgradeError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface RemoteIO {
  protocol: string;
  transport: 'websocket' | 'spdy';
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  onResize(fn: (width: number, height: number) => void): void;
  /** Called when the client goes away before finish(). */
  onClientGone(fn: () => void): void;
  /** Writes the exit status on the error stream and closes the connection. */
  finish(result: { exitCode: number; message?: string }, command?: string[]): Promise<void>;
}

export function streamFlagsFromQuery(q: URLSearchParams, defaults: Partial<StreamFlags> = {}): StreamFlags {
  const b = (name: string, d: boolean) => {
    const v = q.get(name) ?? q.get(name === 'stdin' ? 'input' : name === 'stdout' ? 'output' : name === 'stderr' ? 'error' : name);
    if (v === null) return d;
    return v === 'true' || v === '1';
  };
  return { stdin: b('stdin', defaults.stdin ?? false), stdout: b('stdout', defaults.stdout ?? true), stderr: b('stderr', defaults.stderr ?? true), tty: b('tty', defaults.tty ?? false) };
}

export function headerValues(req: IncomingMessage, name: string): string[] {
  const distinct = (req as IncomingMessage & { headersDistinct?: Record<string, string[]> }).headersDistinct?.[name];
  const raw = distinct ?? (req.headers[name] === undefined ? [] : ([] as string[]).concat(req.headers[name] as string | string[]));
  return raw.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function isSpdyRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1');
}

/** metav1.Status for the error stream of v4/v5. */
export function exitStatus(result: { exitCode: number; message?: string }, command?: string[]): Record<string, unknown> {
  if (result.exitCode === 0 && !result.message) return { metadata: {}, status: 'Success' };
  if (result.exitCode > 0) {
    return {
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: error executing command [${(command ?? []).join(' ')}], exit code ${result.exitCode}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
    };
  }
  return { metadata: {}, status: 'Failure', message: result.message ?? 'internal error', reason: 'InternalError', code: 500 };
}

function statusText(result: { exitCode: number; message?: string }, command?: string[]): string {
  if (result.exitCode === 0 && !result.message) return '';
  if (result.exitCode > 0) return `command terminated with non-zero exit code: error executing command [${(command ?? []).join(' ')}], exit code ${result.exitCode}`;
  return result.message ?? 'internal error';
}

/** Writes a raw HTTP/1.1 response on a socket that has not been upgraded, then closes it. */
export function writeHttpError(socket: Duplex, code: number, body: unknown, contentType = 'application/json'): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const reason = HTTP_REASONS[code] ?? 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
}

const HTTP_REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Performs the protocol switch for exec/attach and returns the client's streams. */
export async function upgradeRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, flags: StreamFlags): Promise<RemoteIO> {
  if (isWebSocketRequest(req)) return upgradeWebSocket(req, socket, head, flags);
  if (isSpdyRequest(req)) return upgradeSpdy(req, socket, head, flags);
  throw new UpgradeError(400, 'Upgrade request required');
}

async function upgradeWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, flags: StreamFlags): Promise<RemoteIO> {
  const offered = requestedProtocols(req);
  const protocol = offered.length ? negotiateProtocol(offered, REMOTECOMMAND_WS_PROTOCOLS) : 'channel.k8s.io';
  if (!protocol) {
    throw new UpgradeError(400, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(REMOTECOMMAND_WS_PROTOCOLS)}`);
  }
  const ws = await acceptWebSocket(req, socket, head, offered.length ? protocol : undefined);
  const ch = new ChannelWebSocket(ws, protocol);
  let stdin: PassThrough | undefined;
  if (flags.stdin) {
    const s = new PassThrough();
    stdin = s;
    ch.onChannel(CHANNEL_STDIN, (d) => s.write(d));
    ch.onChannelClose(CHANNEL_STDIN, () => s.end());
  }
  const resize = new ResizeEvents();
  ch.onChannel(CHANNEL_RESIZE, (d) => {
    resize.received(d);
  });
  const out = (channel: number) =>
    new Writable({
      write(chunk: Buffer, _e, cb) {
        void ch.send(channel, chunk).then(() => cb(), cb);
      },
      final(cb) {
        ch.sendClose(channel);
        cb();
      },
    });
  const goneFns: (() => void)[] = [];
  let finished = false;
  ch.onClose(() => {
    stdin?.end();
    if (!finished) for (const f of goneFns) f();
  });
  return {
    protocol,
    transport: 'websocket',
    stdin,
    stdout: flags.stdout ? out(CHANNEL_STDOUT) : undefined,
    stderr: flags.stderr && !flags.tty ? out(CHANNEL_STDERR) : undefined,
    onResize: (f) => resize.on(f),
    onClientGone: (f) => void goneFns.push(f),
    async finish(result, command) {
      finished = true;
      const body = ch.version >= 4 ? JSON.stringify(exitStatus(result, command)) : statusText(result, command);
      if (body) await ch.send(CHANNEL_ERROR, Buffer.from(body));
      ch.close(1000);
    },
  };
}

/**
 * The client's terminal sizes. kubectl sends the first one as soon as the streams are up,
 * before the kubelet has a process to give it to: the latest size is kept and handed to a
 * handler when it registers, or the terminal would stay 0x0.
 */
class ResizeEvents {
  private last: { width: number; height: number } | undefined;
  private readonly fns: ((w: number, h: number) => void)[] = [];

  received(d: Buffer): void {
    for (const size of parseResize(d)) {
      this.last = size;
      for (const f of this.fns) f(size.width, size.height);
    }
  }

  on(f: (w: number, h: number) => void): void {
    this.fns.push(f);
    if (this.last) f(this.last.width, this.last.height);
  }
}

/** The JSON objects of a resize stream ({"Width":80,"Height":24}…, possibly several per chunk). */
export function parseResize(d: Buffer): { width: number; height: number }[] {
  const out: { width: number; height: number }[] = [];
  for (const m of d.toString('utf8').matchAll(/\{[^{}]*\}/g)) {
    try {
      const o = JSON.parse(m[0]) as { Width?: number; Height?: number; width?: number; height?: number };
      out.push({ width: o.Width ?? o.width ?? 0, height: o.Height ?? o.height ?? 0 });
    } catch {
      /* partial object: ignored */
    }
  }
  return out;
}

/** Writes the 101 for SPDY with the negotiated X-Stream-Protocol-Version and starts a session. */
export function acceptSpdy(socket: Duplex, head: Buffer, protocol: string | undefined): SpdySession {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') +
      '\r\n',
  );
  const session = new SpdySession(socket);
  if (head.length) socket.unshift(head);
  return session;
}

export function negotiateSpdyProtocol(req: IncomingMessage, supported: string[]): string | undefined {
  const offered = headerValues(req, 'x-stream-protocol-version');
  if (!offered.length) return '';
  const p = offered.find((o) => supported.includes(o));
  if (!p) {
    throw new UpgradeError(403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`);
  }
  return p;
}

async function upgradeSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, flags: StreamFlags): Promise<RemoteIO> {
  const protocol = negotiateSpdyProtocol(req, SPDY_REMOTECOMMAND_PROTOCOLS) ?? '';
  const session = acceptSpdy(socket, head, protocol);
  const version = protocol === '' || protocol === 'channel.k8s.io' ? 1 : Number(/^v(\d+)/.exec(protocol)?.[1] ?? 1);
  const want = new Set<string>(['error']);
  if (flags.stdin) want.add('stdin');
  if (flags.stdout) want.add('stdout');
  if (flags.stderr && !flags.tty) want.add('stderr');
  if (flags.tty && version >= 3) want.add('resize');
  const got = new Map<string, SpdyStream>();
  const resize = new ResizeEvents();
  const goneFns: (() => void)[] = [];
  let finished = false;
  session.on('close', () => {
    if (!finished) for (const f of goneFns) f();
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      session.close();
      reject(new Error('timed out waiting for client to create streams'));
    }, 30_000);
    t.unref();
    const check = () => {
      if ([...want].every((w) => got.has(w))) {
        clearTimeout(t);
        resolve();
      }
    };
    session.on('close', () => {
      clearTimeout(t);
      reject(new Error('connection closed before streams were created'));
    });
    session.on('stream', (s: SpdyStream) => {
      const type = s.header('streamtype') ?? '';
      s.reply({});
      s.on('error', () => {});
      got.set(type, s);
      if (type === 'resize') {
        s.on('data', (d: Buffer) => {
          resize.received(d);
        });
      }
      if (type === 'error' || type === 'stdout' || type === 'stderr') s.resume();
      check();
    });
    check();
  });
  const stdinStream = got.get('stdin');
  return {
    protocol,
    transport: 'spdy',
    stdin: stdinStream,
    stdout: got.get('stdout'),
    stderr: got.get('stderr'),
    onResize: (f) => resize.on(f),
    onClientGone: (f) => void goneFns.push(f),
    async finish(result, command) {
      finished = true;
      const err = got.get('error')!;
      const body = version >= 4 ? JSON.stringify(exitStatus(result, command)) : statusText(result, command);
      if (body) err.write(Buffer.from(body));
      for (const s of got.values()) if (s.writable) s.end();
      session.close();
    },
  };
}
