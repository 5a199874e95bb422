// Container logs in the CRI format containerd writes and the kubelet reads:
//   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>
// one record per line; F ends a line, P is a partial line continued by the next record.
// The writer is used by the process runtime; the reader serves `kubectl logs` (the kubelet
// server imports it) and termination messages (FallbackToLogsOnError).
import { createReadStream, promises as fsp, type WriteStream, createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

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
  /** Last N lines only (-1 or undefined: all). */
  tailLines?: number;
  /** Only records at or after this time (sinceTime / sinceSeconds resolved by the caller). */
  since?: Date;
  timestamps?: boolean;
  limitBytes?: number;
  /** While following: is the container still running? When it returns false the reader stops at EOF. */
  stillRunning?: () => boolean | Promise<boolean>;
  signal?: AbortSignal;
  /** Poll interval while following (default 200 ms). */
  pollMs?: number;
}

function formatRecord(r: LogRecord, timestamps: boolean): string {
  const body = r.partial ? r.content : r.content + '\n';
  return timestamps ? `${r.timestamp} ${body}` : body;
}

/**
 * Copies a CRI log file to `out` as `kubectl logs` shows it (content only, or with the
 * timestamp when asked), honouring tail/since/limitBytes, and following the file while the
 * container runs. Resolves when done (never ends `out`).
 */
export async function readLogs(path: string, out: Writable, opts: ReadLogOptions = {}): Promise<void> {
  let written = 0;
  const limit = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  const emit = (s: string): boolean => {
    if (written >= limit) return false;
    let chunk = s;
    if (written + Buffer.byteLength(chunk) > limit) chunk = Buffer.from(chunk).subarray(0, limit - written).toString('utf8');
    written += Buffer.byteLength(chunk);
    out.write(chunk);
    return written < limit;
  };
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !opts.follow) throw e;
    text = '';
  }
  // Only complete lines; a trailing fragment is re-read when following.
  let offset = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
  let records = text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map(parseCRILogLine)
    .filter((r): r is LogRecord => !!r);
  if (opts.since) records = records.filter((r) => r.time.getTime() >= opts.since!.getTime());
  if (opts.tailLines !== undefined && opts.tailLines >= 0) {
    // Count lines (a line is one or more P records ending with an F record).
    let lines = 0;
    let i = records.length - 1;
    for (; i >= 0; i--) {
      if (!records[i]!.partial) {
        if (lines === opts.tailLines) break;
        lines++;
      }
    }
    records = records.slice(i + 1);
  }
  for (const r of records) if (!emit(formatRecord(r, !!opts.timestamps))) return;
  if (!opts.follow) return;
  const poll = opts.pollMs ?? 200;
  for (;;) {
    if (opts.signal?.aborted) return;
    let size = 0;
    try {
      size = (await fsp.stat(path)).size;
    } catch {
      size = 0;
    }
    if (size > offset) {
      const chunk = await readRange(path, offset, size);
      const end = chunk.lastIndexOf('\n');
      if (end >= 0) {
        const complete = chunk.slice(0, end + 1);
        offset += Buffer.byteLength(complete);
        for (const line of complete.split('\n')) {
          if (!line) continue;
          const r = parseCRILogLine(line);
          if (!r) continue;
          if (opts.since && r.time.getTime() < opts.since.getTime()) continue;
          if (!emit(formatRecord(r, !!opts.timestamps))) return;
        }
        continue;
      }
    } else if (size < offset) offset = 0; // rotated/truncated
    if (opts.stillRunning && !(await opts.stillRunning())) {
      // One last look for what the container wrote before it ended.
      const s = await fsp.stat(path).catch(() => undefined);
      if (!s || s.size <= offset) return;
      continue;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, poll);
      opts.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

function readRange(path: string, start: number, end: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    createReadStream(path, { start, end: end - 1 })
      .on('data', (c) => chunks.push(c as Buffer))
      .on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      .on('error', reject);
  });
}

/** The last `maxBytes`/`maxLines` of a container's log (for FallbackToLogsOnError). */
export async function tailLogText(path: string, maxLines = 80, maxBytes = 2048): Promise<string> {
  const chunks: string[] = [];
  const sink = { write: (s: string) => (chunks.push(s), true) } as unknown as Writable;
  try {
    await readLogs(path, sink, { tailLines: maxLines });
  } catch {
    return '';
  }
  const s = chunks.join('');
  return Buffer.byteLength(s) > maxBytes ? Buffer.from(s).subarray(-maxBytes).toString('utf8') : s;
}
