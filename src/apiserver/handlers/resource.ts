// Generic REST handlers over a ResourceDecl: get, list, create, update, patch, delete,
// deletecollection, and the status and scale subresources. Watch lives in watch.ts.
import type { KObject, ResourceDecl } from '../../api/types.js';
import { apiVersionOf } from '../../api/types.js';
import type { ServedResource } from '../resources.js';
import type { ApiRequest, ApiResponse } from '../request.js';
import type { RequestInfo } from '../requestinfo.js';
import type { ApiServer } from '../apiserver.js';
import {
  ApiError,
  OPTIMISTIC_LOCK_MESSAGE,
  badRequest,
  conflict,
  invalid,
  methodNotSupported,
  notFound,
  notFoundPath,
  successStatus,
  unsupportedMediaType,
} from '../errors.js';
import { decodeBody, negotiateOutput, type OutputKind } from '../negotiation.js';
import { gr, type DeleteOptions, type RequestContext } from '../registry.js';
import { toTable, partialMetadata, type IncludeObject } from '../table.js';
import { applyPatch, PATCH_TYPES } from './patch.js';
import { buildFilter } from './filter.js';
import { handleWatch } from './watch.js';
import { patchValidation, validateBody, withWarnings } from '../fieldvalidation.js';
import { APPLY_PATCH_TYPE, serverSideApply, updateTracker, validateManagerOptions } from '../fieldmanager/index.js';

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

export async function handleResource(s: ApiServer, info: RequestInfo, req: ApiRequest): Promise<ApiResponse> {
  const served = s.resources.lookup(info.group, info.version, info.resource);
  if (!served) throw notFoundPath();
  const { decl, storage } = served;
  if (!decl.namespaced && info.namespace) throw notFoundPath();
  const verbs = decl.verbs ?? ALL_VERBS;
  const verb = info.verb;
  if (!verbs.includes(verb as never)) throw methodNotSupported(gr(decl), verb);

  const rc: RequestContext = { user: req.user, dryRun: isDryRun(req.query) };
  const ns = info.namespace;
  if ((verb === 'create' || verb === 'update' || verb === 'patch') && (!info.subresource || info.subresource === 'status' || info.subresource === 'scale')) {
    const isApply = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === APPLY_PATCH_TYPE;
    if (!isApply) validateManagerOptions(req, verb === 'create' ? 'CreateOptions' : verb === 'update' ? 'UpdateOptions' : 'PatchOptions', false);
    rc.manageFields = updateTracker(s, served, req, info.subresource ?? '');
  }

  if (info.subresource) {
    if (info.subresource === 'status' && decl.subresources?.status) return handleStatus(s, served, info, req, rc);
    if (info.subresource === 'scale' && decl.subresources?.scale) return handleScale(s, served, info, req, rc);
    const sub = s.subresourceHandler(decl, info.subresource);
    if (sub) return sub(info, req);
    throw notFoundPath();
  }

  switch (verb) {
    case 'get': {
      const output = negotiateOutput(req.headers['accept']);
      const obj = await s.registry.get(storage, ns, info.name);
      return respondObject(s, served, obj, output, req.query);
    }
    case 'list':
      return handleList(s, served, info, req);
    case 'watch':
      return handleWatch(s, served, info, req);
    case 'create': {
      if (decl.namespaced && !ns) throw notFoundPath();
      const output = negotiateOutput(req.headers['accept']);
      const input = requireObject(decodeRequestBody(req), served);
      const { warnings } = validateBody(served, req, input, 'create');
      const body = toStorage(served, input);
      if (info.name) throw methodNotSupported(gr(decl), 'create');
      const answer = s.createHandler(decl);
      if (answer) return withWarnings({ status: 201, body: toServed(served, await answer(body, req.user, ns)) }, warnings);
      const created = await s.registry.create(storage, ns, body, rc);
      return withWarnings(respondObject(s, served, created, output, req.query, 201), warnings);
    }
    case 'update': {
      const output = negotiateOutput(req.headers['accept']);
      const input = requireObject(decodeRequestBody(req), served);
      const { warnings } = validateBody(served, req, input, 'update');
      const body = toStorage(served, input);
      const { obj, created } = await s.registry.update(
        storage,
        ns,
        info.name,
        (cur) => checkResourceVersion(decl, info.name, body, cur),
        rc,
        { createIfMissing: decl.allowCreateOnUpdate ? body : undefined },
      );
      return withWarnings(respondObject(s, served, obj, output, req.query, created ? 201 : 200), warnings);
    }
    case 'patch': {
      const output = negotiateOutput(req.headers['accept']);
      const { obj, created, warnings } = await patchObject(s, served, info, req, rc, '');
      return withWarnings(respondObject(s, served, obj, output, req.query, created ? 201 : 200), warnings ?? []);
    }
    case 'delete': {
      const output = negotiateOutput(req.headers['accept']);
      const opts = deleteOptions(req);
      const res = await s.registry.delete(storage, ns, info.name, opts, rc);
      if (res.deleted && !decl.gracefulDeletion) {
        return {
          status: 200,
          body: successStatus({ name: info.name, ...(decl.group ? { group: decl.group } : {}), kind: decl.plural, uid: res.obj.metadata.uid }),
        };
      }
      return respondObject(s, served, res.obj, output, req.query, 200);
    }
    case 'deletecollection': {
      const opts = deleteOptions(req);
      const filter = storedFilter(served, buildFilter(decl, req.query));
      const list = await s.registry.list(storage, ns, { filter });
      for (const o of list.items) {
        try {
          await s.registry.delete(storage, o.metadata.namespace ?? '', o.metadata.name!, { ...opts, preconditions: undefined }, rc);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      return { status: 200, body: successStatus() };
    }
  }
  throw methodNotSupported(gr(decl), verb);
}

export function isDryRun(q: URLSearchParams): boolean {
  const d = q.getAll('dryRun');
  for (const v of d) {
    if (v === 'All') return true;
    if (v !== '') throw badRequest(`Invalid dry run value "${v}". Valid values are: All`);
  }
  return false;
}

function decodeRequestBody(req: ApiRequest): unknown {
  if (req.bodyObject !== undefined) return structuredClone(req.bodyObject);
  return decodeBody(req.body, req.headers['content-type']);
}

/** The body must be an object of this resource's kind and version. */
function requireObject(v: unknown, served: ServedResource): KObject {
  const { decl, version } = served;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('the body of the request was not a valid object');
  const o = v as KObject;
  const want = apiVersionOf(decl, version);
  if (o.apiVersion !== undefined && o.apiVersion !== want && !(decl.group === '' && o.apiVersion === '' )) {
    throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${want})`);
  }
  if (o.kind !== undefined && o.kind !== '' && o.kind !== decl.kind) {
    throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${decl.kind})`);
  }
  if (o.metadata !== undefined && (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)))
    throw badRequest('the object provided is unrecognized: metadata must be an object');
  o.metadata ??= {};
  o.apiVersion = want;
  o.kind = decl.kind;
  return o;
}

