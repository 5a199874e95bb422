// Images through a real registry: `kts server --container-runtime cri --registry-config FILE`
// with a local `docker-registry` as the docker.io mirror (k3s registries.yaml), driven by
// kubectl 1.32. Only the sandbox image is local (kts builds it); every other image is pulled:
// short names (busybox:1.28, ikubernetes/myapp:v1) through the mirror, pull policies
// (IfNotPresent, Always, Never → ErrImageNeverPull), a missing tag (ErrImagePull, then
// ImagePullBackOff, with upstream's events), and a private registry behind HTTP Basic auth
// that needs a docker-registry secret in imagePullSecrets.
// Needs root, containerd, runc, CNI plugins, busybox-static and docker-registry; skips otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goDuration, lookupPullCredentials, repositoryOf } from '../../src/kubelet/podworkers.js';
import { containerdAvailable, createCRIRuntime } from '../../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../../src/kubelet/runtime/cri/cni.js';
import { silentLogger } from '../../src/util/log.js';
import { skipReason as kubectlMissing, startCluster, type Cluster } from '../e2e/harness.js';
import { PAUSE, imagesUnavailable, testImages } from './images.js';
import { pushImages, registryUnavailable, startAuthProxy, startRegistry, type AuthProxy, type Registry } from './registry.js';
import { cleanupCRI } from './cleanup.js';

const V = '1.32';
// our own bridge and pod range, apart from the other container tests
const BRIDGE = 'ktsreg0';
const CLUSTER_CIDR = '10.246.0.0/16';
const POD_CIDR = '10.246.0.0/24';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI)';
  if (!containerdAvailable()) return 'containerd is not installed (Debian package containerd)';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc is not installed (Debian package runc)';
  }
  if (!findCNIBinDir()) return 'no CNI plugins (Debian package containernetworking-plugins)';
  const why = imagesUnavailable() ?? registryUnavailable();
  if (why) return why;
  try {
    execFileSync('ip', ['link', 'show', BRIDGE], { stdio: 'ignore' });
    if (execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim()) return `the bridge ${BRIDGE} is in use (another run of this test?)`;
  } catch {
    /* free */
  }
  return kubectlMissing();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000, describe?: () => Promise<string>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${describe ? `\n${await describe()}` : ''}`);
    await sleep(250);
  }
}

/** Everything this file's kts left on the machine goes (test/containers/cleanup.ts). */
const cleanup = (root: string) => cleanupCRI(root, BRIDGE, POD_CIDR);

test('pull secrets: the keyring picks credentials by registry, as upstream', () => {
  assert.equal(repositoryOf('busybox:1.28'), 'docker.io/library/busybox');
  assert.equal(repositoryOf('127.0.0.1:5000/private/app:v1'), '127.0.0.1:5000/private/app');
  const hub = { 'https://index.docker.io/v1/': { username: 'x', password: 'y', auth: Buffer.from('hub:pw').toString('base64') } };
  const local = { '127.0.0.1:5000': { username: 'u', password: 'p' }, 'quay.io/coreos': { username: 'q1' }, 'quay.io': { username: 'q2' } };
  // `kubectl create secret docker-registry` without --docker-server writes the Docker Hub key; auth wins over username/password
  assert.deepEqual(lookupPullCredentials('busybox:1.28', [hub, local]), [{ username: 'hub', password: 'pw' }]);
  assert.deepEqual(lookupPullCredentials('127.0.0.1:5000/private/app:v1', [hub, local]), [{ username: 'u', password: 'p' }]);
  assert.deepEqual(lookupPullCredentials('127.0.0.1:5001/private/app:v1', [hub, local]), [], 'another port is another registry');
  // the more specific path first, then the host
  assert.deepEqual(lookupPullCredentials('quay.io/coreos/etcd:v3', [local]).map((c) => c.username), ['q1', 'q2']);
  assert.equal(goDuration(313), '313ms');
  assert.equal(goDuration(1594), '1.594s');
  assert.equal(goDuration(65_200), '1m5.2s');
});

test('images from a local registry: mirrors, pull policies, ErrImagePull/ImagePullBackOff, pull secrets', { timeout: 240_000 }, async (t) => {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-registry-cri-'));
  const regDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-registry-'));
  let reg: Registry | undefined;
  let proxy: AuthProxy | undefined;
  let c: Cluster | undefined;
  try {
    reg = await startRegistry(regDir);
    proxy = await startAuthProxy(reg.url, 'kts', 's3cret');
    const PRIVATE = `${proxy.host}/private/app:v1`;
    // everything but the sandbox image, which kts builds itself; nginx:1.20 stays out of the
    // node (the Never policy below), and the private image sits behind the auth proxy only
    await pushImages(reg.url, [
      ...testImages().filter((i) => i.name !== PAUSE),
      { name: PRIVATE, files: [{ name: 'secret.txt', type: 'file', data: Buffer.from('from the private registry\n') }], cmd: ['sh'] },
    ]);
    const registries = path.join(regDir, 'registries.yaml');
    fs.writeFileSync(
      registries,
      `mirrors:
  docker.io:
    endpoint:
      - "${reg.url}"
  "${proxy.host}":
    endpoint:
      - "${proxy.url}"
