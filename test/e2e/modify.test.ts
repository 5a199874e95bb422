// kubectl e2e: changing objects — edit, label, annotate, patch (json, merge, strategic),
// replace, scale, delete (name, -f, -l, --all, --cascade=orphan) — with kubectl 1.27, 1.32, 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl edit/label/annotate/patch/replace/scale/delete', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-mod-${v.replace('.', '-')}`;
    const get = (args: string[]) => c.ok(v, ['get', ...args, '-n', ns]);

    test(`kubectl ${v}: setup`, async () => {
      const f = await c.file(
        `${v}/objs.yaml`,
        `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf, namespace: ${ns}}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.25"}
      - {name: sidecar, image: "busybox:1.36"}
`,
      );
      await c.ok(v, ['apply', '-f', f]);
    });

    test(`kubectl ${v}: edit with $EDITOR changes the object`, async () => {
      const editor = await c.file(`${v}/editor.sh`, `#!/bin/sh\nsed -i 's/a: "1"/a: edited/' "$1"\n`);
      const out = await c.ok(v, ['edit', 'cm', 'conf', '-n', ns], { env: { EDITOR: editor } });
      assert.equal(out, 'configmap/conf edited\n');
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.data.a}']), 'edited');
      // An editor that changes nothing: "Edit cancelled, no changes made."
      const noop = await c.file(`${v}/noop.sh`, '#!/bin/sh\ntrue\n');
      const r = await c.kubectl(v, ['edit', 'cm', 'conf', '-n', ns], { env: { EDITOR: noop } });
      assert.equal(r.code, 0);
      assert.match(r.stdout + r.stderr, /Edit cancelled, no changes made\./);
    });

    test(`kubectl ${v}: label and annotate add, refuse without --overwrite, overwrite, remove`, async () => {
      assert.equal(await c.ok(v, ['label', 'cm', 'conf', '-n', ns, 'team=a']), 'configmap/conf labeled\n');
      const refused = await c.kubectl(v, ['label', 'cm', 'conf', '-n', ns, 'team=b']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /error: 'team' already has a value \(a\), and --overwrite is false/);
      assert.equal(await c.ok(v, ['label', 'cm', 'conf', '-n', ns, 'team=b', '--overwrite']), 'configmap/conf labeled\n');
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.metadata.labels.team}']), 'b');
      assert.equal(await c.ok(v, ['label', 'cm', 'conf', '-n', ns, 'team-']), 'configmap/conf unlabeled\n');
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.metadata.labels}']), '');

      // kubectl 1.27 itself prints "annotate" (its own printer's wording).
      assert.equal(await c.ok(v, ['annotate', 'cm', 'conf', '-n', ns, 'note=hello']), v === '1.27' ? 'configmap/conf annotate\n' : 'configmap/conf annotated\n');
      const refusedA = await c.kubectl(v, ['annotate', 'cm', 'conf', '-n', ns, 'note=bye']);
      assert.equal(refusedA.code, 1);
      assert.match(refusedA.stderr, /error: --overwrite is false but found the following declared annotation\(s\): 'note' already has a value \(hello\)/);
      await c.ok(v, ['annotate', 'cm', 'conf', '-n', ns, 'note=bye', '--overwrite']);
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.metadata.annotations.note}']), 'bye');
      await c.ok(v, ['annotate', 'cm', 'conf', '-n', ns, 'note-']);
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.metadata.annotations.note}']), '');
      // Labels on many objects by selector.
      await c.ok(v, ['label', 'cm', '--all', '-n', ns, 'bulk=yes']);
      assert.match(await get(['cm', '-l', 'bulk=yes', '-o', 'name']), /configmap\/conf/);
    });

    test(`kubectl ${v}: patch --type merge, json and strategic`, async () => {
      assert.equal(await c.ok(v, ['patch', 'cm', 'conf', '-n', ns, '--type', 'merge', '-p', '{"data":{"b":"merged"}}']), 'configmap/conf patched\n');
      assert.equal(await c.ok(v, ['patch', 'cm', 'conf', '-n', ns, '--type', 'json', '-p', '[{"op":"add","path":"/data/c","value":"json"},{"op":"remove","path":"/data/a"}]']), 'configmap/conf patched\n');
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.data}']), '{"b":"merged","c":"json"}');
      // A patch that changes nothing.
      assert.equal(await c.ok(v, ['patch', 'cm', 'conf', '-n', ns, '--type', 'merge', '-p', '{"data":{"b":"merged"}}']), 'configmap/conf patched (no change)\n');
      // Strategic merge (the default): containers merge by name, the sidecar stays.
      await c.ok(v, ['patch', 'deploy', 'web', '-n', ns, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}']);
      assert.equal(await get(['deploy', 'web', '-o', 'jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}']), 'nginx=nginx:1.26 sidecar=busybox:1.36 ');
      assert.equal(await get(['deploy', 'web', '-o', 'jsonpath={.metadata.generation}']), '2');
      // A failing json patch test op is reported.
      const bad = await c.kubectl(v, ['patch', 'cm', 'conf', '-n', ns, '--type', 'json', '-p', '[{"op":"test","path":"/data/b","value":"nope"}]']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /testing value \/data\/b failed/);
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.data.b}']), 'merged');
    });

    test(`kubectl ${v}: replace updates, and a stale resourceVersion conflicts`, async () => {
      const y = await get(['cm', 'conf', '-o', 'yaml']);
      const f = await c.file(`${v}/conf.yaml`, y.replace(/^ {2}b: merged$/m, '  b: replaced'));
      assert.equal(await c.ok(v, ['replace', '-f', f]), 'configmap/conf replaced\n');
      assert.equal(await get(['cm', 'conf', '-o', 'jsonpath={.data.b}']), 'replaced');
      const stale = await c.kubectl(v, ['replace', '-f', f]);
      assert.equal(stale.code, 1);
      assert.match(
        stale.stderr,
        /Error from server \(Conflict\): error when replacing ".*conf\.yaml": Operation cannot be fulfilled on configmaps "conf": the object has been modified; please apply your changes to the latest version and try again/,
      );
    });

    test(`kubectl ${v}: scale sets spec.replicas through the scale subresource`, async () => {
      assert.equal(await c.ok(v, ['scale', 'deploy', 'web', '-n', ns, '--replicas=3']), 'deployment.apps/web scaled\n');
      assert.equal(await get(['deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
      const cur = await c.kubectl(v, ['scale', 'deploy', 'web', '-n', ns, '--replicas=1', '--current-replicas=2']);
      assert.equal(cur.code, 1);
      assert.match(cur.stderr, /Expected replicas to be 2, was 3/);
      const neg = await c.kubectl(v, ['scale', 'deploy', 'web', '-n', ns, '--replicas=-1']);
      assert.equal(neg.code, 1);
      assert.equal(await get(['deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
    });

    test(`kubectl ${v}: delete by name, -l, --all, -f`, async () => {
      const mk = (name: string, labels = '') =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${labels ? `  labels: {${labels}}\n` : ''}data: {}\n---\n`;
      const f = await c.file(`${v}/del.yaml`, mk('d1', 'grp: x') + mk('d2', 'grp: x') + mk('d3') + mk('d4'));
      await c.ok(v, ['apply', '-f', f]);
      assert.equal(await c.ok(v, ['delete', 'cm', 'd3', '-n', ns]), 'configmap "d3" deleted\n');
      assert.equal(await c.ok(v, ['delete', 'cm', '-l', 'grp=x', '-n', ns]), 'configmap "d1" deleted\nconfigmap "d2" deleted\n');
      const gone = await c.kubectl(v, ['get', 'cm', 'd1', '-n', ns]);
      assert.match(gone.stderr, /Error from server \(NotFound\): configmaps "d1" not found/);
      // -f: objects that are gone are NotFound, the rest are deleted.
      const byFile = await c.kubectl(v, ['delete', '-f', f]);
      assert.equal(byFile.code, 1);
      assert.equal(byFile.stdout, 'configmap "d4" deleted\n');
      assert.match(byFile.stderr, /Error from server \(NotFound\): error when deleting ".*del\.yaml": configmaps "d1" not found/);
      assert.equal((await c.ok(v, ['delete', '-f', f, '--ignore-not-found'])), '');
      // --all in the namespace.
      await c.ok(v, ['apply', '-f', f]);
      const all = await c.ok(v, ['delete', 'cm', '--all', '-n', ns]);
      for (const n of ['d1', 'd2', 'd3', 'd4', 'conf']) assert.match(all, new RegExp(`^configmap "${n}" deleted$`, 'm'));
      const left = (await get(['cm', '-o', 'name'])).trim().split('\n').filter(Boolean);
      assert.ok(left.every((n) => n === 'configmap/kube-root-ca.crt'), left.join(' '));
    });

    test(`kubectl ${v}: delete --cascade=orphan leaves the ReplicaSets behind`, async () => {
      const out = await c.kubectl(v, ['delete', 'deploy', 'web', '-n', ns, '--cascade=orphan', '--timeout=20s']);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'deployment.apps "web" deleted\n');
      const gone = await c.kubectl(v, ['get', 'deploy', 'web', '-n', ns]);
      assert.match(gone.stderr, /NotFound/);
      // Any ReplicaSet the deployment controller made is orphaned, not deleted: no ownerReferences remain.
      const rs = JSON.parse(await get(['rs', '-o', 'json'])) as { items: { metadata: { ownerReferences?: unknown[] } }[] };
      for (const r of rs.items) assert.equal(r.metadata.ownerReferences, undefined);
    });
  }
});
