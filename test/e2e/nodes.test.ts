// kubectl e2e against `kts server --simulated-nodes 3`: get nodes (plain and -o wide) and
// describe node look like upstream's, pods bound to a simulated node run with an IP from its
// pod CIDR, and the Leases show in kube-node-lease.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSIONS, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl and simulated nodes', { skip }, () => {
  let c: Cluster;
  let cfgDir: string;
  before(async () => {
    // The harness starts `kts server` with fixed flags; the server reads the rest from
    // $KTS_CONFIG_FILE (keys are flag names), which the child inherits.
    cfgDir = mkdtempSync(join(tmpdir(), 'kts-e2e-nodes-'));
    const cfg = join(cfgDir, 'config.yaml');
    writeFileSync(cfg, 'simulated-nodes: 3\n');
    process.env['KTS_CONFIG_FILE'] = cfg;
    try {
      c = await startCluster({ serverArgs: ["--disable-agent"] });
    } finally {
      delete process.env['KTS_CONFIG_FILE'];
    }
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  for (const v of VERSIONS) {
    test(`kubectl ${v} get nodes`, async () => {
      const out = await c.ok(v, ['get', 'nodes']);
      assert.match(out.split('\n')[0]!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
      const rows = table(out);
      assert.deepEqual(rows.map((r) => r['NAME']), ['kts-node-1', 'kts-node-2', 'kts-node-3']);
      for (const r of rows) {
        assert.equal(r['STATUS'], 'Ready');
        assert.equal(r['ROLES'], '<none>');
        assert.equal(r['VERSION'], 'v1.32.0-kts');
        assert.match(r['AGE']!, /^\d+s$/);
      }
    });
  }

  test('kubectl get nodes -o wide', async () => {
    const out = await c.ok('1.32', ['get', 'nodes', '-o', 'wide']);
    assert.match(out.split('\n')[0]!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
    const rows = table(out);
    assert.deepEqual(rows.map((r) => r['INTERNAL-IP']), ['172.18.0.2', '172.18.0.3', '172.18.0.4']);
    for (const r of rows) {
      assert.equal(r['EXTERNAL-IP'], '<none>');
      assert.equal(r['OS-IMAGE'], 'Debian GNU/Linux 12 (bookworm)');
      assert.equal(r['KERNEL-VERSION'], '6.1.0-kts');
      assert.match(r['CONTAINER-RUNTIME']!, /^fake:\/\/\S+$/);
    }
  });

  test('a pod bound to a node runs; describe node shows it with its requests', async () => {
    const overrides = JSON.stringify({
      spec: { nodeName: 'kts-node-2', containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] },
    });
    await c.ok('1.32', ['run', 'web', '--image=nginx', `--overrides=${overrides}`]);
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
    const pods = table(await c.ok('1.32', ['get', 'pods', '-o', 'wide']));
    const web = pods.find((p) => p['NAME'] === 'web')!;
    assert.equal(web['STATUS'], 'Running');
    assert.equal(web['READY'], '1/1');
    assert.equal(web['NODE'], 'kts-node-2');
    const cidr = await c.ok('1.32', ['get', 'node', 'kts-node-2', '-o', 'jsonpath={.spec.podCIDR}']);
    assert.match(cidr, /^10\.244\.\d+\.0\/24$/);
    assert.equal(web['IP']!.split('.').slice(0, 3).join('.'), cidr.split('.').slice(0, 3).join('.'));

    const d = await c.ok('1.32', ['describe', 'node', 'kts-node-2']);
    assert.match(d, /^Name:\s+kts-node-2$/m);
    assert.match(d, /^Roles:\s+<none>$/m);
    assert.match(d, /^Labels:\s+beta\.kubernetes\.io\/arch=amd64$/m);
    assert.match(d, /kubernetes\.io\/hostname=kts-node-2/);
    assert.match(d, /kts\.dev\/simulated: true/);
    assert.match(d, /^Taints:\s+<none>$/m);
    assert.match(d, /^Unschedulable:\s+false$/m);
    assert.match(d, /^Lease:\n\s+HolderIdentity:\s+kts-node-2\n/m);
    assert.match(d, /^\s+Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status$/m);
    assert.match(d, /^\s+MemoryPressure\s+False\s+.*KubeletHasSufficientMemory\s+kubelet has sufficient memory available$/m);
    assert.match(d, /^Addresses:\n\s+InternalIP:\s+172\.18\.0\.3\n\s+Hostname:\s+kts-node-2$/m);
    assert.match(d, /^Capacity:\n\s+cpu:\s+8\n/m);
    assert.match(d, /^Allocatable:\n\s+cpu:\s+8\n/m);
    assert.match(d, /^\s+pods:\s+110$/m);
    assert.match(d, /^System Info:\n/m);
    assert.match(d, /^\s+Kubelet Version:\s+v1\.32\.0-kts$/m);
    assert.match(d, /^\s+Container Runtime Version:\s+fake:\/\//m);
    assert.match(d, new RegExp(`^PodCIDR:\\s+${cidr.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(d, /^Non-terminated Pods:\s+\(1 in total\)$/m);
    assert.match(d, /^\s+default\s+web\s+500m \(6%\)\s+0 \(0%\)\s+256Mi \(0%\)\s+0 \(0%\)\s+\d+s$/m);
    assert.match(d, /^Allocated resources:\n/m);
    assert.match(d, /^\s+cpu\s+500m \(6%\)\s+0 \(0%\)$/m);
    assert.match(d, /^Events:\n/m);
    assert.match(d, /Normal\s+NodeReady\s+\S+\s+kubelet\s+Node kts-node-2 status is now: NodeReady/);
    assert.match(d, /Normal\s+RegisteredNode\s+\S+\s+node-controller\s+Node kts-node-2 event: Registered Node kts-node-2 in Controller/);
  });

  test('kubectl get leases -n kube-node-lease', async () => {
    const rows = table(await c.ok('1.32', ['get', 'leases', '-n', 'kube-node-lease']));
    assert.deepEqual(
      rows.map((r) => [r['NAME'], r['HOLDER']]),
      [
        ['kts-node-1', 'kts-node-1'],
        ['kts-node-2', 'kts-node-2'],
        ['kts-node-3', 'kts-node-3'],
      ],
    );
  });
});
