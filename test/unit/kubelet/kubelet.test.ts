// Pure kubelet logic: $(VAR) expansion and env sources, the AtomicWriter, phase/condition
// computation, CrashLoopBackOff arithmetic, probe thresholds on a fake clock, CRI log parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expand, makeEnvironment, serviceEnv, EnvConfigError, type EnvSources } from '../../../src/kubelet/env.js';
import { atomicWrite, checkHostPathType, VolumeError } from '../../../src/kubelet/volumes.js';
import { Backoff, computePodStatus, podPhase, qosClass, type ContainerView } from '../../../src/kubelet/status.js';
import { ProbeWorker } from '../../../src/kubelet/probes.js';
import { parseCRILogLine, readLogs } from '../../../src/kubelet/logs.js';
import { rewriteMountPaths } from '../../../src/kubelet/runtime/process.js';
import type { ContainerStatus } from '../../../src/kubelet/runtime/types.js';
import type { KObject } from '../../../src/api/types.js';

test('$(VAR) expansion: defined names, $$ escapes, unknown names kept', () => {
  const m: Record<string, string> = { A: 'x', B: 'y' };
  const l = (n: string) => m[n];
  assert.equal(expand('$(A)-$(B)', l), 'x-y');
  assert.equal(expand('$$(A)', l), '$(A)');
  assert.equal(expand('$(C) stays', l), '$(C) stays');
  assert.equal(expand('a $ b $(A', l), 'a $ b $(A');
});

const src = (over: Partial<EnvSources> = {}): EnvSources => ({
  configMap: (_ns, n) => (n === 'cm' ? ({ metadata: { name: 'cm' }, data: { k: 'v', K2: 'w' } } as KObject) : undefined),
  secret: (_ns, n) => (n === 's' ? ({ metadata: { name: 's' }, data: { pw: Buffer.from('hunter2').toString('base64') } } as KObject) : undefined),
  services: () => [],
  podIPs: ['10.244.0.5'],
  hostIP: '192.168.1.2',
  nodeName: 'n1',
  ...over,
});
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'a' }, ...meta }, spec } as KObject);

test('env: values, downward API, configMap/secret refs, envFrom with prefix, expansion order', () => {
  const c = {
    name: 'c',
    envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
    env: [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
      { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'x', optional: true } } },
      { name: 'MSG', value: '$(POD) at $(IP) $(CM_k)' },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    ],
    resources: { limits: { memory: '64Mi' } },
  };
  const env = makeEnvironment(pod({ containers: [c] }), c, src());
  const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
  assert.equal(m['CM_k'], 'v');
  assert.equal(m['POD'], 'p');
  assert.equal(m['IP'], '10.244.0.5');
  assert.equal(m['APP'], 'a');
  assert.equal(m['PW'], 'hunter2');
  assert.equal('OPT' in m, false);
  assert.equal(m['MSG'], 'p at 10.244.0.5 v');
  assert.equal(m['MEM'], '64');
});

test('env: missing configMap / key give the upstream messages', () => {
  const c1 = { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] };
  assert.throws(() => makeEnvironment(pod({ containers: [c1] }), c1, src()), (e: Error) => e instanceof EnvConfigError && e.message === 'configmap "nope" not found');
  const c2 = { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'zz' } } }] };
  assert.throws(() => makeEnvironment(pod({ containers: [c2] }), c2, src()), /couldn't find key zz in ConfigMap ns\/cm/);
});

test('service env vars and docker links', () => {
  const env = serviceEnv([{ metadata: { name: 'my-svc' }, spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as KObject]);
  const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
  assert.equal(m['MY_SVC_SERVICE_HOST'], '10.96.0.7');
  assert.equal(m['MY_SVC_SERVICE_PORT'], '80');
  assert.equal(m['MY_SVC_SERVICE_PORT_HTTP'], '80');
  assert.equal(m['MY_SVC_PORT'], 'tcp://10.96.0.7:80');
  assert.equal(m['MY_SVC_PORT_80_TCP_ADDR'], '10.96.0.7');
  // enableServiceLinks: false keeps only the master service
  const c = { name: 'c' };
  const env2 = makeEnvironment(pod({ containers: [c], enableServiceLinks: false }), c, src({ services: () => [{ metadata: { name: 'my-svc', namespace: 'ns' }, spec: { clusterIP: '10.96.0.7', ports: [{ port: 80 }] } } as KObject] }));
  assert.equal(env2.length, 0);
});

test('AtomicWriter: ..data swap, symlinked names, removals, no rewrite when unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-aw-'));
  try {
    const p1 = new Map([['a', { data: Buffer.from('1'), mode: 0o644 }], ['sub/b', { data: Buffer.from('2'), mode: 0o400 }]]);
    assert.equal(atomicWrite(dir, p1), true);
    const first = readlinkSync(join(dir, '..data'));
    assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
    assert.equal(readFileSync(join(dir, 'sub', 'b'), 'utf8'), '2');
    assert.equal(statSync(join(dir, 'sub', 'b')).mode & 0o777, 0o400);
    assert.equal(atomicWrite(dir, p1), false);
    assert.equal(readlinkSync(join(dir, '..data')), first);
    const p2 = new Map([['a', { data: Buffer.from('changed'), mode: 0o644 }]]);
    assert.equal(atomicWrite(dir, p2), true);
    assert.notEqual(readlinkSync(join(dir, '..data')), first);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'changed');
    assert.deepEqual(readdirSync(dir).filter((e) => !e.startsWith('..')), ['a']);
    assert.equal(readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data').length, 1);
    assert.ok(lstatSync(join(dir, '..data')).isSymbolicLink());
    assert.throws(() => atomicWrite(dir, new Map([['../x', { data: Buffer.from(''), mode: 0o644 }]])), VolumeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostPath type checks say what upstream says', () => {
  assert.throws(() => checkHostPathType('/etc/hostname', 'Directory'), /hostPath type check failed: \/etc\/hostname is not a directory/);
  assert.throws(() => checkHostPathType('/etc', 'File'), /is not a file/);
  assert.throws(() => checkHostPathType('/etc', 'Socket'), /is not a socket file/);
  checkHostPathType('/dev/null', 'CharDevice');
});

