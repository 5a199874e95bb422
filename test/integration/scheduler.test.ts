// The scheduler inside a whole kts server: pods bind to nodes (spec.nodeName, PodScheduled,
// Scheduled event), replicas spread, a pod that fits nowhere reports upstream's aggregated
// FailedScheduling message and is scheduled once a node it fits on appears.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

function node(name: string, opts: { cpu?: string; labels?: Record<string, string>; taints?: unknown[] } = {}) {
  const res = { cpu: opts.cpu ?? '4', memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: opts.taints ? { taints: opts.taints } : {},
    status: {
      capacity: res,
      allocatable: res,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function pod(name: string, extra: { cpu?: string; labels?: Record<string, string>; owner?: any; nodeSelector?: Record<string, string>; priority?: number } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: extra.labels ?? { app: name }, ...(extra.owner ? { ownerReferences: [extra.owner] } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'nginx', ...(extra.cpu ? { resources: { requests: { cpu: extra.cpu } } } : {}) }],
      ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
      ...(extra.priority !== undefined ? { priority: extra.priority } : {}),
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('scheduler (integration)', () => {
  let ts: TestServer;
  const ns = '/api/v1/namespaces/default';
  before(async () => {
    ts = await startTestServer();
    for (const n of ['node-1', 'node-2', 'node-3']) {
      const r = await ts.req('POST', '/api/v1/nodes', node(n));
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await ts.stop();
  });

  const getPod = async (name: string) => (await ts.req('GET', `${ns}/pods/${name}`)).body;
  const events = async (name: string) =>
    ((await ts.req('GET', `${ns}/events?fieldSelector=involvedObject.name=${name}`)).body?.items ?? []) as { reason: string; message: string; source: { component: string }; type: string }[];

  it('binds a pod: spec.nodeName, PodScheduled=True and a Scheduled event', async () => {
    assert.equal((await ts.req('POST', `${ns}/pods`, pod('web'))).status, 201);
    const p = await until('web bound', async () => {
      const p = await getPod('web');
      return p.spec.nodeName ? p : undefined;
    });
    assert.match(p.spec.nodeName, /^node-[123]$/);
    const cond = p.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
    assert.equal(cond.status, 'True');
    const ev = await until('Scheduled event', async () => (await events('web')).find((e) => e.reason === 'Scheduled'));
    assert.equal(ev.message, `Successfully assigned default/web to ${p.spec.nodeName}`);
    assert.equal(ev.source.component, 'default-scheduler');
    assert.equal(ev.type, 'Normal');
  });

  it('spreads 6 replicas of one owner 2/2/2', async () => {
    // Start from empty nodes, and give the pods an owner that exists (the garbage collector
    // would delete pods whose owner is missing, mid-test).
    await ts.req('DELETE', `${ns}/pods/web`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    await until('web gone', async () => ((await ts.req('GET', `${ns}/pods/web`)).status === 404 ? true : undefined));
    const cm = await ts.req('POST', `${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rs-owner' } });
    const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'rs-owner', uid: cm.body.metadata.uid, controller: true };
    await Promise.all([1, 2, 3, 4, 5, 6].map((i) => ts.req('POST', `${ns}/pods`, pod(`rs-${i}`, { labels: { app: 'rs' }, owner, cpu: '100m' }))));
    const pods = await until('6 bound', async () => {
      const items = (await ts.req('GET', `${ns}/pods?labelSelector=app=rs`)).body.items as { spec: { nodeName?: string } }[];
      return items.length === 6 && items.every((p) => p.spec.nodeName) ? items : undefined;
    });
    const per: Record<string, number> = {};
    for (const p of pods) per[p.spec.nodeName!] = (per[p.spec.nodeName!] ?? 0) + 1;
    assert.deepEqual(Object.values(per).sort(), [2, 2, 2], JSON.stringify(per));
  });

  it('reports why a pod fits nowhere, and schedules it once a suitable node appears', async () => {
    // 1 node lacks cpu, 2 don't match the selector.
    await ts.req('PATCH', '/api/v1/nodes/node-1', { metadata: { labels: { disk: 'ssd' } } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal((await ts.req('POST', `${ns}/pods`, pod('big', { cpu: '5', nodeSelector: { disk: 'ssd' } }))).status, 201);
    const want =
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    const ev = await until('FailedScheduling', async () => (await events('big')).find((e) => e.reason === 'FailedScheduling'));
    assert.equal(ev.message, want);
    assert.equal(ev.type, 'Warning');
    const cond = await until('PodScheduled=False', async () =>
      (await getPod('big')).status?.conditions?.find((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'),
    );
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, want);
    assert.equal((await getPod('big')).spec.nodeName, undefined);

    assert.equal((await ts.req('POST', '/api/v1/nodes', node('node-4', { cpu: '8', labels: { disk: 'ssd', tier: 'gold' } }))).status, 201);
    const p = await until('big bound', async () => {
      const p = await getPod('big');
      return p.spec.nodeName ? p : undefined;
    });
    assert.equal(p.spec.nodeName, 'node-4');
  });

  it('preempts a lower-priority pod and nominates its node', async () => {
    // Fill node-4 (8 cpu, 5 used by "big") with a low-priority pod; then a high-priority pod needs room.
    await ts.req('POST', `${ns}/pods`, pod('low', { cpu: '3', nodeSelector: { tier: 'gold' }, priority: 1 }));
    await until('low bound', async () => ((await getPod('low')).spec.nodeName ? true : undefined));
    await ts.req('POST', `${ns}/pods`, pod('high', { cpu: '3', nodeSelector: { tier: 'gold' }, priority: 1000 }));
    const high = await until('high nominated', async () => {
      const p = await getPod('high');
      return p.status?.nominatedNodeName ? p : undefined;
    });
    assert.equal(high.status.nominatedNodeName, 'node-4');
    // Victims are the fewest, least important pods: "big" (priority 0, 5 cpu) goes, "low"
    // (priority 1) is reprieved since 3 cpu are enough. Deletion is graceful: a bound pod
    // stays terminating until its kubelet confirms.
    const victim = await until('big terminating', async () => {
      const p = await getPod('big');
      return p.metadata?.deletionTimestamp ? p : undefined;
    });
    assert.ok(victim.status.conditions.some((c: { type: string; reason: string }) => c.type === 'DisruptionTarget' && c.reason === 'PreemptionByScheduler'));
    assert.equal((await getPod('low')).metadata.deletionTimestamp, undefined);
    const ev = await until('Preempted event', async () => (await events('big')).find((e) => e.reason === 'Preempted'));
    assert.equal(ev.message, `Preempted by pod ${high.metadata.uid} on node node-4`);
    // Play the kubelet: finish the deletion; the preemptor then lands on the nominated node.
    await ts.req('DELETE', `${ns}/pods/big`, { gracePeriodSeconds: 0 });
    const bound = await until('high bound', async () => {
      const p = await getPod('high');
      return p.spec.nodeName ? p : undefined;
    });
    assert.equal(bound.spec.nodeName, 'node-4');
  });

  it('leaves pods for other schedulers alone', async () => {
    const p = pod('other');
    (p.spec as Record<string, unknown>)['schedulerName'] = 'my-scheduler';
    await ts.req('POST', `${ns}/pods`, p);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await getPod('other')).spec.nodeName, undefined);
  });
});
