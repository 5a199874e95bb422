// The embedded default backend: SQLite (better-sqlite3) in WAL mode.
//
// Schema: `log` holds one row per revision (the revision log, like etcd's MVCC history and
// kine's `kine` table); `kv` maps each live key to the revision of its latest row, so
// current reads are an indexed point lookup plus a primary-key lookup. `meta` remembers the
// current and the compacted revision (the log alone cannot: compaction may drop the newest
// row when it was a delete).
//
// Group commit: better-sqlite3 is synchronous and each durable commit costs an fsync. Writes
// that arrive in the same event-loop turn are queued and committed together in one
// transaction (each still gets its own revision and its own success or failure); their
// promises resolve only after COMMIT returns. Measured on these machines (bench/storage.ts):
// with group commit, synchronous=FULL keeps concurrent throughput within a few percent of
// NORMAL, and FULL also survives power loss (NORMAL in WAL mode survives a process crash
// only). So FULL is the default, like etcd's fsync per raft batch; NORMAL is an option.

import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchCallbacks,
  type WatchEvent,
  type Watcher,
} from './store.js';
import { prefixEnd } from './keys.js';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created). */
  path: string;
  /** FULL (default): durable across power loss. NORMAL: across process crashes only. */
  synchronous?: 'FULL' | 'NORMAL';
}

interface LogRow {
  rev: number;
  key: string;
  deleted: number;
  create_rev: number;
  prev_rev: number;
  value: string | null;
}

interface PendingWrite {
  op: 'create' | 'update' | 'delete';
  key: string;
  value?: string;
  expected?: number;
  resolve(kv: KeyValue): void;
  reject(err: Error): void;
}

interface SqliteWatch {
  prefix: string;
  /** Events at or below this revision were replayed (or predate the watch): skip them live. */
  minRev: number;
  cb: WatchCallbacks;
  buf: WatchEvent[];
  scheduled: boolean;
  cancelled: boolean;
}

