// Service account tokens end to end over HTTPS: the TokenRequest API issues a token, the token
// authenticates requests as the service account (SelfSubjectReview, like `kubectl auth whoami`),
// bad tokens get 401, TokenReview answers for tokens, and the token controller fills legacy
// token Secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type Resp } from './helpers.js';

let ts: TestServer;
const TR = '/apis/authentication.k8s.io/v1';

before(async () => {
  ts = await startTestServer();
});
after(async () => {
  await ts?.stop();
});

/** A request that presents no client certificate, only `Authorization: Bearer <token>`. */
function bearer(token: string, method: string, path: string, body?: unknown): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = https.request(
      {
        host: '127.0.0.1',
        port: ts.server.port,
        ca: ts.server.pki.caCert,
        agent: false,
        method,
        path,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
      },
    );
    r.on('error', reject);
    if (payload) r.write(payload);
    r.end();
  });
}

async function createSA(ns: string, name: string): Promise<string> {
  const r = await ts.req('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  assert.equal(r.status, 201, r.text);
  return r.body.metadata.uid;
}

async function requestToken(ns: string, name: string, spec: Record<string, unknown> = {}): Promise<Resp> {
  return ts.req('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
}

const whoami = (token: string) => bearer(token, 'POST', `${TR}/selfsubjectreviews`, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('TokenRequest issues a token that authenticates as the service account', async () => {
  const uid = await createSA('default', 'robot');
  const r = await requestToken('default', 'robot');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'TokenRequest');
  assert.equal(r.body.apiVersion, 'authentication.k8s.io/v1');
  assert.equal(r.body.metadata.name, 'robot');
  assert.equal(r.body.metadata.namespace, 'default');
  assert.deepEqual(r.body.spec, { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600, boundObjectRef: null });
  const token: string = r.body.status.token;
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  assert.equal(Date.parse(r.body.status.expirationTimestamp) / 1000, payload.exp);
  assert.equal(payload.exp - payload.iat, 3600);

  const me = await whoami(token);
  assert.equal(me.status, 201, me.text);
  assert.equal(me.body.status.userInfo.username, 'system:serviceaccount:default:robot');
  assert.equal(me.body.status.userInfo.uid, uid);
  assert.deepEqual(me.body.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  assert.deepEqual(me.body.status.userInfo.extra, { 'authentication.kubernetes.io/credential-id': [`JTI=${payload.jti}`] });

  const list = await bearer(token, 'GET', '/api/v1/namespaces/default/serviceaccounts');
  assert.equal(list.status, 200, list.text);

  // The key lives in the data dir.
  assert.match(await readFile(join(ts.dataDir, 'tls', 'service-account.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
});

test('invalid tokens get 401 Unauthorized', async () => {
  const expected = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
  const garbage = await bearer('garbage', 'GET', '/api/v1/namespaces');
  assert.equal(garbage.status, 401);
  assert.deepEqual(garbage.body, expected);

  await createSA('default', 'doomed');
  const { body } = await requestToken('default', 'doomed');
  const token: string = body.status.token;
  assert.equal((await whoami(token)).status, 201);
  const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.equal((await whoami(tampered)).status, 401);
  // Deleting the ServiceAccount revokes its tokens.
  assert.equal((await ts.req('DELETE', '/api/v1/namespaces/default/serviceaccounts/doomed')).status, 200);
  const after = await bearer(token, 'GET', '/api/v1/namespaces');
  assert.equal(after.status, 401);
  assert.deepEqual(after.body, expected);
});

test('TokenRequest validation and errors', async () => {
  const missing = await requestToken('default', 'nobody');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.message, 'serviceaccounts "nobody" not found');

  await createSA('default', 'short');
  const tooShort = await requestToken('default', 'short', { expirationSeconds: 60 });
  assert.equal(tooShort.status, 422);
  assert.equal(tooShort.body.message, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');

  const badKind = await requestToken('default', 'short', { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } });
  assert.equal(badKind.status, 400);
  assert.equal(badKind.body.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');

  const ok = await requestToken('default', 'short', { expirationSeconds: 7200, audiences: ['vault'] });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(ok.body.spec.audiences, ['vault']);
  // Not meant for the API server.
  assert.equal((await whoami(ok.body.status.token)).status, 401);
});

test('pod-bound tokens name the pod and stop working when it is gone', async () => {
  await createSA('default', 'podsa');
  const pod = await ts.req('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bound' },
    spec: { serviceAccountName: 'podsa', containers: [{ name: 'c', image: 'busybox' }] },
  });
  assert.equal(pod.status, 201, pod.text);
  const wrongSA = await ts.req('POST', '/api/v1/namespaces/default/serviceaccounts/podsa/token', {
    spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: 'not-the-uid' } },
  });
  assert.equal(wrongSA.status, 409);
  const r = await requestToken('default', 'podsa', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: pod.body.metadata.uid } });
  assert.equal(r.status, 201, r.text);
  const me = await whoami(r.body.status.token);
  assert.equal(me.status, 201, me.text);
  assert.deepEqual(me.body.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['bound']);
  assert.deepEqual(me.body.status.userInfo.extra['authentication.kubernetes.io/pod-uid'], [pod.body.metadata.uid]);
  assert.equal((await ts.req('DELETE', '/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0')).status, 200);
  await until('pod gone', async () => ((await ts.req('GET', '/api/v1/namespaces/default/pods/bound')).status === 404 ? true : undefined));
  assert.equal((await whoami(r.body.status.token)).status, 401);
});

