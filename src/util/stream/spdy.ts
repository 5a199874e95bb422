// SPDY/3.1, server side, as kubectl (moby/spdystream through client-go's httpstream/spdy)
// speaks it for exec, attach, cp and port-forward: kubectl 1.27–1.29 always, later versions
// as a fallback, and 1.31+ port-forward tunnelled inside WebSocket binary messages.
//
// Frames (draft-mbelshe-httpbis-spdy-00 §2.2): control frames carry
// C=1 | version(15) | type(16) | flags(8) | length(24); data frames carry
// C=0 | stream-id(31) | flags(8) | length(24). Header blocks are zlib-compressed with one
// stateful (de)compressor per direction for the whole connection, primed with the
// SPDY/3 dictionary, each block ending in a sync flush.
//
// The client side (SpdySession with { client: true }, openStream) is what the kubelet uses
// towards containerd's streaming server: unlike the v4 WebSocket channel protocol, a SPDY
// stream half-closes, so the end of stdin reaches the process (kubectl cp into a pod).
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import zlib from 'node:zlib';

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
} as const;

/** The SPDY/3 header compression dictionary (§2.6.10.1), 1423 bytes. */
export const SPDY_DICTIONARY: Buffer = buildDictionary();

function buildDictionary(): Buffer {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
    'origin',
  ];
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
    'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

/** Header names are lower case; a name may carry several values (NUL-separated on the wire). */
export type SpdyHeaders = Record<string, string[]>;

export interface DataFrame {
  control: false;
  streamId: number;
  flags: number;
  data: Buffer;
}

export interface ControlFrame {
  control: true;
  version: number;
  type: number;
  flags: number;
  /** The frame's payload after the common 8-byte header. */
  data: Buffer;
}

export type Frame = DataFrame | ControlFrame;

export function encodeDataFrame(streamId: number, data: Buffer, flags = 0): Buffer {
  const b = Buffer.allocUnsafe(8 + data.length);
  b.writeUInt32BE(streamId & 0x7fffffff, 0);
  b.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  data.copy(b, 8);
  return b;
}

export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(8 + payload.length);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(b, 8);
  return b;
}

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      const flags = this.buf[4]!;
      const data = this.buf.subarray(8, 8 + len);
      if (this.buf[0]! & 0x80) {
        out.push({ control: true, version: this.buf.readUInt16BE(0) & 0x7fff, type: this.buf.readUInt16BE(2), flags, data });
      } else {
        out.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

/**
 * Runs a zlib stream chunk by chunk, each followed by a sync flush, in call order; node's
 * zlib offers no synchronous call that keeps the stream open, so this is asynchronous.
 */
class FlushingZlib {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: zlib.Deflate | zlib.Inflate) {
    z.on('error', () => {});
  }

  process(input: Buffer): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer) => chunks.push(c);
        const onError = (e: Error) => {
          this.z.off('data', onData);
          reject(e);
        };
        this.z.on('data', onData);
        this.z.once('error', onError);
        this.z.write(input);
        this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.z.off('data', onData);
          this.z.off('error', onError);
          resolve(Buffer.concat(chunks));
        });
      });
    const p = this.queue.then(run);
    this.queue = p.catch(() => {});
    return p;
  }
}

/** The sending side's header compressor: one zlib stream for the connection's lifetime. */
export class HeaderCompressor {
  private readonly z = new FlushingZlib(zlib.createDeflate({ dictionary: SPDY_DICTIONARY }));

