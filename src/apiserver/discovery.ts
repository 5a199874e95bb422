// API discovery documents (/api, /apis, /apis/<group>, /api/v1, /apis/<group>/<version>), in the
// legacy (meta/v1) and aggregated (apidiscovery.k8s.io/v2 and v2beta1) forms, computed from ResourceDecls.
// Shapes, key order and orderings follow kube-apiserver + kube-aggregator byte for byte where we can.
import { createHash } from 'node:crypto';
import type { ResourceDecl, Verb } from '../api/types.js';

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

// kube-aggregator's group priorities (cmd/kube-apiserver/app/aggregator.go merged with
// pkg/controlplane/apiserver's generic ones, v1.32). Groups are listed by priority, highest first,
// then by name; versions inside a group by version priority, then kube-aware version order.
const GROUP_PRIORITY: Record<string, { group: number; versions: Record<string, number> }> = {
  '': { group: 18000, versions: { v1: 1 } },
  apps: { group: 17800, versions: { v1: 15 } },
  'events.k8s.io': { group: 17750, versions: { v1: 15, v1beta1: 5 } },
  'authentication.k8s.io': { group: 17700, versions: { v1: 15, v1beta1: 9, v1alpha1: 1 } },
  'authorization.k8s.io': { group: 17600, versions: { v1: 15 } },
  autoscaling: { group: 17500, versions: { v2: 30, v1: 15, v2beta1: 9, v2beta2: 1 } },
  batch: { group: 17400, versions: { v1: 15, v1beta1: 9, v2alpha1: 9 } },
  'certificates.k8s.io': { group: 17300, versions: { v1: 15, v1beta1: 9, v1alpha1: 1 } },
  'networking.k8s.io': { group: 17200, versions: { v1: 15, v1beta1: 9 } },
  policy: { group: 17100, versions: { v1: 15, v1beta1: 9 } },
  'rbac.authorization.k8s.io': { group: 17000, versions: { v1: 15 } },
  'storage.k8s.io': { group: 16800, versions: { v1: 15, v1beta1: 9, v1alpha1: 1 } },
  'apiextensions.k8s.io': { group: 16700, versions: { v1: 15 } },
  'admissionregistration.k8s.io': { group: 16700, versions: { v1: 15, v1beta1: 12, v1alpha1: 9 } },
  'scheduling.k8s.io': { group: 16600, versions: { v1: 15 } },
  'coordination.k8s.io': { group: 16500, versions: { v1: 15, v1beta1: 13, v1alpha2: 12 } },
  'node.k8s.io': { group: 16300, versions: { v1: 15, v1beta1: 9, v1alpha1: 1 } },
  'discovery.k8s.io': { group: 16200, versions: { v1: 15, v1beta1: 12 } },
  'resource.k8s.io': { group: 16200, versions: { v1beta2: 15, v1beta1: 9, v1alpha3: 1 } },
  'flowcontrol.apiserver.k8s.io': {
    group: 16100,
    versions: { v1: 21, v1beta3: 18, v1beta2: 15, v1beta1: 12, v1alpha1: 9 },
  },
  'internal.apiserver.k8s.io': { group: 16000, versions: { v1alpha1: 9 } },
  'storagemigration.k8s.io': { group: 15800, versions: { v1alpha1: 9 } },
  // metrics-server registers its APIService with groupPriorityMinimum 100.
  'metrics.k8s.io': { group: 100, versions: { v1beta1: 100 } },
};
/** CustomResourceDefinition groups get groupPriorityMinimum 1000 (crdregistration controller). */
const DEFAULT_GROUP_PRIORITY = 1000;