/** Converts an object from the requested version to the stored form. */
export function toStorage(served: ServedResource, obj: KObject): KObject {
  const { decl, version } = served;
  const out = version === decl.version || !decl.convert ? obj : decl.convert(obj, decl.version);
  return decl.storedAs ? decl.storedAs.toStored(out) : out;
}

/** The stored object in the served resource's own shape (its storage version): what printers and selectors see. */
export function toView(served: ServedResource, stored: KObject): KObject {
  return served.decl.storedAs ? served.decl.storedAs.fromStored(stored) : stored;
}

/** Converts a stored object to the requested version. */
export function toServed(served: ServedResource, stored: KObject): KObject {
  const { decl, version } = served;
  const obj = toView(served, stored);
  if (version === decl.version || !decl.convert) {
    if (!obj.apiVersion) obj.apiVersion = apiVersionOf(decl, version);
    if (!obj.kind) obj.kind = decl.kind;
    return obj;
  }
  return decl.convert(obj, version);
}

/** A filter over stored objects from one over the served resource's shape. */
export function storedFilter(served: ServedResource, f: ((o: KObject) => boolean) | undefined): ((o: KObject) => boolean) | undefined {
  if (!f || !served.decl.storedAs) return f;
  return (o) => f(toView(served, o));
}

/** PUT: a body that names a resourceVersion must match the current one (optimistic concurrency). */
function checkResourceVersion(decl: ResourceDecl, name: string, body: KObject, cur: KObject): KObject {
  const rv = body.metadata?.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== cur.metadata.resourceVersion) throw conflict(gr(decl), name, OPTIMISTIC_LOCK_MESSAGE);
  if ((rv === undefined || rv === '') && decl.requireResourceVersionOnUpdate)
    throw invalid(decl.group, decl.kind, name, [
      { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', badValue: '', detail: 'must be specified for an update' },
    ]);
  return body;
}

