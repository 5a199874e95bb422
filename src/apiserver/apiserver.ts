// The API server proper: authorization, routing, non-resource endpoints (version, health,
// discovery, OpenAPI) and the generic resource handlers, over one Store and one watch cache.
// Transport-independent: http.ts serves it over HTTPS, the in-process client calls handle().
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import type { KObject, ResourceDecl } from '../api/types.js';
import type { Store } from '../storage/store.js';
import { Admission, type UserInfo } from './admission/index.js';
import { NamespaceLifecycle } from './admission/namespacelifecycle.js';
import { ServiceAllocation, type PortRange } from './admission/serviceallocation.js';
import { PriorityAdmission } from './admission/priority.js';
import * as discovery from './discovery.js';
import * as openapi from './openapi.js';
import { ApiError, forbidden, internalError, notAcceptable, notFoundPath, timeout } from './errors.js';
import { handleResource } from './handlers/resource.js';
import { handleProvided, type ProvidedStorage } from './handlers/provided.js';
import { Registry, systemClock, type Clock } from './registry.js';
import type { ApiRequest, ApiResponse } from './request.js';
import { parseRequestInfo, type RequestInfo } from './requestinfo.js';
import { ResourceTable } from './resources.js';
import { WatchCache } from './watchcache.js';
import { CRDRegistrar } from './crd/registrar.js';
import { serviceAccountTokensFor } from './auth/serviceaccount.js';
import { ObjectCache } from './objectcache.js';
import type { CIDR } from '../util/cidr.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** The Kubernetes release kts emulates: kubectl picks its client by this minor. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+kts' };

export interface ApiServerOptions {
  store: Store;
  decls: ResourceDecl[];
  serviceCIDR: CIDR;
  nodePortRange: PortRange;
  /** "https://<ip>:<port>" clients should use; shown in /api's serverAddressByClientCIDRs. */
  advertiseAddress: string;
  advertisePort: number;
  clock?: Clock;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export type HealthCheck = { name: string; check: () => Promise<{ ok: boolean; message?: string }> };

export type SubresourceHandler = (info: RequestInfo, req: ApiRequest) => Promise<ApiResponse>;
/** HTTP/1.1 upgrade requests (pods/exec, attach, portforward): the handler owns the socket. */
export type UpgradeHandler = (info: RequestInfo, req: ApiRequest & { raw: IncomingMessage }, socket: Duplex, head: Buffer) => Promise<void>;
export type CreateHandler = (obj: KObject, user: UserInfo, namespace: string) => Promise<KObject>;

export const SYSTEM_USER: UserInfo = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

/** Paths anyone may read, as upstream's system:public-info-viewer role allows. */
const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

export class ApiServer {
  readonly resources: ResourceTable;
  readonly registry: Registry;
  readonly cache: WatchCache;
  readonly admission: Admission;
  readonly services: ServiceAllocation;
  readonly clock: Clock;
  readonly store: Store;
  readonly crds: CRDRegistrar;
  /** Objects admission reads on every write, cached from the watch cache. */
  private readonly namespaces: ObjectCache;
  private readonly priorityClasses: ObjectCache;
  private readonly healthChecks: HealthCheck[] = [];
  private readonly subresources = new Map<string, SubresourceHandler>();
  private readonly upgradeHandlers = new Map<string, UpgradeHandler>();
  private readonly provided = new Map<string, ProvidedStorage>();
  private readonly createHandlers = new Map<string, CreateHandler>();
  private docCache = new Map<string, { body: string; etag: string; contentType: string }>();
  private ready = false;
  private readonly log: NonNullable<ApiServerOptions['log']>;

  constructor(readonly opts: ApiServerOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => {});
    this.resources = new ResourceTable(opts.decls);
    this.resources.onChange(() => this.docCache.clear());
    this.services = new ServiceAllocation(opts.store, opts.serviceCIDR, opts.nodePortRange);
    this.admission = new Admission();
    this.registry = new Registry(opts.store, this.admission, this.clock);
    this.cache = new WatchCache(opts.store);
    this.namespaces = new ObjectCache(() => this.resources.lookup('', 'v1', 'namespaces')?.decl, this.registry, this.cache);
    this.priorityClasses = new ObjectCache(() => this.resources.lookup('scheduling.k8s.io', 'v1', 'priorityclasses')?.decl, this.registry, this.cache);
    this.admission.add(new NamespaceLifecycle((name) => this.namespaces.get('', name)));
    this.admission.add(this.services);
    this.admission.add(new PriorityAdmission((name) => this.priorityClasses.get('', name), () => this.priorityClasses.list()));
    this.crds = new CRDRegistrar(this, (m, f) => this.log(m, f));
    this.addHealthCheck({ name: 'ping', check: async () => ({ ok: true }) });
    this.addHealthCheck({ name: 'log', check: async () => ({ ok: true }) });
    this.addHealthCheck({ name: 'etcd', check: () => this.store.health() });
  }

