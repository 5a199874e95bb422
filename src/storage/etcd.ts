// The etcd v3 backend, through the `etcd3` client's raw KV/Watch/Maintenance RPCs.
//
// Every operation is one round trip: create and update are transactions whose failure
// branch reads the current value (so a conflict needs no second request), and writes ask
// for prev_kv instead of reading first. resourceVersion = the key's mod_revision; the
// global revision = the response header's revision. grpc-js costs our process ~0.3 ms of
// CPU per call, so serve hot reads from a watch cache above this layer, not from here.

import { Etcd3, type IKeyValue, type IWatchResponse, type IEvent } from 'etcd3';
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
import { prefixEndBytes } from './keys.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** Stored keys are prefix + key (lets several clusters share one etcd). */
  prefix?: string;
}

const COMPACTED = 'required revision has been compacted';
const FUTURE = 'required revision is a future revision';
/** Keys per range request when reading a big list. */
const LIST_PAGE = 1000;

export class EtcdStore implements Store {
  readonly name = 'etcd';
  readonly client: Etcd3;
  private readonly prefix: Buffer;
  /** The highest compact revision we know of (from our compactions or etcd's answers). */
  private knownCompacted = 0;
  private compactProbed = false;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(opts: EtcdStoreOptions) {
    // Big lists come back in pages (see list()); the limit only guards against a huge page.
    this.client = new Etcd3({ hosts: opts.endpoints, grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } });
    this.prefix = Buffer.from(opts.prefix ?? '');
  }

  /** The etcd key for a store key. */
  k(key: string): Buffer {
    return this.prefix.length ? Buffer.concat([this.prefix, Buffer.from(key)]) : Buffer.from(key);
  }

  /** Our key for an etcd key. */
  private unk(key: Buffer): string {
    return key.toString('utf8', this.prefix.length);
  }

  toKv(kv: IKeyValue): KeyValue {
    return {
      key: this.unk(kv.key),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /** [start, end) for every key under prefix. */
  range(prefix: string): { key: Buffer; range_end: Buffer } {
    const key = this.k(prefix);
    return { key, range_end: prefixEndBytes(key) };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = this.k(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
    });
    if (!res.succeeded) throw new KeyExistsError(key);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const k = this.k(key);
    const res = await this.client.kv.txn({
      compare: [
        // create_revision > 0: "mod_revision == 0" alone would also match an absent key.
        { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
        { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision },
      ],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range?.kvs?.[0];
      if (!cur) throw new NotFoundError(key);
      throw new ConflictError(key, this.toKv(cur));
    }
    const prev = res.responses[0].response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    const k = this.k(key);
    const compare =
      expectedRevision === undefined
        ? [{ key: k, target: 'Create' as const, result: 'Greater' as const, create_revision: 0 }]
        : [
            { key: k, target: 'Create' as const, result: 'Greater' as const, create_revision: 0 },
            { key: k, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedRevision },
          ];
    const res = await this.client.kv.txn({
      compare,
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) {
      const cur = res.responses[0]?.response_range?.kvs?.[0];
      if (!cur) throw new NotFoundError(key);
      throw new ConflictError(key, this.toKv(cur));
    }
    const prev = res.responses[0].response_delete_range.prev_kvs[0];
    if (!prev) throw new NotFoundError(key);
    return { ...this.toKv(prev), modRevision: Number(res.header.revision) };
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    try {
      const res = await this.client.kv.range({ key: this.k(key), revision: revision || 0 });
      const kv = res.kvs[0];
      return kv ? this.toKv(kv) : undefined;
    } catch (err) {
      throw await this.mapReadError(err, revision ?? 0);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    if (limit === 0 || limit > LIST_PAGE) {
      // Read big lists page by page at one revision: one range response for 10,000 pods
      // would be tens of MB, past gRPC's message limit.
      const items: KeyValue[] = [];
      let revision = opts.revision || 0;
      let startKey = opts.startKey;
      for (;;) {
        const want = limit ? Math.min(LIST_PAGE, limit - items.length) : LIST_PAGE;
        const page = await this.listPage(prefix, { revision, startKey, limit: want });
        revision = page.revision;
        items.push(...page.items);
        if (!page.more || (limit && items.length >= limit)) {
          const result: ListResult = { items, revision, more: page.more };
          if (page.more) result.remaining = page.remaining;
          return result;
        }
        startKey = page.items[page.items.length - 1]!.key + '\0';
      }
    }
    return this.listPage(prefix, { ...opts, limit });
  }

  private async listPage(prefix: string, opts: ListOptions): Promise<ListResult> {
    const r = this.range(prefix);
    const key = opts.startKey && opts.startKey > prefix ? this.k(opts.startKey) : r.key;
    const limit = opts.limit ?? 0;
    try {
      const res = await this.client.kv.range({
        key,
        range_end: r.range_end,
        limit,
        revision: opts.revision || 0,
        serializable: false,
      });
      const items = res.kvs.map((kv) => this.toKv(kv));
      const result: ListResult = {
        items,
        revision: opts.revision || Number(res.header.revision),
        more: !!res.more,
      };
      // count covers the whole [start, end) range, so what is left is count - returned.
      if (result.more) result.remaining = Number(res.count) - items.length;
      return result;
    } catch (err) {
      throw await this.mapReadError(err, opts.revision ?? 0);
    }
  }

  async count(prefix: string): Promise<number> {
    const res = await this.client.kv.range({ ...this.range(prefix), count_only: true });
    return Number(res.count);
  }

  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: this.k('\0revision'), count_only: true });
    return Number(res.header.revision);
  }

  async compactRevision(): Promise<number> {
    if (!this.compactProbed) {
      this.compactProbed = true;
      await this.probeCompacted();
    }
    return this.knownCompacted;
  }

  /**
   * Learns etcd's compact revision (another server may have compacted): a read at
   * revision 1 fails once anything is compacted, and a watch from revision 1 is then
   * cancelled with the exact compact revision.
   */
  private async probeCompacted(): Promise<void> {
    try {
      await this.client.kv.range({ key: this.k('\0compact-probe'), revision: 1, count_only: true });
      return; // nothing compacted yet
    } catch (err) {
      if (!String((err as Error).message).includes(COMPACTED)) throw err;
    }
    const stream = await this.client.watchClient.watch();
    const rev = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(this.knownCompacted), 2000);
      stream.on('data', (res: IWatchResponse) => {
        const c = Number(res.compact_revision);
        if (c > 0) {
          clearTimeout(timer);
          resolve(c);
        }
      });
      stream.on('error', () => {
        clearTimeout(timer);
        resolve(this.knownCompacted);
      });
      stream.write({ create_request: { key: this.k('\0compact-probe'), start_revision: 1 } });
    });
    stream.end();
    this.noteCompacted(rev);
  }

  noteCompacted(rev: number): void {
    if (rev > this.knownCompacted) this.knownCompacted = rev;
  }

  private async mapReadError(err: unknown, revision: number): Promise<Error> {
    const msg = String((err as Error)?.message ?? err);
    if (msg.includes(COMPACTED)) {
      this.compactProbed = false;
      const compacted = await this.compactRevision().catch(() => this.knownCompacted);
      return new CompactedError(revision, compacted);
    }
    if (msg.includes(FUTURE)) {
      return new FutureRevisionError(revision, await this.currentRevision().catch(() => 0));
    }
    return err instanceof Error ? err : new StorageError(msg);
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.knownCompacted) return;
    try {
      await this.client.kv.compact({ revision, physical: false });
    } catch (err) {
      const msg = String((err as Error).message);
      // Someone (another API server) already compacted at or beyond this revision.
      if (msg.includes(COMPACTED)) return;
      if (msg.includes(FUTURE)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw err;
    }
    this.noteCompacted(revision);
  }

  async dbSize(): Promise<number> {
    const res = await this.client.maintenance.status();
    return Number(res.dbSize);
  }

  async health(): Promise<{ ok: boolean; message?: string }> {
    try {
      await this.client.kv.range(
        { key: this.k('\0health'), count_only: true },
        { deadline: Date.now() + 2000 },
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }

  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher {
    const w = new EtcdWatch(this, prefix, fromRevision, cb, () => this.watches.delete(w));
    this.watches.add(w);
    w.start();
    return w;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) w.cancel();
    this.client.close();
  }
}

