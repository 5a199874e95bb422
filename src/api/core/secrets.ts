// Secrets: base64 data, a type with its own required keys, optionally immutable.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, required, tooLong } from '../validation/field.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { col, immutable, isConfigMapKey, isObj, str } from './helpers.js';
import { base64Size, maxDataSize, validateImmutableData } from './configmaps.js';

export function defaultSecret(o: KObject): void {
  if (!o.type) o.type = 'Opaque';
  // stringData is write-only: it is merged into data, as upstream's conversion does.
  if (isObj(o.stringData)) {
    const data = isObj(o.data) ? o.data : {};
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    o.data = data;
    delete o.stringData;
  }
}

const requiredKeys: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.key', 'tls.crt'],
};

export function validateSecret(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = isObj(o.data) ? o.data : {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    const n = base64Size(v);
    if (n === undefined) errs.push(invalid(`data[${k}]`, '<secret contents redacted>', 'must be base64-encoded'));
    total += n ?? 0;
  }
  if (total > maxDataSize) errs.push(tooLong('data', '', maxDataSize));
  const type = str(o.type);
  for (const key of requiredKeys[type] ?? []) if (!(key in data)) errs.push(required(`data[${key}]`));
  if (type === 'kubernetes.io/service-account-token' && !o.metadata.annotations?.['kubernetes.io/service-account.name'])
    errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data))
    errs.push(required('data[username]'), required('data[password]'));
  if (type === 'kubernetes.io/dockerconfigjson' && typeof data['.dockerconfigjson'] === 'string') {
    try {
      JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString());
    } catch (e) {
      errs.push(invalid('data[.dockerconfigjson]', '<secret contents redacted>', (e as Error).message));
    }
  }
  return errs;
}

export const secrets: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  fieldSelectors: {
    type: (o) => str(o.type),
  },
  printer: {
    columns: [
      nameColumn,
      col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'string', 'Data contains the secret data.'),
      ageColumn,
    ],
    cells: (o, now) => [o.metadata.name, str(o.type), Object.keys(isObj(o.data) ? o.data : {}).length, age(o.metadata.creationTimestamp, now)],
  },
  strategy: {
    defaults: defaultSecret,
    validate: validateSecret,
    validateUpdate: (o, old) => [...immutable(o.type, old.type, 'type'), ...validateImmutableData(o, old, ['data'])],
  },
};
