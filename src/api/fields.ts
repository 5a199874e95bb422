// Field selectors like k8s.io/apimachinery/pkg/fields: "a=b,c!=d" with backslash escapes
// for ",", "=" and "\" in values. A missing field reads as "", as upstream's fields.Set does.

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  value: string;
}

/** Reads one field of an object (e.g. "metadata.name", "spec.nodeName"); undefined when absent. */
export type FieldGetter = (field: string) => string | undefined;

export interface FieldSelector {
  matches(get: FieldGetter): boolean;
  empty(): boolean;
  toString(): string;
  /** The value `field` must equal for anything to match (lets the server use an index). */
  requiresExactMatch(field: string): string | undefined;
  readonly requirements: readonly FieldRequirement[];
}

export class FieldSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldSelectorParseError';
  }
}

/** fields.EscapeValue. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue: only \\ \, \= are escapes; a bare , or = in a value is an error. */
export function unescapeFieldValue(s: string): string {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Go prints the rune with %v, i.e. as its number.
    else if (c === ',' || c === '=') throw new FieldSelectorParseError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new FieldSelectorParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const termOperators: FieldOperator[] = ['!=', '==', '='];

function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
  }
  return undefined;
}

function makeSelector(requirements: FieldRequirement[]): FieldSelector {
  return {
    requirements,
    matches: (get) =>
      requirements.every((r) => {
        const v = get(r.field) ?? '';
        return r.operator === '!=' ? v !== r.value : v === r.value;
      }),
    empty: () => requirements.length === 0,
    toString: () => requirements.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`).join(','),
    requiresExactMatch: (field) => requirements.find((r) => r.field === field && r.operator !== '!=')?.value,
  };
}

/** fields.ParseSelector. Throws FieldSelectorParseError with upstream's text. */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw new FieldSelectorParseError(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, operator, rhs] = t;
    reqs.push({ field, operator, value: unescapeFieldValue(rhs) });
  }
  return makeSelector(reqs);
}

/** fields.OneTermEqualSelector / SelectorFromSet: every field must equal its value. */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return makeSelector(
    Object.keys(set)
      .sort()
      .map((field) => ({ field, operator: '=' as const, value: set[field]! })),
  );
}
