// ResourceQuotas: hard limits per namespace; the quota controller fills status.used.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { quantityOf } from '../quantity.js';
import { arr, canonicalizeResourceList, col, isObj, validateEnum, validateResourceList } from './helpers.js';

const quotaScopes = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];

/** REQUEST and LIMIT cells: "cpu: 100m/1, pods: 2/10" (limits.* go to LIMIT). */
export function quotaColumns(o: KObject): [string, string] {
  const hard = isObj(o.status?.hard) ? o.status.hard : {};
  const used = isObj(o.status?.used) ? o.status.used : {};
  const req: string[] = [];
  const lim: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const u = quantityOf(used[name])?.toString() ?? '0';
    const h = quantityOf(hard[name])?.toString() ?? '0';
    const pieces = name.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? lim : req).push(`${name}: ${u}/${h}`);
  }
  return [req.join(', '), lim.join(', ')];
}

function validateQuota(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateResourceList(o.spec?.hard, 'spec.hard'));
  arr(o.spec?.scopes).forEach((s, i) => errs.push(...validateEnum(s, `spec.scopes[${i}]`, quotaScopes)));
  return errs;
}

export const resourcequotas: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  namespaced: true,
  requireResourceVersionOnUpdate: true,
  nameValidation: 'dns1123Subdomain',
  subresources: { status: true },
  generation: false,
  printer: {
    columns: [
      nameColumn,
      ageColumn,
      col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    cells(o, now) {
      const [req, lim] = quotaColumns(o);
      return [o.metadata.name, age(o.metadata.creationTimestamp, now), req, lim];
    },
  },
  strategy: {
    defaults(o) {
      canonicalizeResourceList(o.spec?.hard);
    },
    prepareForCreate(o) {
      o.status = {};
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validateQuota,
  },
};
