// Strategic merge patch (application/strategic-merge-patch+json), following
// k8s.io/apimachinery/pkg/util/strategicpatch: the server-side apply of a patch
// (mergeMap with parallel lists merged and unmatched nulls ignored), and the client-side
// two- and three-way diffs kubectl computes (`kubectl apply`, `kubectl edit`).
//
// Directives: "$patch": replace|delete|merge (in maps and list items), "$retainKeys",
// "$setElementOrder/<list>", "$deleteFromPrimitiveList/<list>". Lists tagged
// patchStrategy=merge merge by their patchMergeKey (or by value for primitives); all other
// lists replace. Ordering follows upstream: $setElementOrder first, then the patch's
// order, then the live object's order.
import { PatchError } from './errors.js';
import { deepCopy, deepEqual, goFormat, goTypeName, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json.js';
import type { FieldPatchMeta, PatchSchema } from './patchmeta.js';

const directiveMarker = '$patch';
const deleteDirective = 'delete';
const replaceDirective = 'replace';
const mergeDirective = 'merge';
const retainKeysStrategy = 'retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const retainKeysDirective = '$retainKeys';
const setElementOrderPrefix = '$setElementOrder';

interface MergeOptions {
  /** Server side: apply $deleteFromPrimitiveList and $retainKeys instead of carrying them along. */
  mergeParallelList: boolean;
  /** Server side: a null for a missing key is dropped, not kept as an explicit null. */
  ignoreUnmatchedNulls: boolean;
}

interface DiffOptions {
  setElementOrder?: boolean;
  ignoreChangesAndAdditions?: boolean;
  ignoreDeletions?: boolean;
  buildRetainKeysDirective?: boolean;
}

type Kind = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';
type List = JsonValue[];

// ---- errors (mergepatch package texts) ----------------------------------------------------

const errBadJSONDoc = () => new PatchError('invalid JSON document', 400);
const errNoListOfLists = () => new PatchError('lists of lists are not supported', 422);
const errBadPatchFormatForPrimitiveList = () => new PatchError('invalid patch format of primitive list', 400);
const errBadPatchFormatForRetainKeys = () => new PatchError('invalid patch format of retainKeys', 400);
const errBadPatchFormatForSetElementOrderList = () => new PatchError('invalid patch format of setElementOrder list', 400);
const errNoMergeKey = (m: unknown, k: string) => new PatchError(`map: ${goFormat(m)} does not contain declared merge key: ${k}`, 500);
const errBadArgType = (expected: 'map' | 'slice', actual: unknown) =>
  new PatchError(`expected a ${expected === 'map' ? 'map[string]interface {}' : '[]interface {}'}, but received a ${goTypeName(actual)}`, 500);
const errBadPatchType = (t: unknown, m: unknown) => new PatchError(`unknown patch type: ${String(t)} in map: ${goFormat(m)}`, 500);

// ---- small helpers ------------------------------------------------------------------------

function kindOf(v: JsonValue | undefined): Kind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

const untagged: FieldPatchMeta = { strategies: [] };
const lookup = (schema: PatchSchema | undefined, field: string): FieldPatchMeta => (schema ? schema.lookup(field) : untagged);

/** Splits Go's patch strategies into (has retainKeys, the other strategy). */
function extractRetainKeysPatchStrategy(strategies: string[]): [boolean, string] {
  switch (strategies.length) {
    case 0:
      return [false, ''];
    case 1:
      return strategies[0] === retainKeysStrategy ? [true, ''] : [false, strategies[0]!];
    case 2:
      if (strategies[0] === retainKeysStrategy) return [true, strategies[1]!];
      if (strategies[1] === retainKeysStrategy) return [true, strategies[0]!];
  }
  throw new PatchError(`unexpected patch strategy: ${goFormat(strategies)}`, 500);
}

/** fmt.Sprintf("%v") of a scalar, which is how upstream sorts and compares list values. */
const scalarString = (v: JsonValue | undefined): string => goFormat(v);

function sortScalars(l: List): List {
  return [...l].sort((a, b) => {
    const x = scalarString(a);
    const y = scalarString(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function deduplicateScalars(l: List): List {
  const out: List = [];
  for (const v of l) if (!out.some((o) => o === v)) out.push(v);
  return out;
}

/** The kind shared by every element of the lists (upstream's sliceElementType). */
function sliceElementKind(...lists: List[]): Kind {
  let prev: Kind | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = kindOf(v);
      if (prev === undefined) {
        prev = k;
        if (k === 'slice') throw errNoListOfLists();
      } else if (prev !== k) {
        throw new PatchError(`list element types are not identical: ${goFormat(lists)}`, 500);
      }
    }
  }
  if (prev === undefined) throw new PatchError('no elements in any of the given slices', 500);
  return prev;
}

function extractKey(s: string, prefix: string): string {
  const i = s.indexOf('/');
  if (i < 0 || s.slice(0, i) !== prefix) {
    if (prefix === deleteFromPrimitiveListPrefix) throw errBadPatchFormatForPrimitiveList();
    if (prefix === setElementOrderPrefix) throw errBadPatchFormatForSetElementOrderList();
    throw new PatchError(`fail to find unknown prefix ${JSON.stringify(prefix)} in ${s}`, 500);
  }
  return s.slice(i + 1);
}

function discardNullValues(v: JsonValue): void {
  if (Array.isArray(v)) for (const x of v) discardNullValues(x);
  else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValues(v[k]!);
    }
  }
}

const isDirectiveKey = (k: string) =>
  k === retainKeysDirective || k.startsWith(`${setElementOrderPrefix}/`) || k.startsWith(`${deleteFromPrimitiveListPrefix}/`);

function stripDirectiveKeys(v: JsonValue): void {
  if (Array.isArray(v)) for (const x of v) stripDirectiveKeys(x);
  else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (isDirectiveKey(k)) delete v[k];
      else stripDirectiveKeys(v[k]!);
    }
  }
}

