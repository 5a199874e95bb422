// Structural schemas of custom resources (the openAPIV3Schema of a CRD version):
// pruning of unknown fields, defaulting, and validation with upstream's messages
// (k8s.io/apiextensions-apiserver/pkg/apiserver/schema and kube-openapi's validate).
import type { FieldError } from '../../api/types.js';
import { invalid, notSupported, required, tooLong } from '../../api/validation/field.js';

export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  default?: unknown;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: unknown[];
}

type J = Record<string, unknown>;
const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes fields the schema does not declare (unless it preserves unknown fields). Returns the pruned paths. */
export function prune(value: unknown, schema: Schema | undefined, isRoot = true, path = ''): string[] {
  const pruned: string[] = [];
  if (!schema) return pruned;
  if (isObj(value)) {
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    for (const key of Object.keys(value)) {
      // apiVersion, kind and metadata are the API server's business at the root and in embedded objects.
      if ((isRoot || embedded) && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) {
        if (key === 'metadata' && embedded && isObj(value[key])) pruneEmbeddedMetadata(value[key] as J);
        continue;
      }
      const sub = schema.properties?.[key] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (sub) pruned.push(...prune(value[key], sub, false, join(path, key)));
      else if (!preserve && schema.additionalProperties !== true) {
        delete value[key];
        pruned.push(join(path, key));
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => pruned.push(...prune(v, schema.items, false, `${path}[${i}]`)));
  }
  return pruned;
}

const EMBEDDED_META = new Set(['name', 'namespace', 'generateName', 'labels', 'annotations', 'finalizers', 'ownerReferences', 'uid', 'resourceVersion', 'creationTimestamp']);
function pruneEmbeddedMetadata(m: J): void {
  for (const k of Object.keys(m)) if (!EMBEDDED_META.has(k)) delete m[k];
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Applies `default`s for absent fields, and drops nulls where the schema neither allows nor defaults them. */
export function applyDefaults(value: unknown, schema: Schema | undefined): void {
  if (!schema) return;
  if (isObj(value) && schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
      else if (value[key] === null && !sub.nullable) {
        if (sub.default !== undefined) value[key] = structuredClone(sub.default);
        else delete value[key];
      }
      if (value[key] !== undefined) applyDefaults(value[key], sub);
    }
  }
  if (isObj(value) && isObj(schema.additionalProperties)) {
    for (const key of Object.keys(value)) if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties);
  }
  if (Array.isArray(value) && schema.items) for (const v of value) applyDefaults(v, schema.items);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, type: string): boolean {
  const t = jsonType(v);
  if (type === 'number') return t === 'number' || t === 'integer';
  return t === type;
}

function display(v: unknown): unknown {
  return v;
}

/** Validates `value` against `schema`, reporting at `path` like kube-openapi's validator. */
export function validateValue(value: unknown, schema: Schema | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!schema) return errs;
  const at = path || '<root>';
  if (value === null) {
    if (schema.nullable || schema['x-kubernetes-preserve-unknown-fields']) return errs;
    if (schema.type) errs.push(invalid(at, 'null', `${at} in body must be of type ${schema.type}: "null"`));
    return errs;
  }
  if (schema['x-kubernetes-int-or-string']) {
    const t = jsonType(value);
    if (t !== 'integer' && t !== 'string') errs.push(invalid(at, t, `${at} in body must be of type integer,string: "${t}"`));
  } else if (schema.type && !typeMatches(value, schema.type)) {
    const t = jsonType(value);
    errs.push(invalid(at, t, `${at} in body must be of type ${schema.type}: "${t}"`));
    return errs;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(notSupported(at, display(value), schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (schema.maxLength !== undefined && len > schema.maxLength) errs.push(tooLongChars(at, value, schema.maxLength));
    if (schema.minLength !== undefined && len < schema.minLength) errs.push(invalid(at, value, `${at} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(schema.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value)) errs.push(invalid(at, value, `${at} in body should match '${schema.pattern}'`));
    }
  }
  if (typeof value === 'number') {
    if (schema.maximum !== undefined) {
      if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
        errs.push(invalid(at, value, `${at} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
        errs.push(invalid(at, value, `${at} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
    if (schema.multipleOf !== undefined && schema.multipleOf > 0 && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9)
      errs.push(invalid(at, value, `${at} in body should be a multiple of ${schema.multipleOf}`));
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push({ type: 'FieldValueTooMany', field: at, badValue: value.length, detail: `must have at most ${schema.maxItems} items` });
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(invalid(at, value.length, `${at} in body should have at least ${schema.minItems} items`));
    if (schema.uniqueItems || schema['x-kubernetes-list-type'] === 'set') {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const k = JSON.stringify(v);
        if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: v });
        seen.add(k);
      });
    }
    if (schema['x-kubernetes-list-type'] === 'map' && schema['x-kubernetes-list-map-keys']) {
      const keys = schema['x-kubernetes-list-map-keys'];
      const seen = new Set<string>();
      value.forEach((v, i) => {
        if (!isObj(v)) return;
        const k = JSON.stringify(keys.map((key) => v[key]));
        if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: Object.fromEntries(keys.map((key) => [key, v[key]])) });
        seen.add(k);
      });
    }
    if (schema.items) value.forEach((v, i) => errs.push(...validateValue(v, schema.items, `${path}[${i}]`)));
  }
  if (isObj(value)) {
    for (const r of schema.required ?? []) if (value[r] === undefined) errs.push(required(join(path, r)));
    const n = Object.keys(value).length;
    if (schema.maxProperties !== undefined && n > schema.maxProperties) errs.push({ type: 'FieldValueTooMany', field: at, badValue: n, detail: `must have at most ${schema.maxProperties} items` });
    if (schema.minProperties !== undefined && n < schema.minProperties) errs.push(invalid(at, n, `${at} in body should have at least ${schema.minProperties} properties`));
    for (const [key, v] of Object.entries(value)) {
      const sub = schema.properties?.[key] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (sub) errs.push(...validateValue(v, sub, join(path, key)));
    }
    if (schema['x-kubernetes-embedded-resource']) {
      if (!value['apiVersion']) errs.push(required(join(path, 'apiVersion'), 'must not be empty'));
      if (!value['kind']) errs.push(required(join(path, 'kind'), 'must not be empty'));
    }
  }
  for (const sub of schema.allOf ?? []) errs.push(...validateValue(value, sub, path));
  if (schema.anyOf && !schema.anyOf.some((sub) => validateValue(value, sub, path).length === 0))
    errs.push(invalid(at, value, `${at} in body must validate at least one schema (anyOf)`));
  if (schema.oneOf && schema.oneOf.filter((sub) => validateValue(value, sub, path).length === 0).length !== 1)
    errs.push(invalid(at, value, `${at} in body must validate one and only one schema (oneOf)`));
  if (schema.not && validateValue(value, schema.not, path).length === 0) errs.push(invalid(at, value, `${at} in body must not validate the schema (not)`));
  return errs;
}

function tooLongChars(at: string, value: string, max: number): FieldError {
  const e = tooLong(at, value, max);
  e.detail = `may not be more than ${max} bytes`;
  return e;
}