export function respondObject(
  s: ApiServer,
  served: ServedResource,
  obj: KObject,
  output: OutputKind,
  query: URLSearchParams,
  status = 200,
): ApiResponse {
  const out = toServed(served, obj);
  if (output === 'table') {
    const include = (query.get('includeObject') as IncludeObject) || 'Metadata';
    return { status, body: toTable(served.decl, [{ stored: toView(served, obj), served: out }], s.clock.now(), include, { resourceVersion: obj.metadata.resourceVersion }) };
  }
  if (output === 'partialMetadata' || output === 'partialMetadataList') return { status, body: partialMetadata(out) };
  return { status, body: out, contentType: output === 'yaml' ? 'application/yaml' : undefined };
}

async function handleList(s: ApiServer, served: ServedResource, info: RequestInfo, req: ApiRequest): Promise<ApiResponse> {
  const { decl, version } = served;
  const output = negotiateOutput(req.headers['accept']);
  const q = req.query;
  const limit = q.get('limit') ? Number(q.get('limit')) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
  const rv = q.get('resourceVersion') ?? '';
  const rvMatch = q.get('resourceVersionMatch') ?? '';
  if (rvMatch && !rv) throw invalidParam('resourceVersionMatch', rvMatch, 'resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (rvMatch && !['Exact', 'NotOlderThan'].includes(rvMatch))
    throw invalidParam('resourceVersionMatch', rvMatch, 'supported values: "Exact", "NotOlderThan"');
  const continueToken = q.get('continue') ?? undefined;
  if (continueToken && rv && rv !== '0') throw invalidParam('resourceVersion', rv, 'specifying resource version is not allowed when using continue');
  let revision: number | undefined;
  if (rv && rv !== '0') {
    const n = Number(rv);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`Invalid value for resourceVersion: ${JSON.stringify(rv)}`);
    if (rvMatch === 'Exact') revision = n;
    else await s.waitForRevision(n);
  }
  const filter = storedFilter(served, buildFilter(decl, q));
  // Plain JSON in the storage form needs no decoding: stored text goes out as it is.
  const raw = output === 'json' && !filter && served.version === decl.version && !decl.storedAs;
  const list = await s.registry.list(served.storage, info.namespace, { limit, continueToken, revision, filter, raw });
  const listMeta: Record<string, unknown> = { resourceVersion: list.resourceVersion };
  if (list.continueToken) listMeta['continue'] = list.continueToken;
  if (list.remainingItemCount !== undefined) listMeta['remainingItemCount'] = list.remainingItemCount;
  if (list.raw) {
    const head = JSON.stringify({ kind: decl.listKind ?? `${decl.kind}List`, apiVersion: apiVersionOf(decl, version), metadata: listMeta });
    return { status: 200, contentType: 'application/json', body: `${head.slice(0, -1)},"items":[${list.raw.join(',')}]}` };
  }
  if (output === 'table') {
    const include = (q.get('includeObject') as IncludeObject) || 'Metadata';
    return {
      status: 200,
      body: toTable(decl, list.items.map((o) => ({ stored: toView(served, o), served: toServed(served, o) })), s.clock.now(), include, listMeta),
    };
  }
  if (output === 'partialMetadata' || output === 'partialMetadataList') {
    return {
      status: 200,
      body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: list.items.map((o) => partialMetadata(toServed(served, o))) },
    };
  }
  return {
    status: 200,
    contentType: output === 'yaml' ? 'application/yaml' : undefined,
    body: {
      kind: decl.listKind ?? `${decl.kind}List`,
      apiVersion: apiVersionOf(decl, version),
      metadata: listMeta,
      items: list.items.map((o) => toServed(served, o)),
    },
  };
}

function invalidParam(field: string, value: string, detail: string): ApiError {
  return invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueInvalid', field, badValue: value, detail }]);
}

