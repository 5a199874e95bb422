// `npm run bench`: runs every benchmark and prints its table; with --write-docs also writes
// the tables (and the machine they were measured on) to docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchStorage } from './storage.js';
import { benchApiserver, WATCHERS_PER_CONN } from './apiserver.js';
import { benchScheduler } from './scheduler.js';
import { benchApiMachinery } from './apimachinery.js';
import { benchControllers } from './controllers.js';
import { benchPodStartup, criUnavailable } from './pods.js';
import { progress, REPO_ROOT } from './harness.js';

/**
 * Runs dist/bench/<file> in a child process holding /tmp/kts-ctr.lock (`flock`): real containers
 * share the machine's bridges, CIDRs and iptables with the container tests, which take the same
 * lock. Prints the child's stdout once it is done; its progress lines go to stderr as they come.
 */
function underContainerLock(file: string, args: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('flock', ['/tmp/kts-ctr.lock', process.execPath, join(REPO_ROOT, 'dist/bench', file), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('exit', (code) => {
      const text = out.replace(/\n+$/, '');
      if (text) console.log(text);
      if (code === 0) resolve();
      else reject(new Error(`${file} exited with ${code}`));
    });
  });
}

/** Runs fn while copying everything it prints with console.log; returns the copy. */
async function capture(fn: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
    orig(...args);
  };
  try {
    await fn();
  } finally {
    console.log = orig;
  }
  return lines.join('\n');
}

function machine(): string {
  const c = cpus();
  const model = c[0]?.model.trim() ?? 'unknown CPU';
  return `${c.length} × ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node.js ${process.version}`;
}

/** The kubelet section's text above its tables (docs/benchmarks.md). */
const KUBELET_DOC = `## Kubelet on real containers (\`bench/kubelet.ts\`)

\`kts server --container-runtime cri\` as a child process (its own containerd, runc and CNI bridge),
driven over HTTPS with the admin certificate and by kubectl 1.32; the offline busybox image is
imported first, so no pull happens. The group runs in a child process holding
\`/tmp/kts-ctr.lock\` (as the container tests do), and needs root, containerd, runc, CNI plugins,
busybox-static and kubectl; it says so and skips otherwise. By hand:
\`flock /tmp/kts-ctr.lock node dist/bench/kubelet.js\` (\`--quick\`: startup and idle rows only).

- Pod startup: one \`busybox sleep 3600\` container per pod; latency runs from the POST to the first
  watch event in which every container is running. 100 pods created at once, then (once the first
  100 are gone, shims included) 100 created one after another at 10/s, then 30 at 2/s — below what
  the node can start, as upstream's density tests run (30 pods per node); upstream's SLO is p99 ≤ 5 s.
  The fake runtime rows run the same on \`--container-runtime fake\` (no containers: what the
  control plane and the watch cost).
- CPU seconds during the burst, from \`/proc/<pid>/stat\`: the kts server (API server, controllers,
  scheduler and kubelet in one process), containerd, and the shims; the whole machine's busy time
  also holds runc, the CNI plugins and anything else running.
- CRI calls: the server's CRI client times every call (\`KTS_CRI_TRACE=<file>\`). "Where the startup
  went" splits each pod's latency at its RunPodSandbox call: before it is kts (API server, scheduler,
  watch, pod worker, volumes), then containerd's RunPodSandbox, then the rest (CreateContainer and
  StartContainer, which are containerd's again, and the status PATCH and watch). The call table is the
  burst. "containerd alone" runs the same 100 sandboxes + containers straight over CRI from the
  benchmark process (RunPodSandbox, CreateContainer, StartContainer per pod, all pods at once), on
  the pod network and with hostNetwork (no CNI): containerd's own cost, without kts's kubelet.
- Idle cost: CPU seconds over 10 s with 0, 100 and 10 running pods, and RSS at its end.
- Logs: a pod writes 32 MiB (64-byte lines); one GET of its whole log over HTTP/2, then \`kubectl logs\`.
- Exec: 20 × \`kubectl exec pod -- true\`, and 20 × the same exec as a WebSocket
  (v5.channel.k8s.io) through the API server, without kubectl's start-up.`;