const cs = (o: Partial<ContainerStatus>): ContainerStatus => ({ id: 'x'.repeat(64), sandboxId: 's', name: 'c', attempt: 0, state: 'running', createdAt: 1, startedAt: 1_700_000_000_000, finishedAt: 0, exitCode: 0, image: 'docker.io/library/busybox:latest', imageRef: 'docker.io/library/busybox@sha256:ab', logPath: '/l', labels: {}, annotations: {}, ...o });
const view = (o: Partial<ContainerView>): ContainerView => ({ name: 'c', image: 'busybox', restartCount: 0, ready: true, started: true, ...o });

test('phase: Running, Succeeded, Failed, CrashLoopBackOff keeps Running, init pending', () => {
  const p = pod({ containers: [{ name: 'c' }] });
  assert.equal(podPhase(p, [], [view({ current: cs({}) })]), 'Running');
  assert.equal(podPhase(pod({ restartPolicy: 'Never' }), [], [view({ current: cs({ state: 'exited', exitCode: 0 }) })]), 'Succeeded');
  assert.equal(podPhase(pod({ restartPolicy: 'Never' }), [], [view({ current: cs({ state: 'exited', exitCode: 2 }) })]), 'Failed');
  assert.equal(podPhase(p, [], [view({ current: cs({ state: 'exited', exitCode: 2 }), waiting: { reason: 'CrashLoopBackOff' } })]), 'Running');
  assert.equal(podPhase(p, [], [view({ waiting: { reason: 'ContainerCreating' } })]), 'Pending');
  assert.equal(podPhase(p, [view({ name: 'i', current: cs({}) })], [view({ waiting: { reason: 'PodInitializing' } })]), 'Pending');
  assert.equal(podPhase(pod({ restartPolicy: 'Never' }), [view({ name: 'i', current: cs({ state: 'exited', exitCode: 1 }) })], [view({ waiting: { reason: 'PodInitializing' } })]), 'Failed');
});

