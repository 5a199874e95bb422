// A real image registry for the container tests, without the internet: Debian's
// `docker-registry` (distribution 2.x) on a free loopback port with a temp storage dir, the
// offline test images pushed into it through the registry HTTP API v2, and an optional
// reverse proxy that demands HTTP Basic auth (for imagePullSecrets; the registry's own
// htpasswd auth wants bcrypt hashes, which we cannot make offline).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { buildImages, OCI_MANIFEST, type ImageSpec } from '../../src/kubelet/runtime/cri/oci.js';

export const REGISTRY_BINARY = 'docker-registry';

/** Why a registry cannot be started here, or undefined when it can. */
export function registryUnavailable(): string | undefined {
  try {
    execFileSync(REGISTRY_BINARY, ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'no docker-registry binary (Debian package docker-registry)';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

export interface Registry {
  /** "127.0.0.1:<port>": the registry host as image names and registries.yaml spell it. */
  host: string;
  /** "http://127.0.0.1:<port>" */
  url: string;
  /** The registry's own output (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts `docker-registry serve` on a free loopback port, storing under `dir`. */
export async function startRegistry(dir: string): Promise<Registry> {
  fs.mkdirSync(path.join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  // No auth, no health checks, loopback only; Debian's /etc/docker/registry is not used.
  fs.writeFileSync(
    config,
    `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(path.join(dir, 'storage'))}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`,
  );
  const child = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const reg: Registry = { host: `127.0.0.1:${port}`, url, log: () => out, stop: () => stopChild(child) };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200) return reg;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await reg.stop();
      throw new Error(`docker-registry not ready on ${url}:\n${out}`);
    }
    await sleep(50);
  }
}

/** "docker.io/library/busybox:1.28" → { repo: "library/busybox", tag: "1.28" } (the registry host dropped). */
export function repoAndTag(name: string): { repo: string; tag: string } {
  const parts = name.split('/');
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) parts.shift();
  const rest = parts.join('/');
  const i = rest.lastIndexOf(':');
  if (i < 0) return { repo: rest.includes('/') ? rest : `library/${rest}`, tag: 'latest' };
  const repo = rest.slice(0, i);
  return { repo: repo.includes('/') ? repo : `library/${repo}`, tag: rest.slice(i + 1) };
}

async function expectStatus(r: Response, want: number[], what: string): Promise<void> {
  if (!want.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
}

/**
 * Pushes `images` (built offline on the busybox base) to the registry at `url` through the
 * HTTP API v2: for each blob a HEAD (skip if present), POST to start an upload, PUT with
 * ?digest= (monolithic upload); then the manifest PUT under its tag with the OCI media type.
 * The image names' registry host is ignored (the same image can be pushed to any registry).
 */
export async function pushImages(url: string, images: ImageSpec[], headers: Record<string, string> = {}): Promise<void> {
  for (const img of buildImages(images)) {
    const { repo, tag } = repoAndTag(img.name);
    for (const b of img.blobs) {
      const head = await fetch(`${url}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD', headers });
      if (head.status === 200) continue;
      const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
      await expectStatus(start, [202], `start upload to ${repo}`);
      const loc = new URL(start.headers.get('location') ?? '', `${url}/`);
      loc.searchParams.set('digest', b.digest);
      const put = await fetch(loc, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
        body: b.data,
      });
      await expectStatus(put, [201], `upload ${b.digest} to ${repo}`);
    }
    const m = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': OCI_MANIFEST },
      body: img.manifest.data,
    });
    await expectStatus(m, [201], `manifest ${repo}:${tag}`);
    const digest = m.headers.get('docker-content-digest');
    if (digest && digest !== img.manifest.digest) throw new Error(`manifest ${repo}:${tag}: registry says ${digest}, we pushed ${img.manifest.digest}`);
  }
}

export interface AuthProxy {
  host: string;
  url: string;
  /** Requests let through with the right credentials, and requests refused with 401. */
  counts: { authorized: number; rejected: number };
  stop(): Promise<void>;
}

/** A reverse proxy to the registry at `target` that answers 401 unless HTTP Basic user:password is sent. */
export async function startAuthProxy(target: string, user: string, password: string): Promise<AuthProxy> {
  const want = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const to = new URL(target);
  const counts = { authorized: 0, rejected: 0 };
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== want) {
      counts.rejected++;
      const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] });
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="kts-test-registry"',
        'docker-distribution-api-version': 'registry/2.0',
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      req.resume();
      return;
    }
    counts.authorized++;
    const headers = { ...req.headers, host: to.host };
    delete headers.authorization;
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    counts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
