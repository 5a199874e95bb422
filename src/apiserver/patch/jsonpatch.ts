// RFC 6902 JSON Patch (application/json-patch+json), behaving like the evanphx/json-patch v4
// library the upstream API server uses: same leniencies (replace of a missing object key
// adds it, negative array indices count from the end) and the same error texts, which
// kubectl prints verbatim.
import { PatchError } from './errors.js';
import { deepCopy, deepEqual, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json.js';

export { PatchError } from './errors.js';

export interface JsonPatchOperation {
  op?: string;
  path?: string;
  from?: string;
  value?: unknown;
}

type Container = JsonObject | JsonValue[];

// errors.Wrapf(ErrMissing, ...) renders as "<message>: missing value".
const missing = (msg: string) => new PatchError(`${msg}: missing value`);
const invalidIndex = (idx: number) => new PatchError(`Unable to access invalid index: ${idx}: invalid index referenced`);

/** RFC 6901: "~1" is "/", then "~0" is "~". */
export function decodePointerToken(t: string): string {
  return t.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

export function encodePointerToken(t: string): string {
  return t.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** strconv.Atoi, with its error text. */
function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new PatchError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number(key);
}

/** Resolves a possibly negative index against a length; out of range throws. */
function resolveIndex(idx: number, len: number): number {
  if (idx < 0) {
    if (idx < -len) throw invalidIndex(idx);
    idx += len;
  }
  if (idx >= len) throw invalidIndex(idx);
  return idx;
}

function get(con: Container, key: string): JsonValue | undefined {
  if (Array.isArray(con)) return con[resolveIndex(atoi(key), con.length)];
  return hasKey(con, key) ? con[key] : undefined;
}

function set(con: Container, key: string, val: JsonValue): void {
  if (Array.isArray(con)) con[resolveIndex(atoi(key), con.length)] = val;
  else setKey(con, key, val);
}

function add(con: Container, key: string, val: JsonValue): void {
  if (!Array.isArray(con)) {
    setKey(con, key, val);
    return;
  }
  if (key === '-') {
    con.push(val);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new PatchError(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  // Inserting may target one past the end.
  const size = con.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  con.splice(idx, 0, val);
}

function remove(con: Container, key: string): void {
  if (Array.isArray(con)) {
    con.splice(resolveIndex(atoi(key), con.length), 1);
    return;
  }
  if (!hasKey(con, key)) throw missing(`Unable to remove nonexistent key: ${key}`);
  delete con[key];
}

/** Walks to the parent of the last token; undefined when any step is missing or not a container. */
function findObject(doc: Container, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let cur: Container = doc;
  for (const part of split.slice(1, -1)) {
    let next: JsonValue | undefined;
    try {
      next = get(cur, decodePointerToken(part));
    } catch {
      return undefined;
    }
    if (next === undefined || next === null || typeof next !== 'object') return undefined;
    cur = next;
  }
  return { con: cur, key: decodePointerToken(split[split.length - 1]) };
}

function wrap(prefix: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    throw new PatchError(`${prefix}: ${(e as Error).message}`);
  }
}

function stringField(op: JsonPatchOperation, field: 'path' | 'from', opName: string): string {
  const v = op[field];
  if (typeof v !== 'string') {
    if (v === undefined || v === null) throw missing(`${opName} operation failed to decode ${field}`);
    throw new PatchError(`${opName} operation failed to decode ${field}: json: cannot unmarshal into Go value of type string`);
  }
  return v;
}

const valueOf = (op: JsonPatchOperation): JsonValue => (op.value === undefined ? null : (deepCopy(op.value) as JsonValue));

/**
 * Applies the operations in order to a copy of doc and returns the result.
 * Throws PatchError (the API server answers 422 with its message) when an operation does not apply.
 */
export function applyJsonPatch<T = unknown>(doc: unknown, ops: unknown): T {
  if (!Array.isArray(ops)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = deepCopy(doc) as JsonValue;
  if (root === null || typeof root !== 'object') throw new PatchError('json: cannot unmarshal into Go value of type jsonpatch.partialDoc');
  for (const raw of ops as unknown[]) {
    const op = (isObject(raw) ? raw : {}) as JsonPatchOperation;
    const kind = typeof op.op === 'string' ? op.op : 'unknown';
    switch (kind) {
      case 'add': {
        const path = stringField(op, 'path', 'add');
        const t = findObject(root as Container, path);
        if (!t) throw missing(`add operation does not apply: doc is missing path: "${path}"`);
        wrap(`error in add for path: '${path}'`, () => add(t.con, t.key, valueOf(op)));
        break;
      }
      case 'remove': {
        const path = stringField(op, 'path', 'remove');
        const t = findObject(root as Container, path);
        if (!t) throw missing(`remove operation does not apply: doc is missing path: "${path}"`);
        wrap(`error in remove for path: '${path}'`, () => remove(t.con, t.key));
        break;
      }
      case 'replace': {
        const path = stringField(op, 'path', 'replace');
        if (path === '') {
          const v = valueOf(op);
          if (v === null || typeof v !== 'object') throw new PatchError('replace operation value must be object or array');
          root = v;
          break;
        }
        const t = findObject(root as Container, path);
        if (!t) throw missing(`replace operation does not apply: doc is missing path: ${path}`);
        try {
          get(t.con, t.key);
        } catch {
          throw missing(`replace operation does not apply: doc is missing key: ${path}`);
        }
        wrap(`error in remove for path: '${path}'`, () => set(t.con, t.key, valueOf(op)));
        break;
      }
      case 'move': {
        const from = stringField(op, 'from', 'move');
        const f = findObject(root as Container, from);
        if (!f) throw missing(`move operation does not apply: doc is missing from path: ${from}`);
        let val: JsonValue | undefined;
        wrap(`error in move for path: '${f.key}'`, () => {
          val = get(f.con, f.key);
          remove(f.con, f.key);
        });
        const path = stringField(op, 'path', 'move');
        const t = findObject(root as Container, path);
        if (!t) throw missing(`move operation does not apply: doc is missing destination path: ${path}`);
        wrap(`error in move for path: '${path}'`, () => add(t.con, t.key, val ?? null));
        break;
      }
      case 'copy': {
        const from = stringField(op, 'from', 'copy');
        const f = findObject(root as Container, from);
        if (!f) throw missing(`copy operation does not apply: doc is missing from path: ${from}`);
        let val: JsonValue | undefined;
        wrap(`error in copy for from: '${from}'`, () => {
          val = get(f.con, f.key);
        });
        const path = stringField(op, 'path', 'copy');
        const t = findObject(root as Container, path);
        if (!t) throw missing(`copy operation does not apply: doc is missing destination path: ${path}`);
        wrap('error while adding value during copy', () => add(t.con, t.key, deepCopy(val ?? null)));
        break;
      }
      case 'test': {
        const path = stringField(op, 'path', 'test');
        const failed = () => new PatchError(`testing value ${path} failed: test failed`);
        if (path === '') {
          if (!deepEqual(root, op.value)) throw failed();
          break;
        }
        const t = findObject(root as Container, path);
        if (!t) throw missing(`test operation does not apply: is missing path: ${path}`);
        let val: JsonValue | undefined;
        wrap(`error in test for path: '${path}'`, () => {
          val = get(t.con, t.key);
        });
        if (val === undefined || val === null) {
          if (op.value === undefined || op.value === null) break;
          throw failed();
        }
        if (!deepEqual(val, op.value)) throw failed();
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${kind}`);
    }
  }
  return root as T;
}