async function main(): Promise<void> {
  const writeDocs = process.argv.includes('--write-docs');
  const t0 = performance.now();
  const loadBefore = loadavg()[0]!.toFixed(2);
  progress('storage: raw Store throughput (SQLite FULL, SQLite NORMAL, etcd)');
  const storage = await capture(() => benchStorage());
  console.log('');
  progress('apiserver: kts server over HTTPS, SQLite then etcd');
  const api = await capture(() => benchApiserver());
  console.log('');
  progress('scheduler: pods/s from created to bound, 1,000 and 5,000 nodes');
  const sched = await capture(() => benchScheduler());
  console.log('');
  progress('apimachinery: strategic merge patch and server-side apply on a Deployment; kubectl cold vs warm cache');
  const apim = await capture(() => benchApiMachinery());
  console.log('');
  progress('controllers: a 1,000-replica Deployment on 100 simulated nodes');
  const ctrl = await capture(() => benchControllers());
  console.log('');
  // The cri runs hold the container lock in a child; without cri (process runtime) nothing needs it.
  const cri = !criUnavailable();
  progress(`pods: startup latency on the own node (cri when available, else process), 50 pods${cri ? '; under /tmp/kts-ctr.lock' : ''}`);
  const podsOut = await capture(() => (cri ? underContainerLock('pods.js', ['50']) : benchPodStartup(50)));
  console.log('');
  progress('kubelet: real containers through kts server (startup, idle cost, logs, exec); under /tmp/kts-ctr.lock');
  const kubeletOut = await capture(async () => {
    const why = criUnavailable();
    if (why) console.log(`kubelet benchmarks skipped: ${why} (they need root, containerd, runc, CNI plugins and busybox-static)`);
    else await underContainerLock('kubelet.js');
  });
  const totalS = (performance.now() - t0) / 1000;
  const loadAfter = loadavg()[0]!.toFixed(2);
  progress(`done in ${totalS.toFixed(0)} s`);
  if (!writeDocs) return;

  const doc = `# Benchmarks

Measured on ${machine()}, ${new Date().toISOString().slice(0, 10)}; the whole run took ${totalS.toFixed(0)} s.
The benchmark client runs on the same machine (and cores) as the server and etcd, over loopback,
so client-side TLS, HTTP/2 and JSON work competes with the server for the same CPUs. The 1-minute load
average was ${loadBefore} before the run and ${loadAfter} after it (other work on a shared machine
shows up here: numbers from a loaded machine are lower).

Reproduce: \`npm run bench\` prints these tables; \`npm run build && node dist/bench/run.js --write-docs\`
rewrites this file. etcd columns need \`/usr/bin/etcd\` (Debian \`etcd-server\`); without it they are skipped.

## Storage (\`bench/storage.ts\`)

The \`Store\` interface called directly in one process: no API server, no HTTP. Values are ~1 KiB.

\`\`\`
${storage}
\`\`\`

## API server over HTTPS (\`bench/apiserver.ts\`)

\`node bin/kts.js server\` runs as a child process (its RSS is read from \`/proc\`), once on the
embedded SQLite store and once on a local etcd member, with the same steps in the same run:

- Clients speak HTTP/2 (\`node:http2\`) with the admin client certificate from \`<data-dir>/tls/\`;
  each client is its own TLS connection with one request in flight. Writes send a ~2 KiB pod
  (containers with env, probes, resources, volumes, tolerations, affinity) that is ~2.6 KiB once
  stored with defaults.
- Creates, updates (PUT of the last returned object with a changed annotation) and GETs run for 2 s
  each; "32 clients, 10,000 pods" creates the pods that the LIST at 10,000 and the RSS row use.
- LIST is a full, unpaginated JSON list of one namespace (1,000 and 10,000 pods), timed from
  sending the request to the last byte of the response.
- Watch latency: 100 and 1,000 watch streams (${WATCHERS_PER_CONN} per HTTP/2 connection) on one namespace's pods;
  one writer updates a pod, waits until every watcher has the event, and repeats (200 and 100
  writes). Latency is the event's arrival at each watcher minus the arrival of the write's response
  (0 when the event arrived first).
- Cold start is the time from spawning \`node bin/kts.js server\` to the first 200 from \`/readyz\`
  (polled every 5 ms): once with a fresh data directory (includes generating the PKI) and once
  restarting on the data directory the run filled (the pod count is in the RSS row).
- Targets on 2 cores: cold start < 1 s; idle RSS < 100 MB; 2,000 pod creates/s on SQLite with 32
  clients; watch p99 < 50 ms with 1,000 watchers.

\`\`\`
${api}
\`\`\`

## Scheduler (\`bench/scheduler.ts\`)

An in-process server with every controller; Node objects (with long Leases, so no node goes
Unknown mid-run) and pods are created through the in-process client; the rate is pods bound per
second from the first create to the last binding. RSS is the whole process (server and client).

\`\`\`
${sched}
\`\`\`

## API machinery (\`bench/apimachinery.ts\`)

\`node bin/kts.js server\` on SQLite as a child process; HTTP/2 clients with the admin certificate, one
request in flight each, 2 s per row. Each client owns one realistic, paused Deployment (two
containers with ports, env, probes, resources and volume mounts; volumes, tolerations, affinity;
~1.9 KiB as JSON), so rows measure patching, not conflicts or rollouts:

- Strategic merge patch: what \`kubectl set env\` + \`annotate\` send (an env entry of one container,
  by merge key, and an annotation) as \`application/strategic-merge-patch+json\`.
- Server-side apply: the whole manifest with one changed env value and annotation, as
  \`application/apply-patch+yaml\` with \`fieldManager=bench&force=true\` (managedFields computed
  each time). The baseline row is a plain GET-then-PUT loop on the same object.
- kubectl rows: kubectl 1.32 with a fresh \`--cache-dir\` (cold) and then again with the cache it
  filled (warm), median of 3; requests from its \`-v=6\` log, bytes counted by a TCP proxy between
  kubectl and the server (both directions, TLS included). \`get\` needs only discovery (aggregated
  \`/api\` and \`/apis\`; the server prints the table), \`explain\` also reads OpenAPI v3.

\`\`\`
${apim}
\`\`\`

## Controllers (\`bench/controllers.ts\`)

An in-process server with every controller, the scheduler and 100 simulated nodes (pods Running
and Ready 1 s after binding). One Deployment of 1,000 replicas is created through the in-process
client; the columns are seconds from its create until the 1,000th pod was created, bound and
Running (from a watch) and until the Deployment's status said 1,000 available; then a rolling
update of all 1,000 to a new image (default 25 % surge / unavailable) runs until the old
ReplicaSet's pods are gone. Meanwhile a side client on its own HTTPS/HTTP2 connection (admin
certificate) does one GET of a ConfigMap, one full LIST of the namespace's pods and one merge
PATCH of the ConfigMap every 100 ms, one after the other (a slow request delays the next ones,
so n is small when requests are slow), and the latency table is everything it saw. RSS is the
whole process (server, controllers, simulated nodes and the side client), sampled every 250 ms.

\`\`\`
${ctrl}
\`\`\`

## Pod startup (\`bench/pods.ts\`)

An in-process server with its own node's kubelet: on the cri runtime (kts's own containerd, runc,
the CNI bridge) when the machine allows it (root, containerd, runc, CNI plugins, busybox-static),
else on the process runtime; the table names the runtime. The offline busybox image is imported
first. 50 pods (\`sleep 3600\`) are created 10 at a time through the in-process client; a pod's
latency runs from its create request to the first watch event showing it Running (scheduling,
sandbox and network setup, container start and the status update all included).

\`\`\`
${podsOut}
\`\`\`

${KUBELET_DOC}

\`\`\`
${kubeletOut}
\`\`\`
`;
  const path = join(REPO_ROOT, 'docs/benchmarks.md');
  writeFileSync(path, doc);
  progress(`wrote ${path}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
