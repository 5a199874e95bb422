// kubectl logs / exec / attach / cp / port-forward through the API server to a kubelet
// server (src/kubelet/server) backed by a tiny in-test runtime whose containers are local
// processes and log files. Drives the real kubectl 1.27 (SPDY) and 1.33 (WebSocket).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/log.js';
import { InProcessClient } from '../../src/client/inprocess.js';
import { call } from '../../src/client/client.js';
import { issueServingCert } from '../../src/apiserver/pki.js';
import { KubeletServer } from '../../src/kubelet/server/server.js';
import { configureKubeletClient, KUBELET_ENDPOINT_ANNOTATION } from '../../src/kubelet/server/client.js';
import { rfc3339Nano } from '../../src/kubelet/logs.js';
import type { ContainerRuntime, ContainerStatus, SandboxStatus, StreamOptions, StreamSession } from '../../src/kubelet/runtime/types.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin';
const NODE = 'stream-node';

/** Containers are records; exec runs host processes; attach talks to one long-running shell per container. */
class TestRuntime implements Partial<ContainerRuntime> {
  readonly type = 'process' as const;
  sandboxes: SandboxStatus[] = [];
  containers: ContainerStatus[] = [];
  mains = new Map<string, ChildProcess>();
  mainOut = new Map<string, PassThrough>();
  forwardTo = new Map<number, number>();

  constructor(readonly dir: string) {}

  async addPod(name: string, containers: string[]): Promise<void> {
    const sid = `sb-${name}`;
    this.sandboxes.push({ id: sid, uid: `uid-${name}`, name, namespace: 'default', attempt: 0, state: 'ready', createdAt: Date.now(), ips: ['127.0.0.1'], labels: {}, annotations: {} });
    for (const c of containers) await this.addContainer(name, c, 0, 'running');
  }

  async addContainer(pod: string, name: string, attempt: number, state: 'running' | 'exited'): Promise<ContainerStatus> {
    const logPath = join(this.dir, pod, name, `${attempt}.log`);
    await mkdir(join(this.dir, pod, name), { recursive: true });
    await writeFile(logPath, '');
    const c: ContainerStatus = { id: `${pod}-${name}-${attempt}`, sandboxId: `sb-${pod}`, name, attempt, state, createdAt: Date.now() + attempt, startedAt: Date.now(), finishedAt: 0, exitCode: 0, image: 'busybox', imageRef: 'busybox', logPath, labels: {}, annotations: {} };
    this.containers.push(c);
    return c;
  }

  async log(pod: string, name: string, attempt: number, lines: string[]): Promise<void> {
    const ts = rfc3339Nano(new Date());
    await appendFile(join(this.dir, pod, name, `${attempt}.log`), lines.map((l) => `${ts} stdout F ${l}\n`).join(''));
  }

  async listPodSandboxes() {
    return this.sandboxes;
  }
  async listContainers() {
    return this.containers;
  }
  async containerStatus(id: string) {
    return this.containers.find((c) => c.id === id);
  }

