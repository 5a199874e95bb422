// The cluster's PKI: one ECDSA P-256 CA (10 years), the API server's serving certificate and the
// admin client certificate (1 year each), as k3s does. Generated on first start, reused afterwards;
// the serving certificate is re-issued from the same CA when a wanted SAN is missing or it is
// about to expire. Reuse only parses PEM with node:crypto (a few ms); @peculiar/x509 is loaded
// only when something has to be signed.
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface PKI {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  dir: string;
}

export interface SANs {
  dns: string[];
  ips: string[];
}

export interface IssuedCert {
  cert: string;
  key: string;
}

/** Names every kube-apiserver serving certificate carries (the in-cluster Service and loopback). */
export const DEFAULT_SANS: SANs = {
  dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'],
  ips: ['127.0.0.1'],
};

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'serving.crt',
  servingKey: 'serving.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;

const DAY_MS = 24 * 3600 * 1000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;
/** Leaf certificates are renewed when less than this is left (k3s renews within 90 days). */
const RENEW_BEFORE_DAYS = 90;
/** Backdated so that a peer whose clock is a little behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// WebCrypto types from node:crypto (the project compiles without the DOM lib).
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type X509Crypto = Parameters<X509Module['cryptoProvider']['set']>[0];

type X509Module = typeof import('@peculiar/x509');
let x509Module: Promise<X509Module> | undefined;
function loadX509(): Promise<X509Module> {
  // @peculiar/x509 registers its algorithms with tsyringe, which needs the reflect-metadata API.
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509')).then((m) => {
    m.cryptoProvider.set(webcrypto as unknown as X509Crypto);
    return m;
  });
  return x509Module;
}

/** Loads the PKI under `dir`, creating or renewing whatever is missing, invalid or lacks a SAN. */
export async function ensurePKI(dir: string, opts: { sans: SANs }): Promise<PKI> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const sans = mergeSANs(DEFAULT_SANS, opts.sans);
  const existing = await readExisting(dir);
  const now = Date.now();

  let ca = existing.caCert && existing.caKey ? { cert: existing.caCert, key: existing.caKey } : undefined;
  if (ca && !certUsable(ca.cert, now, 0)) ca = undefined;
  const newCA = !ca;
  if (!ca) {
    ca = await createCA();
    await writePair(dir, FILES.caCert, ca.cert, FILES.caKey, ca.key);
  }

  let serving = existing.servingCert && existing.servingKey ? { cert: existing.servingCert, key: existing.servingKey } : undefined;
  if (newCA || !serving || !leafUsable(serving.cert, ca.cert, now) || !hasAllSANs(serving.cert, sans)) {
    serving = await issueCert(ca, { cn: 'kube-apiserver', orgs: [], dns: sans.dns, ips: sans.ips, usage: 'server' });
    await writePair(dir, FILES.servingCert, serving.cert, FILES.servingKey, serving.key);
  }

  let admin = existing.adminCert && existing.adminKey ? { cert: existing.adminCert, key: existing.adminKey } : undefined;
  if (newCA || !admin || !leafUsable(admin.cert, ca.cert, now)) {
    admin = await issueCert(ca, { cn: 'kubernetes-admin', orgs: ['system:masters'], usage: 'client' });
    await writePair(dir, FILES.adminCert, admin.cert, FILES.adminKey, admin.key);
  }

  return {
    caCert: ca.cert,
    caKey: ca.key,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    dir,
  };
}

/** A client certificate signed by the cluster CA (e.g. CN=system:node:<name>, O=system:nodes). */
export function issueClientCert(pki: Pick<PKI, 'caCert' | 'caKey'>, cn: string, orgs: string[] = []): Promise<IssuedCert> {
  return issueCert({ cert: pki.caCert, key: pki.caKey }, { cn, orgs, usage: 'client' });
}

/** A serving certificate signed by the cluster CA (e.g. a kubelet's HTTPS endpoint). */
export function issueServingCert(pki: Pick<PKI, 'caCert' | 'caKey'>, cn: string, sans: SANs): Promise<IssuedCert> {
  return issueCert({ cert: pki.caCert, key: pki.caKey }, { cn, orgs: [], dns: sans.dns, ips: sans.ips, usage: 'server' });
}

// ---- generation ----

async function createCA(): Promise<IssuedCert> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    // Unique per cluster, like k3s's "k3s-server-ca@<unix time>".
    name: new x509.Name([{ CN: [`kts-ca@${Math.floor(Date.now() / 1000)}`] }]),
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

interface LeafSpec {
  cn: string;
  orgs: string[];
  dns?: string[];
  ips?: string[];
  usage: 'client' | 'server';
}

