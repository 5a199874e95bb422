// managedFields bookkeeping, as upstream's fieldmanager: who owns which fields, how an
// Update (create, update, non-apply patch) moves ownership to its manager, and how an
// Apply merges an applied configuration by ownership, with conflicts and force.
import type { KObject } from '../../api/types.js';
import { ApiError, badRequest, type StatusCause } from '../errors.js';
import { FieldSet, pathString, type Path } from './fieldpath.js';
import { compare, deepEqual, merge, removeUnowned, toFieldSet } from './structured.js';
import type { TypeNode } from './typeschema.js';

export type Operation = 'Apply' | 'Update';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: Operation;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export interface ManagerState {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Managers by identity: name, operation, subresource, and (for Update) apiVersion. */
export type Managed = Map<string, ManagerState>;

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Upstream keeps at most this many Update entries; older ones merge into "ancient-changes". */
export const MAX_UPDATE_MANAGERS = 10;

/** Upstream's BuildManagerIdentifier: appliers are one manager whatever the version they used. */
export function managerId(manager: string, operation: Operation, apiVersion: string, subresource?: string): string {
  return JSON.stringify({ manager, operation, ...(operation === 'Update' ? { apiVersion } : {}), ...(subresource ? { subresource } : {}) });
}

export function decodeManagedFields(entries: unknown): Managed {
  const m: Managed = new Map();
  if (entries === undefined || entries === null) return m;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  for (const e of entries as ManagedFieldsEntry[]) {
    if (!e || typeof e !== 'object') throw new Error('invalid managedFields entry');
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error(`invalid operation ${JSON.stringify(e.operation)}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)}`);
    const set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    const st: ManagerState = {
      manager: e.manager ?? '',
      operation: e.operation,
      apiVersion: e.apiVersion ?? '',
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(e.time ? { time: e.time } : {}),
      set,
    };
    const id = managerId(st.manager, st.operation, st.apiVersion, st.subresource);
    const prev = m.get(id);
    if (prev) prev.set = prev.set.union(set);
    else m.set(id, st);
  }
  return m;
}

const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);

