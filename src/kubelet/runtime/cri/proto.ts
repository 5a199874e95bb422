// A minimal protobuf encoder/decoder for CRI v1 (package runtime.v1), driven by schema.json —
// the field numbers and types of k8s.io/cri-api's api.proto, extracted from containerd's own
// registered descriptor by scripts/gen-cri-proto.mjs.
//
// Messages are plain objects with camelCase keys (the proto JSON names). Decoding fills proto3
// defaults for scalars ('' / 0 / false), [] for repeated fields and {} for maps; absent message
// fields stay undefined. 64-bit integers decode to JS numbers (CRI's nanosecond timestamps lose
// sub-microsecond precision, which nothing here needs); encoding accepts numbers or bigints.
import schemaFile from './schema.json' with { type: 'json' };

/** [number, jsonName, kind, typeName?, flags?] — flags: 1 = repeated. */
export type FieldDesc = [number, string, string, (string | null)?, number?];

interface Schema {
  source: string;
  messages: Record<string, FieldDesc[]>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, [string, string, boolean?]>>;
}

export const schema = schemaFile as unknown as Schema;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

const PKG = 'runtime.v1.';
const full = (name: string): string => (name.includes('.') ? name : PKG + name);

function fieldsOf(name: string): FieldDesc[] {
  const f = schema.messages[full(name)];
  if (!f) throw new Error(`CRI proto: unknown message ${name}`);
  return f;
}

/** The numeric value of an enum constant (e.g. enumValue('ContainerState', 'CONTAINER_RUNNING')). */
export function enumValue(enumName: string, value: string): number {
  const e = schema.enums[full(enumName)];
  const v = e?.[value];
  if (v === undefined) throw new Error(`CRI proto: unknown enum value ${enumName}.${value}`);
  return v;
}

/** The name of an enum constant, or the number as a string when unknown. */
export function enumName(enumName: string, value: number): string {
  const e = schema.enums[full(enumName)] ?? {};
  for (const [k, v] of Object.entries(e)) if (v === value) return k;
  return String(value);
}

// ---- writer ---------------------------------------------------------------------------------

class Writer {
  private chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = Buffer.allocUnsafe(Math.max(256, n * 2));
    this.pos = 0;
  }

  byte(b: number): void {
    this.ensure(1);
    this.cur[this.pos++] = b;
  }

  varint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0x7fffffff) {
      this.ensure(5);
      while (v > 0x7f) {
        this.cur[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.cur[this.pos++] = v;
      return;
    }
    let b = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (b > 0x7fn) {
      this.cur[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.cur[this.pos++] = Number(b);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.cur.set(b, this.pos);
    this.pos += b.length;
  }

  tag(no: number, wt: number): void {
    this.varint((no << 3) | wt);
  }

  finish(): Buffer {
    return Buffer.concat([...this.chunks, this.cur.subarray(0, this.pos)]);
  }
}

const WIRE: Record<string, number> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0, enum: 0,
  fixed64: 1, sfixed64: 1, double: 1, fixed32: 5, sfixed32: 5, float: 5,
  string: 2, bytes: 2, message: 2, map: 2,
};

function writeScalar(w: Writer, kind: string, v: unknown): void {
  switch (kind) {
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'enum':
      w.varint(typeof v === 'bigint' ? v : Math.trunc(Number(v)));
      return;
    case 'sint32':
    case 'sint64': {
      const b = BigInt(typeof v === 'bigint' ? v : Math.trunc(Number(v)));
      w.varint(BigInt.asUintN(64, (b << 1n) ^ (b < 0n ? -1n : 0n)));
      return;
    }
    case 'bool':
      w.byte(v ? 1 : 0);
      return;
    case 'fixed64':
    case 'sfixed64': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as number | bigint)));
      w.bytes(b);
      return;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(v));
      w.bytes(b);
      return;
    }
    case 'fixed32':
    case 'sfixed32': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(v) >>> 0);
      w.bytes(b);
      return;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(Number(v));
      w.bytes(b);
      return;
    }
    case 'string': {
      const b = Buffer.from(String(v), 'utf8');
      w.varint(b.length);
      w.bytes(b);
      return;
    }
    case 'bytes': {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : (v as Uint8Array);
      w.varint(b.length);
      w.bytes(b);
      return;
    }
    default:
      throw new Error(`CRI proto: cannot write kind ${kind}`);
  }
}

function isDefault(kind: string, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (kind === 'string') return v === '';
  if (kind === 'bool') return v === false;
  if (kind === 'bytes') return (v as Uint8Array).length === 0;
  if (kind === 'message' || kind === 'map') return false;
  return v === 0 || v === 0n;
}

