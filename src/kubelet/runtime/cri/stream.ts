// Clients for containerd's streaming server (the URLs CRI's Exec/Attach/PortForward return,
// served by k8s.io/kubelet/cri/streaming inside containerd).
//
// Exec and attach speak SPDY/3.1 with X-Stream-Protocol-Version v4.channel.k8s.io, as
// client-go's remotecommand does: one stream per purpose (streamType error, stdin, stdout,
// stderr, resize), so closing stdin's stream half-closes it and the process reads EOF
// (`kubectl cp` into a pod, `exec -i … cat`). The WebSocket channel protocol containerd 1.6
// also serves (v4.channel.k8s.io, a channel byte before each message) has no half-close.
//
// Port-forward uses that WebSocket protocol's port-forward variant (per port a data and an
// error channel, each opened by a 2-byte little-endian port): a forwarded connection ends
// with the WebSocket, so half-close is not needed there.
import crypto from 'node:crypto';
import http from 'node:http';
import { Duplex, PassThrough, Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { SpdySession, type SpdyStream } from '../../../util/stream/spdy.js';
import type { StreamOptions, StreamSession } from '../types.js';

export interface WSMessage {
  opcode: number;
  data: Buffer;
}

/** A minimal client-side WebSocket over an upgraded socket. */
export class WebSocketConn {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragOpcode = 0;
  closed = false;
  // Messages (and a close) that arrive before the caller sets its handlers — e.g. in the
  // upgrade response's trailing bytes, like port-forward's port prefixes — are kept for it.
  private pending: WSMessage[] | undefined = [];
  private messageHandler: ((m: WSMessage) => void) | undefined;
  private closeHandler: (() => void) | undefined;
  private closePending = false;

  get onMessage(): (m: WSMessage) => void {
    return (m) => {
      if (this.messageHandler) this.messageHandler(m);
      else this.pending?.push(m);
    };
  }
  set onMessage(fn: (m: WSMessage) => void) {
    this.messageHandler = fn;
    const queued = this.pending ?? [];
    this.pending = undefined;
    for (const m of queued) fn(m);
    if (this.closePending && this.closeHandler) {
      this.closePending = false;
      this.closeHandler();
    }
  }
  get onClose(): () => void {
    return () => {
      if (this.closeHandler && this.messageHandler) this.closeHandler();
      else this.closePending = true;
    };
  }
  set onClose(fn: () => void) {
    this.closeHandler = fn;
    if (this.closePending && this.messageHandler) {
      this.closePending = false;
      fn();
    }
  }

  constructor(
    readonly socket: Socket,
    head: Buffer,
    readonly protocol: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.feed(d));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    if (head.length) this.feed(head);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskOff = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= this.buf[maskOff + (i % 4)]!;
      this.buf = this.buf.subarray(off + len);
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === 8) {
        this.send(8, Buffer.alloc(0));
        this.socket.end();
        this.finish();
        return;
      }
      if (opcode === 9) {
        this.send(10, payload);
        continue;
      }
      if (opcode === 10) continue;
      if (opcode === 0) {
        this.fragments.push(payload);
        if (!fin) continue;
        payload = Buffer.concat(this.fragments);
        this.fragments = [];
        this.onMessage({ opcode: this.fragOpcode, data: payload });
        continue;
      }
      if (!fin) {
        this.fragOpcode = opcode;
        this.fragments = [payload];
        continue;
      }
      this.onMessage({ opcode, data: payload });
    }
  }

  send(opcode: number, data: Buffer): void {
    if (this.socket.destroyed) return;
    const mask = crypto.randomBytes(4);
    let head: Buffer;
    if (data.length < 126) {
      head = Buffer.from([0x80 | opcode, 0x80 | data.length]);
    } else if (data.length < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 0x80 | 126;
      head.writeUInt16BE(data.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(data.length), 2);
    }
    const body = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) body[i] = data[i]! ^ mask[i % 4]!;
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  close(): void {
    if (this.closed || this.socket.destroyed) return;
    this.send(8, Buffer.from([0x03, 0xe8]));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

/** Opens a WebSocket to `url` offering `protocols`. */
export function connectWebSocket(url: string, protocols: string[]): Promise<WebSocketConn> {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Protocol': protocols.join(', '),
      },
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('websocket: bad Sec-WebSocket-Accept'));
        return;
      }
      resolve(new WebSocketConn(socket, head, String(res.headers['sec-websocket-protocol'] ?? '')));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => reject(new Error(`streaming server: ${res.statusCode}: ${body.trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
}

const CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];

/** Exit code and message from a v4 error-channel metav1.Status (or v1–v3 plain text). */
export function statusToExit(text: string): { exitCode: number; message?: string } {
  if (!text.trim()) return { exitCode: 0 };
  try {
    const s = JSON.parse(text) as { status?: string; message?: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    if (s.status === 'Success') return { exitCode: 0 };
    const code = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    if (s.reason === 'NonZeroExitCode' && code !== undefined) return { exitCode: Number(code), message: s.message };
    // No exit code: the exec itself failed (containerd's "Internal error occurred: error
    // executing command in container: …"); -1 makes the kubelet pass that message on.
    return code !== undefined ? { exitCode: Number(code), message: s.message } : { exitCode: -1, message: s.message ?? text };
  } catch {
    return { exitCode: -1, message: text.trim() };
  }
}

/** The protocols we offer for exec/attach over SPDY, best first (what client-go offers). */
const REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/** POSTs an upgrade to SPDY/3.1 and returns the client session and the negotiated protocol. */
export function connectSpdy(url: string, protocols: string[]): Promise<{ session: SpdySession; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'SPDY/3.1',
        // one header line per protocol, as Go's http.Header.Add sends them
        'X-Stream-Protocol-Version': protocols,
        'Content-Length': '0',
      },
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      socket.setNoDelay(true);
      const session = new SpdySession(socket, { client: true });
      session.on('error', () => {});
      if (head.length) socket.unshift(head);
      resolve({ session, protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => reject(new Error(`streaming server: ${res.statusCode}: ${body.trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Exec or attach over SPDY, streams created in client-go's order (error, stdin, stdout,
 * stderr, resize). The server ends the session by resetting every stream and closing the
 * connection once the process is gone; the error stream then holds the exit status.
 */
async function spdySession(url: string, opts: StreamOptions): Promise<StreamSession> {
  const { session, protocol } = await connectSpdy(url, REMOTECOMMAND_PROTOCOLS);
  const version = protocol === '' || protocol === 'channel.k8s.io' ? 1 : Number(/^v(\d+)/.exec(protocol)?.[1] ?? 1);
  const open = (type: string) => session.openStream({ streamtype: [type] });
  let streams: { error: SpdyStream; stdin?: SpdyStream; stdout?: SpdyStream; stderr?: SpdyStream; resize?: SpdyStream };
  try {
    const error = await open('error');
    const stdin = opts.stdin ? await open('stdin') : undefined;
    const stdout = opts.stdout ? await open('stdout') : undefined;
    const stderr = opts.stderr && !opts.tty ? await open('stderr') : undefined;
    const resize = opts.tty && version >= 3 ? await open('resize') : undefined;
    streams = { error, stdin, stdout, stderr, resize };
  } catch (e) {
    session.close();
    throw e;
  }
  const { error, stdin, stdout, stderr, resize } = streams;
  for (const s of [error, stdin, stdout, stderr, resize]) s?.on('error', () => {});
  let errText = '';
  error.on('data', (d: Buffer) => (errText += d.toString('utf8')));
  const done = new Promise<{ exitCode: number; message?: string }>((resolve) => {
    let resolved = false;
    const finish = () => {
      if (resolved) return;
      resolved = true;
      resolve(version >= 4 ? statusToExit(errText) : errText.trim() ? { exitCode: -1, message: errText.trim() } : { exitCode: 0 });
    };
    error.on('end', finish);
    error.on('close', finish);
    // a session that ends without the error stream ending (connection lost) still ends
    session.on('close', () => setImmediate(() => error.resume()));
  });
  // The input and resize streams carry nothing back; read them so they can end.
  stdin?.resume();
  resize?.resume();
  return {
    stdin,
    stdout,
    stderr,
    // client-go's resize stream: one JSON TerminalSize per change, newline-terminated
    resize: resize ? (width, height) => void resize.write(JSON.stringify({ Width: width, Height: height }) + '\n') : undefined,
    done,
    close: () => session.close(),
  };
}

async function channelSession(url: string, opts: StreamOptions): Promise<StreamSession> {
  const ws = await connectWebSocket(url, CHANNEL_PROTOCOLS);
  const stdout = opts.stdout ? new PassThrough() : undefined;
  const stderr = opts.stderr && !opts.tty ? new PassThrough() : undefined;
  let errText = '';
  let resolveDone!: (r: { exitCode: number; message?: string }) => void;
  const done = new Promise<{ exitCode: number; message?: string }>((r) => (resolveDone = r));
  ws.onMessage = (m) => {
    if (m.data.length === 0) return;
    const ch = m.data[0]!;
    const data = m.data.subarray(1);
    if (ch === 1) stdout?.write(data);
    else if (ch === 2) stderr?.write(data);
    else if (ch === 3) errText += data.toString('utf8');
  };
  ws.onClose = () => {
    stdout?.end();
    stderr?.end();
    resolveDone(statusToExit(errText));
  };
  const stdin = opts.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          ws.send(2, Buffer.concat([Buffer.from([0]), chunk]));
          cb();
        },
      })
    : undefined;
  return {
    stdin,
    stdout,
    stderr,
    resize: opts.tty ? (width, height) => ws.send(2, Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: width, Height: height }))])) : undefined,
    done,
    close: () => ws.close(),
  };
}

