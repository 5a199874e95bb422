// Helpers shared by the named-group declarations: upstream's small validation
// building blocks (apimachinery ValidateNonnegativeField, IntOrString percents,
// label selectors, immutable fields) and Table column shorthands.
import type { FieldError, KObject, TableColumn } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../validation/names.js';
import { ageColumn, nameColumn } from '../printers/util.js';

// ---- Table columns -------------------------------------------------------

export function col(name: string, description: string, type: TableColumn['type'] = 'string', priority = 0): TableColumn {
  return { name, type, description, priority };
}
export const NAME: TableColumn = { ...nameColumn };
export const AGE: TableColumn = { ...ageColumn };
export const CONTAINERS = col('Containers', 'Names of each container in the template.', 'string', 1);
export const IMAGES = col('Images', 'Images referenced by each container in the template.', 'string', 1);

/** The columns of upstream's DefaultTableConvertor, used where printers.go has no handler (roles, CRDs). */
export const defaultColumns: TableColumn[] = [
  NAME,
  { name: 'Created At', type: 'date', description: AGE.description, priority: 0 },
];
export function defaultCells(obj: KObject): unknown[] {
  const ts = obj.metadata.creationTimestamp;
  return [obj.metadata.name, ts ? new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z') : '<unknown>'];
}

// ---- small object helpers ------------------------------------------------

/** Returns obj[key] as an object, creating it when missing. */
export function ensure<T extends object = Record<string, any>>(obj: Record<string, any>, key: string): T {
  if (obj[key] === undefined || obj[key] === null || typeof obj[key] !== 'object') obj[key] = {};
  return obj[key] as T;
}

export function setDefault(obj: Record<string, any>, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** Structural equality of JSON values (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as any)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as any)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

// ---- numeric fields ------------------------------------------------------

/** ValidateNonnegativeField. */
export function nonNegative(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(field, v, 'must be an integer')];
  return v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [];
}

/** ValidatePositiveField (strictly greater than zero). */
export function positive(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(field, v, 'must be an integer')];
  return v <= 0 ? [invalid(field, v, 'must be greater than zero')] : [];
}

const percentRe = /^[0-9]+%$/;
const percentMsg =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** ValidatePositiveIntOrPercent. */
export function intOrPercent(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return percentRe.test(v) ? [] : [invalid(field, v, percentMsg)];
  return nonNegative(v, field);
}

/** getIntOrPercentValue: the number, whether "25%" or 25. */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && percentRe.test(v)) return parseInt(v, 10);
  return 0;
}

/** IsNotMoreThan100Percent. */
export function notMoreThan100Percent(v: unknown, field: string): FieldError[] {
  if (typeof v === 'string' && percentRe.test(v) && parseInt(v, 10) > 100) return [invalid(field, v, 'must not be greater than 100%')];
  return [];
}

/** An IntOrString as kubectl prints it ("25%" or "1"). */
export function intOrStringText(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

// ---- label selectors -----------------------------------------------------

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** True for a selector that selects nothing in particular (no labels, no expressions). */
export function selectorEmpty(sel: LabelSelector | undefined | null): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/** metav1.LabelSelectorAsSelector(sel).Matches(labels). A nil selector matches nothing, an empty one everything. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** metav1validation.ValidateLabelSelector. */
export function validateLabelSelector(sel: unknown, field: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  if (typeof sel !== 'object' || Array.isArray(sel)) return [invalid(field, sel, 'must be a label selector')];
  const s = sel as LabelSelector;
  const errs: FieldError[] = [];
  (s.matchExpressions ?? []).forEach((e, i) => {
    const p = `${field}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, e.operator, 'is not a valid label selector operator'));
    }
    for (const m of isQualifiedName(String(e.key ?? ''))) errs.push(invalid(`${p}.key`, e.key, m));
  });
  errs.push(...validateLabels(s.matchLabels, `${field}.matchLabels`));
  return errs;
}

/** Checks a label selector's label values only (for selectors given as maps). */
export function validLabelValue(v: string): boolean {
  return isValidLabelValue(v).length === 0;
}

// ---- updates -------------------------------------------------------------

/** ValidateImmutableField. */
export function immutable(next: unknown, prev: unknown, field: string): FieldError[] {
  return deepEqual(next, prev) ? [] : [invalid(field, next, 'field is immutable')];
}

/** One of `allowed` (NotSupported otherwise), or Required when empty and `requiredWhenEmpty`. */
export function oneOf(v: unknown, allowed: string[], field: string, requiredWhenEmpty = true): FieldError[] {
  if (v === undefined || v === null || v === '') return requiredWhenEmpty ? [required(field, '')] : [];
  return allowed.includes(v as string) ? [] : [notSupported(field, v, allowed)];
}
