// Field paths and sets of them, as upstream's structured-merge-diff fieldpath package:
// a path is a list of path elements, each written as in managedFields' FieldsV1:
//   f:<name>          a field of a struct or a key of a map
//   k:{"name":"app"}  an item of an associative list, by its key fields (sorted by name)
//   v:"value"         an item of a set (a list of scalars)
//   i:3               an item of a list by index (lists without keys)
// A set is a tree of path elements; a node is a member of the set or only leads to members.

export type PathElement = string;
export type Path = readonly PathElement[];

export const fieldPE = (name: string): PathElement => `f:${name}`;
export const indexPE = (i: number): PathElement => `i:${i}`;
export const valuePE = (v: unknown): PathElement => `v:${canonicalJSON(v)}`;
export function keyPE(fields: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(fields).sort()) sorted[k] = fields[k];
  return `k:${canonicalJSON(sorted)}`;
}

/** JSON with object keys in sorted order, as upstream serializes values inside path elements. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`)
    .join(',')}}`;
}

/** Upstream's Path.String(): `.spec.containers[name="nginx"].image`, `[=value]`, `[0]`. */
export function pathString(path: Path): string {
  let s = '';
  for (const pe of path) {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f':
        s += `.${body}`;
        break;
      case 'k': {
        const o = JSON.parse(body) as Record<string, unknown>;
        s += `[${Object.keys(o)
          .map((k) => `${k}=${canonicalJSON(o[k])}`)
          .join(',')}]`;
        break;
      }
      case 'v':
        s += `[=${body}]`;
        break;
      case 'i':
        s += `[${body}]`;
        break;
      default:
        s += pe;
    }
  }
  return s;
}

/** Upstream's ordering of path elements: fields, then keys, then values, then indices. */
function peOrder(a: PathElement, b: PathElement): number {
  const rank = (pe: string) => 'fkvi'.indexOf(pe[0]!);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FieldSet {
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  static fromPaths(paths: Iterable<Path>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: Path): void {
    let n: FieldSet = this;
    for (const pe of path) {
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = new FieldSet()));
      n = c;
    }
    if (path.length) n.member = true;
  }

  /** The node at `path`, if any. */
  at(path: Path): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children.get(pe);
      if (!n) return undefined;
    }
    return n;
  }

  has(path: Path): boolean {
    return !!path.length && !!this.at(path)?.member;
  }

  /** True when no node is a member. */
  empty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [pe, c] of this.children) s.children.set(pe, c.clone());
    return s;
  }

  union(o: FieldSet): FieldSet {
    const s = this.clone();
    s.addAll(o);
    return s;
  }

  private addAll(o: FieldSet): void {
    if (o.member) this.member = true;
    for (const [pe, c] of o.children) {
      let mine = this.children.get(pe);
      if (!mine) this.children.set(pe, (mine = new FieldSet()));
      mine.addAll(c);
    }
  }

  /** Members of this set that are not members of `o` (membership is per node, as upstream). */
  difference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && !o.member;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      const d = oc ? c.difference(oc) : c.clone();
      if (!d.empty()) s.children.set(pe, d);
    }
    return s;
  }

  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && o.member;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) continue;
      const i = c.intersection(oc);
      if (!i.empty()) s.children.set(pe, i);
    }
    return s;
  }

  /** This set without the subtree at each given path (members below included). */
  withoutSubtrees(paths: Path[]): FieldSet {
    const s = this.clone();
    for (const p of paths) {
      if (!p.length) continue;
      const parent = s.at(p.slice(0, -1));
      parent?.children.delete(p[p.length - 1]!);
    }
    s.prune();
    return s;
  }

  /** Only the subtrees at the given paths. */
  onlySubtrees(paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) {
      const n = this.at(p);
      if (!n) continue;
      let dst: FieldSet = s;
      for (const pe of p.slice(0, -1)) {
        let c = dst.children.get(pe);
        if (!c) dst.children.set(pe, (c = new FieldSet()));
        dst = c;
      }
      dst.children.set(p[p.length - 1]!, n.clone());
    }
    return s;
  }

  private prune(): void {
    for (const [pe, c] of this.children) {
      c.prune();
      if (!c.member && c.children.size === 0) this.children.delete(pe);
    }
  }

  /** Every member path, in upstream's order. */
  paths(prefix: PathElement[] = []): Path[] {
    const out: Path[] = [];
    if (this.member && prefix.length) out.push([...prefix]);
    for (const pe of [...this.children.keys()].sort(peOrder)) {
      out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    }
    return out;
  }

  /** FieldsV1: `{"f:spec":{"f:replicas":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const kids = [...this.children.keys()].sort(peOrder);
    if (this.member && kids.length) out['.'] = {};
    for (const pe of kids) out[pe] = this.children.get(pe)!.toFieldsV1();
    return out;
  }

  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    fill(s, v, true);
    return s;
  }

  equals(o: FieldSet): boolean {
    if (this.member !== o.member || this.children.size !== o.children.size) return false;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc || !c.equals(oc)) return false;
    }
    return true;
  }
}

function fill(s: FieldSet, v: unknown, root: boolean): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('invalid FieldsV1: expected an object');
  const entries = Object.entries(v as Record<string, unknown>);
  if (!root && entries.length === 0) s.member = true;
  for (const [k, c] of entries) {
    if (k === '.') {
      if (root) throw new Error('invalid FieldsV1: "." at the root');
      s.member = true;
      continue;
    }
    if (!/^[fkvi]:/.test(k)) throw new Error(`invalid FieldsV1: unexpected key ${JSON.stringify(k)}`);
    if (k[0] === 'k' || k[0] === 'v') JSON.parse(k.slice(2));
    let child = s.children.get(k);
    if (!child) s.children.set(k, (child = new FieldSet()));
    fill(child, c, false);
  }
}