/** Drops maps carrying "$patch" (and list items that are such maps); false when v itself is one. */
function removeDirectives(v: JsonValue): [JsonValue, boolean] {
  if (Array.isArray(v)) {
    const out: List = [];
    for (const x of v) {
      const [nx, keep] = removeDirectives(x);
      if (keep) out.push(nx);
    }
    return [out, true];
  }
  if (isObject(v)) {
    if (hasKey(v, directiveMarker)) return [null, false];
    for (const k of Object.keys(v)) {
      const [nx, keep] = removeDirectives(v[k]!);
      if (keep) v[k] = nx;
      else delete v[k];
    }
  }
  return [v, true];
}

/**
 * A value taken from the patch as is. Upstream drops nulls and $patch maps here; on the
 * server, decoding into Go structs then also drops leftover directive keys, which kts
 * stores as JSON, so those are removed explicitly.
 */
function takeFromPatch(v: JsonValue, opts: MergeOptions): [JsonValue, boolean] {
  if (opts.ignoreUnmatchedNulls) {
    discardNullValues(v);
    stripDirectiveKeys(v);
  }
  return removeDirectives(v);
}

function asMap(v: JsonValue | undefined): JsonObject {
  if (!isObject(v)) throw errBadArgType('map', v);
  return v;
}

function findMapInSlice(l: List, key: string, value: JsonValue | undefined): [JsonObject, number] | undefined {
  for (let i = 0; i < l.length; i++) {
    const m = l[i];
    if (!isObject(m)) throw new PatchError(`value for key ${i} is not a map.`, 500);
    if (hasKey(m, key) && m[key] === value) return [m, i];
  }
  return undefined;
}

// ---- apply (server side) ------------------------------------------------------------------