  compress(headers: SpdyHeaders): Promise<Buffer> {
    const names = Object.keys(headers);
    const parts: Buffer[] = [u32(names.length)];
    for (const name of names) {
      const n = Buffer.from(name.toLowerCase(), 'utf8');
      const v = Buffer.from(headers[name]!.join('\0'), 'utf8');
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    return this.z.process(Buffer.concat(parts));
  }
}

/** The receiving side's header decompressor (stateful across frames). */
export class HeaderDecompressor {
  private readonly z = new FlushingZlib(zlib.createInflate({ dictionary: SPDY_DICTIONARY }));

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    const raw = block.length ? await this.z.process(block) : Buffer.alloc(0);
    const headers: SpdyHeaders = {};
    if (raw.length < 4) return headers;
    let off = 0;
    const n = raw.readUInt32BE(off);
    off += 4;
    for (let i = 0; i < n; i++) {
      const nl = raw.readUInt32BE(off);
      off += 4;
      const name = raw.subarray(off, off + nl).toString('utf8').toLowerCase();
      off += nl;
      const vl = raw.readUInt32BE(off);
      off += 4;
      const value = raw.subarray(off, off + vl).toString('utf8');
      off += vl;
      (headers[name] ??= []).push(...value.split('\0'));
    }
    return headers;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export interface SynStream {
  streamId: number;
  associatedId: number;
  priority: number;
  flags: number;
  headers: SpdyHeaders;
}

export async function parseSynStream(f: ControlFrame, d: HeaderDecompressor): Promise<SynStream> {
  return {
    streamId: f.data.readUInt32BE(0) & 0x7fffffff,
    associatedId: f.data.readUInt32BE(4) & 0x7fffffff,
    priority: f.data[8]! >> 5,
    flags: f.flags,
    headers: await d.decompress(f.data.subarray(10)),
  };
}

export async function encodeSynStream(c: HeaderCompressor, s: Omit<SynStream, 'headers'> & { headers: SpdyHeaders }): Promise<Buffer> {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(s.streamId & 0x7fffffff, 0);
  head.writeUInt32BE(s.associatedId & 0x7fffffff, 4);
  head[8] = (s.priority & 7) << 5;
  return encodeControlFrame(FrameType.SYN_STREAM, s.flags, Buffer.concat([head, await c.compress(s.headers)]));
}

export async function encodeSynReply(c: HeaderCompressor, streamId: number, headers: SpdyHeaders, flags = 0): Promise<Buffer> {
  return encodeControlFrame(FrameType.SYN_REPLY, flags, Buffer.concat([u32(streamId & 0x7fffffff), await c.compress(headers)]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return encodeControlFrame(FrameType.RST_STREAM, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]));
}

export function encodePing(id: number): Buffer {
  return encodeControlFrame(FrameType.PING, 0, u32(id));
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  return encodeControlFrame(FrameType.GOAWAY, 0, Buffer.concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return encodeControlFrame(FrameType.WINDOW_UPDATE, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(delta & 0x7fffffff)]));
}

export function encodeSettings(entries: { id: number; value: number; flags?: number }[]): Buffer {
  const parts = [u32(entries.length)];
  for (const e of entries) parts.push(u32((((e.flags ?? 0) & 0xff) << 24) | (e.id & 0xffffff)), u32(e.value));
  return encodeControlFrame(FrameType.SETTINGS, 0, Buffer.concat(parts));
}

export function parseSettings(f: ControlFrame): { id: number; value: number; flags: number }[] {
  const n = f.data.readUInt32BE(0);
  const out = [];
  for (let i = 0; i < n; i++) {
    const w = f.data.readUInt32BE(4 + i * 8);
    out.push({ flags: w >>> 24, id: w & 0xffffff, value: f.data.readUInt32BE(8 + i * 8) });
  }
  return out;
}

/** Largest DATA payload we send at once (spdystream reads frames of any size up to 16 MiB). */
const MAX_DATA = 32 * 1024;
const WINDOW = 64 * 1024;

/**
 * One SPDY stream: readable = the peer's DATA, writable = our DATA. end() sends FIN;
 * a FIN from the peer ends the readable side. `headers` are the SYN_STREAM's.
 */
export class SpdyStream extends Duplex {
  private replied = false;
  private remoteFin = false;
  private localFin = false;
  private received = 0;
  private wasReset = false;

