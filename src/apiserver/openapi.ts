// OpenAPI documents computed from ResourceDecls: /openapi/v2 (swagger 2.0), the /openapi/v3 index
// and one /openapi/v3/<api/v1 | apis/<group>/<version>> document per group version.
//
// What kubectl 1.27–1.33 does with them (checked against kubectl/cli-runtime sources):
// - Field validation: kubectl asks the server to validate (fieldValidation=Strict) when the group
//   version's v3 document has, for the kind's GVK, a PATCH operation listing a `fieldValidation`
//   query parameter (cli-runtime QueryParamVerifierV3: it inspects the first PATCH operation with
//   that GVK, in map order, so every PATCH operation of a kind must carry it, status and scale
//   included). Otherwise it validates client-side against /openapi/v2, which client-go only
//   requests as protobuf; we answer that with 406, so client-side validation would fail.
// - kubectl apply (client-side): builds a strategic merge patch from the v3 schema when the PATCH
//   operation accepts application/strategic-merge-patch+json, else from /openapi/v2 (protobuf only,
//   so skipped here), else from kubectl's compiled-in Go types. Built-in kinds have their full
//   schemas with patch metadata (openapi/definitions.ts), so their PATCH operations advertise
//   strategic merge patch, as upstream's do; custom resources' do not (upstream refuses strategic
//   merge patch for them with 415, and kubectl applies them with JSON merge patch).
//
// Definitions: built-in kinds and everything they reference come from the generated definitions
// (openapi/definitions.ts, scripts/gen-openapi-defs.mjs); custom resources from their CRD's
// openAPIV3Schema. `kubectl explain` (1.27+) reads them from the v3 documents.
import { createHash } from 'node:crypto';
import type { ResourceDecl } from '../api/types.js';
import { apiGroupsInOrder, isBuiltinGroup, servedVersions, subresourcesOf, verbsOf } from './discovery.js';
import { builtinDefinitions, customResourceDefinition, customResourceListDefinition, refClosure, toV3Schema as defToV3 } from './openapi/definitions.js';

export interface OpenAPIDocument {
  /** The document; shared by every caller, never mutate it. */
  doc: Record<string, unknown>;
  /** Its JSON text, serialised once. */
  body: string;
  /** sha512 of body, upper-case hex (kube-openapi's ETag and ?hash= value). */
  hash: string;
}

type Schema = Record<string, unknown>;

interface GVK {
  group: string;
  version: string;
  kind: string;
}

// ---- naming ----

const DEF_PREFIX: Record<string, string> = {
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
  'metrics.k8s.io': 'io.k8s.metrics.pkg.apis.metrics',
};

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** Definition name as upstream spells it: io.k8s.api.apps.v1.Deployment, com.example.stable.v1.CronTab. */
export function definitionName(group: string, version: string, kind: string): string {
  const prefix =
    DEF_PREFIX[group] ??
    (group === ''
      ? 'io.k8s.api.core'
      : isBuiltinGroup(group)
        ? `io.k8s.api.${group.split('.')[0]}`
        : group.split('.').reverse().join('.'));
  return `${prefix}.${version}.${kind}`;
}

const cap = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** "Core", "Apps", "RbacAuthorization", "FlowcontrolApiserver", "StableExampleCom". */
function groupPart(group: string): string {
  if (group === '') return 'Core';
  return group.replace(/\.k8s\.io$/, '').split(/[.-]/).map(cap).join('');
}

function tagOf(group: string, version: string): string {
  const g = groupPart(group);
  return `${g[0]!.toLowerCase()}${g.slice(1)}_${version}`;
}

function gvPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The /openapi/v3 key of a group version: "api/v1", "apis/apps/v1". */
export function gvPath(group: string, version: string): string {
  return gvPrefix(group, version).slice(1);
}

// ---- parameters ----

