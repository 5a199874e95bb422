// LimitRanges: per-namespace defaults and bounds for container, pod and claim resources.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid } from '../validation/field.js';
import { quantityOf } from '../quantity.js';
import { nameColumn } from '../printers/util.js';
import { arr, canonicalizeResourceList, col, isObj, type Json, validateEnum, validateResourceList } from './helpers.js';

const limitTypes = ['Container', 'Pod', 'PersistentVolumeClaim'];

/** SetDefaults_LimitRangeItem: default from max, defaultRequest from default or min. */
export function defaultLimitRangeItem(item: Record<string, Json>): void {
  for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) canonicalizeResourceList(item[k]);
  if (item.type !== 'Container') return;
  const def: Record<string, Json> = isObj(item.default) ? { ...item.default } : {};
  const defReq: Record<string, Json> = isObj(item.defaultRequest) ? { ...item.defaultRequest } : {};
  for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (!(k in def)) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
  for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (!(k in defReq)) defReq[k] = v;
  if (Object.keys(def).length) item.default = def;
  if (Object.keys(defReq).length) item.defaultRequest = defReq;
}

function validateLimitRange(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(o.spec?.limits).forEach((item, i) => {
    const f = `spec.limits[${i}]`;
    if (!isObj(item)) return;
    errs.push(...validateEnum(item.type, `${f}.type`, limitTypes, true));
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) errs.push(...validateResourceList(item[k], `${f}.${k}`));
    if (item.type === 'Pod') {
      if (isObj(item.default) && Object.keys(item.default).length) errs.push(forbidden(`${f}.default`, "may not be specified when `type` is 'Pod'"));
      if (isObj(item.defaultRequest) && Object.keys(item.defaultRequest).length)
        errs.push(forbidden(`${f}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    const q = (m: string, k: string) => quantityOf(isObj(item[m]) ? item[m][k] : undefined);
    const keys = new Set<string>();
    for (const m of ['max', 'min', 'default', 'defaultRequest']) for (const k of Object.keys(isObj(item[m]) ? item[m] : {})) keys.add(k);
    for (const k of keys) {
      const min = q('min', k);
      const max = q('max', k);
      const def = q('default', k);
      const defReq = q('defaultRequest', k);
      if (min && max && min.cmp(max) > 0) errs.push(invalid(`${f}.min[${k}]`, min.toString(), `min value ${min} is greater than max value ${max}`));
      if (defReq && min && min.cmp(defReq) > 0)
        errs.push(invalid(`${f}.defaultRequest[${k}]`, defReq.toString(), `min value ${min} is greater than default request value ${defReq}`));
      if (defReq && max && defReq.cmp(max) > 0)
        errs.push(invalid(`${f}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than max value ${max}`));
      if (defReq && def && defReq.cmp(def) > 0)
        errs.push(invalid(`${f}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than default limit value ${def}`));
      if (def && min && min.cmp(def) > 0) errs.push(invalid(`${f}.default[${k}]`, def.toString(), `min value ${min} is greater than default value ${def}`));
      if (def && max && def.cmp(max) > 0) errs.push(invalid(`${f}.default[${k}]`, def.toString(), `default value ${def} is greater than max value ${max}`));
    }
  });
  return errs;
}

export const limitranges: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  namespaced: true,
  allowCreateOnUpdate: true,
  nameValidation: 'dns1123Subdomain',
  // Upstream has no printer for LimitRange, so tables get the default NAME / CREATED AT.
  printer: {
    columns: [nameColumn, { ...col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.'), format: undefined }],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
  },
  strategy: {
    defaults(o) {
      for (const item of arr(o.spec?.limits)) if (isObj(item)) defaultLimitRangeItem(item);
    },
    validate: validateLimitRange,
  },
};
