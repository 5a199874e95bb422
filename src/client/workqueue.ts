// A rate-limited work queue in the shape of client-go's: a key waits in the queue at most
// once, is never processed by two workers at once, and a key re-added while it is being
// processed is processed again afterwards. Failures requeue with exponential back-off.

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Timers for addAfter (a controller's injectable clock, so tests can drive time); default real timers. */
  clock?: { now(): Date; setTimeout(fn: () => void, ms: number): { cancel(): void } };
}

const realTimers: NonNullable<WorkQueueOptions['clock']> = {
  now: () => new Date(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export class WorkQueue {
  private queue: string[] = [];
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private failures = new Map<string, number>();
  /** Keys waiting for addAfter, with when they are due. */
  private delayed = new Map<string, { due: number; timer: { cancel(): void } }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelay: number;
  private readonly maxDelay: number;

  private readonly clock: NonNullable<WorkQueueOptions['clock']>;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelay = opts.baseDelayMs ?? 5;
    this.maxDelay = opts.maxDelayMs ?? 1000_000;
    this.clock = opts.clock ?? realTimers;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
    } else this.queue.push(key);
  }

  /** Adds the key after `ms`; a key already waiting keeps whichever is due first. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = this.clock.now().getTime() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.due <= due) return;
      pending.timer.cancel();
    }
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { due, timer });
  }

  /** Requeue after a failure, waiting baseDelay * 2^failures (capped). */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.baseDelay * 2 ** n, this.maxDelay));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once shut down. Call done(key) afterwards. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}