export function deleteOptions(req: ApiRequest): DeleteOptions {
  const opts: DeleteOptions = {};
  let body: Record<string, unknown> = {};
  if (req.bodyObject !== undefined) body = req.bodyObject as Record<string, unknown>;
  else if (req.body && req.body.length) {
    const v = decodeBody(req.body, req.headers['content-type']);
    if (v && typeof v === 'object') body = v as Record<string, unknown>;
  }
  const q = req.query;
  const grace = body['gracePeriodSeconds'] ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== 'number' || !Number.isFinite(grace)) throw badRequest('gracePeriodSeconds must be a number');
    opts.gracePeriodSeconds = Math.max(0, Math.floor(grace));
  }
  const policy = (body['propagationPolicy'] ?? q.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan = body['orphanDependents'] ?? (q.get('orphanDependents') !== null ? q.get('orphanDependents') === 'true' : undefined);
  if (policy !== undefined && policy !== null) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy))
      throw invalid('meta.k8s.io', 'DeleteOptions', '', [
        { type: 'FieldValueNotSupported', field: 'propagationPolicy', badValue: policy, supported: ['Foreground', 'Background', 'Orphan', 'nil'] },
      ]);
    if (orphan !== undefined) throw invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueInvalid', field: 'propagationPolicy', badValue: policy, detail: 'orphanDependents and deletionPropagation cannot be both set' }]);
    opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  } else if (orphan === true) opts.propagationPolicy = 'Orphan';
  else if (orphan === false) opts.propagationPolicy = 'Foreground';
  const pre = body['preconditions'] as DeleteOptions['preconditions'] | undefined;
  if (pre && typeof pre === 'object') opts.preconditions = pre;
  const dry = body['dryRun'];
  if (Array.isArray(dry) && dry.includes('All')) req.query.set('dryRun', 'All');
  return opts;
}

/** PATCH: read, patch, write; a conflict retries with a fresh read unless the patch names a resourceVersion. */
async function patchObject(s: ApiServer, served: ServedResource, info: RequestInfo, req: ApiRequest, rc: RequestContext, subresource: '' | 'status'): Promise<{ obj: KObject; created: boolean; warnings?: string[] }> {
  const { decl } = served;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(contentType, PATCH_TYPES);
  const patchBody = req.bodyObject !== undefined ? structuredClone(req.bodyObject) : decodeBody(req.body, contentType === 'application/apply-patch+yaml' ? 'application/yaml' : 'application/json');
  if (contentType === APPLY_PATCH_TYPE) return serverSideApply(s, served, info, patchBody, req, rc, subresource, { toServed, toStorage });
  const fv = patchValidation(req, contentType);
  const res = await s.registry.update(
    served.storage,
    info.namespace,
    info.name,
    (cur) => {
      const curServed = toServed(served, structuredClone(cur));
      const patched = applyPatch(served, contentType, curServed, patchBody);
      fv.checkPatched(served, patchBody, patched as KObject);
      const out = toStorage(served, patched as KObject);
      const rv = (patchBody as KObject | undefined)?.metadata?.resourceVersion;
      if (contentType !== 'application/json-patch+json' && typeof rv === 'string' && rv !== '' && rv !== cur.metadata.resourceVersion)
        throw conflict(gr(decl), info.name, OPTIMISTIC_LOCK_MESSAGE);
      if (out?.metadata && typeof out.metadata === 'object' && out.metadata.resourceVersion !== undefined && out.metadata.resourceVersion !== cur.metadata.resourceVersion)
        throw conflict(gr(decl), info.name, OPTIMISTIC_LOCK_MESSAGE);
      return out;
    },
    rc,
    { subresource },
  );
  return { ...res, warnings: fv.warnings };
}

async function handleStatus(s: ApiServer, served: ServedResource, info: RequestInfo, req: ApiRequest, rc: RequestContext): Promise<ApiResponse> {
  const { decl } = served;
  const output = negotiateOutput(req.headers['accept']);
  switch (info.verb) {
    case 'get':
      return respondObject(s, served, await s.registry.get(served.storage, info.namespace, info.name), output, req.query);
    case 'update': {
      const input = requireObject(decodeRequestBody(req), served);
      const { warnings } = validateBody(served, req, input, 'update');
      const body = toStorage(served, input);
      const { obj } = await s.registry.update(served.storage, info.namespace, info.name, (cur) => checkResourceVersion(decl, info.name, body, cur), rc, {
        subresource: 'status',
      });
      return withWarnings(respondObject(s, served, obj, output, req.query), warnings);
    }
    case 'patch': {
      const { obj, warnings } = await patchObject(s, served, info, req, rc, 'status');
      return withWarnings(respondObject(s, served, obj, output, req.query), warnings ?? []);
    }
  }
  throw methodNotSupported({ group: decl.group, resource: `${decl.plural}/status` }, info.verb);
}

