// stdin to real containers through kubectl, on `kts server --container-runtime cri`: the
// kubelet reaches containerd's streaming server over SPDY, so the end of stdin reaches the
// process. `kubectl cp` into a pod (files and a directory, and back), `exec -i` with EOF
// (cat, wc -c of 1 MiB) for kubectl 1.27 (SPDY to the API server), 1.32 and 1.33 (WebSocket),
// `attach -i` to a stdin container, and terminals driven through tmux: `exec -it` (prompt,
// echo, the pane's size and a resize reaching `stty size`), `run -i -t --rm` and `attach -it`.
// Needs root, containerd, runc, CNI plugins and busybox-static; the terminal cases need tmux.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, containerdPaths, createCRIRuntime } from '../../src/kubelet/runtime/cri/index.js';
import { findCNIBinDir } from '../../src/kubelet/runtime/cri/cni.js';
import { silentLogger } from '../../src/util/log.js';
import { kubectlPath, skipReason as kubectlMissing, startCluster, type Cluster } from '../e2e/harness.js';
import { PAUSE, imagesUnavailable, importTestImages } from './images.js';
import { cleanupCRI } from './cleanup.js';

const V = '1.32';
// our own bridge and pod range, so other kts instances on this machine do not interfere
const BRIDGE = 'ktsstrm0';
const CLUSTER_CIDR = '10.248.0.0/16';
const POD_CIDR = '10.248.0.0/24';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI)';
  if (!containerdAvailable()) return 'containerd is not installed (Debian package containerd)';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc is not installed (Debian package runc)';
  }
  if (!findCNIBinDir()) return 'no CNI plugins (Debian package containernetworking-plugins)';
  const img = imagesUnavailable();
  if (img) return img;
  try {
    execFileSync('ip', ['link', 'show', BRIDGE], { stdio: 'ignore' });
    if (execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim()) return `the bridge ${BRIDGE} is in use (another run of this test?)`;
  } catch {
    /* free */
  }
  return kubectlMissing();
}

