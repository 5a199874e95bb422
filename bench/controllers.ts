// The controllers end to end: an in-process kts server with every controller, the scheduler
// and 100 simulated nodes; one 1,000-replica Deployment is created and the clock runs until
// its status says 1,000 available (ReplicaSet → 1,000 pod creates → scheduling → simulated
// kubelets start them → Ready → Deployment status); then a rolling update of all 1,000 to a
// new image runs until the old pods are gone. Meanwhile a side client on its own
// HTTPS/HTTP2 connection (admin certificate) does, every 100 ms, one GET of a pod-free
// object, one LIST of the deployment's namespace's pods (up to 1,250) and one PATCH of
// a ConfigMap, and the process RSS is sampled every 250 ms. RSS is the whole process
// (server, controllers, simulated nodes and the side client).
// Run: node dist/bench/controllers.js  (or through bench/run).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { call, type Client } from '../src/client/client.js';
import { InProcessClient } from '../src/client/inprocess.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/util/log.js';
import { formatTable, H2Client, pct, progress, sleep } from './harness.js';

const NODES = 100;
const REPLICAS = 1000;
const TIMEOUT_MS = 80_000;
const SIDE_PERIOD_MS = 100;

export interface ControllersRow {
  nodes: number;
  replicas: number;
  availableSeconds: number;
  /** Seconds for a rolling update of every replica (new image) to finish. */
  rolloutSeconds: number;
  available: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  lat: Record<'GET' | 'LIST' | 'PATCH' | 'LISTIP', { n: number; p50: number; p99: number; max: number }>;
  /** Seconds from the Deployment's create until every pod was created / bound / Running. */
  milestones: { created: number; bound: number; running: number };
}

