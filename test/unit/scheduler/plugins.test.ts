import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, Code, type AnyPlugin } from '../../../src/scheduler/types.js';
import { NodeUnschedulable } from '../../../src/scheduler/plugins/nodeunschedulable.js';
import { NodeName } from '../../../src/scheduler/plugins/nodename.js';
import { NodeAffinity } from '../../../src/scheduler/plugins/nodeaffinity.js';
import { TaintToleration } from '../../../src/scheduler/plugins/tainttoleration.js';
import { NodeResourcesFit, leastAllocatedScore, balancedAllocationScore } from '../../../src/scheduler/plugins/noderesourcesfit.js';
import { NodePorts } from '../../../src/scheduler/plugins/nodeports.js';
import { InterPodAffinity } from '../../../src/scheduler/plugins/interpodaffinity.js';
import { PodTopologySpread } from '../../../src/scheduler/plugins/podtopologyspread.js';
import { podRequests } from '../../../src/scheduler/resources.js';
import { cluster, mkNode, mkPod, pi } from './util.js';
import type { SchedulerCache } from '../../../src/scheduler/cache.js';
import type { PodInfo } from '../../../src/scheduler/types.js';

/** Runs PreFilter (if any) then Filter on every node: node name -> reasons ([] = fits). */
function filterAll(p: AnyPlugin, pod: PodInfo, c: SchedulerCache): Record<string, string[]> {
  const st = new CycleState();
  const pre = p.preFilter?.(st, pod, c);
  const out: Record<string, string[]> = {};
  for (const n of c.nodes()) {
    if (pre?.code === Code.Skip) out[n.name] = [];
    else out[n.name] = p.filter!(st, pod, n, c).reasons;
  }
  return out;
}

function scoreAll(p: AnyPlugin, pod: PodInfo, c: SchedulerCache): Record<string, number> {
  const st = new CycleState();
  const nodes = c.nodes();
  p.preScore?.(st, pod, nodes, c);
  const scores = nodes.map((n) => p.score!(st, pod, n, c));
  p.normalizeScore?.(st, pod, scores, nodes.map((n) => n.name));
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i]!]));
}

describe('NodeUnschedulable', () => {
  it('rules out cordoned nodes unless the pod tolerates the unschedulable taint', () => {
    const c = cluster([mkNode('a', { unschedulable: true }), mkNode('b')]);
    assert.deepEqual(filterAll(new NodeUnschedulable(), pi('p'), c), { a: ['node(s) were unschedulable'], b: [] });
    const tol = pi('t', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.deepEqual(filterAll(new NodeUnschedulable(), tol, c), { a: [], b: [] });
  });
});

describe('NodeName', () => {
  it('matches only the requested node', () => {
    const c = cluster([mkNode('a'), mkNode('b')]);
    assert.deepEqual(filterAll(new NodeName(), pi('p', { spec: { nodeName: 'b' } }), c), { a: ["node(s) didn't match the requested node name"], b: [] });
  });
});

describe('NodeAffinity', () => {
  const c = cluster([
    mkNode('a', { labels: { zone: 'z1', gen: '3', disk: 'ssd' } }),
    mkNode('b', { labels: { zone: 'z2', gen: '5' } }),
    mkNode('c', { labels: { zone: 'z3' } }),
  ]);
  const miss = "node(s) didn't match Pod's node affinity/selector";
  const req = (...matchExpressions: unknown[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } },
  });
  it('nodeSelector', () => {
    assert.deepEqual(filterAll(new NodeAffinity(), pi('p', { spec: { nodeSelector: { disk: 'ssd' } } }), c), { a: [], b: [miss], c: [miss] });
  });
  it('operators In, NotIn, Exists, DoesNotExist, Gt, Lt', () => {
    const f = (e: unknown) => Object.entries(filterAll(new NodeAffinity(), pi('p', { spec: req(e) }), c)).filter(([, r]) => r.length === 0).map(([n]) => n);
    assert.deepEqual(f({ key: 'zone', operator: 'In', values: ['z1', 'z3'] }), ['a', 'c']);
    assert.deepEqual(f({ key: 'zone', operator: 'NotIn', values: ['z1'] }), ['b', 'c']);
    assert.deepEqual(f({ key: 'gen', operator: 'Exists' }), ['a', 'b']);
    assert.deepEqual(f({ key: 'gen', operator: 'DoesNotExist' }), ['c']);
    assert.deepEqual(f({ key: 'gen', operator: 'Gt', values: ['4'] }), ['b']);
    assert.deepEqual(f({ key: 'gen', operator: 'Lt', values: ['4'] }), ['a']);
  });
  it('terms are ORed, expressions ANDed, matchFields on metadata.name', () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }, { key: 'gen', operator: 'In', values: ['5'] }] },
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] },
            ],
          },
        },
      },
    };
    assert.deepEqual(filterAll(new NodeAffinity(), pi('p', { spec }), c), { a: [miss], b: [miss], c: [] });
  });
  it('scores preferred terms by weight, normalized to 100', () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } },
            { weight: 30, preference: { matchExpressions: [{ key: 'gen', operator: 'Exists' }] } },
          ],
        },
      },
    };
    assert.deepEqual(scoreAll(new NodeAffinity(), pi('p', { spec }), c), { a: 100, b: 75, c: 0 });
  });
});

