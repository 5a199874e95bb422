// Server-side field validation (the `fieldValidation` query parameter of create, update and
// patch) and pruning of unknown fields, as upstream's typed decoding does it
// (k8s.io/apiserver/pkg/endpoints/handlers create.go, update.go, patch.go):
//
// - Fields the kind's schema does not declare are always dropped from what is stored.
// - Strict: the request fails; create/update with 400 BadRequest
//   `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.x", …`,
//   non-apply patches with 422 Invalid on the field "patch".
// - Warn (upstream's default when the parameter is absent): the request succeeds and every
//   problem comes back in a `Warning: 299 - "unknown field \"spec.x\""` response header.
// - Ignore: dropped silently.
// Duplicate keys in the request body (JSON.parse keeps the last one silently) are found by a
// small scanner over the body text, run only for Strict and Warn; in-process requests carry
// objects, which cannot hold duplicates.
//
// Built-in kinds are checked against the generated OpenAPI definitions
// (openapi/definitions.ts), compiled once per definition into a compact walker; custom
// resources against their structural schema (crd/schema.ts `prune`), with metadata checked as
// ObjectMeta like apiextensions-apiserver does.
import YAML from 'yaml';
import type { KObject } from '../api/types.js';
import { fieldErrorBody } from '../api/validation/field.js';
import { ApiError, badRequest, invalid } from './errors.js';
import { builtinDefinitions, type Schema } from './openapi/definitions.js';
import { definitionName } from './openapi.js';
import { isBuiltinGroup } from './discovery.js';
import { prune as pruneStructural, type Schema as StructuralSchema } from './crd/schema.js';
import { parseMediaTypes } from './negotiation.js';
import { PROTOBUF_CONTENT_TYPE } from './protobuf/decode.js';
import type { ApiRequest, ApiResponse } from './request.js';
import type { ServedResource } from './resources.js';

export type FieldValidationDirective = 'Ignore' | 'Warn' | 'Strict';

const DIRECTIVES = new Set<string>(['Ignore', 'Warn', 'Strict']);

/**
 * The request's directive; Warn when absent (upstream's default since 1.23). An unknown value
 * fails like upstream's options validation:
 * `CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "x": supported values: "", "Ignore", "Strict", "Warn"`.
 */
export function fieldValidationDirective(req: ApiRequest, options: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' = 'CreateOptions'): FieldValidationDirective {
  const v = req.query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (DIRECTIVES.has(v)) return v as FieldValidationDirective;
  throw invalid('meta.k8s.io', options, '', [{ type: 'FieldValueNotSupported', field: 'fieldValidation', badValue: v, supported: ['', 'Ignore', 'Strict', 'Warn'] }]);
}

// ---- compiled schemas ----

/** A compiled schema: what to check below a value. */
type Node = AnyNode | ObjNode | MapNode | ListNode;
interface AnyNode {
  k: 0;
}
interface ObjNode {
  k: 1;
  props: Map<string, Node>;
  /** Fields not in props: checked against this (a map's values), or kept (ANY), or unknown (undefined). */
  extra: Node | undefined;
}
interface MapNode {
  k: 2;
  values: Node;
}
interface ListNode {
  k: 3;
  items: Node;
}

const ANY: AnyNode = { k: 0 };

/** Compiled definitions, by name; one per process (the generated definitions never change). */
const compiled = new Map<string, Node>();

