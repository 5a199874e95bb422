// apiextensions.k8s.io/v1: customresourcedefinitions. Stored and served; on create the
// conditions the naming and establishing controllers would set are filled in at once,
// so `kubectl wait --for condition=established crd/<name>` returns.
import type { FieldError, KObject, ResourceDecl, StrategyContext } from '../types.js';
import { duplicate, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.js';
import { clone, defaultCells, defaultColumns, ensure, immutable, setDefault } from './common.js';

type J = Record<string, any>;

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function storageVersion(obj: KObject): string | undefined {
  return (obj.spec?.versions ?? []).find((v: J) => v?.storage)?.name;
}

function acceptedNames(names: J | undefined): J {
  const n = clone(names ?? {});
  for (const k of Object.keys(n)) if (n[k] === undefined) delete n[k];
  return n;
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
function setCondition(status: J, cond: J): void {
  const conds: J[] = (status.conditions ??= []);
  const i = conds.findIndex((c) => c.type === cond.type);
  if (i < 0) conds.push(cond);
  else if (conds[i]!.status === cond.status) conds[i] = { ...cond, lastTransitionTime: conds[i]!.lastTransitionTime ?? cond.lastTransitionTime };
  else conds[i] = cond;
}

/** What the naming and establishing controllers would write for an accepted CRD. */
export function acceptCRD(obj: KObject, now: Date): void {
  const status = ensure(obj, 'status');
  const t = rfc3339(now);
  status.acceptedNames = acceptedNames(obj.spec?.names);
  setCondition(status, { type: 'NamesAccepted', status: 'True', lastTransitionTime: t, reason: 'NoConflicts', message: 'no conflicts found' });
  setCondition(status, { type: 'Established', status: 'True', lastTransitionTime: t, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
  const sv = storageVersion(obj);
  const stored: string[] = (status.storedVersions ??= []);
  if (sv && !stored.includes(sv)) stored.push(sv);
}

function validateNames(names: J | undefined, p: string): FieldError[] {
  const n = names ?? {};
  const errs: FieldError[] = [];
  for (const k of ['plural', 'singular']) {
    if (!n[k]) errs.push(required(`${p}.${k}`, ''));
    else {
      const e = isDNS1035Label(n[k]);
      if (e.length) errs.push(invalid(`${p}.${k}`, n[k], e.join(',')));
    }
  }
  for (const k of ['kind', 'listKind']) {
    if (!n[k]) errs.push(required(`${p}.${k}`, ''));
    else {
      const e = isDNS1035Label(String(n[k]).toLowerCase());
      if (e.length) errs.push(invalid(`${p}.${k}`, n[k], `may have mixed case, but should otherwise match: ${e.join(',')}`));
    }
  }
  if (n.kind && n.kind === n.listKind) errs.push(invalid(`${p}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.shortNames ?? []).forEach((s: string, i: number) => {
    const e = isDNS1035Label(s);
    if (e.length) errs.push(invalid(`${p}.shortNames[${i}]`, s, e.join(',')));
  });
  (n.categories ?? []).forEach((c: string, i: number) => {
    const e = isDNS1035Label(c);
    if (e.length) errs.push(invalid(`${p}.categories[${i}]`, c, e.join(',')));
  });
  return errs;
}

export function validateCRD(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const plural = spec.names?.plural ?? '';
  if (obj.metadata.name !== `${plural}.${spec.group ?? ''}`) errs.push(invalid('metadata.name', obj.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (!spec.group) errs.push(required('spec.group', ''));
  else {
    for (const m of isDNS1123Subdomain(spec.group)) errs.push(invalid('spec.group', spec.group, m));
    if (spec.group.split('.').length < 2) errs.push(invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(required('spec.scope', ''));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  errs.push(...validateNames(spec.names, 'spec.names'));
  const versions: J[] = spec.versions ?? [];
  if (versions.length === 0) errs.push(required('spec.versions', 'must have at least one version'));
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v?.name) errs.push(required(`${p}.name`, ''));
    else {
      for (const m of isDNS1035Label(v.name)) errs.push(invalid(`${p}.name`, v.name, m));
      if (seen.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
      seen.add(v.name);
    }
    const schema = v?.schema?.openAPIV3Schema;
    if (!schema) errs.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (!schema.type) errs.push(required(`${p}.schema.openAPIV3Schema.type`, 'must not be empty at the root'));
    else if (schema.type !== 'object') errs.push(invalid(`${p}.schema.openAPIV3Schema.type`, schema.type, 'must be object at the root'));
  });
  if (versions.length > 0) {
    if (versions.filter((v) => v?.storage === true).length !== 1) {
      errs.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
    }
    if (!versions.some((v) => v?.served === true)) errs.push(invalid('spec.versions', versions, 'must have at least one version served'));
  }
  const conv = spec.conversion;
  if (conv?.strategy != null && conv.strategy !== 'None' && conv.strategy !== 'Webhook') {
    errs.push(notSupported('spec.conversion.strategy', conv.strategy, ['None', 'Webhook']));
  }
  return errs;
}

export const customresourcedefinitions: ResourceDecl = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  subresources: { status: true },
  generation: true,
  printer: { columns: defaultColumns, cells: defaultCells },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      const names = ensure(spec, 'names');
      if (!names.singular && names.kind) names.singular = String(names.kind).toLowerCase();
      if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
      setDefault(spec, 'conversion', { strategy: 'None' });
    },
    prepareForCreate(obj, ctx: StrategyContext) {
      obj.status = {};
      acceptCRD(obj, ctx.now());
      // Deleting a definition deletes its objects first (the API server's CRD registrar).
      const f: string[] = (obj.metadata.finalizers ??= []);
      if (!f.includes('customresourcecleanup.apiextensions.k8s.io')) f.push('customresourcecleanup.apiextensions.k8s.io');
    },
    prepareForUpdate(obj, old, ctx: StrategyContext) {
      obj.status = clone(old.status ?? {});
      acceptCRD(obj, ctx.now());
    },
    validate: validateCRD,
    validateUpdate(obj, old) {
      return [
        ...immutable(obj.spec?.group, old.spec?.group, 'spec.group'),
        ...immutable(obj.spec?.names?.plural, old.spec?.names?.plural, 'spec.names.plural'),
        ...immutable(obj.spec?.scope, old.spec?.scope, 'spec.scope'),
        ...immutable(obj.spec?.names?.kind, old.spec?.names?.kind, 'spec.names.kind'),
      ];
    },
  },
};

export const apiextensionsResources: ResourceDecl[] = [customresourcedefinitions];
