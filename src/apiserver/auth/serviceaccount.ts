// Service account tokens (pkg/serviceaccount): issuing and validating the JWTs pods and tools
// such as `kubectl create token` authenticate with.
//
// - Bound tokens (TokenRequest API): issuer https://kubernetes.default.svc.cluster.local, an
//   audience (default: the issuer, like kube-apiserver's --api-audiences), exp/iat/nbf/jti and the
//   private `kubernetes.io` claim naming the namespace, the ServiceAccount and optionally the pod,
//   secret or node the token is bound to. Valid while unexpired (60 s leeway) and while every
//   bound object still exists with the same uid.
// - Legacy tokens (Secrets of type kubernetes.io/service-account-token): issuer
//   "kubernetes/serviceaccount", no expiry; valid while the Secret exists holding exactly this
//   token and the ServiceAccount has the uid the token names.
//
// Tokens are signed with the key from ensureServiceAccountKey (ES256 for kts' P-256 key, RS256
// for an RSA key); the header carries upstream's key id (unpadded base64url SHA-256 of the
// public key's DER SPKI).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { KObject } from '../../api/types.js';
import type { UserInfo } from '../admission/index.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError } from '../errors.js';
import type { Http2OrHttp1Request } from '../http.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** Upstream's leeway for exp/nbf/iat (go-jose's jwt.DefaultLeeway). */
const LEEWAY_SECONDS = 60;
/** A bound object deleted less than this long ago still validates (upstream's grace for terminating pods). */
const DELETION_GRACE_MS = 60_000;

export const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
export const POD_UID_KEY = 'authentication.kubernetes.io/pod-uid';
export const NODE_NAME_KEY = 'authentication.kubernetes.io/node-name';
export const NODE_UID_KEY = 'authentication.kubernetes.io/node-uid';
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

export interface ObjectRef {
  name: string;
  uid?: string;
}

export interface KubernetesClaim {
  namespace: string;
  node?: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  serviceaccount: ObjectRef;
  warnafter?: number;
}

export interface BoundClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti?: string;
  'kubernetes.io': KubernetesClaim;
  nbf: number;
  sub: string;
}

export type ObjectKind = 'serviceaccounts' | 'pods' | 'secrets' | 'nodes';
/** Reads an object (undefined when it does not exist). */
export type ObjectGetter = (resource: ObjectKind, namespace: string, name: string) => Promise<KObject | undefined>;

export type AuthResult = { ok: true; user: UserInfo; audiences: string[] } | { ok: false; error: string };

export interface IssueRequest {
  serviceAccount: KObject;
  audiences?: string[];
  expirationSeconds: number;
  pod?: KObject;
  secret?: KObject;
  node?: KObject;
  /** The pod's node, recorded in pod-bound tokens (name, and uid when the node exists). */
  podNode?: ObjectRef;
}

export interface ServiceAccountTokensOptions {
  /** PEM private key that signs tokens. */
  privateKey: string;
  /** Extra PEM public keys accepted for verification (the signing key's is always accepted). */
  publicKeys?: string[];
  issuer?: string;
  /** The API server's audiences (--api-audiences); default [issuer]. */
  audiences?: string[];
  getter: ObjectGetter;
  now?: () => Date;
}

export function makeUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function groupNames(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** JSON with object keys sorted at every level: how go-jose serialises merged claims. */
function sortedJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const o = val as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    }
    return val;
  });
}

/** Upstream's keyIDFromPublicKey: unpadded base64url of sha256(DER SPKI). */
export function keyId(pub: KeyObject): string {
  return b64url(createHash('sha256').update(pub.export({ format: 'der', type: 'spki' })).digest());
}

function algorithmFor(key: KeyObject): 'ES256' | 'ES384' | 'ES512' | 'RS256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    return 'ES256';
  }
  throw new Error(`unsupported service account key type ${key.asymmetricKeyType}`);
}

function hashFor(alg: string): string {
  return alg === 'ES384' ? 'sha384' : alg === 'ES512' ? 'sha512' : 'sha256';
}