function handleDirectiveInMergeMap(directive: JsonValue, patch: JsonObject, opts: MergeOptions): JsonObject {
  if (directive === replaceDirective) {
    // The map is replaced by the patch's content, not merged.
    delete patch[directiveMarker];
    if (opts.ignoreUnmatchedNulls) takeFromPatch(patch, opts);
    return patch;
  }
  if (directive === deleteDirective) return {};
  throw errBadPatchType(directive, patch);
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject, opts: MergeOptions): void {
  if (!hasKey(patch, retainKeysDirective)) return;
  const inPatch = patch[retainKeysDirective]!;
  delete patch[retainKeysDirective];
  if (!opts.mergeParallelList) {
    // "original" is another patch here (the three-way diff): carry the directive along.
    if (hasKey(original, retainKeysDirective)) {
      if (!deepEqual(original[retainKeysDirective], inPatch)) {
        throw new PatchError(
          `${goFormat(original[retainKeysDirective])} and ${goFormat(inPatch)} are not deep equal: this may happen when calculating the 3-way diff patch`,
          500,
        );
      }
    } else {
      original[retainKeysDirective] = inPatch;
    }
    return;
  }
  if (!Array.isArray(inPatch)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set<JsonValue>(inPatch);
  // Every field the patch sets must be one of the retained keys.
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left)) throw errBadArgType('map', left);
  if (!isObject(right)) throw errBadArgType('map', right);
  if (!hasKey(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!hasKey(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function extractToDeleteItems(l: List): [List, List] {
  const keep: List = [];
  const del: List = [];
  for (const v of l) {
    if (!isObject(v)) throw errBadArgType('map', v);
    if (hasKey(v, directiveMarker) && v[directiveMarker] === deleteDirective) del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

/** The items the patch lists must appear in $setElementOrder, in the same relative order. */
function validatePatchWithSetOrderList(patchList: JsonValue, setOrderList: JsonValue, mergeKey: string): void {
  if (!Array.isArray(setOrderList) || !Array.isArray(patchList)) throw errBadPatchFormatForSetElementOrderList();
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrderList.length) {
    const item = nonDelete[pi]!;
    if (isObject(item) && hasKey(item, directiveMarker)) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrderList[si]!, mergeKey)) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrderList.length) {
    throw new PatchError(
      `the order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(setOrderList)}`,
      500,
    );
  }
}

function indexIn(l: List, v: JsonValue, mergeKey: string, kind: Kind): number {
  const val = (x: JsonValue | undefined) => (kind === 'map' ? (isObject(x) ? x[mergeKey] : undefined) : x);
  const want = val(v);
  return l.findIndex((x) => val(x) === want);
}

function validateMergeKeyInLists(mergeKey: string, ...lists: List[]): void {
  for (const l of lists) {
    for (const item of l) {
      if (!isObject(item)) throw errBadArgType('map', item);
      if (!hasKey(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Stable sort of toSort by position in `order`; "$patch: delete" items go last. */
function normalizeSliceOrder(toSort: List, order: List, mergeKey: string, kind: Kind): List {
  let del: List = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [toSort, del] = extractToDeleteItems(toSort);
  }
  const pos = toSort.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, kind) }));
  pos.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
  return [...pos.map((p) => p.v), ...del];
}

/** Inserts the server-only items among the patch items, keeping the live object's relative order. */
function mergeSortedSlice(left: List, right: List, serverOrder: List, mergeKey: string, kind: Kind): List {
  const out: List = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = indexIn(serverOrder, left[i]!, mergeKey, kind);
      const ri = indexIn(serverOrder, right[j]!, mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]!);
      else out.push(right[j++]!);
    }
  }
  return out;
}

