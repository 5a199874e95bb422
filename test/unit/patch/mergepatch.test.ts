import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, createMergePatch } from '../../../src/apiserver/patch/mergepatch.js';

test('RFC 7386 appendix A examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [doc, patch, want] of cases) assert.deepEqual(applyMergePatch(doc, patch), want, JSON.stringify({ doc, patch }));
});

test('lists are replaced whole, null deletes a label (kubectl patch --type=merge)', () => {
  const dep = { metadata: { labels: { app: 'a', old: 'x' } }, spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } };
  const out = applyMergePatch<any>(dep, { metadata: { labels: { old: null } }, spec: { template: { spec: { containers: [{ name: 'c' }] } } } });
  assert.deepEqual(out.metadata.labels, { app: 'a' });
  assert.deepEqual(out.spec.template.spec.containers, [{ name: 'c' }]);
  assert.deepEqual(dep.metadata.labels, { app: 'a', old: 'x' }, 'input untouched');
});

test('createMergePatch round-trips', () => {
  const a = { metadata: { name: 'x', labels: { a: '1', b: '2' } }, spec: { replicas: 1, ports: [1, 2] } };
  const b = { metadata: { name: 'x', labels: { a: '1', c: '3' } }, spec: { replicas: 3, ports: [1, 2] } };
  const p = createMergePatch(a, b);
  assert.deepEqual(p, { metadata: { labels: { b: null, c: '3' } }, spec: { replicas: 3 } });
  assert.deepEqual(applyMergePatch(a, p), b);
});
