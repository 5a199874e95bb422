// Periodic compaction, like kube-apiserver's compactor (every 5 minutes by default):
// each tick remembers the current revision, and compacts up to the revision remembered
// one window earlier, so history younger than the window stays readable for watches that
// resume and for paginated lists at a fixed revision.

import type { Store } from './store.js';

export interface CompactorOptions {
  intervalMs: number;
  /** Keep at least this much history (rounded up to whole intervals). */
  windowMs: number;
  log?: (msg: string, fields?: object) => void;
  /** Injectable clock for tests. */
  now?: () => number;
}

export class Compactor {
  /** Revisions seen at past ticks, oldest first. */
  private marks: { at: number; rev: number }[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly store: Store, private readonly opts: CompactorOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One compaction step; exposed so tests can drive it without waiting. */
  async tick(): Promise<number | undefined> {
    if (this.running) return undefined; // a slow compaction is still going
    const now = (this.opts.now ?? Date.now)();
    let target: number | undefined;
    const work = (async () => {
      const rev = await this.store.currentRevision();
      this.marks.push({ at: now, rev });
      // The newest mark that is at least one window old is safe to compact to.
      while (this.marks.length > 1 && now - this.marks[1].at >= this.opts.windowMs) this.marks.shift();
      const oldest = this.marks[0];
      if (now - oldest.at < this.opts.windowMs) return;
      if (oldest.rev <= (await this.store.compactRevision())) return;
      const started = Date.now();
      const before = await this.store.dbSize();
      await this.store.compact(oldest.rev);
      target = oldest.rev;
      this.opts.log?.('compacted storage', {
        backend: this.store.name,
        revision: oldest.rev,
        durationMs: Date.now() - started,
        dbSizeBefore: before,
        dbSizeAfter: await this.store.dbSize(),
      });
    })();
    this.running = work.catch((err: unknown) => {
      this.opts.log?.('storage compaction failed', { backend: this.store.name, error: String(err) });
    });
    await this.running;
    this.running = undefined;
    return target;
  }
}