export function execStream(url: string, opts: StreamOptions): Promise<StreamSession> {
  return spdySession(url, opts);
}

export function attachStream(url: string, opts: StreamOptions): Promise<StreamSession> {
  return spdySession(url, opts);
}

/** Exec or attach over the v4 WebSocket channel protocol (no end of stdin: see above). */
export function channelStream(url: string, opts: StreamOptions): Promise<StreamSession> {
  return channelSession(url, opts);
}

/** A byte stream to `port` in the pod's network namespace, through the port-forward WebSocket. */
export async function portForwardStream(url: string, port: number): Promise<Duplex> {
  const u = new URL(url);
  u.searchParams.set('port', String(port));
  const ws = await connectWebSocket(u.toString(), CHANNEL_PROTOCOLS);
  const seen = [false, false];
  let errText = '';
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      ws.send(2, Buffer.concat([Buffer.from([0]), chunk]));
      cb();
    },
    final(cb) {
      ws.close();
      cb();
    },
    read() {},
    destroy(err, cb) {
      ws.close();
      cb(err);
    },
  });
  ws.onMessage = (m) => {
    if (m.data.length === 0) return;
    const ch = m.data[0]!;
    let data = m.data.subarray(1);
    if (ch > 1) return;
    if (!seen[ch]) {
      // the first message on each channel is the port number (2 bytes, little-endian)
      seen[ch] = true;
      data = data.subarray(2);
    }
    if (ch === 0 && data.length) duplex.push(data);
    else if (ch === 1) errText += data.toString('utf8');
  };
  ws.onClose = () => {
    if (errText.trim()) duplex.destroy(new Error(errText.trim()));
    else duplex.push(null);
  };
  return duplex;
}
