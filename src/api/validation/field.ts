// Builders for FieldError and rendering like upstream's field.Error.Error().
import type { FieldError } from '../types.js';

export const required = (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, badValue: unknown, detail?: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  badValue,
  detail,
});
export const notSupported = (field: string, badValue: unknown, supported: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  badValue,
  supported,
});
export const duplicate = (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, badValue });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const tooLong = (field: string, badValue: unknown, max: number): FieldError => ({
  type: 'FieldValueTooLong',
  field,
  badValue,
  detail: `must have at most ${max} bytes`,
});
export const notFound = (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueNotFound', field, badValue });

/** A bad value already rendered the way Go's %#v renders it (for structs whose type we know). */
export class GoValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Go's %#v of a struct of strings: `rbac.RoleRef{APIGroup:"x", Kind:"Role", Name:"b"}`. */
export function goStruct(type: string, fields: [string, string | undefined][]): GoValue {
  return new GoValue(`${type}{${fields.map(([k, v]) => `${k}:${JSON.stringify(v ?? '')}`).join(', ')}}`);
}

/**
 * How upstream prints a bad value (field.Error's ErrorBody): strings quoted, numbers and
 * booleans bare, anything else with Go's %#v. Label maps and string lists — the common
 * cases — get Go's exact form (`map[string]string{"a":"b", "c":"d"}` with sorted keys,
 * `[]string{"a", "b"}`); other structs, whose Go type names we cannot know, print as JSON.
 */
export function formatBadValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (v instanceof GoValue) return v.text;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([, x]) => typeof x === 'string')) {
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `map[string]string{${entries.map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`).join(', ')}}`;
    }
  }
  return JSON.stringify(v);
}

/** The part after "field: " — the cause's message in a Status. */
export function fieldErrorBody(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return e.detail ? `Required value: ${e.detail}` : 'Required value';
    case 'FieldValueInvalid':
      return `Invalid value: ${formatBadValue(e.badValue)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotSupported': {
      const base = `Unsupported value: ${formatBadValue(e.badValue)}`;
      const sup = e.supported && e.supported.length ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : '';
      return base + sup;
    }
    case 'FieldValueDuplicate':
      return `Duplicate value: ${formatBadValue(e.badValue)}`;
    case 'FieldValueForbidden':
      return e.detail ? `Forbidden: ${e.detail}` : 'Forbidden';
    case 'FieldValueTooLong':
      return `Too long: ${e.detail ?? 'value is too long'}`;
    case 'FieldValueTooMany':
      return `Too many: ${e.detail ?? formatBadValue(e.badValue)}`;
    case 'FieldValueNotFound':
      return `Not found: ${formatBadValue(e.badValue)}`;
    case 'InternalError':
      return `Internal error: ${e.detail ?? ''}`;
  }
}

export function fieldErrorMessage(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/** Joins a path: ("spec", "containers", 0, "name") -> "spec.containers[0].name". */
export function path(...parts: (string | number)[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (p.startsWith('[')) out += p;
    else out += out ? `.${p}` : p;
  }
  return out;
}
