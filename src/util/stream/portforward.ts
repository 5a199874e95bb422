// The server side of port-forward (portforward.k8s.io): SPDY/3.1 directly after a 101
// (kubectl ≤1.30, and the fallback of later versions), or SPDY/3.1 tunnelled in WebSocket
// binary messages ("SPDY/3.1+portforward.k8s.io", kubectl 1.31+). Each forwarded connection
// is a pair of client-created streams sharing a requestID: streamType "error" (we write a
// message there if the pod's port cannot be reached) and "data" (the bytes).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SpdyStream } from './spdy.js';
import { SpdySession } from './spdy.js';
import { PORTFORWARD_TUNNEL_PROTOCOL, acceptWebSocket, isWebSocketRequest, requestedProtocols, tunnel } from './websocket.js';
import { UpgradeError, acceptSpdy, isSpdyRequest, negotiateSpdyProtocol } from './remotecommand.js';

export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortForwardHandler {
  /** Opens a byte stream to `port` in the pod; rejects with the reason if it cannot. */
  connect(port: number): Promise<Duplex>;
  /** Text for the error stream, e.g. "error forwarding port 80 to pod web, uid …: <err>". */
  describeError(port: number, err: Error): string;
  /** Ports the request allowed (`ports` query); empty = any. */
  allowedPorts?: number[];
}

/** Switches protocols and serves forwarded connections until the client disconnects. */
export async function servePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, h: PortForwardHandler): Promise<SpdySession> {
  let session: SpdySession;
  if (isWebSocketRequest(req)) {
    const offered = requestedProtocols(req);
    if (!offered.includes(PORTFORWARD_TUNNEL_PROTOCOL)) {
      throw new UpgradeError(400, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify([PORTFORWARD_TUNNEL_PROTOCOL])}`);
    }
    const ws = await acceptWebSocket(req, socket, head, PORTFORWARD_TUNNEL_PROTOCOL);
    session = new SpdySession(tunnel(ws));
  } else if (isSpdyRequest(req)) {
    const protocol = negotiateSpdyProtocol(req, [PORTFORWARD_PROTOCOL]);
    session = acceptSpdy(socket, head, protocol || PORTFORWARD_PROTOCOL);
  } else {
    throw new UpgradeError(400, 'Upgrade request required');
  }
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream; started?: boolean }>();
  session.on('error', () => {});
  session.on('stream', (s: SpdyStream) => {
    s.on('error', () => {});
    const type = s.header('streamtype');
    const requestID = s.header('requestid') ?? String(s.id);
    const port = Number(s.header('port'));
    s.reply({});
    if (type !== 'error' && type !== 'data') {
      s.destroy();
      return;
    }
    const p = pairs.get(requestID) ?? {};
    pairs.set(requestID, p);
    p[type] = s;
    if (type === 'error') s.resume();
    if (p.data && !p.started) {
      p.started = true;
      void forward(p.data, () => p.error, port, h).finally(() => pairs.delete(requestID));
    }
  });
  return session;
}

async function forward(data: SpdyStream, error: () => SpdyStream | undefined, port: number, h: PortForwardHandler): Promise<void> {
  const fail = (msg: string) => {
    const e = error();
    if (e && e.writable) {
      e.write(Buffer.from(msg));
      e.end();
    }
    if (data.writable) data.end();
  };
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    fail(`invalid port ${String(port)}`);
    return;
  }
  if (h.allowedPorts?.length && !h.allowedPorts.includes(port)) {
    fail(`port ${port} was not requested for forwarding`);
    return;
  }
  let conn: Duplex;
  try {
    conn = await h.connect(port);
  } catch (e) {
    fail(h.describeError(port, e as Error));
    return;
  }
  await new Promise<void>((resolve) => {
    let ends = 0;
    const done = () => {
      if (++ends === 2) {
        error()?.end();
        resolve();
      }
    };
    conn.on('error', () => {
      if (data.writable) data.end();
      resolve();
    });
    data.on('close', () => {
      conn.destroy();
      resolve();
    });
    conn.pipe(data);
    data.pipe(conn);
    conn.on('end', done);
    data.on('end', done);
  });
}
