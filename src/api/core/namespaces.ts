// Namespaces: cluster-scoped, named by DNS labels, born Active with the "kubernetes" finalizer.
import type { FieldError, ResourceDecl } from '../types.js';
import { invalid } from '../validation/field.js';
import { isQualifiedName } from '../validation/names.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { arr, col, isObj, str } from './helpers.js';

/** The label every namespace carries with its own name (SetDefaults_Namespace). */
export const labelMetadataName = 'kubernetes.io/metadata.name';

export const namespaces: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  // No deletecollection for namespaces upstream.
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  nameValidation: 'dns1123Label',
  subresources: { status: true, finalize: true },
  generation: false,
  // The namespace controller empties spec.finalizers once the contents are gone.
  deletion: {
    blocked: (o) => arr(o.spec?.finalizers).length > 0,
    markPending(o) {
      if (!isObj(o.status)) o.status = {};
      o.status.phase = 'Terminating';
    },
  },
  fieldSelectors: {
    'status.phase': (o) => str(o.status?.phase),
  },
  printer: {
    columns: [nameColumn, col('Status', 'string', 'The status of the namespace'), ageColumn],
    cells: (o, now) => [o.metadata.name, str(o.status?.phase), age(o.metadata.creationTimestamp, now)],
  },
  strategy: {
    defaults(o) {
      if (o.metadata.name) o.metadata.labels = { ...(o.metadata.labels ?? {}), [labelMetadataName]: o.metadata.name };
      if (!isObj(o.status)) o.status = {};
      if (!o.status.phase) o.status.phase = 'Active';
    },
    prepareForCreate(o) {
      if (!isObj(o.spec)) o.spec = {};
      const finalizers = arr<string>(o.spec.finalizers);
      if (!finalizers.includes('kubernetes')) o.spec.finalizers = [...finalizers, 'kubernetes'];
      o.status = { phase: 'Active' };
    },
    prepareForUpdate(o, old) {
      o.spec = old.spec;
      o.status = old.status;
    },
    validate(o): FieldError[] {
      const errs: FieldError[] = [];
      arr(o.spec?.finalizers).forEach((f, i) => {
        for (const m of isQualifiedName(String(f))) errs.push(invalid(`spec.finalizers[${i}]`, f, m));
      });
      return errs;
    },
  },
};
