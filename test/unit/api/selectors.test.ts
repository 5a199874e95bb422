import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidLabelSelectorError,
  labelSelectorFromObject,
  LabelSelectorParseError,
  parseLabelSelector,
  selectorFromSet,
  validateLabelSelector,
} from '../../../src/api/labels.js';
import { FieldSelectorParseError, parseFieldSelector } from '../../../src/api/fields.js';

const lbl = { app: 'web', tier: 'front', version: '3' };

test('label selector: equality, inequality, sets, existence, numeric comparison', () => {
  const cases: [string, boolean][] = [
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['version>2', true],
    ['version<3', false],
    ['app>2', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['', true],
    ['  app = web , tier in ( front , back )  ', true],
  ];
  for (const [s, want] of cases) assert.equal(parseLabelSelector(s).matches(lbl), want, s);
  assert.equal(parseLabelSelector('app=web').matches(undefined), false);
  assert.equal(parseLabelSelector('!app').matches(undefined), true);
});

test('label selector: String() is normalised like upstream (sorted by key, values sorted)', () => {
  assert.equal(parseLabelSelector('z=1, a in (c,b), !m, x, v>3').toString(), 'a in (b,c),!m,v>3,x,z=1');
  assert.equal(parseLabelSelector('a==b').toString(), 'a==b');
  assert.equal(parseLabelSelector('a=').toString(), 'a=');
  assert.ok(parseLabelSelector('').empty());
  assert.ok(!parseLabelSelector('a').empty());
  assert.equal(parseLabelSelector('a=b,c!=d').requiresExactMatch('a'), 'b');
  assert.equal(parseLabelSelector('a=b,c!=d').requiresExactMatch('c'), undefined);
});

test('label selector: "in" and "notin" may be keys and values', () => {
  assert.ok(parseLabelSelector('in=notin').matches({ in: 'notin' }));
  assert.ok(parseLabelSelector('x in (in,notin)').matches({ x: 'in' }));
});

test('label selector: empty values in sets', () => {
  assert.ok(parseLabelSelector('a in ()').matches({ a: '' }));
  assert.ok(parseLabelSelector('a in (,b)').matches({ a: '' }));
  assert.ok(parseLabelSelector('a=').matches({ a: '' }));
});

test('label selector: parse errors carry upstream messages', () => {
  const cases: [string, string][] = [
    ['a=b,', "found '', expected: identifier after ','"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (b=', "unable to parse requirement: found '=', expected: ',' or ')'"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a>b', "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
    [
      'a=b_',
      "unable to parse requirement: values[0][a]: Invalid value: \"b_\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
    [
      '-x=y',
      "unable to parse requirement: <nil>: Invalid value: \"-x\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
  ];
  for (const [s, msg] of cases) {
    assert.throws(
      () => parseLabelSelector(s),
      (e: unknown) => e instanceof LabelSelectorParseError && e.message === msg,
      `${s} -> ${msg}`,
    );
  }
});

test('metav1.LabelSelector: matchLabels and matchExpressions, nil and empty', () => {
  const s = labelSelectorFromObject({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'back'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'version', operator: 'Exists' },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
    ],
  });
  assert.ok(s.matches(lbl));
  assert.ok(!s.matches({ ...lbl, canary: 'true' }));
  assert.equal(s.toString(), 'app=web,!canary,tier in (back,front),version,zone notin (b)');
  assert.ok(labelSelectorFromObject({}).matches({ any: 'thing' }), '{} selects everything');
  assert.ok(!labelSelectorFromObject(null).matches({}), 'null selects nothing');
  assert.ok(!labelSelectorFromObject(undefined).matches(lbl));
});

test('metav1.LabelSelector validation gives FieldErrors with upstream paths and details', () => {
  const errs = validateLabelSelector(
    {
      matchLabels: { 'bad key!': 'v' },
      matchExpressions: [
        { key: 'a', operator: 'In', values: [] },
        { key: 'b', operator: 'Exists', values: ['x'] },
        { key: 'c', operator: 'Equals', values: ['x'] },
      ],
    },
    'spec.selector',
  );
  assert.deepEqual(
    errs.map((e) => [e.type, e.field]),
    [
      ['FieldValueInvalid', 'spec.selector.matchLabels'],
      ['FieldValueRequired', 'spec.selector.matchExpressions[0].values'],
      ['FieldValueForbidden', 'spec.selector.matchExpressions[1].values'],
      ['FieldValueInvalid', 'spec.selector.matchExpressions[2].operator'],
    ],
  );
  assert.equal(errs[1]!.detail, "must be specified when `operator` is 'In' or 'NotIn'");
  assert.equal(errs[3]!.detail, 'not a valid selector operator');
  assert.throws(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In' }] }, 'spec.selector'),
    (e: unknown) =>
      e instanceof InvalidLabelSelectorError &&
      e.message === "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  );
});

test('selectorFromSet matches exactly the given labels', () => {
  const s = selectorFromSet({ tier: 'front', app: 'web' });
  assert.equal(s.toString(), 'app=web,tier=front');
  assert.ok(s.matches(lbl));
  assert.ok(!s.matches({ app: 'web' }));
  assert.ok(selectorFromSet({}).empty());
});

test('field selector: =, ==, != and missing fields read as empty', () => {
  const fields: Record<string, string> = { 'metadata.name': 'web', 'spec.nodeName': 'n1', 'status.phase': 'Running' };
  const get = (f: string) => fields[f];
  const cases: [string, boolean][] = [
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name!=web', false],
    ['spec.nodeName=n1,status.phase!=Pending', true],
    ['spec.nodeName=', false],
    ['spec.missing=', true],
    ['spec.missing!=x', true],
    ['', true],
  ];
  for (const [s, want] of cases) assert.equal(parseFieldSelector(s).matches(get), want, s);
});

test('field selector: escaping, normalised String(), exact-match lookup', () => {
  const s = parseFieldSelector('metadata.namespace=default,metadata.name=a\\,b\\=c\\\\d');
  assert.equal(s.requirements.find((r) => r.field === 'metadata.name')?.value, 'a,b=c\\d');
  assert.equal(s.toString(), 'metadata.name=a\\,b\\=c\\\\d,metadata.namespace=default');
  assert.equal(s.requiresExactMatch('metadata.namespace'), 'default');
  assert.equal(parseFieldSelector('spec.nodeName!=x').requiresExactMatch('spec.nodeName'), undefined);
  assert.equal(parseFieldSelector('a==b').toString(), 'a=b');
});

test('field selector: errors carry upstream messages', () => {
  const cases: [string, string][] = [
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
  ];
  for (const [s, msg] of cases) {
    assert.throws(
      () => parseFieldSelector(s),
      (e: unknown) => e instanceof FieldSelectorParseError && e.message === msg,
      `${s} -> ${msg}`,
    );
  }
});
