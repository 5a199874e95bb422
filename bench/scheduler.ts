// The scheduler at scale: an in-process kts server (every controller and the scheduler
// running), Node objects and Pods created through the in-process client (the API server's
// full request path minus TLS/HTTP, so the bench measures the scheduler rather than the
// network), and pods/s from the first pod created to the last one bound. Each node gets a
// Lease with a long leaseDurationSeconds so the node lifecycle controller does not taint
// kubelet-less nodes unreachable mid-run. RSS is the whole process (server + bench client).
// Run: node dist/bench/scheduler.js  (or through bench/run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { call, type Client } from '../src/client/client.js';
import { InProcessClient } from '../src/client/inprocess.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/util/log.js';
import { formatTable, progress } from './harness.js';

const CONCURRENCY = 64;

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

function nodeObject(name: string, i: number) {
  const res = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: {},
    status: {
      capacity: res,
      allocatable: res,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  };
}

function podObject(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
    spec: {
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
    },
  };
}

export interface SchedRow {
  nodes: number;
  pods: number;
  createSeconds: number;
  boundSeconds: number;
  podsPerSec: number;
  rssMiB: number;
}

export async function benchSchedulerPhase(nodes: number, pods: number): Promise<SchedRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-sched-'));
  const server = await startServer({
    dataDir,
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    tlsSANs: [],
    serviceCIDR: '10.96.0.0/12',
    clusterCIDR: '10.244.0.0/16',
    serviceNodePortRange: '30000-32767',
    logFormat: 'text',
    compactIntervalMs: 0,
    logger: silentLogger,
  });
  const client: Client = new InProcessClient(server.api);
  try {
    await call(client, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
    const names = Array.from({ length: nodes }, (_, i) => `node-${String(i).padStart(5, '0')}`);
    const now = new Date().toISOString().replace(/Z$/, '000Z').replace(/\.(\d{6})\d*Z$/, '.$1Z');
    await pool(names, CONCURRENCY, async (n) => {
      await call(client, 'POST', '/api/v1/nodes', { body: nodeObject(n, names.indexOf(n)) });
      await call(client, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: n, namespace: 'kube-node-lease' },
          spec: { holderIdentity: n, leaseDurationSeconds: 3600, renewTime: now },
        },
      }).catch(() => {});
    });

    // Count bindings from a watch: a pod is bound when it first shows spec.nodeName.
    const bound = new Set<string>();
    let lastBound = 0;
    let done!: () => void;
    const allBound = new Promise<void>((r) => (done = r));
    const w = client.watch(
      '/api/v1/namespaces/bench/pods',
      {},
      (e) => {
        if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
        const name = e.object.metadata.name!;
        if (e.object.spec?.nodeName && !bound.has(name)) {
          bound.add(name);
          lastBound = performance.now();
          if (bound.size === pods) done();
        }
      },
      () => {},
    );
    const podNames = Array.from({ length: pods }, (_, i) => `pod-${i}`);
    const t0 = performance.now();
    await pool(podNames, CONCURRENCY, (p) => call(client, 'POST', '/api/v1/namespaces/bench/pods', { body: podObject(p) }));
    const tCreated = performance.now();
    const timeout = new Promise<void>((r) => setTimeout(r, 120_000).unref());
    await Promise.race([allBound, timeout]);
    w.stop();
    const rss = process.memoryUsage().rss / 2 ** 20;
    const secs = (lastBound - t0) / 1000;
    return {
      nodes,
      pods: bound.size,
      createSeconds: (tCreated - t0) / 1000,
      boundSeconds: secs,
      podsPerSec: bound.size / secs,
      rssMiB: rss,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchScheduler(): Promise<void> {
  const rows: SchedRow[] = [];
  for (const [n, p] of [
    [1000, 10_000],
    [5000, 50_000],
  ] as const) {
    progress(`scheduler: ${n} nodes, ${p} pods`);
    rows.push(await benchSchedulerPhase(n, p));
  }
  console.log('Scheduler: pods created (in-process client, 64 concurrent) to bound; every controller running; RSS of the whole process');
  console.log(
    formatTable(
      ['nodes', 'pods bound', 'create s', 'created→bound s', 'pods/s', 'RSS MiB'],
      rows.map((r) => [String(r.nodes), String(r.pods), r.createSeconds.toFixed(1), r.boundSeconds.toFixed(1), r.podsPerSec.toFixed(0), r.rssMiB.toFixed(0)]),
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchScheduler().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
