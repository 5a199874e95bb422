// The kubelet on real containers (issue 5): `kts server --container-runtime cri` as a child
// process (its own containerd, runc, the CNI bridge), driven over HTTPS like a user would.
//  - pod startup: created → every container running, seen through a watch; 100 pods created at
//    once, 100 created one after another at 10/s, and 30 at 2/s (below what the node can start,
//    like upstream's density tests; upstream's SLO: p99 ≤ 5 s), image present;
//    per-call CRI latencies of the burst from the server's KTS_CRI_TRACE file, and containerd on
//    its own (bench/cri-direct.ts) to separate our cost from containerd's;
//  - CPU seconds and RSS over an idle window of the kts server, containerd and its shims at 0, 10
//    and 100 running pods (/proc/<pid>/stat and status);
//  - `kubectl logs` throughput of a pod that wrote 32 MiB, and the same GET without kubectl;
//  - exec round trips: `kubectl exec pod -- true` and a WebSocket exec (v5.channel.k8s.io)
//    through the API server directly (no kubectl start-up);
//  - the same startup rows on the fake runtime (no containers) for comparison.
// Needs root, containerd, runc, CNI plugins, busybox-static, kubectl; prints why it skips
// otherwise. Containers share the machine's bridges and iptables with the container tests, so
// bench/run.ts runs this file under `flock /tmp/kts-ctr.lock` in a child process; run it by hand
// the same way: `flock /tmp/kts-ctr.lock node dist/bench/kubelet.js` (`--logs-only`: the logs rows alone).
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { containerdPaths, createCRIRuntime } from '../src/kubelet/runtime/cri/index.js';
import { silentLogger } from '../src/util/log.js';
import { skipReason as kubectlMissing, startCluster, type Cluster } from '../test/e2e/harness.js';
import { PAUSE, importTestImages } from '../test/containers/images.js';
import { benchCRIDirect, directRow } from './cri-direct.js';
import { criCleanup, criUnavailable, shimsUnder } from './pods.js';
import { formatTable, H2Client, pct, progress, sleep } from './harness.js';

const BRIDGE = 'ktsbench2';
const DIRECT_BRIDGE = 'ktsbench3';
const CLUSTER_CIDR = '10.245.0.0/16';
const V = '1.32';
const PODS = 100;
const STEADY_PODS = 30;
const STEADY_RATE = 2;
const IDLE_WINDOW_MS = 10_000;
const LOG_MIB = 32;
const EXECS = 20;
const CLK_TCK = 100; // USER_HZ on Linux

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** utime+stime of a process in seconds, or 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineBusySeconds(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

function pidsWhere(pred: (cmd: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (pred(fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(Number(d));
    } catch {
      /* exited */
    }
  }
  return out;
}

interface Procs {
  kts: number;
  containerd: number;
  shims: () => number[];
}

function findProcs(dataDir: string, root: string): Procs {
  const kts = pidsWhere((c) => c.includes(' server ') && c.includes(`--data-dir ${dataDir}`))[0];
  const containerd = pidsWhere((c) => c.startsWith('containerd ') && c.includes(`${root}/`))[0];
  if (!kts || !containerd) throw new Error(`cannot find the kts server (${kts}) or its containerd (${containerd})`);
  return { kts, containerd, shims: () => shimsUnder(root) };
}

interface Usage {
  ktsCpu: number;
  ctrdCpu: number;
  shimCpu: number;
  machineCpu: number;
  ktsRss: number;
  ctrdRss: number;
  shimRss: number;
  shims: number;
}

/** CPU seconds used during fn by kts, containerd and the shims (those alive at the end), and RSS at the end. */
async function measure(p: Procs, fn: () => Promise<void>): Promise<Usage> {
  const before = new Map<number, number>();
  const shims0 = p.shims();
  for (const pid of [p.kts, p.containerd, ...shims0]) before.set(pid, cpuSeconds(pid));
  const m0 = machineBusySeconds();
  await fn();
  const shims = p.shims();
  const d = (pid: number) => cpuSeconds(pid) - (before.get(pid) ?? 0);
  return {
    ktsCpu: d(p.kts),
    ctrdCpu: d(p.containerd),
    shimCpu: shims.reduce((a, pid) => a + d(pid), 0),
    machineCpu: machineBusySeconds() - m0,
    ktsRss: rssMiB(p.kts),
    ctrdRss: rssMiB(p.containerd),
    shimRss: shims.reduce((a, pid) => a + rssMiB(pid), 0),
    shims: shims.length,
  };
}

/** A pod watch over HTTP/2: calls onPod for every ADDED/MODIFIED object. */
function watchPods(h: H2Client, ns: string, onPod: (pod: Json) => void): { stop(): void } {
  const s = h.session.request({ ':method': 'GET', ':path': `/api/v1/namespaces/${ns}/pods?watch=1&allowWatchBookmarks=false`, accept: 'application/json' });
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line);
      if (e.type === 'ADDED' || e.type === 'MODIFIED') onPod(e.object);
    }
  });
  s.on('error', () => {});
  s.end();
  return { stop: () => s.close() };
}

