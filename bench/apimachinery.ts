// API machinery costs a kubectl user pays: strategic-merge-patch and server-side-apply
// throughput on a realistic Deployment over HTTPS (HTTP/2, admin client certificate) against a
// `kts server` child process, and the discovery + OpenAPI cost of one `kubectl get pods` with a
// cold kubectl cache versus a warm one (time, requests and bytes on the wire, counted by a
// TCP proxy between kubectl and the server).
// Run: node dist/bench/apimachinery.js  (or through bench/run).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../test/storage/etcd-harness.js';
import { formatTable, H2Client, median, progress, startServerProcess } from './harness.js';

/** Time budget of each throughput phase. */
const PHASE_MS = 2000;
const CLIENTS = [1, 8];
const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
const NS = 'bench';

/**
 * A realistic Deployment (two containers with ports, env, probes, resources, volume mounts;
 * volumes, tolerations, affinity). Paused, so the deployment controller starts no rollout per
 * patch and the numbers are the API machinery's alone.
 */
export function deployment(name: string, rev: number): Record<string, any> {
  const labels = { app: name, tier: 'web', team: 'payments' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels, annotations: { 'bench/rev': String(rev) } },
    spec: {
      replicas: 3,
      paused: true,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' } },
        spec: {
          serviceAccountName: 'default',
          containers: [
            {
              name: 'app',
              image: 'registry.example.com/payments/app:1.4.2',
              ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'DB_HOST', value: 'postgres.payments.svc' },
                { name: 'REV', value: String(rev) },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/livez', port: 'http' }, initialDelaySeconds: 10 },
              volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'cache', mountPath: '/var/cache/app' }],
            },
            {
              name: 'sidecar',
              image: 'registry.example.com/proxy:2.1',
              args: ['--upstream=127.0.0.1:8080', '--listen=:8443'],
              ports: [{ name: 'https', containerPort: 8443 }],
              resources: { requests: { cpu: '50m', memory: '64Mi' } },
            },
          ],
          volumes: [{ name: 'config', configMap: { name: `${name}-config` } }, { name: 'cache', emptyDir: {} }],
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'payments', effect: 'NoSchedule' }],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: name } } } },
              ],
            },
          },
        },
      },
    },
  };
}

/** What `kubectl set env` + `kubectl annotate` send: a strategic merge patch keyed by container and env name. */
function smp(rev: number): Record<string, any> {
  return {
    metadata: { annotations: { 'bench/rev': String(rev) } },
    spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'REV', value: String(rev) }] }] } } },
  };
}

/** Runs op on every client concurrently, one request in flight each, for PHASE_MS; returns ops/s. */
async function drive(clients: H2Client[], op: (c: H2Client, client: number, i: number) => Promise<void>): Promise<number> {
  let n = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      while (performance.now() - start < PHASE_MS) await op(c, ci, n++);
    }),
  );
  return (n * 1000) / (performance.now() - start);
}

