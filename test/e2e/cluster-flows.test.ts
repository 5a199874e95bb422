// The cluster's "what happens when…" flows with kubectl 1.32 against
// `kts server --disable-agent --simulated-nodes 3` (issue 4's Done-when scenarios that need the
// controllers, the scheduler and simulated nodes together):
//  - a DaemonSet gains a pod when a (simulated) node is added with `kubectl apply`;
//  - a Job with completions 5 / parallelism 2 completes, never more than 2 pods active
//    (followed with `kubectl get pods -w --output-watch-events`);
//  - a node whose heartbeat stops goes NotReady, is tainted node.kubernetes.io/unreachable,
//    and its Deployment pods (tolerationSeconds 5) are replaced on other nodes; the server
//    runs with --node-monitor-grace-period 5s so this takes seconds, not minutes;
//  - `kubectl drain --ignore-daemonsets` moves a Deployment's pods off a node, waiting on the
//    PodDisruptionBudget (429 "Cannot evict pod …" and retry);
//  - a real-time CronJob `*/1 * * * *` creates a Job within ~70 s — created first, checked
//    last, so its wait overlaps the other scenarios.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();
const V = '1.32';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('cluster flows on simulated nodes', { skip }, () => {
  let c: Cluster;
  let cronCreated = 0;
  before(async () => {
    c = await startCluster({ serverArgs: ['--disable-agent', '--simulated-nodes', '3', '--node-monitor-grace-period', '5s'] });
    await c.ok(V, ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s']);
    // The slow one first: its first schedule is at most a minute away.
    assert.equal(await c.ok(V, ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *']), 'cronjob.batch/tick created\n');
    cronCreated = Date.now();
  });
  after(async () => {
    await c?.stop();
  });

  /** name → { node, phase, terminating } of the pods with this label selector. */
  async function pods(selector: string): Promise<{ name: string; node: string; phase: string; terminating: boolean }[]> {
    const out = await c.ok(V, ['get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}']);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, node, phase, del] = l.split(' ');
        return { name: name!, node: node ?? '', phase: phase ?? '', terminating: !!del };
      });
  }

  test('a DaemonSet gains a pod when a node is added', async () => {
    await c.ok(V, ['apply', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: busybox
`,
    });
    await c.ok(V, ['rollout', 'status', 'daemonset/agent', '--timeout=30s'], { timeoutMs: 40_000 });
    let ps = await pods('app=agent');
    assert.deepEqual(ps.map((p) => p.node).sort(), ['kts-node-1', 'kts-node-2', 'kts-node-3']);

    assert.equal(
      await c.ok(V, ['apply', '-f', '-'], {
        input: `apiVersion: v1
kind: Node
metadata:
  name: kts-node-4
  annotations:
    kts.dev/simulated: "true"
  labels:
    kubernetes.io/hostname: kts-node-4
`,
      }),
      'node/kts-node-4 created\n',
    );
    await c.ok(V, ['wait', '--for=condition=Ready', 'node/kts-node-4', '--timeout=30s'], { timeoutMs: 40_000 });
    ps = await waitFor('an agent pod Running on kts-node-4', async () => {
      const p = await pods('app=agent');
      return p.some((x) => x.node === 'kts-node-4' && x.phase === 'Running') && p;
    });
    assert.deepEqual(ps.map((p) => p.node).sort(), ['kts-node-1', 'kts-node-2', 'kts-node-3', 'kts-node-4']);
    await c.ok(V, ['rollout', 'status', 'daemonset/agent', '--timeout=30s'], { timeoutMs: 40_000 });
    const ds = table(await c.ok(V, ['get', 'ds', 'agent']));
    assert.equal(ds[0]?.['DESIRED'], '4');
    assert.equal(ds[0]?.['READY'], '4');
  });

  test('a Job with completions 5 / parallelism 2 completes, never more than 2 active', async () => {
    const w = c.spawnKubectl(V, ['get', 'pods', '-l', 'job-name=calc', '-w', '--output-watch-events']);
    try {
      // Give kubectl a moment to list and watch (its list replays whatever it missed anyway).
      await new Promise((r) => setTimeout(r, 1000));
      await c.ok(V, ['apply', '-f', '-'], {
        input: `apiVersion: batch/v1
kind: Job
metadata:
  name: calc
spec:
  completions: 5
  parallelism: 2
  template:
    metadata:
      annotations:
        kts.dev/simulated-duration: 1s
    spec:
      restartPolicy: Never
      containers:
      - name: calc
        image: busybox
`,
      });
      await c.ok(V, ['wait', '--for=condition=complete', 'job/calc', '--timeout=60s'], { timeoutMs: 70_000 });
      // The watch may lag the Job's condition a little: wait until it has shown all 5 pods Completed
      // (a pod can print Completed more than once, so count pods, not lines).
      for (let i = 0; i < 100 && [...replay(w.stdout()).state.values()].filter((s) => s === 'Completed').length < 5; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await w.kill();
    }
    // Replay the watch: the number of pods not yet finished, after every event.
    function replay(out: string): { state: Map<string, string>; maxActive: number } {
      const state = new Map<string, string>();
      let maxActive = 0;
      // Only complete lines: the last one may still be being written.
      for (const row of table(out.slice(0, out.lastIndexOf('\n') + 1))) {
        if (!row['NAME']) continue;
        if (row['EVENT'] === 'DELETED') state.delete(row['NAME']);
        else state.set(row['NAME'], row['STATUS'] ?? '');
        const active = [...state.values()].filter((s) => s !== 'Completed' && s !== 'Error').length;
        maxActive = Math.max(maxActive, active);
      }
      return { state, maxActive };
    }
    const { state, maxActive } = replay(w.stdout());
    assert.ok(maxActive >= 1 && maxActive <= 2, `at most 2 active pods, saw ${maxActive}:\n${w.stdout()}`);
    assert.equal([...state.values()].filter((s) => s === 'Completed').length, 5, w.stdout());
    const job = table(await c.ok(V, ['get', 'job', 'calc']))[0]!;
    assert.equal(job['STATUS'], 'Complete');
    assert.equal(job['COMPLETIONS'], '5/5');
    const st = JSON.parse(await c.ok(V, ['get', 'job', 'calc', '-o', 'jsonpath={.status}']));
    assert.equal(st.succeeded, 5);
    assert.equal(st.active ?? 0, 0);
  });

  test('a node whose heartbeat stops goes NotReady, is tainted, and its pods are replaced elsewhere', async () => {
    await c.ok(V, ['apply', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: survivor
spec:
  replicas: 8
  selector:
    matchLabels: {app: survivor}
  template:
    metadata:
      labels: {app: survivor}
    spec:
      tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 5
      - key: node.kubernetes.io/not-ready
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 5
      containers:
      - name: app
        image: nginx
`,
    });
    await c.ok(V, ['rollout', 'status', 'deployment/survivor', '--timeout=40s'], { timeoutMs: 50_000 });
    const before = await pods('app=survivor');
    const doomed = before.filter((p) => p.node === 'kts-node-2').map((p) => p.name);
    assert.ok(doomed.length >= 1, `some pods on kts-node-2:\n${JSON.stringify(before)}`);

    assert.equal(await c.ok(V, ['annotate', 'node', 'kts-node-2', 'kts.dev/heartbeat=stopped']), 'node/kts-node-2 annotated\n');
    await waitFor('kts-node-2 NotReady', async () => {
      const row = table(await c.ok(V, ['get', 'node', 'kts-node-2'])).at(0);
      return row?.['STATUS'] === 'NotReady';
    });
    const ready = JSON.parse(await c.ok(V, ['get', 'node', 'kts-node-2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")]}']));
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    const taints = await waitFor('unreachable taints', async () => {
      const t = await c.ok(V, ['get', 'node', 'kts-node-2', '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}']);
      return t.includes('node.kubernetes.io/unreachable:NoExecute') && t;
    });
    assert.match(taints, /^node\.kubernetes\.io\/unreachable:NoSchedule$/m);

    // tolerationSeconds 5 → evicted; the ReplicaSet replaces them on the live nodes.
    const after = await waitFor(
      '8 Running survivor pods off kts-node-2',
      async () => {
        const p = (await pods('app=survivor')).filter((x) => !x.terminating);
        return p.length === 8 && p.every((x) => x.node !== 'kts-node-2' && x.phase === 'Running') && p;
      },
      45_000,
    );
    assert.ok(after.every((p) => !doomed.includes(p.name)));
    const ev = await c.ok(V, ['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={range .items[*]}{.involvedObject.name}{"\\n"}{end}']);
    for (const d of doomed) assert.match(ev, new RegExp(`^${d}$`, 'm'));
    await c.ok(V, ['rollout', 'status', 'deployment/survivor', '--timeout=30s'], { timeoutMs: 40_000 });

    // The kubelet comes back: Ready again, untainted, the evicted pods finally go away.
    await c.ok(V, ['annotate', 'node', 'kts-node-2', 'kts.dev/heartbeat-']);
    await c.ok(V, ['wait', '--for=condition=Ready', 'node/kts-node-2', '--timeout=30s'], { timeoutMs: 40_000 });
    await waitFor('kts-node-2 untainted', async () => {
      const t = await c.ok(V, ['get', 'node', 'kts-node-2', '-o', 'jsonpath={.spec.taints}']);
      return !t.includes('unreachable');
    });
    await waitFor('the evicted pods removed', async () => (await pods('app=survivor')).length === 8);
    await c.ok(V, ['delete', 'deployment', 'survivor']);
  });

  test('kubectl drain moves a Deployment\'s pods elsewhere and respects its PDB', async () => {
    // Every replica starts on kts-node-1: the other nodes are cordoned while it rolls out.
    for (const n of ['kts-node-2', 'kts-node-3', 'kts-node-4']) await c.ok(V, ['cordon', n]);
    await c.ok(V, ['apply', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
`,
    });
    await c.ok(V, ['rollout', 'status', 'deployment/web', '--timeout=30s'], { timeoutMs: 40_000 });
    const start = await pods('app=web');
    assert.deepEqual(start.map((p) => p.node), ['kts-node-1', 'kts-node-1', 'kts-node-1']);
    for (const n of ['kts-node-2', 'kts-node-3', 'kts-node-4']) await c.ok(V, ['uncordon', n]);
    await waitFor('the PDB allows 1 disruption', async () => {
      const s = await c.ok(V, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}/{.status.currentHealthy}']);
      return s === '1/3';
    });

    const r = await c.kubectl(V, ['drain', 'kts-node-1', '--ignore-daemonsets', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^node\/kts-node-1 cordoned$/m);
    assert.match(r.stdout, /^node\/kts-node-1 drained$/m);
    for (const p of start) assert.match(r.stdout, new RegExp(`^pod/${p.name} evicted$`, 'm'));
    assert.match(r.stderr, /^Warning: ignoring DaemonSet-managed Pods: default\/agent-\S+/m);
    // Three pods, one disruption allowed: the others were refused (429) and retried.
    assert.match(r.stderr, /error when evicting pods\/"web-\S+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);

    const moved = await waitFor('3 Running web pods off kts-node-1', async () => {
      const p = (await pods('app=web')).filter((x) => !x.terminating);
      return p.length === 3 && p.every((x) => x.node !== 'kts-node-1' && x.phase === 'Running') && p;
    });
    assert.equal(moved.length, 3);
    const node = table(await c.ok(V, ['get', 'node', 'kts-node-1'])).at(0);
    assert.equal(node?.['STATUS'], 'Ready,SchedulingDisabled');
    await c.ok(V, ['uncordon', 'kts-node-1']);
  });

  test('a CronJob */1 * * * * creates a Job on schedule (real time)', async () => {
    const owned = async () => {
      const out = await c.ok(V, ['get', 'jobs', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\\n"}{end}']);
      return out.split('\n').filter((l) => l.endsWith(' CronJob/tick')).map((l) => l.split(' ')[0]!);
    };
    const remaining = Math.max(5_000, cronCreated + 75_000 - Date.now());
    const jobs = await waitFor('a Job from cronjob/tick', async () => {
      const j = await owned();
      return j.length > 0 && j;
    }, remaining);
    // <cronjob>-<scheduled time in minutes since the epoch>.
    assert.match(jobs[0]!, /^tick-\d{8,}$/);
    const minutes = Number(jobs[0]!.slice('tick-'.length));
    assert.equal((minutes * 60) % 60, 0);
    const cj = table(await c.ok(V, ['get', 'cronjob', 'tick']))[0]!;
    assert.equal(cj['SCHEDULE'], '*/1 * * * *');
    assert.notEqual(cj['LAST SCHEDULE'], '<none>');
    const last = await c.ok(V, ['get', 'cronjob', 'tick', '-o', 'jsonpath={.status.lastScheduleTime}']);
    assert.equal(new Date(last).getTime(), minutes * 60_000);
  });
});
