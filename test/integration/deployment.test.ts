// Deployment, ReplicaSet and ReplicationController controllers against a whole in-process
// kts server. The test plays the kubelet: a loop marks pods Running and Ready via /status
// (unless told to hold some back), since no scheduler or node is needed for these controllers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers.js';

let ts: TestServer;

const NS = 'default';
const DEPLOY = `/apis/apps/v1/namespaces/${NS}/deployments`;
const RS = `/apis/apps/v1/namespaces/${NS}/replicasets`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const RC = `/api/v1/namespaces/${NS}/replicationcontrollers`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

/** A fake kubelet: marks every pod matching `filter` Running+Ready. */
function kubelet(filter: (p: Obj) => boolean = () => true) {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const r = await ts.req('GET', PODS);
      for (const p of r.body?.items ?? []) {
        if (p.metadata.deletionTimestamp || p.status?.phase === 'Running' || !filter(p)) continue;
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        await ts.req(
          'PATCH',
          `${PODS}/${p.metadata.name}/status`,
          {
            status: {
              phase: 'Running',
              podIP: '10.244.0.10',
              conditions: [
                { type: 'Ready', status: 'True', lastTransitionTime: now },
                { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              ],
            },
          },
          { 'content-type': 'application/merge-patch+json' },
        );
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}

function deployment(name: string, replicas: number, image: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
      ...extra,
    },
  };
}

async function podsOf(label: string): Promise<Obj[]> {
  const r = await ts.req('GET', `${PODS}?labelSelector=${encodeURIComponent(label)}`);
  return r.body.items;
}

async function rsOf(name: string): Promise<Obj[]> {
  const r = await ts.req('GET', `${RS}?labelSelector=${encodeURIComponent(`app=${name}`)}`);
  return r.body.items;
}

async function getDeploy(name: string): Promise<Obj> {
  return (await ts.req('GET', `${DEPLOY}/${name}`)).body;
}

/** kubectl rollout status' notion of done. */
function rolledOut(d: Obj): boolean {
  const s = d.status ?? {};
  return (
    (d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) &&
    (s.updatedReplicas ?? 0) === d.spec.replicas &&
    (s.replicas ?? 0) === (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) === (s.updatedReplicas ?? 0)
  );
}

async function waitRolledOut(name: string): Promise<Obj> {
  return waitFor(`deployment ${name} rolled out`, async () => {
    const d = await getDeploy(name);
    return rolledOut(d) ? d : undefined;
  });
}

