// Container logs in the CRI format containerd writes and the kubelet reads:
//   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>
// one record per line; F ends a line, P is a partial line continued by the next record.
// The writer is used by the process runtime; the reader serves `kubectl logs` (the kubelet
// server imports it) and termination messages (FallbackToLogsOnError). The reader streams the
// file in large blocks (tail reads backwards from the end) and parses records as bytes, as
// upstream's pkg/kubelet/kuberuntime/logs does: a 32 MiB log is never one string.
import { promises as fsp, type WriteStream, createWriteStream, mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  time: Date;
  /** The timestamp exactly as written (RFC 3339 with sub-second digits). */
  timestamp: string;
  stream: LogStream;
  partial: boolean;
  content: string;
}

/** Parses one CRI log line (without its trailing newline); undefined when malformed. */
export function parseCRILogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  if (a < 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const timestamp = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const time = new Date(timestamp);
  if (Number.isNaN(time.getTime())) return undefined;
  // Tag: "F" or "P" (older containerd wrote no tag: the rest is content).
  let partial = false;
  let content: string;
  const c = line.indexOf(' ', b + 1);
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  if (tag === 'F' || tag === 'P') {
    partial = tag === 'P';
    content = c < 0 ? '' : line.slice(c + 1);
  } else content = line.slice(b + 1);
  return { time, timestamp, stream, partial, content };
}

/** RFC3339Nano as Go prints it (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d+)Z$/, (_m, f: string) => {
    const t = f.replace(/0+$/, '');
    return t ? `.${t}Z` : 'Z';
  });
}

/** Writes one stream of a container into a CRI log file (shared by stdout and stderr writers). */
export class CRILogWriter {
  private readonly out: WriteStream;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };
  private static readonly MAX_LINE = 16 * 1024;

  constructor(readonly path: string, private readonly now: () => Date = () => new Date()) {
    mkdirSync(dirname(path), { recursive: true });
    this.out = createWriteStream(path, { flags: 'a' });
  }

  /** Feeds raw bytes a container wrote on one of its streams. */
  write(stream: LogStream, chunk: Buffer | string): void {
    let s = this.pending[stream] + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    let nl: number;
    const ts = rfc3339Nano(this.now());
    let buf = '';
    while ((nl = s.indexOf('\n')) >= 0) {
      buf += `${ts} ${stream} F ${s.slice(0, nl)}\n`;
      s = s.slice(nl + 1);
    }
    while (s.length > CRILogWriter.MAX_LINE) {
      buf += `${ts} ${stream} P ${s.slice(0, CRILogWriter.MAX_LINE)}\n`;
      s = s.slice(CRILogWriter.MAX_LINE);
    }
    this.pending[stream] = s;
    if (buf) this.out.write(buf);
  }

  /** Pipes a readable (a child's stdout/stderr) into the log. */
  attach(stream: LogStream, r: Readable): void {
    r.on('data', (c: Buffer) => this.write(stream, c));
    r.on('end', () => this.flush(stream));
  }

  flush(stream: LogStream): void {
    const s = this.pending[stream];
    if (!s) return;
    this.pending[stream] = '';
    this.out.write(`${rfc3339Nano(this.now())} ${stream} F ${s}\n`);
  }

  close(): Promise<void> {
    this.flush('stdout');
    this.flush('stderr');
    return new Promise((r) => this.out.end(() => r()));
  }
}

/** <podLogDir>/<container>/<attempt>.log, as the kubelet lays them out. */
export function containerLogPath(podLogDir: string, container: string, attempt: number): string {
  return join(podLogDir, container, `${attempt}.log`);
}

/** /var/log/pods/<ns>_<name>_<uid> under the kubelet's root. */
export function podLogDir(rootDir: string, namespace: string, name: string, uid: string): string {
  return join(rootDir, 'logs', 'pods', `${namespace}_${name}_${uid}`);
}

