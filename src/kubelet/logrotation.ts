// Container log rotation, as upstream's ContainerLogManager (pkg/kubelet/logs/container_log_manager.go).
// The runtime (containerd) writes each container's CRI log file; without rotation it grows without
// bound. Every monitor period (10 s) each running container whose log is at least
// containerLogMaxSize (10Mi) has it renamed to <path>.<YYYYMMDD-hhmmss> and the runtime reopens
// the path (CRI ReopenContainerLog). At most containerLogMaxFiles (5) files stay per container,
// the live one included; rotated files but the newest are gzipped (<name>.gz), and the oldest go
// first so that a `kubectl logs` in progress keeps its file.
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ContainerRuntime } from './runtime/types.js';

export interface LogRotationPolicy {
  /** containerLogMaxSize in bytes (upstream default 10Mi). */
  maxSize: number;
  /** containerLogMaxFiles, the live file included (upstream default 5; must be at least 2). */
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotationPolicy = { maxSize: 10 * 1024 * 1024, maxFiles: 5 };
/** upstream's containerLogMonitorInterval. */
export const LOG_MONITOR_PERIOD_MS = 10_000;

const COMPRESS_SUFFIX = '.gz';
const TMP_SUFFIX = '.tmp';

type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** Go's "20060102-150405" in local time, upstream's rotated-file suffix. */
export function rotationTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export class ContainerLogManager {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;

  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'listContainers' | 'reopenContainerLog'>,
    private readonly policy: LogRotationPolicy = DEFAULT_LOG_ROTATION,
    private readonly warn: LogFn = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {
    if (policy.maxFiles <= 1) throw new Error(`invalid MaxFiles ${policy.maxFiles}, must be > 1`);
  }

  /** Rotates every period until stop(); one pass at a time. */
  start(periodMs = LOG_MONITOR_PERIOD_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.pass) return;
      this.pass = this.rotateLogs()
        .catch((e) => this.warn('container log rotation failed', { err: String(e) }))
        .finally(() => (this.pass = undefined));
    }, periodMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass over the running containers (upstream's rotateLogs). */
  async rotateLogs(): Promise<void> {
    const reopen = this.runtime.reopenContainerLog?.bind(this.runtime);
    if (!reopen) return;
    for (const c of await this.runtime.listContainers()) {
      // Only a running container's log grows; the runtime can reopen only a running one's.
      if (c.state !== 'running' || !c.logPath) continue;
      const path = c.logPath;
      let size: number;
      try {
        size = (await fsp.stat(path)).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.warn('failed to stat container log', { id: c.id, path, err: String(e) });
          continue;
        }
        // A rotation that lost the file (renamed, reopen failed, kubelet restarted): recreate it.
        try {
          await reopen(c.id);
          size = (await fsp.stat(path)).size;
        } catch (err) {
          this.warn('failed to reopen container log', { id: c.id, path, err: String(err) });
          continue;
        }
      }
      if (size < this.policy.maxSize) continue;
      try {
        await this.rotateLog(c.id, path, reopen);
      } catch (err) {
        this.warn('failed to rotate log for container', { id: c.id, path, err: String(err) });
      }
    }
  }

  private async rotateLog(id: string, path: string, reopen: (id: string) => Promise<void>): Promise<void> {
    const dir = dirname(path);
    const prefix = `${basename(path)}.`;
    let logs = (await fsp.readdir(dir)).filter((f) => f.startsWith(prefix)).map((f) => join(dir, f));
    logs = await this.cleanupUnusedLogs(logs);
    logs = await this.removeExcessLogs(logs);
    for (const l of logs) if (!l.endsWith(COMPRESS_SUFFIX)) await compressLog(l);
    // Rename, then have the runtime reopen the path; put it back if it cannot (next pass retries).
    const rotated = `${path}.${rotationTimestamp(this.now())}`;
    await fsp.rename(path, rotated);
    try {
      await reopen(id);
    } catch (err) {
      await fsp.rename(rotated, path).catch((e) => this.warn('failed to rename rotated log back', { rotated, path, err: String(e) }));
      throw new Error(`failed to reopen container log "${id}": ${(err as Error).message ?? err}`);
    }
  }

  /** Leftovers of an interrupted compression: the .tmp file, or the original next to its .gz. */
  private async cleanupUnusedLogs(logs: string[]): Promise<string[]> {
    const set = new Set(logs);
    const unused = logs.filter((l) => l.endsWith(TMP_SUFFIX) || (!l.endsWith(COMPRESS_SUFFIX) && set.has(l + COMPRESS_SUFFIX)));
    for (const l of unused) await fsp.rm(l, { force: true });
    return logs.filter((l) => !unused.includes(l));
  }

  /** Keeps MaxFiles-2 rotated files (the live file and the one about to rotate make MaxFiles), oldest removed first. */
  private async removeExcessLogs(logs: string[]): Promise<string[]> {
    const sorted = [...logs].sort();
    const keep = Math.max(0, this.policy.maxFiles - 2);
    const excess = sorted.slice(0, Math.max(0, sorted.length - keep));
    for (const l of excess) await fsp.rm(l, { force: true });
    return sorted.slice(excess.length);
  }
}

/** gzip into <log>.tmp, rename to <log>.gz, remove the original (a crash leaves what cleanupUnusedLogs removes). */
async function compressLog(log: string): Promise<void> {
  const tmp = log + TMP_SUFFIX;
  await pipeline(createReadStream(log), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
  await fsp.rename(tmp, log + COMPRESS_SUFFIX);
  await fsp.rm(log, { force: true });
}