const allRunning = (pod: Json) => {
  const cs: Json[] = pod.status?.containerStatuses ?? [];
  return cs.length > 0 && cs.length === (pod.spec?.containers?.length ?? 0) && cs.every((c) => c.state?.running);
};

const podBody = (name: string, label: string, command = ['sleep', '3600']) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'bench', labels: { run: label } },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:1.28', command }] },
});

interface Startup {
  latencies: number[];
  /** Per pod: epoch ms of its POST and ms until every container ran. */
  pods: Map<string, { created: number; ms: number }>;
  wallS: number;
  missing: number;
}

/** Creates PODS pods (all at once when rate is 0, else rate per second) and times each until all its containers run. */
async function startup(h: H2Client, label: string, rate: number, count = PODS, timeoutMs = 120_000): Promise<Startup> {
  const created = new Map<string, number>();
  const lat = new Map<string, number>();
  const podTimes = new Map<string, { created: number; ms: number }>();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const w = watchPods(h, 'bench', (pod) => {
    const t = created.get(pod.metadata.name);
    if (t !== undefined && !lat.has(pod.metadata.name) && allRunning(pod)) {
      lat.set(pod.metadata.name, performance.now() - t);
      podTimes.set(pod.metadata.name, { created: performance.timeOrigin + t, ms: performance.now() - t });
      if (lat.size === count) done();
    }
  });
  await sleep(200); // the watch is established
  const t0 = performance.now();
  const create = async (i: number) => {
    const name = `${label}-${i}`;
    created.set(name, performance.now());
    await h.json('POST', '/api/v1/namespaces/bench/pods', podBody(name, label));
  };
  if (rate === 0) await Promise.all(Array.from({ length: count }, (_, i) => create(i)));
  else {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(create(i));
    }
    await Promise.all(pending);
  }
  await Promise.race([all, sleep(timeoutMs)]);
  w.stop();
  return { latencies: [...lat.values()].sort((a, b) => a - b), pods: podTimes, wallS: (performance.now() - t0) / 1000, missing: count - lat.size };
}

/** Waits until only `n` shims are left: the kubelet has torn down what the API no longer has. */
async function settle(p: Procs, n: number): Promise<void> {
  for (let i = 0; i < 600 && p.shims().length > n; i++) await sleep(200);
}

async function deletePods(h: H2Client, selector: string): Promise<void> {
  await h.json('DELETE', `/api/v1/namespaces/bench/pods?labelSelector=${encodeURIComponent(selector)}&gracePeriodSeconds=0`);
  for (let i = 0; i < 600; i++) {
    const l = await h.json('GET', `/api/v1/namespaces/bench/pods?labelSelector=${encodeURIComponent(selector)}`);
    if (!l.items.length) return;
    await sleep(200);
  }
  progress(`kubelet: pods ${selector} were not gone after 120 s`);
}

