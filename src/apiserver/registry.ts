// The generic registry: create/get/list/update/delete for any ResourceDecl, on top of
// the Store. This is where upstream's generic registry Store and rest.BeforeCreate /
// BeforeUpdate live: metadata bookkeeping, strategy hooks, admission, optimistic
// concurrency, finalizers and graceful deletion.
import { randomUUID, randomInt } from 'node:crypto';
import type { FieldError, KObject, ResourceDecl, StrategyContext } from '../api/types.js';
import { apiVersionOf } from '../api/types.js';
import { forbidden as forbiddenErr, invalid as invalidErr, required } from '../api/validation/field.js';
import { validateAnnotations, validateLabels, validateName, isQualifiedName } from '../api/validation/names.js';
import type { KeyValue, Store } from '../storage/store.js';
import { CompactedError, ConflictError, KeyExistsError, NotFoundError } from '../storage/store.js';
import type { Admission, UserInfo } from './admission/index.js';
import {
  ApiError,
  OPTIMISTIC_LOCK_MESSAGE,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  resourceExpired,
  tooLarge,
} from './errors.js';
import { listPrefix, objectKey } from './resources.js';
import { decodeKV } from './watchcache.js';

/** Largest object the store accepts (etcd's default request limit). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface RequestContext {
  user: UserInfo;
  dryRun?: boolean;
  /** Records field ownership (metadata.managedFields) on the object about to be written (fieldmanager/). */
  manageFields?: (obj: KObject, old: KObject | undefined) => void | Promise<void>;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** The object: its last state if deleted, or its current state if deletion is pending. */
  obj: KObject;
  /** True when the object is gone from the store now. */
  deleted: boolean;
}

export interface ListOptions {
  /** Return items as JSON text (ListResult.raw) where possible, without decoding them; needs no filter. */
  raw?: boolean;
  limit?: number;
  continueToken?: string;
  /** Read at this exact revision (resourceVersionMatch=Exact or a continue token). */
  revision?: number;
  filter?: (obj: KObject) => boolean;
}