async function events(kind: string, name: string): Promise<Obj[]> {
  const r = await ts.req('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=${kind},involvedObject.name=${name}`)}`);
  return r.body.items;
}

before(async () => {
  ts = await startTestServer();
});
after(async () => {
  await ts.stop();
});

describe('deployment controller', () => {
  it('creates a ReplicaSet named <deployment>-<hash> and 4 pods, then scales to 10 and back to 4', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'web');
    try {
      const c = await ts.req('POST', DEPLOY, deployment('web', 4, 'ikubernetes/myapp:v1'));
      assert.equal(c.status, 201, c.text);
      const d = await waitRolledOut('web');
      const rss = await rsOf('web');
      assert.equal(rss.length, 1);
      const rs = rss[0];
      const hash = rs.metadata.labels['pod-template-hash'];
      assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
      assert.equal(rs.metadata.name, `web-${hash}`);
      assert.equal(rs.spec.selector.matchLabels['pod-template-hash'], hash);
      assert.equal(rs.spec.template.metadata.labels['pod-template-hash'], hash);
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '4');
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '5');
      assert.deepEqual(
        { ...rs.metadata.ownerReferences[0], uid: undefined },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: undefined, controller: true, blockOwnerDeletion: true },
      );
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      const pods = (await podsOf('app=web')).filter((p: Obj) => !p.metadata.deletionTimestamp);
      assert.equal(pods.length, 4);
      for (const p of pods) {
        assert.match(p.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
        assert.equal(p.metadata.labels['pod-template-hash'], hash);
        assert.equal(p.metadata.ownerReferences[0].kind, 'ReplicaSet');
        assert.equal(p.metadata.ownerReferences[0].controller, true);
      }
      const conds = Object.fromEntries(d.status.conditions.map((x: Obj) => [x.type, x]));
      assert.equal(conds.Available.reason, 'MinimumReplicasAvailable');
      assert.equal(conds.Available.message, 'Deployment has minimum availability.');
      assert.equal(conds.Progressing.reason, 'NewReplicaSetAvailable');
      assert.equal(conds.Progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
      assert.equal(d.status.readyReplicas, 4);
      assert.equal(d.status.availableReplicas, 4);
      assert.equal(d.status.unavailableReplicas, undefined);

      // scale to 10 and back to 4 through the scale subresource
      const s = await ts.req('PATCH', `${DEPLOY}/web/scale`, { spec: { replicas: 10 } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(s.status, 200, s.text);
      await waitFor('10 pods', async () => (await podsOf('app=web')).filter((p: Obj) => !p.metadata.deletionTimestamp).length === 10);
      await waitRolledOut('web');
      await ts.req('PATCH', `${DEPLOY}/web/scale`, { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' });
      await waitFor('4 pods', async () => (await podsOf('app=web')).filter((p: Obj) => !p.metadata.deletionTimestamp).length === 4);
      const d2 = await waitRolledOut('web');
      assert.equal(d2.status.replicas, 4);
      assert.equal((await rsOf('web')).length, 1);

      const ev = (await events('Deployment', 'web')).map((e: Obj) => `${e.reason}: ${e.message}`);
      assert.ok(ev.includes(`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 4`), ev.join('\n'));
      assert.ok(ev.includes(`ScalingReplicaSet: Scaled up replica set web-${hash} from 4 to 10`), ev.join('\n'));
      assert.ok(ev.includes(`ScalingReplicaSet: Scaled down replica set web-${hash} from 10 to 4`), ev.join('\n'));
      const rsEv = (await events('ReplicaSet', `web-${hash}`)).map((e: Obj) => e.reason);
      assert.ok(rsEv.includes('SuccessfulCreate'));
      assert.ok(rsEv.includes('SuccessfulDelete'));
    } finally {
      await k.stop();
    }
  });

  it('rolls out a new image without exceeding maxSurge or maxUnavailable, with revision annotations', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'roll');
    const rsWatch = ts.watch(`${RS}?watch=1&labelSelector=app%3Droll`);
    const podWatch = ts.watch(`${PODS}?watch=1&labelSelector=app%3Droll`);
    try {
      await ts.req('POST', DEPLOY, deployment('roll', 4, 'ikubernetes/myapp:v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
      await waitRolledOut('roll');
      const [rs1] = await rsOf('roll');
      // drain the watches up to now, then check every event of the rollout
      const rsSpecs = new Map<string, number>();
      const pods = new Map<string, Obj>();
      const apply = (m: Map<string, Obj>, e: Obj, v: Obj) => (e.type === 'DELETED' ? m.delete(e.object.metadata.name) : m.set(e.object.metadata.name, v));
      const violations: string[] = [];
      let rolling = false;
      const check = () => {
        if (!rolling) return;
        const total = [...rsSpecs.values()].reduce((a, b) => a + b, 0);
        if (total > 5) violations.push(`replica sets want ${total} pods > 4 + maxSurge 1`);
        const ready = [...pods.values()].filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length;
        if (ready < 3) violations.push(`only ${ready} ready pods < 4 - maxUnavailable 1`);
      };
      const pump = async (until: () => boolean) => {
        const deadline = Date.now() + 15_000;
        while (!until()) {
          if (Date.now() > deadline) throw new Error('rollout did not finish');
          const evs = await Promise.race([
            Promise.all([rsWatch.next(1, 200).catch(() => []), podWatch.next(1, 200).catch(() => [])]),
            sleep(300).then(() => [[], []] as Obj[][]),
          ]);
          for (const e of evs[0]!) apply(rsSpecs, e, e.object.spec.replicas);
          for (const e of evs[1]!) apply(pods, e, e.object);
          check();
        }
      };
      // catch up with the initial state
      await pump(() => pods.size === 4 && [...pods.values()].every((p) => p.status?.phase === 'Running') && rsSpecs.size === 1);
      rolling = true;
      const r = await ts.req(
        'PATCH',
        `${DEPLOY}/roll`,
        { metadata: { annotations: { 'kubernetes.io/change-cause': 'image v2' } }, spec: { template: { spec: { containers: [{ name: 'main', image: 'ikubernetes/myapp:v2' }] } } } },
        { 'content-type': 'application/strategic-merge-patch+json' },
      );
      assert.equal(r.status, 200, r.text);
      let done = false;
      const finished = waitRolledOut('roll').then(() => (done = true));
      await pump(() => done);
      await finished;
      assert.deepEqual(violations, []);
      const rss = await rsOf('roll');
      assert.equal(rss.length, 2);
      const rs2 = rss.find((x: Obj) => x.metadata.name !== rs1.metadata.name);
      assert.equal(rs2.metadata.annotations['deployment.kubernetes.io/revision'], '2');
      assert.equal(rs2.metadata.annotations['kubernetes.io/change-cause'], 'image v2');
      assert.equal(rs2.spec.replicas, 4);
      const old = rss.find((x: Obj) => x.metadata.name === rs1.metadata.name);
      assert.equal(old.spec.replicas, 0);
      assert.equal((await getDeploy('roll')).metadata.annotations['deployment.kubernetes.io/revision'], '2');
      const live = (await podsOf('app=roll')).filter((p: Obj) => !p.metadata.deletionTimestamp);
      assert.equal(live.length, 4);
      assert.ok(live.every((p: Obj) => p.spec.containers[0].image === 'ikubernetes/myapp:v2'));

      // undo the way kubectl does: copy revision 1's template (minus the hash label) back
      const tmpl = structuredClone(old.spec.template);
      delete tmpl.metadata.labels['pod-template-hash'];
      await ts.req('PATCH', `${DEPLOY}/roll`, [{ op: 'replace', path: '/spec/template', value: tmpl }], { 'content-type': 'application/json-patch+json' });
      await waitFor('undo rolled out', async () => {
        const d = await getDeploy('roll');
        return rolledOut(d) && d.status.updatedReplicas === 4 && d.metadata.annotations['deployment.kubernetes.io/revision'] === '3';
      });
      const back = (await rsOf('roll')).find((x: Obj) => x.metadata.name === rs1.metadata.name);
      assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
      assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
      assert.equal(back.spec.replicas, 4);
      assert.equal((await rsOf('roll')).length, 2, 'no third ReplicaSet for an undo');
    } finally {
      rsWatch.close();
      podWatch.close();
      await k.stop();
    }
  });

  it('does not roll out while paused, and does on resume', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'pz');
    try {
      await ts.req('POST', DEPLOY, deployment('pz', 2, 'nginx:1'));
      await waitRolledOut('pz');
      await ts.req('PATCH', `${DEPLOY}/pz`, { spec: { paused: true } }, { 'content-type': 'application/merge-patch+json' });
      await waitFor('paused condition', async () => {
        const d = await getDeploy('pz');
        const c = d.status.conditions.find((x: Obj) => x.type === 'Progressing');
        return c.reason === 'DeploymentPaused' && c.status === 'Unknown' && c.message === 'Deployment is paused';
      });
      await ts.req('PATCH', `${DEPLOY}/pz`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:2' }] } } } }, { 'content-type': 'application/strategic-merge-patch+json' });
      // a paused deployment still observes its generation, but creates no new ReplicaSet
      await waitFor('generation observed', async () => {
        const d = await getDeploy('pz');
        return d.status.observedGeneration === d.metadata.generation;
      });
      await sleep(300);
      assert.equal((await rsOf('pz')).length, 1);
      // scaling while paused still works
      await ts.req('PATCH', `${DEPLOY}/pz`, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
      await waitFor('3 pods while paused', async () => (await podsOf('app=pz')).filter((p: Obj) => !p.metadata.deletionTimestamp).length === 3);
      assert.equal((await rsOf('pz')).length, 1);
      await ts.req('PATCH', `${DEPLOY}/pz`, { spec: { paused: null } }, { 'content-type': 'application/merge-patch+json' });
      const d = await waitFor('resumed rollout', async () => {
        const d = await getDeploy('pz');
        return rolledOut(d) && (await rsOf('pz')).length === 2 ? d : undefined;
      });
      assert.equal(d.status.replicas, 3);
      const ev = (await events('Deployment', 'pz')).map((e: Obj) => e.message);
      assert.ok(ev.some((m: string) => /^Scaled up replica set pz-\w+ from 2 to 3$/.test(m)), ev.join('\n'));
    } finally {
      await k.stop();
    }
  });

  it('Recreate scales the old ReplicaSet to zero before the new one gets pods', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'rec');
    const rsWatch = ts.watch(`${RS}?watch=1&labelSelector=app%3Drec`);
    try {
      await ts.req('POST', DEPLOY, deployment('rec', 3, 'nginx:1', { strategy: { type: 'Recreate' } }));
      await waitRolledOut('rec');
      await ts.req('PATCH', `${DEPLOY}/rec`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:2' }] } } } }, { 'content-type': 'application/strategic-merge-patch+json' });
      await waitFor('recreate rolled out', async () => {
        const d = await getDeploy('rec');
        return rolledOut(d) && (await rsOf('rec')).length === 2;
      });
      const specs = new Map<string, number>();
      const evs: Obj[] = [];
      for (;;) {
        const got = await rsWatch.next(1, 300).catch(() => []);
        if (!got.length) break;
        evs.push(...got);
      }
      assert.ok(evs.length >= 4, `saw ${evs.length} ReplicaSet events`);
      for (const e of evs) {
        specs.set(e.object.metadata.name, e.object.spec.replicas);
        const busy = [...specs.values()].filter((n) => n > 0).length;
        assert.ok(busy <= 1, `two ReplicaSets with replicas at once: ${JSON.stringify([...specs])}`);
      }
    } finally {
      rsWatch.close();
      await k.stop();
    }
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'hist');
    try {
      await ts.req('POST', DEPLOY, deployment('hist', 1, 'nginx:1', { revisionHistoryLimit: 1 }));
      await waitRolledOut('hist');
      for (const v of ['2', '3', '4']) {
        await ts.req('PATCH', `${DEPLOY}/hist`, { spec: { template: { spec: { containers: [{ name: 'main', image: `nginx:${v}` }] } } } }, { 'content-type': 'application/strategic-merge-patch+json' });
        await waitFor(`rollout ${v}`, async () => {
          const d = await getDeploy('hist');
          return rolledOut(d) && d.metadata.annotations['deployment.kubernetes.io/revision'] === v;
        });
      }
      const rss = await waitFor('old ReplicaSets cleaned up', async () => {
        const rss = await rsOf('hist');
        return rss.length === 2 ? rss : undefined;
      });
      assert.deepEqual(rss.map((r: Obj) => r.metadata.annotations['deployment.kubernetes.io/revision']).sort(), ['3', '4']);
    } finally {
      await k.stop();
    }
  });

  it('reports ProgressDeadlineExceeded when pods never become ready', async () => {
    await ts.req('POST', DEPLOY, deployment('stuck', 1, 'nginx:1', { progressDeadlineSeconds: 1 }));
    const d = await waitFor('deadline exceeded', async () => {
      const d = await getDeploy('stuck');
      const c = d.status?.conditions?.find((x: Obj) => x.type === 'Progressing');
      return c?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
    });
    const [rs] = await rsOf('stuck');
    const conds = Object.fromEntries(d.status.conditions.map((x: Obj) => [x.type, x]));
    assert.equal(conds.Progressing.status, 'False');
    assert.equal(conds.Progressing.message, `ReplicaSet "${rs.metadata.name}" has timed out progressing.`);
    assert.equal(conds.Available.status, 'False');
    assert.equal(conds.Available.reason, 'MinimumReplicasUnavailable');
    assert.equal(conds.Available.message, 'Deployment does not have minimum availability.');
    assert.equal(d.status.unavailableReplicas, 1);
  });
});

