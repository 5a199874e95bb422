// What server-side apply needs to know about each field's type (upstream reads it from the
// OpenAPI extensions x-kubernetes-list-type, -list-map-keys, -map-type): whether a list is
// atomic, a set, or a map keyed by some fields; whether a struct or map is atomic.
//
// Built-in kinds: derived from the strategic merge patch metadata (patch/patchmeta.ts):
// a list merged by key is an associative list keyed by it, a list merged by value is a set,
// other lists are atomic; plus the facts where apply differs from strategic merge (listed
// below, checked against upstream's OpenAPI document by a unit test).
// Custom resources: their CRD's structural schema. Anything else: "deduced" (objects are
// granular, lists atomic), as upstream treats unknown types.
import type { PatchSchema } from '../patch/patchmeta.js';
import { schemaForType } from '../patch/patchmeta.js';

export type ListType = 'atomic' | 'set' | 'map';

export interface TypeNode {
  /** For lists: how items are identified; absent means atomic. */
  readonly list?: ListType;
  /** For associative lists: the key fields of each item. */
  readonly keys?: readonly string[];
  /** Values of key fields an item may omit (ports default their protocol to TCP). */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
  /** A struct or map replaced as a whole (x-kubernetes-map-type: atomic). */
  readonly atomic?: boolean;
  /** A map (not a struct): newly added, the map itself is owned by the writer (the `.` entry). */
  readonly isMap?: boolean;
  /** Schema-less objects (custom resources, unknown kinds) own every object they add. */
  readonly untyped?: boolean;
  child(name: string): TypeNode;
  elem(): TypeNode;
}

export const DEDUCED: TypeNode = {
  untyped: true,
  child: () => DEDUCED,
  elem: () => DEDUCED,
};

interface Override {
  list?: ListType;
  keys?: string[];
  keyDefaults?: Record<string, unknown>;
  atomic?: boolean;
}

const atomic: Override = { atomic: true };
const portKeys = (first: string): Override => ({ list: 'map', keys: [first, 'protocol'], keyDefaults: { protocol: 'TCP' } });

/** Where apply's list keys or atomicity differ from what strategic merge metadata says. */
export const applyOverrides: Readonly<Record<string, Readonly<Record<string, Override>>>> = {
  'core.v1.Container': { ports: portKeys('containerPort') },
  'core.v1.EphemeralContainer': { ports: portKeys('containerPort') },
  'core.v1.ServiceSpec': { ports: portKeys('port'), selector: atomic },
  'core.v1.ReplicationControllerSpec': { selector: atomic },
  'core.v1.PodSpec': {
    topologySpreadConstraints: { list: 'map', keys: ['topologyKey', 'whenUnsatisfiable'] },
    nodeSelector: atomic,
  },
  // metav1.LabelSelector is x-kubernetes-map-type: atomic.
  'apps.v1.DeploymentSpec': { selector: atomic },
  'apps.v1.ReplicaSetSpec': { selector: atomic },
  'apps.v1.DaemonSetSpec': { selector: atomic },
  'apps.v1.StatefulSetSpec': { selector: atomic },
  'batch.v1.JobSpec': { selector: atomic },
  'policy.v1.PodDisruptionBudgetSpec': { selector: atomic },
};

/** Fields of built-in types that are Go maps (map[string]...), not structs. */
const MAP_FIELDS = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'limits', 'requests', 'capacity', 'allocatable', 'nodeSelector']);

const builtinCache = new WeakMap<PatchSchema, Map<string, TypeNode>>();
let noSchemaChildren: Map<string, TypeNode> | undefined;

/** The type of a built-in object type (a patchmeta schema), or of an undescribed struct. */
export function builtinNode(schema: PatchSchema | undefined): TypeNode {
  return {
    child(name: string): TypeNode {
      let cache = schema ? builtinCache.get(schema) : noSchemaChildren;
      if (!cache) {
        cache = new Map();
        if (schema) builtinCache.set(schema, cache);
        else noSchemaChildren = cache;
      }
      let n = cache.get(name);
      if (n) return n;
      const meta = schema?.lookup(name);
      const ov = schema ? applyOverrides[schema.name]?.[name] : undefined;
      const inner = meta?.schema;
      let list: ListType | undefined;
      let keys: string[] | undefined;
      if (meta?.strategies.includes('merge')) {
        if (meta.mergeKey) {
          list = 'map';
          keys = [meta.mergeKey];
        } else list = 'set';
      }
      if (ov?.list) {
        list = ov.list;
        keys = ov.keys;
      }
      const itemNode = builtinNode(inner);
      const base = builtinNode(inner);
      n = {
        ...(list ? { list } : {}),
        ...(keys ? { keys } : {}),
        ...(ov?.keyDefaults ? { keyDefaults: ov.keyDefaults } : {}),
        ...(ov?.atomic ? { atomic: true } : {}),
        ...(MAP_FIELDS.has(name) ? { isMap: true } : {}),
        child: (c) => base.child(c),
        elem: () => itemNode,
      };
      cache.set(name, n);
      return n;
    },
    elem: () => DEDUCED,
  };
}

/** The type of a built-in kind's objects, by its patchmeta type name ("apps.v1.Deployment"). */
export function builtinKindNode(typeName: string): TypeNode | undefined {
  const s = schemaForType(typeName);
  return s ? builtinNode(s) : undefined;
}

/** A CRD's structural schema (openAPIV3Schema), as an apply type. */
export interface JSONSchemaLike {
  type?: string;
  properties?: Record<string, JSONSchemaLike>;
  additionalProperties?: JSONSchemaLike | boolean;
  items?: JSONSchemaLike;
  default?: unknown;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export function crdNode(s: JSONSchemaLike | undefined, root = true): TypeNode {
  if (!s) return DEDUCED;
  const metaNode = builtinNode(schemaForType('meta.v1.ObjectMeta'));
  const listType = s.type === 'array' ? ((s['x-kubernetes-list-type'] as ListType | undefined) ?? 'atomic') : undefined;
  const keys = listType === 'map' ? s['x-kubernetes-list-map-keys'] : undefined;
  const keyDefaults: Record<string, unknown> = {};
  for (const k of keys ?? []) {
    const d = s.items?.properties?.[k]?.default;
    if (d !== undefined) keyDefaults[k] = d;
  }
  const embedded = !!s['x-kubernetes-embedded-resource'];
  return {
    untyped: true,
    ...(listType && listType !== 'atomic' ? { list: listType } : {}),
    ...(keys ? { keys } : {}),
    ...(Object.keys(keyDefaults).length ? { keyDefaults } : {}),
    ...(s['x-kubernetes-map-type'] === 'atomic' ? { atomic: true } : {}),
    ...(s.additionalProperties && !s.properties ? { isMap: true } : {}),
    child(name: string): TypeNode {
      if ((root || embedded) && name === 'metadata') return metaNode;
      const p = s.properties?.[name];
      if (p) return crdNode(p, false);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return crdNode(s.additionalProperties, false);
      return DEDUCED;
    },
    elem: () => crdNode(s.items, false),
  };
}
