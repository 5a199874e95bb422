// The storage contract every backend implements (in the spirit of kine's Backend):
// a revisioned key-value store. One global revision counter grows by one per write,
// as in etcd; every key remembers the revision that created it and the one that last
// modified it. Only the API server talks to a Store.

export interface KeyValue {
  key: string;
  /** Serialized object (JSON text). */
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key. Used as the object's resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or undefined: the current revision). */
  revision?: number;
  /** At most this many items (0 or undefined: no limit). */
  limit?: number;
  /** Start at this key (inclusive); must lie under the prefix. Used for continue tokens. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when the limit cut the list short. */
  more: boolean;
  /** Number of keys after the returned ones (only meaningful when more is true). */
  remaining?: number;
}

export type WatchEventType = 'PUT' | 'DELETE';

export interface WatchEvent {
  type: WatchEventType;
  /** For PUT: the new value. For DELETE: the value just before deletion, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** For PUT of an existing key and for DELETE: the previous value. */
  prevKv?: KeyValue;
  /** True when this PUT created the key. */
  created?: boolean;
}

export interface Watcher {
  cancel(): void;
}

export interface WatchCallbacks {
  /** Events arrive in revision order, none missing, each batch holding one or more revisions. */
  onEvents(events: WatchEvent[]): void;
  /** The watch ended: CompactedError when fromRevision is compacted away, or another failure. */
  onError(err: Error): void;
}

export interface Store {
  /** Creates the key; throws KeyExistsError if it exists. Returns the new revision. */
  create(key: string, value: string): Promise<KeyValue>;
  /** The current value, or undefined. With revision, the value as of that revision (CompactedError if compacted). */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  /** Keys starting with prefix, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of keys under prefix at the current revision. */
  count(prefix: string): Promise<number>;
  /**
   * Replaces the value if the key's modRevision equals expectedRevision.
   * Throws ConflictError (carrying the current KeyValue, if any) otherwise; NotFoundError if absent.
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /**
   * Deletes the key (only if its modRevision equals expectedRevision, when given).
   * Returns the deleted KeyValue with modRevision = the delete's revision.
   * Throws NotFoundError if absent, ConflictError on a revision mismatch.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /**
   * Streams every change under prefix with revision > fromRevision.
   * fromRevision 0 means "from now". Calls onError(CompactedError) if history before
   * fromRevision+1 is gone.
   */
  watch(prefix: string, fromRevision: number, cb: WatchCallbacks): Watcher;
  /** The latest revision. */
  currentRevision(): Promise<number>;
  /** The oldest revision still readable (history before it is compacted). */
  compactRevision(): Promise<number>;
  /** Drops history at and below revision (keeps each key's latest value). */
  compact(revision: number): Promise<void>;
  /** Bytes used on disk (or reported by the backend). */
  dbSize(): Promise<number>;
  /** Whether the backend answers (for /readyz and componentstatuses). */
  health(): Promise<{ ok: boolean; message?: string }>;
  /** A short backend name for logs: "sqlite" or "etcd". */
  readonly name: string;
  close(): Promise<void>;
}

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class KeyExistsError extends StorageError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}

export class NotFoundError extends StorageError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

export class ConflictError extends StorageError {
  constructor(readonly key: string, readonly current?: KeyValue) {
    super(`revision mismatch for key ${key}`);
  }
}

/** The requested revision has been compacted away (HTTP 410 Gone at the API). */
export class CompactedError extends StorageError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`required revision ${requested} has been compacted (oldest available ${compacted + 1})`);
  }
}

/** The requested revision is newer than the store's current revision. */
export class FutureRevisionError extends StorageError {
  constructor(readonly requested: number, readonly current: number) {
    super(`required revision ${requested} is a future revision (current ${current})`);
  }
}
