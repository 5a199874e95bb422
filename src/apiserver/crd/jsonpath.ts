// The simple JSONPath of CRD additionalPrinterColumns and scale subresource paths:
// ".spec.replicas", ".status.conditions[0].type", ".metadata.labels.app\.kubernetes\.io/name",
// and ".spec.items[*].name" (joined with commas, as kubectl's printer does).

export function parseSimplePath(path: string): (string | number | '*')[] {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (p.startsWith('$')) p = p.slice(1);
  const parts: (string | number | '*')[] = [];
  let cur = '';
  let i = 0;
  const flush = () => {
    if (cur) parts.push(cur);
    cur = '';
  };
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      cur += p[i + 1];
      i += 2;
      continue;
    }
    if (c === '.') {
      flush();
      i++;
      continue;
    }
    if (c === '[') {
      flush();
      const end = p.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated [ in ${path}`);
      const inner = p.slice(i + 1, end).trim().replace(/^['"]|['"]$/g, '');
      if (inner === '*') parts.push('*');
      else if (/^-?\d+$/.test(inner)) parts.push(Number(inner));
      else parts.push(inner);
      i = end + 1;
      continue;
    }
    cur += c;
    i++;
  }
  flush();
  return parts;
}

/** Every value the path selects (several with [*]). */
export function evaluatePath(obj: unknown, path: string): unknown[] {
  let values: unknown[] = [obj];
  for (const part of parseSimplePath(path)) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if (part === '*') {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v));
      } else if (typeof part === 'number') {
        if (Array.isArray(v)) {
          const idx = part < 0 ? v.length + part : part;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      } else if (typeof v === 'object' && !Array.isArray(v)) {
        const x = (v as Record<string, unknown>)[part];
        if (x !== undefined) next.push(x);
      }
    }
    values = next;
  }
  return values;
}

/** Dotted form for scale paths (".spec.replicas" → "spec.replicas"). */
export function dottedPath(path: string): string {
  return parseSimplePath(path)
    .map((p) => String(p))
    .join('.');
}
