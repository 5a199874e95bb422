import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, PatchError } from '../../../src/apiserver/patch/jsonpatch.js';

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web', 'a/b': 'x', 'c~d': 'y' } },
  spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'busybox' }] },
});

function rejects(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PatchError, `expected PatchError, got ${String(e)}`);
    assert.equal(e.message, message);
    assert.equal(e.status, 422);
    return true;
  });
}

test('add, replace and remove on maps and lists (RFC 6902 4.1-4.3)', () => {
  const out = applyJsonPatch<any>(pod(), [
    { op: 'add', path: '/metadata/labels/tier', value: 'front' },
    { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.25' },
    { op: 'add', path: '/spec/containers/1', value: { name: 'mid', image: 'x' } },
    { op: 'add', path: '/spec/containers/-', value: { name: 'last', image: 'y' } },
    { op: 'remove', path: '/metadata/labels/app' },
  ]);
  assert.deepEqual(out.metadata.labels, { 'a/b': 'x', 'c~d': 'y', tier: 'front' });
  assert.deepEqual(
    out.spec.containers.map((c: any) => c.name),
    ['a', 'mid', 'b', 'last'],
  );
  assert.equal(out.spec.containers[0].image, 'nginx:1.25');
});

test('JSON pointer escapes: ~1 is "/" and ~0 is "~"', () => {
  const out = applyJsonPatch<any>(pod(), [
    { op: 'replace', path: '/metadata/labels/a~1b', value: 'X' },
    { op: 'remove', path: '/metadata/labels/c~0d' },
  ]);
  assert.deepEqual(out.metadata.labels, { app: 'web', 'a/b': 'X' });
});

test('move and copy', () => {
  const out = applyJsonPatch<any>(pod(), [
    { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
    { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' },
  ]);
  assert.deepEqual(out.metadata.labels, { 'a/b': 'x', 'c~d': 'y', name: 'web' });
  assert.equal(out.spec.containers.length, 3);
  out.spec.containers[2].image = 'changed';
  assert.equal(out.spec.containers[0].image, 'nginx', 'copy must not alias the source');
});

test('test op passes on equal values and fails with upstream message', () => {
  assert.doesNotThrow(() => applyJsonPatch(pod(), [{ op: 'test', path: '/spec/containers/1', value: { image: 'busybox', name: 'b' } }]));
  rejects(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]), 'testing value /metadata/name failed: test failed');
});

test('a failing op leaves the input untouched (atomic)', () => {
  const doc = pod();
  assert.throws(() =>
    applyJsonPatch(doc, [
      { op: 'replace', path: '/metadata/name', value: 'changed' },
      { op: 'test', path: '/metadata/name', value: 'web' },
    ]),
  );
  assert.equal(doc.metadata.name, 'web');
});

test('errors read like evanphx/json-patch', () => {
  rejects(() => applyJsonPatch(pod(), [{ op: 'add', path: '/spec/foo/bar', value: 1 }]), 'add operation does not apply: doc is missing path: "/spec/foo/bar": missing value');
  rejects(() => applyJsonPatch(pod(), [{ op: 'remove', path: '/status/phase' }]), 'remove operation does not apply: doc is missing path: "/status/phase": missing value');
  rejects(
    () => applyJsonPatch(pod(), [{ op: 'remove', path: '/metadata/labels/nope' }]),
    "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
  );
  rejects(
    () => applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/5', value: {} }]),
    'replace operation does not apply: doc is missing key: /spec/containers/5: missing value',
  );
  rejects(
    () => applyJsonPatch(pod(), [{ op: 'add', path: '/spec/containers/9', value: {} }]),
    "error in add for path: '/spec/containers/9': Unable to access invalid index: 9: invalid index referenced",
  );
  rejects(() => applyJsonPatch(pod(), [{ op: 'frobnicate', path: '/x' }]), 'Unexpected kind: frobnicate');
  rejects(() => applyJsonPatch(pod(), [{ op: 'move', from: '/nope/x', path: '/y' }]), 'move operation does not apply: doc is missing from path: /nope/x: missing value');
});

test('negative indices count from the end, as upstream allows', () => {
  const out = applyJsonPatch<any>(pod(), [{ op: 'remove', path: '/spec/containers/-1' }]);
  assert.deepEqual(
    out.spec.containers.map((c: any) => c.name),
    ['a'],
  );
});
