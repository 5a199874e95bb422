// Typed operations on objects for server-side apply, in the manner of upstream's
// structured-merge-diff "typed" package: the set of fields an object sets, merging an
// applied configuration into a live object, comparing two objects, and removing fields.
import { FieldSet, fieldPE, indexPE, keyPE, valuePE, type Path, type PathElement } from './fieldpath.js';
import type { TypeNode } from './typeschema.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Obj;
  const bo = b as Obj;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/** The path element of a list item: its key fields, its value (sets), or its index. */
export function itemPE(node: TypeNode, item: unknown, index: number): PathElement {
  if (node.list === 'set') return valuePE(item);
  if (node.list === 'map' && node.keys?.length && isObj(item)) {
    const k: Obj = {};
    for (const f of node.keys) {
      const v = item[f] ?? node.keyDefaults?.[f];
      if (v === undefined || v === null) continue;
      k[f] = v;
    }
    if (Object.keys(k).length) return keyPE(k);
  }
  return indexPE(index);
}

const granularList = (node: TypeNode) => node.list === 'set' || node.list === 'map';

/** The fields an object sets (upstream's TypedValue.ToFieldSet). */
export function toFieldSet(value: unknown, node: TypeNode): FieldSet {
  const set = new FieldSet();
  walkSet(value, node, [], set);
  return set;
}

function walkSet(value: unknown, node: TypeNode, path: PathElement[], set: FieldSet): void {
  if (Array.isArray(value)) {
    if (!granularList(node)) return set.insert(path);
    const elem = node.elem();
    value.forEach((item, i) => {
      const p = [...path, itemPE(node, item, i)];
      set.insert(p);
      if (node.list === 'map' && isObj(item)) walkSet(item, elem, p, set);
    });
    return;
  }
  if (isObj(value) && !node.atomic) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    for (const k of keys) {
      const v = value[k];
      const p = [...path, fieldPE(k)];
      if (v === null || (isObj(v) && Object.keys(v).length === 0) || node.isMap) set.insert(p);
      walkSet(v, node.child(k), p, set);
    }
    return;
  }
  if (path.length) set.insert(path);
}

/** Merges an applied configuration into a live object (upstream's TypedValue.Merge). */
export function merge(live: unknown, config: unknown, node: TypeNode): unknown {
  if (config === undefined) return structuredClone(live);
  if (Array.isArray(config)) {
    if (granularList(node) && Array.isArray(live)) return mergeList(live, config, node);
    return structuredClone(config);
  }
  if (isObj(config) && !node.atomic && isObj(live)) {
    const out: Obj = structuredClone(live);
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue;
      out[k] = merge(live[k], v, node.child(k));
    }
    return out;
  }
  return structuredClone(config);
}

