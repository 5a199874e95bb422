// ConfigMaps: keys like file names, at most 1 MiB in all, optionally immutable.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, tooLong } from '../validation/field.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { col, deepEqual, isConfigMapKey, isObj } from './helpers.js';

export const maxDataSize = 1024 * 1024;

/** Bytes of a base64 value, or undefined when it does not decode. */
export function base64Size(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) return undefined;
  return Buffer.from(v, 'base64').length;
}

export function validateConfigMap(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = isObj(o.data) ? o.data : {};
  const bin = isObj(o.binaryData) ? o.binaryData : {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    total += typeof v === 'string' ? Buffer.byteLength(v) : 0;
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    if (k in bin) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  }
  for (const [k, v] of Object.entries(bin)) {
    const n = base64Size(v);
    if (n === undefined) errs.push(invalid(`binaryData[${k}]`, '<binary>', 'must be base64-encoded'));
    total += n ?? 0;
    for (const m of isConfigMapKey(k)) errs.push(invalid(`binaryData[${k}]`, k, m));
    if (k in data) errs.push(invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
  }
  if (total > maxDataSize) errs.push(tooLong('', '', maxDataSize));
  return errs;
}

/** Shared by ConfigMaps and Secrets: once `immutable: true`, data cannot change. */
export function validateImmutableData(o: KObject, old: KObject, dataFields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable !== true) return errs;
  const msg = 'field is immutable when `immutable` is set';
  if (o.immutable !== true) errs.push(forbidden('immutable', msg));
  for (const f of dataFields) if (!deepEqual(o[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, msg));
  return errs;
}

export const configmaps: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  printer: {
    columns: [nameColumn, col('Data', 'string', 'Data contains the configuration data.'), ageColumn],
    cells: (o, now) => [
      o.metadata.name,
      Object.keys(isObj(o.data) ? o.data : {}).length + Object.keys(isObj(o.binaryData) ? o.binaryData : {}).length,
      age(o.metadata.creationTimestamp, now),
    ],
  },
  strategy: {
    validate: validateConfigMap,
    validateUpdate: (o, old) => validateImmutableData(o, old, ['data', 'binaryData']),
  },
};
