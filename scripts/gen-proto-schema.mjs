#!/usr/bin/env node
// Dev tool (not run in CI): regenerates src/apiserver/protobuf/schema.json, the compact
// description of the Kubernetes protobuf messages that src/apiserver/protobuf/decode.ts uses
// to turn `application/vnd.kubernetes.protobuf` request bodies into JSON objects.
//
// Source: a kubectl binary. Go's gogo-protobuf registers every generated.proto of
// k8s.io/api and k8s.io/apimachinery as a gzipped FileDescriptorProto; we scan the binary
// for gzip streams (1f 8b 08), gunzip them, parse FileDescriptorProto with a small
// protobuf reader and keep the files under k8s.io/api/, k8s.io/apimachinery/ and
// k8s.io/apiextensions-apiserver/ (kubectl does not link the latter).
//
// Usage: node scripts/gen-proto-schema.mjs [/usr/lib/google-cloud-sdk/bin/kubectl.1.33] [out.json]
//
// Output format (one message per line):
//   { "source": "...", "messages": { "<full name>": [[number, jsonName, kind, typeName?, flags?], ...], ... } }
// kind: string | bool | int32 | int64 | uint32 | uint64 | sint32 | sint64 | fixed32 | fixed64 |
//       sfixed32 | sfixed64 | double | float | bytes | message | map
// For kind "message" typeName is the full message name (no leading dot).
// For kind "map" typeName is the value kind ("string", "bytes", …) or the value's full message
// name (keys are strings in every Kubernetes proto; the script refuses anything else).
// The fifth element holds flags and is omitted when 0: 1 = repeated, 2 = inline (a Go struct
// embedded with `json:",inline"`, whose fields appear in the parent's JSON object).
// go-to-protobuf names proto fields after the Go JSON tag, so the proto field name is usually the
// JSON name. Exceptions (checked against upstream's OpenAPI by test/unit/protobuf/schema.test.ts):
// a few fields are named after the Go field (`Webhooks`, `Expression`, `uID`, `aPIGroup`), and
// embedded structs get a field named after their type (INLINE below).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const outPath = process.argv[3] ?? path.join(here, '..', 'src', 'apiserver', 'protobuf', 'schema.json');

// ---- a small protobuf reader -------------------------------------------------------------
function* fields(buf) {
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wt = key & 7;
    if (wt === 0) yield [no, wt, varint()];
    else if (wt === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated bytes');
      yield [no, wt, buf.subarray(i, i + len)];
      i += len;
    } else if (wt === 1) {
      yield [no, wt, buf.subarray(i, i + 8)];
      i += 8;
    } else if (wt === 5) {
      yield [no, wt, buf.subarray(i, i + 4)];
      i += 4;
    } else throw new Error(`unsupported wire type ${wt}`);
  }
}

const TYPES = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 10: 'group', 11: 'message', 12: 'bytes', 13: 'uint32', 14: 'enum', 15: 'sfixed32',
  16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};

function parseField(buf) {
  const f = { name: '', number: 0, label: 1, type: 0, typeName: '', jsonName: '' };
  for (const [no, , v] of fields(buf)) {
    if (no === 1) f.name = v.toString('utf8');
    else if (no === 3) f.number = Number(v);
    else if (no === 4) f.label = Number(v);
    else if (no === 5) f.type = Number(v);
    else if (no === 6) f.typeName = v.toString('utf8');
    else if (no === 10) f.jsonName = v.toString('utf8');
  }
  return f;
}

function parseMessage(buf, prefix, out) {
  const m = { name: '', fields: [], nested: [], mapEntry: false };
  for (const [no, , v] of fields(buf)) {
    if (no === 1) m.name = v.toString('utf8');
    else if (no === 2) m.fields.push(parseField(v));
    else if (no === 3) m.nested.push(v);
    else if (no === 7) for (const [ono, , ov] of fields(v)) if (ono === 7) m.mapEntry = ov !== 0n;
  }
  const full = `${prefix}.${m.name}`;
  out.set(full, m);
  for (const n of m.nested) parseMessage(n, full, out);
}

function parseFile(buf) {
  const f = { name: '', pkg: '', messages: [] };
  for (const [no, wt, v] of fields(buf)) {
    if (wt !== 2) continue;
    if (no === 1) f.name = v.toString('utf8');
    else if (no === 2) f.pkg = v.toString('utf8');
    else if (no === 4) f.messages.push(v);
  }
  return f;
}