// ---- scale subresource (autoscaling/v1 Scale) ----

function getPath(obj: KObject, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: KObject, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

export function toScale(decl: ResourceDecl, obj: KObject): KObject {
  const sc = decl.subresources!.scale!;
  let selector = sc.labelSelectorPath ? getPath(obj, sc.labelSelectorPath) : undefined;
  if (selector && typeof selector === 'object') selector = labelSelectorString(selector as Record<string, unknown>);
  else if (!selector && obj.spec?.selector) selector = labelSelectorString(obj.spec.selector);
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: (getPath(obj, sc.specReplicasPath) as number | undefined) ?? 0 },
    status: {
      replicas: (getPath(obj, sc.statusReplicasPath) as number | undefined) ?? 0,
      ...(selector ? { selector } : {}),
    },
  };
}

/** metav1.LabelSelectorAsSelector(...).String() for the Scale status. */
function labelSelectorString(sel: Record<string, unknown>): string {
  if (!('matchLabels' in sel) && !('matchExpressions' in sel)) {
    // A plain map selector (ReplicationController).
    return Object.entries(sel as Record<string, string>)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries((sel['matchLabels'] ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1))) parts.push(`${k}=${v}`);
  for (const e of (sel['matchExpressions'] ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

async function handleScale(s: ApiServer, served: ServedResource, info: RequestInfo, req: ApiRequest, rc: RequestContext): Promise<ApiResponse> {
  const { decl } = served;
  const sc = decl.subresources!.scale!;
  switch (info.verb) {
    case 'get':
      return { status: 200, body: toScale(decl, await s.registry.get(decl, info.namespace, info.name)) };
    case 'update':
    case 'patch': {
      const body = decodeRequestBody(req);
      const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
      const scaleServed: ServedResource = { decl: scaleDecl, version: 'v1', storage: scaleDecl };
      const fv = info.verb === 'patch' ? patchValidation(req, contentType) : undefined;
      const bodyWarnings = !fv && body && typeof body === 'object' && !Array.isArray(body) ? validateBody(scaleServed, req, body as KObject, 'update').warnings : [];
      const { obj } = await s.registry.update(
        decl,
        info.namespace,
        info.name,
        (cur) => {
          const scale = toScale(decl, cur);
          let next: KObject;
          if (info.verb === 'patch') {
            if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(contentType, PATCH_TYPES);
            next = applyPatch(scaleServed, contentType, scale, body) as KObject;
            fv!.checkPatched(scaleServed, body, next);
          } else {
            if (!body || typeof body !== 'object') throw badRequest('the body of the request was not a valid Scale object');
            next = body as KObject;
          }
          const rv = next.metadata?.resourceVersion;
          if (rv && rv !== cur.metadata.resourceVersion) throw conflict(gr(decl), info.name, OPTIMISTIC_LOCK_MESSAGE);
          const replicas = next.spec?.replicas;
          if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0))
            throw invalid('autoscaling', 'Scale', info.name, [
              { type: 'FieldValueInvalid', field: 'spec.replicas', badValue: replicas, detail: 'must be greater than or equal to 0' },
            ]);
          setPath(cur, sc.specReplicasPath, replicas ?? 0);
          return cur;
        },
        rc,
      );
      return withWarnings({ status: 200, body: toScale(decl, obj) }, fv?.warnings ?? bodyWarnings);
    }
  }
  throw methodNotSupported({ group: decl.group, resource: `${decl.plural}/scale` }, info.verb);
}

/** Scale objects are patched with the Scale's own (trivial) patch metadata. */
const scaleDecl: ResourceDecl = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'Scale',
  plural: 'scales',
  singular: 'scale',
  namespaced: true,
};

export { notFound };