export interface ReadLogOptions {
  follow?: boolean;
  /** Last N lines only (-1 or undefined: all). A line is one or more P records ending with an F record. */
  tailLines?: number;
  /** Only records at or after this time (sinceTime / sinceSeconds resolved by the caller). */
  since?: Date;
  timestamps?: boolean;
  limitBytes?: number;
  /** While following: is the container still running? When it returns false the reader stops at EOF. */
  stillRunning?: () => boolean | Promise<boolean>;
  signal?: AbortSignal;
  /**
   * While following, the longest wait for a change before looking again (default 1000 ms, upstream's
   * logForceCheckPeriod); writes, creations and renames in the log's directory wake it at once (inotify).
   */
  pollMs?: number;
  /** Read size (default 256 KiB); tests make it small to cross block boundaries. */
  chunkSize?: number;
}

const CHUNK = 256 * 1024;
const NL = 0x0a;
const SP = 0x20;
/** Bytes of the next block kept while reading backwards: a record's prefix (timestamp, stream, tag) fits. */
const PREFIX = 256;

/** Where one record's parts are, as offsets into the buffer (no allocation per line). */
interface RecordView {
  /** Offset of the space after the timestamp. */
  tsEnd: number;
  content: number;
  partial: boolean;
}

/**
 * Parses the CRI record in b[p, nl) (nl: its newline, or the end of what is known of it) with
 * indexOf and byte compares: "<timestamp> <stdout|stderr> <F|P>[:tags] <content>"; records
 * without a tag (older containerd) are all content. False when malformed.
 */
function parseRecord(b: Buffer, p: number, nl: number, r: RecordView): boolean {
  const a = b.indexOf(SP, p);
  if (a < 0 || a >= nl) return false;
  const s = a + 1;
  if (s + 6 >= nl || b[s + 6] !== SP || b[s] !== 0x73 || b[s + 1] !== 0x74 || b[s + 2] !== 0x64) return false;
  const out = b[s + 3] === 0x6f && b[s + 4] === 0x75 && b[s + 5] === 0x74; // "out"
  const err = b[s + 3] === 0x65 && b[s + 4] === 0x72 && b[s + 5] === 0x72; // "err"
  if (!out && !err) return false;
  r.tsEnd = a;
  const t = s + 7;
  const tag = b[t];
  if (t < nl && (tag === 0x46 || tag === 0x50)) {
    // "F"/"P" alone, or followed by ":" and more tags (upstream keeps the format forward compatible).
    let c = -1;
    if (t + 1 === nl) c = nl;
    else if (b[t + 1] === SP) c = t + 1;
    else if (b[t + 1] === 0x3a) {
      c = b.indexOf(SP, t);
      if (c < 0 || c > nl) c = nl;
    }
    if (c >= 0) {
      r.partial = tag === 0x50;
      r.content = c < nl ? c + 1 : nl;
      return true;
    }
  }
  r.partial = false;
  r.content = t;
  return true;
}

