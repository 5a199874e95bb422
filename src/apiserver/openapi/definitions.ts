// The OpenAPI definitions of the built-in API types, generated at build time by
// scripts/gen-openapi-defs.mjs into dist/openapi/definitions.json (structure from the protobuf
// descriptors in src/apiserver/protobuf/schema.json, descriptions and required fields from the
// kubernetes-types package), completed here with the strategic merge patch metadata of
// src/apiserver/patch/patchmeta.ts. Loaded lazily: the file is about 1 MB and only OpenAPI
// requests need it, so `kts server` start-up does not pay for it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { patchMetaTypes } from '../patch/patchmeta.js';

export type Schema = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** dist/src/apiserver/openapi/definitions.js -> dist/openapi/definitions.json */
const GENERATED = fileURLToPath(new URL('../../../openapi/definitions.json', import.meta.url));
/** The generator, for trees built with plain `tsc` (npm run build runs it). */
const GENERATOR = fileURLToPath(new URL('../../../../scripts/gen-openapi-defs.mjs', import.meta.url));

let loaded: Record<string, Schema> | null | undefined;

/** Generated definitions keyed by definition name, or null when they cannot be had. */
export function builtinDefinitions(): Record<string, Schema> | null {
  if (loaded !== undefined) return loaded;
  try {
    if (!existsSync(GENERATED) && existsSync(GENERATOR)) {
      execFileSync(process.execPath, [GENERATOR, GENERATED], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    const file = JSON.parse(readFileSync(GENERATED, 'utf8')) as { definitions: Record<string, Schema> };
    loaded = withPatchMetadata(file.definitions);
  } catch {
    loaded = null;
  }
  return loaded;
}

/** "io.k8s.api.core.v1.PodSpec" -> "core.v1.PodSpec", as patchmeta.ts names types. */
function patchMetaName(def: string): string {
  return def
    .replace(/^io\.k8s\.api\./, '')
    .replace(/^io\.k8s\.apimachinery\.pkg\.apis\./, '')
    .replace(/^io\.k8s\.apiextensions-apiserver\.pkg\.apis\./, '');
}

/**
 * Lists merged by key whose server-side-apply identity differs from the patch merge key
 * (upstream's +listMapKey tags): more keys, or atomic lists.
 */
const LIST_TYPE_EXCEPTIONS: Record<string, { keys: string[] } | 'atomic'> = {
  'core.v1.Container.ports': { keys: ['containerPort', 'protocol'] },
  'core.v1.EphemeralContainer.ports': { keys: ['containerPort', 'protocol'] },
  'core.v1.PodSpec.topologySpreadConstraints': { keys: ['topologyKey', 'whenUnsatisfiable'] },
  'core.v1.ServiceSpec.ports': { keys: ['port', 'protocol'] },
  'batch.v1.JobStatus.conditions': 'atomic',
  'core.v1.PodStatus.hostIPs': 'atomic',
};

/**
 * x-kubernetes-patch-strategy / -merge-key from patchmeta.ts; lists merged by key are maps keyed
 * by it (x-kubernetes-list-type map), lists merged by value are sets.
 */
function withPatchMetadata(defs: Record<string, Schema>): Record<string, Schema> {
  for (const [name, def] of Object.entries(defs)) {
    const fields = patchMetaTypes[patchMetaName(name)];
    const props = def.properties as Record<string, Schema> | undefined;
    if (!fields || !props) continue;
    for (const [field, spec] of Object.entries(fields)) {
      const p = props[field];
      if (!p || !spec.strategy) continue;
      const out: Schema = { ...p };
      if (p.type === 'array' && spec.strategy.split(',').includes('merge')) {
        const exception = LIST_TYPE_EXCEPTIONS[`${patchMetaName(name)}.${field}`];
        if (exception === 'atomic') out['x-kubernetes-list-type'] = 'atomic';
        else {
          out['x-kubernetes-list-type'] = spec.mergeKey ? 'map' : 'set';
          if (spec.mergeKey) out['x-kubernetes-list-map-keys'] = exception?.keys ?? [spec.mergeKey];
        }
      }
      if (spec.mergeKey) out['x-kubernetes-patch-merge-key'] = spec.mergeKey;
      out['x-kubernetes-patch-strategy'] = spec.strategy;
      props[field] = sortKeys(out);
    }
  }
  return defs;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every definition name reachable through $ref from `roots`. */
export function refClosure(defs: Record<string, Schema>, roots: unknown): string[] {
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') {
        const name = x.replace(/^#\/(definitions|components\/schemas)\//, '');
        if (!seen.has(name) && defs[name]) {
          seen.add(name);
          visit(defs[name]);
        }
      } else visit(x);
    }
  };
  visit(roots);
  return [...seen].sort();
}

const TYPE_META_DESCRIPTIONS = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  metadata: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};

