// kubectl e2e: the errors users meet, as kubectl prints them — AlreadyExists, NotFound,
// Invalid (422 with field paths), Conflict on a stale resourceVersion, a missing namespace,
// an unknown resource type. kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl errors', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-err-${v.replace('.', '-')}`;

    test(`kubectl ${v}: AlreadyExists and NotFound`, async () => {
      const f = await c.file(`${v}/ns.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: ${ns}}\n`);
      await c.ok(v, ['create', '-f', f]);
      const dup = await c.kubectl(v, ['create', '-f', f]);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, new RegExp(`Error from server \\(AlreadyExists\\): error when creating ".*ns\\.yaml": namespaces "${ns}" already exists`));
      assert.match(dup.stderr, /Error from server \(AlreadyExists\): error when creating ".*ns\.yaml": configmaps "dup" already exists/);
      const dupDeploy = await c.kubectl(v, ['create', 'deployment', 'd', '--image=nginx', '-n', ns]);
      assert.equal(dupDeploy.code, 0, dupDeploy.stderr);
      const again = await c.kubectl(v, ['create', 'deployment', 'd', '--image=nginx', '-n', ns]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /error: failed to create deployment: deployments\.apps "d" already exists/);

      const nf = await c.kubectl(v, ['get', 'pod', 'ghost', '-n', ns]);
      assert.equal(nf.code, 1);
      assert.equal(nf.stderr.trim(), 'Error from server (NotFound): pods "ghost" not found');
      const nfGroup = await c.kubectl(v, ['get', 'deploy', 'ghost', '-n', ns]);
      assert.equal(nfGroup.stderr.trim(), 'Error from server (NotFound): deployments.apps "ghost" not found');
      const del = await c.kubectl(v, ['delete', 'cm', 'ghost', '-n', ns]);
      assert.equal(del.code, 1);
      assert.equal(del.stderr.trim(), 'Error from server (NotFound): configmaps "ghost" not found');
      const ign = await c.kubectl(v, ['delete', 'cm', 'ghost', '-n', ns, '--ignore-not-found']);
      assert.equal(ign.code, 0);
    });

    test(`kubectl ${v}: Invalid is a 422 naming the field`, async () => {
      const bad = await c.file(`${v}/bad.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: ${ns}}\n`);
      const r1 = await c.kubectl(v, ['create', '-f', bad]);
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /^The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/m);
      const pod = await c.file(`${v}/pod.yaml`, `apiVersion: v1\nkind: Pod\nmetadata: {name: noimage, namespace: ${ns}}\nspec:\n  containers:\n  - name: c\n`);
      const r2 = await c.kubectl(v, ['apply', '-f', pod]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /The Pod "noimage" is invalid: spec\.containers\[0\]\.image: Required value/);
      const dep = await c.file(
        `${v}/dep.yaml`,
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: mismatch, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers: [{name: c, image: nginx}]\n`,
      );
      const r3 = await c.kubectl(v, ['create', '-f', dep]);
      assert.equal(r3.code, 1);
      // Upstream renders the bad value Go-style (map[string]string{"app":"b"}); the field path and detail are what matter here.
      assert.match(r3.stderr, /The Deployment "mismatch" is invalid: spec\.template\.metadata\.labels: Invalid value: .*"app":"b".*: `selector` does not match template `labels`/);
      // The raw Status: reason Invalid, code 422, causes with field paths.
      const raw = await c.kubectl(v, ['create', '-f', bad, '-v=8']);
      assert.match(raw.stderr, /422 Unprocessable Entity/);
      // (1.32+ log the body with escaped quotes.)
      assert.match(raw.stderr, /\\?"reason\\?":\\?"Invalid\\?"/);
      assert.match(raw.stderr, /\\?"field\\?":\\?"metadata\.name\\?"/);
    });

    test(`kubectl ${v}: replace with a stale resourceVersion conflicts`, async () => {
      const y = await c.ok(v, ['get', 'cm', 'dup', '-n', ns, '-o', 'yaml']);
      await c.ok(v, ['label', 'cm', 'dup', '-n', ns, 'bump=1']);
      const f = await c.file(`${v}/stale.yaml`, y);
      const r = await c.kubectl(v, ['replace', '-f', f]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /Error from server \(Conflict\): error when replacing ".*stale\.yaml": Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again/,
      );
      // Without a resourceVersion (replace --force would delete; a plain replace of a file with none) it wins.
      const f2 = await c.file(`${v}/fresh.yaml`, y.replace(/^ {2}resourceVersion: .*\n/m, ''));
      assert.equal(await c.ok(v, ['replace', '-f', f2]), 'configmap/dup replaced\n');
    });

    test(`kubectl ${v}: creating in a missing namespace`, async () => {
      const f = await c.file(`${v}/nons.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: nowhere-${ns}}\n`);
      const r = await c.kubectl(v, ['create', '-f', f]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`Error from server \\(NotFound\\): error when creating ".*nons\\.yaml": namespaces "nowhere-${ns}" not found`));
      const gen = await c.kubectl(v, ['create', 'configmap', 'x', '-n', `nowhere-${ns}`]);
      assert.equal(gen.code, 1);
      assert.match(gen.stderr, new RegExp(`namespaces "nowhere-${ns}" not found`));
      // Listing in a namespace that does not exist is simply empty.
      const list = await c.kubectl(v, ['get', 'pods', '-n', `nowhere-${ns}`]);
      assert.equal(list.code, 0);
      assert.equal(list.stderr.trim(), `No resources found in nowhere-${ns} namespace.`);
    });

    test(`kubectl ${v}: unknown fields are rejected (fieldValidation=Strict), warned with --validate=warn`, async () => {
      const pod = await c.file(
        `${v}/typo.yaml`,
        `apiVersion: v1\nkind: Pod\nmetadata: {name: typo, namespace: ${ns}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    imagePullPolice: Always\n`,
      );
      const r = await c.kubectl(v, ['create', '-f', pod]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /Error from server \(BadRequest\): error when creating ".*typo\.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec\.containers\[0\]\.imagePullPolice"/,
      );
      const cm = await c.file(`${v}/extra.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: ${ns}}\ndata: {a: b}\nfoo: bar\n`);
      const warn = await c.kubectl(v, ['create', '-f', cm, '--validate=warn']);
      assert.equal(warn.code, 0, warn.stderr);
      assert.match(warn.stderr, /Warning: unknown field "foo"/);
      assert.equal((await c.kubectl(v, ['apply', '-f', cm, '--validate=false'])).code, 0);
      // apply of an existing object: the patch is checked too.
      const dep = await c.file(
        `${v}/dep-ok.yaml`,
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: strict, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n    spec:\n      containers: [{name: c, image: nginx}]\n`,
      );
      await c.ok(v, ['apply', '-f', dep]);
      await c.file(`${v}/dep-ok.yaml`, (await c.ok(v, ['apply', '-f', dep, '--dry-run=client', '-o', 'yaml'])).replace('- image: nginx', '- image: nginx\n        imagePullPolice: Always'));
      const bad = await c.kubectl(v, ['apply', '-f', dep]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolice"/);
    });

    test(`kubectl ${v}: unknown resource type`, async () => {
      const r = await c.kubectl(v, ['get', 'flurbs']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), 'error: the server doesn\'t have a resource type "flurbs"');
      const raw = await c.kubectl(v, ['get', '--raw', '/api/v1/flurbs']);
      assert.equal(raw.code, 1);
      assert.match(raw.stderr, /the server could not find the requested resource/);
    });
  }
});