// Any TEXT value sorts before any BLOB in SQLite, so a one-byte blob is an upper bound
// for "all keys" (the empty prefix).
const NO_UPPER_BOUND = Buffer.from([0xff]);
// Rows examined per compaction transaction: keeps each transaction (and the event-loop
// pause it causes) short.
const COMPACT_CHUNK = 2000;

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private rev: number;
  private compacted: number;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly watchers = new Set<SqliteWatch>();
  private readonly st: ReturnType<SqliteStore['prepare']>;

  constructor(readonly opts: SqliteStoreOptions) {
    mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    // auto_vacuum only takes effect before the first table exists.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    // After a checkpoint, truncate the WAL file back to this size so it cannot stay huge.
    this.db.pragma('journal_size_limit = 16777216');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS log (
        rev INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        create_rev INTEGER NOT NULL,
        prev_rev INTEGER NOT NULL,
        value TEXT
      );
      CREATE INDEX IF NOT EXISTS log_key_rev ON log(key, rev);
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT OR IGNORE INTO meta VALUES ('rev', 0), ('compact', 0);
    `);
    this.st = this.prepare();
    this.rev = this.st.getMeta.pluck().get('rev') as number;
    this.compacted = this.st.getMeta.pluck().get('compact') as number;
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
      current: db.prepare<[string], LogRow>(
        'SELECT l.* FROM kv JOIN log l ON l.rev = kv.rev WHERE kv.key = ?',
      ),
      atRev: db.prepare<[string, number], LogRow>(
        'SELECT * FROM log WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1',
      ),
      byRev: db.prepare<[number], LogRow>('SELECT * FROM log WHERE rev = ?'),
      insertLog: db.prepare(
        'INSERT INTO log (rev, key, deleted, create_rev, prev_rev, value) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      upsertKv: db.prepare('INSERT INTO kv (key, rev) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET rev = excluded.rev'),
      deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      list: db.prepare<[string, string | Buffer, number], LogRow>(
        'SELECT l.* FROM kv JOIN log l ON l.rev = kv.rev WHERE kv.key >= ? AND kv.key < ? ORDER BY kv.key LIMIT ?',
      ),
      count: db.prepare('SELECT count(*) FROM kv WHERE key >= ? AND key < ?'),
      countAfter: db.prepare('SELECT count(*) FROM kv WHERE key > ? AND key < ?'),
      // The newest row at or below a revision for each key in the range; deleted keys drop out.
      listAt: db.prepare<[string, string | Buffer, number, number], LogRow>(`
        SELECT l.* FROM log l
        JOIN (SELECT key, max(rev) AS rev FROM log WHERE key >= ? AND key < ? AND rev <= ? GROUP BY key) m
          ON l.rev = m.rev
        WHERE l.deleted = 0 ORDER BY l.key LIMIT ?`),
      countAt: db.prepare(`
        SELECT count(*) FROM log l
        JOIN (SELECT key, max(rev) AS rev FROM log WHERE key > ? AND key < ? AND rev <= ? GROUP BY key) m
          ON l.rev = m.rev
        WHERE l.deleted = 0`),
      replay: db.prepare<[number, string, string | Buffer], LogRow>(
        'SELECT * FROM log WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev',
      ),
      compactScan: db.prepare('SELECT rev FROM log WHERE rev > ? AND rev <= ? ORDER BY rev LIMIT ?'),
      // A row at or below the compact revision goes when it is a tombstone or when a newer
      // row for its key also lies at or below it: reads at or after the compact revision
      // can never see it.
      compactDelete: db.prepare(`
        DELETE FROM log WHERE rev > ? AND rev <= ? AND (deleted = 1 OR EXISTS (
          SELECT 1 FROM log n WHERE n.key = log.key AND n.rev > log.rev AND n.rev <= ?))`),
    };
  }

  // ---- writes (group commit) ----

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue({ op: 'create', key, value });
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.enqueue({ op: 'update', key, value, expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue({ op: 'delete', key, expected: expectedRevision });
  }

  private enqueue(w: Omit<PendingWrite, 'resolve' | 'reject'>): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StorageError('store is closed'));
    return new Promise<KeyValue>((resolve, reject) => {
      this.queue.push({ ...w, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate (not a microtask) so writes issued from other I/O callbacks of this
        // loop turn join the same transaction.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued write in one transaction. Synchronous: nothing interleaves. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const results: (KeyValue | Error)[] = [];
    const events: WatchEvent[] = [];
    let rev = this.rev;
    const st = this.st;
    const apply = this.db.transaction(() => {
      for (const w of batch) {
        const cur = st.current.get(w.key);
        const curKv = cur ? rowToKv(cur) : undefined;
        if (w.op === 'create') {
          if (cur) {
            results.push(new KeyExistsError(w.key));
            continue;
          }
          rev++;
          st.insertLog.run(rev, w.key, 0, rev, 0, w.value!);
          st.upsertKv.run(w.key, rev);
          const kv = { key: w.key, value: w.value!, createRevision: rev, modRevision: rev };
          results.push(kv);
          events.push({ type: 'PUT', kv, created: true });
        } else if (!cur || !curKv) {
          results.push(new NotFoundError(w.key));
        } else if (w.op === 'update') {
          if (cur.rev !== w.expected) {
            results.push(new ConflictError(w.key, curKv));
            continue;
          }
          rev++;
          st.insertLog.run(rev, w.key, 0, cur.create_rev, cur.rev, w.value!);
          st.upsertKv.run(w.key, rev);
          const kv = { key: w.key, value: w.value!, createRevision: cur.create_rev, modRevision: rev };
          results.push(kv);
          events.push({ type: 'PUT', kv, prevKv: curKv });
        } else {
          if (w.expected !== undefined && cur.rev !== w.expected) {
            results.push(new ConflictError(w.key, curKv));
            continue;
          }
          rev++;
          st.insertLog.run(rev, w.key, 1, cur.create_rev, cur.rev, null);
          st.deleteKv.run(w.key);
          const kv = { ...curKv, modRevision: rev };
          results.push(kv);
          events.push({ type: 'DELETE', kv, prevKv: curKv });
        }
      }
      if (rev !== this.rev) st.setMeta.run(rev, 'rev');
    });
    try {
      apply.immediate();
    } catch (err) {
      // The whole transaction rolled back (disk full, I/O error): every write in it failed.
      const e = err instanceof Error ? err : new StorageError(String(err));
      for (const w of batch) w.reject(e);
      return;
    }
    this.rev = rev;
    if (events.length > 0) this.dispatch(events);
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (r instanceof Error) batch[i].reject(r);
      else batch[i].resolve(r);
    }
  }

  // ---- reads ----

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    this.checkOpen();
    if (!revision || revision === this.rev) {
      const row = this.st.current.get(key);
      return row ? rowToKv(row) : undefined;
    }
    this.checkRevision(revision);
    const row = this.st.atRev.get(key, revision);
    return row && !row.deleted ? rowToKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const end = prefixEnd(prefix) ?? NO_UPPER_BOUND;
    const start = opts.startKey && opts.startKey > prefix ? opts.startKey : prefix;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const revision = opts.revision && opts.revision !== this.rev ? opts.revision : 0;
    if (revision) this.checkRevision(revision);
    // Ask for one more than the limit to learn whether there is more.
    const sqlLimit = limit ? limit + 1 : -1;
    const rows = revision
      ? this.st.listAt.all(start, end, revision, sqlLimit)
      : this.st.list.all(start, end, sqlLimit);
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map(rowToKv);
    const result: ListResult = { items, revision: revision || this.rev, more };
    if (more) {
      const last = items[items.length - 1].key;
      result.remaining = (
        revision
          ? this.st.countAt.pluck().get(last, end, revision)
          : this.st.countAfter.pluck().get(last, end)
      ) as number;
    }
    return result;
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    return this.st.count.pluck().get(prefix, prefixEnd(prefix) ?? NO_UPPER_BOUND) as number;
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async compactRevision(): Promise<number> {
    return this.compacted;
  }

  private checkRevision(revision: number): void {
    if (revision < this.compacted) throw new CompactedError(revision, this.compacted);
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('store is closed');
  }

  // ---- watch ----

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    const w: SqliteWatch = { prefix, minRev: 0, cb, buf: [], scheduled: false, cancelled: false };
    const handle: Watcher = {
      cancel: () => {
        w.cancelled = true;
        this.watchers.delete(w);
      },
    };
    if (this.closed) {
      queueMicrotask(() => !w.cancelled && cb.onError(new StorageError('store is closed')));
      return handle;
    }
    if (fromRevision > 0 && fromRevision < this.compacted) {
      const err = new CompactedError(fromRevision, this.compacted);
      queueMicrotask(() => !w.cancelled && cb.onError(err));
      return handle;
    }
    // Replay and registration happen in one synchronous step, and commits are synchronous
    // too, so no write can fall between the replayed history and the live events.
    if (fromRevision > 0 && fromRevision < this.rev) {
      const rows = this.st.replay.all(fromRevision, prefix, prefixEnd(prefix) ?? NO_UPPER_BOUND);
      if (rows.length > 0) this.push(w, rows.map((r) => this.rowToEvent(r)));
    }
    w.minRev = Math.max(fromRevision, this.rev);
    this.watchers.add(w);
    return handle;
  }

  private rowToEvent(row: LogRow): WatchEvent {
    const prev = row.prev_rev ? this.st.byRev.get(row.prev_rev) : undefined;
    const prevKv = prev ? rowToKv(prev) : undefined;
    if (row.deleted) {
      const kv = { key: row.key, value: prevKv?.value ?? '', createRevision: row.create_rev, modRevision: row.rev };
      return { type: 'DELETE', kv, prevKv };
    }
    const ev: WatchEvent = { type: 'PUT', kv: rowToKv(row) };
    if (prevKv) ev.prevKv = prevKv;
    else ev.created = true;
    return ev;
  }

  private dispatch(events: WatchEvent[]): void {
    for (const w of this.watchers) {
      let matched: WatchEvent[] | undefined;
      for (const ev of events) {
        if (ev.kv.modRevision <= w.minRev || !ev.kv.key.startsWith(w.prefix)) continue;
        (matched ??= []).push(ev);
      }
      if (matched) this.push(w, matched);
    }
  }

  private push(w: SqliteWatch, events: WatchEvent[]): void {
    for (const ev of events) w.buf.push(ev);
    if (w.scheduled) return;
    w.scheduled = true;
    // Deliver after the caller regains control (it may not hold the Watcher yet).
    queueMicrotask(() => {
      w.scheduled = false;
      const batch = w.buf;
      w.buf = [];
      if (!w.cancelled && batch.length > 0) w.cb.onEvents(batch);
    });
  }

  // ---- maintenance ----

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision <= this.compacted) return;
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    // Publish the new compact revision first: from now on reads below it fail, so the rows
    // deleted below can no longer be asked for.
    this.compacted = revision;
    this.st.setMeta.run(revision, 'compact');
    let cursor = 0;
    for (;;) {
      if (this.closed) return;
      const revs = this.st.compactScan.pluck().all(cursor, revision, COMPACT_CHUNK) as number[];
      if (revs.length === 0) break;
      const hi = revs[revs.length - 1];
      this.st.compactDelete.run(cursor, hi, revision);
      cursor = hi;
      // Let queued writes and reads run between chunks.
      await new Promise((r) => setImmediate(r));
    }
    if (this.closed) return;
    this.reclaimSpace();
  }

  /** Returns freed pages to the file system and truncates the WAL. */
  private reclaimSpace(): void {
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async dbSize(): Promise<number> {
    let size = 0;
    for (const f of [this.opts.path, `${this.opts.path}-wal`]) {
      try {
        size += statSync(f).size;
      } catch {
        // The WAL file may not exist (after a TRUNCATE checkpoint on some platforms).
      }
    }
    return size;
  }

  async health(): Promise<{ ok: boolean; message?: string }> {
    if (this.closed) return { ok: false, message: 'store is closed' };
    try {
      this.db.prepare('SELECT 1').get();
      return { ok: true };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what is queued before closing: those writes were already issued.
    this.flush();
    this.closed = true;
    this.watchers.clear();
    this.db.close();
  }
}

function rowToKv(row: LogRow): KeyValue {
  return { key: row.key, value: row.value ?? '', createRevision: row.create_rev, modRevision: row.rev };
}