  constructor(
    readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
    /** Opened by us (SYN_STREAM sent): the peer replies, we do not. */
    local = false,
  ) {
    super({ allowHalfOpen: true });
    if (local) this.replied = true;
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** SYN_REPLY: the peer waits for it before it uses the stream. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied) return;
    this.replied = true;
    this.session.writeRaw(encodeSynReply(this.session.compressor, this.id, headers));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.wasReset) {
      cb();
      return;
    }
    this.reply();
    for (let off = 0; off < chunk.length; off += MAX_DATA) {
      this.session.writeRaw(encodeDataFrame(this.id, chunk.subarray(off, off + MAX_DATA)));
    }
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.reply();
    if (!this.localFin && !this.wasReset) {
      this.localFin = true;
      this.session.writeRaw(encodeDataFrame(this.id, Buffer.alloc(0), FLAG_FIN));
    }
    this.maybeDone();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!(this.localFin && this.remoteFin)) {
      this.session.writeRaw(encodeRstStream(this.id, RstStatus.CANCEL));
    }
    this.session.forget(this.id);
    cb(err);
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (data.length) {
      this.push(data);
      this.received += data.length;
      // A client sends nothing the server does not ask for, as spdystream (no flow control):
      // bytes unread when the server closes its socket make it reset the connection, and a
      // reset drops output of the process that has not been read yet.
      if (this.received >= WINDOW / 2 && !this.session.isClient) {
        this.session.writeRaw(encodeWindowUpdate(this.id, this.received));
        this.received = 0;
      }
    }
    if (fin) this.onRemoteFin();
  }

  /** @internal */
  onRemoteFin(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.maybeDone();
  }

  /** @internal the peer reset the stream. */
  onReset(): void {
    if (this.session.isClient) {
      // A server ends its session by resetting every stream (client-go's connection.Close):
      // what it sent before still gets read, as spdystream's reader does; writes are dropped.
      this.wasReset = true;
      this.remoteFin = true;
      this.localFin = true;
      this.push(null);
      this.session.forget(this.id);
      return;
    }
    this.remoteFin = true;
    this.localFin = true;
    this.push(null);
    this.destroy();
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin) this.session.forget(this.id);
  }
}

/**
 * A SPDY/3.1 connection over any byte stream (a TLS socket after a 101, or a WebSocket
 * tunnel): the server side by default, emitting 'stream' for each SYN_STREAM from the peer;
 * with { client: true } it opens streams itself (odd ids). Emits 'close' once.
 */
