// RFC 7386 JSON merge patch (application/merge-patch+json): objects merge key by key,
// null deletes, anything else (lists included) replaces. Like evanphx/json-patch, nulls
// inside a newly added object are dropped rather than stored.
import { deepCopy, deepEqual, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json.js';

function pruneNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) {
    for (const item of v) if (isObject(item)) pruneNulls(item);
  } else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else pruneNulls(v[k]);
    }
  }
  return v;
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const k of Object.keys(patch)) {
    const pv = patch[k];
    if (pv === null) {
      delete doc[k];
      continue;
    }
    const cur = hasKey(doc, k) ? doc[k] : null;
    if (isObject(cur) && isObject(pv)) mergeDocs(cur, pv);
    else setKey(doc, k, isObject(cur) ? pv : pruneNulls(pv));
  }
}

/** Applies an RFC 7386 merge patch to a copy of doc. A non-object patch replaces the document. */
export function applyMergePatch<T = unknown>(doc: unknown, patch: unknown): T {
  const p = deepCopy(patch) as JsonValue;
  if (!isObject(p)) return p as T;
  const d = deepCopy(doc) as JsonValue;
  const target: JsonObject = isObject(d) ? d : {};
  mergeDocs(target, p);
  return target as T;
}

/** The merge patch that turns original into modified (removed keys become null). */
export function createMergePatch(original: unknown, modified: unknown): JsonValue {
  if (!isObject(original) || !isObject(modified)) return deepCopy(modified) as JsonValue;
  return diff(original, modified);
}

function diff(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(b)) {
    const bv = b[k];
    if (!hasKey(a, k)) {
      setKey(out, k, deepCopy(bv));
      continue;
    }
    const av = a[k];
    if (isObject(av) && isObject(bv)) {
      const sub = diff(av, bv);
      if (Object.keys(sub).length > 0) setKey(out, k, sub);
    } else if (!deepEqual(av, bv)) {
      setKey(out, k, deepCopy(bv));
    }
  }
  for (const k of Object.keys(a)) if (!hasKey(b, k)) setKey(out, k, null);
  return out;
}
