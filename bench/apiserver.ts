// The API server over HTTPS through the real listener: `kts server` runs as a child process
// (so its RSS can be read and its cold start timed), once on SQLite and once on etcd, and
// both columns are printed side by side. Clients speak HTTP/2 with the admin client
// certificate; each "client" is its own HTTP/2 connection (one client-go process).
// Run: node dist/bench/apiserver.js  (or through bench/run).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { etcdUnavailable, freePort, startEtcd } from '../test/storage/etcd-harness.js';
import { formatTable, H2Client, pct, progress, rssMiB, sleep, startServerProcess, type ServerProcess } from './harness.js';

/** Time budget of each throughput phase. */
const PHASE_MS = 2000;
/** Pods in the big namespace (LIST at 10,000, RSS with 10,000 pods). */
const BIG = 10_000;
const WATCH_WRITES: Record<number, number> = { 100: 200, 1000: 100 };
/** Watch streams per HTTP/2 connection (client-go multiplexes a process's watches on one). */
export const WATCHERS_PER_CONN = 50;

export interface ApiRow {
  backend: string;
  coldStartFreshMs: number;
  coldStartExistingMs: number;
  idleRssMiB: number;
  creates1: number;
  creates32: number;
  bigCreates32: number;
  updates1: number;
  updates32: number;
  gets1: number;
  gets32: number;
  list1k: ListResult;
  list10k: ListResult;
  rss10kMiB: number;
  /** Pods stored when rss10kMiB was read. */
  totalPods: number;
  peakRssMiB: number;
  watch: Record<number, { p50: number; p99: number; max: number; missed: number }>;
  podBytes: number;
}

/**
 * A realistic pod (what a Deployment's pod looks like: probes, env, resources, volumes,
 * tolerations, affinity): about 2 KiB of JSON as sent, ~2.6 KiB stored after defaulting.
 * No ownerReferences: the garbage collector would delete pods whose owner does not exist.
 */
export function podObject(ns: string, name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app: 'web-frontend', 'pod-template-hash': '7c9f8d6b5d', tier: 'frontend', 'app.kubernetes.io/version': '1.24.3' },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/default-container': 'web',
      },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/team/web-frontend:1.24.3',
          imagePullPolicy: 'IfNotPresent',
          args: ['--listen=:8080', '--metrics=:9090', '--log-level=info', '--upstream=http://api.backend.svc.cluster.local:8080'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
            { name: 'CACHE_SIZE_MB', value: '256' },
            { name: 'FEATURE_FLAGS', value: 'new-checkout,dark-mode,fast-search' },
          ],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          livenessProbe: { httpGet: { path: '/livez', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/web', readOnly: true },
            { name: 'cache', mountPath: '/var/cache/web' },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'web-frontend-config', defaultMode: 420 } },
        { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': 'm5.large' },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web-frontend' } }, topologyKey: 'kubernetes.io/hostname' } },
          ],
        },
      },
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      // No scheduler serves this name: the pods stay Pending without a FailedScheduling status
      // write and Event per pod, so the rows measure the API server, not scheduling retries.
      schedulerName: 'kts-bench-unscheduled',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  };
}

async function connectAll(srv: ServerProcess, n: number): Promise<H2Client[]> {
  return Promise.all(Array.from({ length: n }, () => H2Client.connect(srv.url, srv.tls)));
}

/** Runs op on every client concurrently, one request in flight per client, for budgetMs or maxOps in total; returns ops/s. */
async function drive(clients: H2Client[], budgetMs: number, maxOps: number, op: (c: H2Client, client: number, i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      while (performance.now() - start < budgetMs && n < maxOps) await op(c, ci, n++);
    }),
  );
  return (n * 1000) / (performance.now() - start);
}

/**
 * PUTs obj after mutate(obj); on a 409 Conflict (something else, such as a controller, changed
 * the object) GETs it again and retries, like a client-go RetryOnConflict loop.
 */
async function putWithRetry(c: H2Client, path: string, obj: any, mutate: (o: any) => void): Promise<{ obj: any; tResp: number }> {
  for (let attempt = 0; ; attempt++) {
    mutate(obj);
    const res = await c.request('PUT', path, obj);
    const tResp = performance.now();
    if (res.status === 200) return { obj: JSON.parse(res.body), tResp };
    if (res.status !== 409 || attempt >= 5) throw new Error(`PUT ${path}: ${res.status} ${res.body.slice(0, 300)}`);
    obj = await c.json('GET', path);
  }
}

