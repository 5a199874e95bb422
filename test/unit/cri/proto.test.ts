import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, enumValue, schema } from '../../../src/kubelet/runtime/cri/proto.js';
import { CRIError } from '../../../src/kubelet/runtime/cri/client.js';
import { tar } from '../../../src/kubelet/runtime/cri/oci.js';
import { cniConflist } from '../../../src/kubelet/runtime/cri/cni.js';

const hex = (b: Buffer) => b.toString('hex');

test('schema carries upstream CRI v1 field numbers (k8s.io/cri-api api.proto)', () => {
  const num = (msg: string, field: string) => schema.messages[`runtime.v1.${msg}`]?.find((f) => f[1] === field)?.[0];
  assert.equal(num('RunPodSandboxRequest', 'runtimeHandler'), 2);
  assert.equal(num('PodSandboxConfig', 'linux'), 8);
  assert.equal(num('ContainerConfig', 'logPath'), 11);
  assert.equal(num('ContainerConfig', 'linux'), 15);
  assert.equal(num('ContainerStatus', 'logPath'), 15);
  assert.equal(num('LinuxContainerSecurityContext', 'runAsGroup'), 12);
  assert.equal(num('ExecSyncResponse', 'exitCode'), 3);
  assert.deepEqual(schema.services['runtime.v1.RuntimeService']?.['ExecSync'], ['runtime.v1.ExecSyncRequest', 'runtime.v1.ExecSyncResponse']);
  assert.equal(enumValue('NamespaceMode', 'NODE'), 2);
  assert.equal(enumValue('ContainerState', 'CONTAINER_EXITED'), 2);
});

test('encodes strings, repeated strings, varints and nested messages as protobuf wire bytes', () => {
  assert.equal(hex(encode('PodSandboxMetadata', { name: 'p', uid: 'u', namespace: 'n', attempt: 1 })), '0a0170120175' + '1a016e' + '2001');
  assert.equal(hex(encode('ExecSyncRequest', { containerId: 'c', cmd: ['a', 'b'], timeout: 5 })), '0a0163' + '120161' + '120162' + '1805');
  // proto3: defaults are not written
  assert.equal(hex(encode('PodSandboxMetadata', { name: '', uid: 'u', attempt: 0 })), '120175');
  // nested message: RunPodSandboxRequest.config (1) → PodSandboxConfig.hostname (2)
  assert.equal(hex(encode('RunPodSandboxRequest', { config: { hostname: 'h' } })), '0a03' + '120168');
});

test('encodes maps as entry messages, negative int64 as 10-byte varints, repeated int64 packed', () => {
  assert.equal(hex(encode('PodSandbox', { labels: { a: 'b' } })), '2a06' + '0a0161' + '120162');
  assert.equal(hex(encode('LinuxContainerResources', { oomScoreAdj: -1 })), '28' + 'ffffffffffffffffff01');
  assert.equal(hex(encode('LinuxContainerSecurityContext', { supplementalGroups: [1, 300] })), '4203' + '01' + 'ac02');
  // large values (nanosecond timestamps) survive
  const ts = 1_700_000_000_123_456_789n;
  const b = encode('ContainerStatus', { createdAt: ts });
  assert.equal(decode('ContainerStatus', b).createdAt, Number(ts));
});

test('decodes with proto3 defaults, skips unknown fields, reads bytes and enums', () => {
  const d = decode('ExecSyncResponse', Buffer.from('0a026869' + '1203657272' + '1802' + 'f80701', 'hex'));
  assert.equal(Buffer.from(d.stdout).toString(), 'hi');
  assert.equal(Buffer.from(d.stderr).toString(), 'err');
  assert.equal(d.exitCode, 2);
  const s = decode('ContainerStatus', Buffer.from('0a0178' + '1802', 'hex'));
  assert.equal(s.id, 'x');
  assert.equal(s.state, 2);
  assert.equal(s.reason, '');
  assert.deepEqual(s.labels, {});
  assert.equal(s.metadata, undefined);
  const round = { id: 'abc', metadata: { name: 'c', attempt: 3 }, labels: { k: 'v', x: 'y' }, mounts: [{ containerPath: '/a', hostPath: '/b', readonly: true }], exitCode: -1 };
  const back = decode('ContainerStatus', encode('ContainerStatus', round));
  assert.deepEqual(back.metadata, { name: 'c', attempt: 3 });
  assert.deepEqual(back.labels, { k: 'v', x: 'y' });
  assert.equal(back.mounts[0].hostPath, '/b');
  assert.equal(back.mounts[0].readonly, true);
  assert.equal(back.exitCode, -1);
});