test('status: conditions and container statuses as upstream writes them', () => {
  const p = pod({ containers: [{ name: 'c' }, { name: 'd' }], initContainers: [{ name: 'i' }] });
  const now = new Date('2024-01-01T00:00:00Z');
  const st = computePodStatus(p, {
    runtimeType: 'cri',
    init: [view({ name: 'i', current: cs({ state: 'exited', exitCode: 0, reason: 'Completed', finishedAt: 1_700_000_001_000 }) })],
    containers: [view({ current: cs({}) }), view({ name: 'd', current: cs({}), ready: false })],
    sandboxReady: true,
    podIPs: ['10.244.0.9'],
    hostIP: '192.168.0.2',
    now,
  });
  assert.equal(st.phase, 'Running');
  const cond = Object.fromEntries(st.conditions.map((c: { type: string }) => [c.type, c]));
  assert.equal(cond.Initialized.status, 'True');
  assert.equal(cond.PodReadyToStartContainers.status, 'True');
  assert.equal(cond.Ready.status, 'False');
  assert.equal(cond.Ready.reason, 'ContainersNotReady');
  assert.equal(cond.ContainersReady.message, 'containers with unready status: [d]');
  assert.deepEqual(st.conditions.map((c: { type: string }) => c.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  assert.equal(st.containerStatuses[0].containerID, `containerd://${'x'.repeat(64)}`);
  assert.equal(st.containerStatuses[0].state.running.startedAt, '2023-11-14T22:13:20Z');
  assert.equal(st.initContainerStatuses[0].state.terminated.reason, 'Completed');
  assert.equal(st.podIP, '10.244.0.9');
  assert.deepEqual(st.hostIPs, [{ ip: '192.168.0.2' }]);
  // CrashLoopBackOff: waiting with lastState.terminated
  const crash = computePodStatus(pod({ containers: [{ name: 'c' }] }), {
    runtimeType: 'process', init: [], sandboxReady: true, podIPs: [], hostIP: 'h', now,
    containers: [view({ current: cs({ state: 'exited', exitCode: 1, reason: 'Error' }), restartCount: 3, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=c pod=p_ns(u1)' } })],
  });
  assert.equal(crash.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(crash.containerStatuses[0].lastState.terminated.exitCode, 1);
  assert.equal(crash.containerStatuses[0].restartCount, 3);
  assert.equal(crash.containerStatuses[0].ready, false);
});

test('qosClass', () => {
  assert.equal(qosClass(pod({ containers: [{ name: 'c' }] })), 'BestEffort');
  assert.equal(qosClass(pod({ containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] })), 'Burstable');
  assert.equal(qosClass(pod({ containers: [{ name: 'c', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }] })), 'Guaranteed');
});

test('CrashLoopBackOff: 10 s doubling to 5 min, reset after 10 min', () => {
  const b = new Backoff();
  let t = 0;
  assert.equal(b.isInBackOffSince('k', t, t), false); // first restart is immediate
  const delays = [];
  for (let i = 0; i < 7; i++) delays.push(b.next('k', (t += 1000)));
  assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.isInBackOffSince('k', t, t + 299_000), true);
  assert.equal(b.isInBackOffSince('k', t, t + 300_000), false);
  t += 600_001;
  assert.equal(b.next('k', t), 10_000);
});

class FakeClock {
  t = 0;
  timers: { at: number; fn: () => void; dead: boolean }[] = [];
  now = () => new Date(this.t);
  setTimeout = (fn: () => void, ms: number) => {
    const e = { at: this.t + ms, fn, dead: false };
    this.timers.push(e);
    return { cancel: () => (e.dead = true) };
  };
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.dead && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.dead = true;
      this.t = due.at;
      due.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

test('probe timing: initialDelay, period, failureThreshold, successThreshold', async () => {
  const clock = new FakeClock();
  const outcomes = [false, false, false, true, true];
  const attempts: number[] = [];
  const changes: boolean[] = [];
  const w = new ProbeWorker('readiness', { initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 3, successThreshold: 2 }, clock, async () => {
    attempts.push(clock.t);
    return { ok: outcomes.shift() ?? true, output: '' };
  }, (wk, _o, changed) => changed && changes.push(wk.result));
  w.start();
  assert.equal(w.result, false);
  await clock.advance(4_999);
  assert.equal(attempts.length, 0);
  await clock.advance(10_000);
  assert.deepEqual(attempts, [5000, 7000, 9000, 11000, 13000]);
  assert.deepEqual(changes, [true]); // ready after two successes (was false from the start)
  w.stop();

  const lclock = new FakeClock();
  let killed = 0;
  const lw = new ProbeWorker('liveness', { periodSeconds: 10, failureThreshold: 3 }, lclock, async () => ({ ok: false, output: 'no' }), (wk, _o, changed) => {
    if (changed && !wk.result) killed++;
  });
  lw.start();
  assert.equal(lw.result, true);
  await lclock.advance(19_999);
  assert.equal(killed, 0);
  await lclock.advance(1);
  assert.equal(killed, 1);
});

test('CRI log lines: parse, tail, timestamps, partial lines', async () => {
  const r = parseCRILogLine('2024-01-01T00:00:00.123456789Z stderr P part');
  assert.deepEqual([r?.stream, r?.partial, r?.content], ['stderr', true, 'part']);
  const dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
  try {
    const f = join(dir, '0.log');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f, ['2024-01-01T00:00:01Z stdout F one', '2024-01-01T00:00:02Z stdout P tw', '2024-01-01T00:00:02Z stdout F o', '2024-01-01T00:00:03Z stderr F three', ''].join('\n'));
    const collect = async (o: Parameters<typeof readLogs>[2]) => {
      let s = '';
      await readLogs(f, new Writable({ write: (c, _e, cb) => ((s += c.toString()), cb()) }), o);
      return s;
    };
    assert.equal(await collect({}), 'one\ntwo\nthree\n');
    assert.equal(await collect({ tailLines: 2 }), 'two\nthree\n');
    assert.equal(await collect({ since: new Date('2024-01-01T00:00:03Z') }), 'three\n');
    assert.equal(await collect({ tailLines: 1, timestamps: true }), '2024-01-01T00:00:03.000000000Z three\n');
    assert.equal(await collect({ limitBytes: 5 }), 'one\nt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process runtime rewrites absolute mount paths in commands', () => {
  const m = [{ containerPath: '/etc/cfg', hostPath: '/k/v/cfg' }];
  assert.equal(rewriteMountPaths('cat /etc/cfg/greeting; ls /etc/cfgx', m), 'cat /k/v/cfg/greeting; ls /etc/cfgx');
  assert.equal(rewriteMountPaths('/etc/cfg', m), '/k/v/cfg');
});
