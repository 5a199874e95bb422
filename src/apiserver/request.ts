// The API server's request and response, independent of the transport: the HTTPS
// listener adapts Node's http/http2 requests to these, and the in-process client
// builds them directly (skipping TCP, TLS and JSON text, but nothing else).
import type { UserInfo } from './admission/index.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body?: Buffer;
  /** An already-decoded body (in-process callers); used instead of `body` when set. */
  bodyObject?: unknown;
  user: UserInfo;
}

export interface StreamSink {
  /** Writes one chunk; false when the client is falling behind (wait for onDrain). */
  write(chunk: string | Buffer): boolean;
  end(): void;
  onClose(fn: () => void): void;
  /** Called once the client has taken what was buffered after a write returned false. */
  onDrain?(fn: () => void): void;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object (sent as JSON, or YAML if negotiated), or raw text/bytes. */
  body?: unknown;
  /** Set for raw bodies; objects default to application/json. */
  contentType?: string;
  /** Long-running responses (watch): called once the headers are sent. */
  stream?: (sink: StreamSink) => void;
}

