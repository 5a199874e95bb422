// The kubelet with the process runtime, in a whole in-process kts server: pods run as host
// processes and report their truth back (Running/Ready, logs, liveness restarts, failures,
// configMap volumes that follow the ConfigMap, downward API env, deletion kills the process).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers.js';

const NODE = 'kts-process-node';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function pod(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra }, spec: { terminationGracePeriodSeconds: 2, ...spec } };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kubelet with the process runtime', () => {
  let ts: TestServer;
  const P = '/api/v1/namespaces/default/pods';
  const get = async (name: string) => (await ts.req('GET', `${P}/${name}`)).body;

  before(async () => {
    ts = await startTestServer({ kubelet: { containerRuntime: 'process', port: 0, nodeName: NODE } });
  });
  after(async () => {
    await ts?.stop();
  });

  test('the server registers its own node, Ready, with a pod CIDR and a Lease', async () => {
    const node = await until('node Ready', async () => {
      const n = (await ts.req('GET', `/api/v1/nodes/${NODE}`)).body;
      return n?.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
    });
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata.labels['node-role.kubernetes.io/control-plane'], '');
    assert.match(node.spec.podCIDR, /^10\.244\.\d+\.0\/24$/);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^process:\/\//);
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.32.0-kts');
    assert.equal(node.status.capacity.pods, '110');
    assert.ok(node.status.addresses.some((a: { type: string }) => a.type === 'InternalIP'));
    await until('lease', async () => (await ts.req('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`)).status === 200);
  });

  test('a pod runs, goes Ready, its logs hold its output and the downward API env', async () => {
    const r = await ts.req('POST', P, pod('hello', {
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello; echo "name=$MY_NAME"; sleep 3600'], env: [{ name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }],
    }));
    assert.equal(r.status, 201, r.text);
    const p = await until('Running+Ready', async () => {
      const x = await get('hello');
      return x?.status?.phase === 'Running' && x.status.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? x : undefined;
    });
    const cs = p.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.match(cs.containerID, /^process:\/\/[0-9a-f]{64}$/);
    assert.equal(cs.imageID.startsWith('docker.io/library/busybox@sha256:'), true);
    assert.ok(p.status.podIP);
    assert.equal(p.status.qosClass, 'BestEffort');
    const logFile = join(ts.dataDir, 'kubelet', 'logs', 'pods', `default_hello_${p.metadata.uid}`, 'main', '0.log');
    const text = await until('log lines', async () => {
      const t = readFileSync(logFile, 'utf8');
      return t.includes('name=hello') ? t : undefined;
    });
    assert.match(text, /^\S+Z stdout F hello$/m);
    const ev = await until('Started event', async () => {
      const l = (await ts.req('GET', '/api/v1/namespaces/default/events')).body.items.filter((e: { involvedObject: { name: string } }) => e.involvedObject.name === 'hello');
      return l.some((e: { reason: string }) => e.reason === 'Started') ? l : undefined;
    });
    const reasons = ev.map((e: { reason: string }) => e.reason);
    for (const want of ['Pulled', 'Created', 'Started']) assert.ok(reasons.includes(want), `${want} in ${reasons}`);
    assert.ok(ev.some((e: { message: string }) => e.message === 'Started container main'));
  });

  test('deleting the pod kills its process and removes the pod', async () => {
    await ts.req('POST', P, pod('victim', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] }));
    await until('Running', async () => (await get('victim'))?.status?.phase === 'Running');
    const pids = execFileSync('pgrep', ['-f', '^sleep 3600$']).toString().trim().split('\n').map(Number);
    const before = pids.filter(alive);
    assert.ok(before.length > 0);
    const d = await ts.req('DELETE', `${P}/victim`);
    assert.equal(d.status, 200, d.text);
    await until('pod gone', async () => (await ts.req('GET', `${P}/victim`)).status === 404);
    // Only the victim's sleep is gone (the other test pods use sh -c).
    await until('process killed', async () => before.some((pid) => !alive(pid)));
  });

  test('an exit-1 pod with restartPolicy Never ends Failed with reason Error', async () => {
    await ts.req('POST', P, pod('fails', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo bye; exit 1'] }] }));
    const p = await until('Failed', async () => {
      const x = await get('fails');
      return x?.status?.phase === 'Failed' ? x : undefined;
    });
    const t = p.status.containerStatuses[0].state.terminated;
    assert.equal(t.exitCode, 1);
    assert.equal(t.reason, 'Error');
    assert.equal(p.status.containerStatuses[0].restartCount, 0);
  });

  test('a failing liveness probe restarts the container', async () => {
    await ts.req('POST', P, pod('live', {
      containers: [{
        name: 'c',
        image: 'busybox',
        command: ['sleep', '3601'],
        livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 },
      }],
    }));
    const p = await until('restartCount ≥ 1', async () => {
      const x = await get('live');
      return x?.status?.containerStatuses?.[0]?.restartCount >= 1 ? x : undefined;
    }, 25_000);
    assert.ok(p.status.containerStatuses[0].lastState.terminated, JSON.stringify(p.status.containerStatuses[0]));
    const ev = (await ts.req('GET', '/api/v1/namespaces/default/events')).body.items.filter((e: { involvedObject: { name: string } }) => e.involvedObject.name === 'live');
    assert.ok(ev.some((e: { reason: string; message: string }) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed')), JSON.stringify(ev.map((e: { reason: string }) => e.reason)));
    assert.ok(ev.some((e: { reason: string; message: string }) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted'));
  });

  test('a configMap volume appears in the pod and follows the ConfigMap', async () => {
    await ts.req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { greeting: 'one' } });
    await ts.req('POST', P, pod('withcm', {
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'while true; do cat /etc/cfg/greeting; echo; sleep 0.3; done'], volumeMounts: [{ name: 'v', mountPath: '/etc/cfg' }] }],
      volumes: [{ name: 'v', configMap: { name: 'cfg' } }],
    }));
    const p = await until('Running', async () => {
      const x = await get('withcm');
      return x?.status?.phase === 'Running' ? x : undefined;
    });
    const logFile = join(ts.dataDir, 'kubelet', 'logs', 'pods', `default_withcm_${p.metadata.uid}`, 'c', '0.log');
    await until('first value in the logs', async () => readFileSync(logFile, 'utf8').includes(' F one'));
    const r = await ts.req('PATCH', '/api/v1/namespaces/default/configmaps/cfg', { data: { greeting: 'two' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 200, r.text);
    await until('updated value in the logs', async () => readFileSync(logFile, 'utf8').includes(' F two'));
  });
});
