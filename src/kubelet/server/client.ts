// How the API server reaches a node's kubelet (pods/log, exec, attach, portforward):
// the node's `kts.dev/kubelet-endpoint` annotation ("host:port", for loopback setups) or its
// InternalIP and status.daemonEndpoints.kubeletEndpoint.Port, over TLS with the API server's
// kube-apiserver-kubelet-client certificate (O=system:masters). Like upstream without
// --kubelet-certificate-authority, the kubelet's serving certificate is not verified.
//
// Logs are plain HTTPS GETs; exec/attach/port-forward upgrades are proxied byte for byte
// (the kubelet terminates WebSocket and SPDY itself).
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { KObject } from '../../api/types.js';
import { issueClientCert } from '../../apiserver/pki.js';
import { DEFAULT_KUBELET_PORT } from './server.js';

export const KUBELET_ENDPOINT_ANNOTATION = 'kts.dev/kubelet-endpoint';

export interface KubeletClientCert {
  cert: string;
  key: string;
}

const certs = new WeakMap<object, () => Promise<KubeletClientCert>>();

/**
 * Gives the API server `api` its kubelet client certificate, issued from the cluster CA on
 * first use (signing loads the X.509 library: that cost stays out of start-up).
 */
export function configureKubeletClient(api: object, pki: { caCert: string; caKey: string } | KubeletClientCert): void {
  let issued: Promise<KubeletClientCert> | undefined;
  if ('cert' in pki) certs.set(api, () => Promise.resolve(pki));
  else certs.set(api, () => (issued ??= issueClientCert(pki, 'kube-apiserver-kubelet-client', ['system:masters'])));
}

export function kubeletClientCert(api: object): Promise<KubeletClientCert | undefined> {
  return certs.get(api)?.() ?? Promise.resolve(undefined);
}

/** The kubelet's host and port from the Node object. */
export function kubeletEndpoint(node: KObject): { host: string; port: number } {
  const ann = node.metadata.annotations?.[KUBELET_ENDPOINT_ANNOTATION];
  if (ann) {
    const i = ann.lastIndexOf(':');
    return { host: ann.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(ann.slice(i + 1)) };
  }
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const addrs = status.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address ?? node.metadata.name!;
  return { host, port: status.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT };
}

/** Go's net.Dial error text, which upstream shows ("dial tcp 10.0.0.2:10250: connect: connection refused"). */
export function dialErrorText(host: string, port: number, e: Error & { code?: string }): string {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ENOTFOUND: `lookup ${host}: no such host`,
  };
  return `dial tcp ${addr}: ${why[e.code ?? ''] ?? e.message}`;
}

/** GET on the kubelet; resolves with the response (any status) or rejects with a dial error text. */
export async function kubeletGet(api: object, node: KObject, path: string, query: URLSearchParams, signal?: AbortSignal): Promise<IncomingMessage> {
  const { host, port } = kubeletEndpoint(node);
  const cert = await kubeletClientCert(api);
  const qs = query.toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port,
        path: path + (qs ? `?${qs}` : ''),
        method: 'GET',
        rejectUnauthorized: false,
        cert: cert?.cert,
        key: cert?.key,
        agent: false,
        signal,
      },
      resolve,
    );
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(new Error(`Get "https://${host}:${port}${path}${qs ? `?${qs}` : ''}": ${dialErrorText(host, port, e)}`)));
    req.end();
  });
}

/**
 * Proxies an upgrade request to the kubelet: dials it over TLS, replays the request line
 * and headers with `path`, then copies bytes both ways until either side closes. Rejects
 * with "error dialing backend: …" when the kubelet cannot be reached (nothing written yet).
 */
export async function proxyUpgrade(api: object, node: KObject, path: string, query: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { host, port } = kubeletEndpoint(node);
  const cert = await kubeletClientCert(api);
  const upstream = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ host, port, rejectUnauthorized: false, cert: cert?.cert, key: cert?.key, ALPNProtocols: ['http/1.1'], servername: isIPLike(host) ? undefined : host });
    const t = setTimeout(() => s.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })), 30_000);
    s.once('secureConnect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(new Error(`error dialing backend: ${dialErrorText(host, port, e)}`));
    });
  });
  const qs = query.toString();
  const lines = [`${req.method ?? 'GET'} ${path}${qs ? `?${qs}` : ''} HTTP/1.1`, `Host: ${host.includes(':') ? `[${host}]` : host}:${port}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'host' || name === 'authorization' || name === 'content-length' || name.startsWith('impersonate-')) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  upstream.write(lines.join('\r\n') + '\r\n\r\n');
  if (head.length) upstream.write(head);
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.pipe(socket);
  socket.pipe(upstream);
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

function isIPLike(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}
