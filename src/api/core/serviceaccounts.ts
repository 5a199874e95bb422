// ServiceAccounts.
import type { FieldError, ResourceDecl } from '../types.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { arr, col, isObj, validateRefName } from './helpers.js';

export const serviceaccounts: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  subresources: { token: true },
  printer: {
    columns: [nameColumn, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn],
    cells: (o, now) => [o.metadata.name, arr(o.secrets).length, age(o.metadata.creationTimestamp, now)],
  },
  strategy: {
    validate(o): FieldError[] {
      const errs: FieldError[] = [];
      arr(o.imagePullSecrets).forEach((s, i) => isObj(s) && errs.push(...validateRefName(s.name, `imagePullSecrets[${i}].name`)));
      return errs;
    },
  },
};