test("CRI errors read like Go's gRPC status, as the kubelet shows them", () => {
  assert.equal(new CRIError('PullImage', 5, 'failed to resolve reference "x"').message, 'rpc error: code = NotFound desc = failed to resolve reference "x"');
  assert.equal(new CRIError('PullImage', 2, 'boom').message, 'rpc error: code = Unknown desc = boom');
});

test('tar writes ustar headers with valid checksums, symlinks and padding', () => {
  const t = tar([
    { name: 'bin', type: 'dir' },
    { name: 'bin/x', type: 'file', mode: 0o755, data: Buffer.from('hello') },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
  ]);
  assert.equal(t.length, 512 * 3 + 512 + 1024);
  for (const off of [0, 512, 1536]) {
    const h = t.subarray(off, off + 512);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    assert.equal(parseInt(h.subarray(148, 155).toString(), 8), sum);
    assert.equal(h.subarray(257, 262).toString(), 'ustar');
  }
  assert.equal(t.subarray(0, 4).toString(), 'bin/');
  assert.equal(t.subarray(1024, 1029).toString(), 'hello');
  assert.equal(t.subarray(1536 + 156, 1536 + 157).toString(), '2');
  assert.equal(t.subarray(1536 + 157, 1536 + 169).toString(), '/bin/busybox');
});

test('CNI conflist: bridge with gateway, masquerade, hairpin, host-local over the pod CIDR, then portmap', () => {
  const c = cniConflist({ podCIDR: '10.42.3.0/24', dataDir: '/x' }) as { plugins: Record<string, unknown>[] };
  const [bridge, portmap] = c.plugins;
  assert.equal(bridge!.type, 'bridge');
  assert.equal(bridge!.isGateway, true);
  assert.equal(bridge!.ipMasq, true);
  assert.equal(bridge!.hairpinMode, true);
  assert.deepEqual(bridge!.ipam, { type: 'host-local', dataDir: '/x', ranges: [[{ subnet: '10.42.3.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  assert.deepEqual(portmap, { type: 'portmap', capabilities: { portMappings: true }, snat: true });
});

test('registries.yaml (k3s shape) becomes containerd hosts.toml mirrors and CRI auth config', async () => {
  const { writeRegistryHosts, containerdConfig, containerdPaths } = await import('../../../src/kubelet/runtime/cri/containerd.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-reg-'));
  try {
    const auth = writeRegistryHosts(path.join(dir, 'certs.d'), {
      mirrors: { 'docker.io': { endpoint: ['http://127.0.0.1:5000'] } },
      configs: { 'registry.example.com': { auth: { username: 'u', password: 'p' }, tls: { insecure_skip_verify: true } } },
    });
    const docker = fs.readFileSync(path.join(dir, 'certs.d', 'docker.io', 'hosts.toml'), 'utf8');
    assert.match(docker, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.match(docker, /^\[host\."http:\/\/127\.0\.0\.1:5000"\]\n  capabilities = \["pull", "resolve"\]$/m);
    const ex = fs.readFileSync(path.join(dir, 'certs.d', 'registry.example.com', 'hosts.toml'), 'utf8');
    assert.match(ex, /skip_verify = true/);
    assert.match(auth, /registry\.configs\."registry\.example\.com"\.auth\]\n\s+username = "u"\n\s+password = "p"/);
    const paths = containerdPaths(dir);
    const cfg = containerdConfig({ paths, pauseImage: 'localhost/kts/pause:busybox', cniConfDir: '/c', cniBinDir: '/usr/lib/cni', registryAuthToml: auth });
    assert.match(cfg, /sandbox_image = "localhost\/kts\/pause:busybox"/);
    assert.match(cfg, /restrict_oom_score_adj = true/);
    assert.match(cfg, new RegExp(`config_path = "${paths.certsDir.replace(/[/.]/g, '\\$&')}"`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