async function createNamespace(c: H2Client, name: string): Promise<void> {
  await c.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

const podsPath = (ns: string) => `/api/v1/namespaces/${ns}/pods`;

interface ListResult {
  p50: number;
  p99: number;
  bytes: number;
  /** Why the list failed (status and message), when it did. */
  error?: string;
}

async function listTimes(c: H2Client, path: string, times: number, want: number): Promise<ListResult> {
  const ts: number[] = [];
  let bytes = 0;
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const r = await c.request('GET', path);
    ts.push(performance.now() - t);
    const body = JSON.parse(r.body) as { items?: unknown[]; message?: string };
    bytes = r.body.length;
    if (r.status !== 200) return { p50: NaN, p99: NaN, bytes: NaN, error: `LIST ${path} answered ${r.status}: ${body.message ?? r.body.slice(0, 300)}` };
    if (body.items?.length !== want) throw new Error(`list ${path}: ${body.items?.length} items (want ${want})`);
  }
  ts.sort((a, b) => a - b);
  return { p50: pct(ts, 50), p99: pct(ts, 99), bytes };
}

/**
 * Watch latency: `watchers` watch streams on the namespace's pods; one writer updates a pod,
 * waits until every watcher has the event, and repeats. Latency = the event's arrival at a
 * watcher minus the arrival of the write's response (0 when the event came first).
 */
async function watchLatency(srv: ServerProcess, writer: H2Client, ns: string, watchers: number, writes: number) {
  const conns = await connectAll(srv, Math.ceil(watchers / WATCHERS_PER_CONN));
  let pod = await writer.json('GET', `${podsPath(ns)}/w-0`);
  const startRV = pod.metadata.resourceVersion as string;
  // Per written revision: how many watchers saw it and when.
  let want = -1;
  let seen = 0;
  let arrivals: number[] = [];
  let allSeen: (() => void) | undefined;
  const late = new Map<number, number>(); // rev -> count of events for a revision no longer awaited
  const rvRe = /"resourceVersion":"(\d+)"/;
  const streams: import('node:http2').ClientHttp2Stream[] = [];
  await Promise.all(
    Array.from({ length: watchers }, (_, i) => {
      const s = conns[Math.floor(i / WATCHERS_PER_CONN)]!.session.request({
        ':method': 'GET',
        ':path': `${podsPath(ns)}?watch=true&resourceVersion=${startRV}&timeoutSeconds=600`,
        accept: 'application/json',
      });
      streams.push(s);
      s.setEncoding('utf8');
      let buf = '';
      s.on('data', (chunk: string) => {
        const now = performance.now();
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = rvRe.exec(line);
          const rev = m ? Number(m[1]) : -1;
          if (rev === want) {
            arrivals.push(now);
            if (++seen === watchers) allSeen?.();
          } else late.set(rev, (late.get(rev) ?? 0) + 1);
        }
      });
      s.on('error', () => {});
      return new Promise<void>((resolve, reject) => {
        s.once('response', (h) => (Number(h[':status']) === 200 ? resolve() : reject(new Error(`watch: ${h[':status']}`))));
      });
    }),
  );
  await sleep(300);
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < writes; i++) {
    seen = 0;
    arrivals = [];
    // The revision is unknown until the response arrives; events that come first are buffered by rev.
    want = -2;
    late.clear();
    const put = await putWithRetry(writer, `${podsPath(ns)}/w-0`, pod, (o) => (o.metadata.annotations['bench/seq'] = String(i)));
    const tResp = put.tResp;
    pod = put.obj;
    const rev = Number(pod.metadata.resourceVersion);
    // Events for rev that arrived before the response count as latency 0.
    const early = late.get(rev) ?? 0;
    seen = early;
    for (let k = 0; k < early; k++) latencies.push(0);
    want = rev;
    if (seen < watchers) {
      await Promise.race([new Promise<void>((r) => (allSeen = r)), sleep(5000)]);
      allSeen = undefined;
    }
    for (const a of arrivals) latencies.push(Math.max(0, a - tResp));
    missed += watchers - seen;
    want = -1;
  }
  for (const s of streams) s.close();
  await Promise.all(conns.map((c) => c.close()));
  latencies.sort((a, b) => a - b);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies[latencies.length - 1] ?? NaN, missed };
}

