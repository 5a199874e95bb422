// Small helpers shared by the core/v1 declarations: safe access to untyped JSON, resource
// lists, and validation pieces that several resources use.
import type { FieldError, KObject, TableColumn } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Subdomain, isQualifiedName, validateLabels } from '../validation/names.js';
import { quantityOf, quantityRegexMessage } from '../quantity.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const arr = <T = Json>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
export const obj = (v: unknown): Record<string, Json> => (isObj(v) ? v : {});
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Ensures o[k] is an object and returns it. */
export function ensureObj(o: Record<string, Json>, k: string): Record<string, Json> {
  if (!isObj(o[k])) o[k] = {};
  return o[k];
}

export function setDefault(o: Record<string, Json>, k: string, v: Json): void {
  if (o[k] === undefined || o[k] === null || o[k] === '') o[k] = v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as Json)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Json)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => deepEqual((a as Json)[k], (b as Json)[k]));
}

export const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** A status update changes status only: everything else comes back from `old` (resourceVersion aside). */
export function statusOnly(o: KObject, old: KObject): void {
  const status = o.status;
  const rv = o.metadata?.resourceVersion;
  for (const k of Object.keys(o)) delete o[k];
  Object.assign(o, clone(old));
  if (status === undefined) delete o.status;
  else o.status = status;
  if (rv !== undefined) o.metadata.resourceVersion = rv;
}

/** Rewrites every quantity in a ResourceList to its canonical string, as upstream stores it. */
export function canonicalizeResourceList(list: unknown): void {
  if (!isObj(list)) return;
  for (const [k, v] of Object.entries(list)) {
    const q = quantityOf(v);
    if (q) list[k] = q.toString();
  }
}

/** Standard resource names users put in requests/limits/quotas. */
export function validateResourceName(name: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of isQualifiedName(name)) errs.push(invalid(field, name, m));
  if (errs.length === 0 && !name.includes('/') && !standardResourceNames.has(name) && !name.startsWith('requests.') && !name.startsWith('limits.') && !name.startsWith('hugepages-') && !name.startsWith('count/'))
    errs.push(invalid(field, name, 'must be a standard resource type or fully qualified'));
  return errs;
}

const standardResourceNames = new Set([
  'cpu',
  'memory',
  'storage',
  'ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

/** ValidateResourceQuantityValue-like: each value must parse and be >= 0. */
export function validateResourceList(list: unknown, field: string, checkNames = true): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return errs;
  if (!isObj(list)) return [invalid(field, list, 'must be a map of resource names to quantities')];
  for (const [k, v] of Object.entries(list)) {
    const f = `${field}[${k}]`;
    if (checkNames) errs.push(...validateResourceName(k, f));
    const q = quantityOf(v);
    if (!q) {
      errs.push(invalid(f, v, quantityRegexMessage));
      continue;
    }
    if (q.sign() < 0) errs.push(invalid(f, q.toString(), 'must be greater than or equal to 0'));
  }
  return errs;
}

/** A label-selector map (Service.spec.selector, RC.spec.selector). */
export function validateSelectorMap(sel: unknown, field: string): FieldError[] {
  return validateLabels(sel, field);
}

export function validateEnum(v: unknown, field: string, allowed: string[], requiredIfEmpty = false): FieldError[] {
  if (v === undefined || v === null || v === '') return requiredIfEmpty ? [required(field)] : [];
  return allowed.includes(v as string) ? [] : [notSupported(field, v, allowed)];
}

export function validateNonnegative(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(field, v, 'must be an integer')];
  return v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [];
}

/** A reference by name to another object (a Secret, ConfigMap …). */
export function validateRefName(name: unknown, field: string): FieldError[] {
  if (typeof name !== 'string' || name === '') return [required(field)];
  return isDNS1123Subdomain(name).map((m) => invalid(field, name, m));
}

/** Keys of ConfigMap/Secret data: IsConfigMapKey. */
const configMapKeyRe = /^[-._a-zA-Z0-9]+$/;
export function isConfigMapKey(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!configMapKeyRe.test(key))
    errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** Container names and images on one line, like layoutContainerCells. */
export function layoutContainerCells(containers: unknown): [string, string] {
  const cs = arr(containers);
  return [cs.map((c) => str(c?.name)).join(','), cs.map((c) => str(c?.image)).join(',')];
}

export function col(name: string, type: TableColumn['type'], description: string, priority = 0): TableColumn {
  return { name, type, description, priority };
}

export const meta = (o: KObject) => o.metadata ?? {};

/** An immutable field: Invalid with upstream's "field is immutable". */
export function immutable(newV: unknown, oldV: unknown, field: string): FieldError[] {
  return deepEqual(newV, oldV) ? [] : [invalid(field, newV, 'field is immutable')];
}
