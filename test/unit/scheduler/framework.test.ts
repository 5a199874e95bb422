import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Framework, fitErrorMessage, numFeasibleNodesToFind } from '../../../src/scheduler/framework.js';
import { preempt, selectVictimsOnNode, pickOneNode } from '../../../src/scheduler/preemption.js';
import { CycleState, unresolvable, unschedulable } from '../../../src/scheduler/types.js';
import { cluster, mkNode, mkPod, pi, seq } from './util.js';

describe('FitError message', () => {
  it('aggregates reasons per node, sorted, with the PostFilter message', () => {
    const m = fitErrorMessage(
      3,
      [unschedulable('Insufficient cpu'), unresolvable("node(s) didn't match Pod's node affinity/selector"), unresolvable("node(s) didn't match Pod's node affinity/selector")],
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    assert.equal(
      m,
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    // A node short of several resources counts once per reason.
    assert.equal(fitErrorMessage(1, [unschedulable('Insufficient cpu', 'Insufficient memory')]), '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.');
  });

  it('a full cycle: preemption not helpful when every node is unresolvable', () => {
    const c = cluster([mkNode('a', { labels: { x: '1' } }), mkNode('b'), mkNode('c')]);
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { spec: { nodeSelector: { x: '2' } } });
    const r = fw.schedule(p, c);
    const pre = preempt(fw, r.state, p, c, r.fitError!);
    r.fitError!.postFilterMsg = pre.message;
    assert.equal(
      r.fitError!.message,
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it('preemptionPolicy Never', () => {
    const c = cluster([mkNode('a', { cpu: '1' })], [mkPod('x', { nodeName: 'a', cpu: '1' })]);
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { cpu: '1', priority: 10, spec: { preemptionPolicy: 'Never' } });
    const r = fw.schedule(p, c);
    const pre = preempt(fw, r.state, p, c, r.fitError!);
    assert.equal(pre.message, 'preemption: not eligible due to preemptionPolicy=Never.');
    assert.equal(pre.candidate, undefined);
  });
});

describe('node sampling', () => {
  it('adaptive percentage like upstream', () => {
    assert.equal(numFeasibleNodesToFind(50), 50);
    assert.equal(numFeasibleNodesToFind(1000), 420); // 50 - 1000/125 = 42%
    assert.equal(numFeasibleNodesToFind(5000), 500); // 10%
    assert.equal(numFeasibleNodesToFind(100000), 5000); // 5% floor
    assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
  });
});

describe('selectHost', () => {
  it('breaks ties uniformly (reservoir sampling) and always takes a strictly better node', () => {
    const c = cluster([mkNode('a'), mkNode('b'), mkNode('c')]);
    const nodes = c.nodes();
    // rand 0.9 keeps the first tie; 0.1 replaces it with each later tie.
    assert.equal(new Framework({ schedulerName: 's' }, undefined, seq(0.9)).selectHost(nodes, [5, 5, 5]), 'a');
    assert.equal(new Framework({ schedulerName: 's' }, undefined, seq(0.1)).selectHost(nodes, [5, 5, 5]), 'c');
    assert.equal(new Framework({ schedulerName: 's' }, undefined, seq(0.1)).selectHost(nodes, [1, 9, 5]), 'b');
  });
  it('spreads identical pods over identical nodes', () => {
    const c = cluster([mkNode('a'), mkNode('b'), mkNode('c')]);
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    for (let i = 0; i < 9; i++) {
      const p = pi(`p${i}`, { cpu: '100m', owner: 'rs' });
      c.assumePod(p, fw.schedule(p, c).node!);
    }
    assert.deepEqual(c.nodes().map((n) => n.pods.size), [3, 3, 3]);
  });
  it('profiles weigh plugins differently', () => {
    // Node "a" is emptier (LeastAllocated) but has a PreferNoSchedule taint.
    const c = cluster([mkNode('a', { cpu: '8', taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), mkNode('b', { cpu: '2' })]);
    const p = pi('p', { cpu: '1' });
    assert.equal(new Framework({ schedulerName: 'default-scheduler' }).schedule(p, c).node, 'b');
    assert.equal(new Framework({ schedulerName: 'binpack-less', weights: { TaintToleration: 0, NodeResourcesFit: 10 } }).schedule(p, c).node, 'a');
  });
});

describe('preemption', () => {
  it('picks the fewest, least important victims and reprieves the rest', () => {
    const c = cluster(
      [mkNode('a', { cpu: '4' })],
      [mkPod('p1', { nodeName: 'a', cpu: '1', priority: 1 }), mkPod('p2', { nodeName: 'a', cpu: '1', priority: 2 }), mkPod('p3', { nodeName: 'a', cpu: '2', priority: 3 })],
    );
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('hi', { cpu: '2', priority: 100 });
    const st = new CycleState();
    fw.runPreFilter(st, p, c);
    const r = selectVictimsOnNode(fw, st, p, c.get('a')!, c);
    // p3 (most important) is reprieved first (2 of 4 cpu used, 2 free); adding p2 back would leave 1 cpu.
    assert.deepEqual(r.victims!.map((v) => v.pod.metadata.name).sort(), ['p1', 'p2']);
  });
  it('never evicts pods of equal or higher priority', () => {
    const c = cluster([mkNode('a', { cpu: '1' })], [mkPod('x', { nodeName: 'a', cpu: '1', priority: 100 })]);
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { cpu: '1', priority: 100 });
    const r = fw.schedule(p, c);
    const pre = preempt(fw, r.state, p, c, r.fitError!);
    assert.equal(pre.message, 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });
  it('prefers the node whose top victim has the lowest priority, then fewer victims', () => {
    const c = cluster(
      [mkNode('a', { cpu: '2' }), mkNode('b', { cpu: '2' }), mkNode('c', { cpu: '2' })],
      [
        mkPod('a1', { nodeName: 'a', cpu: '2', priority: 50 }),
        mkPod('b1', { nodeName: 'b', cpu: '1', priority: 10 }),
        mkPod('b2', { nodeName: 'b', cpu: '1', priority: 10 }),
        mkPod('c1', { nodeName: 'c', cpu: '2', priority: 10 }),
      ],
    );
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { cpu: '2', priority: 100 });
    const r = fw.schedule(p, c);
    const pre = preempt(fw, r.state, p, c, r.fitError!);
    assert.equal(pre.candidate!.node, 'c');
    assert.deepEqual(pre.candidate!.victims.map((v) => v.pod.metadata.name), ['c1']);
    assert.equal(pickOneNode([]), undefined);
  });
  it('a nominated pod keeps its room from lower-priority pods', () => {
    const c = cluster([mkNode('a', { cpu: '2' })]);
    c.nominate(pi('nom', { cpu: '2', priority: 100 }), 'a');
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    assert.equal(fw.schedule(pi('low', { cpu: '1', priority: 1 }), c).node, undefined);
    assert.equal(fw.schedule(pi('higher', { cpu: '1', priority: 200 }), c).node, 'a');
  });
  it('anti-affinity victims: removing a pod updates the plugin state', () => {
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    const c = cluster([mkNode('a')], [mkPod('x1', { nodeName: 'a', labels: { app: 'x' }, priority: 1 })]);
    const fw = new Framework({ schedulerName: 'default-scheduler' });
    const p = pi('p', { priority: 10, spec: anti });
    const r = fw.schedule(p, c);
    assert.equal(r.fitError!.message, "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
    const pre = preempt(fw, r.state, p, c, r.fitError!);
    assert.deepEqual(pre.candidate!.victims.map((v) => v.pod.metadata.name), ['x1']);
  });
});