describe('TaintToleration', () => {
  const c = cluster([
    mkNode('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    mkNode('b', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }),
    mkNode('c', { taints: [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }] }),
    mkNode('d'),
  ]);
  it('filters untolerated NoSchedule/NoExecute taints with upstream\'s reason', () => {
    assert.deepEqual(filterAll(new TaintToleration(), pi('p'), c), {
      a: ['node(s) had untolerated taint {dedicated: gpu}'],
      b: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'],
      c: [],
      d: [],
    });
    const tol = pi('t', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }] } });
    assert.deepEqual(filterAll(new TaintToleration(), tol, c), { a: [], b: [], c: [], d: [] });
    const wrongValue = pi('w', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }] } });
    assert.equal(filterAll(new TaintToleration(), wrongValue, c)['a']!.length, 1);
  });
  it('scores untolerated PreferNoSchedule taints lower', () => {
    assert.deepEqual(scoreAll(new TaintToleration(), pi('p'), c), { a: 100, b: 100, c: 0, d: 100 });
  });
});

describe('NodeResourcesFit', () => {
  it('reports every shortage with upstream\'s reasons', () => {
    const c = cluster(
      [mkNode('a', { cpu: '2', memory: '1Gi', pods: '1', extra: { 'example.com/gpu': '1' } }), mkNode('b', { cpu: '8', memory: '16Gi' })],
      [mkPod('x', { nodeName: 'a', cpu: '1', memory: '512Mi' })],
    );
    const p = pi('p', { cpu: '1500m', memory: '600Mi', requests: { 'example.com/gpu': '2' } });
    assert.deepEqual(filterAll(new NodeResourcesFit(), p, c), {
      a: ['Too many pods', 'Insufficient cpu', 'Insufficient memory', 'Insufficient example.com/gpu'],
      b: ['Insufficient example.com/gpu'],
    });
  });
  it('counts init containers, sidecars and overhead', () => {
    const r = podRequests({
      containers: [{ resources: { requests: { cpu: '100m' } } }, { resources: { requests: { cpu: '200m' } } }],
      initContainers: [{ resources: { requests: { cpu: '1' } } }, { restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } }],
      overhead: { cpu: '10m', memory: '1Mi' },
    });
    assert.equal(r.milliCPU, 1010); // max(300+50, 1000) + 10
    assert.equal(r.memory, 1024 * 1024);
    const c = cluster([mkNode('a', { cpu: '1' })]);
    const p = pi('p', { spec: { initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '2' } } }] } });
    assert.deepEqual(filterAll(new NodeResourcesFit(), p, c), { a: ['Insufficient cpu'] });
  });
  it('LeastAllocated and BalancedAllocation scores', () => {
    const c = cluster([mkNode('a', { cpu: '4', memory: '8Gi' })], [mkPod('x', { nodeName: 'a', cpu: '1', memory: '2Gi' })]);
    const n = c.get('a')!;
    // cpu (4000-2000)/4000 = 50, memory (8-4)/8 = 50
    assert.equal(leastAllocatedScore(pi('p', { cpu: '1', memory: '2Gi' }), n), 50);
    assert.equal(balancedAllocationScore(pi('p', { cpu: '1', memory: '2Gi' }), n), 100);
    // cpu 3/4, memory 2.5/8: std = |0.75-0.3125|/2
    assert.equal(balancedAllocationScore(pi('p', { cpu: '2', memory: '512Mi' }), n), 78);
    // nothing requested: counted as 100m / 200Mi
    assert.equal(leastAllocatedScore(pi('q'), n), Math.trunc((Math.trunc((2900 * 100) / 4000) + Math.trunc(((8 - 2) * 1024 - 200) * 100 / (8 * 1024))) / 2));
  });
});

