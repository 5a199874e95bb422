// kubectl e2e: `kubectl top node` and `kubectl top pod` against kts' built-in metrics.k8s.io,
// on `kts server --container-runtime process` (real host processes), with a simulated node that
// has no kubelet to scrape. A busy shell loop must show non-zero CPU and sort first by cpu.
// The server scrapes every 2 s here (--metric-resolution; metrics-server's default is 15 s) and
// a CPU rate needs two samples, so the first numbers take a few seconds to appear.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();
const NODE = 'kts-top-node';

const manifest = (ns: string, name: string, script: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
    app: ${name}
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.28
    command: ["sh", "-c", ${JSON.stringify(script)}]
  - name: side
    image: busybox:1.28
    command: ["sleep", "3600"]
`;

/** kubectl's CPU column value in millicores ("980m" → 980, "1" → 1000). */
function milli(cpu: string): number {
  return cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

describe('kubectl top (metrics.k8s.io served by kts)', { skip }, () => {
  let c: Cluster;

  before(async () => {
    c = await startCluster({ serverArgs: ['--container-runtime', 'process', '--kubelet-port', '0', '--node-name', NODE, '--simulated-nodes', '1', '--metric-resolution', '2s'] });
    await c.ok('1.32', ['wait', '--for=condition=Ready', `node/${NODE}`, '--timeout=30s']);
    await c.ok('1.32', ['create', 'namespace', 'other']);
    await c.ok('1.32', ['apply', '-f', await c.file('spin.yaml', manifest('default', 'spin', 'while :; do :; done'))]);
    await c.ok('1.32', ['apply', '-f', await c.file('idle.yaml', manifest('other', 'idle', 'sleep 3600'))]);
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'pod/spin', '--timeout=30s']);
    await c.ok('1.32', ['wait', '--for=condition=Ready', 'pod/idle', '-n', 'other', '--timeout=30s']);
  });
  after(async () => {
    await c?.kubectl('1.32', ['delete', 'pod', 'spin', '--grace-period=0', '--force', '--wait=false']);
    await c?.kubectl('1.32', ['delete', 'pod', 'idle', '-n', 'other', '--grace-period=0', '--force', '--wait=false']);
    await c?.stop();
  });

  /** Runs kubectl until it succeeds with output matching `re` (metrics appear after two scrapes). */
  async function eventually(v: string, args: string[], re: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const r = await c.kubectl(v, args);
      last = r.stderr + r.stdout;
      if (r.code === 0 && re.test(r.stdout)) return r.stdout;
      // Before the first rate kubectl says so, as with a fresh metrics-server.
      assert.ok(r.code === 0 || /metrics not available yet|podmetrics.metrics.k8s.io ".*" not found/.test(r.stderr), `kubectl ${v} ${args.join(' ')}: ${last}`);
      await new Promise((res) => setTimeout(res, 1000));
    }
    throw new Error(`timed out: kubectl ${v} ${args.join(' ')}:\n${last}`);
  }

  test('kubectl top node: usage of the kubelet node, <unknown> for the simulated one', async () => {
    for (const v of VERSIONS) {
      const out = await eventually(v, ['top', 'node'], new RegExp(`^${NODE}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%\\s*$`, 'm'));
      // 1.27–1.30 print CPU% / MEMORY%, later ones CPU(%) / MEMORY(%)
      assert.match(out, /^NAME\s+CPU\(cores\)\s+CPU(%|\(%\))\s+MEMORY\(bytes\)\s+MEMORY(%|\(%\))\s*$/m, `kubectl ${v}:\n${out}`);
      assert.match(out, /^kts-node-1\s+<unknown>\s+<unknown>\s+<unknown>\s+<unknown>\s*$/m, `kubectl ${v}:\n${out}`);
      const one = await c.ok(v, ['top', 'node', NODE]);
      assert.match(one, new RegExp(`^${NODE}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%\\s*$`, 'm'));
      const sim = await c.kubectl(v, ['top', 'node', 'kts-node-1']);
      assert.equal(sim.code, 1);
      assert.equal(sim.stderr, 'Error from server (NotFound): nodemetrics.metrics.k8s.io "kts-node-1" not found\n', `kubectl ${v}`);
    }
  });

  test('kubectl top pod: a busy loop uses CPU', async () => {
    for (const v of VERSIONS) {
      const out = await eventually(v, ['top', 'pod'], /^spin\s+\d+m\s+\d+Mi\s*$/m);
      assert.match(out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
      const cpu = /^spin\s+(\d+m)/m.exec(out)![1]!;
      assert.ok(milli(cpu) >= 200, `spin uses ${cpu} (kubectl ${v})`);
      assert.doesNotMatch(out, /^idle\s/m, 'only the current namespace');
    }
  });

  test('kubectl top pod --containers shows each container', async () => {
    for (const v of VERSIONS) {
      const out = await eventually(v, ['top', 'pod', 'spin', '--containers'], /^spin\s+side\s/m);
      assert.match(out, /^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
      const main = /^spin\s+main\s+(\d+m)\s+\d+Mi\s*$/m.exec(out);
      assert.ok(main && milli(main[1]!) >= 200, `kubectl ${v}:\n${out}`);
      assert.match(out, /^spin\s+side\s+\d+m\s+\d+Mi\s*$/m);
    }
  });

  test('kubectl top pod -A --sort-by=cpu: every namespace, the busiest first', async () => {
    for (const v of VERSIONS) {
      const out = await eventually(v, ['top', 'pod', '-A', '--sort-by=cpu'], /^other\s+idle\s/m);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
      assert.match(lines[1]!, /^default\s+spin\s+\d+m\s+\d+Mi\s*$/, `kubectl ${v}:\n${out}`);
      const byLabel = await c.ok(v, ['top', 'pod', '-A', '-l', 'app=idle']);
      assert.match(byLabel, /^other\s+idle\s+\d+m\s+\d+Mi\s*$/m);
      assert.doesNotMatch(byLabel, /spin/);
    }
  });

  test('kubectl top pod for a pod that does not exist', async () => {
    const r = await c.kubectl('1.32', ['top', 'pod', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  });

  test('kubectl get --raw and get nodemetrics read the API directly', async () => {
    const raw = JSON.parse(await c.ok('1.32', ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/spin']));
    assert.equal(raw.kind, 'PodMetrics');
    assert.deepEqual(raw.containers.map((x: { name: string }) => x.name), ['main', 'side']);
    const table = await c.ok('1.32', ['get', 'nodemetrics']);
    assert.match(table, /^NAME\s+CPU\s+MEMORY\s+WINDOW$/m);
    assert.match(table, new RegExp(`^${NODE}\\s+\\S+\\s+\\S+\\s+[\\d.]+m?s$`, 'm'));
  });
});