async function issueCert(ca: IssuedCert, spec: LeafSpec): Promise<IssuedCert> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
  const extensions: InstanceType<X509Module['Extension']>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([
      spec.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  const altNames = [
    ...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (altNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    // Organizations first, then CN: the order Go's pkix.Name marshals them in.
    subject: new x509.Name([...spec.orgs.map((o) => ({ O: [o] })), { CN: [spec.cn] }]),
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey) };
}

/** Positive 128-bit serial (the top bit cleared so DER does not need a sign byte). */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** PKCS#8 "PRIVATE KEY" PEM: read by Go's tls.X509KeyPair (kubectl), Node's tls and OpenSSL alike. */
async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** Accepts PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM, so hand-provided CA keys work too. */
async function importKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALG, false, ['sign']);
}

// ---- reuse checks (node:crypto only) ----

async function readExisting(dir: string): Promise<Partial<Record<keyof typeof FILES, string>>> {
  const out: Partial<Record<keyof typeof FILES, string>> = {};
  await Promise.all(
    (Object.keys(FILES) as (keyof typeof FILES)[]).map(async (k) => {
      try {
        out[k] = await readFile(join(dir, FILES[k]), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }),
  );
  return out;
}

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function certUsable(pem: string, now: number, renewBeforeMs: number): boolean {
  const c = parse(pem);
  return !!c && Date.parse(c.validTo) - renewBeforeMs > now && Date.parse(c.validFrom) <= now + CLOCK_SKEW_MS;
}

function leafUsable(pem: string, caPem: string, now: number): boolean {
  const c = parse(pem);
  const ca = parse(caPem);
  return !!c && !!ca && c.checkIssued(ca) && c.verify(ca.publicKey) && certUsable(pem, now, RENEW_BEFORE_DAYS * DAY_MS);
}

/** The certificate's SANs, as node:crypto prints them ("DNS:a, IP Address:127.0.0.1"). */
export function certificateSANs(pem: string): SANs {
  const out: SANs = { dns: [], ips: [] };
  const text = parse(pem)?.subjectAltName ?? '';
  for (const part of text.split(', ')) {
    if (part.startsWith('DNS:')) out.dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) out.ips.push(canonicalIP(part.slice(11)));
  }
  return out;
}

function hasAllSANs(pem: string, wanted: SANs): boolean {
  const have = certificateSANs(pem);
  const dns = new Set(have.dns.map((d) => d.toLowerCase()));
  const ips = new Set(have.ips);
  return wanted.dns.every((d) => dns.has(d.toLowerCase())) && wanted.ips.every((ip) => ips.has(canonicalIP(ip)));
}

/** One spelling per address, so "::1" and "0:0:0:0:0:0:0:1" compare equal. */
function canonicalIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function mergeSANs(a: SANs, b: SANs): SANs {
  const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))];
  return { dns: uniq([...a.dns, ...b.dns]), ips: uniq([...a.ips, ...b.ips]) };
}

// ---- files ----

/** Writes atomically (temp file + rename) so a crash never leaves half a key; keys are 0600. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function writePair(dir: string, certFile: string, cert: string, keyFile: string, key: string): Promise<void> {
  await writeAtomic(join(dir, keyFile), key, 0o600);
  await writeAtomic(join(dir, certFile), cert, 0o644);
}

// ---- service account signing key ----

export interface ServiceAccountKeyPair {
  /** PKCS#8 PEM. */
  privateKey: string;
  /** SPKI ("PUBLIC KEY") PEM. */
  publicKey: string;
}

/**
 * The key that signs service account tokens (kube-apiserver's --service-account-signing-key-file
 * and --service-account-key-file): `service-account.key` / `service-account.pub` under `dir`,
 * created on first start and reused afterwards. kts generates ECDSA P-256 keys (tokens are ES256)
 * because they are generated instantly; upstream's kubeadm/kind generate RSA (RS256). A
 * hand-provided RSA key is used as it is (the token algorithm follows the key type, as upstream).
 */
export async function ensureServiceAccountKey(dir: string): Promise<ServiceAccountKeyPair> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'service-account.key');
  const pubPath = join(dir, 'service-account.pub');
  let privateKey: string | undefined;
  try {
    privateKey = await readFile(keyPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (privateKey !== undefined) {
    try {
      createPrivateKey(privateKey);
    } catch (err) {
      throw new Error(`${keyPath}: not a private key: ${(err as Error).message}`);
    }
  }
  if (privateKey === undefined) {
    const { privateKey: k } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKey = k.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeAtomic(keyPath, privateKey, 0o600);
  }
  const publicKey = createPublicKey(createPrivateKey(privateKey)).export({ format: 'pem', type: 'spki' }).toString();
  let onDisk: string | undefined;
  try {
    onDisk = await readFile(pubPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (onDisk !== publicKey) await writeAtomic(pubPath, publicKey, 0o644);
  return { privateKey, publicKey };
}