describe('NodePorts', () => {
  it('detects hostPort conflicts (wildcard IPs conflict with every IP)', () => {
    const c = cluster([mkNode('a'), mkNode('b')], [mkPod('x', { nodeName: 'a', hostPort: 8080 })]);
    assert.deepEqual(filterAll(new NodePorts(), pi('p', { hostPort: 8080 }), c), { a: ["node(s) didn't have free ports for the requested pod ports"], b: [] });
    assert.deepEqual(filterAll(new NodePorts(), pi('p', { hostPort: 9090 }), c), { a: [], b: [] });
  });
});

describe('InterPodAffinity', () => {
  const zoneNodes = () => [
    mkNode('a', { labels: { zone: 'z1' } }),
    mkNode('b', { labels: { zone: 'z1' } }),
    mkNode('c', { labels: { zone: 'z2' } }),
    mkNode('d'),
  ];
  const term = (labels: Record<string, string>, topologyKey = 'zone', extra = {}) => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
  it('required affinity: only domains holding a matching pod; a node without the key fails', () => {
    const c = cluster(zoneNodes(), [mkPod('db', { nodeName: 'a', labels: { app: 'db' } })]);
    const p = pi('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } } });
    const miss = "node(s) didn't match pod affinity rules";
    assert.deepEqual(filterAll(new InterPodAffinity(), p, c), { a: [], b: [], c: [miss], d: [miss] });
  });
  it('required affinity: the first pod of a group that matches itself may go anywhere with the key', () => {
    const c = cluster(zoneNodes());
    const p = pi('p', { labels: { app: 'web' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
    assert.deepEqual(filterAll(new InterPodAffinity(), p, c), { a: [], b: [], c: [], d: ["node(s) didn't match pod affinity rules"] });
  });
  it('required anti-affinity of the pod and of existing pods', () => {
    const c = cluster(zoneNodes(), [
      mkPod('w1', { nodeName: 'a', labels: { app: 'web' } }),
      mkPod('guard', {
        nodeName: 'c',
        labels: { app: 'guard' },
        spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, 'kubernetes.io/hostname')] } } },
      }),
    ]);
    const p = pi('p', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
    assert.deepEqual(filterAll(new InterPodAffinity(), p, c), {
      a: ["node(s) didn't match pod anti-affinity rules"],
      b: ["node(s) didn't match pod anti-affinity rules"],
      c: ["node(s) didn't satisfy existing pods anti-affinity rules"],
      d: [],
    });
  });
  it('namespaces and namespaceSelector decide which pods a term sees', () => {
    const c = cluster(zoneNodes(), [mkPod('db', { ns: 'data', nodeName: 'c', labels: { app: 'db' } })]);
    c.setNamespace({ metadata: { name: 'data', labels: { team: 'x' } } });
    const same = pi('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } } });
    assert.equal(filterAll(new InterPodAffinity(), same, c)['c']!.length, 1, 'own namespace only by default');
    const sel = pi('p', {
      spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone', { namespaceSelector: { matchLabels: { team: 'x' } } })] } } },
    });
    assert.deepEqual(filterAll(new InterPodAffinity(), sel, c)['c'], []);
    const list = pi('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone', { namespaces: ['data'] })] } } } });
    assert.deepEqual(filterAll(new InterPodAffinity(), list, c)['c'], []);
  });
  it('scores preferred affinity up and anti-affinity down', () => {
    const c = cluster(zoneNodes(), [mkPod('db', { nodeName: 'a', labels: { app: 'db' } }), mkPod('noisy', { nodeName: 'c', labels: { app: 'noisy' } })]);
    const p = pi('p', {
      spec: {
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'db' }) }] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'noisy' }) }] },
        },
      },
    });
    assert.deepEqual(scoreAll(new InterPodAffinity(), p, c), { a: 100, b: 100, c: 0, d: 50 });
  });
});