function refName(ref: string): string {
  return ref.replace(/^#\/(definitions|components\/schemas)\//, '');
}

function compileDef(defs: Record<string, Schema>, name: string): Node {
  const hit = compiled.get(name);
  if (hit) return hit;
  const def = defs[name];
  if (!def) return ANY;
  const props = def['properties'] as Record<string, Schema> | undefined;
  if (props && def['x-kubernetes-preserve-unknown-fields'] !== true) {
    // Objects may be recursive (JSONSchemaProps): register before compiling the fields.
    const node: ObjNode = { k: 1, props: new Map(), extra: undefined };
    compiled.set(name, node);
    fillObject(defs, node, def);
    return node;
  }
  const node = compileSchema(defs, def);
  compiled.set(name, node);
  return node;
}

function fillObject(defs: Record<string, Schema>, node: ObjNode, schema: Schema): void {
  for (const [k, sub] of Object.entries(schema['properties'] as Record<string, Schema>)) node.props.set(k, compileSchema(defs, sub));
  const additional = schema['additionalProperties'];
  if (schema['x-kubernetes-preserve-unknown-fields'] === true || additional === true) node.extra = ANY;
  else if (additional && typeof additional === 'object') node.extra = compileSchema(defs, additional as Schema);
}

function compileSchema(defs: Record<string, Schema>, schema: Schema | undefined): Node {
  if (!schema || typeof schema !== 'object') return ANY;
  const ref = schema['$ref'];
  if (typeof ref === 'string') return compileDef(defs, refName(ref));
  const all = schema['allOf'];
  if (Array.isArray(all) && all.length === 1 && !schema['properties']) return compileSchema(defs, all[0] as Schema);
  if (schema['properties'] && typeof schema['properties'] === 'object') {
    const node: ObjNode = { k: 1, props: new Map(), extra: undefined };
    fillObject(defs, node, schema);
    return node;
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return ANY;
  const additional = schema['additionalProperties'];
  if (additional && typeof additional === 'object') {
    const values = compileSchema(defs, additional as Schema);
    return values === ANY ? ANY : { k: 2, values };
  }
  const items = schema['items'];
  if (items && typeof items === 'object' && !Array.isArray(items)) {
    const n = compileSchema(defs, items as Schema);
    return n === ANY ? ANY : { k: 3, items: n };
  }
  // Scalars, int-or-string, Quantity, RawExtension, FieldsV1, JSON: anything goes below.
  return ANY;
}

/** The compiled schema of a built-in kind in a version; undefined when kts has none (then nothing is pruned). */
export function builtinSchema(group: string, version: string, kind: string): Node | undefined {
  const defs = builtinDefinitions();
  if (!defs) return undefined;
  const name = definitionName(group, version, kind);
  if (!defs[name]) return undefined;
  return compileDef(defs, name);
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function objectMetaSchema(): Node | undefined {
  const defs = builtinDefinitions();
  return defs?.[OBJECT_META] ? compileDef(defs, OBJECT_META) : undefined;
}

// ---- pruning ----

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Deletes from `value` every field `node` does not declare and returns their paths
 * ("spec.template.spec.containers[0].imagePullPolcy"), in document order.
 */
function pruneNode(node: Node, value: unknown, path: string, out: string[]): void {
  switch (node.k) {
    case 0:
      return;
    case 1: {
      if (!isPlainObject(value)) return;
      const { props, extra } = node;
      for (const key in value) {
        const sub = props.get(key) ?? extra;
        const p = path ? `${path}.${key}` : key;
        if (sub === undefined) {
          out.push(p);
          delete value[key];
        } else if (sub.k !== 0) pruneNode(sub, value[key], p, out);
      }
      return;
    }
    case 2: {
      if (!isPlainObject(value)) return;
      for (const key in value) pruneNode(node.values, value[key], path ? `${path}.${key}` : key, out);
      return;
    }
    case 3: {
      if (!Array.isArray(value)) return;
      for (let i = 0; i < value.length; i++) pruneNode(node.items, value[i], `${path}[${i}]`, out);
      return;
    }
  }
}

/** Unknown fields of a built-in object against a compiled schema, removed from `obj`. Exported for tests. */
export function pruneWithSchema(node: Node, obj: unknown): string[] {
  const out: string[] = [];
  pruneNode(node, obj, '', out);
  return out;
}

/**
 * Removes the fields `obj` (in the served version) has and its schema does not, and returns
 * their paths. Built-ins: the generated definition; custom resources: the version's structural
 * schema, with metadata checked as ObjectMeta. Kinds without a schema keep everything.
 */
export function pruneUnknownFields(served: ServedResource, obj: KObject): string[] {
  if (!isPlainObject(obj)) return [];
  const { decl, version } = served;
  if (decl.openAPISchemas || !isBuiltinGroup(decl.group)) {
    const schema = decl.openAPISchemas?.[version] as StructuralSchema | undefined;
    const out: string[] = [];
    const meta = objectMetaSchema();
    if (meta && isPlainObject(obj.metadata)) pruneNode(meta, obj.metadata, 'metadata', out);
    if (schema) out.push(...pruneStructural(obj, schema));
    return out;
  }
  const node = builtinSchema(decl.group, version, decl.kind);
  if (!node) return [];
  return pruneWithSchema(node, obj);
}

// ---- duplicate fields ----

/**
 * Paths of keys that appear more than once in the same JSON object of `text` (which must be
 * valid JSON: run after JSON.parse succeeded), as sigs.k8s.io/json's strict decoding names them.
 */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  const segs: string[] = [];
  const n = text.length;
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  const str = (): string => {
    // text[i] is the opening quote.
    const start = ++i;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
      } else i++;
      if (i >= n) break;
    }
    const raw = text.slice(start, i);
    i++;
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  };
  const value = (): void => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) {
      i++;
      let seen: Set<string> | undefined;
      let first: string | undefined;
      ws();
      if (text.charCodeAt(i) === 125) {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // ':'
        segs.push(segs.length ? `.${key}` : key);
        // Most objects have few keys: a Set only from the second one on.
        if (first === undefined) first = key;
        else {
          if (!seen) seen = new Set([first]);
          if (seen.has(key)) out.push(segs.join(''));
          else seen.add(key);
        }
        value();
        segs.pop();
        ws();
        const d = text.charCodeAt(i++);
        if (d !== 44 /* , */) return;
      }
    } else if (c === 91 /* [ */) {
      i++;
      ws();
      if (text.charCodeAt(i) === 93) {
        i++;
        return;
      }
      for (let idx = 0; ; idx++) {
        segs.push(`[${idx}]`);
        value();
        segs.pop();
        ws();
        const d = text.charCodeAt(i++);
        if (d !== 44) return;
      }
    } else if (c === 34) {
      str();
    } else {
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 44 || d === 93 || d === 125 || d === 32 || d === 10 || d === 13 || d === 9) break;
        i++;
      }
    }
  };
  value();
  return out;
}

