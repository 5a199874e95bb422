import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, formatBadValue, invalid } from '../../../src/api/validation/field.js';

test('bad values print the way Go prints them in field errors', () => {
  assert.equal(formatBadValue('b c'), '"b c"');
  assert.equal(formatBadValue(3), '3');
  assert.equal(formatBadValue(null), 'null');
  assert.equal(formatBadValue({ tier: 'x', app: 'web' }), 'map[string]string{"app":"web", "tier":"x"}');
  assert.equal(formatBadValue(['ReadWriteOnce', 'Bogus']), '[]string{"ReadWriteOnce", "Bogus"}');
  assert.equal(
    fieldErrorMessage(invalid('spec.template.metadata.labels', { app: 'b' }, '`selector` does not match template `labels`')),
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`',
  );
});