/**
 * A custom resource's definition from its CRD's openAPIV3Schema, as apiextensions-apiserver
 * publishes it: apiVersion, kind and metadata (a reference to ObjectMeta) added, the GVK attached.
 * No schema: an object that keeps every field.
 */
export function customResourceDefinition(schema: Schema | undefined, gvk: { group: string; version: string; kind: string }): Schema {
  const base: Schema = schema ? structuredClone(schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const props = { ...((base.properties as Record<string, Schema> | undefined) ?? {}) };
  props.apiVersion = { description: TYPE_META_DESCRIPTIONS.apiVersion, type: 'string' };
  props.kind = { description: TYPE_META_DESCRIPTIONS.kind, type: 'string' };
  props.metadata = { $ref: `#/definitions/${META}.ObjectMeta`, description: TYPE_META_DESCRIPTIONS.metadata };
  base.properties = sortKeys(props);
  base.type ??= 'object';
  base['x-kubernetes-group-version-kind'] = [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];
  return base;
}

/** The list kind of a custom resource. */
export function customResourceListDefinition(itemDef: string, gvk: { group: string; version: string; kind: string }): Schema {
  return {
    description: `${gvk.kind} is a list of ${itemDef.split('.').pop()}`,
    properties: {
      apiVersion: { description: TYPE_META_DESCRIPTIONS.apiVersion, type: 'string' },
      items: { description: `List of ${itemDef.split('.').pop()!.toLowerCase()}s. More info: https://git.k8s.io/community/contributors/devel/kubernetes.md`, items: { $ref: `#/definitions/${itemDef}` }, type: 'array' },
      kind: { description: TYPE_META_DESCRIPTIONS.kind, type: 'string' },
      metadata: { $ref: `#/definitions/${META}.ListMeta`, description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: gvk.group, kind: gvk.kind, version: gvk.version }],
  };
}

/**
 * One definition in OpenAPI v3 form, as kube-openapi renders it: references move to
 * #/components/schemas, a reference with siblings (a description) becomes allOf [ref], and the
 * well-known types get their v3 shapes.
 */
export function toV3Schema(name: string, s: Schema): Schema {
  if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') {
    return { description: s.description, format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
    return { description: s.description, oneOf: [{ type: 'string' }, { type: 'number' }] };
  }
  return convert(s, true) as Schema;
}

function convert(v: unknown, top: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => convert(x, false));
  if (!v || typeof v !== 'object') return v;
  const o = v as Schema;
  const out: Schema = {};
  if (!top && typeof o.$ref === 'string' && Object.keys(o).length > 1) {
    const { $ref, ...rest } = o;
    out.allOf = [{ $ref: ($ref as string).replace('#/definitions/', '#/components/schemas/') }];
    for (const [k, x] of Object.entries(rest)) out[k] = convertChild(k, x);
    return out;
  }
  for (const [k, x] of Object.entries(o)) {
    if (k === '$ref' && typeof x === 'string') out[k] = x.replace('#/definitions/', '#/components/schemas/');
    else out[k] = convertChild(k, x);
  }
  return out;
}

/** Values that are schemas (or maps/lists of schemas) convert; data (enum, default, example, extensions) does not. */
function convertChild(key: string, x: unknown): unknown {
  if (key === 'enum' || key === 'default' || key === 'example' || key === 'required' || key.startsWith('x-kubernetes-')) return x;
  if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
    return Object.fromEntries(Object.entries((x ?? {}) as Schema).map(([k, s]) => [k, convert(s, false)]));
  }
  return convert(x, false);
}
