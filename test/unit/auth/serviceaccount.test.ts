// Service account tokens without a server: issuing, verifying, expiry, audiences and the
// bound objects (ServiceAccount, pod, secret) a token stays valid only as long as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../../src/api/types.js';
import { ServiceAccountTokens, DEFAULT_ISSUER, type ObjectKind } from '../../../src/apiserver/auth/serviceaccount.js';
import { ensureServiceAccountKey } from '../../../src/apiserver/pki.js';
import { missingTokenData, referencesServiceAccount } from '../../../src/controllers/serviceaccounttoken.js';

const pem = (type: 'ec' | 'rsa') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
const KEY = pem('ec');

function obj(name: string, uid: string, namespace = 'default', extra: Partial<KObject> = {}): KObject {
  return { metadata: { name, namespace, uid }, ...extra } as KObject;
}

function world() {
  const objects = new Map<string, KObject>();
  const put = (kind: ObjectKind, o: KObject) => objects.set(`${kind}/${kind === 'nodes' ? '' : o.metadata.namespace}/${o.metadata.name}`, o);
  let now = new Date('2026-01-01T00:00:00Z');
  const tokens = new ServiceAccountTokens({
    privateKey: KEY,
    getter: async (kind, ns, name) => objects.get(`${kind}/${ns}/${name}`),
    now: () => now,
  });
  return { objects, put, tokens, setNow: (d: Date) => (now = d), now: () => now };
}

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

test('issued token carries upstream claims and authenticates as the service account', async () => {
  const w = world();
  const sa = obj('builder', 'sa-uid-1', 'ci');
  w.put('serviceaccounts', sa);
  const { token, claims } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600 });
  const { header, payload } = decode(token);
  assert.equal(header['alg'], 'ES256');
  assert.equal(header['kid'], w.tokens.keyId);
  assert.equal(payload['iss'], DEFAULT_ISSUER);
  assert.equal(payload['sub'], 'system:serviceaccount:ci:builder');
  assert.deepEqual(payload['aud'], [DEFAULT_ISSUER]);
  const iat = Math.floor(w.now().getTime() / 1000);
  assert.equal(payload['iat'], iat);
  assert.equal(payload['nbf'], iat);
  assert.equal(payload['exp'], iat + 3600);
  assert.match(String(payload['jti']), /^[0-9a-f-]{36}$/);
  assert.deepEqual(payload['kubernetes.io'], { namespace: 'ci', serviceaccount: { name: 'builder', uid: 'sa-uid-1' } });
  // go-jose serialises the merged claims with sorted keys.
  assert.deepEqual(Object.keys(payload), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
  assert.equal(claims.jti, payload['jti']);

  const r = await w.tokens.authenticate(token);
  assert.ok(r && r.ok, JSON.stringify(r));
  assert.deepEqual(r.user, {
    username: 'system:serviceaccount:ci:builder',
    uid: 'sa-uid-1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${payload['jti']}`] },
  });
  assert.deepEqual(r.audiences, [DEFAULT_ISSUER]);
});

test('expired tokens are rejected (after upstream\'s 60 s leeway)', async () => {
  const w = world();
  const sa = obj('default', 'u1');
  w.put('serviceaccounts', sa);
  const start = w.now();
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 600 });
  w.setNow(new Date(start.getTime() + 630_000));
  assert.equal((await w.tokens.authenticate(token))?.ok, true, 'within the leeway');
  w.setNow(new Date(start.getTime() + 661_000));
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'service account token has expired' });
  w.setNow(new Date(start.getTime() - 3600_000));
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'service account token is not valid yet' });
});

test('audiences: a token for another audience is rejected unless that audience is requested', async () => {
  const w = world();
  const sa = obj('default', 'u1');
  w.put('serviceaccounts', sa);
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600, audiences: ['vault'] });
  assert.deepEqual(await w.tokens.authenticate(token), {
    ok: false,
    error: `token audiences ["vault"] is invalid for the target audiences ["${DEFAULT_ISSUER}"]`,
  });
  const ok = await w.tokens.authenticate(token, ['vault', 'other']);
  assert.ok(ok?.ok);
  assert.deepEqual(ok.audiences, ['vault']);
});

test('a deleted or re-created ServiceAccount invalidates its tokens', async () => {
  const w = world();
  const sa = obj('default', 'u1');
  w.put('serviceaccounts', sa);
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600 });
  w.objects.clear();
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'serviceaccounts "default" not found' });
  w.put('serviceaccounts', obj('default', 'u2'));
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'service account UID (u2) does not match claim (u1)' });
});

test('pod-bound tokens: extra names the pod and its node; deleting the pod invalidates the token', async () => {
  const w = world();
  const sa = obj('default', 'sa1');
  const pod = obj('web-0', 'pod1', 'default', { spec: { nodeName: 'node-a', serviceAccountName: 'default' } });
  w.put('serviceaccounts', sa);
  w.put('pods', pod);
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600, pod, podNode: { name: 'node-a', uid: 'node-uid' } });
  assert.deepEqual(decode(token).payload['kubernetes.io'], {
    namespace: 'default',
    node: { name: 'node-a', uid: 'node-uid' },
    pod: { name: 'web-0', uid: 'pod1' },
    serviceaccount: { name: 'default', uid: 'sa1' },
  });
  const r = await w.tokens.authenticate(token);
  assert.ok(r?.ok);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/pod-name'], ['web-0']);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/pod-uid'], ['pod1']);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-name'], ['node-a']);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-uid'], ['node-uid']);
  w.put('pods', obj('web-0', 'pod2'));
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'pod UID (pod2) does not match service account pod ref claim (pod1)' });
  w.objects.delete('pods/default/web-0');
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'service account token has been invalidated' });
});

