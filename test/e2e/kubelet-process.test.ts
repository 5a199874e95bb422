// kubectl e2e against `kts server --container-runtime process`: the server's own node is
// Ready, `kubectl run` starts a real (host) process, get pods -o wide shows its node and IP,
// describe pod shows the kubelet's events, logs come back through the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl and the process runtime', { skip }, () => {
  let c: Cluster;
  let cfgDir: string;
  before(async () => {
    cfgDir = mkdtempSync(join(tmpdir(), 'kts-e2e-kproc-'));
    c = await startCluster({ serverArgs: ['--container-runtime', 'process', '--kubelet-port', '0', '--node-name', 'kts-e2e-node'] });
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'node/kts-e2e-node', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  test('kubectl get node shows the server node Ready with the control-plane role', async () => {
    const out = await c.ok('1.32', ['get', 'node']);
    assert.match(out, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    assert.match(out, /^kts-e2e-node\s+Ready\s+control-plane\s+\S+\s+v1\.32\.0-kts$/m);
  });

  test('kubectl run, get pods -o wide, describe pod', async () => {
    await c.ok('1.32', ['run', 'sleeper', '--image=busybox:1.28', '--command', '--', 'sh', '-c', 'echo started; sleep 3600']);
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=30s']);
    const wide = await c.ok('1.32', ['get', 'pods', '-o', 'wide']);
    assert.match(wide, /^sleeper\s+1\/1\s+Running\s+0\s+\S+\s+\d+\.\d+\.\d+\.\d+\s+kts-e2e-node\s+<none>\s+<none>$/m);
    const desc = await c.ok('1.32', ['describe', 'pod', 'sleeper']);
    assert.match(desc, /^Node:\s+kts-e2e-node\/\d+\.\d+\.\d+\.\d+$/m);
    assert.match(desc, /^Status:\s+Running$/m);
    assert.match(desc, /Container ID:\s+process:\/\/[0-9a-f]{64}/);
    assert.match(desc, /Normal\s+Pulled\s+\S+\s+kubelet\s+Container image "busybox:1\.28" already present on machine/);
    assert.match(desc, /Normal\s+Created\s+\S+\s+kubelet\s+Created container: sleeper/);
    assert.match(desc, /Normal\s+Started\s+\S+\s+kubelet\s+Started container sleeper/);
    assert.match(desc, /Warning\s+RuntimeLimitations\s+\S+\s+kubelet\s+The process runtime runs containers as host processes/);
    await c.ok('1.32', ['delete', 'pod', 'sleeper', '--wait=true', '--timeout=30s']);
  });

  test('a container without a command fails with CreateContainerConfigError', async () => {
    await c.ok('1.32', ['run', 'nocmd', '--image=nginx:1.20']);
    for (let i = 0; i < 100; i++) {
      const out = await c.ok('1.32', ['get', 'pod', 'nocmd']);
      if (/CreateContainerConfigError/.test(out)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail('no CreateContainerConfigError');
  });
});
