// Server-side apply and managedFields for the generic REST handlers: which manager a
// request acts for, the apply type of a resource, the registry hook that records Update
// ownership, and the apply PATCH itself.
import type { KObject, ResourceDecl } from '../../api/types.js';
import { apiVersionOf } from '../../api/types.js';
import { forbidden, invalid as invalidField, required } from '../../api/validation/field.js';
import type { ApiServer } from '../apiserver.js';
import { badRequest, invalid } from '../errors.js';
import { schemaFor } from '../patch/patchmeta.js';
import type { RequestContext } from '../registry.js';
import type { ApiRequest } from '../request.js';
import type { RequestInfo } from '../requestinfo.js';
import type { ServedResource } from '../resources.js';
import { timestamp } from '../registry.js';
import { applyConfig, trackUpdate, type TrackContext } from './managedfields.js';
import { builtinNode, crdNode, DEDUCED, type JSONSchemaLike, type TypeNode } from './typeschema.js';

export { applyConfig, trackUpdate, decodeManagedFields, encodeManagedFields, conflictError } from './managedfields.js';
export { FieldSet, pathString } from './fieldpath.js';
export { toFieldSet, merge, compare } from './structured.js';
export { builtinNode, crdNode, DEDUCED } from './typeschema.js';

export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';
export const FIELD_MANAGER_MAX_LENGTH = 128;

const crdTypes = new WeakMap<ResourceDecl, Map<string, TypeNode>>();

/** The apply type of a served resource: built-in patch metadata, a CRD's schema, or deduced. */
export async function typeNodeFor(s: ApiServer, served: ServedResource): Promise<TypeNode> {
  const { decl, version } = served;
  const builtin = schemaFor(decl.group, version, decl.kind);
  if (builtin) return builtinNode(builtin);
  let byVersion = crdTypes.get(decl);
  const cached = byVersion?.get(version);
  if (cached) return cached;
  let node = DEDUCED;
  const crdDecl = s.resources.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')?.decl;
  if (crdDecl && decl.group) {
    try {
      const crd = await s.registry.get(crdDecl, '', `${decl.plural}.${decl.group}`);
      const v = ((crd.spec?.versions ?? []) as { name: string; schema?: { openAPIV3Schema?: JSONSchemaLike } }[]).find((x) => x.name === version);
      if (v?.schema?.openAPIV3Schema) node = crdNode(v.schema.openAPIV3Schema);
    } catch {
      /* not a custom resource: deduced */
    }
  }
  if (!byVersion) crdTypes.set(decl, (byVersion = new Map()));
  byVersion.set(version, node);
  return node;
}

/** The manager of a request: ?fieldManager=, else the first segment of the User-Agent (upstream's prefixFromUserAgent). */
export function fieldManagerOf(req: ApiRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm) return fm;
  return (req.headers['user-agent'] ?? '').split('/')[0]!;
}

