// Parses a request path into what it addresses, like upstream's RequestInfoFactory:
//   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
//   /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/{subresource}
//   /api/v1/watch/…  (deprecated watch prefix)

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection (resource requests); the HTTP method otherwise. */
  verb: string;
  apiPrefix?: 'api' | 'apis';
  group: string;
  version: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (proxy paths). */
  rest: string[];
}

const specialVerbs = new Set(['proxy', 'watch']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    group: '',
    version: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    rest: [],
  };
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return info;
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  let i = 1;
  if (prefix === 'apis') {
    if (parts.length < 3) {
      if (parts.length === 2) info.group = decodeURIComponent(parts[1]!);
      return info;
    }
    info.group = decodeURIComponent(parts[1]!);
    i = 2;
  } else if (parts.length < 2) {
    return info;
  }
  info.version = decodeURIComponent(parts[i]!);
  i++;
  let rest = parts.slice(i).map(decodeURIComponent);
  if (rest.length === 0) return info;
  info.isResourceRequest = true;

  let special = '';
  if (specialVerbs.has(rest[0]!)) {
    special = rest[0]!;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1]!;
      // /namespaces/{name}[/{subresource}] addresses the namespace itself.
      if (rest.length > 2 && !(rest.length === 3 && ['status', 'finalize'].includes(rest[2]!))) {
        rest = rest.slice(2);
      } else {
        info.resource = 'namespaces';
        info.name = rest[1]!;
        info.namespace = '';
        if (rest.length === 3) info.subresource = rest[2]!;
        rest = [];
      }
    } else {
      info.resource = 'namespaces';
      rest = [];
    }
  }
  if (rest.length > 0) {
    info.resource = rest[0]!;
    if (rest.length > 1) info.name = rest[1]!;
    if (rest.length > 2) info.subresource = rest[2]!;
    if (rest.length > 3) info.rest = rest.slice(3);
  }

  const m = method.toUpperCase();
  if (special === 'watch') info.verb = 'watch';
  else if (special === 'proxy') info.verb = 'proxy';
  else if (m === 'GET' || m === 'HEAD') {
    info.verb = info.name ? 'get' : isWatch(query) ? 'watch' : 'list';
  } else if (m === 'POST') info.verb = 'create';
  else if (m === 'PUT') info.verb = 'update';
  else if (m === 'PATCH') info.verb = 'patch';
  else if (m === 'DELETE') info.verb = info.name ? 'delete' : 'deletecollection';
  if (info.verb === 'get' && isWatch(query)) info.verb = 'watch';
  return info;
}

function isWatch(q: URLSearchParams): boolean {
  const w = q.get('watch');
  return w === 'true' || w === '1';
}