function writeMessage(w: Writer, name: string, obj: Msg): void {
  for (const [no, key, kind, typeName, flags] of fieldsOf(name)) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (kind === 'map') {
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
        const e = new Writer();
        e.tag(1, 2);
        writeScalar(e, 'string', k);
        if (typeName && schema.messages[typeName]) {
          e.tag(2, 2);
          const inner = encode(typeName, val as Msg);
          e.varint(inner.length);
          e.bytes(inner);
        } else {
          const vk = typeName && schema.enums[typeName] ? 'enum' : typeName ?? 'string';
          e.tag(2, WIRE[vk]!);
          writeScalar(e, vk, val);
        }
        const eb = e.finish();
        w.tag(no, 2);
        w.varint(eb.length);
        w.bytes(eb);
      }
      continue;
    }
    const repeated = ((flags ?? 0) & 1) !== 0;
    const values: unknown[] = repeated ? (v as unknown[]) : [v];
    if (repeated && values.length === 0) continue;
    if (kind === 'message') {
      for (const item of values) {
        const inner = encode(typeName!, (item ?? {}) as Msg);
        w.tag(no, 2);
        w.varint(inner.length);
        w.bytes(inner);
      }
    } else if (repeated && WIRE[kind] !== 2) {
      // proto3 packs repeated scalars
      const p = new Writer();
      for (const item of values) writeScalar(p, kind, item);
      const pb = p.finish();
      w.tag(no, 2);
      w.varint(pb.length);
      w.bytes(pb);
    } else {
      for (const item of values) {
        if (!repeated && isDefault(kind, item)) continue;
        w.tag(no, WIRE[kind]!);
        writeScalar(w, kind, item);
      }
    }
  }
}

/** Encodes `obj` as the CRI message `name` ("RunPodSandboxRequest" or "runtime.v1.…"). */
export function encode(name: string, obj: Msg): Buffer {
  const w = new Writer();
  writeMessage(w, name, obj);
  return w.finish();
}

// ---- reader ---------------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('CRI proto: truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  }

  small(): number {
    // fast path for tags and lengths
    let v = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('CRI proto: truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) v |= (b & 0x7f) << shift;
      else v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error('CRI proto: truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.take(8);
    else if (wt === 2) this.take(this.small());
    else if (wt === 5) this.take(4);
    else throw new Error(`CRI proto: unsupported wire type ${wt}`);
  }
}

function readScalar(r: Reader, kind: string): unknown {
  switch (kind) {
    case 'int32':
    case 'enum':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint64':
      return Number(r.varint());
    case 'sint32':
    case 'sint64': {
      const u = r.varint();
      return Number((u >> 1n) ^ -(u & 1n));
    }
    case 'bool':
      return r.varint() !== 0n;
    case 'fixed64':
      return Number(Buffer.from(r.take(8)).readBigUInt64LE());
    case 'sfixed64':
      return Number(Buffer.from(r.take(8)).readBigInt64LE());
    case 'double':
      return Buffer.from(r.take(8)).readDoubleLE();
    case 'fixed32':
      return Buffer.from(r.take(4)).readUInt32LE();
    case 'sfixed32':
      return Buffer.from(r.take(4)).readInt32LE();
    case 'float':
      return Buffer.from(r.take(4)).readFloatLE();
    case 'string':
      return Buffer.from(r.take(r.small())).toString('utf8');
    case 'bytes':
      return Buffer.from(r.take(r.small()));
    default:
      throw new Error(`CRI proto: cannot read kind ${kind}`);
  }
}

function defaultOf(kind: string): unknown {
  switch (kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    case 'message':
      return undefined;
    case 'map':
      return {};
    default:
      return 0;
  }
}

const byNumberCache = new Map<string, Map<number, FieldDesc>>();
function byNumber(name: string): Map<number, FieldDesc> {
  let m = byNumberCache.get(name);
  if (!m) {
    m = new Map(fieldsOf(name).map((f) => [f[0], f]));
    byNumberCache.set(name, m);
  }
  return m;
}

/** Decodes a CRI message `name` from its wire bytes. Unknown fields are skipped. */
export function decode(name: string, buf: Uint8Array): Msg {
  const out: Msg = {};
  const desc = byNumber(full(name));
  for (const [, key, kind, , flags] of desc.values()) {
    const repeated = ((flags ?? 0) & 1) !== 0;
    out[key] = repeated ? [] : defaultOf(kind);
  }
  const r = new Reader(buf);
  while (r.pos < buf.length) {
    const tag = r.small();
    const no = tag >>> 3;
    const wt = tag & 7;
    const f = desc.get(no);
    if (!f) {
      r.skip(wt);
      continue;
    }
    const [, key, kind, typeName, flags] = f;
    const repeated = ((flags ?? 0) & 1) !== 0;
    if (kind === 'map') {
      const entry = new Reader(r.take(r.small()));
      let k = '';
      let v: unknown = typeName && schema.messages[typeName] ? {} : defaultOf(typeName ?? 'string');
      while (entry.pos < entry.buf.length) {
        const et = entry.small();
        if (et >>> 3 === 1 && (et & 7) === 2) k = readScalar(entry, 'string') as string;
        else if (et >>> 3 === 2) {
          if (typeName && schema.messages[typeName]) v = decode(typeName, entry.take(entry.small()));
          else v = readScalar(entry, typeName && schema.enums[typeName] ? 'enum' : typeName ?? 'string');
        } else entry.skip(et & 7);
      }
      out[key][k] = v;
    } else if (kind === 'message') {
      const v = decode(typeName!, r.take(r.small()));
      if (repeated) out[key].push(v);
      else out[key] = v;
    } else if (repeated && wt === 2 && WIRE[kind] !== 2) {
      const p = new Reader(r.take(r.small()));
      while (p.pos < p.buf.length) out[key].push(readScalar(p, kind));
    } else {
      const v = readScalar(r, kind);
      if (repeated) out[key].push(v);
      else out[key] = v;
    }
  }
  return out;
}
