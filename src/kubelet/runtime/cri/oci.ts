// OCI images built without a network: a root filesystem holding Debian's static busybox
// (/bin/busybox plus its applet symlinks) packed as an OCI image layout and imported into
// containerd with `ctr images import`. kts uses it for its own sandbox ("pause") image when
// none is present locally — containerd must never need the internet to start a pod — and the
// container tests build their busybox/httpd images with it (imported, or pushed to a local registry).
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  data?: Buffer;
  linkname?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name.replace(/^\/+/, '');
  if (e.type === 'dir' && !name.endsWith('/')) name += '/';
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2 > 155 ? 155 : name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: name too long: ${e.name}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime 0: reproducible layers, stable digests
  h.write('        ', 148, 'ascii');
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 'ascii');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A POSIX ustar archive of `entries` (uid/gid 0, mtime 0). */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length));
    if (data.length) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

export function busyboxPath(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      const st = fs.statSync(p);
      // Debian's busybox-static is a static binary; the dynamic `busybox` package would not run in an empty rootfs
      if (st.isFile() && isStatic(p)) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** True if the ELF file has no PT_INTERP program header (statically linked). */
function isStatic(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const h = Buffer.alloc(64);
    fs.readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false; // ELF64 only
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false;
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

let baseCache: Buffer | undefined;

/** The busybox root filesystem layer (uncompressed tar): /bin/busybox, applet links, /etc basics. */
export function busyboxRootfs(): Buffer {
  if (baseCache) return baseCache;
  const bb = busyboxPath();
  if (!bb) throw new Error('no static busybox found (Debian package busybox-static)');
  const bin = fs.readFileSync(bb);
  const entries: TarEntry[] = [];
  for (const d of ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'usr/local', 'usr/local/bin', 'etc', 'root', 'home', 'var', 'var/log', 'var/run', 'proc', 'sys', 'dev', 'run'])
    entries.push({ name: d, type: 'dir', mode: d === 'root' ? 0o700 : 0o755 });
  entries.push({ name: 'tmp', type: 'dir', mode: 0o1777 });
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data: bin });
  entries.push({ name: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n') });
  entries.push({ name: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n') });
  entries.push({ name: 'etc/shadow', type: 'file', mode: 0o600, data: Buffer.from('root:*:19000:0:99999:7:::\n') });
  entries.push({ name: 'etc/nsswitch.conf', type: 'file', data: Buffer.from('hosts: files dns\n') });
  // `busybox --list-full` prints every applet with its install path (bin/sh, usr/bin/wc …)
  const list = execFileSync(bb, ['--list-full']).toString();
  const seen = new Set(['bin/busybox']);
  for (const line of list.split('\n')) {
    const p = line.trim().replace(/^\/+/, '');
    if (!p || seen.has(p)) continue;
    seen.add(p);
    entries.push({ name: p, type: 'symlink', mode: 0o777, linkname: '/bin/busybox' });
  }
  baseCache = tar(entries);
  return baseCache;
}

export interface ImageSpec {
  /** Full name, e.g. "docker.io/library/busybox:1.28". */
  name: string;
  /** Extra files on top of the busybox root filesystem. */
  files?: TarEntry[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: number[];
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
}

export interface Blob {
  digest: string;
  size: number;
  data: Buffer;
}

function blob(data: Buffer): Blob {
  return { digest: `sha256:${sha256(data)}`, size: data.length, data };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** One built image: its manifest blob and every blob it refers to (config, layers). */
export interface BuiltImage {
  name: string;
  manifest: Blob;
  blobs: Blob[];
}

/** Builds each image on the busybox base layer (shared blobs are the same Buffer objects). */
export function buildImages(images: ImageSpec[]): BuiltImage[] {
  const baseTar = busyboxRootfs();
  const baseLayer = blob(zlib.gzipSync(baseTar, { level: 6 }));
  const baseDiff = `sha256:${sha256(baseTar)}`;
  const out: BuiltImage[] = [];
  for (const img of images) {
    const blobs = [baseLayer];
    const layers = [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: baseLayer.digest, size: baseLayer.size }];
    const diffIds = [baseDiff];
    if (img.files?.length) {
      const t = tar(img.files);
      const l = blob(zlib.gzipSync(t));
      blobs.push(l);
      layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size });
      diffIds.push(`sha256:${sha256(t)}`);
    }
    const config = {
      created: '1970-01-01T00:00:00Z',
      architecture: goArch(),
      os: 'linux',
      config: {
        Env: img.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(img.entrypoint ? { Entrypoint: img.entrypoint } : {}),
        ...(img.cmd ? { Cmd: img.cmd } : {}),
        WorkingDir: img.workingDir ?? '/',
        ...(img.exposedPorts?.length ? { ExposedPorts: Object.fromEntries(img.exposedPorts.map((p) => [`${p}/tcp`, {}])) } : {}),
        Labels: { 'io.kts.image.built-by': 'kts (offline, busybox-static)' },
      },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'kts' })),
    };
    const cfg = blob(Buffer.from(JSON.stringify(config)));
    blobs.push(cfg);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size },
      layers,
    };
    out.push({ name: img.name, manifest: blob(Buffer.from(JSON.stringify(manifest))), blobs });
  }
  return out;
}

/** An OCI image layout (as a tar archive) holding `images`, each on the busybox base layer. */
export function buildImageLayout(images: ImageSpec[]): Buffer {
  const blobs = new Map<string, Blob>();
  const manifests: unknown[] = [];
  for (const img of buildImages(images)) {
    for (const b of [...img.blobs, img.manifest]) blobs.set(b.digest, b);
    const tag = img.name.slice(img.name.lastIndexOf(':') + 1);
    manifests.push({
      mediaType: OCI_MANIFEST,
      digest: img.manifest.digest,
      size: img.manifest.size,
      annotations: { 'io.containerd.image.name': img.name, 'org.opencontainers.image.ref.name': tag },
      platform: { architecture: goArch(), os: 'linux' },
    });
  }
  const entries: TarEntry[] = [
    { name: 'oci-layout', type: 'file', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', type: 'file', data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })) },
    { name: 'blobs', type: 'dir' },
    { name: 'blobs/sha256', type: 'dir' },
  ];
  for (const b of blobs.values()) entries.push({ name: `blobs/sha256/${b.digest.slice(7)}`, type: 'file', data: b.data });
  return tar(entries);
}

/** Imports an OCI layout archive into containerd's k8s.io namespace (where CRI looks). */
export function ctrImport(socket: string, archive: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ctr images import ${archive}: ${String(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/**
 * The sandbox image kts builds when the configured one is not present: busybox `sh` that
 * sleeps until SIGTERM/SIGINT (PID 1 ignores signals it has no handler for; the trap is one).
 */
export function pauseImageSpec(name: string): ImageSpec {
  return {
    name,
    entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"],
  };
}

/** Builds the given images and imports them through `ctr` into the containerd at `socket`. */
export async function buildAndImport(socket: string, images: ImageSpec[], workDir: string): Promise<void> {
  fs.mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, `images-${process.pid}-${Date.now()}.tar`);
  fs.writeFileSync(file, buildImageLayout(images));
  try {
    await ctrImport(socket, file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
