// The HTTPS listener: HTTP/2 and HTTP/1.1 on one port (kubectl and client-go speak h2),
// client-certificate authentication, body limits, and the adapter from Node's request
// objects to ApiRequest/ApiResponse.
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import YAML from 'yaml';
import type { ApiServer } from './apiserver.js';
import type { UserInfo } from './admission/index.js';
import type { ApiRequest, ApiResponse } from './request.js';
import { ApiError, tooLarge } from './errors.js';

/** Upstream's limit on a request body (3 MiB). */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

export interface HttpsOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  /** CA that signs client certificates. */
  clientCA: string;
  /** Extra authenticators (bearer tokens …); return undefined when not applicable. */
  authenticators?: ((req: Http2OrHttp1Request) => Promise<UserInfo | undefined> | UserInfo | undefined)[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export type Http2OrHttp1Request = IncomingMessage | http2.Http2ServerRequest;
type Res = ServerResponse | http2.Http2ServerResponse;

const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export function userFromCertificate(socket: TLSSocket | undefined): UserInfo | undefined {
  if (!socket || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const cn = cert.subject.CN;
  if (!cn) return undefined;
  const o = cert.subject.O;
  const groups = Array.isArray(o) ? o : o ? [o] : [];
  return { username: Array.isArray(cn) ? cn[0]! : cn, groups: [...groups, 'system:authenticated'] };
}

export function createHttpsServer(api: ApiServer, opts: HttpsOptions): http2.Http2SecureServer {
  const server = http2.createSecureServer(
    {
      allowHTTP1: true,
      key: opts.key,
      cert: opts.cert,
      ca: opts.clientCA,
      requestCert: true,
      rejectUnauthorized: false,
      // Many watches share one HTTP/2 connection (client-go multiplexes informers).
      settings: { maxConcurrentStreams: 1000 },
    },
    (req, res) => {
      void serve(api, opts, req, res);
    },
  );
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});
  // HTTP/1.1 upgrades (WebSocket, SPDY): pods/exec, attach, portforward.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void serveUpgrade(api, opts, req, socket, head));
  return server;
}

async function serveUpgrade(api: ApiServer, opts: HttpsOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => {});
  try {
    const url = new URL(req.url ?? '/', 'https://kts');
    const user = await authenticate(opts, req);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    await api.handleUpgrade({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, user, raw: req }, socket, head);
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error)?.message ?? e));
    if (!socket.writable) return;
    const body = JSON.stringify(err.toStatus());
    socket.end(`HTTP/1.1 ${err.code} ${err.reason || 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
}

async function serve(api: ApiServer, opts: HttpsOptions, req: Http2OrHttp1Request, res: Res): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'https://kts');
    const user = await authenticate(opts, req);
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      body = await readBody(req, MAX_REQUEST_BYTES);
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith(':')) continue;
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    const apiReq: ApiRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body, user };
    const apiRes = await api.handle(apiReq);
    writeResponse(req, res, apiRes);
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error)?.message ?? e));
    if (!res.headersSent) writeResponse(req, res, { status: err.code, body: err.toStatus() });
    else res.end();
  }
}

/**
 * The certificate's user per connection: parsing the peer certificate costs more than a
 * small request, and every HTTP/2 stream on one session carries the same certificate.
 */
const certUsers = new WeakMap<object, UserInfo | null>();

function certUser(req: Http2OrHttp1Request): UserInfo | undefined {
  const conn: object = (req as http2.Http2ServerRequest).stream?.session ?? req.socket;
  let u = certUsers.get(conn);
  if (u === undefined) {
    u = userFromCertificate(req.socket as TLSSocket) ?? null;
    certUsers.set(conn, u);
  }
  return u ?? undefined;
}

async function authenticate(opts: HttpsOptions, req: Http2OrHttp1Request): Promise<UserInfo> {
  const fromCert = certUser(req);
  if (fromCert) return fromCert;
  for (const a of opts.authenticators ?? []) {
    const u = await a(req);
    if (u) return u;
  }
  if (req.headers['authorization']) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  return ANONYMOUS;
}

function readBody(req: Http2OrHttp1Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(tooLarge(limit));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => !failed && resolve(Buffer.concat(chunks)));
    req.on('error', (e) => !failed && reject(e));
  });
}

const HOP_BY_HOP = new Set(['transfer-encoding', 'connection', 'keep-alive']);

function writeResponse(req: Http2OrHttp1Request, res: Res, r: ApiResponse): void {
  const isH2 = req.httpVersionMajor === 2;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (isH2 && HOP_BY_HOP.has(k.toLowerCase())) continue;
    headers[k] = v;
  }
  if (r.stream) {
    headers['Content-Type'] ??= 'application/json';
    headers['Cache-Control'] = 'no-cache, private';
    (res as ServerResponse).writeHead(r.status, headers);
    // Send the headers now: clients wait for them before reading events.
    (res as ServerResponse).flushHeaders?.();
    const sink = {
      write: (chunk: string | Buffer) => (res as ServerResponse).write(chunk),
      end: () => res.end(),
      onDrain: (fn: () => void) => void res.once('drain', fn),
      onClose: (fn: () => void) => {
        res.on('close', fn);
        req.on('close', fn);
      },
    };
    r.stream(sink);
    return;
  }
  let payload: string | Buffer = '';
  let contentType = r.contentType;
  if (r.body !== undefined && r.body !== null) {
    if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) {
      payload = r.body;
      contentType ??= 'application/json';
    } else if (contentType === 'application/yaml') {
      payload = YAML.stringify(r.body);
    } else {
      payload = JSON.stringify(r.body);
      contentType ??= 'application/json';
    }
  }
  if (contentType) headers['Content-Type'] = contentType;
  if (r.status !== 304) headers['Content-Length'] = String(Buffer.byteLength(payload));
  (res as ServerResponse).writeHead(r.status, headers);
  if (req.method === 'HEAD' || r.status === 304) res.end();
  else res.end(payload);
}
