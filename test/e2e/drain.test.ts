// kubectl drain / cordon / uncordon / taint and `get ep,endpointslices` against kts server.
// The test plays the kubelet: nodes and pods bound to them are created directly, and pods are
// marked Running/Ready through the status subresource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, table, type Cluster } from './harness.js';

const V = '1.32';
let c: Cluster | undefined;
const why = skipReason();

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const node = (name: string) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
    kubernetes.io/hostname: ${name}
    topology.kubernetes.io/zone: zone-${name}
`;

const pod = (name: string, nodeName: string, app: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${app}
spec:
  nodeName: ${nodeName}
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: nginx
    ports:
    - name: web
      containerPort: 8080
`;

async function makeReady(name: string, ip: string): Promise<void> {
  const patch = JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } });
  await c!.ok(V, ['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', patch]);
}

before(async () => {
  if (why) return;
  c = await startCluster();
  const manifests = [node('n1'), node('n2'), pod('db-0', 'n1', 'db'), pod('db-1', 'n1', 'db'), pod('web-0', 'n2', 'web')].join('---\n');
  await c.ok(V, ['apply', '-f', await c.file('setup.yaml', manifests)]);
  await makeReady('db-0', '10.244.1.2');
  await makeReady('db-1', '10.244.1.3');
  await makeReady('web-0', '10.244.2.2');
});

after(async () => {
  await c?.stop();
});

test('kubectl get ep,endpointslices shows the controllers\' work', async (t) => {
  if (why) return t.skip(why);
  const svc = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: web
`;
  await c!.ok(V, ['apply', '-f', await c!.file('svc.yaml', svc)]);
  const ep = await waitFor('endpoints', async () => {
    const out = await c!.ok(V, ['get', 'ep', 'web']);
    return /10\.244\.2\.2:8080/.test(out) && out;
  });
  const rows = table(ep);
  assert.equal(rows[0]!['NAME'], 'web');
  assert.equal(rows[0]!['ENDPOINTS'], '10.244.2.2:8080');

  const both = await waitFor('endpointslice', async () => {
    const out = await c!.ok(V, ['get', 'ep,endpointslices']);
    return /endpointslice\.discovery\.k8s\.io\/web-/.test(out) && out;
  });
  assert.match(both, /endpoints\/web\s+10\.244\.2\.2:8080\s/);
  assert.match(both, /endpoints\/kubernetes\s/);
  assert.match(both, /endpointslice\.discovery\.k8s\.io\/web-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.2\.2\s/);
  const zone = await c!.ok(V, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[0].endpoints[0].zone} {.items[0].endpoints[0].nodeName}']);
  assert.equal(zone, 'zone-n2 n2');
});

test('kubectl drain respects a PodDisruptionBudget, then drains; cordon, uncordon, taint', async (t) => {
  if (why) return t.skip(why);
  await c!.ok(V, ['create', 'poddisruptionbudget', 'db', '--selector=app=db', '--min-available=2']);
  await waitFor('pdb status', async () => {
    const out = await c!.ok(V, ['get', 'pdb', 'db', '-o', 'jsonpath={.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}']);
    return out === '2/2/0';
  });
  const pdbTable = table(await c!.ok(V, ['get', 'pdb', 'db']));
  assert.deepEqual({ ...pdbTable[0], AGE: '' }, { NAME: 'db', 'MIN AVAILABLE': '2', 'MAX UNAVAILABLE': 'N/A', 'ALLOWED DISRUPTIONS': '0', AGE: '' });

  // The budget allows no disruption: drain cordons, retries the 429s, and gives up at the timeout.
  const blocked = await c!.kubectl(V, ['drain', 'n1', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=7s'], { timeoutMs: 30_000 });
  assert.notEqual(blocked.code, 0, blocked.stdout);
  assert.match(blocked.stdout, /node\/n1 cordoned/);
  assert.match(blocked.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
  assert.equal(await c!.ok(V, ['get', 'pod', 'db-0', '-o', 'jsonpath={.metadata.name}']), 'db-0');
  const nodes = table(await c!.ok(V, ['get', 'nodes']));
  assert.match(nodes.find((r) => r['NAME'] === 'n1')!['STATUS']!, /SchedulingDisabled/);

  // Relax the budget: drain evicts both pods.
  await c!.ok(V, ['patch', 'pdb', 'db', '--type=merge', '-p', '{"spec":{"minAvailable":0}}']);
  await waitFor('pdb allows 2', async () => (await c!.ok(V, ['get', 'pdb', 'db', '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '2');
  const drained = await c!.kubectl(V, ['drain', 'n1', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=30s'], { timeoutMs: 40_000 });
  assert.equal(drained.code, 0, drained.stderr + drained.stdout);
  assert.match(drained.stdout, /node\/n1 already cordoned/);
  assert.match(drained.stdout, /evicting pod default\/db-0/);
  assert.match(drained.stdout, /pod\/db-0 evicted/);
  assert.match(drained.stdout, /pod\/db-1 evicted/);
  assert.match(drained.stdout, /node\/n1 drained/);
  assert.equal((await c!.ok(V, ['get', 'pods', '--field-selector=spec.nodeName=n1', '-o', 'name'])).trim(), '');

  assert.equal((await c!.ok(V, ['uncordon', 'n1'])).trim(), 'node/n1 uncordoned');
  assert.equal((await c!.ok(V, ['cordon', 'n2'])).trim(), 'node/n2 cordoned');
  assert.equal((await c!.ok(V, ['get', 'node', 'n2', '-o', 'jsonpath={.spec.unschedulable}'])), 'true');
  assert.equal((await c!.ok(V, ['uncordon', 'n2'])).trim(), 'node/n2 uncordoned');

  assert.equal((await c!.ok(V, ['taint', 'nodes', 'n1', 'dedicated=db:NoSchedule'])).trim(), 'node/n1 tainted');
  assert.equal(await c!.ok(V, ['get', 'node', 'n1', '-o', 'jsonpath={.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}']), 'dedicated=db:NoSchedule');
  assert.equal((await c!.ok(V, ['taint', 'nodes', 'n1', 'dedicated:NoSchedule-'])).trim(), 'node/n1 untainted');
});
