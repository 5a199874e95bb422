// rbac.authorization.k8s.io/v1: roles, rolebindings, clusterroles, clusterrolebindings
// (pkg/apis/rbac/v1/defaults.go, pkg/apis/rbac/validation). Names only have to be URL
// path segments (ValidateRBACName), so "system:controller:foo" is fine.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { goStruct, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Subdomain, isPathSegmentName } from '../validation/names.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col, deepEqual, defaultCells, defaultColumns, ensure, setDefault, validateLabelSelector } from './common.js';

export const RBACGroup = 'rbac.authorization.k8s.io';
type J = Record<string, any>;

function validatePolicyRule(rule: J, namespaced: boolean, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(rule?.verbs) || rule.verbs.length === 0) errs.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
  const nonResourceURLs: string[] = rule?.nonResourceURLs ?? [];
  if (nonResourceURLs.length > 0) {
    if (namespaced) errs.push(invalid(`${p}.nonResourceURLs`, nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0) {
      errs.push(invalid(`${p}.nonResourceURLs`, nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!Array.isArray(rule?.apiGroups) || rule.apiGroups.length === 0) errs.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!Array.isArray(rule?.resources) || rule.resources.length === 0) errs.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(obj: KObject, namespaced: boolean): FieldError[] {
  const rules: J[] = Array.isArray(obj.rules) ? obj.rules : [];
  return rules.flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

function validateSubject(s: J, namespaced: boolean, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s?.name) errs.push(required(`${p}.name`, ''));
  switch (s?.kind) {
    case 'ServiceAccount':
      if (s.name) for (const m of isDNS1123Subdomain(s.name)) errs.push(invalid(`${p}.name`, s.name, m));
      if (s.apiGroup) errs.push(notSupported(`${p}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${p}.namespace`, ''));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBACGroup) errs.push(notSupported(`${p}.apiGroup`, s.apiGroup ?? '', [RBACGroup]));
      break;
    default:
      errs.push(notSupported(`${p}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(obj: KObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef ?? {};
  if (ref.apiGroup !== RBACGroup) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBACGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name', ''));
  else for (const m of isPathSegmentName(ref.name)) errs.push(invalid('roleRef.name', ref.name, m));
  (Array.isArray(obj.subjects) ? obj.subjects : []).forEach((s: J, i: number) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

function defaultBinding(obj: KObject): void {
  setDefault(ensure(obj, 'roleRef'), 'apiGroup', RBACGroup);
  for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBACGroup;
  }
}

/** rbac.SubjectsStrings: users, groups, and namespace/name service accounts. */
export function subjectsStrings(subjects: J[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

function bindingPrinter(what: string) {
  return {
    columns: [
      NAME,
      col('Role', 'RoleRef can only reference the current namespace. It can reference a ClusterRole in the global namespace.'),
      AGE,
      col('Users', `Users in the ${what}`, 'string', 1),
      col('Groups', `Groups in the ${what}`, 'string', 1),
      col('ServiceAccounts', `ServiceAccounts in the ${what}`, 'string', 1),
    ],
    cells(obj: KObject, now: Date) {
      return [obj.metadata.name, `${obj.roleRef?.kind ?? ''}/${obj.roleRef?.name ?? ''}`, age(obj.metadata.creationTimestamp, now), ...subjectsStrings(obj.subjects)];
    },
  };
}

const roleRefImmutable = (obj: KObject, old: KObject): FieldError[] =>
  deepEqual(obj.roleRef, old.roleRef) ? [] : [invalid('roleRef', goStruct('rbac.RoleRef', [['APIGroup', obj.roleRef?.apiGroup], ['Kind', obj.roleRef?.kind], ['Name', obj.roleRef?.name]]), 'cannot change roleRef')];

const base = { group: RBACGroup, version: 'v1', nameValidation: 'pathSegment' as const, generation: false };

export const roles: ResourceDecl = {
  ...base,
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  printer: { columns: defaultColumns, cells: defaultCells },
  strategy: { validate: (obj) => validateRules(obj, true) },
};

export const clusterroles: ResourceDecl = {
  ...base,
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  printer: { columns: defaultColumns, cells: defaultCells },
  strategy: {
    validate(obj) {
      const errs = validateRules(obj, false);
      const agg = obj.aggregationRule;
      if (agg) {
        const sels: unknown[] = agg.clusterRoleSelectors ?? [];
        if (sels.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
        sels.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
      }
      return errs;
    },
  },
};

export const rolebindings: ResourceDecl = {
  ...base,
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  printer: bindingPrinter('roleBinding'),
  strategy: { defaults: defaultBinding, validate: (obj) => validateBinding(obj, true), validateUpdate: roleRefImmutable },
};

export const clusterrolebindings: ResourceDecl = {
  ...base,
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  printer: bindingPrinter('clusterRoleBinding'),
  strategy: { defaults: defaultBinding, validate: (obj) => validateBinding(obj, false), validateUpdate: roleRefImmutable },
};

export const rbacResources: ResourceDecl[] = [roles, rolebindings, clusterroles, clusterrolebindings];