interface ParamDef {
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

const PARAMS: Record<string, ParamDef> = {
  allowWatchBookmarks: { in: 'query', type: 'boolean', description: 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers may ignore it; bookmarks are sent at the server\'s discretion. Ignored when this is not a watch.' },
  continue: { in: 'query', type: 'string', description: 'The continue option should be set when retrieving more results from the server, with the value of metadata.continue of the previous page. An expired value yields 410 ResourceExpired.' },
  dryRun: { in: 'query', type: 'string', description: 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed' },
  fieldManager: { in: 'query', type: 'string', description: 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters. Required for apply requests (application/apply-patch).' },
  fieldSelector: { in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.' },
  fieldValidation: { in: 'query', type: 'string', description: 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: unknown fields are silently dropped and all but the last duplicate field are ignored. - Warn: a warning is sent for each unknown or duplicate field; the request still succeeds. This is the default in v1.23+ - Strict: the request fails with a BadRequest error listing every unknown and duplicate field.' },
  force: { in: 'query', type: 'boolean', description: 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.' },
  gracePeriodSeconds: { in: 'query', type: 'integer', description: 'The duration in seconds before the object should be deleted. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used.' },
  ignoreStoreReadErrorWithClusterBreakingPotential: { in: 'query', type: 'boolean', description: 'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.' },
  labelSelector: { in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.' },
  limit: { in: 'query', type: 'integer', description: 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata.' },
  orphanDependents: { in: 'query', type: 'boolean', description: 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned.' },
  pretty: { in: 'query', type: 'string', description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)." },
  propagationPolicy: { in: 'query', type: 'string', description: "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'." },
  resourceVersion: { in: 'query', type: 'string', description: 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset.' },
  resourceVersionMatch: { in: 'query', type: 'string', description: 'resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults to unset.' },
  sendInitialEvents: { in: 'query', type: 'boolean', description: '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.' },
  timeoutSeconds: { in: 'query', type: 'integer', description: 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.' },
  watch: { in: 'query', type: 'boolean', description: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.' },
  namespace: { in: 'path', type: 'string', required: true, description: 'object name and auth scope, such as for teams and projects' },
  path: { in: 'path', type: 'string', required: true, description: 'path to the resource' },
  // log
  container: { in: 'query', type: 'string', description: 'The container for which to stream logs. Defaults to only container if there is one container in the pod.' },
  follow: { in: 'query', type: 'boolean', description: 'Follow the log stream of the pod. Defaults to false.' },
  insecureSkipTLSVerifyBackend: { in: 'query', type: 'boolean', description: 'insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.' },
  limitBytes: { in: 'query', type: 'integer', description: 'If set, the number of bytes to read from the server before terminating the log output.' },
  previous: { in: 'query', type: 'boolean', description: 'Return previous terminated container logs. Defaults to false.' },
  stream: { in: 'query', type: 'string', description: 'Specify which container log stream to return to the client. Acceptable values are "All", "Stdout" and "Stderr". If not specified, "All" is used.' },
  sinceSeconds: { in: 'query', type: 'integer', description: 'A relative time in seconds before the current time from which to show logs.' },
  tailLines: { in: 'query', type: 'integer', description: 'If set, the number of lines from the end of the logs to show.' },
  timestamps: { in: 'query', type: 'boolean', description: 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.' },
  // exec / attach / portforward
  command: { in: 'query', type: 'string', description: 'Command is the remote command to execute. argv array. Not executed within a shell.' },
  stdin: { in: 'query', type: 'boolean', description: 'Redirect the standard input stream of the pod for this call. Defaults to false.' },
  stdout: { in: 'query', type: 'boolean', description: 'Redirect the standard output stream of the pod for this call.' },
  stderr: { in: 'query', type: 'boolean', description: 'Redirect the standard error stream of the pod for this call.' },
  tty: { in: 'query', type: 'boolean', description: 'TTY if true indicates that a tty will be allocated for the call. Defaults to false.' },
  ports: { in: 'query', type: 'integer', description: 'List of ports to forward.' },
};

const LIST_QUERY = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const WRITE_QUERY = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];
const DELETE_QUERY = ['dryRun', 'gracePeriodSeconds', 'ignoreStoreReadErrorWithClusterBreakingPotential', 'orphanDependents', 'propagationPolicy'];
const DELETECOLLECTION_QUERY = ['continue', 'dryRun', 'fieldSelector', 'gracePeriodSeconds', 'ignoreStoreReadErrorWithClusterBreakingPotential', 'labelSelector', 'limit', 'orphanDependents', 'propagationPolicy', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds'];
const LOG_QUERY = ['container', 'follow', 'insecureSkipTLSVerifyBackend', 'limitBytes', 'previous', 'sinceSeconds', 'stream', 'tailLines', 'timestamps'];
const CONNECT_QUERY: Record<string, string[]> = {
  exec: ['command', 'container', 'stderr', 'stdin', 'stdout', 'tty'],
  attach: ['container', 'stderr', 'stdin', 'stdout', 'tty'],
  portforward: ['ports'],
  proxy: [],
};

function byParamName(ps: [string, ParamDef][]): [string, ParamDef][] {
  return ps.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A path parameter "name" described the way upstream does ("name of the Pod"). */
function nameParam(what: string): [string, ParamDef] {
  return ['name', { in: 'path', type: 'string', required: true, description: `name of the ${what}` }];
}

// ---- operations (format-neutral, rendered to v2 and v3 below) ----

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete' | 'head' | 'options';
type Produces = 'object' | 'watchable' | 'text' | 'any';

interface Op {
  method: Method;
  operationId: string;
  description: string;
  action: string;
  gvk?: GVK;
  query: string[];
  body?: { ref: string; required: boolean };
  consumes: 'any' | 'patch' | 'strategic-patch';
  produces: Produces;
  responses: { code: number; ref?: string; string?: boolean }[];
}

interface PathItem {
  path: string;
  params: [string, ParamDef][];
  ops: Op[];
}

const OBJECT_TYPES = ['application/json', 'application/yaml'];
const WATCH_TYPES = [...OBJECT_TYPES, 'application/json;stream=watch'];

function patchTypes(strategic: boolean): string[] {
  // Strategic merge patch only where the definition carries patch metadata: see the header.
  return strategic
    ? ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']
    : ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
}

function producesList(p: Produces): string[] {
  switch (p) {
    case 'object':
      return OBJECT_TYPES;
    case 'watchable':
      return WATCH_TYPES;
    case 'text':
      return ['text/plain', ...OBJECT_TYPES];
    case 'any':
      return ['*/*'];
  }
}

const ok = (ref: string, ...codes: number[]) => codes.map((code) => ({ code, ref }));

/** Every path a decl serves in one version, with the operations its verbs allow. */
function pathsFor(d: ResourceDecl, version: string): PathItem[] {
  const verbs = new Set(verbsOf(d));
  const gvk: GVK = { group: d.group, version, kind: d.kind };
  const G = groupPart(d.group) + cap(version);
  const kindRef = definitionName(d.group, version, d.kind);
  const listRef = definitionName(d.group, version, d.listKind ?? `${d.kind}List`);
  const base = gvPrefix(d.group, version);
  const ns = d.namespaced ? 'Namespaced' : '';
  const coll = d.namespaced ? `${base}/namespaces/{namespace}/${d.plural}` : `${base}/${d.plural}`;
  const watchColl = d.namespaced ? `${base}/watch/namespaces/{namespace}/${d.plural}` : `${base}/watch/${d.plural}`;
  const nsParams: [string, ParamDef][] = d.namespaced ? [['namespace', PARAMS.namespace!]] : [];
  const pretty: [string, ParamDef] = ['pretty', PARAMS.pretty!];
  const deleteRef = d.gracefulDeletion ? kindRef : `${META}.Status`;
  const strategic = isBuiltinGroup(d.group) && !d.openAPISchemas && builtinDefinitions() !== null;
  const out: PathItem[] = [];

  const collOps: Op[] = [];
  if (verbs.has('deletecollection')) {
    collOps.push({ method: 'delete', operationId: `delete${G}Collection${ns}${d.kind}`, description: `delete collection of ${d.kind}`, action: 'deletecollection', gvk, query: DELETECOLLECTION_QUERY, body: { ref: `${META}.DeleteOptions`, required: false }, consumes: 'any', produces: 'object', responses: ok(`${META}.Status`, 200) });
  }
  if (verbs.has('list')) {
    collOps.push({ method: 'get', operationId: `list${G}${ns}${d.kind}`, description: `list or watch objects of kind ${d.kind}`, action: 'list', gvk, query: LIST_QUERY, consumes: 'any', produces: 'watchable', responses: ok(listRef, 200) });
  }
  if (verbs.has('create')) {
    collOps.push({ method: 'post', operationId: `create${G}${ns}${d.kind}`, description: `create ${article(d.kind)} ${d.kind}`, action: 'post', gvk, query: WRITE_QUERY, body: { ref: kindRef, required: true }, consumes: 'any', produces: 'object', responses: ok(kindRef, 200, 201, 202) });
  }
  if (collOps.length) out.push({ path: coll, params: [...nsParams, pretty], ops: collOps });

  const itemOps: Op[] = [];
  if (verbs.has('delete')) {
    itemOps.push({ method: 'delete', operationId: `delete${G}${ns}${d.kind}`, description: `delete ${article(d.kind)} ${d.kind}`, action: 'delete', gvk, query: DELETE_QUERY, body: { ref: `${META}.DeleteOptions`, required: false }, consumes: 'any', produces: 'object', responses: ok(deleteRef, 200, 202) });
  }
  if (verbs.has('get')) {
    itemOps.push({ method: 'get', operationId: `read${G}${ns}${d.kind}`, description: `read the specified ${d.kind}`, action: 'get', gvk, query: [], consumes: 'any', produces: 'object', responses: ok(kindRef, 200) });
  }
  if (verbs.has('patch')) {
    itemOps.push(patchOp(`patch${G}${ns}${d.kind}`, `partially update the specified ${d.kind}`, gvk, kindRef, strategic));
  }
  if (verbs.has('update')) {
    itemOps.push({ method: 'put', operationId: `replace${G}${ns}${d.kind}`, description: `replace the specified ${d.kind}`, action: 'put', gvk, query: WRITE_QUERY, body: { ref: kindRef, required: true }, consumes: 'any', produces: 'object', responses: ok(kindRef, 200, 201) });
  }
  const itemParams: [string, ParamDef][] = [nameParam(d.kind), ...nsParams, pretty];
  if (itemOps.length) out.push({ path: `${coll}/{name}`, params: itemParams, ops: itemOps });

  // Upstream puts the list options of these paths on the path, not the operation.
  const listParams = (extra: [string, ParamDef][]) => byParamName([...extra, pretty, ...LIST_QUERY.map((q): [string, ParamDef] => [q, PARAMS[q]!])]);
  if (verbs.has('list') && d.namespaced) {
    out.push({ path: `${base}/${d.plural}`, params: listParams([]), ops: [{ method: 'get', operationId: `list${G}${d.kind}ForAllNamespaces`, description: `list or watch objects of kind ${d.kind}`, action: 'list', gvk, query: [], consumes: 'any', produces: 'watchable', responses: ok(listRef, 200) }] });
  }
  if (verbs.has('watch')) {
    const watchEvent = `${META}.WatchEvent`;
    out.push({ path: watchColl, params: listParams(nsParams), ops: [{ method: 'get', operationId: `watch${G}${ns}${d.kind}List`, description: `watch individual changes to a list of ${d.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, query: [], consumes: 'any', produces: 'watchable', responses: ok(watchEvent, 200) }] });
    out.push({ path: `${watchColl}/{name}`, params: listParams([nameParam(d.kind), ...nsParams]), ops: [{ method: 'get', operationId: `watch${G}${ns}${d.kind}`, description: `watch changes to an object of kind ${d.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, action: 'watch', gvk, query: [], consumes: 'any', produces: 'watchable', responses: ok(watchEvent, 200) }] });
    if (d.namespaced) {
      out.push({ path: `${base}/watch/${d.plural}`, params: listParams([]), ops: [{ method: 'get', operationId: `watch${G}${d.kind}ListForAllNamespaces`, description: `watch individual changes to a list of ${d.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, query: [], consumes: 'any', produces: 'watchable', responses: ok(watchEvent, 200) }] });
    }
  }

  for (const s of subresourcesOf(d)) {
    const subGVK: GVK = { group: s.group ?? d.group, version: s.version ?? version, kind: s.kind };
    const subRef = definitionName(subGVK.group, subGVK.version, subGVK.kind);
    const Sub = cap(s.name);
    const path = `${coll}/{name}/${s.name}`;
    const sv = new Set(s.verbs);
    const ops: Op[] = [];
    const id = (verb: string, extra = '') => `${verb}${G}${extra}${ns}${d.kind}${Sub}`;
    if (s.name in CONNECT_QUERY) {
      // exec/attach/portforward/proxy are "connect" operations: GET/POST (proxy: every method).
      const methods: Method[] = s.name === 'proxy' ? ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'] : ['get', 'post'];
      for (const m of methods) {
        ops.push({ method: m, operationId: id('connect', cap(m)), description: `connect ${m.toUpperCase()} requests to ${s.name} of ${d.kind}`, action: 'connect', gvk: subGVK, query: CONNECT_QUERY[s.name]!, consumes: 'any', produces: 'any', responses: [{ code: 200, string: true }] });
      }
      out.push({ path, params: [nameParam(s.kind), ...nsParams], ops });
      if (s.name === 'proxy') {
        out.push({ path: `${path}/{path}`, params: [nameParam(s.kind), ...nsParams, ['path', PARAMS.path!]], ops: ops.map((o) => ({ ...o, operationId: `${o.operationId}WithPath` })) });
      }
      continue;
    }
    if (s.name === 'log') {
      ops.push({ method: 'get', operationId: id('read'), description: `read log of the specified ${d.kind}`, action: 'get', gvk: subGVK, query: LOG_QUERY, consumes: 'any', produces: 'text', responses: [{ code: 200, string: true }] });
      out.push({ path, params: [nameParam(d.kind), ...nsParams, pretty], ops });
      continue;
    }
    if (sv.has('get')) ops.push({ method: 'get', operationId: id('read'), description: `read ${s.name} of the specified ${d.kind}`, action: 'get', gvk: subGVK, query: [], consumes: 'any', produces: 'object', responses: ok(subRef, 200) });
    if (sv.has('patch')) ops.push(patchOp(id('patch'), `partially update ${s.name} of the specified ${d.kind}`, subGVK, subRef, strategic));
    if (sv.has('update')) ops.push({ method: 'put', operationId: id('replace'), description: `replace ${s.name} of the specified ${d.kind}`, action: 'put', gvk: subGVK, query: WRITE_QUERY, body: { ref: subRef, required: true }, consumes: 'any', produces: 'object', responses: ok(subRef, 200, 201) });
    if (sv.has('create')) ops.push({ method: 'post', operationId: id('create'), description: `create ${s.name} of ${article(d.kind)} ${d.kind}`, action: 'post', gvk: subGVK, query: WRITE_QUERY, body: { ref: subRef, required: true }, consumes: 'any', produces: 'object', responses: ok(subRef, 200, 201, 202) });
    if (ops.length) out.push({ path, params: [nameParam(s.kind), ...nsParams, pretty], ops });
  }
  return out;
}

function patchOp(operationId: string, description: string, gvk: GVK, ref: string, strategic: boolean): Op {
  return { method: 'patch', operationId, description, action: 'patch', gvk, query: PATCH_QUERY, body: { ref: `${META}.Patch`, required: true }, consumes: strategic ? 'strategic-patch' : 'patch', produces: 'object', responses: ok(ref, 200, 201) };
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}

function resourcesPath(group: string, version: string): PathItem {
  return {
    path: `${gvPrefix(group, version)}/`,
    params: [],
    ops: [{ method: 'get', operationId: `get${groupPart(group)}${cap(version)}APIResources`, description: 'get available resources', action: '', query: [], consumes: 'any', produces: 'object', responses: ok(`${META}.APIResourceList`, 200) }],
  };
}

// ---- definitions ----

const ref2 = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str = (description: string): Schema => ({ type: 'string', description });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const int = (format: 'int32' | 'int64', description: string): Schema => ({ type: 'integer', format, description });
const strMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string' }, description });
const strList = (description: string): Schema => ({ type: 'array', items: { type: 'string' }, description });

const TYPE_META: Record<string, Schema> = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents. In CamelCase.'),
};

/** apimachinery meta/v1 types every document refers to. */
function metaDefinitions(gvks: GVK[]): Record<string, Schema> {
  const gvkExt = (kind: string) => gvks.map((g) => ({ group: g.group, kind, version: g.version }));
  return {
    [`${META}.ObjectMeta`]: {
      description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
      type: 'object',
      properties: {
        annotations: strMap('Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.'),
        creationTimestamp: { ...ref2(`${META}.Time`), description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' },
        deletionGracePeriodSeconds: int('int64', 'Number of seconds allowed for this object to gracefully terminate before it will be removed from the system.'),
        deletionTimestamp: { ...ref2(`${META}.Time`), description: 'DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted.' },
        finalizers: { ...strList('Must be empty before the object is deleted from the registry.'), 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.'),
        generation: int('int64', 'A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.'),
        labels: strMap('Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
        managedFields: { type: 'array', items: ref2(`${META}.ManagedFieldsEntry`), description: 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.' },
        name: str('Name must be unique within a namespace. Cannot be updated.'),
        namespace: str('Namespace defines the space within which each name must be unique. Cannot be updated.'),
        ownerReferences: { type: 'array', items: ref2(`${META}.OwnerReference`), description: 'List of objects depended by this object.', 'x-kubernetes-list-map-keys': ['uid'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' },
        resourceVersion: str('An opaque value that represents the internal version of this object. Populated by the system. Read-only.'),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
        uid: str('UID is the unique in time and space value for this object. Populated by the system. Read-only.'),
      },
    },
    [`${META}.ListMeta`]: {
      description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.',
      type: 'object',
      properties: {
        continue: str('continue may be set if the user set a limit on the number of items returned.'),
        remainingItemCount: int('int64', 'remainingItemCount is the number of subsequent items in the list which are not included in this list response.'),
        resourceVersion: str('String that identifies the server\'s internal version of this object that can be used by clients to determine when objects have changed.'),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
      },
    },
    [`${META}.Time`]: { description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON (RFC 3339).', type: 'string', format: 'date-time' },
    [`${META}.FieldsV1`]: { description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.', type: 'object' },
    [`${META}.ManagedFieldsEntry`]: {
      description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
      type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
        fieldsType: str('FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: "FieldsV1"'),
        fieldsV1: { ...ref2(`${META}.FieldsV1`), description: 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.' },
        manager: str('Manager is an identifier of the workflow managing these fields.'),
        operation: str("Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'."),
        subresource: str('Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource.'),
        time: { ...ref2(`${META}.Time`), description: 'Time is the timestamp of when the ManagedFields entry was added.' },
      },
    },
    [`${META}.OwnerReference`]: {
      description: 'OwnerReference contains enough information to let you identify an owning object.',
      type: 'object',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: str('API version of the referent.'),
        blockOwnerDeletion: { type: 'boolean', description: 'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.' },
        controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
        kind: str('Kind of the referent.'),
        name: str('Name of the referent.'),
        uid: str('UID of the referent.'),
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.Status`]: {
      description: 'Status is a return value for calls that don\'t return other objects.',
      type: 'object',
      properties: {
        ...TYPE_META,
        code: int('int32', 'Suggested HTTP return code for this status, 0 if not set.'),
        details: { ...ref2(`${META}.StatusDetails`), description: 'Extended data associated with the reason.', 'x-kubernetes-list-type': 'atomic' },
        message: str('A human-readable description of the status of this operation.'),
        metadata: { ...ref2(`${META}.ListMeta`), description: 'Standard list metadata.' },
        reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
        status: str('Status of the operation. One of: "Success" or "Failure".'),
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
    },
    [`${META}.StatusDetails`]: {
      description: 'StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.',
      type: 'object',
      properties: {
        causes: { type: 'array', items: ref2(`${META}.StatusCause`), description: 'The Causes array includes more details associated with the StatusReason failure.', 'x-kubernetes-list-type': 'atomic' },
        group: str('The group attribute of the resource associated with the status StatusReason.'),
        kind: str('The kind attribute of the resource associated with the status StatusReason.'),
        name: str('The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described).'),
        retryAfterSeconds: int('int32', 'If specified, the time in seconds before the operation should be retried.'),
        uid: str('UID of the resource.'),
      },
    },
    [`${META}.StatusCause`]: {
      description: 'StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.',
      type: 'object',
      properties: {
        field: str('The field of the resource that has caused this error, as named by its JSON serialization.'),
        message: str('A human-readable description of the cause of the error.'),
        reason: str('A machine-readable description of the cause of the error. If this value is empty there is no information available.'),
      },
    },
    [`${META}.Preconditions`]: {
      description: 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.',
      type: 'object',
      properties: { resourceVersion: str('Specifies the target ResourceVersion'), uid: str('Specifies the target UID.') },
    },
    [`${META}.DeleteOptions`]: {
      description: 'DeleteOptions may be provided when deleting an API object.',
      type: 'object',
      properties: {
        ...TYPE_META,
        dryRun: { ...strList('When present, indicates that modifications should not be persisted.'), 'x-kubernetes-list-type': 'atomic' },
        gracePeriodSeconds: int('int64', 'The duration in seconds before the object should be deleted.'),
        ignoreStoreReadErrorWithClusterBreakingPotential: { type: 'boolean', description: 'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.' },
        orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy.' },
        preconditions: { ...ref2(`${META}.Preconditions`), description: 'Must be fulfilled before a deletion is carried out.' },
        propagationPolicy: str("Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
      },
      'x-kubernetes-group-version-kind': gvkExt('DeleteOptions'),
    },
    [`${META}.Patch`]: { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
    [`${META}.WatchEvent`]: {
      description: 'Event represents a single event to a watched resource.',
      type: 'object',
      required: ['type', 'object'],
      properties: {
        object: { ...ref2('io.k8s.apimachinery.pkg.runtime.RawExtension'), description: 'Object is: * If Type is Added or Modified: the new state of the object. * If Type is Deleted: the state of the object immediately before deletion. * If Type is Error: *Status is recommended.' },
        type: str('Type of the event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.'),
      },
      'x-kubernetes-group-version-kind': gvkExt('WatchEvent'),
    },
    'io.k8s.apimachinery.pkg.runtime.RawExtension': { description: 'RawExtension is used to hold extensions in external versions.', type: 'object' },
    [`${META}.APIResource`]: {
      description: 'APIResource specifies the name of a resource and whether it is namespaced.',
      type: 'object',
      required: ['name', 'singularName', 'namespaced', 'kind', 'verbs'],
      properties: {
        categories: { ...strList('categories is a list of the grouped resources this resource belongs to (e.g. \'all\')'), 'x-kubernetes-list-type': 'atomic' },
        group: str('group is the preferred group of the resource.'),
        kind: str("kind is the kind for the resource (e.g. 'Foo' is the kind for a resource 'foo')"),
        name: str('name is the plural name of the resource.'),
        namespaced: { type: 'boolean', description: 'namespaced indicates if a resource is namespaced or not.' },
        shortNames: { ...strList('shortNames is a list of suggested short names of the resource.'), 'x-kubernetes-list-type': 'atomic' },
        singularName: str('singularName is the singular name of the resource.'),
        storageVersionHash: str('The hash value of the storage version, the version this resource is converted to when written to the data store.'),
        verbs: strList('verbs is a list of supported kube verbs.'),
        version: str('version is the preferred version of the resource.'),
      },
    },
    [`${META}.APIResourceList`]: {
      description: 'APIResourceList is a list of APIResource, it is used to expose the name of the resources supported in a specific group and version, and if the resource is namespaced.',
      type: 'object',
      required: ['groupVersion', 'resources'],
      properties: {
        ...TYPE_META,
        groupVersion: str('groupVersion is the group and version this APIResourceList is for.'),
        resources: { type: 'array', items: ref2(`${META}.APIResource`), description: 'resources contains the name of the resources and if they are namespaced.', 'x-kubernetes-list-type': 'atomic' },
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'APIResourceList', version: 'v1' }],
    },
  };
}

/** autoscaling/v1 Scale is small and fixed, so it gets its real schema. */
function scaleDefinitions(): Record<string, Schema> {
  const p = 'io.k8s.api.autoscaling.v1';
  return {
    [`${p}.Scale`]: {
      description: 'Scale represents a scaling request for a resource.',
      type: 'object',
      properties: {
        ...TYPE_META,
        metadata: { ...ref2(`${META}.ObjectMeta`), description: "Standard object metadata; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata." },
        spec: { ...ref2(`${p}.ScaleSpec`), description: 'spec defines the behavior of the scale.' },
        status: { ...ref2(`${p}.ScaleStatus`), description: 'status is the current status of the scale. Read-only.' },
      },
      'x-kubernetes-group-version-kind': [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }],
    },
    [`${p}.ScaleSpec`]: { description: 'ScaleSpec describes the attributes of a scale subresource.', type: 'object', properties: { replicas: int('int32', 'replicas is the desired number of instances for the scaled object.') } },
    [`${p}.ScaleStatus`]: {
      description: 'ScaleStatus represents the current status of a scale subresource.',
      type: 'object',
      required: ['replicas'],
      properties: { replicas: int('int32', 'replicas is the actual number of observed instances of the scaled object.'), selector: str('selector is the label query over pods that should match the replicas count.') },
    },
  };
}

/**
 * A kind whose full schema kts does not publish yet: the standard type and object metadata,
 * everything else preserved. Enough for kubectl's GVK lookups and for `kubectl explain <kind>`.
 */
function simplifiedKind(g: GVK): Schema {
  return {
    description: `${g.kind} (${g.group || 'core'}/${g.version}). kts does not publish the full schema of this kind yet; fields other than apiVersion, kind and metadata are not described.`,
    type: 'object',
    properties: { ...TYPE_META, metadata: { ...ref2(`${META}.ObjectMeta`), description: "Standard object's metadata." } },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [{ group: g.group, kind: g.kind, version: g.version }],
  };
}

function listKind(g: GVK, itemRef: string): Schema {
  return {
    description: `${g.kind} is a list of ${itemRef.split('.').pop()}.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: TYPE_META.apiVersion,
      items: { type: 'array', items: ref2(itemRef), description: `List of ${itemRef.split('.').pop()}.` },
      kind: TYPE_META.kind,
      metadata: { ...ref2(`${META}.ListMeta`), description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ group: g.group, kind: g.kind, version: g.version }],
  };
}

// ---- assembly ----

interface Model {
  /** Group versions in discovery order ("" first). */
  gvs: { group: string; version: string; paths: PathItem[] }[];
  definitions: Record<string, Schema>;
}

function buildModel(decls: readonly ResourceDecl[]): Model {
  const coreVersions = [...new Set(decls.filter((d) => d.group === '').flatMap(servedVersions))];
  const groups = [...(coreVersions.length ? [{ group: '', versions: coreVersions }] : []), ...apiGroupsInOrder(decls)];
  const gvs: Model['gvs'] = [];
  const kindDefs: Record<string, Schema> = {};
  const generated = builtinDefinitions();
  /** Built-in definitions to publish with everything they reference. */
  const roots: string[] = [];
  const builtin = (name: string, fallback: () => Schema) => {
    if (generated?.[name]) roots.push(name);
    else kindDefs[name] ??= fallback();
  };
  let needsScale = false;
  const allGVKs: GVK[] = [];
  for (const g of groups) {
    for (const version of g.versions) {
      allGVKs.push({ group: g.group, version, kind: '' });
      const inGV = decls.filter((d) => d.group === g.group && servedVersions(d).includes(version)).sort((a, b) => (a.plural < b.plural ? -1 : 1));
      const paths = [resourcesPath(g.group, version)];
      for (const d of inGV) {
        const gvk = { group: d.group, version, kind: d.kind };
        const name = definitionName(d.group, version, d.kind);
        const lk = d.listKind ?? `${d.kind}List`;
        const listName = definitionName(d.group, version, lk);
        if (d.openAPISchemas || !isBuiltinGroup(d.group)) {
          kindDefs[name] ??= customResourceDefinition(d.openAPISchemas?.[version], gvk);
          kindDefs[listName] ??= customResourceListDefinition(name, { ...gvk, kind: lk });
        } else {
          builtin(name, () => simplifiedKind(gvk));
          // Create-only kinds (reviews) have no list kind.
          if (verbsOf(d).includes('list')) builtin(listName, () => listKind({ ...gvk, kind: lk }, name));
        }
        for (const s of subresourcesOf(d)) {
          if (s.group === 'autoscaling' && s.kind === 'Scale') needsScale = true;
          else if (s.kind !== d.kind && !(s.name in CONNECT_QUERY)) {
            // Eviction, Binding, TokenRequest … (connect subresources such as exec take query
            // options, not a body: upstream publishes no definition for their options kinds).
            const sg = { group: s.group ?? d.group, version: s.version ?? version, kind: s.kind };
            builtin(definitionName(sg.group, sg.version, sg.kind), () => simplifiedKind(sg));
          }
        }
        paths.push(...pathsFor(d, version));
      }
      gvs.push({ group: g.group, version, paths });
    }
  }
  const meta = metaDefinitions(allGVKs);
  const definitions: Record<string, Schema> = { ...meta, ...(needsScale && !generated ? scaleDefinitions() : {}), ...kindDefs };
  if (generated) {
    if (needsScale) roots.push('io.k8s.api.autoscaling.v1.Scale');
    const wanted = [...roots, ...Object.keys(meta).filter((n) => generated[n])];
    for (const n of refClosure(generated, wanted.map((n) => ({ $ref: `#/definitions/${n}` })))) definitions[n] = generated[n]!;
    // meta/v1 kinds: Status and APIResourceList are v1 kinds; DeleteOptions and WatchEvent are
    // listed in every group version (they travel in every group).
    for (const [n, m] of Object.entries(meta)) {
      if (generated[n] && m['x-kubernetes-group-version-kind']) definitions[n] = { ...generated[n], 'x-kubernetes-group-version-kind': m['x-kubernetes-group-version-kind'] };
    }
  }
  return { gvs, definitions: sortKeys(definitions) };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function v2Param(name: string, p: ParamDef): Schema {
  return { description: p.description, in: p.in, name, ...(p.required ? { required: true } : {}), type: p.type, uniqueItems: true };
}

function v3Param(name: string, p: ParamDef): Schema {
  return { description: p.description, in: p.in, name, ...(p.required ? { required: true } : {}), schema: { type: p.type, uniqueItems: true } };
}

function renderV2Op(op: Op, tag: string): Schema {
  const params: Schema[] = [];
  if (op.body) params.push({ in: 'body', name: 'body', ...(op.body.required ? { required: true } : {}), schema: ref2(op.body.ref) });
  for (const q of op.query) params.push(v2Param(q, PARAMS[q]!));
  const responses: Record<string, Schema> = {};
  for (const r of op.responses) {
    responses[String(r.code)] = { description: STATUS_TEXT[r.code]!, schema: r.string ? { type: 'string' } : ref2(r.ref!) };
  }
  responses['401'] = { description: 'Unauthorized' };
  return {
    consumes: op.consumes === 'any' ? ['*/*'] : patchTypes(op.consumes === 'strategic-patch'),
    description: op.description,
    operationId: op.operationId,
    ...(params.length ? { parameters: params } : {}),
    produces: producesList(op.produces),
    responses,
    schemes: ['https'],
    tags: [tag],
    ...(op.action ? { 'x-kubernetes-action': op.action } : {}),
    ...(op.gvk ? { 'x-kubernetes-group-version-kind': { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version } } : {}),
  };
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted' };

function renderV3Op(op: Op, tag: string): Schema {
  const ref3 = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const responses: Record<string, Schema> = {};
  for (const r of op.responses) {
    const schema = r.string ? { type: 'string' } : ref3(r.ref!);
    responses[String(r.code)] = { content: Object.fromEntries(producesList(op.produces).map((ct) => [ct, { schema }])), description: STATUS_TEXT[r.code]! };
  }
  responses['401'] = { description: 'Unauthorized' };
  const out: Schema = {
    description: op.description,
    operationId: op.operationId,
    ...(op.query.length ? { parameters: op.query.map((q) => v3Param(q, PARAMS[q]!)) } : {}),
  };
  if (op.body) {
    const types = op.consumes === 'any' ? ['*/*'] : patchTypes(op.consumes === 'strategic-patch');
    out.requestBody = { content: Object.fromEntries(types.map((ct) => [ct, { schema: ref3(op.body!.ref) }])), ...(op.body.required ? { required: true } : {}) };
  }
  out.responses = responses;
  out.tags = [tag];
  if (op.action) out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

function renderPaths(paths: PathItem[], tag: string, render: (op: Op, tag: string) => Schema, param: (n: string, p: ParamDef) => Schema) {
  const out: Record<string, Schema> = {};
  for (const item of paths) {
    const entry: Schema = {};
    for (const op of [...item.ops].sort((a, b) => (a.method < b.method ? -1 : 1))) entry[op.method] = render(op, tag);
    if (item.params.length) entry.parameters = item.params.map(([n, p]) => param(n, p));
    out[item.path] = entry;
  }
  return out;
}

const INFO = { title: 'Kubernetes', version: 'unversioned' };
const BEARER = { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } };

function document(doc: Record<string, unknown>): OpenAPIDocument {
  const body = JSON.stringify(doc);
  return { doc, body, hash: openapiHash(body) };
}

/** kube-openapi's ETag: sha512 of the served bytes, upper-case hex. */
export function openapiHash(body: string): string {
  return createHash('sha512').update(body).digest('hex').toUpperCase();
}

/** Every definition name reachable through $ref from `roots`. */
function closure(defs: Record<string, Schema>, roots: unknown): string[] {
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') {
        const name = x.replace(/^#\/(definitions|components\/schemas)\//, '');
        if (!seen.has(name) && defs[name]) {
          seen.add(name);
          visit(defs[name]);
        }
      } else visit(x);
    }
  };
  visit(roots);
  return [...seen].sort();
}

// ---- cache: documents are built once per set of decls ----

interface Built {
  model: Model;
  v2?: OpenAPIDocument;
  gv: Map<string, OpenAPIDocument | undefined>;
  index?: OpenAPIDocument;
}

const CACHE_SIZE = 4;
const cache = new Map<string, Built>();

/** What the documents depend on; functions (strategies, printers) do not matter. */
function fingerprint(decls: readonly ResourceDecl[]): string {
  return JSON.stringify(
    decls.map((d) => [d.group, d.version, d.versions, d.kind, d.listKind, d.plural, d.singular, d.namespaced, d.verbs, d.subresources, !!d.gracefulDeletion, d.openAPISchemas]),
  );
}

function built(decls: readonly ResourceDecl[]): Built {
  const key = fingerprint(decls);
  let b = cache.get(key);
  if (b) {
    // Refresh LRU position.
    cache.delete(key);
    cache.set(key, b);
    return b;
  }
  b = { model: buildModel(decls), gv: new Map() };
  cache.set(key, b);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return b;
}

/** GET /openapi/v2 (JSON). */
export function openapiV2(decls: readonly ResourceDecl[]): OpenAPIDocument {
  const b = built(decls);
  if (!b.v2) {
    const paths: Record<string, Schema> = {};
    for (const gv of b.model.gvs) Object.assign(paths, renderPaths(gv.paths, tagOf(gv.group, gv.version), renderV2Op, v2Param));
    b.v2 = document({ definitions: b.model.definitions, info: INFO, paths: sortKeys(paths), security: [{ BearerToken: [] }], securityDefinitions: BEARER, swagger: '2.0' });
  }
  return b.v2;
}

/** GET /openapi/v3/<gvPath> ("api/v1", "apis/apps/v1"); undefined when nothing is served there. */
export function openapiV3GroupVersion(decls: readonly ResourceDecl[], path: string): OpenAPIDocument | undefined {
  const b = built(decls);
  const key = path.replace(/^\/+|\/+$/g, '');
  if (b.gv.has(key)) return b.gv.get(key);
  const gv = b.model.gvs.find((x) => gvPath(x.group, x.version) === key);
  let doc: OpenAPIDocument | undefined;
  if (gv) {
    const paths = sortKeys(renderPaths(gv.paths, tagOf(gv.group, gv.version), renderV3Op, v3Param));
    const defs = b.model.definitions;
    const schemas = Object.fromEntries(closure(defs, paths).map((n) => [n, defToV3(n, defs[n]!)]));
    doc = document({ components: { schemas, securitySchemes: BEARER }, info: INFO, openapi: '3.0.0', paths });
  }
  b.gv.set(key, doc);
  return doc;
}

/** GET /openapi/v3: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}. */
export function openapiV3Index(decls: readonly ResourceDecl[]): OpenAPIDocument {
  const b = built(decls);
  if (!b.index) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of b.model.gvs) {
      const key = gvPath(gv.group, gv.version);
      const doc = openapiV3GroupVersion(decls, key)!;
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${doc.hash}` };
    }
    b.index = document({ paths: sortKeys(paths) });
  }
  return b.index;
}

// ---- /openapi/v2 content negotiation ----

/** What kube-openapi answers protobuf requests with ('@' is not valid in a Content-Type). */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * Which form of /openapi/v2 to answer with. client-go asks only for
 * "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"; a 406 there is not survivable:
 * client-go retries /swagger-2.0.0.pb-v1 and kubectl 1.27/1.28 `apply` then fails with
 * "the server could not find the requested resource". undefined: 406.
 */
export function negotiateOpenAPIV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  if (!accept) return 'json';
  for (const entry of accept.split(',')) {
    const type = entry.split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'json';
    if (type === 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' || type === OPENAPI_V2_PROTOBUF_CONTENT_TYPE) return 'protobuf';
  }
  return undefined;
}

/**
 * /openapi/v2 in protobuf form: an empty gnostic openapi_v2.Document (zero bytes is a valid
 * message). It has no definitions, so kubectl's v2 lookups find nothing and it uses the v3
 * documents (field validation) and its compiled-in types (apply patches) instead; client-side
 * validation skips kinds it cannot find. Encoding the full document is future work.
 */
export function openapiV2Protobuf(): Buffer {
  return Buffer.alloc(0);
}