export class SpdySession extends EventEmitter {
  readonly isClient: boolean;
  private nextStreamId = 1;
  /** Streams we opened, waiting for the peer's SYN_REPLY. */
  private readonly awaitingReply = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void; stream: SpdyStream }>();
  readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private closed = false;
  /** Frames are handled one after another (header blocks decompress asynchronously). */
  private inChain: Promise<void> = Promise.resolve();
  /** Everything we send goes out in call order (SYN_REPLY before the stream's DATA). */
  private outChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: Duplex,
    opts: { client?: boolean } = {},
  ) {
    super();
    this.isClient = opts.client ?? false;
    conn.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.parser.push(chunk);
      } catch (e) {
        this.emit('error', e);
        this.close();
        return;
      }
      for (const f of frames) {
        this.inChain = this.inChain
          .then(() => this.onFrame(f))
          .catch((e) => {
            this.emit('error', e);
            this.close();
          });
      }
    });
    if (this.isClient) {
      // Frames still being decoded (header blocks inflate asynchronously) are delivered first.
      const closeAfterFrames = () => void this.inChain.then(() => this.close());
      conn.on('end', closeAfterFrames);
      conn.on('close', closeAfterFrames);
      conn.on('error', closeAfterFrames);
    } else {
      conn.on('end', () => this.close());
      conn.on('close', () => this.close());
      conn.on('error', () => this.close());
    }
  }

  /**
   * Client side: SYN_STREAM with `headers`; resolves with the stream once the peer's
   * SYN_REPLY arrives (as client-go's CreateStream waits), rejects on RST_STREAM or close.
   */
  openStream(headers: SpdyHeaders, flags = 0): Promise<SpdyStream> {
    if (this.closed) return Promise.reject(new Error('spdy: connection closed'));
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = new SpdyStream(this, id, headers, true);
    this.streams.set(id, s);
    return new Promise<SpdyStream>((resolve, reject) => {
      this.awaitingReply.set(id, { resolve, reject, stream: s });
      this.writeRaw(encodeSynStream(this.compressor, { streamId: id, associatedId: 0, priority: 0, flags, headers }));
    });
  }

  /** @internal */
  writeRaw(b: Buffer | Promise<Buffer>): void {
    if (this.closed) return;
    this.outChain = this.outChain.then(async () => {
      const buf = await b;
      if (!this.conn.destroyed && this.conn.writable) this.conn.write(buf);
    }).catch(() => {});
  }

  /** Resolves once everything queued so far has been handed to the connection. */
  flushed(): Promise<void> {
    return this.outChain;
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  get streamCount(): number {
    return this.streams.size;
  }

  private async onFrame(f: Frame): Promise<void> {
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (!s) {
        this.writeRaw(encodeRstStream(f.streamId, RstStatus.INVALID_STREAM));
        return;
      }
      s.onData(f.data, (f.flags & FLAG_FIN) !== 0);
      return;
    }
    switch (f.type) {
      case FrameType.SYN_STREAM: {
        const syn = await parseSynStream(f, this.decompressor);
        if (this.streams.has(syn.streamId)) {
          this.writeRaw(encodeRstStream(syn.streamId, RstStatus.STREAM_IN_USE));
          return;
        }
        this.lastStreamId = Math.max(this.lastStreamId, syn.streamId);
        const s = new SpdyStream(this, syn.streamId, syn.headers);
        this.streams.set(syn.streamId, s);
        if (syn.flags & FLAG_FIN) s.onRemoteFin();
        this.emit('stream', s);
        return;
      }
      case FrameType.HEADERS: {
        // Extra headers on an open stream: decompress to keep the zlib state in step.
        await this.decompressor.decompress(f.data.subarray(4));
        const s = this.streams.get(f.data.readUInt32BE(0) & 0x7fffffff);
        if (s && f.flags & FLAG_FIN) s.onRemoteFin();
        return;
      }
      case FrameType.SYN_REPLY: {
        await this.decompressor.decompress(f.data.subarray(4));
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        const waiting = this.awaitingReply.get(id);
        if (waiting) {
          this.awaitingReply.delete(id);
          waiting.resolve(waiting.stream);
        }
        if (f.flags & FLAG_FIN) this.streams.get(id)?.onRemoteFin();
        return;
      }
      case FrameType.RST_STREAM: {
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        const waiting = this.awaitingReply.get(id);
        if (waiting) {
          this.awaitingReply.delete(id);
          waiting.reject(new Error(`spdy: stream ${id} refused (RST_STREAM status ${f.data.readUInt32BE(4)})`));
        }
        const s = this.streams.get(id);
        s?.onReset();
        return;
      }
      case FrameType.PING:
        // Only peer-initiated (odd) ids are echoed; ours would be even.
        this.writeRaw(encodeControlFrame(FrameType.PING, 0, f.data.subarray(0, 4)));
        return;
      case FrameType.GOAWAY:
        this.emit('goaway');
        return;
      default:
        // SETTINGS, WINDOW_UPDATE (we do not throttle our sends), unknown types: ignored.
        return;
    }
  }

  /** GOAWAY, then close the connection; every open stream ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.outChain.then(() => {
      if (!this.conn.destroyed && this.conn.writable) {
        try {
          this.conn.write(encodeGoAway(this.lastStreamId));
        } catch {
          /* closing anyway */
        }
        this.conn.end();
      }
      setTimeout(() => this.conn.destroy(), 1000).unref();
    });
    for (const w of this.awaitingReply.values()) w.reject(new Error('spdy: connection closed before the stream was accepted'));
    this.awaitingReply.clear();
    for (const s of [...this.streams.values()]) {
      s.onReset();
    }
    this.streams.clear();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