async function prepare(h: H2Client): Promise<void> {
  for (let i = 0; ; i++) {
    const n = await h.json('GET', '/api/v1/nodes');
    if (n.items.some((x: Json) => x.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'))) break;
    if (i > 300) throw new Error('the node never became Ready');
    await sleep(200);
  }
  await h.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  for (let i = 0; ; i++) {
    if ((await h.request('GET', '/api/v1/namespaces/bench/serviceaccounts/default')).status === 200) break;
    if (i > 100) throw new Error('no default ServiceAccount');
    await sleep(100);
  }
}

async function connect(c: Cluster): Promise<H2Client> {
  const tlsDir = join(c.dataDir, 'tls');
  const tls = { ca: fs.readFileSync(join(tlsDir, 'ca.crt'), 'utf8'), cert: fs.readFileSync(join(tlsDir, 'admin.crt'), 'utf8'), key: fs.readFileSync(join(tlsDir, 'admin.key'), 'utf8') };
  return H2Client.connect(c.url, tls);
}

const ms = (xs: number[], p: number) => (xs.length ? pct(xs, p).toFixed(0) : '-');
const startupRow = (what: string, s: Startup) => [what, String(s.latencies.length), ms(s.latencies, 50), ms(s.latencies, 99), ms(s.latencies, 100), s.wallS.toFixed(1), s.missing ? `${s.missing} not running` : ''];

/**
 * Where each pod's startup went, from the trace: before RunPodSandbox (API, scheduler, watch, pod
 * worker, volumes), RunPodSandbox itself, and after it (image check, CreateContainer,
 * StartContainer, status PATCH, watch). p50 / p99 of each part, in ms.
 */
function breakdown(file: string, s: Startup): string[] {
  const sent = new Map<string, { t0: number; ms: number }>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { m: string; t0: number; ms: number; pod?: string };
    if (e.m === 'RunPodSandbox' && e.pod && s.pods.has(e.pod)) sent.set(e.pod, e);
  }
  const before: number[] = [];
  const sandbox: number[] = [];
  const after: number[] = [];
  for (const [name, p] of s.pods) {
    const r = sent.get(name);
    if (!r) continue;
    before.push(r.t0 - p.created);
    sandbox.push(r.ms);
    after.push(p.ms - (r.t0 - p.created) - r.ms);
  }
  const f = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return `${ms(xs, 50)} / ${ms(xs, 99)}`;
  };
  return [f(before), f(sandbox), f(after)];
}

/** CRI calls the server made between t0 and t1 (epoch ms), from its trace file: name → sorted ms. */
function criCalls(file: string, t0: number, t1: number): Map<string, number[]> {
  const by = new Map<string, number[]>();
  if (!fs.existsSync(file)) return by;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { m: string; t0: number; ms: number };
    if (e.t0 < t0 || e.t0 > t1) continue;
    const l = by.get(e.m) ?? [];
    l.push(e.ms);
    by.set(e.m, l);
  }
  for (const l of by.values()) l.sort((a, b) => a - b);
  return by;
}

/** One exec through the API server's WebSocket endpoint (v5.channel.k8s.io); resolves on the exit status. */
function wsExec(c: Cluster, tls: { ca: string; cert: string; key: string }, pod: string): Promise<number> {
  const url = `${c.url.replace(/^https/, 'wss')}/api/v1/namespaces/bench/pods/${pod}/exec?command=true&stdout=true&stderr=true`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: tls.ca, cert: tls.cert, key: tls.key });
    let status = '';
    ws.on('message', (d: Buffer) => {
      if (d[0] === 3) status += d.subarray(1).toString();
    });
    ws.on('close', () => (/"Success"/.test(status) ? resolve(performance.now() - t0) : reject(new Error(`exec: ${status || 'no status'}`))));
    ws.on('error', reject);
  });
}

