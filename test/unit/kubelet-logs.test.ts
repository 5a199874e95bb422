// Container logs as `kubectl logs` shows them (src/kubelet/logs.ts) and their rotation
// (src/kubelet/logrotation.ts): CRI records read in blocks, tail from the end, partial lines
// joined, since/limitBytes/timestamps, follow with backpressure and across a rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { readLogs, tailLogText, type ReadLogOptions } from '../../src/kubelet/logs.js';
import { ContainerLogManager, rotationTimestamp } from '../../src/kubelet/logrotation.js';
import type { ContainerStatus } from '../../src/kubelet/runtime/types.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'kts-logs-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const ts = (s: number, frac = '') => `2024-01-01T00:00:${String(s).padStart(2, '0')}${frac}Z`;
/** How upstream prints a timestamp with --timestamps: RFC3339NanoFixed, nine digits always. */
const fixed = (s: number, frac = '') => ts(s, (frac || '.').padEnd(10, '0'));
const rec = (time: string, stream: 'stdout' | 'stderr', tag: 'F' | 'P', content: string) => `${time} ${stream} ${tag} ${content}\n`;

class Sink extends Writable {
  chunks: Buffer[] = [];
  constructor(opts?: ConstructorParameters<typeof Writable>[0]) {
    super(opts);
  }
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(c);
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

async function collect(path: string, o: ReadLogOptions = {}): Promise<string> {
  const s = new Sink();
  await readLogs(path, s, o);
  return s.text;
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
};

test('tail reads backwards across block boundaries, counting P…F as one line', async (t) => {
  const f = join(tmp(t), '0.log');
  // Lines of varied length; every third is split into partial records; a record still being written at the end.
  const lines: string[] = [];
  let body = '';
  for (let i = 0; i < 60; i++) {
    const text = `line ${i} ${'x'.repeat((i * 7) % 50)}`;
    lines.push(text);
    if (i % 3 === 0) body += rec(ts(i % 60), 'stdout', 'P', text.slice(0, 4)) + rec(ts(i % 60), 'stdout', 'P', text.slice(4, 6)) + rec(ts(i % 60), 'stdout', 'F', text.slice(6));
    else body += rec(ts(i % 60), i % 2 ? 'stderr' : 'stdout', 'F', text);
  }
  writeFileSync(f, body + '2024-01-01T00:00:59Z stdout F not yet comp');
  for (const chunkSize of [64, 100, 4096, undefined]) {
    for (const n of [0, 1, 2, 3, 10, 59, 60, 61, 1000]) {
      const want = n === 0 ? '' : lines.slice(-n).map((l) => l + '\n').join('');
      assert.equal(await collect(f, { tailLines: n, chunkSize }), want, `tail ${n}, blocks of ${chunkSize}`);
    }
    assert.equal(await collect(f, { chunkSize }), lines.map((l) => l + '\n').join(''), `all, blocks of ${chunkSize}`);
  }
});

test('partial records are joined; timestamps prefix a line once; off by default', async (t) => {
  const f = join(tmp(t), '0.log');
  writeFileSync(f, rec(ts(1, '.5'), 'stdout', 'P', 'hel') + rec(ts(1, '.6'), 'stdout', 'P', 'lo ') + rec(ts(1, '.7'), 'stdout', 'F', 'world') + rec(ts(2), 'stdout', 'F', '') + rec(ts(3), 'stdout', 'F', 'end'));
  assert.equal(await collect(f), 'hello world\n\nend\n');
  assert.equal(await collect(f, { timestamps: true }), `${fixed(1, '.5')} hello world\n${fixed(2)} \n${fixed(3)} end\n`);
  assert.equal(await collect(f, { timestamps: true, tailLines: 1 }), `${fixed(3)} end\n`);
  assert.equal(fixed(1, '.5'), '2024-01-01T00:00:01.500000000Z');
});

test('stdout and stderr both returned, in file order; malformed and untagged records', async (t) => {
  const f = join(tmp(t), '0.log');
  writeFileSync(f, [rec(ts(1), 'stdout', 'F', 'out 1'), rec(ts(2), 'stderr', 'F', 'err 1'), 'garbage line\n', `${ts(3)} stdin F nope\n`, `${ts(4)} stdout old format\n`, rec(ts(5), 'stdout', 'F', 'out 2')].join(''));
  assert.equal(await collect(f), 'out 1\nerr 1\nold format\nout 2\n');
});

test('since and sinceTime: records before the time are skipped, sub-second timestamps included', async (t) => {
  const f = join(tmp(t), '0.log');
  writeFileSync(f, rec(ts(1, '.999999999'), 'stdout', 'F', 'a') + rec(ts(2), 'stdout', 'F', 'b') + rec(ts(2, '.000000001'), 'stderr', 'F', 'c') + rec('2024-01-01T01:00:03+01:00', 'stdout', 'F', 'd'));
  assert.equal(await collect(f, { since: new Date(ts(2)) }), 'b\nc\nd\n');
  assert.equal(await collect(f, { since: new Date(ts(3)) }), 'd\n');
  assert.equal(await collect(f, { since: new Date(ts(4)) }), '');
  // tail first, then since (upstream's order)
  assert.equal(await collect(f, { since: new Date(ts(2)), tailLines: 2, timestamps: true }), `${fixed(2, '.000000001')} c\n2024-01-01T01:00:03.000000000+01:00 d\n`);
});

test('limitBytes cuts the output at that many bytes', async (t) => {
  const f = join(tmp(t), '0.log');
  let body = '';
  for (let i = 0; i < 5000; i++) body += rec(ts(i % 60), 'stdout', 'F', `line ${i}`);
  writeFileSync(f, body);
  const all = await collect(f);
  for (const n of [1, 5, 100, 4096, 30_000]) assert.equal(await collect(f, { limitBytes: n, chunkSize: 1024 }), all.slice(0, n), `limit ${n}`);
  assert.equal(await collect(f, { limitBytes: 40, timestamps: true }), `${fixed(0)} line 0\n${fixed(1)} line 1\n`.slice(0, 40));
});

test('a record longer than the read buffer is read whole', async (t) => {
  const f = join(tmp(t), '0.log');
  const big = 'y'.repeat(10_000);
  writeFileSync(f, rec(ts(1), 'stdout', 'F', 'a') + rec(ts(1), 'stdout', 'F', big) + rec(ts(1), 'stdout', 'F', 'b'));
  assert.equal(await collect(f, { chunkSize: 64 }), `a\n${big}\nb\n`);
  assert.equal(await collect(f, { chunkSize: 64, tailLines: 2 }), `${big}\nb\n`);
});

test('a slow reader is fed as it drains (write() false → wait for drain)', async (t) => {
  const f = join(tmp(t), '0.log');
  let body = '';
  for (let i = 0; i < 5000; i++) body += rec(ts(1), 'stdout', 'F', `${i} ${'z'.repeat(40)}`);
  writeFileSync(f, body);
  let maxQueued = 0;
  const chunks: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1024,
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      setTimeout(cb, 2); // a client slower than the disk
    },
  });
  const origWrite = slow.write.bind(slow);
  slow.write = ((c: Buffer) => {
    const r = origWrite(c);
    maxQueued = Math.max(maxQueued, slow.writableLength);
    return r;
  }) as typeof slow.write;
  await readLogs(f, slow, { chunkSize: 8192 });
  const want = (await collect(f)).length;
  assert.equal(Buffer.concat(chunks).length, want);
  // Never more than one batch (≤ one read block) waiting in the sink.
  assert.ok(maxQueued <= 8192, `queued ${maxQueued}`);
});