export async function benchDeployment(nodes = NODES, replicas = REPLICAS): Promise<ControllersRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-ctrl-'));
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
    simulatedNodes: nodes,
  });
  const client: Client = new InProcessClient(server.api);
  const tlsDir = join(dataDir, 'tls');
  const side = await H2Client.connect(server.url, {
    ca: readFileSync(join(tlsDir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(tlsDir, 'admin.crt'), 'utf8'),
    key: readFileSync(join(tlsDir, 'admin.key'), 'utf8'),
  });
  // Flow-control windows like client-go's (Go's HTTP/2 transport: 4 MiB per stream, 1 GiB per
  // connection); with Node's 64 KiB default a 4 MB LIST needs ~60 WINDOW_UPDATE round trips,
  // each waiting for a turn of this busy event loop.
  side.session.settings({ initialWindowSize: 4 << 20 });
  side.session.setLocalWindowSize(1 << 30);
  let stopSide = false;
  try {
    await server.simulated!.ready;
    // Every node Ready before the clock starts.
    for (const deadline = performance.now() + 60_000; ; ) {
      const list = (await call(client, 'GET', '/api/v1/nodes')) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
      const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      if (ready >= nodes) break;
      if (performance.now() > deadline) throw new Error(`only ${ready}/${nodes} nodes Ready`);
      await sleep(200);
    }
    await call(client, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
    await call(client, 'POST', '/api/v1/namespaces/bench/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'side', namespace: 'bench' }, data: { n: '0' } } });

    const lat = { GET: [] as number[], LIST: [] as number[], PATCH: [] as number[], LISTIP: [] as number[] };
    const milestones = { created: NaN, bound: NaN, running: NaN };
    let rssPeak = 0;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250);
    let t0 = 0;
    // Milestones from an in-process watch: when the replicas-th pod was created, bound, Running.
    const seen = new Set<string>();
    const bound = new Set<string>();
    const running = new Set<string>();
    const w = client.watch(
      '/api/v1/namespaces/bench/pods',
      {},
      (e) => {
        if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
        const name = e.object.metadata.name!;
        const el = (performance.now() - t0) / 1000;
        seen.add(name);
        if (e.object.spec?.nodeName) bound.add(name);
        if (e.object.status?.phase === 'Running') running.add(name);
        if (isNaN(milestones.created) && seen.size >= replicas) milestones.created = el;
        if (isNaN(milestones.bound) && bound.size >= replicas) milestones.bound = el;
        if (isNaN(milestones.running) && running.size >= replicas) milestones.running = el;
      },
      () => {},
    );
    const timed = async (kind: keyof typeof lat, method: string, path: string, body?: unknown, ct?: string) => {
      const s = performance.now();
      const r = await side.request(method, path, body, ct);
      lat[kind].push(performance.now() - s);
      if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 200)}`);
      return r.body;
    };
    const sideLoop = (async () => {
      let i = 0;
      while (!stopSide) {
        const tick = performance.now();
        await timed('GET', 'GET', '/api/v1/namespaces/bench/configmaps/side');
        await timed('LIST', 'GET', '/api/v1/namespaces/bench/pods');
        // The same LIST through the in-process client: the server's share without TLS/HTTP2.
        const s0 = performance.now();
        await call(client, 'GET', '/api/v1/namespaces/bench/pods');
        lat.LISTIP.push(performance.now() - s0);
        await timed('PATCH', 'PATCH', '/api/v1/namespaces/bench/configmaps/side', { data: { n: String(++i) } }, 'application/merge-patch+json');
        await sleep(Math.max(0, SIDE_PERIOD_MS - (performance.now() - tick)));
      }
    })();

    await sleep(1000); // a second of idle-cluster samples
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'big', namespace: 'bench' },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'big' } },
        template: {
          metadata: { labels: { app: 'big' } },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        },
      },
    };
    t0 = performance.now();
    await call(client, 'POST', '/apis/apps/v1/namespaces/bench/deployments', { body: deploy });
    let available = 0;
    let availableAt = NaN;
    while (performance.now() - t0 < TIMEOUT_MS) {
      const d = (await call(client, 'GET', '/apis/apps/v1/namespaces/bench/deployments/big')) as { status?: { availableReplicas?: number; updatedReplicas?: number } };
      available = d.status?.availableReplicas ?? 0;
      if (available >= replicas) {
        availableAt = (performance.now() - t0) / 1000;
        break;
      }
      await sleep(50);
    }
    w.stop();

    // Then a rolling update of all 1,000 (default 25 % surge / 25 % unavailable) until the
    // old ReplicaSet is scaled to 0 and its pods are gone.
    const t1 = performance.now();
    await call(client, 'PATCH', '/apis/apps/v1/namespaces/bench/deployments/big', {
      body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    let rolledAt = NaN;
    while (performance.now() - t1 < TIMEOUT_MS) {
      const d = (await call(client, 'GET', '/apis/apps/v1/namespaces/bench/deployments/big')) as { metadata: { generation?: number }; status?: Record<string, number> };
      const st = d.status ?? {};
      if (st['observedGeneration'] === d.metadata.generation && st['updatedReplicas'] === replicas && st['availableReplicas'] === replicas && st['replicas'] === replicas) {
        rolledAt = (performance.now() - t1) / 1000;
        break;
      }
      await sleep(50);
    }
    stopSide = true;
    await sideLoop;
    clearInterval(rssTimer);
    const rssEnd = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rssEnd);
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] ?? NaN };
    };
    return {
      nodes,
      replicas,
      availableSeconds: availableAt,
      rolloutSeconds: rolledAt,
      available,
      rssPeakMiB: rssPeak / 2 ** 20,
      rssEndMiB: rssEnd / 2 ** 20,
      lat: { GET: stats(lat.GET), LIST: stats(lat.LIST), PATCH: stats(lat.PATCH), LISTIP: stats(lat.LISTIP) },
      milestones,
    };
  } finally {
    stopSide = true;
    await side.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchControllers(): Promise<void> {
  progress(`controllers: a ${REPLICAS}-replica Deployment on ${NODES} simulated nodes`);
  const r = await benchDeployment();
  const f = (x: number) => (isNaN(x) ? 'n/a' : x.toFixed(1));
  console.log(`Deployment of ${r.replicas} replicas on ${r.nodes} simulated nodes (every controller, scheduler, simulated kubelets in one process)`);
  console.log(
    formatTable(
      ['replicas', 'all created s', 'all bound s', 'all Running s', 'all available s', 'rolling update s', 'RSS peak MiB', 'RSS end MiB'],
      [[String(r.replicas), f(r.milestones.created), f(r.milestones.bound), f(r.milestones.running), `${f(r.availableSeconds)} (${r.available}/${r.replicas})`, f(r.rolloutSeconds), r.rssPeakMiB.toFixed(0), r.rssEndMiB.toFixed(0)]],
    ),
  );
  console.log('');
  console.log(`Side client meanwhile (own HTTPS/HTTP2 connection, one of each every ${SIDE_PERIOD_MS} ms), latency in ms`);
  console.log(
    formatTable(
      ['request', 'n', 'p50', 'p99', 'max'],
      (['GET', 'LIST', 'PATCH', 'LISTIP'] as const).map((k) => {
        const s = r.lat[k];
        const label = { GET: 'GET configmap', LIST: `LIST pods (0→${r.replicas}+)`, PATCH: 'PATCH configmap (merge)', LISTIP: 'LIST pods, in-process client' }[k];
        return [label, String(s.n), s.p50.toFixed(1), s.p99.toFixed(1), s.max.toFixed(1)];
      }),
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchControllers().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