type WatchStream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/**
 * One etcd watch on its own gRPC stream. On a broken stream it reconnects from the last
 * revision it delivered, so the caller sees neither a gap nor a duplicate.
 */
class EtcdWatch implements Watcher {
  private stream?: WatchStream;
  private cancelled = false;
  /** Every event at or below this revision has been delivered. */
  private delivered: number;
  private retryDelay = 100;

  constructor(
    private readonly store: EtcdStore,
    private readonly prefix: string,
    private readonly fromRevision: number,
    private readonly cb: WatchCallbacks,
    private readonly onEnd: () => void,
  ) {
    this.delivered = fromRevision;
  }

  start(): void {
    this.store.client.watchClient.watch().then(
      (stream) => {
        if (this.cancelled) {
          stream.end();
          return;
        }
        this.stream = stream;
        stream.on('data', (res: IWatchResponse) => this.onResponse(res));
        stream.on('error', (err: Error) => this.onBroken(stream, err));
        stream.on('end', () => this.onBroken(stream, new StorageError('etcd watch stream ended')));
        stream.write({
          create_request: {
            ...this.store.range(this.prefix),
            // 0 = "from now"; otherwise etcd's start_revision is inclusive.
            start_revision: this.delivered > 0 ? this.delivered + 1 : 0,
            prev_kv: true,
            progress_notify: true,
          },
        });
      },
      (err: Error) => this.onBroken(undefined, err),
    );
  }