// ---- version and group ordering ----

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** CompareKubeAwareVersionStrings: GA > beta > alpha > anything else; bigger numbers first. */
export function compareKubeAwareVersions(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma && !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (!ma) return 1;
  if (!mb) return -1;
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (ma[1] !== mb[1]) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/** Groups served by kube-apiserver itself (not CRDs, not aggregated APIs). */
export function isBuiltinGroup(group: string): boolean {
  return group !== 'metrics.k8s.io' && Object.prototype.hasOwnProperty.call(GROUP_PRIORITY, group);
}

function groupPriority(group: string): number {
  return GROUP_PRIORITY[group]?.group ?? DEFAULT_GROUP_PRIORITY;
}

function sortVersions(group: string, versions: Iterable<string>): string[] {
  const prio = GROUP_PRIORITY[group]?.versions ?? {};
  return [...new Set(versions)].sort((a, b) => {
    const pa = prio[a] ?? 0;
    const pb = prio[b] ?? 0;
    return pa !== pb ? pb - pa : compareKubeAwareVersions(a, b);
  });
}

export function servedVersions(decl: ResourceDecl): string[] {
  return decl.versions && decl.versions.length > 0 ? decl.versions : [decl.version];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface GroupVersions {
  group: string;
  /** Preferred first. */
  versions: string[];
}

/** The named groups (not core) in /apis order, each with its versions in preference order. */
export function apiGroupsInOrder(decls: readonly ResourceDecl[]): GroupVersions[] {
  const byGroup = new Map<string, Set<string>>();
  for (const d of decls) {
    if (d.group === '') continue;
    const set = byGroup.get(d.group) ?? new Set<string>();
    for (const v of servedVersions(d)) set.add(v);
    byGroup.set(d.group, set);
  }
  return [...byGroup.keys()]
    .sort((a, b) => groupPriority(b) - groupPriority(a) || byName(a, b))
    .map((group) => ({ group, versions: sortVersions(group, byGroup.get(group)!) }));
}

function coreVersions(decls: readonly ResourceDecl[]): string[] {
  return sortVersions('', decls.filter((d) => d.group === '').flatMap(servedVersions));
}

// ---- legacy discovery (meta/v1) ----

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

/** GET /api: {"kind":"APIVersions",...}. serverAddress is host:port as clients reach this server. */
export function apiVersions(decls: readonly ResourceDecl[], serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: coreVersions(decls),
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function toAPIGroup(g: GroupVersions): APIGroup {
  const versions = g.versions.map((version) => ({ groupVersion: `${g.group}/${version}`, version }));
  return { name: g.group, versions, preferredVersion: versions[0]! };
}

/** GET /apis. */
export function apiGroupList(decls: readonly ResourceDecl[]) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroupsInOrder(decls).map(toAPIGroup) };
}

/** GET /apis/<group>; undefined when no resource is served in that group (404). */
export function apiGroup(decls: readonly ResourceDecl[], group: string) {
  const g = apiGroupsInOrder(decls).find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...toAPIGroup(g) } : undefined;
}

/** discovery.StorageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

interface SubresourceInfo {
  name: string;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
}

// What each well-known subresource answers with (upstream's REST storages for pods, nodes, services, …).
const KNOWN_SUBRESOURCES: Record<string, (decl: ResourceDecl) => Omit<SubresourceInfo, 'name'>> = {
  status: (d) => ({ kind: d.kind, verbs: ['get', 'patch', 'update'] }),
  scale: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }),
  binding: () => ({ kind: 'Binding', verbs: ['create'] }),
  eviction: () => ({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }),
  log: (d) => ({ kind: d.kind, verbs: ['get'] }),
  exec: (d) => ({ kind: `${d.kind}ExecOptions`, verbs: ['create', 'get'] }),
  attach: (d) => ({ kind: `${d.kind}AttachOptions`, verbs: ['create', 'get'] }),
  portforward: (d) => ({ kind: `${d.kind}PortForwardOptions`, verbs: ['create', 'get'] }),
  proxy: (d) => ({ kind: `${d.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] }),
  ephemeralcontainers: (d) => ({ kind: d.kind, verbs: ['get', 'patch', 'update'] }),
  resize: (d) => ({ kind: d.kind, verbs: ['get', 'patch', 'update'] }),
  finalize: (d) => ({ kind: d.kind, verbs: ['update'] }),
  approval: (d) => ({ kind: d.kind, verbs: ['get', 'patch', 'update'] }),
  token: () => ({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }),
};

/**
 * The subresources a decl declares, sorted by name. Only keys present (and truthy) in
 * decl.subresources count; a value may carry {kind, group, version, verbs} to describe a
 * subresource this table does not know.
 */
export function subresourcesOf(decl: ResourceDecl): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  const subs = (decl.subresources ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(subs).sort(byName)) {
    const value = subs[name];
    if (!value) continue;
    const known = KNOWN_SUBRESOURCES[name]?.(decl);
    const custom = typeof value === 'object' ? (value as Partial<SubresourceInfo>) : {};
    const info = {
      kind: custom.kind ?? known?.kind ?? decl.kind,
      group: custom.group ?? known?.group,
      version: custom.version ?? known?.version,
      verbs: Array.isArray(custom.verbs) ? [...custom.verbs].sort(byName) : (known?.verbs ?? ['get', 'patch', 'update']),
    };
    out.push({ name, ...info });
  }
  return out;
}

export function verbsOf(decl: ResourceDecl): string[] {
  return [...(decl.verbs ?? ALL_VERBS)].sort(byName);
}

function declsIn(decls: readonly ResourceDecl[], group: string, version: string): ResourceDecl[] {
  return decls
    .filter((d) => d.group === group && servedVersions(d).includes(version))
    .sort((a, b) => byName(a.plural, b.plural));
}