test('TokenReview authenticates tokens for other components', async () => {
  const uid = await createSA('kube-system', 'reviewer');
  const { body } = await requestToken('kube-system', 'reviewer');
  const review = (token: string, audiences?: string[]) =>
    ts.req('POST', `${TR}/tokenreviews`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
  const ok = await review(body.status.token);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.status.authenticated, true);
  assert.deepEqual(ok.body.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(ok.body.status.user.username, 'system:serviceaccount:kube-system:reviewer');
  assert.equal(ok.body.status.user.uid, uid);
  assert.deepEqual(ok.body.status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);

  const bad = await review('garbage');
  assert.equal(bad.status, 201);
  assert.equal(bad.body.status.authenticated, undefined);
  assert.deepEqual(bad.body.status.user, {});
  assert.ok(bad.body.status.error);

  const wrongAud = await review(body.status.token, ['vault']);
  assert.equal(wrongAud.body.status.authenticated, undefined);
  assert.match(wrongAud.body.status.error, /token audiences \["https:\/\/kubernetes.default.svc.cluster.local"\] is invalid for the target audiences \["vault"\]/);

  const empty = await ts.req('POST', `${TR}/tokenreviews`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.message, 'token is required for TokenReview in authentication');
});

test('legacy token Secrets are filled by the token controller and removed with their ServiceAccount', async () => {
  await createSA('default', 'legacy');
  const created = await ts.req('POST', '/api/v1/namespaces/default/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name: 'legacy-token', annotations: { 'kubernetes.io/service-account.name': 'legacy' } },
  });
  assert.equal(created.status, 201, created.text);
  const secret = await until('token data', async () => {
    const s = await ts.req('GET', '/api/v1/namespaces/default/secrets/legacy-token');
    return s.body?.data?.token ? s.body : undefined;
  });
  assert.equal(Buffer.from(secret.data.namespace, 'base64').toString(), 'default');
  assert.equal(Buffer.from(secret.data['ca.crt'], 'base64').toString(), ts.server.pki.caCert);
  assert.ok(secret.metadata.annotations['kubernetes.io/service-account.uid']);
  const token = Buffer.from(secret.data.token, 'base64').toString();
  const me = await whoami(token);
  assert.equal(me.status, 201, me.text);
  assert.equal(me.body.status.userInfo.username, 'system:serviceaccount:default:legacy');

  assert.equal((await ts.req('DELETE', '/api/v1/namespaces/default/serviceaccounts/legacy')).status, 200);
  await until('secret deleted', async () => ((await ts.req('GET', '/api/v1/namespaces/default/secrets/legacy-token')).status === 404 ? true : undefined));
  assert.equal((await whoami(token)).status, 401);
});

test('discovery lists serviceaccounts/token', async () => {
  const r = await ts.req('GET', '/api/v1');
  const sub = r.body.resources.find((x: { name: string }) => x.name === 'serviceaccounts/token');
  assert.deepEqual(sub, { name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
});

test('OIDC discovery: issuer configuration and the keys that verify tokens', async () => {
  const cfg = await ts.req('GET', '/.well-known/openid-configuration');
  assert.equal(cfg.status, 200, cfg.text);
  assert.deepEqual(cfg.body, {
    issuer: 'https://kubernetes.default.svc.cluster.local',
    jwks_uri: `https://${ts.server.api.opts.advertiseAddress}:${ts.server.port}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  });
  const jwks = await ts.req('GET', '/openid/v1/jwks');
  assert.equal(jwks.status, 200);
  assert.equal(jwks.headers['content-type'], 'application/jwk-set+json');
  const keys = JSON.parse(jwks.text).keys;
  assert.equal(keys.length, 1);
  assert.deepEqual(Object.keys(keys[0]), ['use', 'kty', 'kid', 'crv', 'alg', 'x', 'y']);
  // The kid in the JWKS is the kid in token headers.
  await createSA('default', 'oidc');
  const { body } = await requestToken('default', 'oidc');
  const header = JSON.parse(Buffer.from(body.status.token.split('.')[0], 'base64url').toString());
  assert.equal(header.kid, keys[0].kid);
  // A service account may read them (upstream's system:service-account-issuer-discovery).
  assert.equal((await bearer(body.status.token, 'GET', '/openid/v1/jwks')).status, 200);
  const root = await ts.req('GET', '/');
  assert.ok(root.body.paths.includes('/.well-known/openid-configuration'));
  assert.ok(root.body.paths.includes('/openid/v1/jwks'));
});