// ---- scan the binary ---------------------------------------------------------------------
const data = fs.readFileSync(binary);
const magic = Buffer.from([0x1f, 0x8b, 0x08]);
const all = new Map(); // full name -> message
const files = [];
for (let i = data.indexOf(magic); i >= 0; i = data.indexOf(magic, i + 1)) {
  let raw;
  try {
    raw = zlib.gunzipSync(data.subarray(i, i + 8_000_000));
  } catch {
    continue;
  }
  let file;
  try {
    file = parseFile(raw);
  } catch {
    continue;
  }
  if (!/^k8s\.io\/(api|apimachinery|apiextensions-apiserver)\//.test(file.name) || !file.name.endsWith('.proto')) continue;
  if (files.includes(file.name)) continue;
  files.push(file.name);
  for (const m of file.messages) parseMessage(m, file.pkg, all);
}
if (files.length === 0) throw new Error(`no Kubernetes proto descriptors found in ${binary}`);

const strip = (t) => t.replace(/^\./, '');

// Embedded Go structs (`json:",inline"`): "<message short name>.<proto field>".
const INLINE = new Set([
  'ConfigMapEnvSource.localObjectReference',
  'ConfigMapKeySelector.localObjectReference',
  'ConfigMapProjection.localObjectReference',
  'ConfigMapVolumeSource.localObjectReference',
  'SecretEnvSource.localObjectReference',
  'SecretKeySelector.localObjectReference',
  'SecretProjection.localObjectReference',
  'EphemeralContainer.ephemeralContainerCommon',
  'PersistentVolumeSpec.persistentVolumeSource',
  'Probe.handler',
  'Volume.volumeSource',
  'IngressRule.ingressRuleValue',
  'NamedRuleWithOperations.ruleWithOperations',
  'RuleWithOperations.rule',
  'DeviceAllocationConfiguration.deviceConfiguration',
  'DeviceClaimConfiguration.deviceConfiguration',
  'DeviceClassConfiguration.deviceConfiguration',
]);
// Proto fields named after the Go field instead of the JSON tag: "<message short name>.<proto field>" → JSON name.
// (Other capitalised names are real JSON names: DaemonEndpoint's `Port`, FieldsV1's `Raw`.)
const RENAME = {
  'MutatingWebhookConfiguration.Webhooks': 'webhooks',
  'ValidatingWebhookConfiguration.Webhooks': 'webhooks',
  'Validation.Expression': 'expression',
  'Variable.Name': 'name',
  'Variable.Expression': 'expression',
  'BoundObjectReference.uID': 'uid',
  'IngressClassParametersReference.aPIGroup': 'apiGroup',
};
const messages = {};
for (const [full, m] of [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
  if (m.mapEntry) continue;
  messages[full] = m.fields.map((f) => {
    let kind = TYPES[f.type];
    if (!kind || kind === 'group' || kind === 'enum') throw new Error(`${full}.${f.name}: unsupported type ${f.type}`);
    const short = full.slice(full.lastIndexOf('.') + 1);
    const inline = INLINE.has(`${short}.${f.name}`);
    const entry = [f.number, RENAME[`${short}.${f.name}`] ?? f.name, kind];
    if (kind === 'message') {
      const target = all.get(strip(f.typeName));
      if (target?.mapEntry) {
        const key = target.fields.find((x) => x.number === 1);
        const val = target.fields.find((x) => x.number === 2);
        if (TYPES[key.type] !== 'string') throw new Error(`${full}.${f.name}: map key ${TYPES[key.type]}`);
        entry[2] = 'map';
        entry.push(TYPES[val.type] === 'message' ? strip(val.typeName) : TYPES[val.type]);
        return entry;
      }
      entry.push(strip(f.typeName));
    }
    const flags = (f.label === 3 ? 1 : 0) | (inline ? 2 : 0);
    if (inline && kind !== 'message') throw new Error(`${full}.${f.name}: inline field is not a message`);
    if (flags) {
      if (entry.length === 3) entry.push(null);
      entry.push(flags);
    }
    return entry;
  });
}

const source = `${path.basename(binary)} (${files.length} generated.proto descriptors), by scripts/gen-proto-schema.mjs`;
const lines = Object.entries(messages).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
fs.mkdirSync(path.dirname(outPath), { recursive: true });
fs.writeFileSync(outPath, `{"source":${JSON.stringify(source)},\n"messages":{\n${lines.join(',\n')}\n}}\n`);
console.log(`wrote ${outPath}: ${lines.length} messages from ${files.length} files`);