test('follow: appended lines arrive, an incomplete record waits for its newline, ends when the container does', async (t) => {
  const f = join(tmp(t), '0.log');
  writeFileSync(f, rec(ts(1), 'stdout', 'F', 'first'));
  const s = new Sink();
  let running = true;
  const done = readLogs(f, s, { follow: true, stillRunning: () => running, pollMs: 50 });
  await until(() => s.text === 'first\n', 'first line');
  appendFileSync(f, rec(ts(2), 'stderr', 'F', 'second') + `${ts(3)} stdout F thi`);
  await until(() => s.text === 'first\nsecond\n', 'second line');
  appendFileSync(f, 'rd\n');
  await until(() => s.text === 'first\nsecond\nthird\n', 'the completed record');
  running = false;
  appendFileSync(f, rec(ts(4), 'stdout', 'F', 'last words'));
  await done;
  assert.equal(s.text, 'first\nsecond\nthird\nlast words\n');
});

test('follow: a missing file is waited for; abort ends the follow', async (t) => {
  const dir = tmp(t);
  const f = join(dir, '0.log');
  const s = new Sink();
  const ac = new AbortController();
  const done = readLogs(f, s, { follow: true, signal: ac.signal, pollMs: 50 });
  writeFileSync(f, rec(ts(1), 'stdout', 'F', 'hello'));
  await until(() => s.text === 'hello\n', 'the file once created');
  ac.abort();
  await done;
  await assert.rejects(readLogs(join(dir, 'none.log'), new Sink()), { code: 'ENOENT' });
});

test('follow across a rotation: the rest of the old file, then the new one', async (t) => {
  const f = join(tmp(t), '0.log');
  writeFileSync(f, rec(ts(1), 'stdout', 'F', 'old 1'));
  const s = new Sink();
  let running = true;
  const done = readLogs(f, s, { follow: true, stillRunning: () => running, pollMs: 50 });
  await until(() => s.text === 'old 1\n', 'old 1');
  // What the runtime wrote just before the rename, then the rename and the reopened file.
  appendFileSync(f, rec(ts(2), 'stdout', 'F', 'old 2'));
  renameSync(f, `${f}.20240101-000002`);
  appendFileSync(`${f}.20240101-000002`, rec(ts(2), 'stdout', 'F', 'old 3'));
  writeFileSync(f, rec(ts(3), 'stdout', 'F', 'new 1'));
  await until(() => s.text.includes('new 1'), 'the new file');
  appendFileSync(f, rec(ts(4), 'stdout', 'F', 'new 2'));
  await until(() => s.text.endsWith('new 2\n'), 'new 2');
  running = false;
  await done;
  assert.equal(s.text, 'old 1\nold 2\nold 3\nnew 1\nnew 2\n');
});

