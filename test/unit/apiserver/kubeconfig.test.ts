import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderKubeconfig, writeKubeconfig } from '../../../src/cli/kubeconfig.js';

const opts = {
  server: 'https://127.0.0.1:6443',
  caCert: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  clientCert: '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n',
  clientKey: '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n',
};

const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

test('renders a standard kubeconfig that round-trips through YAML', () => {
  const cfg = parse(renderKubeconfig(opts));
  assert.equal(cfg.apiVersion, 'v1');
  assert.equal(cfg.kind, 'Config');
  assert.equal(cfg['current-context'], 'default');
  assert.deepEqual(cfg.contexts, [{ name: 'default', context: { cluster: 'default', user: 'default' } }]);
  assert.equal(cfg.clusters[0].name, 'default');
  assert.equal(cfg.clusters[0].cluster.server, opts.server);
  assert.equal(unb64(cfg.clusters[0].cluster['certificate-authority-data']), opts.caCert);
  assert.equal(cfg.users[0].name, 'default');
  assert.equal(unb64(cfg.users[0].user['client-certificate-data']), opts.clientCert);
  assert.equal(unb64(cfg.users[0].user['client-key-data']), opts.clientKey);
});

test('names can be chosen', () => {
  const cfg = parse(renderKubeconfig({ ...opts, clusterName: 'c', user: 'u', context: 'x' }));
  assert.equal(cfg['current-context'], 'x');
  assert.deepEqual(cfg.contexts[0], { name: 'x', context: { cluster: 'c', user: 'u' } });
  assert.equal(cfg.clusters[0].name, 'c');
  assert.equal(cfg.users[0].name, 'u');
});

test('base64 data is never folded across lines', () => {
  const long = { ...opts, caCert: 'x'.repeat(3000) };
  const line = renderKubeconfig(long).split('\n').find((l) => l.includes('certificate-authority-data'))!;
  assert.equal(unb64(line.split(': ')[1]!), long.caCert);
});

test('writeKubeconfig creates directories and writes mode 0600', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kts-kubeconfig-'));
  try {
    const path = join(dir, 'a', 'b', 'kubeconfig.yaml');
    await writeKubeconfig(path, opts);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), renderKubeconfig(opts));
    // Overwriting keeps the mode.
    await writeKubeconfig(path, { ...opts, server: 'https://10.0.0.1:6443' });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(parse(await readFile(path, 'utf8')).clusters[0].cluster.server, 'https://10.0.0.1:6443');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