/** Entries in upstream's order: Apply before Update, then oldest first, then by name. */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] {
  const states = [...m.values()].filter((s) => !s.set.empty());
  states.sort(
    (p, q) =>
      (p.operation !== q.operation ? (p.operation < q.operation ? -1 : 1) : 0) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return states.map((s) => ({
    manager: s.manager,
    operation: s.operation,
    apiVersion: s.apiVersion,
    ...(s.time ? { time: s.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: s.set.toFieldsV1(),
    ...(s.subresource ? { subresource: s.subresource } : {}),
  }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A request that sends `managedFields: [{}]` clears them. */
export function isResetManagedFields(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && (!v[0] || (typeof v[0] === 'object' && Object.values(v[0]).every((x) => x === undefined || x === '' || x === null)));
}

/** Fields no manager owns: identity and bookkeeping metadata (upstream's stripMetaManager). */
const STRIP = FieldSet.fromPaths([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => [
    'f:metadata',
    `f:${f}`,
  ]),
]);

export interface TrackContext {
  manager: string;
  /** The request's apiVersion (group/version). */
  apiVersion: string;
  /** '' for the main resource. */
  subresource: string;
  /** The resource has a status subresource: writes to the main resource do not own status. */
  hasStatus: boolean;
  node: TypeNode;
  now: string;
}

/** Drops what a manager cannot own through this endpoint (upstream's reset fields). */
function ownable(set: FieldSet, ctx: TrackContext): FieldSet {
  let s = set.difference(STRIP);
  if (ctx.subresource === 'status') s = s.onlySubtrees([['f:status']]);
  else if (!ctx.subresource && ctx.hasStatus) s = s.withoutSubtrees([['f:status']]);
  return s;
}

function withoutManagedFields(o: KObject | undefined): Record<string, unknown> {
  if (!o) return {};
  const c = { ...o } as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object') {
    const { managedFields: _mf, ...meta } = o.metadata;
    c['metadata'] = meta;
  }
  return c;
}

function capUpdateManagers(m: Managed): void {
  const updaters = [...m.entries()].filter(([, s]) => s.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([, a], [, b]) => seconds(a.time) - seconds(b.time));
  let count = updaters.length;
  const firstByVersion = new Map<string, string>();
  for (const [id, st] of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const bucket = managerId('ancient-changes', 'Update', st.apiVersion);
    const first = firstByVersion.get(st.apiVersion);
    if (first === undefined) {
      firstByVersion.set(st.apiVersion, id);
      continue;
    }
    if (!m.has(bucket)) {
      const f = m.get(first)!;
      m.delete(first);
      m.set(bucket, { ...f, manager: 'ancient-changes', subresource: undefined });
    }
    const b = m.get(bucket)!;
    b.set = b.set.union(st.set);
    b.time = st.time;
    m.delete(id);
    count--;
  }
}

/**
 * An Update by `ctx.manager` turns `old` into `obj`: the manager now owns what it changed,
 * others lose what was changed or removed. Sets obj.metadata.managedFields.
 */
export function trackUpdate(old: KObject | undefined, obj: KObject, ctx: TrackContext): void {
  const requested = obj.metadata?.managedFields;
  let managed: Managed | undefined;
  if (isResetManagedFields(requested)) managed = new Map();
  else {
    try {
      const d = decodeManagedFields(requested);
      if (d.size) managed = d;
    } catch {
      /* fall back to the live object's, as upstream does */
    }
  }
  if (!managed) {
    try {
      managed = decodeManagedFields(old?.metadata?.managedFields);
    } catch {
      managed = new Map();
    }
  }
  const c = compare(withoutManagedFields(old), withoutManagedFields(obj), ctx.node);
  const changed = ownable(c.added.union(c.modified), ctx);
  const id = managerId(ctx.manager, 'Update', ctx.apiVersion, ctx.subresource || undefined);
  for (const [mid, st] of managed) {
    if (mid !== id) st.set = st.set.difference(changed);
    st.set = st.set.difference(c.removed);
    if (st.set.empty()) managed.delete(mid);
  }
  if (!changed.empty()) {
    const prev = managed.get(id);
    managed.set(id, {
      manager: ctx.manager,
      operation: 'Update',
      apiVersion: ctx.apiVersion,
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      time: ctx.now,
      set: prev ? prev.set.union(changed) : changed,
    });
  }
  capUpdateManagers(managed);
  setManagedFields(obj, managed);
}

function setManagedFields(obj: KObject, managed: Managed): void {
  const entries = encodeManagedFields(managed);
  obj.metadata ??= {};
  if (entries.length) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

export interface Conflict {
  manager: string;
  path: Path;
}

/** Upstream's printManager: appliers by name; updaters with the version they used. */
function printManager(st: ManagerState): string {
  let s = JSON.stringify(st.manager);
  if (st.subresource) s += ` with subresource ${JSON.stringify(st.subresource)}`;
  if (st.operation === 'Update') s += ` using ${st.apiVersion}`;
  return s;
}

/** The 409 upstream answers for apply conflicts (internal.NewConflictError). */
export function conflictError(conflicts: { st: ManagerState; path: Path }[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.st)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.st)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, { st: ManagerState; paths: Path[] }>();
    for (const c of conflicts) {
      const k = printManager(c.st);
      let e = byManager.get(k);
      if (!e) byManager.set(k, (e = { st: c.st, paths: [] }));
      e.paths.push(c.path);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort((a, b) => cmp(byManager.get(a)!.st.manager, byManager.get(b)!.st.manager) || cmp(a, b))) {
      lines.push(`conflicts with ${k}:`);
      for (const p of byManager.get(k)!.paths) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

export interface ApplyResult {
  /** The object after the apply, with its managedFields. */
  obj: KObject;
  changed: boolean;
}

/**
 * Server-side apply of `config` by `ctx.manager` to `live` (undefined: the object does not
 * exist yet). Throws a 409 with the conflicts unless `force`.
 */
export function applyConfig(live: KObject | undefined, config: KObject, ctx: TrackContext, force: boolean): ApplyResult {
  if (config.metadata?.managedFields !== undefined && config.metadata.managedFields !== null) throw badRequest('metadata.managedFields must be nil');
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (e) {
    throw new ApiError(500, 'InternalError', `failed to decode managed fields: ${(e as Error).message}`);
  }
  // Through one endpoint a manager applies only what that endpoint writes.
  let cfg: Record<string, unknown> = config;
  if (ctx.subresource === 'status') cfg = { apiVersion: config.apiVersion, kind: config.kind, metadata: config.metadata ?? {}, ...(config.status !== undefined ? { status: config.status } : {}) };
  else if (!ctx.subresource && ctx.hasStatus && 'status' in config) {
    const { status: _s, ...rest } = config;
    cfg = rest;
  }
  const liveObj = withoutManagedFields(live);
  const id = managerId(ctx.manager, 'Apply', ctx.apiVersion, ctx.subresource || undefined);

  const attempt = (force: boolean): ApplyResult => {
    const m: Managed = new Map([...managed].map(([k, v]) => [k, { ...v }]));
    let merged = merge(liveObj, cfg, ctx.node) as Record<string, unknown>;
    const lastSet = m.get(id)?.set;
    const set = ownable(toFieldSet(cfg, ctx.node), ctx);
    m.set(id, {
      manager: ctx.manager,
      operation: 'Apply',
      apiVersion: ctx.apiVersion,
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      ...(m.get(id)?.time ? { time: m.get(id)!.time } : {}),
      set,
    });
    if (lastSet && !lastSet.empty()) {
      let owned = new FieldSet();
      for (const st of m.values()) owned = owned.union(st.set);
      merged = removeUnowned(merged, ctx.node, lastSet, owned) as Record<string, unknown>;
    }
    const c = compare(liveObj, merged, ctx.node);
    const changedSet = c.added.union(c.modified);
    const conflicts: { st: ManagerState; path: Path }[] = [];
    for (const [mid, st] of m) {
      if (mid === id) continue;
      const inter = st.set.intersection(changedSet);
      if (inter.empty()) continue;
      if (!force) for (const p of inter.paths()) conflicts.push({ st, path: p });
      else st.set = st.set.difference(inter);
    }
    if (conflicts.length) throw Object.assign(conflictError(conflicts), { fmConflicts: conflicts });
    for (const [mid, st] of m) {
      st.set = st.set.difference(c.removed);
      if (st.set.empty()) m.delete(mid);
    }
    const changed = !deepEqual(liveObj, merged);
    const mine = m.get(id);
    if (mine && (changed || !mine.time)) mine.time = ctx.now;
    // kubectl's server-side apply keeps the client-side apply annotation in step.
    const ann = (merged['metadata'] as KObject['metadata'] | undefined)?.annotations;
    if (ctx.manager === 'kubectl' && ann && typeof ann[LAST_APPLIED] === 'string') {
      ann[LAST_APPLIED] = lastAppliedOf(config);
    }
    const obj = merged as KObject;
    obj.metadata ??= {};
    setManagedFields(obj, m);
    return { obj, changed };
  };

  try {
    return attempt(force);
  } catch (e) {
    const conflicts = (e as { fmConflicts?: { st: ManagerState; path: Path }[] }).fmConflicts;
    if (!conflicts || ctx.manager !== 'kubectl' || !live) throw e;
    // Upgrading from client-side apply: fields whose last-applied value still matches the
    // live object may be taken over without force (upstream's lastAppliedManager).
    const allowed = allowedFromLastApplied(liveObj, ctx.node);
    if (!allowed) throw e;
    const rest = conflicts.filter((c) => !allowed.has(c.path));
    if (rest.length) throw conflictError(rest);
    return attempt(true);
  }
}

function lastAppliedOf(config: KObject): string {
  const c = structuredClone(config) as KObject;
  const ann = c.metadata?.annotations;
  if (ann) {
    delete ann[LAST_APPLIED];
    if (!Object.keys(ann).length) delete c.metadata.annotations;
  }
  return JSON.stringify(c) + '\n';
}

function allowedFromLastApplied(live: Record<string, unknown>, node: TypeNode): FieldSet | undefined {
  const text = (live['metadata'] as KObject['metadata'] | undefined)?.annotations?.[LAST_APPLIED];
  if (typeof text !== 'string') return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!last || typeof last !== 'object' || (last as KObject).apiVersion !== live['apiVersion']) return undefined;
  const set = toFieldSet(last, node);
  const c = compare(last, live, node);
  return set.difference(c.modified).difference(c.added).difference(c.removed);
}