  addHealthCheck(h: HealthCheck): void {
    this.healthChecks.push(h);
  }

  /** Extra subresources (pods/log, pods/exec, pods/binding …) registered by other components. */
  registerSubresource(group: string, plural: string, sub: string, h: SubresourceHandler): void {
    this.subresources.set(`${group}/${plural}/${sub}`, h);
  }

  subresourceHandler(decl: ResourceDecl, sub: string): SubresourceHandler | undefined {
    return this.subresources.get(`${decl.group}/${decl.plural}/${sub}`);
  }

  /** Subresources reached by an HTTP/1.1 upgrade (WebSocket, SPDY): pods/exec, attach, portforward. */
  registerUpgradeHandler(group: string, plural: string, sub: string, h: UpgradeHandler): void {
    this.upgradeHandlers.set(`${group}/${plural}/${sub}`, h);
  }

  /** Routes an upgrade request; throws ApiError (the transport answers it) when nothing serves it. */
  async handleUpgrade(req: ApiRequest & { raw: IncomingMessage }, socket: Duplex, head: Buffer): Promise<void> {
    const info = parseRequestInfo(req.method, req.path, req.query);
    this.authorize(req.user, info);
    const served = info.isResourceRequest && info.subresource ? this.resources.lookup(info.group, info.version, info.resource) : undefined;
    const h = served && this.upgradeHandlers.get(`${served.decl.group}/${served.decl.plural}/${info.subresource}`);
    if (!h) throw notFoundPath();
    await h(info, req, socket, head);
  }

  /** Resources that are only created and answered, never stored (reviews). */
  registerCreateHandler(group: string, plural: string, h: CreateHandler): void {
    this.createHandlers.set(`${group}/${plural}`, h);
  }

  createHandler(decl: ResourceDecl): CreateHandler | undefined {
    return this.createHandlers.get(`${decl.group}/${decl.plural}`);
  }

  /**
   * REST storage provided by a component: the resource's objects are computed by `storage`
   * (get and list), not kept in the store (metrics.k8s.io, componentstatuses). The declaration
   * joins the served resources if it is not there yet, so discovery and OpenAPI list it; the
   * returned function withdraws both (a component that stops takes its API with it).
   */
  provideResource(decl: ResourceDecl, storage: ProvidedStorage): () => void {
    const added = !this.resources.all().includes(decl);
    if (added) this.resources.add(decl);
    const key = `${decl.group}/${decl.plural}`;
    this.provided.set(key, storage);
    return () => {
      if (this.provided.get(key) !== storage) return;
      this.provided.delete(key);
      if (added) this.resources.remove(decl);
    };
  }

  /** Core resources whose objects are computed from one list (componentstatuses). */
  registerVirtual(plural: string, list: () => Promise<KObject[]>): void {
    const served = this.resources.lookup('', 'v1', plural);
    if (served) this.provideResource(served.decl, { list: () => list() });
  }

  async start(): Promise<void> {
    await this.cache.start();
    await Promise.all([this.crds.start(), this.namespaces.start(), this.priorityClasses.start()]);
    this.ready = true;
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.crds.stop();
    this.namespaces.stop();
    this.priorityClasses.stop();
    this.cache.stop();
  }

  /** Waits until the store has reached `rev`; 504 Timeout "Too large resource version" otherwise. */
  async waitForRevision(rev: number): Promise<void> {
    const cur = await this.store.currentRevision();
    if (rev <= cur) return;
    const ok = await this.cache.waitFor(rev, 3000);
    if (!ok) throw timeout(`Too large resource version: ${rev}, current: ${await this.store.currentRevision()}`, 1);
  }