  async exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession> {
    const cwd = join(this.dir, 'root-' + containerId);
    await mkdir(cwd, { recursive: true });
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const done = new Promise<{ exitCode: number; message?: string }>((resolve) => {
      child.on('error', (e) => resolve({ exitCode: 126, message: e.message }));
      child.on('close', (code) => resolve({ exitCode: code ?? 137 }));
    });
    if (!opts.stdin) child.stdin.end();
    return { stdin: opts.stdin ? child.stdin : undefined, stdout: child.stdout, stderr: child.stderr, done, close: () => child.kill('SIGKILL') };
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    let main = this.mains.get(containerId);
    if (!main) {
      main = spawn('sh', ['-c', 'echo ready; while read l; do echo "got $l"; done'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out = new PassThrough();
      main.stdout!.pipe(out);
      this.mains.set(containerId, main);
      this.mainOut.set(containerId, out);
    }
    const out = this.mainOut.get(containerId)!;
    const mine = new PassThrough();
    out.pipe(mine);
    let finish!: (r: { exitCode: number }) => void;
    const done = new Promise<{ exitCode: number }>((r) => (finish = r));
    main.on('close', () => finish({ exitCode: 0 }));
    // The client closing its stdin must not close the container's (no stdinOnce here).
    const stdin = new PassThrough();
    stdin.on('data', (d) => main!.stdin!.write(d));
    return {
      stdin: opts.stdin ? stdin : undefined,
      stdout: mine,
      done,
      close: () => {
        out.unpipe(mine);
        mine.end();
        finish({ exitCode: 0 });
      },
    };
  }

  async portForward(_sandboxId: string, port: number): Promise<Duplex> {
    const real = this.forwardTo.get(port) ?? port;
    return new Promise((resolve, reject) => {
      const s = net.connect(real, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }

  killAll(): void {
    for (const m of this.mains.values()) m.kill('SIGKILL');
  }
}

interface Ctx {
  server: RunningServer;
  kubelet: KubeletServer;
  runtime: TestRuntime;
  dir: string;
  env: NodeJS.ProcessEnv;
  web: http.Server;
  webPort: number;
}
let ctx: Ctx | undefined;
let skip: string | undefined;

function run(version: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(join(KUBECTL, `kubectl.${version}`), args, { env: ctx!.env, cwd: ctx!.dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
}

async function setPodStatus(name: string, containerStatuses: unknown[]): Promise<void> {
  const client = new InProcessClient(ctx!.server.api);
  const pod = await call(client, 'GET', `/api/v1/namespaces/default/pods/${name}`);
  pod.status = { phase: 'Running', podIP: '127.0.0.1', containerStatuses };
  await call(client, 'PUT', `/api/v1/namespaces/default/pods/${name}/status`, { body: pod });
}

function running(name: string, extra: Record<string, unknown> = {}) {
  return { name, ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: new Date().toISOString() } }, ...extra };
}

before(async () => {
  if (!existsSync(join(KUBECTL, 'kubectl.1.27')) || !existsSync(join(KUBECTL, 'kubectl.1.33'))) {
    skip = `kubectl 1.27/1.33 not installed under ${KUBECTL}`;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'kts-stream-'));
  const server = await startServer({
    dataDir: join(dir, 'data'),
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
  configureKubeletClient(server.api, server.pki);
  const runtime = new TestRuntime(join(dir, 'containers'));
  const serving = await issueServingCert(server.pki, NODE, { dns: [NODE, 'localhost'], ips: ['127.0.0.1'] });
  const kubelet = new KubeletServer({ runtime: runtime as unknown as ContainerRuntime, nodeName: NODE, cert: serving.cert, key: serving.key, clientCA: server.pki.caCert, host: '127.0.0.1', port: 0 });
  const kport = await kubelet.start();
  const web = http.createServer((req, res) => res.end(`hello from web ${req.url}\n`));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  const webPort = (web.address() as net.AddressInfo).port;
  runtime.forwardTo.set(80, webPort);
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(dir, 'home'), KUBECONFIG: server.kubeconfigPath, LANG: 'C.UTF-8' };
  ctx = { server, kubelet, runtime, dir, env, web, webPort };
  const client = new InProcessClient(server.api);
  await call(client, 'POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, annotations: { [KUBELET_ENDPOINT_ANNOTATION]: `127.0.0.1:${kport}` } },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kport } }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] },
    },
  });
  const pod = (name: string, containers: string[]) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, containers: containers.map((c) => ({ name: c, image: 'busybox', ports: [{ containerPort: 80 }] })) },
  });
  for (const [name, cs] of [['web', ['web']], ['two', ['a', 'b']], ['pending', ['app']]] as const) {
    await call(client, 'POST', '/api/v1/namespaces/default/pods', { body: pod(name, [...cs]) });
  }
  await runtime.addPod('web', ['web']);
  await runtime.addPod('two', ['a', 'b']);
  // web: restarted once; attempt 0 exited with its own log.
  runtime.containers.find((c) => c.id === 'web-web-0')!.state = 'exited';
  await runtime.addContainer('web', 'web', 1, 'running');
  await runtime.log('web', 'web', 0, ['previous line']);
  await runtime.log('web', 'web', 1, ['line 1', 'line 2', 'line 3']);
  await runtime.log('two', 'a', 0, ['from a']);
  await setPodStatus('web', [running('web', { restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'x://0', startedAt: null, finishedAt: null } } })]);
  await setPodStatus('two', [running('a'), running('b')]);
  await setPodStatus('pending', [{ name: 'app', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }]);
});

