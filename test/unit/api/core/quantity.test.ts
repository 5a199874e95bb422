// Quantities are stored and shown in upstream's canonical form: what users see in
// `kubectl get -o yaml` after writing "0.5" or "1024Mi".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quantity, tryParse } from '../../../../src/api/quantity.js';

test('canonical form matches upstream resource.Quantity.String()', () => {
  const cases: [string, string][] = [
    ['100m', '100m'],
    ['0.1', '100m'],
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1.5', '1500m'],
    ['1500', '1500'],
    ['2000', '2k'],
    ['1e3', '1e3'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['3.5Ki', '3584'],
    ['512Ki', '512Ki'],
    ['1000Ki', '1000Ki'],
    ['500M', '500M'],
    ['0', '0'],
    ['0.0000000001', '1n'],
    ['+1', '1'],
  ];
  for (const [input, want] of cases) assert.equal(Quantity.parse(input).toString(), want, input);
});

test('invalid quantities are rejected with upstream message', () => {
  for (const bad of ['abc', '', '1.2.3', '1Gb', '--1']) assert.equal(tryParse(bad), undefined, bad);
  assert.throws(() => Quantity.parse('abc'), /quantities must match the regular expression/);
});

test('comparison and arithmetic are exact across formats', () => {
  assert.equal(Quantity.parse('1Gi').cmp(Quantity.parse('1073741824')), 0);
  assert.equal(Quantity.parse('500m').cmp(Quantity.parse('0.5')), 0);
  assert.equal(Quantity.parse('1').cmp(Quantity.parse('999m')), 1);
  assert.equal(Quantity.parse('100m').add(Quantity.parse('400m')).toString(), '500m');
  assert.equal(Quantity.parse('250m').milliValue(), 250);
  assert.equal(Quantity.parse('1500m').value(), 2);
  assert.equal(Quantity.parse('128Mi').value(), 134217728);
});