function normalizeElementOrder(patch: List, serverOnly: List, patchOrder: List, serverOrder: List, mergeKey: string, kind: Kind): List {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function partitionPrimitives(l: List, by: List): [List, List] {
  const inPatch = new Set(by);
  return [l.filter((v) => inPatch.has(v)), l.filter((v) => !inPatch.has(v))];
}

function partitionMaps(l: List, by: List, mergeKey: string): [List, List] {
  const patch: List = [];
  const serverOnly: List = [];
  for (const v of l) {
    if (!isObject(v)) throw errBadArgType('map', v);
    if (!hasKey(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapInSlice(by, mergeKey, v[mergeKey]) ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

/** Handles "$setElementOrder/<list>" together with the list it orders. */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined, opts: MergeOptions): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const setOrder = patch[key]!;
    if (!opts.mergeParallelList) {
      // Client side: the directive stays in the resulting patch.
      if (hasKey(original, key)) {
        if (!deepEqual(original[key], setOrder)) throw errBadPatchFormatForSetElementOrderList();
      } else {
        original[key] = setOrder;
      }
    }
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType('slice', setOrder);
    const originalKey = extractKey(key, setElementOrderPrefix);
    const foundOriginal = hasKey(original, originalKey);
    const foundPatch = hasKey(patch, originalKey);
    let originalList: List = [];
    let patchList: List = [];
    if (foundOriginal) {
      const v = original[originalKey];
      if (!Array.isArray(v)) throw errBadArgType('slice', v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[originalKey];
      if (!Array.isArray(v)) throw errBadArgType('slice', v);
      patchList = v;
    }
    const meta = lookup(schema, originalKey);
    const [, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
    const mergeKey = meta.mergeKey ?? '';
    validatePatchWithSetOrderList(patchList, setOrder, mergeKey);

    let merged: List;
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = takeFromPatch(patchList, opts)[0] as List;
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, meta.schema, strategy, mergeKey, false, opts);
    else continue;

    const [patchItems, serverOnly] = mergeKey ? partitionMaps(merged, setOrder, mergeKey) : partitionPrimitives(merged, setOrder);
    const kind = sliceElementKind(originalList, patchList);
    setKey(original, originalKey, normalizeElementOrder(patchItems, serverOnly, setOrder, originalList, mergeKey, kind));
    delete patch[originalKey];
  }
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined, opts: MergeOptions): JsonObject {
  if (hasKey(patch, directiveMarker)) return handleDirectiveInMergeMap(patch[directiveMarker]!, patch, opts);
  applyRetainKeysDirective(original, patch, opts);
  mergePatchIntoOriginal(original, patch, schema, opts);

  for (const k of Object.keys(patch)) {
    const patchV = patch[k]!;
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(deleteFromPrimitiveListPrefix)) {
      if (!opts.mergeParallelList) {
        original[k] = patchV;
        continue;
      }
      key = extractKey(k, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete original[key];
      if (opts.ignoreUnmatchedNulls) continue;
    }

    const take = () => {
      if (isDeleteList) return;
      const [v, keep] = takeFromPatch(patchV, opts);
      if (keep) setKey(original, key, v);
      else delete original[key];
    };
    if (!hasKey(original, key) || kindOf(original[key]) !== kindOf(patchV)) {
      take();
      continue;
    }
    const meta = lookup(schema, key);
    const [, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
    switch (kindOf(patchV)) {
      case 'map':
        original[key] = mergeMapHandler(original[key]!, patchV, meta.schema, strategy, opts);
        break;
      case 'slice':
        original[key] = mergeSliceHandler(original[key] as List, patchV as List, meta.schema, strategy, meta.mergeKey ?? '', isDeleteList, opts);
        break;
      default:
        take();
    }
  }
  return original;
}

function mergeMapHandler(original: JsonValue, patch: JsonValue, schema: PatchSchema | undefined, strategy: string, opts: MergeOptions): JsonObject {
  const o = asMap(original);
  const p = asMap(patch);
  if (strategy !== replaceDirective) return mergeMap(o, p, schema, opts);
  return takeFromPatch(p, opts)[0] as JsonObject;
}

function mergeSliceHandler(
  original: List,
  patch: List,
  schema: PatchSchema | undefined,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
  opts: MergeOptions,
): List {
  if (strategy === mergeDirective) return mergeSlice(original, patch, schema, mergeKey, opts, isDeleteList);
  return opts.ignoreUnmatchedNulls ? (takeFromPatch(patch, opts)[0] as List) : patch;
}

function mergeSlice(original: List, patch: List, schema: PatchSchema | undefined, mergeKey: string, opts: MergeOptions, isDeleteList: boolean): List {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: List;
  if (kind !== 'map') {
    if (opts.mergeParallelList && isDeleteList) {
      const del = new Set(patch);
      return original.filter((v) => !del.has(v));
    }
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new PatchError(`cannot merge lists without merge key for ${schema?.name ?? 'map[string]interface {}'}`, 500);
    [original, patch] = mergeSliceWithSpecialElements([...original], patch, mergeKey, opts);
    merged = mergeSliceWithoutSpecialElements([...original], patch, mergeKey, schema, opts);
  }
  const [patchItems, serverOnly] = mergeKey ? partitionMaps(merged, patch, mergeKey) : partitionPrimitives(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** Applies "$patch: delete|replace" list items; returns the new original and the remaining patch items. */
function mergeSliceWithSpecialElements(original: List, patch: List, mergeKey: string, opts: MergeOptions): [List, List] {
  const rest: List = [];
  let replace = false;
  for (const v of patch) {
    const m = asMap(v);
    if (!hasKey(m, directiveMarker)) {
      rest.push(v);
      continue;
    }
    switch (m[directiveMarker]) {
      case deleteDirective: {
        if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
        for (;;) {
          const found = findMapInSlice(original, mergeKey, m[mergeKey]);
          if (!found) break;
          original.splice(found[1], 1);
        }
        break;
      }
      case replaceDirective:
        // Keep scanning so that other directive items are pruned as well.
        replace = true;
        break;
      case mergeDirective:
        throw new PatchError('merging lists cannot yet be specified in the patch', 500);
      default:
        throw errBadPatchType(m[directiveMarker], m);
    }
  }
  if (replace) return [opts.ignoreUnmatchedNulls ? (takeFromPatch(rest, opts)[0] as List) : rest, []];
  return [original, rest];
}

function mergeSliceWithoutSpecialElements(original: List, patch: List, mergeKey: string, schema: PatchSchema | undefined, opts: MergeOptions): List {
  for (const v of patch) {
    const m = asMap(v);
    if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    const found = findMapInSlice(original, mergeKey, m[mergeKey]);
    if (found) original[found[1]] = mergeMap(found[0], m, schema, opts);
    else original.push(opts.ignoreUnmatchedNulls ? takeFromPatch(m, opts)[0] : m);
  }
  return original;
}

/**
 * Applies a strategic merge patch to a copy of `original` (what the API server does for
 * PATCH with Content-Type application/strategic-merge-patch+json). `schema` comes from
 * schemaFor(); undefined means no field has patch metadata (plain JSON-merge-like rules).
 * Throws PatchError; its `status` is the code upstream answers with.
 */
export function applyStrategicMergePatch<T = unknown>(original: unknown, patch: unknown, schema: PatchSchema | undefined): T {
  if (!isObject(original) || !isObject(patch)) throw errBadJSONDoc();
  return mergeMap(deepCopy(original), deepCopy(patch), schema, { mergeParallelList: true, ignoreUnmatchedNulls: true }) as T;
}

// ---- diff (client side) -------------------------------------------------------------------

function sortMergeList(l: List, mergeKey: string): List {
  if (l.length === 0) return l;
  const kind = sliceElementKind(l);
  if (kind !== 'map') return sortScalars(deduplicateScalars(l));
  return [...l].sort((a, b) => {
    const x = scalarString((a as JsonObject)[mergeKey]);
    const y = scalarString((b as JsonObject)[mergeKey]);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function mapAndMergeKeyValue(l: List, i: number, mergeKey: string): [JsonObject, JsonValue] {
  const m = l[i];
  if (!isObject(m)) throw errBadArgType('map', m);
  if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
  return [m, m[mergeKey]!];
}

function diffListsOfMaps(original: List, modified: List, schema: PatchSchema | undefined, mergeKey: string, opts: DiffOptions): [List, List] {
  const patch: List = [];
  const deletions: List = [];
  const os = sortMergeList(original, mergeKey);
  const ms = sortMergeList(modified, mergeKey);
  let oi = 0;
  let mi = 0;
  for (;;) {
    const oIn = oi < os.length;
    const mIn = mi < ms.length;
    if (!oIn && !mIn) break;
    let oElem: JsonObject | undefined;
    let oKey: JsonValue = null;
    let mElem: JsonObject | undefined;
    let mKey: JsonValue = null;
    if (oIn) [oElem, oKey] = mapAndMergeKeyValue(os, oi, mergeKey);
    if (mIn) [mElem, mKey] = mapAndMergeKeyValue(ms, mi, mergeKey);
    const oStr = oIn ? scalarString(oKey) : '';
    const mStr = mIn ? scalarString(mKey) : '';
    if (oIn && mIn && oStr === mStr) {
      const pv = diffMaps(oElem!, mElem!, schema, opts);
      if (Object.keys(pv).length > 0) {
        pv[mergeKey] = mKey;
        patch.push(pv);
      }
      oi++;
      mi++;
    } else if (!oIn || (mIn && oStr > mStr)) {
      if (!opts.ignoreChangesAndAdditions) patch.push(deepCopy(mElem!));
      mi++;
    } else {
      if (!opts.ignoreDeletions) deletions.push({ [mergeKey]: oKey, [directiveMarker]: deleteDirective });
      oi++;
    }
  }
  return [patch, deletions];
}

function diffListsOfScalars(original: List, modified: List, opts: DiffOptions): [List, List] {
  const os = sortScalars(original);
  const ms = sortScalars(modified);
  const add: List = [];
  const del: List = [];
  let oi = 0;
  let mi = 0;
  for (;;) {
    const oIn = oi < os.length;
    const mIn = mi < ms.length;
    if (!oIn && !mIn) break;
    const oStr = oIn ? scalarString(os[oi]) : '';
    const mStr = mIn ? scalarString(ms[mi]) : '';
    if (oIn && mIn && oStr === mStr) {
      oi++;
      mi++;
    } else if (!oIn || (mIn && oStr > mStr)) {
      if (!opts.ignoreChangesAndAdditions) add.push(ms[mi]!);
      mi++;
    } else {
      if (!opts.ignoreDeletions) del.push(os[oi]!);
      oi++;
    }
  }
  return [add, deduplicateScalars(del)];
}

function isOrderSame(original: List, modified: List, mergeKey: string): boolean {
  if (original.length !== modified.length) return false;
  return modified.every((m, i) => mergeKeyValueEqual(original[i]!, m, mergeKey));
}

/** Returns the patch list, the parallel deletion list (primitives) and the $setElementOrder list. */
function diffLists(original: List, modified: List, schema: PatchSchema | undefined, mergeKey: string, opts: DiffOptions): [List, List, List] {
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return [[], [], []];
    return [deepCopy(modified), [], []];
  }
  const kind = sliceElementKind(original, modified);
  if (kind === 'slice') throw errNoListOfLists();
  let order: List = [];
  if (kind === 'map') {
    let [patchList, deletions] = diffListsOfMaps(original, modified, schema, mergeKey, opts);
    patchList = normalizeSliceOrder(patchList, modified, mergeKey, kind);
    const orderSame = isOrderSame(original, modified, mergeKey);
    patchList = [...patchList, ...deletions];
    if (opts.setElementOrder && ((!opts.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) || (!opts.ignoreDeletions && patchList.length > 0))) {
      order = modified.map((v) => ({ [mergeKey]: (v as JsonObject)[mergeKey]! }));
    }
    return [patchList, [], order];
  }
  let [add, del] = diffListsOfScalars(original, modified, opts);
  add = normalizeSliceOrder(add, modified, mergeKey, kind);
  if (opts.setElementOrder && ((!opts.ignoreDeletions && del.length > 0) || (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified)))) {
    order = deepCopy(modified);
  }
  return [add, del, order];
}

function hasAdditionalNewField(original: JsonObject, modified: JsonObject): boolean {
  return Object.keys(original).some((k) => original[k] !== null && !hasKey(modified, k));
}

function diffMaps(original: JsonObject, modified: JsonObject, schema: PatchSchema | undefined, opts: DiffOptions): JsonObject {
  const patch: JsonObject = {};
  const retainKeysList: List = [];
  for (const key of Object.keys(modified)) {
    const mv = modified[key]!;
    if (opts.buildRetainKeysDirective && mv !== null) retainKeysList.push(key);
    if (!hasKey(original, key)) {
      if (!opts.ignoreChangesAndAdditions) setKey(patch, key, deepCopy(mv));
      continue;
    }
    const ov = original[key]!;
    if (key === directiveMarker) {
      if (typeof ov !== 'string' || typeof mv !== 'string') throw new PatchError(`invalid value for special key: ${directiveMarker}`, 500);
      if (ov !== mv) patch[directiveMarker] = mv;
      continue;
    }
    if (kindOf(ov) !== kindOf(mv)) {
      if (!opts.ignoreChangesAndAdditions) setKey(patch, key, deepCopy(mv));
      continue;
    }
    const meta = lookup(schema, key);
    const [retainKeys, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
    if (kindOf(mv) === 'map') {
      if (strategy === replaceDirective) {
        // Replaced whole, so always sent (as upstream does).
        if (!opts.ignoreChangesAndAdditions) setKey(patch, key, deepCopy(mv));
      } else {
        const pv = diffMaps(ov as JsonObject, mv as JsonObject, meta.schema, { ...opts, buildRetainKeysDirective: retainKeys });
        if (Object.keys(pv).length > 0) setKey(patch, key, pv);
      }
    } else if (kindOf(mv) === 'slice' && strategy === mergeDirective) {
      const [add, del, order] = diffLists(ov as List, mv as List, meta.schema, meta.mergeKey ?? '', { ...opts, buildRetainKeysDirective: retainKeys });
      if (add.length > 0) setKey(patch, key, add);
      if (del.length > 0) patch[`${deleteFromPrimitiveListPrefix}/${key}`] = del;
      if (order.length > 0) patch[`${setElementOrderPrefix}/${key}`] = order;
    } else if (!opts.ignoreChangesAndAdditions && !deepEqual(ov, mv)) {
      setKey(patch, key, deepCopy(mv));
    }
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!hasKey(modified, key)) setKey(patch, key, null);
  }
  if (retainKeysList.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalNewField(original, modified))) {
    patch[retainKeysDirective] = sortScalars(retainKeysList);
  }
  return patch;
}

/** The patch that turns original into modified (upstream's CreateTwoWayMergePatch). */
export function createTwoWayMergePatch(original: unknown, modified: unknown, schema: PatchSchema | undefined): JsonObject {
  if ((original !== undefined && !isObject(original)) || (modified !== undefined && !isObject(modified))) throw errBadJSONDoc();
  return diffMaps(deepCopy(original ?? {}) as JsonObject, deepCopy(modified ?? {}) as JsonObject, schema, { setElementOrder: true });
}

/**
 * What `kubectl apply` sends: changes from `current` (the live object) to `modified` (the
 * new configuration) without deletions, plus the deletions from `original` (the last
 * applied configuration) to `modified`. Fields only the server or other writers set survive.
 * Upstream's overwrite=true behaviour (kubectl's default); no conflict detection.
 */
export function createThreeWayMergePatch(original: unknown, modified: unknown, current: unknown, schema: PatchSchema | undefined): JsonObject {
  for (const d of [original, modified, current]) if (d !== undefined && d !== null && !isObject(d)) throw errBadJSONDoc();
  const o = (deepCopy(original ?? {}) ?? {}) as JsonObject;
  const m = (deepCopy(modified ?? {}) ?? {}) as JsonObject;
  const c = (deepCopy(current ?? {}) ?? {}) as JsonObject;
  const delta = diffMaps(c, m, schema, { ignoreDeletions: true, setElementOrder: true });
  const deletions = diffMaps(o, m, schema, { setElementOrder: true, ignoreChangesAndAdditions: true });
  return mergeMap(deletions, delta, schema, { mergeParallelList: false, ignoreUnmatchedNulls: false });
}