`,
    );

    process.env['KTS_CNI_BRIDGE'] = BRIDGE; // read by the cri runtime in the server child
    c = await startCluster({
      serverArgs: ['--container-runtime', 'cri', '--kubelet-port', '0', '--pause-image', PAUSE, '--kubelet-root-dir', root, '--cluster-cidr', CLUSTER_CIDR, '--registry-config', registries],
    });
    const cl = c;
    const k = (args: string[], timeoutMs = 30_000) => cl.ok(V, args, { timeoutMs });
    const jsonpath = (what: string, jp: string) => cl.kubectl(V, ['get', ...what.split(' '), '-o', `jsonpath=${jp}`]).then((r) => r.stdout);
    const describe = (pod: string) => async () => (await cl.kubectl(V, ['describe', 'pod', pod])).stdout + '\n--- registry\n' + reg!.log().slice(-1500) + '\n--- server log tail\n' + cl.serverLog().slice(-3000);
    const running = (pod: string, ms = 40_000) =>
      until(`${pod} Running and ready`, async () => (await jsonpath(`pod ${pod}`, '{.status.phase} {.status.containerStatuses[*].ready}')) === 'Running true' || undefined, ms, describe(pod));
    const waitingReason = (pod: string, reason: string, ms = 40_000) =>
      until(`${pod} waiting with ${reason}`, async () => (await jsonpath(`pod ${pod}`, '{.status.containerStatuses[0].state.waiting.reason}')) === reason || undefined, ms, describe(pod));

    await until('the node Ready', async () => /\bReady\b/.test((await cl.kubectl(V, ['get', 'nodes'])).stdout) || undefined, 60_000, async () => cl.serverLog().slice(-3000));

    // Start everything at once; the slow ones (back-off) are checked last.
    await k(['run', 'bb', '--image=busybox:1.28', '--', 'sh', '-c', 'echo hi; sleep 3600']);
    await k(['run', 'web', '--image=ikubernetes/myapp:v1', '--port=80']);
    await k(['run', 'bad', '--image=busybox:no-such-tag']);
    await k(['run', 'never', '--image=nginx:1.20', '--image-pull-policy=Never']);
    await k(['run', 'nosecret', `--image=${PRIVATE}`, '--', 'sleep', '3600']);
    const watchBad = cl.spawnKubectl(V, ['get', 'pod', 'bad', '-w']);

    try {
      await t.test('short names pull through the docker.io mirror; describe shows Pulling and Pulled', async () => {
        await running('bb');
        await running('web');
        const d = await k(['describe', 'pod', 'bb']);
        assert.match(d, /Normal\s+Pulling\s+\S+\s+kubelet\s+Pulling image "busybox:1\.28"/, d);
        assert.match(d, /Normal\s+Pulled\s+\S+\s+kubelet\s+Successfully pulled image "busybox:1\.28" in \d[\w.]*s \(\d[\w.]*s including waiting\)\. Image size: [1-9]\d* bytes\./, d);
        assert.match(d, /^\s+Image ID:\s+docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/m, d);
        assert.equal(await k(['logs', 'bb']), 'hi\n');
        // the myapp stand-in pulled from the registry serves its own pod name
        const ip = await jsonpath('pod web', '{.status.podIP}');
        assert.equal(await k(['exec', 'bb', '--', 'wget', '-qO-', `http://${ip}/hostname.html`]), 'web\n');
      });

      await t.test('IfNotPresent uses the image on the node; Always pulls again', async () => {
        await k(['run', 'bb2', '--image=busybox:1.28', '--', 'sleep', '3600']);
        await k(['run', 'always', '--image=busybox:1.28', '--image-pull-policy=Always', '--', 'sleep', '3600']);
        await running('bb2');
        await running('always');
        const d2 = await k(['describe', 'pod', 'bb2']);
        assert.match(d2, /Normal\s+Pulled\s+\S+\s+kubelet\s+Container image "busybox:1\.28" already present on machine/, d2);
        assert.doesNotMatch(d2, /Pulling image/);
        const da = await k(['describe', 'pod', 'always']);
        assert.match(da, /Pulling image "busybox:1\.28"/, da);
        assert.match(da, /Successfully pulled image "busybox:1\.28" in /, da);
      });

      await t.test('imagePullPolicy Never with a missing image: ErrImageNeverPull', async () => {
        await waitingReason('never', 'ErrImageNeverPull');
        assert.match(await k(['get', 'pod', 'never']), /^never\s+0\/1\s+ErrImageNeverPull\s+0\s+/m);
        const d = await k(['describe', 'pod', 'never']);
        assert.match(d, /Warning\s+ErrImageNeverPull\s+.*kubelet\s+Container image "nginx:1\.20" is not present with pull policy of Never/, d);
        assert.match(d, /Warning\s+Failed\s+.*kubelet\s+Error: ErrImageNeverPull/, d);
      });

      await t.test('a private registry: 401 without a pull secret, Running with one', async () => {
        await waitingReason('nosecret', 'ErrImagePull');
        const d = await k(['describe', 'pod', 'nosecret']);
        assert.match(d, new RegExp(`Warning\\s+Failed\\s+.*kubelet\\s+Failed to pull image "${PRIVATE.replace(/\./g, '\\.')}": .*401 Unauthorized`), d);
        assert.ok(proxy!.counts.rejected > 0);
        await k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${proxy!.host}`, '--docker-username=kts', '--docker-password=s3cret']);
        const y = await cl.file(
          'priv.yaml',
          `apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  imagePullSecrets: [{name: gone}, {name: regcred}]
  containers:
  - name: app
    image: ${PRIVATE}
    command: [sleep, '3600']
`,
        );
        await k(['apply', '-f', y]);
        await running('priv');
        assert.ok(proxy!.counts.authorized > 0, 'pulled with the credentials');
        assert.equal(await k(['exec', 'priv', '--', 'cat', '/secret.txt']), 'from the private registry\n');
        const dp = await k(['describe', 'pod', 'priv']);
        assert.match(dp, /Warning\s+FailedToRetrieveImagePullSecret\s+.*kubelet\s+Unable to retrieve some image pull secrets \(gone\); attempting to pull the image may not succeed\./, dp);
        assert.match(dp, /Successfully pulled image "127\.0\.0\.1:\d+\/private\/app:v1"/, dp);
      });

      await t.test('a missing tag: ErrImagePull, then ImagePullBackOff, with upstream events', async () => {
        await watchBad.waitFor(/^bad\s+0\/1\s+ErrImagePull\s+0\s+/m, 40_000);
        await watchBad.waitFor(/^bad\s+0\/1\s+ImagePullBackOff\s+0\s+/m, 60_000);
        const w = await until(
          'the back-off message',
          async () => {
            const [reason, msg] = (await jsonpath('pod bad', '{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}')).split('|');
            return reason === 'ImagePullBackOff' ? msg : undefined;
          },
          40_000,
          describe('bad'),
        );
        assert.match(w!, /^Back-off pulling image "busybox:no-such-tag": ErrImagePull: rpc error: code = \w+ desc = failed to pull and unpack image "docker\.io\/library\/busybox:no-such-tag"/);
        const d = await k(['describe', 'pod', 'bad']);
        assert.match(d, /Normal\s+Pulling\s+.*kubelet\s+Pulling image "busybox:no-such-tag"/, d);
        assert.match(d, /Warning\s+Failed\s+.*kubelet\s+Failed to pull image "busybox:no-such-tag": rpc error: /, d);
        assert.match(d, /Warning\s+Failed\s+.*kubelet\s+Error: ErrImagePull/, d);
        assert.match(d, /Normal\s+BackOff\s+.*kubelet\s+Back-off pulling image "busybox:no-such-tag"/, d);
        assert.match(d, /Warning\s+Failed\s+.*kubelet\s+Error: ImagePullBackOff/, d);
        assert.match(d, /^Status:\s+Pending$/m);
      });
    } finally {
      await watchBad.kill();
    }
  } finally {
    delete process.env['KTS_CNI_BRIDGE'];
    await c?.stop().catch(() => {});
    for (const p of await cleanup(root)) t.diagnostic(`cleanup: ${p}`);
    await proxy?.stop();
    await reg?.stop();
    fs.rmSync(regDir, { recursive: true, force: true });
  }
});