/** Resolves when `out` can take more (or is gone, or the request is aborted). */
function drained(out: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Turns runs of complete records into what `kubectl logs` shows and writes them in batches. */
class LogCopier {
  private written = 0;
  private readonly limit: number;
  private readonly sinceMs?: number;
  /** The next record starts a line (not the continuation of a P record): it gets the timestamp. */
  private atLineStart = true;
  private lastTs = '';
  private lastTsOk = false;
  private readonly r: RecordView = { tsEnd: 0, content: 0, partial: false };

  constructor(
    private readonly out: Writable,
    private readonly opts: ReadLogOptions,
  ) {
    this.limit = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
    this.sinceMs = opts.since?.getTime();
  }

  get done(): boolean {
    return this.written >= this.limit || !!this.opts.signal?.aborted || this.out.destroyed || this.out.writableEnded;
  }

  /** Date.parse only when since asks, and once per distinct timestamp (records of one write share it). */
  private notBefore(b: Buffer, p: number, tsEnd: number): boolean {
    const ts = b.toString('latin1', p, tsEnd);
    if (ts !== this.lastTs) {
      this.lastTs = ts;
      this.lastTsOk = Date.parse(ts) >= this.sinceMs!;
    }
    return this.lastTsOk;
  }

  /** Copies the complete records in b[start, end) (end just after a newline); false when no more is wanted. */
  async records(b: Buffer, start: number, end: number): Promise<boolean> {
    // What is shown of a record is never longer than the record: one buffer holds a batch.
    const ts = !!this.opts.timestamps;
    // (timestamps: a fixed-width stamp may be up to 10 bytes longer than the one in the file)
    const o = Buffer.allocUnsafe(ts ? 2 * (end - start) + 16 : end - start);
    let n = 0;
    const r = this.r;
    for (let p = start; p < end; ) {
      const nl = b.indexOf(NL, p);
      if (parseRecord(b, p, nl, r) && (this.sinceMs === undefined || this.notBefore(b, p, r.tsEnd))) {
        if (ts && this.atLineStart) n += fixedTimestamp(b, p, r.tsEnd, o, n);
        n += b.copy(o, n, r.content, nl);
        if (!r.partial) o[n++] = NL;
        this.atLineStart = !r.partial;
      }
      p = nl + 1;
    }
    return this.write(o.subarray(0, n));
  }

  private async write(chunk: Buffer): Promise<boolean> {
    if (this.done) return false;
    if (chunk.length === 0) return true;
    if (this.written + chunk.length > this.limit) chunk = chunk.subarray(0, this.limit - this.written);
    this.written += chunk.length;
    if (!this.out.write(chunk) && !this.done) await drained(this.out, this.opts.signal);
    return !this.done;
  }
}

/**
 * Copies the record's timestamp into `o` at `n` as upstream prints it (RFC3339NanoFixed: always
 * nine fractional digits, the zone as written) followed by a space; returns the bytes written.
 */
function fixedTimestamp(b: Buffer, start: number, end: number, o: Buffer, n: number): number {
  // "2006-01-02T15:04:05" is 19 bytes; then an optional ".digits", then Z or ±hh:mm
  let p = start + 19;
  const n0 = n;
  n += b.copy(o, n, start, Math.min(p, end));
  o[n++] = 0x2e; // '.'
  let digits = 0;
  if (b[p] === 0x2e) {
    p++;
    while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) {
      if (digits < 9) o[n++] = b[p]!;
      digits++;
      p++;
    }
  }
  for (; digits < 9; digits++) o[n++] = 0x30;
  n += b.copy(o, n, p, end);
  o[n++] = 0x20;
  return n - n0;
}

/**
 * The offset where the last `n` lines begin, reading backwards from the end in blocks (as
 * upstream's tail.FindTailLineStartIndex): the end of the (n+1)-th F record from the end, or 0.
 * A trailing record without its newline is not counted (it is still being written).
 */
async function tailStart(fh: FileHandle, size: number, n: number, block: number): Promise<number> {
  const r: RecordView = { tsEnd: 0, content: 0, partial: false };
  let pos = size;
  let head = Buffer.alloc(0);
  let recEnd = -1; // file offset just past the newline of the record whose start is looked for
  let count = 0;
  const full = (b: Buffer, p: number, end: number) => parseRecord(b, p, Math.min(end, b.length), r) && !r.partial;
  while (pos > 0) {
    const len = Math.min(block, pos);
    pos -= len;
    const buf = Buffer.allocUnsafe(len + head.length);
    await readFully(fh, buf, len, pos);
    head.copy(buf, len);
    for (let i = len - 1; i >= 0; ) {
      const j = buf.lastIndexOf(NL, i);
      if (j < 0) break;
      if (recEnd >= 0 && full(buf, j + 1, recEnd - 1 - pos) && ++count > n) return recEnd;
      recEnd = pos + j + 1;
      i = j - 1;
    }
    head = buf.subarray(0, Math.min(len, PREFIX));
  }
  // The file's first record.
  if (recEnd >= 0 && full(head, 0, recEnd - 1) && ++count > n) return recEnd;
  return 0;
}

