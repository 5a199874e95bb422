// kubectl e2e: server-side field validation. kubectl (1.27+) sends fieldValidation=Strict by
// default because our OpenAPI v3 advertises the parameter: a misspelt field fails and is named;
// --validate=warn prints the server's warning and applies; --validate=false applies and the
// unknown field is dropped from what is stored. kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

function manifest(ns: string, name: string, replicas = 1): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolcy: Always
`;
}

const FIELD = 'spec.template.spec.containers[0].imagePullPolcy';

describe('kubectl field validation', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-fv-${v.replace('.', '-')}`;

    test(`kubectl ${v}: strict (default) fails and names the field; warn applies with a warning; false drops it`, async () => {
      await c.ok(v, ['create', 'namespace', ns]);
      const f = await c.file(`${v}/x.yaml`, manifest(ns, 'web'));

      const strict = await c.kubectl(v, ['apply', '-f', f]);
      assert.equal(strict.code, 1);
      assert.equal(
        strict.stderr.trim(),
        `Error from server (BadRequest): error when creating "${f}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "${FIELD}"`,
      );
      const none = await c.kubectl(v, ['get', 'deploy', 'web', '-n', ns]);
      assert.equal(none.code, 1);

      const warn = await c.kubectl(v, ['apply', '-f', f, '--validate=warn']);
      assert.equal(warn.code, 0, warn.stderr);
      assert.equal(warn.stdout.trim(), 'deployment.apps/web created');
      assert.equal(warn.stderr.trim(), `Warning: unknown field "${FIELD}"`);

      // Applying again to the existing object: a strategic merge patch, checked the same way.
      const f2 = await c.file(`${v}/x2.yaml`, manifest(ns, 'web', 2));
      const patch = await c.kubectl(v, ['apply', '-f', f2]);
      assert.equal(patch.code, 1);
      assert.match(patch.stderr, /^The request is invalid: patch: Invalid value: "map\[metadata:map\[annotations:map\[kubectl\.kubernetes\.io\/last-applied-configuration:/);
      assert.ok(patch.stderr.trim().endsWith(`: strict decoding error: unknown field "${FIELD}"`), patch.stderr);

      const off = await c.kubectl(v, ['apply', '-f', f2, '--validate=false']);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(off.stdout.trim(), 'deployment.apps/web configured');
      assert.equal(off.stderr, '');
      const yaml = await c.ok(v, ['get', 'deploy', 'web', '-n', ns, '-o', 'yaml']);
      assert.match(yaml, /replicas: 2/);
      // Only the last-applied annotation (a string) still mentions the misspelt field.
      const spec = yaml.slice(yaml.indexOf('\nspec:'));
      assert.ok(!spec.includes('imagePullPolcy'), spec);
      assert.match(spec, /imagePullPolicy: Always/);

      // create and replace are strict too.
      const f3 = await c.file(`${v}/x3.yaml`, manifest(ns, 'other'));
      const create = await c.kubectl(v, ['create', '-f', f3]);
      assert.equal(create.code, 1);
      assert.match(create.stderr, /Error from server \(BadRequest\): error when creating ".*x3\.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field/);
      const created = await c.kubectl(v, ['create', '-f', f3, '--validate=false']);
      assert.equal(created.code, 0, created.stderr);
      const replace = await c.kubectl(v, ['replace', '-f', f3]);
      assert.equal(replace.code, 1);
      assert.match(replace.stderr, /Error from server \(BadRequest\): error when replacing ".*x3\.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field/);
    });
  }
});
