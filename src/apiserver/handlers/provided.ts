// REST storage provided by a component instead of the store: objects computed on each request
// (upstream: a rest.Storage implementing only Getter and Lister, as metrics-server's NodeMetrics
// and PodMetrics and kube-apiserver's componentstatuses are). The component answers "which
// objects"; everything else is generic over the ResourceDecl, as for stored resources: verbs
// (watch and writes get 405), scoping, label and field selectors, Table / metadata / YAML output.
import type { KObject } from '../../api/types.js';
import { apiVersionOf } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { methodNotSupported, notFound, notFoundPath } from '../errors.js';
import { negotiateOutput } from '../negotiation.js';
import { gr } from '../registry.js';
import type { ApiRequest, ApiResponse } from '../request.js';
import type { RequestInfo } from '../requestinfo.js';
import type { ServedResource } from '../resources.js';
import { partialMetadata, toTable, type IncludeObject } from '../table.js';
import { buildFilter } from './filter.js';
import { respondObject } from './resource.js';

export interface ProvidedStorage {
  /** The objects of a namespace ('' = every namespace, and always for cluster-scoped resources), in the served version. */
  list(namespace: string): Promise<KObject[]>;
  /**
   * One object; throws an ApiError (usually 404 with the component's own message) when there is
   * none. Without it, get finds the object in list() and answers upstream's generic NotFound.
   */
  get?(namespace: string, name: string): Promise<KObject>;
}

export async function handleProvided(s: ApiServer, served: ServedResource, storage: ProvidedStorage, info: RequestInfo, req: ApiRequest): Promise<ApiResponse> {
  const { decl } = served;
  if ((!decl.namespaced && info.namespace) || info.subresource) throw notFoundPath();
  const verb = info.verb;
  if ((verb !== 'get' && verb !== 'list') || !(decl.verbs ?? ['get', 'list']).includes(verb)) throw methodNotSupported(gr(decl), verb);
  const output = negotiateOutput(req.headers['accept']);
  if (verb === 'get') {
    const obj = storage.get
      ? await storage.get(info.namespace, info.name)
      : (await storage.list(info.namespace)).find((o) => o.metadata.name === info.name && (!decl.namespaced || o.metadata.namespace === info.namespace));
    if (!obj) throw notFound(gr(decl), info.name);
    return respondObject(s, served, obj, output, req.query);
  }
  const filter = buildFilter(decl, req.query);
  const items = (await storage.list(info.namespace)).filter((o) => !filter || filter(o));
  if (output === 'table') {
    const include = (req.query.get('includeObject') as IncludeObject) || 'Metadata';
    return { status: 200, body: toTable(decl, items.map((o) => ({ stored: o, served: o })), s.clock.now(), include, {}) };
  }
  if (output === 'partialMetadata' || output === 'partialMetadataList') {
    return { status: 200, body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: items.map(partialMetadata) } };
  }
  // Items go out as the component made them (typed lists' items carry no kind or apiVersion upstream).
  return {
    status: 200,
    contentType: output === 'yaml' ? 'application/yaml' : undefined,
    body: { kind: decl.listKind ?? `${decl.kind}List`, apiVersion: apiVersionOf(decl, served.version), metadata: {}, items },
  };
}