after(async () => {
  if (!ctx) return;
  ctx.runtime.killAll();
  await ctx.kubelet.stop();
  await new Promise((r) => ctx!.web.close(r));
  await ctx.server.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

test('discovery lists pods/log, exec, attach and portforward', async (t) => {
  if (skip) return t.skip(skip);
  const r = await run('1.33', ['get', '--raw', '/api/v1']);
  const names = (JSON.parse(r.stdout) as { resources: { name: string }[] }).resources.map((x) => x.name);
  for (const s of ['pods/log', 'pods/exec', 'pods/attach', 'pods/portforward']) assert.ok(names.includes(s), s);
});

test('kubectl logs: all, --tail, --previous, --timestamps, and upstream errors', async (t) => {
  if (skip) return t.skip(skip);
  for (const v of ['1.27', '1.33']) {
    const all = await run(v, ['logs', 'web']);
    assert.equal(all.stdout, 'line 1\nline 2\nline 3\n', all.stderr);
    assert.equal((await run(v, ['logs', 'web', '--tail=1'])).stdout, 'line 3\n');
    assert.equal((await run(v, ['logs', 'web', '--previous'])).stdout, 'previous line\n');
  }
  const ts = await run('1.33', ['logs', 'web', '--timestamps', '--tail=1']);
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/);
  assert.equal((await run('1.33', ['logs', 'two', '-c', 'a'])).stdout, 'from a\n');
  const waiting = await run('1.33', ['logs', 'pending']);
  assert.equal(waiting.code, 1);
  assert.equal(waiting.stderr.trim(), 'Error from server (BadRequest): container "app" in pod "pending" is waiting to start: ContainerCreating');
  const prev = await run('1.33', ['logs', 'two', '-c', 'a', '--previous']);
  assert.equal(prev.stderr.trim(), 'Error from server (BadRequest): previous terminated container "a" in pod "two" not found');
  const raw = await run('1.33', ['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
  assert.match(raw.stderr, /a container name must be specified for pod two, choose one of: \[a b\]/);
});

test('kubectl logs -f streams lines as the container writes them', async (t) => {
  if (skip) return t.skip(skip);
  const p = spawn(join(KUBECTL, 'kubectl.1.33'), ['logs', '-f', 'two', '-c', 'b'], { env: ctx!.env });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const waitFor = async (s: string) => {
    for (let i = 0; i < 100 && !out.includes(s); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(out.includes(s), `expected ${JSON.stringify(s)} in ${JSON.stringify(out)}`);
  };
  await new Promise((r) => setTimeout(r, 500));
  await ctx!.runtime.log('two', 'b', 0, ['first']);
  await waitFor('first\n');
  await ctx!.runtime.log('two', 'b', 0, ['second']);
  await waitFor('second\n');
  // The container ends: the stream ends and kubectl exits.
  ctx!.runtime.containers.find((c) => c.id === 'two-b-0')!.state = 'exited';
  const code = await new Promise<number | null>((r) => p.on('close', r));
  assert.equal(code, 0);
  assert.equal(out, 'first\nsecond\n');
});

for (const v of ['1.27', '1.33']) {
  test(`kubectl ${v} exec: output, exit codes, stdin`, async (t) => {
    if (skip) return t.skip(skip);
    const before = { ...ctx!.kubelet.upgrades };
    const hi = await run(v, ['exec', 'web', '--', 'echo', 'hi']);
    // 1.27 speaks SPDY; 1.30+ WebSocket (v5.channel.k8s.io).
    const transport = v === '1.27' ? 'spdy' : 'websocket';
    assert.equal(ctx!.kubelet.upgrades[transport], before[transport] + 1);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    const err = await run(v, ['exec', 'web', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(err.code, 3);
    assert.equal(err.stderr, 'oops\ncommand terminated with exit code 3\n');
    const cat = await run(v, ['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello stdin\n' });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'HELLO STDIN\n');
  });

  test(`kubectl ${v} cp both ways`, async (t) => {
    if (skip) return t.skip(skip);
    const local = join(ctx!.dir, `up-${v}.txt`);
    const content = 'x'.repeat(200_000) + '\nend\n';
    await writeFile(local, content);
    const up = await run(v, ['cp', local, `web:/tmp/kts-cp-${v}.txt`]);
    assert.equal(up.code, 0, up.stderr);
    const back = join(ctx!.dir, `down-${v}.txt`);
    const down = await run(v, ['cp', `web:/tmp/kts-cp-${v}.txt`, back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await readFile(back, 'utf8'), content);
    await rm(`/tmp/kts-cp-${v}.txt`, { force: true });
  });

  test(`kubectl ${v} port-forward then an HTTP request through it`, async (t) => {
    if (skip) return t.skip(skip);
    const before = { ...ctx!.kubelet.upgrades };
    const p = spawn(join(KUBECTL, `kubectl.${v}`), ['port-forward', 'pod/web', ':80'], { env: ctx!.env });
    let out = '';
    let errOut = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (errOut += d));
    try {
      for (let i = 0; i < 100 && !/Forwarding from 127\.0\.0\.1:(\d+)/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out)?.[1]);
      assert.ok(port > 0, out + errOut);
      for (let i = 0; i < 2; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: `/hostname.html?${i}`, agent: false }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(b));
          }).on('error', reject);
        });
        assert.equal(body, `hello from web /hostname.html?${i}\n`);
      }
      // 1.27 speaks SPDY; 1.31+ tunnels SPDY through a WebSocket.
      const transport = v === '1.27' ? 'spdy' : 'websocket';
      assert.equal(ctx!.kubelet.upgrades[transport], before[transport] + 1);
    } finally {
      p.kill('SIGINT');
      await new Promise((r) => p.on('close', r));
    }
  });

  test(`kubectl ${v} attach -i talks to the main process`, async (t) => {
    if (skip) return t.skip(skip);
    const p = spawn(join(KUBECTL, `kubectl.${v}`), ['attach', '-i', 'two', '-c', 'a'], { env: ctx!.env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', () => {});
    try {
      await new Promise((r) => setTimeout(r, 1500));
      p.stdin.write(`hello ${v}\n`);
      for (let i = 0; i < 100 && !out.includes(`got hello ${v}`); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(out.includes(`got hello ${v}\n`), out);
    } finally {
      p.kill('SIGINT');
      await new Promise((r) => p.on('close', r));
    }
  });
}

test('exec into a pod whose node has no reachable kubelet answers like upstream', async (t) => {
  if (skip) return t.skip(skip);
  const client = new InProcessClient(ctx!.server.api);
  await call(client, 'POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone', annotations: { [KUBELET_ENDPOINT_ANNOTATION]: '127.0.0.1:1' } }, status: {} } });
  await call(client, 'POST', '/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan' }, spec: { nodeName: 'gone', containers: [{ name: 'c', image: 'busybox' }] } } });
  await setPodStatus('orphan', [running('c')]);
  const r = await run('1.33', ['exec', 'orphan', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /error dialing backend: dial tcp 127\.0\.0\.1:1: connect: connection refused/);
  const l = await run('1.33', ['logs', 'orphan']);
  assert.match(l.stderr, /Error from server: Get "https:\/\/127\.0\.0\.1:1\/containerLogs\/default\/orphan\/c": dial tcp 127\.0\.0\.1:1: connect: connection refused/);
});

test('the kubelet server only lets the API server in', async (t) => {
  if (skip) return t.skip(skip);
  const https = await import('node:https');
  const get = (opts: Record<string, unknown>) =>
    new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: ctx!.kubelet.port, path: '/containerLogs/default/web/web', rejectUnauthorized: false, agent: false, ...opts }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
  assert.equal(await get({}), 401);
  const { issueClientCert } = await import('../../src/apiserver/pki.js');
  const someone = await issueClientCert(ctx!.server.pki, 'jane', ['developers']);
  assert.equal(await get({ cert: someone.cert, key: someone.key }), 403);
  const apiserver = await issueClientCert(ctx!.server.pki, 'kube-apiserver-kubelet-client', ['system:masters']);
  assert.equal(await get({ cert: apiserver.cert, key: apiserver.key }), 200);
});
