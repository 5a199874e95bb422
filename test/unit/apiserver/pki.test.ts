import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { certificateSANs, ensurePKI, issueClientCert, type PKI } from '../../../src/apiserver/pki.js';

let dir: string;
let pki: PKI;
const sans = { dns: ['kts.example'], ips: ['10.0.0.5', '::1'] };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-pki-'));
  pki = await ensurePKI(join(dir, 'tls'), { sans });
});
after(() => rm(dir, { recursive: true, force: true }));

function subjectOf(pem: string): string[] {
  return new X509Certificate(pem).subject.split('\n').sort();
}

test('generates a CA, a serving and an admin certificate, keys mode 0600', async () => {
  for (const f of ['ca.crt', 'ca.key', 'serving.crt', 'serving.key', 'admin.crt', 'admin.key']) {
    const st = await stat(join(pki.dir, f));
    if (f.endsWith('.key')) assert.equal(st.mode & 0o777, 0o600, f);
  }
  const ca = new X509Certificate(pki.caCert);
  assert.ok(ca.ca, 'CA certificate has CA:TRUE');
  // 10-year CA, 1-year leaves.
  const years = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / (365 * 24 * 3600e3);
  assert.ok(years(ca) > 9.9 && years(ca) < 10.1, String(years(ca)));
  const serving = new X509Certificate(pki.servingCert);
  assert.ok(years(serving) > 0.9 && years(serving) < 1.1);
  assert.equal(serving.ca, false);
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('serving and admin certificates verify against the CA', () => {
  const ca = new X509Certificate(pki.caCert);
  for (const pem of [pki.servingCert, pki.adminCert]) {
    const c = new X509Certificate(pem);
    assert.ok(c.checkIssued(ca));
    assert.ok(c.verify(ca.publicKey));
  }
});

test('admin certificate is CN=kubernetes-admin, O=system:masters, for client auth only', () => {
  assert.deepEqual(subjectOf(pki.adminCert), ['CN=kubernetes-admin', 'O=system:masters']);
  assert.deepEqual(new X509Certificate(pki.adminCert).keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.deepEqual(new X509Certificate(pki.servingCert).keyUsage, ['1.3.6.1.5.5.7.3.1']);
});

test('serving certificate carries the wanted and the in-cluster SANs', () => {
  const got = certificateSANs(pki.servingCert);
  for (const d of ['kts.example', 'localhost', 'kubernetes', 'kubernetes.default.svc.cluster.local']) assert.ok(got.dns.includes(d), d);
  assert.ok(got.ips.includes('10.0.0.5'));
  assert.ok(got.ips.includes('127.0.0.1'));
  assert.ok(got.ips.includes('0:0:0:0:0:0:0:1'));
});

test('a real TLS handshake: server by name and IP, client identified by its certificate', async () => {
  const server = tls.createServer({ cert: pki.servingCert, key: pki.servingKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: true }, (s) => {
    const peer = s.getPeerCertificate();
    s.end(`${peer.subject.CN}|${peer.subject.O}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    for (const servername of ['localhost', 'kubernetes.default.svc', undefined]) {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername, ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey }, () => {
          let data = '';
          s.on('data', (d) => (data += d));
          s.on('end', () => resolve(data));
        });
        s.on('error', reject);
      });
      assert.equal(reply, 'kubernetes-admin|system:masters', String(servername));
    }
  } finally {
    server.close();
  }
});

test('later starts reuse every file unchanged, quickly', async (t) => {
  const t0 = performance.now();
  const again = await ensurePKI(pki.dir, { sans });
  const ms = performance.now() - t0;
  assert.deepEqual(again, pki);
  // Not a timing assertion, just visible in the output.
  t.diagnostic(`reuse took ${ms.toFixed(1)} ms`);
});

test('a new SAN re-issues the serving certificate from the same CA; admin is kept', async () => {
  const renewed = await ensurePKI(pki.dir, { sans: { dns: [...sans.dns, 'new.example'], ips: sans.ips } });
  assert.equal(renewed.caCert, pki.caCert);
  assert.equal(renewed.caKey, pki.caKey);
  assert.equal(renewed.adminCert, pki.adminCert);
  assert.notEqual(renewed.servingCert, pki.servingCert);
  assert.notEqual(renewed.servingKey, pki.servingKey);
  assert.ok(certificateSANs(renewed.servingCert).dns.includes('new.example'));
  assert.ok(new X509Certificate(renewed.servingCert).checkIssued(new X509Certificate(pki.caCert)));
  // Asking for a subset afterwards changes nothing.
  const same = await ensurePKI(pki.dir, { sans: { dns: ['kts.example'], ips: [] } });
  assert.equal(same.servingCert, renewed.servingCert);
  // IPv6 spelled differently is the same address.
  const same6 = await ensurePKI(pki.dir, { sans: { dns: [], ips: ['0:0:0:0:0:0:0:1'] } });
  assert.equal(same6.servingCert, renewed.servingCert);
});

test('issueClientCert signs client certificates for other components', async () => {
  const { cert, key } = await issueClientCert(pki, 'system:node:n1', ['system:nodes']);
  const c = new X509Certificate(cert);
  assert.deepEqual(subjectOf(cert), ['CN=system:node:n1', 'O=system:nodes']);
  assert.ok(c.checkIssued(new X509Certificate(pki.caCert)));
  assert.ok(c.checkPrivateKey((await import('node:crypto')).createPrivateKey(key)));
  assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.2']);
});
