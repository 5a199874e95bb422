// The cri runtime against a real containerd that kts starts and supervises: offline images,
// a pod sandbox on the CNI bridge, a busybox container logging in CRI format, ExecSync, an
// exec stream, port-forward to an httpd image, and re-adoption by a new runtime object.
// Needs root, containerd, runc, CNI plugins and busybox-static (CI installs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, createCRIRuntime, containerdPaths } from '../../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../../src/kubelet/runtime/cri/cni.js';
import { ImagePullError } from '../../src/kubelet/runtime/errors.js';
import type { ContainerConfig, ContainerRuntime, PodSandboxConfig } from '../../src/kubelet/runtime/types.js';
import { silentLogger } from '../../src/util/log.js';
import { BUSYBOX, MYAPP, imagesUnavailable, importTestImages } from './images.js';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI)';
  if (!containerdAvailable()) return 'containerd is not installed (Debian package containerd)';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc is not installed (Debian package runc)';
  }
  if (!findCNIBinDir()) return 'no CNI plugins (Debian package containernetworking-plugins)';
  return imagesUnavailable();
}

const BRIDGE = 'ktscritest0';
const CIDR = '10.244.251.0/24';

function container(name: string, image: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, attempt: 0, image, command, args: [], env: [], mounts: [], logPath: `${name}/0.log`, stdin: false, stdinOnce: false, tty: false, labels: {}, annotations: {}, ...extra };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('cri runtime: supervised containerd, offline images, sandbox IP, logs, exec, port-forward, adoption', { timeout: 180_000 }, async (t) => {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cri-test-'));
  let rt: ContainerRuntime | undefined;
  const open = () => createCRIRuntime({ rootDir: root, podCIDR: CIDR, cniBridge: BRIDGE, log: silentLogger });
  try {
    rt = await open();
    assert.equal(rt.type, 'cri');
    assert.equal((await rt.version()).name, 'containerd');
    const socket = containerdPaths(root).socket;
    // the generated config follows DESIGN.md §4
    const cfg = fs.readFileSync(containerdPaths(root).config, 'utf8');
    assert.match(cfg, /restrict_oom_score_adj = true/);
    assert.match(cfg, /SystemdCgroup = false/);

    await importTestImages(socket, path.join(root, 'images'));
    const bb = await rt.imageStatus('busybox:1.28');
    assert.ok(bb, 'busybox:1.28 is present after import');
    assert.ok(bb.repoTags.includes(BUSYBOX));
    assert.equal(await rt.imageStatus('busybox:does-not-exist'), undefined);

    // a missing image: the kubelet maps this error to ErrImagePull
    await assert.rejects(rt.pullImage('127.0.0.1:1/nothing/here:v0'), (err: unknown) => {
      assert.ok(err instanceof ImagePullError);
      assert.match((err as Error).message, /^rpc error: code = \w+ desc = /);
      return true;
    });

    const sb: PodSandboxConfig = {
      uid: 'uid-cri-test-1',
      name: 'p1',
      namespace: 'default',
      attempt: 0,
      hostname: 'p1',
      logDirectory: path.join(root, 'pods', 'default_p1_uid-cri-test-1'),
      portMappings: [],
      hostNetwork: false,
      labels: { app: 'p1' },
      annotations: {},
    };
    const sid = await rt.runPodSandbox(sb);
    const st = await rt.podSandboxStatus(sid);
    assert.equal(st?.state, 'ready');
    assert.equal(st?.uid, 'uid-cri-test-1');
    assert.match(st!.ips[0] ?? '', /^10\.244\.251\.\d+$/, `pod IP in ${CIDR}`);
    const ip = st!.ips[0]!;

    const cid = await rt.createContainer(sid, container('main', 'busybox:1.28', ['sh', '-c', 'echo hello from $GREETING; echo oops >&2; exec sleep 3600'], { env: [{ name: 'GREETING', value: 'kts' }] }), sb);
    await rt.startContainer(cid);
    const logFile = path.join(sb.logDirectory, 'main', '0.log');
    const log = await waitFor('container log', () => {
      const s = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      return s.includes('oops') ? s : undefined;
    });
    // CRI log format: <RFC3339Nano> <stream> <F|P> <line>
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z stdout F hello from kts$/m);
    assert.match(log, /^\S+ stderr F oops$/m);

    const cs = await rt.containerStatus(cid);
    assert.equal(cs?.state, 'running');
    assert.equal(cs?.sandboxId, sid);
    assert.equal(cs?.name, 'main');
    assert.match(cs!.imageRef, /^sha256:[0-9a-f]{64}$/);
    assert.equal(cs?.logPath, logFile);

    assert.deepEqual(await rt.execSync(cid, ['cat', '/etc/hostname'], 10), { stdout: 'p1\n', stderr: '', exitCode: 0 });
    assert.equal((await rt.execSync(cid, ['sh', '-c', 'exit 7'], 10)).exitCode, 7);

    // interactive exec through containerd's streaming server
    const s = await rt.exec(cid, ['sh', '-c', 'echo out; echo err >&2; exit 3'], { stdin: false, stdout: true, stderr: true, tty: false });
    let out = '';
    let err = '';
    s.stdout!.on('data', (d) => (out += d));
    s.stderr!.on('data', (d) => (err += d));
    const res = await s.done;
    assert.equal(res.exitCode, 3);
    assert.equal(out, 'out\n');
    assert.equal(err, 'err\n');

    // exec with stdin and a terminal (kubectl exec -it … sh): input reaches the shell, resize works
    const tty = await rt.exec(cid, ['sh'], { stdin: true, stdout: true, stderr: true, tty: true });
    let ttyOut = '';
    tty.stdout!.on('data', (d) => (ttyOut += d));
    assert.equal(tty.stderr, undefined, 'a terminal merges stderr into stdout');
    tty.resize!(100, 40);
    tty.stdin!.write('stty size; exit 5\n');
    assert.equal((await tty.done).exitCode, 5);
    assert.match(ttyOut, /40 100/);

    // the myapp stand-in serves the pod's hostname; reach it through port-forward
    const web = await rt.createContainer(sid, container('web', MYAPP, []), sb);
    await rt.startContainer(web);
    const body = await waitFor('httpd through port-forward', async () => {
      try {
        const conn = await rt!.portForward(sid, 80);
        let data = '';
        conn.on('data', (d) => (data += d));
        conn.write('GET /hostname.html HTTP/1.0\r\nHost: x\r\n\r\n');
        await new Promise<void>((resolve) => {
          conn.on('end', resolve);
          conn.on('error', () => resolve());
          conn.on('close', () => resolve());
        });
        return /200 OK/.test(data) ? data : undefined;
      } catch {
        return undefined;
      }
    });
    assert.match(body, /\r\n\r\np1\n$/);

    // containerd dies: the supervisor restarts it and the same runtime object keeps working
    const pidFile = path.join(containerdPaths(root).dir, 'containerd.pid');
    const oldPid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(oldPid, 'SIGKILL');
    const restarted = await waitFor('containerd restart', async () => {
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      if (pid === oldPid) return undefined;
      return (await rt!.containerStatus(cid).catch(() => undefined))?.state;
    });
    assert.equal(restarted, 'running');

    // adoption: a new runtime object (and a new containerd) finds the running pod again
    await rt.close();
    rt = undefined;
    rt = await open();
    const sandboxes = await rt.listPodSandboxes();
    const again = sandboxes.find((x) => x.id === sid);
    assert.equal(again?.state, 'ready');
    assert.deepEqual(again?.ips, [ip]);
    assert.equal(again?.labels['io.kubernetes.pod.uid'], 'uid-cri-test-1');
    const containers = await rt.listContainers();
    const main = containers.find((c) => c.id === cid);
    assert.equal(main?.state, 'running', 'the container outlived containerd');
    assert.equal(main?.sandboxId, sid);
    assert.equal(main?.labels['io.kubernetes.container.name'], 'main');
    assert.equal((await rt.execSync(cid, ['echo', 'still here'], 10)).stdout, 'still here\n');

    // stop and remove
    await rt.stopContainer(cid, 2);
    const stopped = await rt.containerStatus(cid);
    assert.equal(stopped?.state, 'exited');
    assert.equal(stopped?.exitCode, 137, 'sleep ignores SIGTERM as PID 1, so SIGKILL after the timeout');
    assert.ok(stopped!.finishedAt >= stopped!.startedAt);
    await rt.stopContainer(web, 5);
    assert.equal((await rt.containerStatus(web))?.exitCode, 0, 'the httpd image exits 0 on SIGTERM');
    await rt.removeContainer(cid);
    await rt.removeContainer(web);
    assert.equal(await rt.containerStatus(cid), undefined);
    await rt.stopPodSandbox(sid);
    assert.equal((await rt.podSandboxStatus(sid))?.state, 'notready');
    await rt.removePodSandbox(sid);
    assert.equal(await rt.podSandboxStatus(sid), undefined);
    assert.deepEqual((await rt.listPodSandboxes()).filter((x) => x.id === sid), []);
  } finally {
    if (rt) {
      // leave nothing running: remove whatever is left, then stop containerd
      for (const c of await rt.listContainers().catch(() => [])) await rt.removeContainer(c.id).catch(() => {});
      for (const p of await rt.listPodSandboxes().catch(() => [])) {
        await rt.stopPodSandbox(p.id).catch(() => {});
        await rt.removePodSandbox(p.id).catch(() => {});
      }
      await rt.close();
    }
    try {
      execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
});
