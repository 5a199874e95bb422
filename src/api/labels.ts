// Label selectors like k8s.io/apimachinery/pkg/labels: the string syntax that `kubectl -l`
// and ?labelSelector= use, the metav1.LabelSelector object that workloads embed, and the
// matcher both turn into. Error texts follow upstream, since kubectl prints them.
import type { FieldError } from './types.js';
import { fieldErrorMessage, invalid, notSupported, path as joinPath, required, forbidden } from './validation/field.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';

/** selection.Operator values. */
export type LabelOperator = '!' | '=' | '==' | 'in' | '!=' | 'notin' | 'exists' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted, de-duplicated values (empty for exists / !). */
  values: string[];
}

export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  /** True for the selector that matches everything. */
  empty(): boolean;
  toString(): string;
  /** The value a label must have for any object to match, if there is one ("a=b", "a==b", "a in (b)"). */
  requiresExactMatch(label: string): string | undefined;
  readonly requirements: readonly LabelRequirement[];
}

export class LabelSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorParseError';
  }
}

/** A metav1.LabelSelector that fails validation; `errors` are ready for a Status' causes. */
export class InvalidLabelSelectorError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(aggregate(errors.map(fieldErrorMessage)));
    this.name = 'InvalidLabelSelectorError';
  }
}

/** utilerrors.NewAggregate(...).Error(): one message bare, several in brackets. */
function aggregate(msgs: string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}

// ---- requirements --------------------------------------------------------------------------

const binaryOperators = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const validOperators = ['in', 'notin', '=', '==', '!=', 'gt', 'lt', 'exists', '!'];
const integerRe = /^[+-]?\d+$/;

function parseInt64(s: string): number | undefined {
  if (!integerRe.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) || Math.abs(n) <= 9.223372036854776e18 ? n : undefined;
}

function validateLabelKey(key: string, field: string): FieldError | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalid(field, key, errs.join('; ')) : undefined;
}

/** labels.NewRequirement: validates and builds one requirement (field paths relative to `base`). */
export function newRequirement(key: string, operator: LabelOperator, values: string[], base = ''): LabelRequirement {
  const errs: FieldError[] = [];
  const at = (...p: (string | number)[]) => joinPath(...(base ? [base] : []), ...p);
  const keyErr = validateLabelKey(key, at('key'));
  if (keyErr) errs.push(keyErr);
  const valuesPath = at('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(valuesPath, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalid(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      errs.push(notSupported(at('operator'), operator, validOperators));
  }
  values.forEach((v, i) => {
    const m = isValidLabelValue(v);
    if (m.length) errs.push(invalid(`${valuesPath}[${i}][${key}]`, v, m.join('; ')));
  });
  if (errs.length) throw new LabelSelectorParseError(aggregate(errs.map(fieldErrorMessage)));
  return { key, operator, values };
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key]!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key]!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const lv = parseInt64(labels[r.key]!);
      const rv = parseInt64(r.values[0]!);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0] ?? ''}`;
    case 'lt':
      return `${r.key}<${r.values[0] ?? ''}`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ''}`;
  }
}

// ---- selectors -----------------------------------------------------------------------------

function makeSelector(reqs: LabelRequirement[]): LabelSelector {
  // Sorted by key so that String() is deterministic, as upstream does.
  const requirements = [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements,
    matches: (labels) => requirements.every((r) => requirementMatches(r, labels ?? {})),
    empty: () => requirements.length === 0,
    toString: () => requirements.map(requirementString).join(','),
    requiresExactMatch(label) {
      for (const r of requirements) {
        if (r.key !== label) continue;
        if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
        return undefined;
      }
      return undefined;
    },
  };
}

/** labels.Everything(): matches every object. */
export const everything = (): LabelSelector => makeSelector([]);

/** labels.Nothing(): what a nil metav1.LabelSelector means — matches no object. */
export function nothing(): LabelSelector {
  return { requirements: [], matches: () => false, empty: () => false, toString: () => '', requiresExactMatch: () => undefined };
}

/** labels.SelectorFromSet: every label must equal the given value. Not validated, like upstream. */
export function selectorFromSet(set: Record<string, string> | undefined): LabelSelector {
  return makeSelector(Object.entries(set ?? {}).map(([key, v]) => ({ key, operator: '=' as const, values: [v] })));
}

// ---- the string syntax (labels.Parse) ------------------------------------------------------

type Tok =
  | 'eos'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'id'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const keywordTokens: Record<string, Tok> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (isSpecial(s[pos]!)) {
      // Longest run of special characters that still forms a known symbol; every single
      // special character is one, so this always yields a token.
      let buf = s[pos]!;
      let last = { tok: keywordTokens[buf]!, lit: buf };
      pos++;
      while (pos < s.length && isSpecial(s[pos]!)) {
        const t = keywordTokens[buf + s[pos]];
        if (!t) break;
        buf += s[pos];
        last = { tok: t, lit: buf };
        pos++;
      }
      out.push(last);
      continue;
    }
    const start = pos;
    while (pos < s.length && !isWhitespace(s[pos]!) && !isSpecial(s[pos]!)) pos++;
    const word = s.slice(start, pos);
    out.push({ tok: word === 'in' || word === 'notin' ? (word as Tok) : 'id', lit: word });
  }
}