test('secret-bound tokens die with their secret', async () => {
  const w = world();
  const sa = obj('default', 'sa1');
  const secret = obj('s', 'sec1');
  w.put('serviceaccounts', sa);
  w.put('secrets', secret);
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600, secret });
  assert.ok((await w.tokens.authenticate(token))?.ok);
  w.objects.delete('secrets/default/s');
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'service account token has been invalidated' });
});

test('forged, foreign and malformed tokens', async () => {
  const w = world();
  const sa = obj('default', 'u1');
  w.put('serviceaccounts', sa);
  const other = new ServiceAccountTokens({ privateKey: pem('ec'), getter: async () => sa });
  const { token: forged } = other.issue({ serviceAccount: sa, expirationSeconds: 3600 });
  assert.deepEqual(await w.tokens.authenticate(forged), { ok: false, error: 'go-jose/go-jose: error in cryptographic primitive' });
  // Tampered payload, original signature.
  const { token } = w.tokens.issue({ serviceAccount: sa, expirationSeconds: 3600 });
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  payload.sub = 'system:serviceaccount:kube-system:admin';
  assert.equal((await w.tokens.authenticate(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`))?.ok, false);
  // Not ours at all: other authenticators may try.
  assert.equal(await w.tokens.authenticate('garbage'), undefined);
  assert.equal(await w.tokens.authenticate('a.b.c'), undefined);
  const foreign = new ServiceAccountTokens({ privateKey: KEY, issuer: 'https://elsewhere', getter: async () => sa });
  assert.equal(await w.tokens.authenticate(foreign.issue({ serviceAccount: sa, expirationSeconds: 3600 }).token), undefined);
});

test('RSA keys sign RS256 tokens', async () => {
  const sa = obj('default', 'u1');
  const tokens = new ServiceAccountTokens({ privateKey: pem('rsa'), getter: async () => sa });
  const { token } = tokens.issue({ serviceAccount: sa, expirationSeconds: 3600 });
  assert.equal(decode(token).header['alg'], 'RS256');
  assert.ok((await tokens.authenticate(token))?.ok);
  const jwks = tokens.jwks();
  assert.equal(jwks.keys[0]!['kty'], 'RSA');
  assert.equal(jwks.keys[0]!['alg'], 'RS256');
  assert.equal(jwks.keys[0]!['kid'], tokens.keyId);
});

test('legacy secret tokens: valid while the Secret holds exactly this token', async () => {
  const w = world();
  const sa = obj('deployer', 'sa1');
  w.put('serviceaccounts', sa);
  const token = w.tokens.issueLegacy(sa, 'deployer-token');
  const { payload } = decode(token);
  assert.deepEqual(payload, {
    iss: 'kubernetes/serviceaccount',
    'kubernetes.io/serviceaccount/namespace': 'default',
    'kubernetes.io/serviceaccount/secret.name': 'deployer-token',
    'kubernetes.io/serviceaccount/service-account.name': 'deployer',
    'kubernetes.io/serviceaccount/service-account.uid': 'sa1',
    sub: 'system:serviceaccount:default:deployer',
  });
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: 'token has been invalidated' });
  w.put('secrets', obj('deployer-token', 'sec1', 'default', { data: { token: Buffer.from(token).toString('base64') } }));
  const r = await w.tokens.authenticate(token);
  assert.ok(r?.ok);
  assert.equal(r.user.username, 'system:serviceaccount:default:deployer');
  w.put('secrets', obj('deployer-token', 'sec1', 'default', { data: { token: Buffer.from('other').toString('base64') } }));
  assert.deepEqual(await w.tokens.authenticate(token), { ok: false, error: "token does not match server's copy" });
});

test('token controller helpers: what a token Secret lacks, which ServiceAccount it belongs to', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
  const s = obj('t', 's1', 'default', { metadata: { name: 't', namespace: 'default', uid: 's1', annotations: { 'kubernetes.io/service-account.name': 'default' } } } as Partial<KObject>);
  assert.deepEqual(missingTokenData(s, ca), { token: true, ca: true, namespace: true });
  s.data = { token: 'eA==', namespace: 'ZGVmYXVsdA==', 'ca.crt': Buffer.from(ca).toString('base64') };
  assert.deepEqual(missingTokenData(s, ca), { token: false, ca: false, namespace: false });
  assert.equal(referencesServiceAccount(s, obj('default', 'any')), true);
  s.metadata.annotations!['kubernetes.io/service-account.uid'] = 'u1';
  assert.equal(referencesServiceAccount(s, obj('default', 'u1')), true);
  assert.equal(referencesServiceAccount(s, obj('default', 'u2')), false);
  assert.equal(referencesServiceAccount(s, undefined), false);
});

test('the signing key is created once under the data dir and reused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kts-sakey-'));
  try {
    const a = await ensureServiceAccountKey(dir);
    const b = await ensureServiceAccountKey(dir);
    assert.equal(a.privateKey, b.privateKey);
    assert.equal(await readFile(join(dir, 'service-account.pub'), 'utf8'), a.publicKey);
    assert.match(a.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal((await stat(join(dir, 'service-account.key'))).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
