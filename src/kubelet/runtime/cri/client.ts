// A CRI v1 gRPC client (RuntimeService + ImageService) over @grpc/grpc-js, with the service
// definition built from schema.json and messages encoded by proto.ts.
import { appendFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { decode, encode, schema, type Msg } from './proto.js';

// Go's codes.Code names: CRI errors read like upstream's ("rpc error: code = NotFound desc = …").
const GO_CODES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

/** A failed CRI call; the message is what Go's gRPC status prints, as the kubelet shows it. */
export class CRIError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`rpc error: code = ${GO_CODES[code] ?? `Code(${code})`} desc = ${details}`);
    this.name = 'CRIError';
  }

  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

export interface CallOptions {
  /** Deadline in milliseconds from now (default 2 minutes; pulls get longer). */
  timeoutMs?: number;
}

// KTS_CRI_TRACE=<file>: one JSON line per CRI call ({m, t0, ms, err, pod: RunPodSandbox's pod
// name}) appended to <file>, so a benchmark can see where pod start-up time goes (bench/kubelet.ts).
const TRACE = process.env['KTS_CRI_TRACE'];
let traceBuf: string[] = [];
function trace(method: string, request: Msg, t0: number, err: boolean): void {
  const pod = method === 'RunPodSandbox' ? (request.config?.metadata?.name as string | undefined) : undefined;
  traceBuf.push(JSON.stringify({ m: method, t0: Math.round(performance.timeOrigin + t0), ms: +(performance.now() - t0).toFixed(2), err, pod }));
  // written in batches: a sync append per call would stall the event loop it measures
  if (traceBuf.length === 1) setTimeout(flushTrace, 200).unref();
}
function flushTrace(): void {
  if (!TRACE || !traceBuf.length) return;
  const lines = traceBuf.join('\n') + '\n';
  traceBuf = [];
  try {
    appendFileSync(TRACE, lines);
  } catch {
    /* tracing is best effort */
  }
}
if (TRACE) process.once('exit', flushTrace);

/** A unary-call client for runtime.v1.RuntimeService and runtime.v1.ImageService. */
export class CRIClient {
  private readonly client: grpc.Client;
  readonly target: string;

  constructor(endpoint: string) {
    this.target = endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
    this.client = new grpc.Client(this.target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      // a supervised containerd restarts: reconnect quickly
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** Calls `method` of RuntimeService or ImageService ("RunPodSandbox", "PullImage" …). */
  call(method: string, request: Msg, opts: CallOptions = {}): Promise<Msg> {
    let service = 'runtime.v1.RuntimeService';
    let def = schema.services[service]?.[method];
    if (!def) {
      service = 'runtime.v1.ImageService';
      def = schema.services[service]?.[method];
    }
    if (!def) return Promise.reject(new Error(`CRI: unknown method ${method}`));
    const [input, output] = def;
    const deadline = new Date(Date.now() + (opts.timeoutMs ?? 120_000));
    const t0 = TRACE ? performance.now() : 0;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/${service}/${method}`,
        (m: Msg) => encode(input, m),
        (b: Buffer) => decode(output, b),
        request,
        new grpc.Metadata(),
        { deadline },
        (err: grpc.ServiceError | null, res?: Msg) => {
          if (TRACE) trace(method, request, t0, !!err);
          if (err) reject(new CRIError(method, err.code, err.details || err.message));
          else resolve(res ?? {});
        },
      );
    });
  }

  /** Resolves once the channel is connected (or rejects after timeoutMs). */
  waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.client.close();
  }
}