export interface ListResult {
  items: KObject[];
  /** With ListOptions.raw: every item as JSON text, in order (items is then empty). */
  raw?: string[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Upstream's generateName suffix alphabet (no vowels, no confusable characters). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function gr(decl: ResourceDecl) {
  return { group: decl.group, resource: decl.plural };
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function stripForCompare(o: KObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start } satisfies ContinueToken)).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return t;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export class Registry {
  constructor(
    readonly store: Store,
    readonly admission: Admission,
    readonly clock: Clock = systemClock,
    readonly uid: () => string = randomUUID,
  ) {}

  private ctx(): StrategyContext {
    return { now: () => this.clock.now() };
  }

  /** The object in its storage version, or a 404. */
  async get(decl: ResourceDecl, namespace: string, name: string): Promise<KObject> {
    const kv = await this.store.get(objectKey(decl, namespace, name));
    if (!kv) throw notFound(gr(decl), name);
    return decodeKV(kv);
  }

  async list(decl: ResourceDecl, namespace: string, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = listPrefix(decl, namespace);
    let revision = opts.revision ?? 0;
    let startKey: string | undefined;
    if (opts.continueToken) {
      const t = decodeContinue(opts.continueToken);
      revision = t.rv;
      startKey = prefix + t.start;
      if (!startKey.startsWith(prefix)) throw badRequest('continue key is not valid');
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: KObject[] = [];
    const raw: string[] | undefined = opts.raw && !opts.filter ? [] : undefined;
    const count = () => (raw ? raw.length : items.length);
    let rev = revision;
    let more = false;
    let nextKey: string | undefined;
    let remaining: number | undefined;
    // Keep reading pages until the filtered result fills the limit (as upstream does).
    for (;;) {
      let page;
      try {
        page = await this.store.list(prefix, {
          revision: rev || undefined,
          limit: limit ? Math.max(limit - count(), Math.min(limit * 2, 500)) : 0,
          startKey,
        });
      } catch (e) {
        if (e instanceof CompactedError) {
          if (opts.continueToken) throw resourceExpired(EXPIRED_CONTINUE);
          throw resourceExpired(`too old resource version: ${revision} (${e.compacted})`);
        }
        throw e;
      }
      rev = page.revision;
      let i = 0;
      for (; i < page.items.length; i++) {
        const kv = page.items[i]!;
        if (limit && count() >= limit) break;
        if (raw) {
          raw.push(withResourceVersion(kv) ?? JSON.stringify(decodeKV(kv)));
          continue;
        }
        const obj = decodeKV(kv);
        if (!opts.filter || opts.filter(obj)) items.push(obj);
      }
      if (limit && count() >= limit && (i < page.items.length || page.more)) {
        more = true;
        nextKey = i < page.items.length ? page.items[i]!.key : page.items[page.items.length - 1]!.key + '\x00';
        if (!opts.filter) remaining = (page.remaining ?? 0) + (page.items.length - i);
        break;
      }
      if (!page.more || page.items.length === 0) break;
      startKey = page.items[page.items.length - 1]!.key + '\x00';
    }
    const result: ListResult = { items, resourceVersion: String(rev), ...(raw ? { raw } : {}) };
    if (more && nextKey !== undefined) {
      result.continueToken = encodeContinue(rev, nextKey.slice(prefix.length));
      if (remaining !== undefined && remaining > 0) result.remainingItemCount = remaining;
    }
    return result;
  }

  /** rest.BeforeCreate + admission + store create. `obj` is in the storage version. */
  async create(decl: ResourceDecl, namespace: string, input: KObject, rc: RequestContext): Promise<KObject> {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(decl, decl.version);
    obj.kind = decl.kind;
    const meta = (obj.metadata ??= {});
    if (decl.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (!meta.name && meta.generateName) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
      meta.name = meta.generateName + suffix;
    }
    meta.uid = this.uid();
    meta.creationTimestamp = timestamp(this.clock.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (decl.generation ?? !!decl.subresources?.status) meta.generation = 1;
    else delete meta.generation;
    if (decl.subresources?.status && !decl.keepStatusOnCreate) delete obj.status;

    decl.strategy?.defaults?.(obj);
    decl.strategy?.prepareForCreate?.(obj, this.ctx());
    dropEmptyMetadata(meta);
    await rc.manageFields?.(obj, undefined);
    const errs = [...validateObjectMeta(decl, obj, namespace), ...(decl.strategy?.validate?.(obj) ?? [])];
    if (errs.length) throw invalid(decl.group, decl.kind, meta.name ?? '', errs);

    await this.admission.admit({ operation: 'CREATE', decl, namespace, name: meta.name!, obj, user: rc.user, dryRun: !!rc.dryRun });
    // Admission may have mutated the object: validate once more, as upstream does after mutating admission.
    const errs2 = decl.strategy?.validate?.(obj) ?? [];
    if (errs2.length) throw invalid(decl.group, decl.kind, meta.name ?? '', errs2);
    await this.admission.validate({ operation: 'CREATE', decl, namespace, name: meta.name!, obj, user: rc.user, dryRun: !!rc.dryRun });

    const value = encode(obj);
    try {
      if (rc.dryRun) {
        const existing = await this.store.get(objectKey(decl, namespace, meta.name!));
        if (existing) throw new KeyExistsError(existing.key);
        return obj;
      }
      const kv = await this.store.create(objectKey(decl, namespace, meta.name!), value);
      return withRV(obj, kv);
    } catch (e) {
      await this.admission.rollback({ operation: 'CREATE', decl, namespace, name: meta.name!, obj, user: rc.user, dryRun: !!rc.dryRun });
      if (e instanceof KeyExistsError) throw alreadyExists(gr(decl), meta.name!);
      throw e;
    }
  }

  /**
   * GuaranteedUpdate: read, let `mutate` produce the desired object from the current one,
   * run the update strategy, write if the revision still matches, retry on a race.
   * `mutate` throws a Conflict itself when the caller's resourceVersion precondition fails.
   */
  async update(
    decl: ResourceDecl,
    namespace: string,
    name: string,
    mutate: (current: KObject) => KObject | Promise<KObject>,
    rc: RequestContext,
    opts: { subresource?: string; createIfMissing?: KObject | (() => KObject) } = {},
  ): Promise<{ obj: KObject; created: boolean }> {
    const key = objectKey(decl, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) {
        if (opts.createIfMissing && !opts.subresource) {
          const base = typeof opts.createIfMissing === 'function' ? opts.createIfMissing() : opts.createIfMissing;
          try {
            return { obj: await this.create(decl, namespace, base, rc), created: true };
          } catch (e) {
            if (e instanceof ApiError && e.reason === 'AlreadyExists' && attempt < 5) continue;
            throw e;
          }
        }
        throw notFound(gr(decl), name);
      }
      const current = decodeKV(kv);
      let obj = clone(await mutate(clone(current)));
      obj = this.prepareUpdate(decl, namespace, name, obj, current, opts.subresource ?? '');
      await rc.manageFields?.(obj, current);

      await this.admission.admit({ operation: 'UPDATE', decl, namespace, name, obj, old: current, user: rc.user, dryRun: !!rc.dryRun, subresource: opts.subresource });
      await this.admission.validate({ operation: 'UPDATE', decl, namespace, name, obj, old: current, user: rc.user, dryRun: !!rc.dryRun, subresource: opts.subresource });

      // Finalizers gone from an object being deleted: this update completes the deletion.
      const m = obj.metadata;
      const finishDeletion =
        !!m.deletionTimestamp && !m.finalizers?.length && !m.deletionGracePeriodSeconds && !decl.deletion?.blocked?.(obj);
      const { resourceVersion: _rv, ...curMeta } = current.metadata;
      const { resourceVersion: _nrv, ...newMeta } = obj.metadata;
      if (!finishDeletion && deepEqual({ ...obj, metadata: newMeta }, { ...current, metadata: curMeta })) {
        return { obj: current, created: false }; // no-op update: no write, same resourceVersion
      }
      if (rc.dryRun) return { obj, created: false };
      try {
        if (finishDeletion) {
          const del = await this.store.delete(key, kv.modRevision);
          await this.admission.afterDelete({ operation: 'DELETE', decl, namespace, name, obj, user: rc.user, dryRun: false });
          return { obj: withRV(obj, del), created: false };
        }
        const out = await this.store.update(key, encode(obj), kv.modRevision);
        return { obj: withRV(obj, out), created: false };
      } catch (e) {
        if ((e instanceof ConflictError || e instanceof NotFoundError) && attempt < 100) continue;
        throw e;
      }
    }
  }

  /** rest.BeforeUpdate: immutable metadata, status handling, generation, defaults, validation. */
  private prepareUpdate(decl: ResourceDecl, namespace: string, name: string, obj: KObject, old: KObject, subresource: string): KObject {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the object provided is not a valid object');
    obj.metadata ??= {};
    if (obj.metadata.name && obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (decl.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.apiVersion = apiVersionOf(decl, decl.version);
    obj.kind = decl.kind;
    const m = obj.metadata;
    const om = old.metadata;
    // A uid in the request is a precondition, as upstream treats it.
    if (m.uid && m.uid !== om.uid) throw conflict(gr(decl), name, `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${om.uid}`);
    m.name = name;
    if (decl.namespaced) m.namespace = namespace;
    else delete m.namespace;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    if (om.deletionTimestamp) m.deletionTimestamp = om.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (om.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    const errs: FieldError[] = [];
    if (om.deletionTimestamp) {
      const oldF = new Set(om.finalizers ?? []);
      for (const f of m.finalizers ?? []) if (!oldF.has(f)) errs.push(forbiddenErr('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${JSON.stringify(f)}}`));
    }

    if (subresource && subresource !== 'status') {
      // Other subresources (binding, finalize, eviction …) are server code that produces the
      // whole next object itself; only identity metadata is enforced above.
      obj.metadata.generation = old.metadata.generation;
      if (errs.length) throw invalid(decl.group, decl.kind, name, errs);
      return obj;
    }
    if (subresource === 'status') {
      // Status updates change status only (metav1.ResetObjectMetaForStatus).
      if (decl.strategy?.prepareForStatusUpdate) decl.strategy.prepareForStatusUpdate(obj, old);
      else {
        const status = obj.status;
        const rv = m.resourceVersion;
        obj = { ...clone(old), status };
        if (status === undefined) delete obj.status;
        if (rv !== undefined) obj.metadata.resourceVersion = rv;
      }
      obj.metadata.generation = old.metadata.generation;
      const serr = [...errs, ...(decl.strategy?.validateStatusUpdate?.(obj, old) ?? [])];
      if (serr.length) throw invalid(decl.group, decl.kind, name, serr);
      return obj;
    }

    if (decl.subresources?.status) {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }
    decl.strategy?.defaults?.(obj);
    decl.strategy?.prepareForUpdate?.(obj, old, this.ctx());
    if (decl.generation ?? !!decl.subresources?.status) {
      const gen = old.metadata.generation ?? 1;
      m.generation = deepEqual(stripForCompare(obj), stripForCompare(old)) ? gen : gen + 1;
    } else {
      delete m.generation;
    }
    dropEmptyMetadata(m);
    errs.push(...validateObjectMeta(decl, obj, namespace));
    errs.push(...(decl.strategy?.validate?.(obj) ?? []));
    errs.push(...(decl.strategy?.validateUpdate?.(obj, old) ?? []));
    if (errs.length) throw invalid(decl.group, decl.kind, name, errs);
    return obj;
  }

  /** Deletion with preconditions, finalizers, propagation policy and graceful deletion. */
  async delete(decl: ResourceDecl, namespace: string, name: string, opts: DeleteOptions, rc: RequestContext): Promise<DeleteResult> {
    const key = objectKey(decl, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(gr(decl), name);
      const cur = decodeKV(kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== cur.metadata.uid)
        throw conflict(gr(decl), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
        throw conflict(gr(decl), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
      await this.admission.validate({ operation: 'DELETE', decl, namespace, name, obj: cur, old: cur, user: rc.user, dryRun: !!rc.dryRun });

      const next = clone(cur);
      const m = next.metadata;
      const finalizers = new Set(m.finalizers ?? []);
      if (opts.propagationPolicy === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (opts.propagationPolicy === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      }
      const grace = decl.gracefulDeletion ? decl.gracefulDeletion(cur, opts.gracePeriodSeconds) : 0;
      const now = this.clock.now();
      const blocked = !!decl.deletion?.blocked?.(cur);
      let pending = finalizers.size > 0 || grace > 0 || blocked;
      if (m.deletionTimestamp) {
        // Already being deleted: only a shorter grace period changes anything.
        const curGrace = m.deletionGracePeriodSeconds ?? 0;
        if (grace >= curGrace && !(grace === 0 && finalizers.size === 0 && !blocked)) return { obj: cur, deleted: false };
        if (grace < curGrace) {
          m.deletionGracePeriodSeconds = grace;
          m.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
        }
        pending = finalizers.size > 0 || grace > 0 || blocked;
      } else if (pending) {
        m.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
      }
      m.finalizers = finalizers.size ? [...finalizers] : undefined;
      if (!m.finalizers) delete m.finalizers;
      if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;

      if (rc.dryRun) return { obj: next, deleted: !pending };
      try {
        if (pending) {
          decl.deletion?.markPending?.(next);
          const out = await this.store.update(key, encode(next), kv.modRevision);
          return { obj: withRV(next, out), deleted: false };
        }
        const out = await this.store.delete(key, kv.modRevision);
        await this.admission.afterDelete({ operation: 'DELETE', decl, namespace, name, obj: cur, user: rc.user, dryRun: false });
        return { obj: withRV(cur, out), deleted: true };
      } catch (e) {
        if (e instanceof ConflictError && attempt < 100) continue;
        if (e instanceof NotFoundError) throw notFound(gr(decl), name);
        throw e;
      }
    }
  }
}

/** JSON for the store: resourceVersion lives in the store's revision, not in the value. */
export function encode(obj: KObject): string {
  // apiVersion, kind and metadata first, always: a stored value can then have its
  // resourceVersion spliced in without parsing it (see withResourceVersion).
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, ...meta } = metadata ?? {};
  const s = JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
  if (s.length > MAX_OBJECT_BYTES && Buffer.byteLength(s) > MAX_OBJECT_BYTES) throw tooLarge(MAX_OBJECT_BYTES);
  return s;
}

const STORED_HEAD = /^\{"apiVersion":"[^"\\]*","kind":"[^"\\]*","metadata":\{/;

/**
 * A stored value as served JSON text, with metadata.resourceVersion added by splicing
 * rather than parsing (lists of thousands of objects skip JSON.parse and stringify).
 * Undefined when the value is not in encode()'s canonical layout.
 */
export function withResourceVersion(kv: KeyValue): string | undefined {
  const m = STORED_HEAD.exec(kv.value);
  if (!m) return undefined;
  const at = m[0].length;
  const rv = `"resourceVersion":"${kv.modRevision}"`;
  return kv.value.slice(0, at) + rv + (kv.value[at] === '}' ? '' : ',') + kv.value.slice(at);
}

function withRV(obj: KObject, kv: KeyValue): KObject {
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/**
 * ObjectMeta's maps and lists are `omitempty` upstream: removing the last label (or
 * annotation, finalizer, owner reference) leaves no empty `{}`/`[]` behind in the object.
 */
function dropEmptyMetadata(m: KObject['metadata']): void {
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields'] as const) {
    const v = (m as Record<string, unknown>)[k];
    if (v === null || (Array.isArray(v) && v.length === 0) || (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))
      delete (m as Record<string, unknown>)[k];
  }
}

/** ValidateObjectMeta, generic over the declaration. */
export function validateObjectMeta(decl: ResourceDecl, obj: KObject, namespace: string): FieldError[] {
  const errs: FieldError[] = [];
  const m = obj.metadata;
  if (!m || typeof m !== 'object') return [required('metadata')];
  if (!m.name) {
    errs.push(required('metadata.name', 'name or generateName is required'));
  } else if (typeof m.name !== 'string') {
    errs.push(invalidErr('metadata.name', m.name, 'must be a string'));
  } else {
    for (const msg of validateName(decl.nameValidation ?? 'dns1123Subdomain', m.name)) errs.push(invalidErr('metadata.name', m.name, msg));
  }
  if (m.generateName && typeof m.generateName === 'string' && !m.name) {
    for (const msg of validateName(decl.nameValidation ?? 'dns1123Subdomain', m.generateName + 'x'))
      errs.push(invalidErr('metadata.generateName', m.generateName, msg));
  }
  if (decl.namespaced) {
    if (!namespace) errs.push(required('metadata.namespace'));
  }
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  if (m.finalizers !== undefined) {
    if (!Array.isArray(m.finalizers)) errs.push(invalidErr('metadata.finalizers', m.finalizers, 'must be a list of strings'));
    else
      for (const [i, f] of m.finalizers.entries()) {
        if (typeof f !== 'string') errs.push(invalidErr(`metadata.finalizers[${i}]`, f, 'must be a string'));
        else if (!f.includes('/') && !['orphan', 'foregroundDeletion', 'kubernetes'].includes(f))
          for (const msg of isQualifiedName(f)) errs.push(invalidErr(`metadata.finalizers[${i}]`, f, msg));
      }
  }
  if (m.ownerReferences !== undefined) {
    if (!Array.isArray(m.ownerReferences)) errs.push(invalidErr('metadata.ownerReferences', m.ownerReferences, 'must be a list'));
    else {
      let controllers = 0;
      for (const [i, r] of m.ownerReferences.entries()) {
        const p = `metadata.ownerReferences[${i}]`;
        if (!r || typeof r !== 'object') {
          errs.push(invalidErr(p, r, 'must be an object'));
          continue;
        }
        if (!r.apiVersion) errs.push(invalidErr(`${p}.apiVersion`, r.apiVersion, 'version must not be empty'));
        if (!r.kind) errs.push(invalidErr(`${p}.kind`, r.kind, 'kind must not be empty'));
        if (!r.name) errs.push(invalidErr(`${p}.name`, r.name, 'name must not be empty'));
        if (!r.uid) errs.push(invalidErr(`${p}.uid`, r.uid, 'uid must not be empty'));
        if (r.controller) controllers++;
      }
      if (controllers > 1) errs.push(invalidErr('metadata.ownerReferences', m.ownerReferences, 'Only one reference can have Controller set to true'));
    }
  }
  return errs;
}

export { CompactedError, OPTIMISTIC_LOCK_MESSAGE };