function tmuxMissing(): string | undefined {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'tmux is not installed (Debian package tmux): the terminal cases drive kubectl through it';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000, describe?: () => Promise<string> | string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${describe ? `\n${await describe()}` : ''}`);
    await sleep(200);
  }
}

/** Everything this file's kts left on the machine goes (test/containers/cleanup.ts). */
const cleanup = (root: string) => cleanupCRI(root, BRIDGE, POD_CIDR);

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** kubectl in a terminal: a tmux server of our own (its own socket), one 100x30 session. */
class Terminal {
  private constructor(
    private readonly sock: string,
    readonly name: string,
  ) {}

  static start(dir: string, name: string, env: Record<string, string>, argv: string[]): Terminal {
    const t = new Terminal(path.join(dir, `tmux-${name}.sock`), name);
    const vars = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
    // after kubectl ends the pane shows its exit code (and stays, so it can be read)
    const cmd = `env ${vars} ${argv.map(shq).join(' ')}; echo "kubectl exited: $?"; sleep 600`;
    t.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd]);
    return t;
  }

  tmux(args: string[]): string {
    return execFileSync('tmux', ['-S', this.sock, ...args], { encoding: 'utf8' });
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name]);
  }

  /** Types `text` (literally) and presses Enter. */
  type(text: string): void {
    if (text) this.tmux(['send-keys', '-t', this.name, '-l', text]);
    this.tmux(['send-keys', '-t', this.name, 'Enter']);
  }

  /** "rows cols" of the pane, as `stty size` prints them. */
  size(): string {
    return this.tmux(['display-message', '-p', '-t', this.name, '#{pane_height} #{pane_width}']).trim();
  }

  resize(cols: number, rows: number): void {
    this.tmux(['resize-window', '-t', this.name, '-x', String(cols), '-y', String(rows)]);
  }

  waitFor(re: RegExp, what: string, ms = 30_000): Promise<RegExpMatchArray> {
    return until(what, () => this.screen().match(re) ?? undefined, ms, () => `--- screen:\n${this.screen()}`);
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      /* already gone */
    }
  }
}

test('stdin, EOF and terminals to real containers through kubectl', { timeout: 400_000 }, async (t) => {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-streaming-cri-'));
  let c: Cluster | undefined;
  const terminals: Terminal[] = [];
  try {
    {
      const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: BRIDGE, podCIDR: POD_CIDR });
      await importTestImages(containerdPaths(root).socket, path.join(root, 'images'));
      await rt.close();
    }
    process.env['KTS_CNI_BRIDGE'] = BRIDGE; // read by the cri runtime in the server child
    c = await startCluster({ serverArgs: ['--container-runtime', 'cri', '--kubelet-port', '0', '--pause-image', PAUSE, '--kubelet-root-dir', root, '--cluster-cidr', CLUSTER_CIDR] });
    const cl = c;
    const k = (args: string[], opts: { input?: string; timeoutMs?: number; v?: string } = {}) => cl.ok(opts.v ?? V, args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
    const jsonpath = (what: string, jp: string) => cl.kubectl(V, ['get', ...what.split(' '), '-o', `jsonpath=${jp}`]).then((r) => r.stdout);
    const describe = (pod: string) => async () => (await cl.kubectl(V, ['describe', 'pod', pod])).stdout + '\n--- server log tail\n' + cl.serverLog().slice(-3000);
    const running = (pod: string, ms = 40_000) =>
      until(`${pod} Running`, async () => (await jsonpath(`pod ${pod}`, '{.status.phase}')) === 'Running' || undefined, ms, describe(pod));
    const terminal = (name: string, argv: string[]) => {
      const term = Terminal.start(cl.tmp, name, { HOME: path.join(cl.tmp, 'home-tmux'), TERM: 'xterm' }, [kubectlPath(V), '--kubeconfig', cl.kubeconfig, ...argv]);
      terminals.push(term);
      return term;
    };

    await until('the node Ready', async () => /\bReady\b/.test((await cl.kubectl(V, ['get', 'nodes'])).stdout) || undefined, 60_000, () => cl.serverLog().slice(-3000));
    await k(['run', 'bb', '--image=busybox:1.28', '--', 'sleep', '3600']);
    await running('bb');

    await t.test('kubectl cp a file and a directory into the pod and back, byte for byte', async () => {
      const src = path.join(cl.tmp, 'src');
      fs.mkdirSync(path.join(src, 'dir', 'sub'), { recursive: true });
      const blob = crypto.randomBytes(300 * 1024);
      fs.writeFileSync(path.join(src, 'blob.bin'), blob);
      fs.writeFileSync(path.join(src, 'dir', 'a.txt'), 'alpha\n');
      fs.writeFileSync(path.join(src, 'dir', 'sub', 'b.bin'), crypto.randomBytes(70_000));
      // 1.27 speaks SPDY to the API server, 1.32 and 1.33 WebSocket (v5: with the end of stdin)
      for (const v of ['1.27', '1.32', '1.33']) {
        const tag = v.replace('.', '');
        await k(['cp', path.join(src, 'blob.bin'), `bb:/tmp/blob-${tag}.bin`], { v });
        assert.equal(await k(['exec', 'bb', '--', 'sh', '-c', `wc -c < /tmp/blob-${tag}.bin`]), `${blob.length}\n`, `kubectl ${v}: the whole file arrived`);
        const back = path.join(cl.tmp, `back-${tag}.bin`);
        await k(['cp', `bb:/tmp/blob-${tag}.bin`, back], { v });
        assert.ok(fs.readFileSync(back).equals(blob), `kubectl ${v}: the file came back unchanged`);
        await k(['cp', path.join(src, 'dir'), `bb:/tmp/dir-${tag}`], { v });
        const dirBack = path.join(cl.tmp, `dirback-${tag}`);
        await k(['cp', `bb:/tmp/dir-${tag}`, dirBack], { v });
        for (const f of ['a.txt', 'sub/b.bin']) {
          assert.ok(fs.readFileSync(path.join(dirBack, f)).equals(fs.readFileSync(path.join(src, 'dir', f))), `kubectl ${v}: dir/${f} came back unchanged`);
        }
      }
    });

    await t.test('exec -i: stdin reaches the process and its end too', async () => {
      const mib = 'x'.repeat(1 << 20);
      for (const v of ['1.27', '1.32', '1.33']) {
        assert.equal(await k(['exec', '-i', 'bb', '--', 'cat'], { v, input: 'hello\nworld\n' }), 'hello\nworld\n', `kubectl ${v}`);
        assert.equal(await k(['exec', '-i', 'bb', '--', 'wc', '-c'], { v, input: mib }), `${1 << 20}\n`, `kubectl ${v}`);
      }
      // the exit code still comes back after stdin ended
      const r = await cl.kubectl(V, ['exec', '-i', 'bb', '--', 'sh', '-c', 'cat >/dev/null; exit 7'], { input: 'ignored\n' });
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /command terminated with exit code 7/);
      // an exec that cannot start: containerd's own error, passed on as upstream's kubelet does
      const bad = await cl.kubectl(V, ['exec', 'bb', '--', '/no/such/binary']);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, /^error: Internal error occurred: error executing command in container: .*no such file or directory/m);
    });

    await t.test('attach -i to a container started with stdin', async () => {
      const y = await cl.file(
        'reader.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: r
    image: busybox:1.28
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'while read l; do echo got:$l; done; echo bye']
`,
      );
      await k(['apply', '-f', y]);
      await running('reader');
      const out = await k(['attach', '-i', 'reader'], { input: 'one\ntwo\n' });
      assert.match(out, /got:one\ngot:two\nbye\n$/);
      await until('reader Succeeded', async () => (await jsonpath('pod reader', '{.status.phase}')) === 'Succeeded' || undefined, 30_000, describe('reader'));
    });

    await t.test('exec -it in a terminal: prompt, echo, the terminal size and its changes', async (tt) => {
      const missing = tmuxMissing();
      if (missing) {
        tt.skip(missing);
        return;
      }
      const term = terminal('exec', ['exec', '-it', 'bb', '--', 'sh']);
      await term.waitFor(/^\/ #/m, 'the shell prompt');
      term.type('echo v:$((6*7)); echo size:$(stty size)');
      // the typed line is echoed by the terminal; the results follow it
      await term.waitFor(/echo v:\$\(\(6\*7\)\)/, 'the typed command echoed');
      await term.waitFor(/^v:42\s*$/m, 'the arithmetic result');
      const size = (await term.waitFor(/^size:(\d+ \d+)\s*$/m, 'stty size'))[1];
      assert.equal(size, term.size(), 'stty size in the container is the pane size');
      // a resize of the terminal reaches the container (kubectl sends it on SIGWINCH)
      term.resize(120, 35);
      const want = term.size();
      assert.notEqual(want, size);
      await until('the new size inside the container', () => {
        term.type('echo resized:$(stty size)');
        return sleep(500).then(() => new RegExp(`^resized:${want}\\s*$`, 'm').test(term.screen()) || undefined);
      }, 20_000, () => term.screen());
      term.type('exit');
      await term.waitFor(/^kubectl exited: 0\s*$/m, 'kubectl to exit');
    });

    await t.test('run -i -t --rm attaches a terminal to the new pod, then deletes it', async (tt) => {
      const missing = tmuxMissing();
      if (missing) {
        tt.skip(missing);
        return;
      }
      const term = terminal('run', ['run', 'tt', '--image=busybox:1.28', '--restart=Never', '-i', '-t', '--rm', '--', 'sh']);
      await term.waitFor(/If you don't see a command prompt, try pressing enter\./, 'the attach hint', 60_000);
      term.type('');
      await term.waitFor(/^\/ #/m, 'the shell prompt');
      term.type('echo v:$((6*7)); echo size:$(stty size)');
      await term.waitFor(/^v:42\s*$/m, 'the arithmetic result');
      assert.equal((await term.waitFor(/^size:(\d+ \d+)\s*$/m, 'stty size'))[1], term.size());
      term.type('exit');
      await term.waitFor(/^pod "tt" deleted/m, 'the pod deleted', 60_000);
      await term.waitFor(/^kubectl exited: 0\s*$/m, 'kubectl to exit');
    });

    await t.test('attach -it to a container started with stdin and tty', async (tt) => {
      const missing = tmuxMissing();
      if (missing) {
        tt.skip(missing);
        return;
      }
      const y = await cl.file(
        'shell.yaml',
        `apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  restartPolicy: Never
  containers:
  - name: sh
    image: busybox:1.28
    stdin: true
    tty: true
    command: [sh]
`,
      );
      await k(['apply', '-f', y]);
      await running('shell');
      const term = terminal('attach', ['attach', '-it', 'shell']);
      await term.waitFor(/If you don't see a command prompt, try pressing enter\./, 'the attach hint');
      term.type('');
      await term.waitFor(/^\/ #/m, 'the shell prompt');
      term.type('echo v:$((6*7)); echo size:$(stty size)');
      await term.waitFor(/^v:42\s*$/m, 'the arithmetic result');
      assert.equal((await term.waitFor(/^size:(\d+ \d+)\s*$/m, 'stty size'))[1], term.size());
      term.type('exit');
      await term.waitFor(/^kubectl exited: 0\s*$/m, 'kubectl to exit');
      await until('shell Succeeded', async () => (await jsonpath('pod shell', '{.status.phase}')) === 'Succeeded' || undefined, 30_000, describe('shell'));
    });

    await t.test('deleting the pods removes their containers', async () => {
      await k(['delete', 'pod', '--all', '--grace-period=1'], { timeoutMs: 60_000 });
      await until('no pods', async () => (await cl.kubectl(V, ['get', 'pods', '-o', 'name'])).stdout.trim() === '' || undefined, 30_000);
    });
  } finally {
    for (const term of terminals) term.kill();
    await c?.stop().catch(() => {});
    for (const p of await cleanup(root)) t.diagnostic(`cleanup: ${p}`);
  }
});