  private onResponse(res: IWatchResponse): void {
    if (this.cancelled) return;
    const compactRev = Number(res.compact_revision);
    if (compactRev > 0) {
      this.store.noteCompacted(compactRev);
      this.fail(new CompactedError(this.delivered, compactRev));
      return;
    }
    if (res.canceled) {
      this.fail(new StorageError(`etcd watch canceled: ${res.cancel_reason || 'unknown reason'}`));
      return;
    }
    this.retryDelay = 100;
    const header = Number(res.header.revision);
    if (res.created) {
      // A watch "from now" starts after the revision etcd reports at creation.
      if (this.delivered === 0) this.delivered = header;
      return;
    }
    if (res.events.length === 0) {
      // Progress notification: every event up to header.revision has been sent.
      if (header > this.delivered) this.delivered = header;
      return;
    }
    const events = res.events.map((e) => this.toEvent(e));
    this.delivered = events[events.length - 1].kv.modRevision;
    this.cb.onEvents(events);
  }

  private toEvent(e: IEvent): WatchEvent {
    const prevKv = e.prev_kv ? this.store.toKv(e.prev_kv) : undefined;
    if (e.type === 'Delete') {
      const kv = this.store.toKv(e.kv);
      return {
        type: 'DELETE',
        kv: { ...kv, value: prevKv?.value ?? '', createRevision: prevKv?.createRevision ?? kv.createRevision },
        prevKv,
      };
    }
    const kv = this.store.toKv(e.kv);
    const ev: WatchEvent = { type: 'PUT', kv };
    if (kv.createRevision === kv.modRevision) ev.created = true;
    else if (prevKv) ev.prevKv = prevKv;
    return ev;
  }

  private onBroken(stream: WatchStream | undefined, _err: Error): void {
    if (this.cancelled || (stream && stream !== this.stream)) return;
    this.stream = undefined;
    // Reconnect from where we are; etcd itself says "compacted" if we fell too far behind.
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 5000);
    setTimeout(() => !this.cancelled && this.start(), delay).unref?.();
  }

  private fail(err: Error): void {
    this.cancel();
    this.cb.onError(err);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.onEnd();
    const s = this.stream;
    this.stream = undefined;
    // Half-close: etcd ends the stream and its watches; no error is reported to the pool.
    s?.end();
  }
}
