// Simulated nodes end to end inside one in-process server: registration, Leases, the pod
// lifecycle (Running with an IP from the node's pod CIDR, Job-style pods finishing, deletion),
// adoption of annotated nodes, pod GC of pods on deleted nodes, and a node whose heartbeat
// stops going Unknown, tainted and its pods evicted (with a fast node lifecycle controller).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';
import { InProcessClient } from '../../src/client/inprocess.js';
import { SharedInformerFactory } from '../../src/client/factory.js';
import { EventRecorder } from '../../src/client/events.js';
import { realClock, type ControllerContext } from '../../src/controllers/context.js';
import { NodeLifecycleController } from '../../src/controllers/nodelifecycle.js';
import { silentLogger } from '../../src/util/log.js';
import { parseCIDR, cidrContains } from '../../src/util/cidr.js';
import { PodCIDRAllocator, PodIPPool } from '../../src/kubelet/simulated/ipam.js';
import { normalizeImage, parseDuration } from '../../src/kubelet/simulated/pod.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cond = (o: Json, type: string) => (o.status?.conditions ?? []).find((c: Json) => c.type === type);

function pod(name: string, nodeName: string, extra: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.metadata ?? {}) },
    spec: { nodeName, containers: [{ name: 'app', image: 'nginx' }], ...(extra.spec ?? {}) },
  };
}

