// The in-process transport: requests go straight to ApiServer.handle() with the
// component's identity, through the same authorization, admission and validation as
// HTTPS requests, without TCP, TLS or request-body JSON text.
import type { UserInfo } from '../apiserver/admission/index.js';
import type { ApiServer } from '../apiserver/apiserver.js';
import { SYSTEM_USER } from '../apiserver/apiserver.js';
import type { Client, ClientResponse, RequestOptions, WatchEvent, WatchHandle } from './client.js';

function toQuery(q: RequestOptions['query']): URLSearchParams {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(q ?? {})) if (v !== undefined) u.set(k, String(v));
  return u;
}

export class InProcessClient implements Client {
  constructor(
    private readonly api: ApiServer,
    private readonly user: UserInfo = SYSTEM_USER,
    /** Names the component in managedFields (the field manager is the user agent's first segment). */
    private readonly userAgent?: string,
  ) {}

  /** The same transport, identifying itself as another component. */
  as(userAgent: string): InProcessClient {
    return new InProcessClient(this.api, this.user, userAgent);
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<ClientResponse<T>> {
    const headers: Record<string, string | undefined> = { accept: opts.accept ?? 'application/json' };
    if (this.userAgent) headers['user-agent'] = this.userAgent;
    if (opts.contentType) headers['content-type'] = opts.contentType;
    const res = await this.api.handle({
      method,
      path,
      query: toQuery(opts.query),
      headers,
      bodyObject: opts.body,
      user: this.user,
    });
    let body = res.body;
    if (typeof body === 'string' && (res.contentType ?? 'application/json').startsWith('application/json')) {
      try {
        body = JSON.parse(body);
      } catch {
        // leave text as is
      }
    }
    // Objects handed out must not alias what the server keeps.
    return { status: res.status, body: (typeof body === 'object' && body !== null ? structuredClone(body) : body) as T };
  }

  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
    opts: { accept?: string } = {},
  ): WatchHandle {
    let closeFns: (() => void)[] = [];
    let stopped = false;
    let buf = '';
    const finish = (err?: Error) => {
      if (stopped) return;
      stopped = true;
      for (const f of closeFns) f();
      closeFns = [];
      onClose(err);
    };
    void this.api
      .handle({ method: 'GET', path, query: toQuery({ ...query, watch: 'true' }), headers: { accept: opts.accept ?? 'application/json' }, user: this.user })
      .then((res) => {
        if (stopped) return;
        if (!res.stream) {
          const msg = (res.body as { message?: string } | undefined)?.message ?? `watch failed with status ${res.status}`;
          finish(Object.assign(new Error(msg), { code: res.status }));
          return;
        }
        res.stream({
          write: (chunk) => {
            if (stopped) return true;
            buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (line) onEvent(JSON.parse(line) as WatchEvent);
            }
            return true;
          },
          end: () => finish(),
          onClose: (fn) => closeFns.push(fn),
        });
      }, (e: Error) => finish(e));
    return { stop: () => finish() };
  }
}
