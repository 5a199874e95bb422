#!/usr/bin/env node
// Build step (run by `npm run build` / `prepare`, offline, ~1 s): writes the OpenAPI definitions of
// every Kubernetes API type kts knows to dist/openapi/definitions.json, which
// src/apiserver/openapi.ts loads lazily the first time an OpenAPI document is requested.
//
// Sources, both already in the repository or its installed packages:
// - Structure and exact wire types: src/apiserver/protobuf/schema.json (one entry per proto
//   message, generated from the descriptors compiled into kubectl 1.33; see
//   scripts/gen-proto-schema.mjs). Property names, int32/int64/double formats, bytes, repeated
//   fields (arrays), maps, embedded (inline) structs, and references to other messages.
// - Descriptions and required fields: the `kubernetes-types` package (a devDependency): its .d.ts
//   files carry each type's and property's Go doc comment as JSDoc; a property without `?` is
//   required. Types without a proto message (apiextensions.k8s.io, which kubectl does not link)
//   take their structure from the .d.ts types too.
// Patch metadata (x-kubernetes-patch-strategy / -merge-key, list-type map keyed by the merge key)
// is added at run time from src/apiserver/patch/patchmeta.ts, so this script needs no compiled
// TypeScript.
//
// Usage: node scripts/gen-openapi-defs.mjs [out.json]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const outPath = process.argv[2] ?? path.join(root, 'dist', 'openapi', 'definitions.json');
const require = createRequire(import.meta.url);