/** ValidatePatchOptions / ValidateFieldManager. */
export function validateManagerOptions(req: ApiRequest, kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', apply: boolean): void {
  const fm = req.query.get('fieldManager') ?? '';
  const errs = [];
  if (kind === 'PatchOptions') {
    if (!apply && req.query.has('force')) errs.push(forbidden('force', 'may not be specified for non-apply patch'));
    if (apply && !fm) errs.push(required('fieldManager', 'is required for apply patch'));
  }
  if (fm.length > FIELD_MANAGER_MAX_LENGTH) errs.push({ type: 'FieldValueTooLong' as const, field: 'fieldManager', badValue: fm, detail: `must have at most ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f-\u009f]/u.exec(fm);
  if (bad) {
    const cp = bad[0].codePointAt(0)!;
    errs.push(invalidField('fieldManager', fm, `invalid character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at position ${bad.index})`));
  }
  if (errs.length) throw invalid('meta.k8s.io', kind, '', errs);
}

function trackContext(s: ApiServer, served: ServedResource, manager: string, subresource: string, node: TypeNode): TrackContext {
  return {
    manager,
    apiVersion: apiVersionOf(served.decl, served.version),
    subresource,
    hasStatus: !!served.decl.subresources?.status,
    node,
    now: timestamp(s.clock.now()),
  };
}

/**
 * The registry hook recording Update ownership for a create, update or (non-apply) patch
 * through the main resource or the status/scale subresource.
 */
export function updateTracker(s: ApiServer, served: ServedResource, req: ApiRequest, subresource: string): NonNullable<RequestContext['manageFields']> {
  const manager = fieldManagerOf(req);
  return async (obj, old) => {
    const node = await typeNodeFor(s, served);
    trackUpdate(old, obj, trackContext(s, served, manager, subresource, node));
  };
}

/** Query `force`: only "true" forces. */
function forceOf(req: ApiRequest): boolean {
  const f = req.query.get('force');
  if (f === null || f === '' || f === 'false') return false;
  if (f === 'true') return true;
  throw badRequest(`invalid force value ${JSON.stringify(f)}`);
}

export interface Conversions {
  toServed(served: ServedResource, stored: KObject): KObject;
  toStorage(served: ServedResource, obj: KObject): KObject;
}

/**
 * PATCH with application/apply-patch+yaml: server-side apply to the object (creating it if
 * missing, except through a subresource).
 */
export async function serverSideApply(
  s: ApiServer,
  served: ServedResource,
  info: RequestInfo,
  config: unknown,
  req: ApiRequest,
  rc: RequestContext,
  subresource: '' | 'status',
  conv: Conversions,
): Promise<{ obj: KObject; created: boolean }> {
  validateManagerOptions(req, 'PatchOptions', true);
  const { decl, version } = served;
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw badRequest('the body of the request was not a valid object');
  const cfg = config as KObject;
  const want = apiVersionOf(decl, version);
  if (cfg.apiVersion !== want) throw badRequest(`the API version in the data (${cfg.apiVersion ?? ''}) does not match the expected API version (${want})`);
  if (cfg.kind !== decl.kind) throw badRequest(`the kind in the data (${cfg.kind ?? ''}) does not match the expected kind (${decl.kind})`);
  if (cfg.metadata !== undefined && (typeof cfg.metadata !== 'object' || cfg.metadata === null || Array.isArray(cfg.metadata)))
    throw badRequest('the object provided is unrecognized: metadata must be an object');
  if (cfg.metadata?.name !== undefined && cfg.metadata.name !== info.name)
    throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${info.name})`);
  const force = forceOf(req);
  const node = await typeNodeFor(s, served);
  const ctx = trackContext(s, served, req.query.get('fieldManager')!, subresource, node);
  let managedFields: unknown;
  const hookRc: RequestContext = {
    ...rc,
    manageFields: (obj) => {
      obj.metadata ??= {};
      if (managedFields === undefined) delete obj.metadata.managedFields;
      else obj.metadata.managedFields = structuredClone(managedFields) as never;
    },
  };
  return s.registry.update(
    served.storage,
    info.namespace,
    info.name,
    (cur) => {
      const live = conv.toServed(served, structuredClone(cur));
      const { obj } = applyConfig(live, cfg, ctx, force);
      managedFields = obj.metadata.managedFields;
      return conv.toStorage(served, obj);
    },
    hookRc,
    {
      subresource,
      createIfMissing: subresource
        ? undefined
        : () => {
            const base: KObject = { apiVersion: want, kind: decl.kind, metadata: { name: info.name, ...(decl.namespaced ? { namespace: info.namespace } : {}) } };
            const { obj } = applyConfig(undefined, { ...cfg, metadata: { ...(cfg.metadata ?? {}), name: info.name } }, ctx, force);
            managedFields = obj.metadata.managedFields;
            return conv.toStorage(served, { ...obj, apiVersion: want, kind: decl.kind, metadata: { ...obj.metadata, ...base.metadata } });
          },
    },
  );
}