test('tailLogText: the end of the log for FallbackToLogsOnError', async (t) => {
  const dir = tmp(t);
  const f = join(dir, '0.log');
  let body = '';
  for (let i = 0; i < 200; i++) body += rec(ts(1), 'stdout', 'F', `l${i}`);
  writeFileSync(f, body);
  assert.equal(await tailLogText(f, 2), 'l198\nl199\n');
  assert.equal(await tailLogText(f, 80, 10), 'l198\nl199\n'.slice(-10));
  assert.equal(await tailLogText(join(dir, 'none')), '');
});

// ---- rotation

function fakeRuntime(dir: string, opts: { failReopen?: boolean } = {}) {
  const path = join(dir, 'c', '0.log');
  mkdirSync(join(dir, 'c'), { recursive: true });
  const reopened: string[] = [];
  const containers: Partial<ContainerStatus>[] = [
    { id: 'run', state: 'running', logPath: path },
    { id: 'gone', state: 'exited', logPath: join(dir, 'c', 'exited.log') },
  ];
  return {
    path,
    reopened,
    rt: {
      listContainers: async () => containers as ContainerStatus[],
      reopenContainerLog: async (id: string) => {
        reopened.push(id);
        if (opts.failReopen) throw new Error('reopen failed');
        // containerd: close the old file, create the path anew
        if (!existsSync(path)) writeFileSync(path, '');
      },
    },
  };
}

test('log rotation: at MaxSize the file is renamed and reopened; MaxFiles kept, older ones gzipped', async (t) => {
  const dir = tmp(t);
  const { rt, path, reopened } = fakeRuntime(dir);
  let now = new Date(2024, 0, 1, 10, 0, 0);
  const m = new ContainerLogManager(rt, { maxSize: 1000, maxFiles: 3 }, () => {}, () => now);
  writeFileSync(path, 'x'.repeat(999));
  writeFileSync(join(dir, 'c', 'exited.log'), 'x'.repeat(5000));
  await m.rotateLogs();
  assert.deepEqual(reopened, [], 'under MaxSize, and exited containers are not rotated');

  const contents: string[] = [];
  for (let i = 0; i < 4; i++) {
    const c = `round ${i} `.repeat(200);
    contents.push(c);
    writeFileSync(path, c);
    now = new Date(2024, 0, 1, 10, 0, i + 1);
    await m.rotateLogs();
  }
  assert.deepEqual(reopened, ['run', 'run', 'run', 'run']);
  assert.equal(readFileSync(path, 'utf8'), '', 'the live file is the reopened one');
  const files = readdirSync(join(dir, 'c')).filter((x) => x.startsWith('0.log')).sort();
  // MaxFiles 3: the live file, the newest rotated one as is, one older gzipped.
  assert.deepEqual(files, ['0.log', `0.log.${rotationTimestamp(new Date(2024, 0, 1, 10, 0, 3))}.gz`, `0.log.${rotationTimestamp(new Date(2024, 0, 1, 10, 0, 4))}`]);
  assert.equal(files[2], '0.log.20240101-100004');
  assert.equal(readFileSync(join(dir, 'c', files[2]!), 'utf8'), contents[3]);
  assert.equal(gunzipSync(readFileSync(join(dir, 'c', files[1]!))).toString(), contents[2]);
});

test('log rotation: a failed reopen renames the file back; a lost file is reopened; leftovers cleaned', async (t) => {
  const dir = tmp(t);
  const failing = fakeRuntime(dir, { failReopen: true });
  const warnings: string[] = [];
  const m = new ContainerLogManager(failing.rt, { maxSize: 10, maxFiles: 5 }, (msg) => warnings.push(msg), () => new Date(2024, 0, 1));
  writeFileSync(failing.path, 'y'.repeat(100));
  writeFileSync(`${failing.path}.20230101-000000.tmp`, 'half a gzip');
  await m.rotateLogs();
  assert.equal(readFileSync(failing.path, 'utf8'), 'y'.repeat(100));
  assert.deepEqual(readdirSync(join(dir, 'c')).sort(), ['0.log']);
  assert.deepEqual(warnings, ['failed to rotate log for container']);

  const ok = fakeRuntime(dir);
  rmSync(ok.path);
  await new ContainerLogManager(ok.rt, { maxSize: 10, maxFiles: 5 }).rotateLogs();
  assert.deepEqual(ok.reopened, ['run']);
  assert.ok(existsSync(ok.path));
  assert.throws(() => new ContainerLogManager(ok.rt, { maxSize: 10, maxFiles: 1 }), /MaxFiles/);
});
