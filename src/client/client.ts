// The client every component uses to reach the API: the same calls whether the API
// server is in this process (InProcessClient) or across the network.
import type { KObject } from '../api/types.js';

export interface ClientResponse<T = unknown> {
  status: number;
  body: T;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KObject;
}

export interface WatchHandle {
  stop(): void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export interface Client {
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<ClientResponse<T>>;
  /**
   * Streams watch events until stop() or the server ends the watch (then onClose is called,
   * with the error if one occurred).
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
    opts?: { accept?: string },
  ): WatchHandle;
}

/** A non-2xx response as an error carrying the Status. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly status: { reason?: string; message?: string } | undefined,
  ) {
    super(status?.message ?? `request failed with status ${code}`);
  }
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export async function call<T = KObject>(client: Client, method: string, path: string, opts?: RequestOptions): Promise<T> {
  const res = await client.request<T>(method, path, opts);
  if (res.status >= 400) throw new StatusError(res.status, res.body as { reason?: string; message?: string });
  return res.body;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof StatusError && e.code === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof StatusError && e.code === 409;
}

/** /api/v1 or /apis/<group>/<version>, then namespaces/<ns>/, then the resource. */
export function resourcePath(group: string, version: string, plural: string, namespace?: string, name?: string, sub?: string): string {
  let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (sub) p += `/${sub}`;
  return p;
}
