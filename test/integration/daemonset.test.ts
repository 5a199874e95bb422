// DaemonSet controller end to end in one in-process server with 3 simulated nodes: one pod
// per node (bound by the scheduler through the node-name affinity), a pod for a node added
// later, nodeSelector eligibility, ControllerRevisions and a RollingUpdate to a new template.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${typeof last === 'object' ? JSON.stringify(last) : String(last)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const DS = '/apis/apps/v1/namespaces/default/daemonsets';

function daemonSet(name: string, image: string, extraSpec: Json = {}): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }], ...extraSpec } },
    },
  };
}

describe('DaemonSet controller', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ simulatedNodes: 3 });
    await until('3 ready nodes', async () => {
      const r = await ts.req('GET', '/api/v1/nodes');
      return r.body?.items?.length === 3 && r.body.items.every((n: Json) => n.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
    });
  });
  after(async () => {
    await ts?.stop();
  });

  const pods = async (sel: string): Promise<Json[]> => (await ts.req('GET', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(sel)}`)).body.items;
  const running = (ps: Json[]) => ps.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);

  it('runs one pod per node, with tolerations and node affinity, and gains one for a new node', async () => {
    assert.equal((await ts.req('POST', DS, daemonSet('agent', 'busybox:1'))).status, 201);
    const ps = await until('3 running agent pods', async () => {
      const p = running(await pods('app=agent'));
      return p.length === 3 && p;
    });
    assert.deepEqual(ps.map((p: Json) => p.spec.nodeName).sort(), ['kts-node-1', 'kts-node-2', 'kts-node-3']);
    const p0 = ps[0];
    assert.match(p0.metadata.name, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const ref = p0.metadata.ownerReferences[0];
    assert.equal(ref.kind, 'DaemonSet');
    assert.equal(ref.controller, true);
    assert.equal(ref.blockOwnerDeletion, true);
    const terms = p0.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p0.spec.nodeName] }] }]);
    assert.deepEqual(
      p0.spec.tolerations.map((t: Json) => `${t.key}:${t.effect}`),
      [
        'node.kubernetes.io/not-ready:NoExecute',
        'node.kubernetes.io/unreachable:NoExecute',
        'node.kubernetes.io/disk-pressure:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule',
        'node.kubernetes.io/pid-pressure:NoSchedule',
        'node.kubernetes.io/unschedulable:NoSchedule',
      ],
    );
    // ControllerRevision and labels.
    const crs = (await ts.req('GET', '/apis/apps/v1/namespaces/default/controllerrevisions')).body.items.filter((c: Json) => c.metadata.name.startsWith('agent-'));
    assert.equal(crs.length, 1);
    assert.equal(crs[0].revision, 1);
    const hash = crs[0].metadata.labels['controller-revision-hash'];
    assert.equal(crs[0].metadata.name, `agent-${hash}`);
    assert.equal(crs[0].data.spec.template.$patch, 'replace');
    for (const p of ps) assert.equal(p.metadata.labels['controller-revision-hash'], hash);
    assert.equal(p0.metadata.labels['pod-template-generation'], '1');
    const st = await until('status 3/3 ready', async () => {
      const d = (await ts.req('GET', `${DS}/agent`)).body;
      return d.status?.numberReady === 3 && d.status.numberAvailable === 3 && d.status;
    });
    assert.equal(st.desiredNumberScheduled, 3);
    assert.equal(st.currentNumberScheduled, 3);
    assert.equal(st.updatedNumberScheduled, 3);
    assert.equal(st.numberMisscheduled, 0);
    assert.equal(st.observedGeneration, 1);
    assert.equal(st.numberUnavailable, undefined);

    // A new (adopted) simulated node gets its daemon pod.
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'extra-node', annotations: { 'kts.dev/simulated': 'true' } } };
    assert.equal((await ts.req('POST', '/api/v1/nodes', node)).status, 201);
    await until('a pod on extra-node', async () => running(await pods('app=agent')).some((p) => p.spec.nodeName === 'extra-node'));
    await until('desired 4', async () => (await ts.req('GET', `${DS}/agent`)).body.status?.desiredNumberScheduled === 4);
    // Events use upstream's reasons and texts.
    const evs = (await ts.req('GET', '/api/v1/namespaces/default/events')).body.items.filter((e: Json) => e.involvedObject.name === 'agent');
    assert.ok(evs.some((e: Json) => e.reason === 'SuccessfulCreate' && /^Created pod: agent-\w{5}$/.test(e.message)), JSON.stringify(evs));
  });

  it('honours nodeSelector and removes pods when node labels change', async () => {
    await ts.req('PATCH', '/api/v1/nodes/kts-node-2', { metadata: { labels: { role: 'edge' } } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal((await ts.req('POST', DS, daemonSet('edge', 'busybox:1', { nodeSelector: { role: 'edge' } }))).status, 201);
    const ps = await until('1 edge pod', async () => {
      const p = running(await pods('app=edge'));
      return p.length === 1 && p;
    });
    assert.equal(ps[0].spec.nodeName, 'kts-node-2');
    await ts.req('PATCH', '/api/v1/nodes/kts-node-2', { metadata: { labels: { role: null } } }, { 'content-type': 'application/merge-patch+json' });
    await until('edge pod removed', async () => (await pods('app=edge')).length === 0);
    const st = (await ts.req('GET', `${DS}/edge`)).body.status;
    assert.equal(st.desiredNumberScheduled, 0);
  });

  it('rolls out a new template with maxUnavailable and keeps the revision history', async () => {
    await ts.req('PATCH', `${DS}/agent`, { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } }, { 'content-type': 'application/strategic-merge-patch+json' });
    await until('all agent pods on busybox:2', async () => {
      const p = await pods('app=agent');
      const r = running(p);
      return p.length === 4 && r.length === 4 && r.every((x) => x.spec.containers[0].image === 'busybox:2');
    }, 40_000);
    const crs = (await ts.req('GET', '/apis/apps/v1/namespaces/default/controllerrevisions')).body.items.filter((c: Json) => c.metadata.name.startsWith('agent-'));
    assert.deepEqual(crs.map((c: Json) => c.revision).sort(), [1, 2]);
    const cur = crs.find((c: Json) => c.revision === 2);
    for (const p of await pods('app=agent')) {
      assert.equal(p.metadata.labels['controller-revision-hash'], cur.metadata.labels['controller-revision-hash']);
      assert.equal(p.metadata.labels['pod-template-generation'], '2');
    }
    await until('status updated', async () => {
      const s = (await ts.req('GET', `${DS}/agent`)).body.status;
      return s.updatedNumberScheduled === 4 && s.numberAvailable === 4 && s.observedGeneration === 2;
    });
  });
});