function must(r: { status: number; body: string }, what: string): void {
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 300)}`);
}

/** A TCP proxy that counts the bytes in both directions (TLS records included). */
async function countingProxy(target: number): Promise<{ port: number; bytes(): number; reset(): void; close(): Promise<void> }> {
  let bytes = 0;
  const srv: Server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    down.on('data', (d: Buffer) => ((bytes += d.length), up.write(d)));
    up.on('data', (d: Buffer) => ((bytes += d.length), down.write(d)));
    const end = () => (down.destroy(), up.destroy());
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    bytes: () => bytes,
    reset: () => void (bytes = 0),
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

interface KubectlRun {
  ms: number;
  requests: number;
  bytes: number;
}

function runKubectl(kubeconfig: string, cacheDir: string, home: string, args: string[]): Promise<{ ms: number; requests: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args, '-v=6'], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`kubectl ${args.join(' ')} exited ${code}:\n${err.slice(-2000)}`));
      const requests = err.split('\n').filter((l) => /round_trippers\.go.*(GET|PUT|POST) https?:|"Response" verb=/.test(l)).length;
      resolve({ ms, requests });
    });
  });
}

export async function benchApiMachinery(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kts-bench-apim-'));
  const srv = await startServerProcess({ dataDir, port: await freePort() });
  const rows: string[][] = [];
  const clients: H2Client[] = [];
  try {
    for (let i = 0; i < Math.max(...CLIENTS); i++) clients.push(await H2Client.connect(srv.url, srv.tls));
    must(await clients[0]!.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }), 'create namespace');
    const path = (i: number) => `/apis/apps/v1/namespaces/${NS}/deployments/web-${i}`;
    for (let i = 0; i < clients.length; i++) {
      must(await clients[0]!.request('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment(`web-${i}`, 0)), 'create deployment');
    }
    const bytesSmp = Buffer.byteLength(JSON.stringify(smp(1)));
    const bytesSsa = Buffer.byteLength(JSON.stringify(deployment('web-0', 1)));
    // Each client patches its own Deployment (several writers on one object would measure
    // optimistic-concurrency retries, not patching).
    for (const n of CLIENTS) {
      progress(`apimachinery: strategic merge patch, ${n} client(s)`);
      const rate = await drive(clients.slice(0, n), async (c, ci, i) => {
        must(await c.request('PATCH', path(ci), smp(i + 1), 'application/strategic-merge-patch+json'), 'strategic merge patch');
      });
      rows.push([`strategic merge patch/s, ${n} client${n > 1 ? 's' : ''} (${bytesSmp} B patch)`, rate.toFixed(0)]);
    }
    {
      progress('apimachinery: baseline GET + PUT (update), 1 client');
      const c = clients[0]!;
      let obj: any = JSON.parse((await c.request('GET', path(0))).body);
      const rate = await drive([c], async (_c, _ci, i) => {
        obj.metadata.annotations['bench/rev'] = `put-${i}`;
        const r = await c.request('PUT', path(0), obj);
        must(r, 'update');
        obj = JSON.parse(r.body);
      });
      rows.push(['baseline: update (PUT)/s, 1 client', rate.toFixed(0)]);
    }
    for (const n of CLIENTS) {
      progress(`apimachinery: server-side apply, ${n} client(s)`);
      const rate = await drive(clients.slice(0, n), async (c, ci, i) => {
        const body = JSON.stringify(deployment(`web-${ci}`, i + 1));
        must(await c.request('PATCH', `${path(ci)}?fieldManager=bench&force=true`, body, 'application/apply-patch+yaml'), 'server-side apply');
      });
      rows.push([`server-side apply/s, ${n} client${n > 1 ? 's' : ''} (${bytesSsa} B manifest)`, rate.toFixed(0)]);
    }

    if (!existsSync(KUBECTL)) {
      rows.push(['kubectl get pods, cold / warm cache', `skipped: ${KUBECTL} not installed`]);
    } else {
      const proxy = await countingProxy(srv.port);
      try {
        const kubeconfig = join(dataDir, 'kubeconfig-proxy.yaml');
        const orig = readFileSync(join(dataDir, 'kubeconfig.yaml'), 'utf8');
        writeFileSync(kubeconfig, orig.replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${proxy.port}`));
        // `get` needs discovery only (the server prints the table); explain also reads OpenAPI v3.
        for (const args of [['get', 'pods', '-A'], ['explain', 'deployments.spec.template.spec.containers']]) {
        const cold: KubectlRun[] = [];
        const warm: KubectlRun[] = [];
        for (let i = 0; i < 3; i++) {
          progress(`apimachinery: kubectl ${args[0]}, cold then warm cache (${i + 1}/3)`);
          const home = mkdtempSync(join(tmpdir(), 'kts-bench-kubectl-'));
          try {
            const cache = join(home, 'cache');
            for (const into of [cold, warm]) {
              proxy.reset();
              const r = await runKubectl(kubeconfig, cache, home, args);
              into.push({ ...r, bytes: proxy.bytes() });
            }
          } finally {
            rmSync(home, { recursive: true, force: true });
          }
        }
        const fmt = (xs: KubectlRun[]) => [
          median(xs.map((x) => x.ms)).toFixed(0),
          median(xs.map((x) => x.requests)).toFixed(0),
          (median(xs.map((x) => x.bytes)) / 1024).toFixed(1),
        ];
        const [cm, cr, cb] = fmt(cold);
        const [wm, wr, wb] = fmt(warm);
        const label = args[0] === 'get' ? 'kubectl get pods -A' : 'kubectl explain deploy…containers';
        rows.push([`${label}, cold cache: ms / requests / KiB`, `${cm} / ${cr} / ${cb}`]);
        rows.push([`${label}, warm cache: ms / requests / KiB`, `${wm} / ${wr} / ${wb}`]);
        }
      } finally {
        await proxy.close();
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const table = formatTable(['metric (kts server, SQLite, HTTPS)', 'value'], rows);
  console.log(table);
  return table;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchApiMachinery().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