/** Returns { source, definitions }; definitions are OpenAPI v2 schemas keyed by definition name. */
export function generate() {
  const ts = require('typescript');
  const typesDir = path.dirname(require.resolve('kubernetes-types/package.json'));
  const typesVersion = JSON.parse(fs.readFileSync(path.join(typesDir, 'package.json'), 'utf8')).version;
  const proto = JSON.parse(fs.readFileSync(path.join(root, 'src', 'apiserver', 'protobuf', 'schema.json'), 'utf8'));
  const messages = proto.messages;

  // ---- naming ----
  /** kubernetes-types module ("core/v1", "meta/v1", "runtime") -> definition name prefix. */
  const modulePrefix = (mod) => {
    if (mod === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    if (mod === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
    if (mod === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
    if (mod === 'version') return 'io.k8s.apimachinery.pkg.version';
    if (mod === 'util/intstr') return 'io.k8s.apimachinery.pkg.util.intstr';
    if (mod.startsWith('apiextensions/')) return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${mod.split('/')[1]}`;
    return `io.k8s.api.${mod.replace('/', '.')}`;
  };
  /** Proto message name -> definition name. */
  const defOfMessage = (m) =>
    m.replace(/^k8s\.io\./, 'io.k8s.').replace('apiextensions_apiserver', 'apiextensions-apiserver').replace('kube_aggregator', 'kube-aggregator');
  const messageOfDef = (d) =>
    d.replace(/^io\.k8s\./, 'k8s.io.').replace('apiextensions-apiserver', 'apiextensions_apiserver').replace('kube-aggregator', 'kube_aggregator');

  // ---- read kubernetes-types ----
  /** def name -> { description, props: Map<name, {description, required, readonly, type: ts.TypeNode}>, alias?: ts.TypeNode, file } */
  const tsDefs = new Map();
  const docOf = (text, node) => {
    const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
    const r = ranges.filter((c) => text.slice(c.pos, c.pos + 3) === '/**').pop();
    if (!r) return '';
    const body = text.slice(r.pos + 3, r.end - 2);
    const lines = body.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
    return lines.join('\n').trim().replace(/\*\\\//g, '*/');
  };
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), rel ? `${rel}/${e.name}` : e.name);
      else if (e.name.endsWith('.d.ts')) {
        const mod = (rel ? `${rel}/` : '') + e.name.slice(0, -5);
        if (mod === 'index') continue;
        const file = path.join(dir, e.name);
        const text = fs.readFileSync(file, 'utf8');
        const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
        const imports = new Map(); // local name -> module
        for (const st of sf.statements) {
          if (ts.isImportDeclaration(st) && st.importClause?.namedBindings && ts.isNamedImports(st.importClause.namedBindings)) {
            const from = path.posix.normalize(path.posix.join(path.posix.dirname(mod), st.moduleSpecifier.text));
            for (const el of st.importClause.namedBindings.elements) imports.set(el.name.text, from);
          }
        }
        const resolve = (name) => `${modulePrefix(imports.get(name) ?? mod)}.${name}`;
        for (const st of sf.statements) {
          if (ts.isInterfaceDeclaration(st)) {
            const props = new Map();
            for (const m of st.members) {
              if (!ts.isPropertySignature(m) || !m.name) continue;
              const name = ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(sf);
              props.set(name, {
                description: docOf(text, m),
                required: !m.questionToken,
                type: m.type,
              });
            }
            tsDefs.set(`${modulePrefix(mod)}.${st.name.text}`, { description: docOf(text, st), props, sf, resolve });
          } else if (ts.isTypeAliasDeclaration(st)) {
            tsDefs.set(`${modulePrefix(mod)}.${st.name.text}`, { description: docOf(text, st), alias: st.type, sf, resolve });
          }
        }
      }
    }
  };
  walk(typesDir, '');

  // ---- well-known types (upstream's shapes) ----
  const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
  const SPECIAL = {
    'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
    [`${META}.Time`]: { type: 'string', format: 'date-time' },
    [`${META}.MicroTime`]: { type: 'string', format: 'date-time' },
    [`${META}.FieldsV1`]: { type: 'object' },
    [`${META}.Patch`]: { type: 'object' },
    'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object' },
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': {},
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': {},
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': {},
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': {},
  };
  const SPECIAL_DESCRIPTIONS = {
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString':
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  };
  /** Message types that are not $refs upstream. */
  const INLINE_MESSAGES = {
    'k8s.io.apimachinery.pkg.apis.meta.v1.Duration': () => ({ type: 'string' }),
    'k8s.io.apimachinery.pkg.api.resource.QuantityValue': () => ({ $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' }),
  };
  /** Named Go slices that go-to-protobuf wraps in a message with one `items` field. */
  const WRAPPED_LISTS = /(\.ExtraValue|\.meta\.v1\.Verbs)$/;
  const ref = (def) => ({ $ref: `#/definitions/${def}` });

  const SCALAR = {
    string: { type: 'string' },
    bool: { type: 'boolean' },
    int32: { type: 'integer', format: 'int32' },
    uint32: { type: 'integer', format: 'int32' },
    sint32: { type: 'integer', format: 'int32' },
    fixed32: { type: 'integer', format: 'int32' },
    sfixed32: { type: 'integer', format: 'int32' },
    int64: { type: 'integer', format: 'int64' },
    uint64: { type: 'integer', format: 'int64' },
    sint64: { type: 'integer', format: 'int64' },
    fixed64: { type: 'integer', format: 'int64' },
    sfixed64: { type: 'integer', format: 'int64' },
    double: { type: 'number', format: 'double' },
    float: { type: 'number', format: 'double' },
    bytes: { type: 'string', format: 'byte' },
  };
  const valueSchema = (kind, typeName) => {
    if (kind === 'message' || (kind === 'map' && typeName && typeName.includes('.'))) {
      if (INLINE_MESSAGES[typeName]) return INLINE_MESSAGES[typeName]();
      if (WRAPPED_LISTS.test(typeName)) return { type: 'array', items: { type: 'string' } };
      return ref(defOfMessage(typeName));
    }
    if (kind === 'map') return { ...SCALAR[typeName] };
    const s = SCALAR[kind];
    if (!s) throw new Error(`unknown proto kind ${kind}`);
    return { ...s };
  };
  /** A proto field's JSON schema (no description). */
  const protoFieldSchema = ([, , kind, typeName, flags]) => {
    if (kind === 'map') return { type: 'object', additionalProperties: valueSchema(kind, typeName) };
    const v = valueSchema(kind, typeName);
    return flags & 1 ? { type: 'array', items: v } : v;
  };
  /** Fields of a message with embedded (inline) structs flattened. */
  const protoFields = (msg) => {
    const out = [];
    for (const f of messages[msg] ?? []) {
      if (f[4] & 2) out.push(...protoFields(f[3]));
      else out.push(f);
    }
    return out;
  };

  // Types with no proto message (apiextensions.k8s.io): numbers are int64 unless listed here.
  const FLOATS = new Set(['maximum', 'minimum', 'multipleOf']);
  const INT32 = new Set(['CustomResourceColumnDefinition.priority', 'ServiceReference.port']);
  const BYTES = new Set(['WebhookClientConfig.caBundle']);
  /** A schema from a .d.ts type node (for types without a proto message). */
  const tsTypeSchema = (node, d, propName) => {
    if (!node) return {};
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return { type: 'string' };
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.NumberKeyword:
        return FLOATS.has(propName) ? { type: 'number', format: 'double' } : { type: 'integer', format: 'int64' };
      case ts.SyntaxKind.LiteralType:
        return { type: 'string' };
      case ts.SyntaxKind.ArrayType:
        return { type: 'array', items: tsTypeSchema(node.elementType, d, propName) };
      case ts.SyntaxKind.UnionType: {
        const parts = node.types.map((t) => tsTypeSchema(t, d, propName));
        if (parts.every((p) => p.type === 'string')) return { type: 'string' };
        return {};
      }
      case ts.SyntaxKind.TypeLiteral: {
        const idx = node.members.find((m) => ts.isIndexSignatureDeclaration(m));
        return idx ? { type: 'object', additionalProperties: tsTypeSchema(idx.type, d, propName) } : { type: 'object' };
      }
      case ts.SyntaxKind.TypeReference: {
        const name = node.typeName.getText(d.sf);
        if (name === 'Array' && node.typeArguments?.length === 1) return { type: 'array', items: tsTypeSchema(node.typeArguments[0], d, propName) };
        const def = d.resolve(name);
        if (!tsDefs.has(def) && !SPECIAL[def]) return {};
        return ref(def);
      }
      default:
        return {};
    }
  };

  const gvkOf = (d) => {
    const lit = (p) => {
      const t = d.props.get(p)?.type;
      return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
    };
    const kind = lit('kind');
    const apiVersion = lit('apiVersion');
    if (!kind || !apiVersion) return undefined;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return [{ group, kind, version }];
  };

  // kubernetes-types drops JSONSchemaProps' x-kubernetes-* vendor extensions (its generator skips
  // extension-like names); they are part of the Go type and of the CRD API, so we add them.
  const JSON_SCHEMA_PROPS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps';
  const JSON_SCHEMA_PROPS_EXTENSIONS = {
    'x-kubernetes-embedded-resource': { type: 'boolean', description: 'x-kubernetes-embedded-resource says that the value is an embedded Kubernetes object (with TypeMeta and ObjectMeta). The type must be object.' },
    'x-kubernetes-int-or-string': { type: 'boolean', description: 'x-kubernetes-int-or-string says that the value is either an integer or a string.' },
    'x-kubernetes-list-map-keys': { type: 'array', items: { type: 'string' }, description: 'x-kubernetes-list-map-keys names the keys that identify the items of a list of x-kubernetes-list-type `map`.', 'x-kubernetes-list-type': 'atomic' },
    'x-kubernetes-list-type': { type: 'string', description: 'x-kubernetes-list-type describes the topology of a list: `atomic`, `set` or `map`.' },
    'x-kubernetes-map-type': { type: 'string', description: 'x-kubernetes-map-type describes the topology of an object: `granular` or `atomic`.' },
    'x-kubernetes-preserve-unknown-fields': { type: 'boolean', description: 'x-kubernetes-preserve-unknown-fields keeps fields that the schema does not specify instead of pruning them.' },
    'x-kubernetes-validations': { type: 'array', items: ref('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule'), description: 'x-kubernetes-validations lists validation rules written in the CEL expression language.' },
  };

  const sortObj = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const withDescription = (schema, description) => {
    if (!description) return schema;
    // v2 keeps `description` next to `$ref` (as upstream's swagger does).
    return { ...schema, description };
  };

  const definitions = {};
  const names = new Set([...tsDefs.keys(), ...Object.keys(messages).map(defOfMessage).filter((n) => n.startsWith('io.k8s.'))]);
  for (const name of names) {
    const d = tsDefs.get(name);
    const msg = messageOfDef(name);
    if (SPECIAL[name]) {
      definitions[name] = { ...(d?.description || SPECIAL_DESCRIPTIONS[name] ? { description: d?.description || SPECIAL_DESCRIPTIONS[name] } : {}), ...SPECIAL[name] };
      continue;
    }
    if (INLINE_MESSAGES[msg] || WRAPPED_LISTS.test(msg)) continue;
    if (d?.alias) continue; // type aliases other than the well-known ones are not definitions
    const props = {};
    const required = [];
    const fromProto = messages[msg] ? protoFields(msg) : undefined;
    if (fromProto) {
      const tsByLower = new Map([...(d?.props.keys() ?? [])].map((k) => [k.toLowerCase(), k]));
      for (const f of fromProto) {
        const jsonName = d?.props.has(f[1]) ? f[1] : (tsByLower.get(f[1].toLowerCase()) ?? f[1]);
        props[jsonName] = withDescription(protoFieldSchema(f), d?.props.get(jsonName)?.description);
      }
    }
    if (d?.props) {
      for (const [p, info] of d.props) {
          // With a proto message, the .d.ts (older) only adds apiVersion and kind (TypeMeta is not in proto).
        if (!props[p] && (!fromProto || p === 'apiVersion' || p === 'kind')) {
          const short = `${name.split('.').pop()}.${p}`;
          const schema = INT32.has(short) ? { type: 'integer', format: 'int32' } : BYTES.has(short) ? { type: 'string', format: 'byte' } : tsTypeSchema(info.type, d, p);
          props[p] = withDescription(schema, info.description);
        }
        if (!props[p]) continue;
        if (info.required) required.push(p);
      }
    }
    if (name === JSON_SCHEMA_PROPS) for (const [k, v] of Object.entries(JSON_SCHEMA_PROPS_EXTENSIONS)) props[k] ??= v;
    const def = {};
    if (d?.description) def.description = d.description;
    if (Object.keys(props).length) def.properties = sortObj(props);
    if (required.length) def.required = required;
    def.type = 'object';
    const gvk = d?.props ? gvkOf(d) : undefined;
    if (gvk) def['x-kubernetes-group-version-kind'] = gvk;
    definitions[name] = def;
  }
  return {
    source: `kubernetes-types ${typesVersion} (descriptions, required fields) and ${proto.source.split(' (')[0]} protobuf descriptors (structure), by scripts/gen-openapi-defs.mjs`,
    definitions: sortObj(definitions),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = generate();
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, JSON.stringify(out));
  console.error(`gen-openapi-defs: ${Object.keys(out.definitions).length} definitions -> ${path.relative(process.cwd(), outPath)}`);
}
