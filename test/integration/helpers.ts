// An in-process kts server on a temp data dir, and a small HTTPS client that authenticates
// with the admin certificate: the same path kubectl takes, minus kubectl.
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerConfig } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/log.js';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  req(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Resp>;
  watch(path: string, headers?: Record<string, string>): WatchStream;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface WatchStream {
  /** Resolves with the next `n` events (or rejects after timeoutMs). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  next(n?: number, timeoutMs?: number): Promise<any[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function startTestServer(opts: Partial<ServerConfig> & { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'kts-it-'));
  const server = await startServer({
    dataDir,
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    tlsSANs: [],
    serviceCIDR: '10.96.0.0/12',
    clusterCIDR: '10.244.0.0/16',
    serviceNodePortRange: '30000-32767',
    logFormat: 'text',
    compactIntervalMs: 0,
    logger: silentLogger,
    ...opts,
  });
  const agent = new https.Agent({
    ca: server.pki.caCert,
    cert: server.pki.adminCert,
    key: server.pki.adminKey,
    keepAlive: true,
    maxSockets: 64,
  });
  const base = { host: '127.0.0.1', port: server.port, agent };

  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Resp> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const r = https.request(
        {
          ...base,
          method,
          path,
          headers: {
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
          });
        },
      );
      r.on('error', reject);
      if (payload !== undefined) r.write(payload);
      r.end();
    });

  const watch = (path: string, headers: Record<string, string> = {}): WatchStream => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const events: any[] = [];
    let waiter: (() => void) | undefined;
    let buf = '';
    let endResolve!: () => void;
    const ended = new Promise<void>((r) => (endResolve = r));
    const r = https.request({ ...base, agent: new https.Agent({ ca: server.pki.caCert, cert: server.pki.adminCert, key: server.pki.adminKey }), method: 'GET', path, headers: { accept: 'application/json', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
        waiter?.();
      });
      res.on('end', () => {
        endResolve();
        waiter?.();
      });
    });
    r.on('error', () => endResolve());
    r.end();
    let ended_ = false;
    void ended.then(() => (ended_ = true));
    return {
      ended,
      next: (n = 1, timeoutMs = 5000) =>
        new Promise((resolve, reject) => {
          const deadline = setTimeout(() => {
            waiter = undefined;
            reject(new Error(`timed out waiting for ${n} watch events; have ${events.length}: ${JSON.stringify(events.map((e) => e.type))}`));
          }, timeoutMs);
          const check = () => {
            if (events.length >= n) {
              clearTimeout(deadline);
              waiter = undefined;
              resolve(events.splice(0, n));
            } else if (ended_) {
              clearTimeout(deadline);
              waiter = undefined;
              resolve(events.splice(0, events.length));
            }
          };
          waiter = check;
          check();
        }),
      close: () => r.destroy(),
    };
  };

  return {
    server,
    dataDir,
    req,
    watch,
    async stop(o = {}) {
      agent.destroy();
      await server.stop();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function configMap(name: string, data: Record<string, string> = {}, labels?: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}
