// Static pods: the file pod source (manifest → static pod: name, namespace, UID hash, annotations,
// tolerations, defaults, validation; directory reads; polling and config.seen) and the mirror
// pod client (what the API receives, AlreadyExists, deletes with a UID precondition).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONFIG_FIRST_SEEN_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  CONFIG_MIRROR_ANNOTATION,
  CONFIG_SOURCE_ANNOTATION,
  FileSource,
  isMirrorPod,
  isStaticPod,
  ManifestError,
  podFromManifest,
  readManifestDir,
} from '../../src/kubelet/config/file.js';
import { isMirrorPodOf, MirrorClient } from '../../src/kubelet/mirror.js';
import { StatusError, type Client } from '../../src/client/client.js';
import type { KObject } from '../../src/api/types.js';
import type { Logger } from '../../src/util/log.js';

const WEB = `apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels:
    role: myrole
spec:
  containers:
  - name: web
    image: nginx:1.20
    ports:
    - containerPort: 80
    resources:
      limits:
        cpu: 100m
`;

test('a manifest becomes a static pod of this node, with upstream defaults and annotations', () => {
  const pod = podFromManifest(WEB, '/etc/kubernetes/manifests/web.yaml', 'node-1');
  assert.equal(pod.metadata.name, 'static-web-node-1');
  assert.equal(pod.metadata.namespace, 'default');
  assert.equal(pod.spec.nodeName, 'node-1');
  assert.match(pod.metadata.uid!, /^[0-9a-f]{32}$/);
  assert.equal(pod.metadata.annotations![CONFIG_HASH_ANNOTATION], pod.metadata.uid);
  assert.deepEqual(pod.metadata.labels, { role: 'myrole' });
  assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
  assert.deepEqual(pod.status, { phase: 'Pending' });
  // v1 scheme defaults, not admission's: no service account is given to a static pod.
  assert.equal(pod.spec.restartPolicy, 'Always');
  assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
  assert.equal(pod.spec.enableServiceLinks, true);
  assert.equal(pod.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(pod.spec.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(pod.spec.containers[0].ports[0].protocol, 'TCP');
  assert.deepEqual(pod.spec.containers[0].resources.requests, { cpu: '100m' });
  assert.equal(pod.spec.serviceAccountName, undefined);
  assert.equal(isStaticPod(pod), false, 'config.source is added by the source, not by parsing');
});

test('the UID hashes node, file and the decoded pod: stable for the same pod, new when it changes', () => {
  const uid = (data: string, file = '/m/web.yaml', node = 'n1') => podFromManifest(data, file, node).metadata.uid;
  const a = uid(WEB);
  assert.equal(uid(WEB), a);
  // Same object in another notation (JSON, reordered keys, comments): same UID.
  const json = JSON.stringify({ kind: 'Pod', apiVersion: 'v1', spec: { containers: [{ image: 'nginx:1.20', name: 'web', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '100m' } } }] }, metadata: { labels: { role: 'myrole' }, name: 'static-web' } });
  assert.equal(uid(json), a);
  assert.equal(uid(`# a comment\n${WEB}`), a);
  assert.notEqual(uid(WEB.replace('nginx:1.20', 'nginx:1.21')), a);
  assert.notEqual(uid(WEB, '/m/other.yaml'), a);
  assert.notEqual(uid(WEB, '/m/web.yaml', 'n2'), a);
  // A UID written in the manifest is kept.
  assert.equal(uid(WEB.replace('  name: static-web\n', '  name: static-web\n  uid: fixed-uid\n')), 'fixed-uid');
  // The namespace is kept when given.
  assert.equal(podFromManifest(WEB.replace('  name: static-web\n', '  name: static-web\n  namespace: kube-system\n'), '/m/w', 'n1').metadata.namespace, 'kube-system');
});

test('an existing NoExecute-everything toleration is not duplicated; others are kept', () => {
  const data = WEB + '  tolerations:\n  - operator: Exists\n    effect: NoExecute\n  - key: a\n    operator: Exists\n';
  const pod = podFromManifest(data, '/m/w', 'n1');
  assert.deepEqual(pod.spec.tolerations, [{ key: 'a', operator: 'Exists' }, { operator: 'Exists', effect: 'NoExecute' }]);
});