describe('simulated nodes', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ simulatedNodes: 3 });
  });
  after(async () => {
    await ts?.stop();
  });

  const get = async (path: string) => {
    const r = await ts.req('GET', path);
    return r.status === 200 ? r.body : undefined;
  };

  it('registers 3 Ready nodes with pod CIDRs, capacity and Leases', async () => {
    const nodes = await until('3 ready nodes', async () => {
      const l = (await get('/api/v1/nodes'))?.items ?? [];
      return l.length === 3 && l.every((n: Json) => cond(n, 'Ready')?.status === 'True') && l;
    });
    assert.deepEqual(nodes.map((n: Json) => n.metadata.name).sort(), ['kts-node-1', 'kts-node-2', 'kts-node-3']);
    const cidrs = new Set(nodes.map((n: Json) => n.spec.podCIDR));
    assert.equal(cidrs.size, 3);
    for (const n of nodes) {
      assert.match(n.spec.podCIDR, /^10\.244\.\d+\.0\/24$/);
      assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
      assert.equal(n.metadata.annotations['kts.dev/simulated'], 'true');
      assert.equal(n.metadata.labels['kubernetes.io/hostname'], n.metadata.name);
      assert.equal(n.metadata.labels['kubernetes.io/os'], 'linux');
      assert.equal(n.status.capacity.pods, '110');
      assert.ok(n.status.allocatable.cpu);
      assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.32.0-kts');
      assert.match(n.status.nodeInfo.containerRuntimeVersion, /^fake:\/\//);
      assert.deepEqual(n.status.addresses.map((a: Json) => a.type), ['InternalIP', 'Hostname']);
      const ready = cond(n, 'Ready');
      assert.equal(ready.reason, 'KubeletReady');
      assert.equal(ready.message, 'kubelet is posting ready status');
      assert.equal(cond(n, 'MemoryPressure').reason, 'KubeletHasSufficientMemory');
      assert.equal(cond(n, 'DiskPressure').status, 'False');
      assert.equal(cond(n, 'PIDPressure').status, 'False');
    }
    const leases = await until('3 leases', async () => {
      const l = (await get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'))?.items ?? [];
      return l.length >= 3 && l;
    });
    for (const l of leases) {
      assert.equal(l.spec.holderIdentity, l.metadata.name);
      assert.equal(l.spec.leaseDurationSeconds, 40);
      assert.ok(l.spec.renewTime);
      assert.equal(l.metadata.ownerReferences[0].kind, 'Node');
    }
  });

  it('runs a bound pod: Pending, then Running with an IP from the node pod CIDR', async () => {
    const node = await until('node', () => get('/api/v1/nodes/kts-node-2'));
    assert.equal((await ts.req('POST', '/api/v1/namespaces/default/pods', pod('web', 'kts-node-2'))).status, 201);
    const p = await until('running pod', async () => {
      const o = await get('/api/v1/namespaces/default/pods/web');
      return o?.status?.phase === 'Running' && o;
    });
    assert.ok(cidrContains(parseCIDR(node.spec.podCIDR), p.status.podIP), `${p.status.podIP} in ${node.spec.podCIDR}`);
    assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
    assert.equal(p.status.hostIP, node.status.addresses[0].address);
    assert.ok(p.status.startTime);
    assert.equal(p.status.qosClass, 'BestEffort');
    const cs = p.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.match(cs.containerID, /^fake:\/\//);
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.ok(cs.state.running.startedAt);
    for (const t of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) assert.equal(cond(p, t)?.status, 'True', t);

    // A second pod on the same node gets a different address.
    await ts.req('POST', '/api/v1/namespaces/default/pods', pod('web2', 'kts-node-2'));
    const p2 = await until('second running pod', async () => {
      const o = await get('/api/v1/namespaces/default/pods/web2');
      return o?.status?.phase === 'Running' && o;
    });
    assert.notEqual(p2.status.podIP, p.status.podIP);
    assert.ok(cidrContains(parseCIDR(node.spec.podCIDR), p2.status.podIP));
  });

  it('finishes restartPolicy Never pods: Succeeded, or Failed with the annotated exit code', async () => {
    await ts.req('POST', '/api/v1/namespaces/default/pods', pod('ok', 'kts-node-1', { spec: { restartPolicy: 'Never' }, metadata: { annotations: { 'kts.dev/simulated-duration': '500ms' } } }));
    await ts.req('POST', '/api/v1/namespaces/default/pods', pod('bad', 'kts-node-1', { spec: { restartPolicy: 'Never' }, metadata: { annotations: { 'kts.dev/simulated-exit-code': '3', 'kts.dev/simulated-duration': '0.5' } } }));
    const ok = await until('succeeded', async () => {
      const o = await get('/api/v1/namespaces/default/pods/ok');
      return o?.status?.phase === 'Succeeded' && o;
    });
    const t = ok.status.containerStatuses[0].state.terminated;
    assert.equal(t.reason, 'Completed');
    assert.equal(t.exitCode, 0);
    assert.equal(cond(ok, 'Ready').reason, 'PodCompleted');
    const bad = await until('failed', async () => {
      const o = await get('/api/v1/namespaces/default/pods/bad');
      return o?.status?.phase === 'Failed' && o;
    });
    assert.equal(bad.status.containerStatuses[0].state.terminated.reason, 'Error');
    assert.equal(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
  });

  it('removes a deleted running pod after its (capped) grace period', async () => {
    await until('web running', async () => (await get('/api/v1/namespaces/default/pods/web'))?.status?.phase === 'Running');
    const r = await ts.req('DELETE', '/api/v1/namespaces/default/pods/web');
    assert.equal(r.status, 200);
    assert.ok(r.body.metadata.deletionTimestamp, 'graceful deletion leaves the pod terminating');
    await until('pod gone', async () => (await ts.req('GET', '/api/v1/namespaces/default/pods/web')).status === 404);
  });

  it('adopts a node annotated kts.dev/simulated and runs pods there; pod GC cleans up after its deletion', async () => {
    const r = await ts.req('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'extra', annotations: { 'kts.dev/simulated': 'true' } } });
    assert.equal(r.status, 201);
    const n = await until('adopted node ready', async () => {
      const o = await get('/api/v1/nodes/extra');
      return cond(o ?? {}, 'Ready')?.status === 'True' && o.spec?.podCIDR && o;
    });
    assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.32.0-kts');
    assert.equal(n.status.capacity.pods, '110');
    await until('lease', () => get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/extra'));
    await ts.req('POST', '/api/v1/namespaces/default/pods', pod('on-extra', 'extra'));
    const p = await until('running on extra', async () => {
      const o = await get('/api/v1/namespaces/default/pods/on-extra');
      return o?.status?.phase === 'Running' && o;
    });
    assert.ok(cidrContains(parseCIDR(n.spec.podCIDR), p.status.podIP));
    assert.equal((await ts.req('DELETE', '/api/v1/nodes/extra')).status, 200);
    await until('orphaned pod collected', async () => (await ts.req('GET', '/api/v1/namespaces/default/pods/on-extra')).status === 404);
  });

  it('a node whose heartbeat stops goes Unknown, is tainted, and its pods are evicted; it recovers', async () => {
    // A node lifecycle controller with a fast grace period, beside the server's own (50 s);
    // the live nodes renew their leases faster than that grace period.
    ts.server.simulated!.setHeartbeatIntervals({ leaseRenewIntervalMs: 500 });
    const client = new InProcessClient(ts.server.api);
    const informers = new SharedInformerFactory(client);
    const ctx: ControllerContext = {
      client,
      informers,
      recorder: (component) => new EventRecorder(client, { component }, realClock),
      log: silentLogger,
      clock: realClock,
    };
    const nlc = new NodeLifecycleController(ctx, { nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 200 });
    nlc.start();
    informers.start();
    try {
      const tolerations = [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 },
      ];
      await ts.req('POST', '/api/v1/namespaces/default/pods', pod('victim', 'kts-node-3', { spec: { tolerations } }));
      const forever = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }];
      await ts.req('POST', '/api/v1/namespaces/default/pods', pod('stayer', 'kts-node-3', { spec: { tolerations: forever } }));
      await until('victim running', async () => (await get('/api/v1/namespaces/default/pods/victim'))?.status?.phase === 'Running');
      await until('stayer running', async () => (await get('/api/v1/namespaces/default/pods/stayer'))?.status?.phase === 'Running');

      const patch = (body: unknown) => ts.req('PATCH', '/api/v1/nodes/kts-node-3', body, { 'content-type': 'application/merge-patch+json' });
      assert.equal((await patch({ metadata: { annotations: { 'kts.dev/heartbeat': 'stopped' } } })).status, 200);

      const dead = await until('node unknown and tainted', async () => {
        const o = await get('/api/v1/nodes/kts-node-3');
        const keys = (o?.spec?.taints ?? []).map((t: Json) => `${t.key}:${t.effect}`);
        return cond(o, 'Ready')?.status === 'Unknown' && keys.includes('node.kubernetes.io/unreachable:NoExecute') && o;
      });
      const ready = cond(dead, 'Ready');
      assert.equal(ready.reason, 'NodeStatusUnknown');
      assert.equal(ready.message, 'Kubelet stopped posting node status.');
      assert.equal(cond(dead, 'MemoryPressure').status, 'Unknown');
      const keys = dead.spec.taints.map((t: Json) => `${t.key}:${t.effect}`).sort();
      assert.deepEqual(keys, ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      assert.ok(dead.spec.taints.find((t: Json) => t.effect === 'NoExecute').timeAdded);

      // The pod tolerating the taint for 1 s is evicted (the dead kubelet leaves it Terminating).
      const victim = await until('victim evicted', async () => {
        const r = await ts.req('GET', '/api/v1/namespaces/default/pods/victim');
        return (r.status === 404 || r.body?.metadata?.deletionTimestamp) && r;
      });
      if (victim.status === 200) {
        assert.equal(cond(victim.body, 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
        assert.equal(cond(victim.body, 'Ready')?.status, 'False', 'pods on an unreachable node are marked not ready');
      }
      const ev = await until('TaintManagerEviction event', async () => {
        const l = (await get('/api/v1/namespaces/default/events'))?.items ?? [];
        return l.find((e: Json) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'victim');
      });
      assert.equal(ev.message, 'Marking for deletion Pod default/victim');
      const stayer = await get('/api/v1/namespaces/default/pods/stayer');
      assert.ok(stayer && !stayer.metadata.deletionTimestamp, 'a pod tolerating the taint forever stays');

      // Heartbeat resumes: Ready again, taints gone, the terminating pod finally removed.
      assert.equal((await patch({ metadata: { annotations: { 'kts.dev/heartbeat': null } } })).status, 200);
      await until('node ready and untainted', async () => {
        const o = await get('/api/v1/nodes/kts-node-3');
        return cond(o, 'Ready')?.status === 'True' && (o.spec?.taints ?? []).length === 0;
      });
      await until('victim gone', async () => (await ts.req('GET', '/api/v1/namespaces/default/pods/victim')).status === 404);
      // The kubelet puts the surviving pod's readiness back.
      await until('stayer ready again', async () => cond(await get('/api/v1/namespaces/default/pods/stayer'), 'Ready')?.status === 'True');
      // The other nodes never went away.
      for (const n of ['kts-node-1', 'kts-node-2']) assert.equal(cond(await get(`/api/v1/nodes/${n}`), 'Ready').reason, 'KubeletReady');
    } finally {
      nlc.stop();
      informers.stop();
    }
  });

  it('cordon mirrors into the node.kubernetes.io/unschedulable taint', async () => {
    const patch = (body: unknown) => ts.req('PATCH', '/api/v1/nodes/kts-node-1', body, { 'content-type': 'application/merge-patch+json' });
    await patch({ spec: { unschedulable: true } });
    await until('unschedulable taint', async () => {
      const o = await get('/api/v1/nodes/kts-node-1');
      return (o?.spec?.taints ?? []).some((t: Json) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule');
    });
    await patch({ spec: { unschedulable: null } });
    await until('taint removed', async () => ((await get('/api/v1/nodes/kts-node-1'))?.spec?.taints ?? []).length === 0);
  });
});

describe('simulated kubelet pieces', () => {
  it('allocates /24 pod CIDRs by node index, then the first free one, then from the overflow range', () => {
    const a = new PodCIDRAllocator('10.244.0.0/16');
    assert.equal(a.allocate(0), '10.244.0.0/24');
    assert.equal(a.allocate(2), '10.244.2.0/24');
    assert.equal(a.allocate(0), '10.244.1.0/24', 'index 0 taken: first free');
    a.release('10.244.0.0/24');
    assert.equal(a.allocate(0), '10.244.0.0/24');
    assert.equal(a.allocate(256), '100.64.0.0/24', 'beyond the 256 /24s of a /16');
  });

  it('hands out unique pod IPs from .2 and reuses released ones only after the others', () => {
    const pool = new PodIPPool('10.244.3.0/24');
    const ips = Array.from({ length: 253 }, () => pool.allocate());
    assert.equal(new Set(ips).size, 253);
    assert.equal(ips[0], '10.244.3.2');
    assert.equal(ips[252], '10.244.3.254');
    assert.equal(pool.allocate(), undefined, 'full');
    pool.release('10.244.3.7');
    assert.equal(pool.allocate(), '10.244.3.7');
  });

  it('reports images as containerd does and parses durations', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('ikubernetes/myapp:v1'), 'docker.io/ikubernetes/myapp:v1');
    assert.equal(normalizeImage('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
    assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2'), 2000);
    assert.equal(parseDuration('soon'), undefined);
  });
});
