// labelSelector and fieldSelector query parameters as one predicate over stored objects.
import type { KObject, ResourceDecl } from '../../api/types.js';
import { parseLabelSelector } from '../../api/labels.js';
import { parseFieldSelector } from '../../api/fields.js';
import { badRequest } from '../errors.js';

export type ObjectFilter = (obj: KObject) => boolean;

export function fieldGetter(decl: ResourceDecl, obj: KObject): (field: string) => string | undefined {
  return (field) => {
    if (field === 'metadata.name') return obj.metadata.name ?? '';
    if (field === 'metadata.namespace') return decl.namespaced ? (obj.metadata.namespace ?? '') : '';
    const f = decl.fieldSelectors?.[field];
    return f ? (f(obj) ?? '') : undefined;
  };
}

/** The filter for a list or watch, or undefined when nothing is filtered. Bad selectors get a 400. */
export function buildFilter(decl: ResourceDecl, q: URLSearchParams): ObjectFilter | undefined {
  const ls = q.get('labelSelector') ?? '';
  const fs = q.get('fieldSelector') ?? '';
  let labelSel;
  let fieldSel;
  try {
    labelSel = ls ? parseLabelSelector(ls) : undefined;
  } catch (e) {
    throw badRequest(`unable to parse requirement: ${(e as Error).message}`.replace('unable to parse requirement: unable to parse requirement', 'unable to parse requirement'));
  }
  try {
    fieldSel = fs ? parseFieldSelector(fs) : undefined;
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  if (fieldSel) {
    for (const r of fieldSel.requirements) {
      if (r.field !== 'metadata.name' && r.field !== 'metadata.namespace' && !decl.fieldSelectors?.[r.field])
        throw badRequest(`field label not supported: ${r.field}`);
    }
  }
  if (labelSel?.empty()) labelSel = undefined;
  if (fieldSel?.empty()) fieldSel = undefined;
  if (!labelSel && !fieldSel) return undefined;
  return (obj) => {
    if (labelSel && !labelSel.matches(obj.metadata.labels)) return false;
    if (fieldSel && !fieldSel.matches(fieldGetter(decl, obj))) return false;
    return true;
  };
}