/** Duplicate keys of a YAML body, as go-yaml's strict decoding reports them (one error for all). */
export function yamlDuplicateError(text: string): string | undefined {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, version: '1.1' });
  const dups = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
  if (!dups.length) return undefined;
  const lines = dups.map((e) => {
    const line = e.linePos?.[0]?.line ?? 0;
    const key = /^(?:"([^"]*)"|'([^']*)'|([^:\n]*?))\s*:/.exec(text.slice(e.pos[0]));
    const name = key ? (key[1] ?? key[2] ?? key[3] ?? '') : '';
    return `  line ${line}: key ${JSON.stringify(name)} already set in map`;
  });
  return `error converting YAML to JSON: yaml: unmarshal errors:\n${lines.join('\n')}`;
}

/** Strict errors about the raw body: duplicate keys ("duplicate field \"metadata.name\""), or a YAML error. */
function bodyStrictErrors(req: ApiRequest): string[] {
  if (req.bodyObject !== undefined || !req.body || !req.body.length) return [];
  const t = parseMediaTypes(req.headers['content-type'])[0]?.type ?? 'application/json';
  if (t === PROTOBUF_CONTENT_TYPE) return [];
  const text = req.body.toString('utf8');
  if (t === 'application/yaml' || t.endsWith('+yaml')) {
    const e = yamlDuplicateError(text);
    return e ? [e] : [];
  }
  try {
    return duplicateFields(text).map((p) => `duplicate field ${JSON.stringify(p)}`);
  } catch {
    // Nesting deeper than the stack allows (JSON.parse took it): no duplicate report.
    return [];
  }
}

// ---- the hooks ----

/** What a request's validation found: Warning header values to add (Warn). */
export interface FieldValidationResult {
  warnings: string[];
}