/**
 * `kubectl logs` throughput: a pod that writes LOG_MIB MiB of 64-byte lines and ends
 * (restartPolicy Never: the kubelet rotates only running containers' logs, at 10 MiB, so a
 * finished container keeps its whole log), read through the API and with kubectl; then the
 * bounded reads (--tail=1, --limit-bytes) whose cost must not grow with the log.
 */
async function logsRows(c: Cluster, h: H2Client): Promise<string[][]> {
  progress(`kubelet: kubectl logs of ${LOG_MIB} MiB`);
  const rows: string[][] = [];
  const lines = (LOG_MIB * 2 ** 20) / 64;
  const body = podBody('biglog', 'biglog', ['sh', '-c', `yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde | head -n ${lines}; echo DONE`]);
  await h.json('POST', '/api/v1/namespaces/bench/pods', { ...body, spec: { ...body.spec, restartPolicy: 'Never' } });
  for (let i = 0; ; i++) {
    const p = await h.json('GET', '/api/v1/namespaces/bench/pods/biglog');
    if (p.status?.phase === 'Succeeded') break;
    if (i > 600 || p.status?.phase === 'Failed') throw new Error(`the log writer pod never finished (${p.status?.phase})`);
    await sleep(200);
  }
  const row = (what: string, bytes: number, s: number) => [what, (bytes / 2 ** 20).toFixed(1), s.toFixed(2), (bytes / 2 ** 20 / s).toFixed(0)];
  const get = async (what: string, query: string) => {
    const t = performance.now();
    const r = await h.request('GET', `/api/v1/namespaces/bench/pods/biglog/log${query}`);
    rows.push(row(what, Buffer.byteLength(r.body), (performance.now() - t) / 1000));
    return r.body;
  };
  await get('GET …/log over HTTP/2 (no kubectl)', '');
  const t2 = performance.now();
  const k = await c.kubectl(V, ['logs', '-n', 'bench', 'biglog'], { timeoutMs: 120_000 });
  rows.push(row('kubectl logs', Buffer.byteLength(k.stdout), (performance.now() - t2) / 1000));
  const last = await get('GET …/log?tailLines=1', '?tailLines=1');
  if (last.trim() !== 'DONE') progress(`kubelet: tailLines=1 gave ${JSON.stringify(last.slice(0, 80))}`);
  await get('GET …/log?limitBytes=1048576', '?limitBytes=1048576');
  await get('GET …/log?tailLines=10000', '?tailLines=10000');
  return rows;
}

async function fakeStartup(): Promise<string[][]> {
  const c = await startCluster();
  try {
    const h = await connect(c);
    await prepare(h);
    const burst = await startup(h, 'fburst', 0);
    await deletePods(h, 'run=fburst');
    const paced = await startup(h, 'fpaced', 10);
    await h.close();
    return [startupRow(`fake runtime, ${PODS} at once`, burst), startupRow(`fake runtime, ${PODS} at 10/s`, paced)];
  } finally {
    await c.stop();
  }
}