async function readFully(fh: FileHandle, buf: Buffer, len: number, pos: number): Promise<void> {
  for (let off = 0; off < len; ) {
    const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
    if (bytesRead === 0) {
      buf.fill(0, off, len);
      return;
    }
    off += bytesRead;
  }
}

async function openLog(path: string): Promise<FileHandle | undefined> {
  try {
    return await fsp.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Copies a CRI log file to `out` as `kubectl logs` shows it (content only, or with the
 * timestamp when asked), honouring tail/since/limitBytes, and following the file while the
 * container runs — across rotations (the file renamed to <path>.<timestamp> and reopened).
 * Streams in large blocks with backpressure; resolves when done (never ends `out`).
 * A missing file is ENOENT unless following.
 */
export async function readLogs(path: string, out: Writable, opts: ReadLogOptions = {}): Promise<void> {
  const copier = new LogCopier(out, opts);
  let fh = await openLog(path);
  if (!fh && !opts.follow) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });
  let buf = Buffer.allocUnsafe(Math.max(opts.chunkSize ?? CHUNK, 64));
  let pos = 0;
  if (fh && opts.tailLines !== undefined && opts.tailLines >= 0) pos = await tailStart(fh, (await fh.stat()).size, opts.tailLines, buf.length);

  let watcher: FSWatcher | undefined;
  let changed = false;
  let wake: (() => void) | undefined;
  if (opts.follow) {
    try {
      // The directory, not the file: a rotation renames the file and creates a new one.
      watcher = watch(dirname(path), { persistent: false }, () => {
        changed = true;
        wake?.();
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // no directory yet or no inotify: poll
    }
  }
  let finishing = false;
  let drainOld = false;
  try {
    for (;;) {
      if (copier.done) return;
      changed = false;
      // Every complete record from pos to the end of the file.
      while (fh) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        const last = buf.lastIndexOf(NL, bytesRead - 1);
        if (last < 0) {
          // A record longer than the buffer: grow it; else only a record still being written.
          if (bytesRead === buf.length) {
            buf = Buffer.allocUnsafe(buf.length * 2);
            continue;
          }
          break;
        }
        pos += last + 1;
        if (!(await copier.records(buf, 0, last + 1))) return;
        if (bytesRead < buf.length) break;
      }
      if (!opts.follow || finishing) return;
      const st = await fsp.stat(path).catch(() => undefined);
      if (!fh) {
        if (st) {
          fh = await openLog(path);
          pos = 0;
          continue;
        }
      } else if (st) {
        const cur = await fh.stat();
        if (st.ino !== cur.ino || st.dev !== cur.dev) {
          // Rotated: read what was written to the old file before the runtime reopened, then switch.
          if (!drainOld) {
            drainOld = true;
            continue;
          }
          drainOld = false;
          await fh.close();
          fh = await openLog(path);
          pos = 0;
          continue;
        }
        if (st.size < pos) {
          pos = 0; // truncated in place
          continue;
        }
      }
      if (changed) continue;
      if (opts.stillRunning && !(await opts.stillRunning())) {
        // One last look for what the container wrote before it ended.
        finishing = true;
        continue;
      }
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          wake = undefined;
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, opts.pollMs ?? 1000);
        wake = done;
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    watcher?.close();
    await fh?.close();
  }
}

/** The last `maxBytes`/`maxLines` of a container's log (for FallbackToLogsOnError). */
export async function tailLogText(path: string, maxLines = 80, maxBytes = 2048): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  try {
    await readLogs(path, sink, { tailLines: maxLines });
  } catch {
    return '';
  }
  const b = Buffer.concat(chunks);
  return (b.length > maxBytes ? b.subarray(b.length - maxBytes) : b).toString('utf8');
}
