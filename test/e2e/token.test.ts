// kubectl e2e: `kubectl create token` prints a service account token (a JWT), and kubectl with
// that token (`--token`, no client certificate) is the service account to the server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl create token and bearer tokens', { skip }, () => {
  let c: Cluster;
  /** A kubeconfig that names the cluster and its CA but carries no credentials. */
  let anonConfig: string;
  before(async () => {
    c = await startCluster();
    anonConfig = await c.file(
      'anon.kubeconfig',
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: kts',
        '  cluster:',
        `    server: ${c.url}`,
        `    certificate-authority: ${join(c.dataDir, 'tls', 'ca.crt')}`,
        'users:',
        '- name: nobody',
        '  user: {}',
        'contexts:',
        '- name: kts',
        '  context: {cluster: kts, user: nobody}',
        'current-context: kts',
        '',
      ].join('\n'),
    );
    // The serviceaccount controller creates `default` shortly after the namespace exists.
    for (let i = 0; i < 150; i++) {
      if ((await c.kubectl('1.32', ['get', 'serviceaccount', 'default'])).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    test(`kubectl ${v} create token default prints a JWT for the service account`, async () => {
      const out = await c.ok(v, ['create', 'token', 'default']);
      // kubectl prints the bare token, no newline.
      assert.match(out, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const payload = JSON.parse(Buffer.from(out.trim().split('.')[1]!, 'base64url').toString());
      assert.equal(payload.sub, 'system:serviceaccount:default:default');
      assert.equal(payload.iss, 'https://kubernetes.default.svc.cluster.local');
      assert.equal(payload.exp - payload.iat, 3600);
      const long = await c.ok(v, ['create', 'token', 'default', '--duration=2h', '--audience=vault']);
      const p2 = JSON.parse(Buffer.from(long.trim().split('.')[1]!, 'base64url').toString());
      assert.equal(p2.exp - p2.iat, 7200);
      assert.deepEqual(p2.aud, ['vault']);
    });
  }

  for (const v of VERSIONS.filter((x) => x !== '1.27')) {
    // kubectl 1.27's whoami speaks SelfSubjectReview v1beta1, which 1.32 servers no longer serve.
    test(`kubectl ${v} --token=<token> auth whoami is the service account`, async () => {
      const token = (await c.ok(v, ['create', 'token', 'default'])).trim();
      const out = await c.ok(v, ['--kubeconfig', anonConfig, `--token=${token}`, 'auth', 'whoami']);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0]!, /^ATTRIBUTE\s+VALUE$/);
      assert.match(out, /^Username\s+system:serviceaccount:default:default$/m);
      assert.match(out, /^Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]$/m);
      assert.match(out, /^Extra: authentication\.kubernetes\.io\/credential-id\s+\[JTI=[0-9a-f-]{36}\]$/m);
      // The token works for ordinary requests too.
      assert.match(await c.ok(v, ['--kubeconfig', anonConfig, `--token=${token}`, 'get', 'serviceaccount', 'default']), /^NAME\s+SECRETS\s+AGE\ndefault\s+0\s+/);
    });
  }

  test('kubectl with a bad token is told to log in', async () => {
    const r = await c.kubectl('1.32', ['--kubeconfig', anonConfig, '--token=not-a-token', 'get', 'namespaces']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').pop(), 'error: You must be logged in to the server (Unauthorized)');
  });

  test('kubectl create token errors come from the server', async () => {
    const short = await c.kubectl('1.32', ['create', 'token', 'default', '--duration=1m']);
    assert.equal(short.code, 1);
    assert.equal(
      short.stderr.trim(),
      'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    const missing = await c.kubectl('1.32', ['create', 'token', 'nobody']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'error: failed to create token: serviceaccounts "nobody" not found');
  });
});