describe('PodTopologySpread', () => {
  const nodes = () => [
    mkNode('a', { labels: { zone: 'z1' } }),
    mkNode('b', { labels: { zone: 'z1' } }),
    mkNode('c', { labels: { zone: 'z2' } }),
    mkNode('d'),
  ];
  const tsc = (extra = {}) => ({
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra }],
  });
  it('DoNotSchedule: skew against the emptiest domain; missing label is unresolvable', () => {
    const c = cluster(nodes(), [mkPod('w1', { nodeName: 'a', labels: { app: 'web' } })]);
    const p = pi('p', { labels: { app: 'web' }, spec: tsc() });
    assert.deepEqual(filterAll(new PodTopologySpread(), p, c), {
      a: ["node(s) didn't match pod topology spread constraints"],
      b: ["node(s) didn't match pod topology spread constraints"],
      c: [],
      d: ["node(s) didn't match pod topology spread constraints (missing required label)"],
    });
  });
  it('minDomains: fewer domains than minDomains means a global minimum of 0', () => {
    const c = cluster(nodes(), [mkPod('w1', { nodeName: 'a', labels: { app: 'web' } }), mkPod('w2', { nodeName: 'c', labels: { app: 'web' } })]);
    const p = pi('p', { labels: { app: 'web' }, spec: tsc({ minDomains: 3 }) });
    const r = filterAll(new PodTopologySpread(), p, c);
    assert.equal(r['a']!.length, 1);
    assert.equal(r['c']!.length, 1);
    const p2 = pi('p', { labels: { app: 'web' }, spec: tsc() });
    assert.deepEqual(filterAll(new PodTopologySpread(), p2, c)['a'], []);
  });
  it('ScheduleAnyway and system defaults score emptier domains higher', () => {
    const c = cluster([mkNode('a'), mkNode('b'), mkNode('c')], [mkPod('r1', { nodeName: 'a', owner: 'rs' }), mkPod('r2', { nodeName: 'a', owner: 'rs' }), mkPod('r3', { nodeName: 'b', owner: 'rs' })]);
    const s = scoreAll(new PodTopologySpread(), pi('p', { owner: 'rs' }), c);
    assert.ok(s['c']! > s['b']! && s['b']! > s['a']!, JSON.stringify(s));
    assert.equal(s['c'], 100);
  });
});

describe('mixed: affinity + taints + resources', () => {
  it('each node fails on its first failing plugin; one node fits', async () => {
    const { Framework } = await import('../../../src/scheduler/framework.js');
    const c = cluster(
      [
        mkNode('tainted', { labels: { disk: 'ssd' }, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }),
        mkNode('small', { labels: { disk: 'ssd' }, cpu: '1' }),
        mkNode('hdd', { labels: { disk: 'hdd' } }),
        mkNode('ok', { labels: { disk: 'ssd' } }),
      ],
      [],
    );
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { cpu: '2', spec: { nodeSelector: { disk: 'ssd' } } });
    assert.equal(fw.schedule(p, c).node, 'ok');
    const q = pi('q', { cpu: '20', spec: { nodeSelector: { disk: 'ssd' } } });
    const r = fw.schedule(q, c);
    assert.equal(r.node, undefined);
    assert.equal(
      r.fitError!.message,
      "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.",
    );
  });
});