function mergeList(live: unknown[], config: unknown[], node: TypeNode): unknown[] {
  // Upstream's order: live items keep their place, items only in the configuration come
  // where the configuration puts them relative to the items both share.
  const elem = node.elem();
  const mergeItem = (l: unknown, r: unknown) => (r === undefined ? structuredClone(l) : node.list === 'map' && l !== undefined ? merge(l, r, elem) : structuredClone(r));
  const lpe = live.map((x, i) => itemPE(node, x, i));
  const rpe = config.map((x, i) => itemPE(node, x, i));
  const lByPE = new Map<PathElement, unknown>();
  lpe.forEach((pe, i) => lByPE.has(pe) || lByPE.set(pe, live[i]));
  const rSet = new Set(rpe);
  const shared = rpe.filter((pe) => lByPE.has(pe));
  let nextShared = 0;
  const done = new Set<PathElement>();
  const out: unknown[] = [];
  let l = 0;
  let r = 0;
  while (l < live.length || r < config.length) {
    if (l < live.length && r < config.length && lpe[l] === rpe[r]) {
      out.push(mergeItem(live[l], config[r]));
      done.add(lpe[l]!);
      if (shared[nextShared] === lpe[l]) nextShared++;
      l++;
      r++;
      continue;
    }
    if (l < live.length) {
      const pe = lpe[l]!;
      if (!rSet.has(pe)) {
        out.push(structuredClone(live[l]));
        l++;
        continue;
      }
      if (done.has(pe) || shared[nextShared] !== pe) {
        l++;
        continue;
      }
    }
    if (r < config.length) {
      const pe = rpe[r]!;
      done.add(pe);
      out.push(mergeItem(lByPE.get(pe), config[r]));
      if (shared[nextShared] === pe) nextShared++;
      r++;
    }
  }
  return out;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed from `lhs` to `rhs` (upstream's TypedValue.Compare). */
export function compare(lhs: unknown, rhs: unknown, node: TypeNode): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walkCompare(lhs, rhs, node, [], c, false);
  return c;
}

function walkCompare(lhs: unknown, rhs: unknown, node: TypeNode, path: PathElement[], c: Comparison, isItem: boolean): void {
  if (lhs === undefined && rhs === undefined) return;
  const bothObj = (lhs === undefined || isObj(lhs)) && (rhs === undefined || isObj(rhs)) && !node.atomic;
  const bothList = (lhs === undefined || Array.isArray(lhs)) && (rhs === undefined || Array.isArray(rhs)) && granularList(node);
  if (bothObj && path.length >= 0) {
    const l = (lhs ?? {}) as Obj;
    const r = (rhs ?? {}) as Obj;
    if (path.length) {
      if (lhs === undefined && (isItem || node.isMap || node.untyped || Object.keys(r).length === 0)) c.added.insert(path);
      if (rhs === undefined) c.removed.insert(path);
    }
    const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
    for (const k of keys) {
      const lv = l[k];
      const rv = r[k];
      if (lv === undefined && rv === undefined) continue;
      const p = [...path, fieldPE(k)];
      walkCompare(lv, rv, node.child(k), p, c, false);
      // A map's keys are owned themselves (upstream inserts non-struct fields as members).
      if (node.isMap && lv !== undefined && rv !== undefined && !isObj(lv)) continue;
    }
    return;
  }
  if (bothList) {
    const elem = node.elem();
    const l = (lhs ?? []) as unknown[];
    const r = (rhs ?? []) as unknown[];
    const lm = new Map<PathElement, unknown>();
    l.forEach((x, i) => lm.set(itemPE(node, x, i), x));
    const rm = new Map<PathElement, unknown>();
    r.forEach((x, i) => rm.set(itemPE(node, x, i), x));
    for (const pe of new Set([...lm.keys(), ...rm.keys()])) {
      const lv = lm.get(pe);
      const rv = rm.get(pe);
      const p = [...path, pe];
      if (node.list === 'set' || !(isObj(lv) || isObj(rv))) {
        if (lv === undefined) c.added.insert(p);
        else if (rv === undefined) c.removed.insert(p);
        else if (!deepEqual(lv, rv)) c.modified.insert(p);
        continue;
      }
      walkCompare(lv, rv, elem, p, c, true);
    }
    return;
  }
  if (!path.length) return;
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
  else if (!deepEqual(lhs, rhs)) c.modified.insert(path);
}

/**
 * Removes from `value` the fields of `drop` that no one owns (`owned`): a field is removed
 * when it is a member of `drop` and neither it nor anything below it is owned.
 * Upstream's prune: RemoveItems, then add back owned and dangling items.
 */
export function removeUnowned(value: unknown, node: TypeNode, drop: FieldSet, owned: FieldSet | undefined): unknown {
  if (Array.isArray(value)) {
    if (!granularList(node)) return value;
    const elem = node.elem();
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const pe = itemPE(node, item, i);
      const d = drop.children.get(pe);
      const o = owned?.children.get(pe);
      if (!d) return void out.push(item);
      if (d.member && !(o && !o.empty())) return;
      out.push(d.children.size && node.list === 'map' ? removeUnowned(item, elem, d, o) : item);
    });
    return out;
  }
  if (isObj(value) && !node.atomic) {
    for (const k of Object.keys(value)) {
      const pe = fieldPE(k);
      const d = drop.children.get(pe);
      if (!d) continue;
      const o = owned?.children.get(pe);
      if (d.member && !(o && !o.empty())) {
        delete value[k];
        continue;
      }
      if (d.children.size) value[k] = removeUnowned(value[k], node.child(k), d, o);
    }
  }
  return value;
}

/** The value at a path (fields and list items), or undefined. */
export function valueAt(value: unknown, path: Path, node: TypeNode): unknown {
  let cur = value;
  let n = node;
  for (const pe of path) {
    if (pe.startsWith('f:')) {
      if (!isObj(cur)) return undefined;
      const k = pe.slice(2);
      cur = cur[k];
      n = n.child(k);
    } else {
      if (!Array.isArray(cur)) return undefined;
      const list = cur;
      const idx = list.findIndex((x, i) => itemPE(n, x, i) === pe);
      if (idx < 0) return undefined;
      cur = list[idx];
      n = n.elem();
    }
  }
  return cur;
}