describe('replicaset and replicationcontroller controllers', () => {
  it('a ReplicationController adopts a matching orphan, keeps N pods and releases a relabelled pod', async () => {
    const orphan = await ts.req('POST', PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', labels: { app: 'rcx' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    assert.equal(orphan.status, 201, orphan.text);
    const rc = await ts.req('POST', RC, {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'rcx' },
      spec: { replicas: 3, selector: { app: 'rcx' }, template: { metadata: { labels: { app: 'rcx' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    assert.equal(rc.status, 201, rc.text);
    const uid = rc.body.metadata.uid;
    await waitFor('3 pods owned by the RC', async () => {
      const pods = (await podsOf('app=rcx')).filter((p: Obj) => !p.metadata.deletionTimestamp);
      return pods.length === 3 && pods.every((p: Obj) => p.metadata.ownerReferences?.[0]?.uid === uid);
    });
    const pods = await podsOf('app=rcx');
    assert.ok(pods.some((p: Obj) => p.metadata.name === 'orphan'), 'the orphan was adopted, not replaced');
    const o = pods.find((p: Obj) => p.metadata.name === 'orphan');
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rcx', uid, controller: true, blockOwnerDeletion: true }]);
    await waitFor('rc status', async () => (await ts.req('GET', `${RC}/rcx`)).body.status?.replicas === 3);
    const ev = (await events('ReplicationController', 'rcx')).filter((e: Obj) => e.reason === 'SuccessfulCreate');
    assert.equal(ev.length, 2);
    assert.match(ev[0].message, /^Created pod: rcx-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(ev[0].source.component, 'replication-controller');

    // relabel the orphan: released, and replaced
    await ts.req('PATCH', `${PODS}/orphan`, { metadata: { labels: { app: 'other' } } }, { 'content-type': 'application/merge-patch+json' });
    await waitFor('released', async () => !(await ts.req('GET', `${PODS}/orphan`)).body.metadata.ownerReferences?.length);
    await waitFor('replacement', async () => (await podsOf('app=rcx')).filter((p: Obj) => !p.metadata.deletionTimestamp).length === 3);
    // a deleted pod is replaced too
    const victim = (await podsOf('app=rcx'))[0];
    await ts.req('DELETE', `${PODS}/${victim.metadata.name}`);
    await waitFor('replaced after delete', async () => {
      const ps = (await podsOf('app=rcx')).filter((p: Obj) => !p.metadata.deletionTimestamp);
      return ps.length === 3 && !ps.some((p: Obj) => p.metadata.name === victim.metadata.name);
    });
  });

  it('a ReplicaSet scales down not-ready pods first and reports ready/available replicas', async () => {
    const k = kubelet((p) => p.metadata.labels?.app === 'rsx' && p.metadata.labels?.ready === 'yes');
    try {
      await ts.req('POST', RS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'rsx' },
        spec: { replicas: 3, selector: { matchLabels: { app: 'rsx' } }, template: { metadata: { labels: { app: 'rsx' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      });
      const pods = await waitFor('3 pods', async () => {
        const ps = await podsOf('app=rsx');
        return ps.length === 3 ? ps : undefined;
      });
      // make two of them ready (the kubelet only readies pods labelled ready=yes)
      for (const p of pods.slice(0, 2)) await ts.req('PATCH', `${PODS}/${p.metadata.name}`, { metadata: { labels: { ready: 'yes' } } }, { 'content-type': 'application/merge-patch+json' });
      const st = await waitFor('ready status', async () => {
        const rs = (await ts.req('GET', `${RS}/rsx`)).body;
        return rs.status?.readyReplicas === 2 && rs.status?.availableReplicas === 2 ? rs.status : undefined;
      });
      assert.equal(st.replicas, 3);
      assert.equal(st.fullyLabeledReplicas, 3);
      assert.equal(st.observedGeneration, 1);
      await ts.req('PATCH', `${RS}/rsx`, { spec: { replicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
      await waitFor('2 pods', async () => (await podsOf('app=rsx')).length === 2);
      const left = await podsOf('app=rsx');
      assert.deepEqual(left.map((p: Obj) => p.metadata.name).sort(), pods.slice(0, 2).map((p: Obj) => p.metadata.name).sort(), 'the not-ready pod went first');
    } finally {
      await k.stop();
    }
  });
});