class Parser {
  private i = 0;
  constructor(private readonly items: { tok: Tok; lit: string }[]) {}

  /** In the "values" context the keywords in/notin are plain identifiers. */
  private peek(values: boolean): { tok: Tok; lit: string } {
    const it = this.items[Math.min(this.i, this.items.length - 1)]!;
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it;
  }
  private next(values: boolean): { tok: Tok; lit: string } {
    const it = this.peek(values);
    if (this.i < this.items.length - 1) this.i++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      switch (tok) {
        case 'id':
        case '!': {
          let r: LabelRequirement;
          try {
            r = this.requirement();
          } catch (e) {
            throw new LabelSelectorParseError(`unable to parse requirement: ${(e as Error).message}`);
          }
          reqs.push(r);
          const t = this.next(true);
          if (t.tok === 'eos') return reqs;
          if (t.tok === ',') {
            const t2 = this.peek(true);
            if (t2.tok !== 'id' && t2.tok !== '!') throw new LabelSelectorParseError(`found '${t2.lit}', expected: identifier after ','`);
            break;
          }
          throw new LabelSelectorParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
        case 'eos':
          return reqs;
        default:
          throw new LabelSelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private requirement(): LabelRequirement {
    let op: LabelOperator | undefined;
    let t = this.next(true);
    if (t.tok === '!') {
      op = '!';
      t = this.next(true);
    }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    // Parsing has no field path upstream, so the key error renders with Go's "<nil>" path.
    const keyErr = validateLabelKey(key, '<nil>');
    if (keyErr) throw new Error(fieldErrorMessage(keyErr));
    const after = this.peek(true).tok;
    if (after === 'eos' || after === ',') op ??= 'exists';
    if (op === 'exists' || op === '!') return newRequirement(key, op, []);

    const o = this.next(false);
    switch (o.tok) {
      case 'in':
      case 'notin':
        op = o.tok;
        break;
      case '=':
      case '==':
      case '!=':
        op = o.tok;
        break;
      case '>':
        op = 'gt';
        break;
      case '<':
        op = 'lt';
        break;
      default:
        throw new Error(`found '${o.lit}', expected: ${binaryOperators.join(', ')}`);
    }
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
    return newRequirement(key, op, [...new Set(values)].sort());
  }

  private setValues(): string[] {
    const t = this.next(true);
    if (t.tok !== '(') throw new Error(`found '${t.lit}' expected: '('`);
    const { tok, lit } = this.peek(true);
    if (tok === ')') {
      this.next(true);
      return [''];
    }
    if (tok !== 'id' && tok !== ',') throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    const s = this.identifiers();
    if (this.next(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
    return s;
  }

  private identifiers(): string[] {
    const s = new Set<string>();
    for (;;) {
      const t = this.next(true);
      if (t.tok === 'id') {
        s.add(t.lit);
        const t2 = this.peek(true);
        if (t2.tok === ',') continue;
        if (t2.tok === ')') return [...s];
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === ',') {
        // "(,", ",," and ",)" all stand for the empty value.
        if (s.size === 0) s.add('');
        const t2 = this.peek(true);
        if (t2.tok === ')') {
          s.add('');
          return [...s];
        }
        if (t2.tok === ',') {
          this.next(true);
          s.add('');
        }
      } else {
        throw new Error(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const la = this.peek(true).tok;
    if (la === 'eos' || la === ',') return [''];
    const t = this.next(true);
    if (t.tok === 'id') return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

/** labels.Parse: "a=b,c!=d,e in (f,g),!h,i>3". Throws LabelSelectorParseError with upstream's text. */
export function parseLabelSelector(s: string): LabelSelector {
  return makeSelector(new Parser(lex(s)).parse());
}

// ---- metav1.LabelSelector -----------------------------------------------------------------

export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/** metav1validation.ValidateLabelSelector, with field paths under `fld` (e.g. "spec.selector"). */
export function validateLabelSelector(sel: LabelSelectorObject | null | undefined, fld: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!sel) return errs;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    const kp = joinPath(fld, 'matchLabels');
    for (const m of isQualifiedName(k)) errs.push(invalid(kp, k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(invalid(kp, v, m));
  }
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = joinPath(fld, 'matchExpressions', i);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(joinPath(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(joinPath(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(joinPath(p, 'operator'), e.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(e.key ?? '')) errs.push(invalid(joinPath(p, 'key'), e.key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid(joinPath(p, 'values', j), v, m));
    });
  });
  return errs;
}

const objectOperators: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: null/undefined matches nothing, {} matches everything.
 * Throws InvalidLabelSelectorError (FieldErrors under `fld`) when the object is not valid.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined, fld = 'selector'): LabelSelector {
  if (sel === null || sel === undefined) return nothing();
  const errs = validateLabelSelector(sel, fld);
  if (errs.length) throw new InvalidLabelSelectorError(errs);
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, operator: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = objectOperators[e.operator]!;
    reqs.push({ key: e.key, operator: op, values: [...new Set(e.values ?? [])].sort() });
  }
  return makeSelector(reqs);
}