interface VerifyKey {
  key: KeyObject;
  kid: string;
  alg: string;
}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: string[];
  readonly keyId: string;
  readonly algorithm: string;
  private readonly signingKey: KeyObject;
  private readonly verifyKeys: VerifyKey[];
  private readonly getter: ObjectGetter;
  private readonly now: () => Date;

  constructor(opts: ServiceAccountTokensOptions) {
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.audiences = opts.audiences?.length ? [...opts.audiences] : [this.issuer];
    this.signingKey = createPrivateKey(opts.privateKey);
    const pub = createPublicKey(this.signingKey);
    this.algorithm = algorithmFor(pub);
    this.keyId = keyId(pub);
    this.verifyKeys = [{ key: pub, kid: this.keyId, alg: this.algorithm }];
    for (const pem of opts.publicKeys ?? []) {
      const k = createPublicKey(pem);
      const kid = keyId(k);
      if (!this.verifyKeys.some((v) => v.kid === kid)) this.verifyKeys.push({ key: k, kid, alg: algorithmFor(k) });
    }
    this.getter = opts.getter;
    this.now = opts.now ?? (() => new Date());
  }

  // ---- issuing ----

  /** A bound token (TokenRequest); `iat` is the current second, `exp` = iat + expirationSeconds. */
  issue(req: IssueRequest): { token: string; claims: BoundClaims } {
    const sa = req.serviceAccount;
    const namespace = sa.metadata.namespace!;
    const now = Math.floor(this.now().getTime() / 1000);
    const k8s: KubernetesClaim = { namespace, serviceaccount: { name: sa.metadata.name!, uid: sa.metadata.uid! } };
    if (req.pod) {
      k8s.pod = { name: req.pod.metadata.name!, uid: req.pod.metadata.uid! };
      if (req.podNode) k8s.node = { ...req.podNode };
    } else if (req.secret) {
      k8s.secret = { name: req.secret.metadata.name!, uid: req.secret.metadata.uid! };
    } else if (req.node) {
      k8s.node = { name: req.node.metadata.name!, uid: req.node.metadata.uid! };
    }
    const claims: BoundClaims = {
      aud: req.audiences?.length ? [...req.audiences] : [...this.audiences],
      exp: now + req.expirationSeconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: now,
      sub: makeUsername(namespace, sa.metadata.name!),
    };
    return { token: this.sign(claims), claims };
  }

  /** A legacy token for a kubernetes.io/service-account-token Secret (no expiry, no audience). */
  issueLegacy(serviceAccount: KObject, secretName: string): string {
    const ns = serviceAccount.metadata.namespace!;
    return this.sign({
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': ns,
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.metadata.name!,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.metadata.uid!,
      sub: makeUsername(ns, serviceAccount.metadata.name!),
    });
  }

  private sign(payload: object): string {
    const header = b64url(JSON.stringify({ alg: this.algorithm, kid: this.keyId }));
    const body = b64url(sortedJSON(payload));
    const input = `${header}.${body}`;
    const sig = sign(hashFor(this.algorithm), Buffer.from(input), { key: this.signingKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  // ---- discovery ----

  /** /openid/v1/jwks: the public keys, as upstream serves them (use "sig", alg, kid). */
  jwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: this.verifyKeys.map((v) => {
        const jwk = v.key.export({ format: 'jwk' }) as Record<string, string>;
        // go-jose's field order: use, kty, kid, crv, alg, then the key material.
        return jwk['kty'] === 'EC'
          ? { use: 'sig', kty: 'EC', kid: v.kid, crv: jwk['crv'], alg: v.alg, x: jwk['x'], y: jwk['y'] }
          : { use: 'sig', kty: jwk['kty'], kid: v.kid, alg: v.alg, n: jwk['n'], e: jwk['e'] };
      }),
    };
  }

  /** /.well-known/openid-configuration for the issuer. */
  openidConfiguration(jwksURI = `${this.issuer}/openid/v1/jwks`): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: jwksURI,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...new Set(this.verifyKeys.map((v) => v.alg))].sort(),
    };
  }

  // ---- validation ----

  /**
   * Authenticates a bearer token. undefined: not a token of ours (not a JWT, or another issuer),
   * so other authenticators may try; {ok: false}: ours but invalid, with upstream's reason.
   * `audiences` are the audiences the caller accepts (default: the API server's).
   */
  async authenticate(token: string, audiences?: string[]): Promise<AuthResult | undefined> {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let header: { alg?: string; kid?: string };
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!payload || typeof payload !== 'object' || !header || typeof header !== 'object') return undefined;
    const legacy = payload['iss'] === LEGACY_ISSUER;
    if (!legacy && payload['iss'] !== this.issuer) return undefined;

    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2]!, 'base64url');
    const signedBy = this.verifyKeys.find((k) => {
      if (header.alg !== k.alg) return false;
      try {
        return verify(hashFor(k.alg), input, { key: k.key, dsaEncoding: 'ieee-p1363' }, sig);
      } catch {
        return false;
      }
    });
    if (!signedBy) return { ok: false, error: 'go-jose/go-jose: error in cryptographic primitive' };

    const aud = payload['aud'];
    let tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (!tokenAudiences.length) tokenAudiences = this.audiences;
    const requested = audiences?.length ? audiences : this.audiences;
    const matched = tokenAudiences.filter((a) => requested.includes(a));
    if (!matched.length) {
      return { ok: false, error: `token audiences ${goQuote(tokenAudiences)} is invalid for the target audiences ${goQuote(requested)}` };
    }
    try {
      const user = legacy ? await this.validateLegacy(token, payload) : await this.validateBound(payload as unknown as BoundClaims);
      return { ok: true, user, audiences: matched };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  private deletedTooLongAgo(o: KObject): boolean {
    const ts = o.metadata.deletionTimestamp;
    return !!ts && Date.parse(ts) < this.now().getTime() - DELETION_GRACE_MS;
  }

  private async validateBound(c: BoundClaims): Promise<UserInfo> {
    const now = this.now().getTime() / 1000;
    if (typeof c.exp === 'number' && now > c.exp + LEEWAY_SECONDS) throw new Error('service account token has expired');
    if (typeof c.nbf === 'number' && now < c.nbf - LEEWAY_SECONDS) throw new Error('service account token is not valid yet');
    if (typeof c.iat === 'number' && now < c.iat - LEEWAY_SECONDS) throw new Error('service account token is issued in the future');
    const k8s = c['kubernetes.io'];
    if (!k8s || typeof k8s !== 'object') throw new Error('service account token claims could not be retrieved');
    const namespace = k8s.namespace;
    const saref = k8s.serviceaccount ?? { name: '' };
    const sa = await this.getter('serviceaccounts', namespace, saref.name);
    if (!sa) throw new Error(`serviceaccounts "${saref.name}" not found`);
    if (this.deletedTooLongAgo(sa)) throw new Error(`service account ${namespace}/${saref.name} has been deleted`);
    if (sa.metadata.uid !== saref.uid) throw new Error(`service account UID (${sa.metadata.uid}) does not match claim (${saref.uid})`);

    if (k8s.secret) {
      const secret = await this.getter('secrets', namespace, k8s.secret.name);
      if (!secret || this.deletedTooLongAgo(secret)) throw new Error('service account token has been invalidated');
      if (secret.metadata.uid !== k8s.secret.uid)
        throw new Error(`secret UID (${secret.metadata.uid}) does not match service account secret ref claim (${k8s.secret.uid})`);
    }
    let pod: ObjectRef | undefined;
    if (k8s.pod) {
      const p = await this.getter('pods', namespace, k8s.pod.name);
      if (!p || this.deletedTooLongAgo(p)) throw new Error('service account token has been invalidated');
      if (p.metadata.uid !== k8s.pod.uid) throw new Error(`pod UID (${p.metadata.uid}) does not match service account pod ref claim (${k8s.pod.uid})`);
      pod = k8s.pod;
    }
    let node: ObjectRef | undefined;
    if (k8s.node) {
      if (pod) {
        // Pod-bound tokens only carry the pod's node for information.
        node = k8s.node;
      } else {
        const n = await this.getter('nodes', '', k8s.node.name);
        if (!n || this.deletedTooLongAgo(n)) throw new Error('service account token has been invalidated');
        if (n.metadata.uid !== k8s.node.uid) throw new Error(`node UID (${n.metadata.uid}) does not match service account node ref claim (${k8s.node.uid})`);
        node = k8s.node;
      }
    }
    const extra: Record<string, string[]> = {};
    if (pod?.name && pod.uid) {
      extra[POD_NAME_KEY] = [pod.name];
      extra[POD_UID_KEY] = [pod.uid];
    }
    if (c.jti) extra[CREDENTIAL_ID_KEY] = [`JTI=${c.jti}`];
    if (node?.name) {
      extra[NODE_NAME_KEY] = [node.name];
      if (node.uid) extra[NODE_UID_KEY] = [node.uid];
    }
    return {
      username: makeUsername(namespace, saref.name),
      uid: saref.uid,
      groups: [...groupNames(namespace), 'system:authenticated'],
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  }

  private async validateLegacy(token: string, p: Record<string, unknown>): Promise<UserInfo> {
    const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : '');
    const sub = str('sub');
    const namespace = str('kubernetes.io/serviceaccount/namespace');
    const secretName = str('kubernetes.io/serviceaccount/secret.name');
    const saName = str('kubernetes.io/serviceaccount/service-account.name');
    const saUID = str('kubernetes.io/serviceaccount/service-account.uid');
    if (!sub) throw new Error('sub claim is missing');
    if (!namespace) throw new Error('namespace claim is missing');
    if (!secretName) throw new Error('secretName claim is missing');
    if (!saName) throw new Error('serviceAccountName claim is missing');
    if (!saUID) throw new Error('serviceAccountUID claim is missing');
    if (sub !== makeUsername(namespace, saName)) throw new Error('sub claim is invalid');
    const secret = await this.getter('secrets', namespace, secretName);
    if (!secret || secret.metadata.deletionTimestamp) throw new Error('token has been invalidated');
    const stored = (secret.data as Record<string, string> | undefined)?.['token'];
    if (!stored || Buffer.from(stored, 'base64').toString('utf8') !== token) throw new Error("token does not match server's copy");
    const sa = await this.getter('serviceaccounts', namespace, saName);
    if (!sa) throw new Error(`serviceaccounts "${saName}" not found`);
    if (sa.metadata.deletionTimestamp) throw new Error(`service account ${namespace}/${saName} has been deleted`);
    if (sa.metadata.uid !== saUID) throw new Error(`service account UID (${sa.metadata.uid}) does not match claim (${saUID})`);
    return { username: makeUsername(namespace, saName), uid: saUID, groups: [...groupNames(namespace), 'system:authenticated'] };
  }
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuote(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

// ---- wiring into an ApiServer ----

/** Reads objects straight from the API server's storage. */
export function apiGetter(api: ApiServer): ObjectGetter {
  return async (resource, namespace, name) => {
    const served = api.resources.lookup('', 'v1', resource);
    if (!served) return undefined;
    try {
      return await api.registry.get(served.decl, resource === 'nodes' ? '' : namespace, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };
}

const perApi = new WeakMap<ApiServer, ServiceAccountTokens>();

/** Installs the token issuer/authenticator the API server's token and review endpoints use. */
export function configureServiceAccountTokens(
  api: ApiServer,
  opts: Omit<ServiceAccountTokensOptions, 'getter' | 'now'> & Partial<Pick<ServiceAccountTokensOptions, 'getter' | 'now'>>,
): ServiceAccountTokens {
  const tokens = new ServiceAccountTokens({ getter: apiGetter(api), now: () => api.clock.now(), ...opts });
  perApi.set(api, tokens);
  return tokens;
}

/** The API server's tokens; an API server nobody configured gets an in-memory key of its own. */
export function serviceAccountTokensFor(api: ApiServer): ServiceAccountTokens {
  let t = perApi.get(api);
  if (!t) {
    const key = createPrivateKeyPEM();
    t = configureServiceAccountTokens(api, { privateKey: key });
  }
  return t;
}

function createPrivateKeyPEM(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * The bearer-token authenticator for the HTTPS listener: undefined without an
 * `Authorization: Bearer` header or for tokens that are not ours; a 401 for invalid ones.
 */
export function bearerTokenAuthenticator(api: ApiServer): (req: Http2OrHttp1Request) => Promise<UserInfo | undefined> {
  return async (req) => {
    const h = req.headers['authorization'];
    const value = Array.isArray(h) ? h[0] : h;
    if (!value) return undefined;
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(value);
    if (!m) return undefined;
    const result = await serviceAccountTokensFor(api).authenticate(m[1]!);
    if (!result) return undefined;
    if (!result.ok) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return result.user;
  };
}
