// The Kubernetes WebSocket channel protocols (k8s.io/apimachinery wsstream): every binary
// message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize —
// and, in v5.channel.k8s.io, 255 = "close channel N" (the client's stdin EOF).
//   channel.k8s.io      v1: error channel carries plain text
//   v2.channel.k8s.io   same framing, stdin/stdout/stderr/error
//   v3.channel.k8s.io   adds resize (channel 4, JSON {"Width":…,"Height":…})
//   v4.channel.k8s.io   error channel carries a metav1.Status JSON (exit codes)
//   v5.channel.k8s.io   v4 + the close signal (channel 255)
//   base64.channel.k8s.io (and base64 variants): text messages, channel as ASCII digit + base64.
// kubectl 1.31+ port-forward uses "SPDY/3.1+portforward.k8s.io": SPDY frames inside binary
// messages (see tunnel()).
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
export const CHANNEL_ERROR = 3;
export const CHANNEL_RESIZE = 4;
export const CHANNEL_CLOSE = 255;

/** Subprotocols for exec/attach, most preferred first. */
export const REMOTECOMMAND_WS_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'base64.channel.k8s.io',
];

export const PORTFORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && /upgrade/i.test(req.headers.connection ?? '');
}

export function requestedProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : (h ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The server's choice among the client's offered subprotocols: the first supported in the client's order. */
export function negotiateProtocol(offered: string[], supported: string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

export function isBase64Protocol(p: string): boolean {
  return p.includes('base64.');
}

/** Encodes one channel message (binary, or the base64 text form). */
export function encodeChannelMessage(channel: number, data: Buffer, base64 = false): Buffer | string {
  if (base64) return String.fromCharCode(48 + channel) + data.toString('base64');
  const b = Buffer.allocUnsafe(1 + data.length);
  b[0] = channel;
  data.copy(b, 1);
  return b;
}

export function decodeChannelMessage(msg: Buffer | string, base64 = false): { channel: number; data: Buffer } | undefined {
  if (base64 || typeof msg === 'string') {
    const s = typeof msg === 'string' ? msg : msg.toString('latin1');
    if (!s.length) return undefined;
    return { channel: s.charCodeAt(0) - 48, data: Buffer.from(s.slice(1), 'base64') };
  }
  if (!msg.length) return undefined;
  return { channel: msg[0]!, data: msg.subarray(1) };
}

/**
 * Completes the WebSocket handshake with `protocol` (already negotiated) and resolves with
 * the socket. Rejects (after writing 400) when the request is not a valid handshake.
 */
export async function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string | undefined): Promise<WebSocket> {
  // ws is loaded on the first upgrade: an idle server does not pay its ~13 MB.
  const { WebSocketServer } = await import('ws');
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    // ws rejects subprotocols that are not RFC 7230 tokens, and kubectl's port-forward one
    // ("SPDY/3.1+portforward.k8s.io") has a '/': negotiate here and answer it ourselves.
    delete req.headers['sec-websocket-protocol'];
    if (protocol) server.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
    let done = false;
    const t = setTimeout(() => {
      if (!done) {
        done = true;
        reject(new Error('websocket handshake failed'));
      }
    }, 10_000);
    t.unref();
    server.handleUpgrade(req, socket as Socket, head, (ws) => {
      done = true;
      clearTimeout(t);
      resolve(ws);
    });
  });
}

/**
 * A channel-multiplexed WebSocket (exec/attach): write(channel, data) and 'data' events
 * per channel; `closeSignal` is set for v5 (the peer closed a channel).
 */
export class ChannelWebSocket {
  readonly base64: boolean;
  readonly version: number;
  private readonly handlers = new Map<number, (data: Buffer) => void>();
  private readonly closeHandlers = new Map<number, () => void>();
  private onEnd: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    readonly protocol: string,
  ) {
    this.base64 = isBase64Protocol(protocol);
    const m = /^v(\d+)\./.exec(protocol);
    this.version = m ? Number(m[1]) : 1;
    ws.on('message', (msg: Buffer, isBinary: boolean) => {
      const d = decodeChannelMessage(isBinary ? msg : msg.toString('latin1'), this.base64);
      if (!d) return;
      if (d.channel === CHANNEL_CLOSE && this.version >= 5) {
        const ch = d.data[0];
        if (ch !== undefined) this.closeHandlers.get(ch)?.();
        return;
      }
      this.handlers.get(d.channel)?.(d.data);
    });
    ws.on('close', () => {
      for (const f of this.onEnd) f();
      this.onEnd = [];
      for (const f of this.closeHandlers.values()) f();
    });
    ws.on('error', () => {});
  }

  onChannel(channel: number, fn: (data: Buffer) => void): void {
    this.handlers.set(channel, fn);
  }

  onChannelClose(channel: number, fn: () => void): void {
    this.closeHandlers.set(channel, fn);
  }

  onClose(fn: () => void): void {
    this.onEnd.push(fn);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(channel: number, data: Buffer): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => this.ws.send(encodeChannelMessage(channel, data, this.base64), { binary: !this.base64 }, () => resolve()));
  }

  /** v5: tell the peer we will not write `channel` any more. */
  sendClose(channel: number): void {
    if (this.version >= 5 && this.open) this.ws.send(Buffer.from([CHANNEL_CLOSE, channel]), { binary: true });
  }

  close(code = 1000): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code);
  }
}

/** A byte stream over a WebSocket's binary messages (the SPDY tunnel of kubectl 1.31+ port-forward). */
export function tunnel(ws: WebSocket): Duplex {
  const d = new Duplex({
    allowHalfOpen: false,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
    },
    final(cb) {
      if (ws.readyState === ws.OPEN) ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
      cb(err);
    },
  });
  ws.on('message', (msg: Buffer) => d.push(msg));
  ws.on('close', () => d.push(null));
  ws.on('error', (e) => d.destroy(e));
  return d;
}