async function benchBackend(name: string, etcdEndpoint?: string): Promise<ApiRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-api-'));
  const port = await freePort();
  let srv: ServerProcess | undefined;
  let clients: H2Client[] = [];
  try {
    progress(`${name}: cold start (fresh data dir)`);
    srv = await startServerProcess({ dataDir, port, etcdEndpoint });
    const coldStartFreshMs = srv.startMs;
    await sleep(1000);
    const idleRssMiB = rssMiB(srv.pid);

    clients = await connectAll(srv, 32);
    const c0 = clients[0]!;
    for (const ns of ['seq', 'conc', 'big', 'list1k', 'watch']) await createNamespace(c0, ns);
    const podBytes = JSON.stringify(podObject('big', 'web-frontend-7c9f8d6b5d-00000')).length;

    progress(`${name}: creates, 1 client`);
    const creates1 = await drive([c0], PHASE_MS, 20_000, (c, _ci, i) => c.json('POST', podsPath('seq'), podObject('seq', `p-${i}`)));
    progress(`${name}: creates, 32 clients`);
    const creates32 = await drive(clients, PHASE_MS, 20_000, (c, _ci, i) => c.json('POST', podsPath('conc'), podObject('conc', `p-${i}`)));
    progress(`${name}: ${BIG} pods, 32 clients`);
    const bigCreates32 = await drive(clients, 600_000, BIG, (c, _ci, i) => c.json('POST', podsPath('big'), podObject('big', `web-frontend-7c9f8d6b5d-${String(i).padStart(5, '0')}`)));

    // Updates: each client owns 20 pods of "big" and PUTs them round-robin with a changed annotation.
    progress(`${name}: updates, 1 and 32 clients`);
    const owned = await Promise.all(
      clients.map((c, ci) => Promise.all(Array.from({ length: 20 }, (_, k) => c.json('GET', `${podsPath('big')}/web-frontend-7c9f8d6b5d-${String(ci * 20 + k).padStart(5, '0')}`)))),
    );
    const update = async (c: H2Client, ci: number, i: number) => {
      const mine = owned[ci]!;
      const k = i % mine.length;
      const obj = mine[k];
      mine[k] = (await putWithRetry(c, `${podsPath('big')}/${obj.metadata.name}`, obj, (o) => (o.metadata.annotations['bench/update'] = String(i)))).obj;
    };
    const updates1 = await drive([c0], PHASE_MS, 20_000, update);
    const updates32 = await drive(clients, PHASE_MS, 40_000, update);

    progress(`${name}: GETs, 1 and 32 clients`);
    const get = (c: H2Client, _ci: number, i: number) => c.json('GET', `${podsPath('big')}/web-frontend-7c9f8d6b5d-${String((i * 7919) % BIG).padStart(5, '0')}`);
    const gets1 = await drive([c0], PHASE_MS, 40_000, get);
    const gets32 = await drive(clients, PHASE_MS, 100_000, get);

    progress(`${name}: LIST 1,000 and 10,000 pods`);
    await drive(clients, 600_000, 1000, (c, _ci, i) => c.json('POST', podsPath('list1k'), podObject('list1k', `p-${String(i).padStart(4, '0')}`)));
    const l1 = await listTimes(c0, podsPath('list1k'), 20, 1000);
    const l10 = await listTimes(c0, podsPath('big'), 7, BIG);
    if (l10.error) {
      // A failed list may leave the server unable to serve anything for a while (seen on etcd:
      // the etcd client's circuit breaker opens); measure how long, then go on.
      const t = performance.now();
      const probe = `${podsPath('big')}/web-frontend-7c9f8d6b5d-00001`;
      while ((await c0.request('GET', probe)).status !== 200 && performance.now() - t < 30_000) await sleep(50);
      l10.error += ` (afterwards GET failed for ${((performance.now() - t) / 1000).toFixed(1)} s)`;
    }
    // Let the sockets go quiet before sampling memory.
    await sleep(500);
    const rss10kMiB = rssMiB(srv.pid);
    const probe = await c0.json('GET', '/api/v1/pods?limit=1');
    const totalPods = probe.items.length + (probe.metadata.remainingItemCount ?? 0);

    await c0.json('POST', podsPath('watch'), podObject('watch', 'w-0'));
    const watch: ApiRow['watch'] = {};
    for (const n of [100, 1000]) {
      progress(`${name}: watch latency, ${n} watchers`);
      watch[n] = await watchLatency(srv, c0, 'watch', n, WATCH_WRITES[n]!);
    }
    const peakRssMiB = rssMiB(srv.pid, 'VmHWM');

    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    progress(`${name}: cold start (existing data dir, ${totalPods} pods)`);
    await srv.stop();
    srv = await startServerProcess({ dataDir, port, etcdEndpoint });
    const coldStartExistingMs = srv.startMs;

    return {
      backend: name,
      coldStartFreshMs,
      coldStartExistingMs,
      idleRssMiB,
      creates1,
      creates32,
      bigCreates32,
      updates1,
      updates32,
      gets1,
      gets32,
      list1k: l1,
      list10k: l10,
      rss10kMiB,
      totalPods,
      peakRssMiB,
      watch,
      podBytes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs the API server bench on SQLite and (when installed) etcd; returns the printed table. */
export async function benchApiserver(): Promise<string> {
  const results: [string, ApiRow | string][] = [];
  // KTS_BENCH_BACKEND=sqlite|etcd runs one column only (for profiling).
  const only = process.env['KTS_BENCH_BACKEND'];
  if (only !== 'etcd') results.push(['sqlite', await benchBackend('sqlite')]);
  const why = etcdUnavailable();
  if (only === 'sqlite') {
    // skipped on request
  } else if (why) results.push(['etcd', `skipped: ${why}`]);
  else {
    progress('etcd: starting a local etcd member');
    const etcd = await startEtcd();
    try {
      results.push(['etcd', await benchBackend('etcd', etcd.endpoint)]);
    } finally {
      await etcd.stop();
    }
  }
  const table = apiTable(results);
  console.log(table);
  return table;
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

function apiTable(results: [string, ApiRow | string][]): string {
  const metrics: [string, (r: ApiRow) => string][] = [
    ['cold start, fresh data dir (ms)', (r) => f0(r.coldStartFreshMs)],
    ['cold start, existing data (ms)', (r) => f0(r.coldStartExistingMs)],
    ['idle RSS (MiB)', (r) => f1(r.idleRssMiB)],
    ['pod creates/s, 1 client', (r) => f0(r.creates1)],
    ['pod creates/s, 32 clients', (r) => f0(r.creates32)],
    [`pod creates/s, 32 clients, ${BIG} pods`, (r) => f0(r.bigCreates32)],
    ['pod updates/s (PUT), 1 client', (r) => f0(r.updates1)],
    ['pod updates/s (PUT), 32 clients', (r) => f0(r.updates32)],
    ['pod GETs/s, 1 client', (r) => f0(r.gets1)],
    ['pod GETs/s, 32 clients', (r) => f0(r.gets32)],
    ['LIST 1,000 pods (ms, p50 / p99)', (r) => (r.list1k.error ? 'error' : `${f1(r.list1k.p50)} / ${f1(r.list1k.p99)}`)],
    ['LIST 10,000 pods (ms, p50 / max)', (r) => (r.list10k.error ? 'error' : `${f0(r.list10k.p50)} / ${f0(r.list10k.p99)}`)],
    ['LIST 10,000 pods body (MiB)', (r) => f1(r.list10k.bytes / 1024 / 1024)],
    ['RSS with 10,000+ pods (MiB)', (r) => `${f1(r.rss10kMiB)} (${r.totalPods} pods)`],
    ['peak RSS (MiB)', (r) => f1(r.peakRssMiB)],
    ...[100, 1000].map(
      (n) => [`watch latency, ${n} watchers (ms, p50 / p99)`, (r: ApiRow) => `${f1(r.watch[n]!.p50)} / ${f1(r.watch[n]!.p99)}`] as [string, (r: ApiRow) => string],
    ),
    ...[100, 1000].map((n) => [`  max (ms) / events missed`, (r: ApiRow) => `${f1(r.watch[n]!.max)} / ${r.watch[n]!.missed}`] as [string, (r: ApiRow) => string]),
  ];
  const header = ['kts server over HTTPS (HTTP/2)', ...results.map(([n]) => n)];
  const rows = metrics.map(([label, f]) => [label, ...results.map(([, r]) => (typeof r === 'string' ? '-' : f(r)))]);
  // Distinguish the two "max" rows.
  rows[rows.length - 2]![0] = '  100 watchers: max (ms) / missed';
  rows[rows.length - 1]![0] = '  1,000 watchers: max (ms) / missed';
  const notes = results.filter(([, r]) => typeof r === 'string').map(([n, r]) => `${n}: ${r}`);
  for (const [n, r] of results) {
    if (typeof r === 'string') continue;
    for (const l of [r.list1k, r.list10k]) if (l.error) notes.push(`${n}: ${l.error}`);
  }
  const first = results.find(([, r]) => typeof r !== 'string')?.[1] as ApiRow | undefined;
  if (first) notes.push(`pod object as sent: ${first.podBytes} bytes of JSON`);
  return [formatTable(header, rows), ...notes].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchApiserver().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