/** The APIResource entries of one group version: resources and "<plural>/<sub>" entries, by name. */
export function apiResources(decls: readonly ResourceDecl[], group: string, version: string): APIResource[] {
  const out: APIResource[] = [];
  for (const d of declsIn(decls, group, version)) {
    const verbs = verbsOf(d);
    const r: APIResource = { name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs };
    if (d.shortNames?.length) r.shortNames = [...d.shortNames];
    if (d.categories?.length) r.categories = [...d.categories];
    // Only persisted resources carry a hash (bindings, componentstatuses, *reviews do not).
    if (verbs.includes('create') && verbs.includes('get')) {
      r.storageVersionHash = storageVersionHash(d.group, d.version, d.kind);
    }
    out.push(r);
    for (const s of subresourcesOf(d)) {
      out.push({
        name: `${d.plural}/${s.name}`,
        singularName: '',
        namespaced: d.namespaced,
        // Key order as upstream: group and version (only when they differ) come before kind.
        ...(s.group !== undefined ? { group: s.group, version: s.version ?? '' } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return out.sort((a, b) => byName(a.name, b.name));
}

/** GET /api/v1 or /apis/<group>/<version>; undefined when nothing is served there (404). */
export function apiResourceList(decls: readonly ResourceDecl[], group: string, version: string) {
  if (declsIn(decls, group, version).length === 0) return undefined;
  const resources = apiResources(decls, group, version);
  // Upstream's core list has no apiVersion; the named groups' lists do.
  return group === ''
    ? { kind: 'APIResourceList', groupVersion: version, resources }
    : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources };
}

// ---- aggregated discovery (apidiscovery.k8s.io) ----

export type AggregatedVersion = 'v2' | 'v2beta1';

interface GVK {
  group: string;
  version: string;
  kind: string;
}

function aggregatedResource(d: ResourceDecl) {
  const r: Record<string, unknown> = {
    resource: d.plural,
    // Same group/version as the containing one: left empty, as upstream does.
    responseKind: { group: '', version: '', kind: d.kind } satisfies GVK,
    scope: d.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: d.singular,
    verbs: verbsOf(d),
  };
  if (d.shortNames?.length) r.shortNames = [...d.shortNames];
  if (d.categories?.length) r.categories = [...d.categories];
  const subs = subresourcesOf(d);
  if (subs.length) {
    r.subresources = subs.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? '', version: s.version ?? '', kind: s.kind } satisfies GVK,
      verbs: s.verbs,
    }));
  }
  return r;
}

function groupDiscovery(decls: readonly ResourceDecl[], group: string, versions: string[]) {
  return {
    metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      resources: declsIn(decls, group, version).map(aggregatedResource),
      freshness: 'Current',
    })),
  };
}

/** APIGroupDiscoveryList for /api (the core group) or /apis (every named group, in priority order). */
export function aggregatedDiscovery(decls: readonly ResourceDecl[], root: 'api' | 'apis', version: AggregatedVersion) {
  const items =
    root === 'api'
      ? (() => {
          const versions = coreVersions(decls);
          return versions.length ? [groupDiscovery(decls, '', versions)] : [];
        })()
      : apiGroupsInOrder(decls).map((g) => groupDiscovery(decls, g.group, g.versions));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

/** Content-Type of an aggregated discovery answer; client-go matches on g, v and as. */
export function aggregatedContentType(version: AggregatedVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

/**
 * Which aggregated discovery form the Accept header asks for, if any. client-go sends, e.g.
 *   1.27–1.29: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json
 *   1.30+:     application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,…v2beta1…,application/json
 * The first acceptable entry wins (clients list preferred forms first; q-values are honoured
 * when present). undefined means: answer with the legacy document.
 */
export function negotiateDiscovery(accept: string | undefined): { version: AggregatedVersion; contentType: string } | undefined {
  if (!accept) return undefined;
  const candidates: { version: AggregatedVersion | undefined; q: number; index: number }[] = [];
  accept.split(',').forEach((entry, index) => {
    const [type, ...rawParams] = entry.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    const q = params.q !== undefined ? Number(params.q) : 1;
    if (!(q > 0)) return;
    const mediaType = (type ?? '').toLowerCase();
    if (params.g === undefined && params.as === undefined) {
      // A plain type that JSON satisfies means the legacy document is acceptable at this rank.
      if (mediaType === 'application/json' || mediaType === 'application/*' || mediaType === '*/*') {
        candidates.push({ version: undefined, q, index });
      }
      return;
    }
    // Protobuf aggregated discovery is not served; only JSON forms count.
    if (mediaType !== 'application/json') return;
    if (params.g !== 'apidiscovery.k8s.io' || params.as !== 'APIGroupDiscoveryList') return;
    if (params.v !== 'v2' && params.v !== 'v2beta1') return;
    // Profiles we do not implement (e.g. "nopeer" from newer clients) describe the same document.
    candidates.push({ version: params.v, q, index });
  });
  candidates.sort((a, b) => b.q - a.q || a.index - b.index);
  const best = candidates[0];
  if (!best?.version) return undefined;
  return { version: best.version, contentType: aggregatedContentType(best.version) };
}