const NONE: FieldValidationResult = { warnings: [] };

function strictDecodingError(errs: string[]): string {
  return `strict decoding error: ${errs.join(', ')}`;
}

/**
 * Create and update bodies (main resource and status): prunes unknown fields from `obj` (the
 * decoded body, in the served version) and applies the directive. Strict fails with
 * upstream's decoding error:
 * `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.x"`.
 */
export function validateBody(served: ServedResource, req: ApiRequest, obj: KObject, verb: 'create' | 'update'): FieldValidationResult {
  const directive = fieldValidationDirective(req, verb === 'create' ? 'CreateOptions' : 'UpdateOptions');
  const unknown = pruneUnknownFields(served, obj);
  if (directive === 'Ignore') return NONE;
  const errs = [...bodyStrictErrors(req), ...unknown.map((p) => `unknown field ${JSON.stringify(p)}`)];
  if (!errs.length) return NONE;
  if (directive === 'Strict') {
    const kind = served.decl.kind;
    throw badRequest(`${kind} in version ${JSON.stringify(served.version)} cannot be handled as a ${kind}: ${strictDecodingError(errs)}`);
  }
  return { warnings: errs };
}

/**
 * Non-apply patches: the directive is read (and checked) before the patch is applied, duplicate
 * keys in the patch body are collected once; `checkPatched` then prunes each patched object.
 */
export function patchValidation(req: ApiRequest, contentType: string): PatchValidation {
  const directive = fieldValidationDirective(req, 'PatchOptions');
  const bodyErrs = directive === 'Ignore' ? [] : bodyStrictErrors(req);
  return new PatchValidation(directive, contentType, bodyErrs);
}

export class PatchValidation {
  /** Warnings of the last attempt (a conflict retries the patch on a fresh read). */
  warnings: string[] = [];

  constructor(
    readonly directive: FieldValidationDirective,
    private readonly contentType: string,
    private readonly bodyErrs: string[],
  ) {}

  /**
   * Prunes the patched object (served version). Strict fails as upstream's patcher does:
   * 422 Invalid, ` "" is invalid: patch: Invalid value: "map[…]": strict decoding error: unknown field "spec.x"`
   * (the patch as Go prints a map for strategic merge patches, the patched JSON otherwise).
   */
  checkPatched(served: ServedResource, patch: unknown, patched: KObject): void {
    const unknown = pruneUnknownFields(served, patched);
    if (this.directive === 'Ignore') return;
    const errs = [...this.bodyErrs, ...unknown.map((p) => `unknown field ${JSON.stringify(p)}`)];
    this.warnings = errs;
    if (!errs.length || this.directive !== 'Strict') return;
    const badValue = this.contentType === 'application/strategic-merge-patch+json' ? goValue(patch) : JSON.stringify(patched);
    throw patchInvalid(badValue, strictDecodingError(errs));
  }
}

/** errors.NewInvalid(schema.GroupKind{}, "", [field.Invalid("patch", value, detail)]). */
function patchInvalid(badValue: string, detail: string): ApiError {
  const fe = { type: 'FieldValueInvalid' as const, field: 'patch', badValue, detail };
  const body = fieldErrorBody(fe);
  return new ApiError(422, 'Invalid', ` "" is invalid: patch: ${body}`, { causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }] });
}

/** Go's %+v of a decoded JSON value (map[a:1 b:[x y]]), as strategicPatchObject reports the patch. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v as object)
      .sort()
      .map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  return String(v);
}

/** `299 - "unknown field \"spec.x\""`, one per problem, as upstream's warning recorder writes them. */
export function warningValue(message: string): string {
  return `299 - ${JSON.stringify(message)}`;
}

/** Adds Warning headers to a response (merged with any already there). */
export function withWarnings(res: ApiResponse, warnings: readonly string[]): ApiResponse {
  if (!warnings.length) return res;
  const values = warnings.map(warningValue).join(', ');
  const prev = res.headers?.['Warning'];
  return { ...res, headers: { ...(res.headers ?? {}), Warning: prev ? `${prev}, ${values}` : values } };
}