test('what is not a valid v1 Pod is refused with a reason', () => {
  const bad = (data: string, re: RegExp) => assert.throws(() => podFromManifest(data, '/m/x.yaml', 'n1'), (e: unknown) => e instanceof ManifestError && re.test((e as Error).message));
  bad('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n', /couldn't parse as pod/);
  bad('metadata: {name: d}\nspec: {}\n', /Object 'Kind' is missing/);
  bad('{{{ not yaml', /couldn't parse as pod/);
  bad('apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: [{name: c, image: busybox}]}\n', /metadata.name: Required value/);
  bad('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n', /invalid pod: .*spec.containers: Required value/);
  bad('apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: busybox}]}\n', /metadata.name: Invalid value/);
});

test('readManifestDir: every regular non-hidden file, sorted; bad files and directories are reported, not fatal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-static-'));
  try {
    writeFileSync(join(dir, 'b.yaml'), WEB.replace('static-web', 'b'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
    writeFileSync(join(dir, 'noext'), WEB.replace('static-web', 'c'));
    writeFileSync(join(dir, '.hidden.yaml'), WEB.replace('static-web', 'hidden'));
    writeFileSync(join(dir, 'broken.yaml'), 'kind: Pod\napiVersion: v1\nspec: {containers: []}\n');
    mkdirSync(join(dir, 'sub'));
    const { pods, errors } = readManifestDir(dir, 'n1');
    assert.deepEqual(pods.map((p) => p.pod.metadata.name), ['a-n1', 'b-n1', 'c-n1']);
    assert.deepEqual(errors.map((e) => e.file.slice(dir.length + 1)), ['broken.yaml', 'sub']);
    assert.match(errors[1]!.error, /Not recursing into manifest path/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

class FakeClock {
  t = Date.parse('2025-01-01T00:00:00Z');
  timers: { at: number; fn: () => void; dead: boolean }[] = [];
  now = () => new Date(this.t);
  setTimeout = (fn: () => void, ms: number) => {
    const e = { at: this.t + ms, fn, dead: false };
    this.timers.push(e);
    return { cancel: () => (e.dead = true) };
  };
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.dead && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.dead = true;
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

function memLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const fn = (m: string, f?: Record<string, unknown>) => void lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  const l = { lines, info: fn, warn: fn, error: fn, debug: fn, with: () => l };
  return l;
}

test('FileSource: polls every 20 s, stamps config.source and config.seen, logs bad files once, survives a missing dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-static-'));
  const clock = new FakeClock();
  const log = memLog();
  let changes = 0;
  const src = new FileSource({ dir, nodeName: 'n1', log, clock, onChange: () => changes++ });
  try {
    writeFileSync(join(dir, 'web.yaml'), WEB);
    src.start();
    assert.equal(changes, 1);
    const [p] = src.pods();
    assert.equal(p!.metadata.annotations![CONFIG_SOURCE_ANNOTATION], 'file');
    assert.equal(p!.metadata.annotations![CONFIG_FIRST_SEEN_ANNOTATION], '2025-01-01T00:00:00.000Z');
    assert.ok(isStaticPod(p!));
    const uid = p!.metadata.uid;

    // Nothing changed: no change notification, the first-seen time is kept.
    clock.advance(20_000);
    assert.equal(changes, 1);
    assert.equal(src.pods()[0]!.metadata.annotations![CONFIG_FIRST_SEEN_ANNOTATION], '2025-01-01T00:00:00.000Z');

    // A bad file is logged once, however many polls see it; the good pod stays.
    writeFileSync(join(dir, 'bad.yaml'), 'kind: Pod\n');
    clock.advance(20_000);
    clock.advance(20_000);
    assert.equal(log.lines.filter((l) => l.startsWith('Could not process manifest file')).length, 1);
    assert.equal(src.pods().length, 1);

    // Edit: a new UID, seen now.
    writeFileSync(join(dir, 'web.yaml'), WEB.replace('nginx:1.20', 'nginx:1.21'));
    clock.advance(20_000);
    assert.equal(changes, 2);
    const [q] = src.pods();
    assert.notEqual(q!.metadata.uid, uid);
    assert.equal(q!.metadata.name, 'static-web-n1');
    assert.equal(q!.metadata.annotations![CONFIG_FIRST_SEEN_ANNOTATION], new Date(clock.t).toISOString());

    // Two files for one pod name: the first by file name wins.
    writeFileSync(join(dir, 'web2.yaml'), WEB);
    clock.advance(20_000);
    assert.deepEqual(src.pods().map((x) => x.metadata.uid), [q!.metadata.uid]);
    unlinkSync(join(dir, 'web2.yaml'));

    // Removal, then the whole directory gone: no pods, no crash.
    unlinkSync(join(dir, 'web.yaml'));
    clock.advance(20_000);
    assert.equal(src.pods().length, 0);
    rmSync(dir, { recursive: true, force: true });
    clock.advance(20_000);
    assert.equal(src.pods().length, 0);
    assert.ok(log.lines.some((l) => l.startsWith('Unable to read config path')));
  } finally {
    src.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirror pods: a copy with config.mirror and the Node as controller owner, without identity or status', async () => {
  const pod = podFromManifest(WEB, '/m/web.yaml', 'n1');
  pod.metadata.annotations![CONFIG_SOURCE_ANNOTATION] = 'file';
  const requests: { method: string; path: string; body?: unknown }[] = [];
  let existing: KObject | undefined;
  const client: Client = {
    async request<T>(method: string, path: string, opts?: { body?: unknown }) {
      requests.push({ method, path, body: opts?.body });
      if (method === 'POST' && existing) return { status: 409, body: { reason: 'AlreadyExists', message: 'exists' } as T };
      if (method === 'GET') return { status: 200, body: existing as T };
      if (method === 'DELETE') return { status: 409, body: { reason: 'Conflict', message: 'Precondition failed' } as T };
      return { status: 201, body: { ...(opts?.body as object), metadata: { ...(opts?.body as KObject).metadata, uid: 'api-uid' } } as T };
    },
    watch: () => ({ stop() {} }),
  };
  const mc = new MirrorClient(client, 'n1', async () => 'node-uid');
  const m = (await mc.create(pod))!;
  const sent = requests[0]!.body as KObject;
  assert.equal(requests[0]!.path, '/api/v1/namespaces/default/pods');
  assert.equal(sent.metadata.uid, undefined);
  assert.equal(sent.status, undefined);
  assert.equal(sent.metadata.name, 'static-web-n1');
  assert.equal(sent.metadata.annotations![CONFIG_MIRROR_ANNOTATION], pod.metadata.uid);
  assert.equal(sent.metadata.annotations![CONFIG_HASH_ANNOTATION], pod.metadata.uid);
  assert.deepEqual(sent.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }]);
  assert.equal(sent.spec.nodeName, 'n1');
  assert.ok(isMirrorPod(m) && isMirrorPodOf(m, pod));
  // Another version of the pod is not mirrored by it.
  const newer = podFromManifest(WEB.replace('1.20', '1.21'), '/m/web.yaml', 'n1');
  assert.equal(isMirrorPodOf(m, newer), false);

  // AlreadyExists: fine when it is this pod's mirror, an error otherwise.
  existing = m;
  assert.equal((await mc.create(pod))!.metadata.uid, 'api-uid');
  await assert.rejects(mc.create(newer), (e: unknown) => e instanceof StatusError && e.reason === 'AlreadyExists');

  // Deletes are immediate and guarded by the mirror's UID; a lost race is not an error.
  requests.length = 0;
  assert.equal(await mc.delete('default', 'static-web-n1', 'api-uid'), false);
  assert.deepEqual(requests[0]!.body, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'api-uid' } });
  // No node yet: no mirror.
  await assert.rejects(new MirrorClient(client, 'n1', async () => undefined).create(pod), /failed to get node UID/);
});