export async function benchKubelet(): Promise<void> {
  const why = criUnavailable() ?? kubectlMissing();
  if (why) {
    console.log(`kubelet benchmarks skipped: ${why}`);
    return;
  }
  const root = fs.mkdtempSync(join(os.tmpdir(), 'kts-bench-kubelet-'));
  const trace = join(root, 'cri-trace.jsonl');
  let c: Cluster | undefined;
  const t00 = performance.now();
  try {
    progress('kubelet: importing the offline images into kts\'s containerd');
    {
      const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: BRIDGE, podCIDR: '10.245.0.0/24' });
      await importTestImages(containerdPaths(root).socket, join(root, 'images'));
      await rt.close();
    }
    process.env['KTS_CNI_BRIDGE'] = BRIDGE;
    process.env['KTS_CRI_TRACE'] = trace;
    c = await startCluster({ serverArgs: ['--container-runtime', 'cri', '--kubelet-port', '0', '--pause-image', PAUSE, '--kubelet-root-dir', root, '--cluster-cidr', CLUSTER_CIDR] });
    delete process.env['KTS_CRI_TRACE'];
    const h = await connect(c);
    await prepare(h);
    const procs = findProcs(c.dataDir, root);
    const tlsDir = join(c.dataDir, 'tls');
    const tls = { ca: fs.readFileSync(join(tlsDir, 'ca.crt'), 'utf8'), cert: fs.readFileSync(join(tlsDir, 'admin.crt'), 'utf8'), key: fs.readFileSync(join(tlsDir, 'admin.key'), 'utf8') };

    if (process.argv.includes('--logs-only')) {
      const rows = await logsRows(c, h);
      await h.close();
      console.log(formatTable(['logs', 'MiB', 's', 'MiB/s'], rows));
      return;
    }
    const usage: [string, Usage][] = [];
    const idle = async (what: string) => {
      progress(`kubelet: idle window, ${what}`);
      usage.push([what, await measure(procs, () => sleep(IDLE_WINDOW_MS))]);
    };
    await idle('0 pods');

    progress(`kubelet: ${PODS} pods created at once`);
    const b0 = Date.now();
    let burst!: Startup;
    const burstUse = await measure(procs, async () => {
      burst = await startup(h, 'burst', 0);
    });
    const b1 = Date.now();
    await sleep(300); // the server flushes its trace every 200 ms
    const calls = criCalls(trace, b0, b1);
    await idle(`${PODS} pods`);
    progress('kubelet: deleting them');
    await deletePods(h, 'run=burst');
    await settle(procs, 0);

    progress(`kubelet: ${PODS} pods created at 10/s`);
    const paced = await startup(h, 'paced', 10);
    await sleep(300);
    progress('kubelet: deleting them');
    await deletePods(h, 'run=paced');
    await settle(procs, 0);
    // Below the node's throughput, as upstream's density tests run (30 pods per node).
    progress(`kubelet: ${STEADY_PODS} pods created at ${STEADY_RATE}/s`);
    const steady = await startup(h, 'steady', STEADY_RATE, STEADY_PODS);
    progress('kubelet: deleting them, then 10 pods');
    await deletePods(h, 'run=steady');
    await settle(procs, 0);
    await startup(h, 'ten', 0, 10);
    await idle('10 pods');
    await deletePods(h, 'run=ten');
    const quick = process.argv.includes('--quick');

    const logRows: string[][] = [];
    const kx: number[] = [];
    const wx: number[] = [];
    if (!quick) {
      logRows.push(...(await logsRows(c, h)));
      await h.json('POST', '/api/v1/namespaces/bench/pods', podBody('logger', 'logger'));
      for (let i = 0; !allRunning(await h.json('GET', '/api/v1/namespaces/bench/pods/logger')); i++) {
        if (i > 600) throw new Error('the exec pod never ran');
        await sleep(200);
      }

      progress(`kubelet: ${EXECS} exec round trips, kubectl and WebSocket`);
      for (let i = 0; i < EXECS; i++) {
        const t = performance.now();
        await c.ok(V, ['exec', '-n', 'bench', 'logger', '--', 'true']);
        kx.push(performance.now() - t);
        wx.push(await wsExec(c, tls, 'logger'));
      }
      kx.sort((a, b) => a - b);
      wx.sort((a, b) => a - b);
    }
    const kv = performance.now();
    await c.ok(V, ['version', '--client']);
    const kubectlStart = performance.now() - kv;
    await h.close();
    await c.stop();
    c = undefined;

    if (!quick) progress('kubelet: containerd alone (CRI straight from this process), pod network and hostNetwork');
    const direct = quick ? [] : [await benchCRIDirect(PODS, false, DIRECT_BRIDGE), await benchCRIDirect(PODS, true, DIRECT_BRIDGE)];
    if (!quick) progress('kubelet: fake runtime startup');
    const fake = quick ? [] : await fakeStartup();

    // ---- tables
    const hdr = ['pods (image present)', 'n', 'p50 ms', 'p99 ms', 'max ms', 'all running s', ''];
    console.log(`Pod startup: POST → every container running, seen through a watch (upstream SLO: p99 ≤ 5 s); kts server + its containerd, ${os.cpus().length} cores`);
    console.log(formatTable(hdr, [startupRow(`cri, ${PODS} at once`, burst), startupRow(`cri, ${PODS} at 10/s`, paced), startupRow(`cri, ${STEADY_PODS} at ${STEADY_RATE}/s`, steady), ...fake]));
    console.log('');
    console.log(`CPU seconds while the ${PODS} pods started at once: kts server ${burstUse.ktsCpu.toFixed(1)}, containerd ${burstUse.ctrdCpu.toFixed(1)}, shims ${burstUse.shimCpu.toFixed(1)}; whole machine ${burstUse.machineCpu.toFixed(1)} (runc, CNI plugins and other users included)`);
    console.log('');
    const cc = calls;
    console.log('Where the startup went (ms, p50 / p99 per pod): POST → RunPodSandbox sent (API, scheduler, watch, pod worker); RunPodSandbox; the rest (CreateContainer, StartContainer, status, watch)');
    console.log(formatTable(['pods', 'before sandbox', 'RunPodSandbox', 'after sandbox'], [[`cri, ${PODS} at once`, ...breakdown(trace, burst)], [`cri, ${PODS} at 10/s`, ...breakdown(trace, paced)]]));
    console.log('');
    console.log(`CRI calls during that burst (ms; the kubelet's client, KTS_CRI_TRACE) and containerd alone (${PODS} pods straight over CRI, all at once)`);
    const callRows = [...cc.entries()].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0)).map(([m, v]) => [m, String(v.length), ms(v, 50), ms(v, 99), ms(v, 100)]);
    console.log(formatTable(['CRI call (kubelet burst)', 'n', 'p50', 'p99', 'max'], callRows));
    console.log('');
    console.log(formatTable(['containerd alone', 'RunPodSandbox p50/p99', 'CreateContainer', 'StartContainer', 'pod p50/p99', 'all s'], direct.map(directRow)));
    console.log('');
    console.log(`Idle cost over ${IDLE_WINDOW_MS / 1000} s with N running pods: CPU seconds (and % of one core) and RSS`);
    console.log(
      formatTable(
        ['running pods', 'kts CPU s', 'kts RSS MiB', 'containerd CPU s', 'containerd RSS MiB', 'shims', 'shims CPU s', 'shims RSS MiB'],
        usage.map(([w, u]) => [w, `${u.ktsCpu.toFixed(2)} (${((u.ktsCpu / IDLE_WINDOW_MS) * 1e5).toFixed(1)} %)`, u.ktsRss.toFixed(0), `${u.ctrdCpu.toFixed(2)} (${((u.ctrdCpu / IDLE_WINDOW_MS) * 1e5).toFixed(1)} %)`, u.ctrdRss.toFixed(0), String(u.shims), u.shimCpu.toFixed(2), u.shimRss.toFixed(0)]),
      ),
    );
    console.log('');
    console.log(formatTable(['logs', 'MiB', 's', 'MiB/s'], logRows));
    console.log('');
    console.log(`exec round trips, ${EXECS} each (\`kubectl version --client\` alone: ${kubectlStart.toFixed(0)} ms)`);
    console.log(formatTable(['exec … -- true', 'p50 ms', 'p99 ms'], [['kubectl exec', ms(kx, 50), ms(kx, 99)], ['WebSocket v5.channel.k8s.io through the API', ms(wx, 50), ms(wx, 99)]]));
    progress(`kubelet: done in ${((performance.now() - t00) / 1000).toFixed(0)} s`);
  } finally {
    await c?.stop();
    delete process.env['KTS_CRI_TRACE'];
    await criCleanup(root, BRIDGE);
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchKubelet();
  // the H2/WebSocket clients and kubectl children are all closed; exit without waiting for timers
  process.exit(0);
}
