#!/usr/bin/env node
// Dev tool (not run in CI): regenerates src/kubelet/runtime/cri/schema.json, the compact
// description of CRI v1 (package runtime.v1, k8s.io/cri-api/pkg/apis/runtime/v1/api.proto)
// that src/kubelet/runtime/cri/proto.ts uses to encode requests and decode responses.
//
// Source: a containerd binary (Debian's /usr/bin/containerd, 1.6.x). gogo-protobuf registers
// every generated .proto as a gzipped FileDescriptorProto; we scan the binary for gzip streams
// (1f 8b 08), gunzip them, parse FileDescriptorProto with a small protobuf reader and keep the
// file whose package is `runtime.v1` (registered there under the bare name "api.proto").
// Same approach as scripts/gen-proto-schema.mjs (kubectl's Kubernetes API descriptors).
//
// Usage: node scripts/gen-cri-proto.mjs [/usr/bin/containerd] [out.json]
//
// Output format:
//   { "source": "...",
//     "messages": { "runtime.v1.<Name>": [[number, jsonName, kind, typeName?, flags?], ...] },
//     "enums":    { "runtime.v1.<Name>": { "<VALUE>": number } },
//     "services": { "runtime.v1.<Service>": { "<Method>": ["<input>", "<output>", serverStreaming?] } } }
// kind: string | bool | int32 | int64 | uint32 | uint64 | sint32 | sint64 | fixed32 | fixed64 |
//       sfixed32 | sfixed64 | double | float | bytes | message | enum | map
// For message/enum, typeName is the full name (no leading dot). For map, typeName is the value
// kind or the value's message name (CRI's map keys are all strings; the script checks).
// flags (omitted when 0): 1 = repeated.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] ?? '/usr/bin/containerd';
const outPath = process.argv[3] ?? path.join(here, '..', 'src', 'kubelet', 'runtime', 'cri', 'schema.json');
const PKG = 'runtime.v1';

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

const str = (v) => v.toString('utf8');
const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function parseField(buf) {
  const f = { name: '', number: 0, label: 1, type: 0, typeName: '', jsonName: '' };
  for (const [no, , v] of fields(buf)) {
    if (no === 1) f.name = str(v);
    else if (no === 3) f.number = Number(v);
    else if (no === 4) f.label = Number(v);
    else if (no === 5) f.type = Number(v);
    else if (no === 6) f.typeName = str(v);
    else if (no === 10) f.jsonName = str(v);
  }
  return f;
}

function parseEnum(buf, prefix, out) {
  let name = '';
  const values = {};
  for (const [no, , v] of fields(buf)) {
    if (no === 1) name = str(v);
    else if (no === 2) {
      let vn = '';
      let vv = 0;
      for (const [eno, , ev] of fields(v)) {
        if (eno === 1) vn = str(ev);
        else if (eno === 2) vv = Number(BigInt.asIntN(32, ev));
      }
      values[vn] = vv;
    }
  }
  out.set(`${prefix}.${name}`, values);
}

function parseMessage(buf, prefix, msgs, enums) {
  const m = { name: '', fields: [], mapEntry: false };
  const nested = [];
  for (const [no, , v] of fields(buf)) {
    if (no === 1) m.name = str(v);
    else if (no === 2) m.fields.push(parseField(v));
    else if (no === 3) nested.push(v);
    else if (no === 4) parseEnum(v, `${prefix}.${m.name}`, enums);
    else if (no === 7) for (const [ono, , ov] of fields(v)) if (ono === 7) m.mapEntry = ov !== 0n;
  }
  const full = `${prefix}.${m.name}`;
  msgs.set(full, m);
  for (const n of nested) parseMessage(n, full, msgs, enums);
}

function parseService(buf, prefix, out) {
  let name = '';
  const methods = {};
  for (const [no, , v] of fields(buf)) {
    if (no === 1) name = str(v);
    else if (no === 2) {
      const m = { name: '', input: '', output: '', serverStreaming: false };
      for (const [mno, , mv] of fields(v)) {
        if (mno === 1) m.name = str(mv);
        else if (mno === 2) m.input = str(mv).replace(/^\./, '');
        else if (mno === 3) m.output = str(mv).replace(/^\./, '');
        else if (mno === 6) m.serverStreaming = mv !== 0n;
      }
      methods[m.name] = m.serverStreaming ? [m.input, m.output, true] : [m.input, m.output];
    }
  }
  out[`${prefix}.${name}`] = methods;
}

const data = fs.readFileSync(binary);
const magic = Buffer.from([0x1f, 0x8b, 0x08]);
let file;
for (let i = data.indexOf(magic); i >= 0 && !file; i = data.indexOf(magic, i + 1)) {
  let raw;
  try {
    raw = zlib.gunzipSync(data.subarray(i, i + 1_000_000));
  } catch {
    continue;
  }
  try {
    let pkg = '';
    for (const [no, wt, v] of fields(raw)) if (no === 2 && wt === 2) pkg = str(v);
    if (pkg === PKG) file = raw;
  } catch {
    continue;
  }
}
if (!file) throw new Error(`no ${PKG} descriptor found in ${binary}`);

const msgs = new Map();
const enums = new Map();
const services = {};
let fileName = '';
for (const [no, wt, v] of fields(file)) {
  if (wt !== 2) continue;
  if (no === 1) fileName = str(v);
  else if (no === 4) parseMessage(v, PKG, msgs, enums);
  else if (no === 5) parseEnum(v, PKG, enums);
  else if (no === 6) parseService(v, PKG, services);
}

const strip = (t) => t.replace(/^\./, '');
const messages = {};
for (const [full, m] of [...msgs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
  if (m.mapEntry) continue;
  messages[full] = m.fields.map((f) => {
    const kind = TYPES[f.type];
    if (!kind || kind === 'group') throw new Error(`${full}.${f.name}: unsupported type ${f.type}`);
    const entry = [f.number, f.jsonName || camel(f.name), kind];
    if (kind === 'message') {
      const target = msgs.get(strip(f.typeName));
      if (target?.mapEntry) {
        const key = target.fields.find((x) => x.number === 1);
        const val = target.fields.find((x) => x.number === 2);
        if (TYPES[key.type] !== 'string') throw new Error(`${full}.${f.name}: map key ${TYPES[key.type]}`);
        entry[2] = 'map';
        entry.push(TYPES[val.type] === 'message' || TYPES[val.type] === 'enum' ? strip(val.typeName) : TYPES[val.type]);
        return entry;
      }
      entry.push(strip(f.typeName));
    } else if (kind === 'enum') entry.push(strip(f.typeName));
    if (f.label === 3) {
      if (entry.length === 3) entry.push(null);
      entry.push(1);
    }
    return entry;
  });
}

const source = `${path.basename(binary)} (${fileName}, package ${PKG}), by scripts/gen-cri-proto.mjs`;
const lines = Object.entries(messages).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
const enumLines = [...enums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
const svcLines = Object.entries(services).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
fs.mkdirSync(path.dirname(outPath), { recursive: true });
fs.writeFileSync(
  outPath,
  `{"source":${JSON.stringify(source)},\n"messages":{\n${lines.join(',\n')}\n},\n"enums":{\n${enumLines.join(',\n')}\n},\n"services":{\n${svcLines.join(',\n')}\n}}\n`,
);
console.log(`wrote ${outPath}: ${lines.length} messages, ${enums.size} enums, ${Object.keys(services).length} services`);
