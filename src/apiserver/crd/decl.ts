// A CustomResourceDefinition becomes a ResourceDecl: the same generic REST handlers,
// discovery, tables and watch serve custom resources as built-in ones.
import type { FieldError, KObject, ResourceDecl, TableColumn } from '../../api/types.js';
import { apiVersionOf } from '../../api/types.js';
import { age, nameColumn } from '../../api/printers/util.js';
import { compareKubeAwareVersions } from '../discovery.js';
import { applyDefaults, prune, validateValue, type Schema } from './schema.js';
import { dottedPath, evaluatePath } from './jsonpath.js';

type J = Record<string, any>;

interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

function cellValue(obj: KObject, col: PrinterColumn, now: Date): unknown {
  let values: unknown[];
  try {
    values = evaluatePath(obj, col.jsonPath);
  } catch {
    return null;
  }
  if (values.length === 0) return null;
  const v = values.length === 1 ? values[0] : values;
  if (col.type === 'date' && typeof v === 'string') return age(v, now);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  if (col.type === 'string' && typeof v === 'object' && v !== null) return JSON.stringify(v);
  if (col.type === 'integer' && typeof v === 'number') return Math.trunc(v);
  return v;
}

/** The served versions, most preferred first (Kubernetes version ordering). */
export function servedVersions(crd: KObject): string[] {
  return ((crd.spec?.versions ?? []) as J[])
    .filter((v) => v.served)
    .map((v) => v.name as string)
    .sort(compareKubeAwareVersions);
}

export function storageVersion(crd: KObject): string {
  const v = ((crd.spec?.versions ?? []) as J[]).find((x) => x.storage);
  return (v?.name as string) ?? servedVersions(crd)[0]!;
}

export function crdToDecl(crd: KObject): ResourceDecl {
  const spec = crd.spec;
  const names = spec.names;
  const storage = storageVersion(crd);
  const versions = servedVersions(crd);
  const storageDef = ((spec.versions ?? []) as J[]).find((v) => v.name === storage) ?? {};
  const schema: Schema | undefined = storageDef.schema?.openAPIV3Schema;
  const subresources = storageDef.subresources ?? {};
  const cols: PrinterColumn[] = storageDef.additionalPrinterColumns?.length ? storageDef.additionalPrinterColumns : [ageColumn];
  const terminating = !!crd.metadata.deletionTimestamp;
  const group = spec.group as string;
  const columns: TableColumn[] = [
    { ...nameColumn },
    ...cols.map((c) => ({
      name: c.name,
      type: (['integer', 'number', 'boolean', 'date'].includes(c.type) ? c.type : 'string') as TableColumn['type'],
      ...(c.format ? { format: c.format } : {}),
      description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    })),
  ];

  const decl: ResourceDecl = {
    group,
    version: storage,
    versions,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? String(names.kind).toLowerCase(),
    ...(names.shortNames ? { shortNames: names.shortNames } : {}),
    ...(names.categories ? { categories: names.categories } : {}),
    namespaced: spec.scope !== 'Cluster',
    nameValidation: 'dns1123Subdomain',
    // A terminating definition accepts no new objects (upstream answers 405 to creates).
    verbs: terminating ? ['get', 'list', 'watch', 'update', 'patch', 'delete', 'deletecollection'] : undefined,
    subresources: {
      ...(subresources.status ? { status: true } : {}),
      ...(subresources.scale
        ? {
            scale: {
              specReplicasPath: dottedPath(subresources.scale.specReplicasPath),
              statusReplicasPath: dottedPath(subresources.scale.statusReplicasPath),
              ...(subresources.scale.labelSelectorPath ? { labelSelectorPath: dottedPath(subresources.scale.labelSelectorPath) } : {}),
            },
          }
        : {}),
    },
    openAPISchemas: Object.fromEntries(((spec.versions ?? []) as J[]).filter((v) => v.served && v.schema?.openAPIV3Schema).map((v) => [v.name as string, v.schema.openAPIV3Schema])),
    // Custom resources always count generations, status subresource or not (upstream does).
    generation: true,
    printer: {
      columns,
      cells: (obj, now) => [obj.metadata.name, ...cols.map((c) => cellValue(obj, c, now))],
    },
    strategy: {
      defaults(obj) {
        if (!schema) return;
        prune(obj, schema);
        applyDefaults(obj, schema);
      },
      validate(obj): FieldError[] {
        if (!schema) return [];
        const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
        const rootSchema: Schema = { ...schema, properties: { ...(schema.properties ?? {}) } };
        delete rootSchema.properties!['metadata'];
        delete rootSchema.properties!['apiVersion'];
        delete rootSchema.properties!['kind'];
        rootSchema.required = (schema.required ?? []).filter((r) => !['metadata', 'apiVersion', 'kind'].includes(r));
        return validateValue(rest, rootSchema, '');
      },
    },
    // conversion strategy None: only apiVersion changes between versions.
    convert(obj, toVersion) {
      return { ...obj, apiVersion: apiVersionOf({ group }, toVersion) };
    },
  };
  return decl;
}