  /** The compacted revision if `rev` is older than history goes back, else undefined. */
  async compactedBefore(rev: number): Promise<number | undefined> {
    if (rev === 0) return undefined;
    const c = await this.store.compactRevision();
    return rev < c ? c : undefined;
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.route(req);
    } catch (e) {
      if (e instanceof ApiError) return { status: e.code, body: e.toStatus(), headers: e.headers };
      this.log('request failed', { method: req.method, path: req.path, error: String((e as Error)?.stack ?? e) });
      const err = internalError(e);
      return { status: 500, body: err.toStatus() };
    }
  }

  private async route(req: ApiRequest): Promise<ApiResponse> {
    const info = parseRequestInfo(req.method, req.path, req.query);
    this.authorize(req.user, info);
    if (info.isResourceRequest) {
      const served = this.resources.lookup(info.group, info.version, info.resource);
      const provided = served && this.provided.get(`${served.decl.group}/${served.decl.plural}`);
      const res = provided ? await handleProvided(this, served, provided, info, req) : await handleResource(this, info, req);
      const warning = served?.decl.deprecationWarning;
      if (!warning) return res;
      const w = `299 - ${JSON.stringify(warning)}`;
      const prev = res.headers?.['Warning'];
      return { ...res, headers: { ...(res.headers ?? {}), Warning: prev ? `${prev}, ${w}` : w } };
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw notFoundPath();
    return this.nonResource(info, req);
  }

  /** Everyone authenticated may do everything until RBAC arrives; anonymous users only read public paths. */
  private authorize(user: UserInfo, info: RequestInfo): void {
    if (user.username !== 'system:anonymous') return;
    if (!info.isResourceRequest && PUBLIC_PATHS.test(info.path)) return;
    if (info.isResourceRequest) {
      const ns = info.namespace ? ` in the namespace "${info.namespace}"` : '';
      throw new ApiError(
        403,
        'Forbidden',
        `${info.resource}${info.group ? `.${info.group}` : ''}${info.name ? ` "${info.name}"` : ''} is forbidden: User "system:anonymous" cannot ${info.verb} resource "${info.resource}" in API group "${info.group}"${info.namespace ? ns : info.resource === 'namespaces' ? '' : ' at the cluster scope'}`,
        { ...(info.name ? { name: info.name } : {}), ...(info.group ? { group: info.group } : {}), kind: info.resource },
      );
    }
    throw new ApiError(403, 'Forbidden', `forbidden: User "system:anonymous" cannot get path "${info.path}"`, {});
  }

  private async nonResource(info: RequestInfo, req: ApiRequest): Promise<ApiResponse> {
    const p = info.path.replace(/\/+$/, '') || '/';
    if (p === '/version') {
      return {
        status: 200,
        body: {
          major: KUBE_VERSION.major,
          minor: KUBE_VERSION.minor,
          gitVersion: KUBE_VERSION.gitVersion,
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2026-11-22T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'kts',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        },
      };
    }
    const health = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(p);
    if (health) return this.healthResponse(health[1]!, health[2], req.query);
    if (p === '/') {
      return { status: 200, body: { paths: this.rootPaths() } };
    }
    if (p === '/api' || p === '/apis') {
      const agg = discovery.negotiateDiscovery(req.headers['accept']);
      const root = p === '/api' ? 'api' : 'apis';
      if (agg) {
        return this.cachedDoc(`agg:${root}:${agg.version}`, req, agg.contentType, () =>
          JSON.stringify(discovery.aggregatedDiscovery(this.resources.all(), root, agg.version)),
        );
      }
      if (p === '/api') return this.cachedDoc('api', req, 'application/json', () => JSON.stringify(discovery.apiVersions(this.resources.all(), this.opts.advertiseAddress + ':' + this.opts.advertisePort)));
      return this.cachedDoc('apis', req, 'application/json', () => JSON.stringify(discovery.apiGroupList(this.resources.all())));
    }
    if (info.apiPrefix === 'api' && info.version && !info.isResourceRequest) {
      if (info.version !== 'v1') throw notFoundPath();
      return this.cachedDoc('api/v1', req, 'application/json', () => JSON.stringify(discovery.apiResourceList(this.resources.all(), '', 'v1')));
    }
    if (info.apiPrefix === 'apis' && info.group && !info.isResourceRequest) {
      if (info.version) {
        if (!this.resources.hasGroupVersion(info.group, info.version)) throw notFoundPath();
        return this.cachedDoc(`apis/${info.group}/${info.version}`, req, 'application/json', () =>
          JSON.stringify(discovery.apiResourceList(this.resources.all(), info.group, info.version)),
        );
      }
      if (!this.resources.hasGroup(info.group)) throw notFoundPath();
      return this.cachedDoc(`apis/${info.group}`, req, 'application/json', () => JSON.stringify(discovery.apiGroup(this.resources.all(), info.group)));
    }
    if (p === '/openapi/v2') {
      const form = openapi.negotiateOpenAPIV2(req.headers['accept']);
      if (!form) throw notAcceptable(['application/json', openapi.OPENAPI_V2_PROTOBUF_CONTENT_TYPE]);
      if (form === 'protobuf') {
        return { status: 200, headers: { Vary: 'Accept' }, contentType: openapi.OPENAPI_V2_PROTOBUF_CONTENT_TYPE, body: openapi.openapiV2Protobuf() };
      }
      return this.cachedDoc('openapi/v2', req, 'application/json', () => openapi.openapiV2(this.resources.all()).body);
    }
    if (p === '/openapi/v3') {
      return this.cachedDoc('openapi/v3', req, 'application/json', () => openapi.openapiV3Index(this.resources.all()).body);
    }
    if (p.startsWith('/openapi/v3/')) {
      const gv = p.slice('/openapi/v3/'.length);
      if (!acceptsJSON(req.headers['accept'])) throw notAcceptable(['application/json']);
      const doc = openapi.openapiV3GroupVersion(this.resources.all(), gv);
      if (!doc) throw notFoundPath();
      return this.cachedDoc(`openapi/v3/${gv}`, req, 'application/json', () => doc.body, true);
    }
    // Service account issuer discovery (OIDC): the issuer's configuration and signing keys.
    if (p === '/.well-known/openid-configuration' || p === '/openid/v1/jwks') {
      const tokens = serviceAccountTokensFor(this);
      const body =
        p === '/openid/v1/jwks'
          ? tokens.jwks()
          : tokens.openidConfiguration(`https://${this.opts.advertiseAddress}:${this.opts.advertisePort}/openid/v1/jwks`);
      return {
        status: 200,
        headers: { 'Cache-Control': 'public, max-age=3600' },
        contentType: p === '/openid/v1/jwks' ? 'application/jwk-set+json' : 'application/json',
        body: JSON.stringify(body),
      };
    }
    if (p === '/metrics') {
      return { status: 200, contentType: 'text/plain; version=0.0.4', body: this.metricsText() };
    }
    throw notFoundPath();
  }

  private rootPaths(): string[] {
    const paths = new Set(['/.well-known/openid-configuration', '/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz', '/metrics', '/openapi/v2', '/openapi/v3', '/openid/v1/jwks', '/version']);
    for (const d of this.resources.all()) {
      if (!d.group) continue;
      paths.add(`/apis/${d.group}`);
      for (const v of d.versions ?? [d.version]) paths.add(`/apis/${d.group}/${v}`);
    }
    return [...paths].sort();
  }

  private metricsText(): string {
    const mem = process.memoryUsage();
    return [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
      '# HELP apiserver_registered_watchers Number of currently registered watchers.',
      '# TYPE apiserver_registered_watchers gauge',
      `apiserver_registered_watchers ${this.cache.watcherCount()}`,
      '',
    ].join('\n');
  }

  /** Serves a computed document with a strong ETag; If-None-Match answers 304 (kubectl's disk cache). */
  private cachedDoc(key: string, req: ApiRequest, contentType: string, build: () => string, immutable = false): ApiResponse {
    let doc = this.docCache.get(key);
    if (!doc) {
      const body = build();
      doc = { body, contentType, etag: `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"` };
      this.docCache.set(key, doc);
    }
    const headers: Record<string, string> = { ETag: doc.etag, Vary: 'Accept' };
    if (immutable && req.query.get('hash')) headers['Cache-Control'] = 'public, immutable';
    else headers['Cache-Control'] = 'no-cache, private';
    if (req.headers['if-none-match'] === doc.etag) return { status: 304, headers };
    return { status: 200, headers, contentType: doc.contentType, body: doc.body };
  }

  private async healthResponse(kind: string, only: string | undefined, q: URLSearchParams): Promise<ApiResponse> {
    const checks = this.healthChecks.filter((h) => !only || h.name === only);
    if (only && checks.length === 0) throw notFoundPath();
    const results = await Promise.all(
      checks.map(async (h) => {
        try {
          return { name: h.name, ...(await h.check()) };
        } catch (e) {
          return { name: h.name, ok: false, message: (e as Error).message };
        }
      }),
    );
    const excluded = new Set(q.getAll('exclude'));
    const relevant = results.filter((r) => !excluded.has(r.name));
    let ok = relevant.every((r) => r.ok);
    if (kind === 'readyz' && !this.ready) ok = false;
    const verbose = q.has('verbose');
    if (only) {
      const r = results[0]!;
      return { status: r.ok ? 200 : 500, contentType: 'text/plain; charset=utf-8', body: r.ok ? 'ok' : `internal server error: ${r.message ?? 'failed'}\n` };
    }
    if (!verbose && ok) return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
    const lines = results.map((r) => (excluded.has(r.name) ? `[+]${r.name} excluded: ok` : r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
    if (kind === 'readyz') lines.push(this.ready ? '[+]informer-sync ok' : '[-]informer-sync failed: reason withheld');
    lines.push(ok ? `${kind} check passed` : `${kind} check failed`);
    return { status: ok ? 200 : 500, contentType: 'text/plain; charset=utf-8', body: lines.join('\n') + '\n' };
  }
}

function acceptsJSON(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((t) => {
    const m = t.split(';')[0]!.trim().toLowerCase();
    return m === 'application/json' || m === '*/*' || m === 'application/*';
  });
}

export { forbidden, YAML };
