// EndpointsController (pkg/controller/endpoint): for every Service with a selector, the
// Endpoints object of the same name listing the selected pods' addresses, grouped by the set
// of ports they serve. Services without a selector are left alone (their Endpoints belong to
// the user); the Endpoints of a deleted Service are deleted.
import type { KObject } from '../api/types.js';
import { labelSelectorFromObject, selectorFromSet, type LabelSelector } from '../api/labels.js';
import { call, isConflict, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { keyOf } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Upstream's maxCapacity: addresses (ready + not ready) one Endpoints object may hold. */
export const MAX_ENDPOINTS_CAPACITY = 1000;

// ---- helpers shared with the EndpointSlice controller -------------------------------------

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KObject): boolean {
  const conds = (pod.status?.conditions ?? []) as { type: string; status: string }[];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function isPodTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** endpointutil.ShouldPodBeInEndpoints. */
export function shouldPodBeInEndpoints(pod: KObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's IP of the service's (first) IP family. */
export function podIPForService(pod: KObject, svc: KObject): string | undefined {
  const family = (svc.spec?.ipFamilies ?? [])[0] ?? 'IPv4';
  const ips: string[] = ((pod.status?.podIPs ?? []) as { ip: string }[]).map((p) => p.ip).filter(Boolean);
  if (pod.status?.podIP && !ips.includes(pod.status.podIP)) ips.unshift(pod.status.podIP);
  const want6 = family === 'IPv6';
  return ips.find((ip) => ip.includes(':') === want6);
}

/** podutil.FindPort: a numeric targetPort as is; a named one from the pod's container ports. */
export function findPort(pod: KObject, svcPort: { port?: number; targetPort?: number | string; protocol?: string }): number | undefined {
  const tp = svcPort.targetPort ?? svcPort.port;
  const proto = svcPort.protocol ?? 'TCP';
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string') {
    if (/^\d+$/.test(tp)) return Number(tp);
    const containers = [
      ...((pod.spec?.containers ?? []) as KObject[]),
      ...((pod.spec?.initContainers ?? []) as KObject[]).filter((c) => c['restartPolicy'] === 'Always'),
    ];
    for (const c of containers) {
      for (const p of (c['ports'] ?? []) as { name?: string; containerPort: number; protocol?: string }[]) {
        if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
      }
    }
  }
  return undefined;
}

export function isHeadless(svc: KObject): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** endpointutil.ShouldSetHostname. */
export function hostnameFor(pod: KObject, svc: KObject): string | undefined {
  const h = pod.spec?.hostname;
  if (h && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) return h;
  return undefined;
}

/** The time the pod's Ready condition last changed (getPodTriggerTime). */
export function podTriggerTime(pod: KObject): string | undefined {
  const c = ((pod.status?.conditions ?? []) as { type: string; lastTransitionTime?: string }[]).find((x) => x.type === 'Ready');
  return c?.lastTransitionTime ?? undefined;
}

/** A cache of parsed service selectors, by uid + resourceVersion. */
export class SelectorCache {
  private cache = new Map<string, { rv: string; sel: LabelSelector }>();
  get(svc: KObject): LabelSelector | undefined {
    const sel = svc.spec?.selector as Record<string, string> | undefined;
    if (!sel) return undefined;
    const k = keyOf(svc);
    const hit = this.cache.get(k);
    if (hit && hit.rv === svc.metadata.resourceVersion) return hit.sel;
    const s = selectorFromSet(sel);
    this.cache.set(k, { rv: svc.metadata.resourceVersion ?? '', sel: s });
    return s;
  }
  delete(key: string): void {
    this.cache.delete(key);
  }
}

/** Parses a metav1.LabelSelector; undefined when invalid. */
export function selectorOf(obj: unknown): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(obj as never);
  } catch {
    return undefined;
  }
}

export function namespaceIndex(obj: KObject): string[] {
  return [obj.metadata.namespace ?? ''];
}

/** Pods in a namespace, through the shared pods informer's namespace index. */
export function podsInNamespace(pods: Informer, ns: string): KObject[] {
  return pods.byIndex('namespace', ns);
}

/** Runs `n` workers over a queue: sync(key), forget on success, rate-limited requeue on error. */
export function runWorkers(queue: WorkQueue, n: number, ready: () => Promise<void>, sync: (key: string) => Promise<void>, onError: (key: string, e: unknown) => void): void {
  const worker = async () => {
    await ready();
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (e) {
        onError(key, e);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  for (let i = 0; i < n; i++) void worker();
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  return ka.every((k) => (b ?? {})[k] === (a ?? {})[k]);
}

// ---- subsets ---------------------------------------------------------------------------------

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
}
export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

const portKey = (p: EndpointPort) => `${p.name ?? ''}\x00${p.port}\x00${p.protocol}\x00${p.appProtocol ?? ''}`;
const addrKey = (a: EndpointAddress) => `${a.ip}\x00${a.targetRef?.uid ?? ''}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * endpoints.RepackSubsets: one subset per distinct set of addresses, carrying every port
 * those addresses serve; an address ready in one place counts as ready. Sorted, so that
 * equal inputs produce equal outputs.
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const allAddrs = new Map<string, EndpointAddress>();
  // port key → (address key → ready)
  const portToAddrs = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();
  const map = (ss: EndpointSubset, port: EndpointPort | undefined) => {
    const pk = port ? portKey(port) : '\x01sentinel';
    let e = portToAddrs.get(pk);
    if (!e) portToAddrs.set(pk, (e = { port, addrs: new Map() }));
    for (const a of ss.addresses ?? []) {
      const k = addrKey(a);
      if (!allAddrs.has(k)) allAddrs.set(k, a);
      e.addrs.set(k, true);
    }
    for (const a of ss.notReadyAddresses ?? []) {
      const k = addrKey(a);
      if (!allAddrs.has(k)) allAddrs.set(k, a);
      if (!e.addrs.has(k)) e.addrs.set(k, false);
    }
  };
  for (const ss of subsets) {
    if (!ss.ports?.length) map(ss, undefined);
    else for (const p of ss.ports) map(ss, p);
  }
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs } of portToAddrs.values()) {
    if (addrs.size === 0) continue;
    const key = [...addrs].map(([k, r]) => `${k}\x00${r ? 1 : 0}`).sort().join('\x02');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of g.addrs) (r ? ready : notReady).push(allAddrs.get(k)!);
    const byIP = (a: EndpointAddress, b: EndpointAddress) => cmp(a.ip, b.ip) || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
    ready.sort(byIP);
    notReady.sort(byIP);
    g.ports.sort((a, b) => cmp(a.name ?? '', b.name ?? '') || a.port - b.port || cmp(a.protocol, b.protocol));
    const ss: EndpointSubset = {};
    if (ready.length) ss.addresses = ready;
    if (notReady.length) ss.notReadyAddresses = notReady;
    if (g.ports.length) ss.ports = g.ports;
    out.push(ss);
  }
  const sortKey = (ss: EndpointSubset) => JSON.stringify([(ss.ports ?? []).map(portKey), (ss.addresses ?? []).map(addrKey), (ss.notReadyAddresses ?? []).map(addrKey)]);
  out.sort((a, b) => cmp(sortKey(a), sortKey(b)));
  return out;
}

/** truncateEndpoints: keeps at most MAX_ENDPOINTS_CAPACITY addresses, ready ones first, proportionally per subset. */
export function truncateSubsets(subsets: EndpointSubset[], max = MAX_ENDPOINTS_CAPACITY): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const budget = truncateReady ? max : max - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let added = 0;
  for (const ss of subsets) {
    const inSubset = truncateReady ? (ss.addresses?.length ?? 0) : (ss.notReadyAddresses?.length ?? 0);
    let n = Math.ceil((inSubset / numTotal) * budget);
    if (n > budget - added) n = budget - added;
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, n);
      if (!ss.addresses.length) delete ss.addresses;
      delete ss.notReadyAddresses;
      added += ss.addresses?.length ?? 0;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, n);
      if (!ss.notReadyAddresses.length) delete ss.notReadyAddresses;
      added += ss.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}

/** The Endpoints subsets a Service should have, given the pods in its namespace. */
export function computeSubsets(svc: KObject, pods: KObject[]): { subsets: EndpointSubset[]; triggerTime?: string } {
  const sel = selectorFromSet(svc.spec?.selector ?? {});
  const tolerateUnready = !!svc.spec?.publishNotReadyAddresses;
  const svcPorts = (svc.spec?.ports ?? []) as { name?: string; port: number; targetPort?: number | string; protocol?: string; appProtocol?: string }[];
  const subsets: EndpointSubset[] = [];
  let trigger: string | undefined = svc.metadata.creationTimestamp;
  for (const pod of pods) {
    if (!sel.matches(pod.metadata.labels)) continue;
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIPForService(pod, svc);
    if (!ip) continue;
    const addr: EndpointAddress = { ip };
    const hostname = hostnameFor(pod, svc);
    if (hostname) addr.hostname = hostname;
    addr.nodeName = pod.spec?.nodeName ?? '';
    addr.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name!, uid: pod.metadata.uid };
    const ready = tolerateUnready || isPodReady(pod);
    const t = podTriggerTime(pod);
    if (t && (!trigger || t > trigger)) trigger = t;
    const add = (ports: EndpointPort[] | undefined) => {
      const ss: EndpointSubset = ready ? { addresses: [addr] } : { notReadyAddresses: [addr] };
      if (ports) ss.ports = ports;
      subsets.push(ss);
    };
    if (svcPorts.length === 0) {
      if (isHeadless(svc)) add(undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      // Upstream orders the fields name, port, protocol, appProtocol.
      add([{ ...(ep.name ? { name: ep.name } : {}), port: ep.port, protocol: ep.protocol, ...(ep.appProtocol ? { appProtocol: ep.appProtocol } : {}) }]);
    }
  }
  return { subsets: repackSubsets(subsets), triggerTime: trigger };
}

// ---- the controller ----------------------------------------------------------------------------

export interface EndpointsControllerOptions {
  workers?: number;
}

export class EndpointsController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000 * 1000 });
  private services!: Informer;
  private pods!: Informer;
  private endpoints!: Informer;
  private readonly selectors = new SelectorCache();

  constructor(
    readonly ctx: ControllerContext,
    private readonly opts: EndpointsControllerOptions = {},
  ) {}

  start(): void {
    const inf = this.ctx.informers;
    this.services = inf.informer({ group: '', version: 'v1', plural: 'services' });
    this.pods = inf.pods();
    this.endpoints = inf.informer({ group: '', version: 'v1', plural: 'endpoints' });
    this.pods.addIndexer('namespace', namespaceIndex);
    this.services.addIndexer('namespace', namespaceIndex);

    this.services.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => {
        this.selectors.delete(keyOf(s));
        this.queue.add(keyOf(s));
      },
    });
    this.pods.addHandlers({
      onAdd: (p) => this.enqueueForPod(p),
      onUpdate: (o, p) => {
        if (o.metadata.resourceVersion === p.metadata.resourceVersion) return;
        this.enqueueForPod(p, o);
      },
      onDelete: (p) => this.enqueueForPod(p),
    });
    this.endpoints.addHandlers({
      // An Endpoints object changed or deleted by someone else: put it back if it is ours.
      onUpdate: (_o, e) => this.enqueueIfService(e),
      onDelete: (e) => this.enqueueIfService(e),
    });
    runWorkers(
      this.queue,
      this.opts.workers ?? 5,
      async () => {
        await Promise.all([this.services.waitForSync(), this.pods.waitForSync(), this.endpoints.waitForSync()]);
        this.checkLeftoverEndpoints();
      },
      (key) => this.sync(key),
      (key, e) => this.ctx.log.debug('endpoints sync failed', { key, error: String(e) }),
    );
  }

  stop(): void {
    this.queue.shutDown();
  }

  private enqueueIfService(e: KObject): void {
    const svc = this.services.get(keyOf(e));
    if (svc?.spec?.selector) this.queue.add(keyOf(e));
  }

  private enqueueForPod(pod: KObject, old?: KObject): void {
    for (const svc of this.services.byIndex('namespace', pod.metadata.namespace ?? '')) {
      const sel = this.selectors.get(svc);
      if (!sel) continue;
      if (sel.matches(pod.metadata.labels) || (old && sel.matches(old.metadata.labels))) this.queue.add(keyOf(svc));
    }
  }

  /** Endpoints left from Services deleted while the controller was not running. */
  private checkLeftoverEndpoints(): void {
    for (const ep of this.endpoints.list()) {
      if (this.services.get(keyOf(ep))) continue;
      // The leader-election Endpoints of old components have no Service and are not ours.
      if (ep.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader']) continue;
      this.queue.add(keyOf(ep));
    }
  }

  async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.services.get(key);
    const path = resourcePath('', 'v1', 'endpoints', ns, name);
    if (!svc) {
      // The Service is gone: its Endpoints go too (they have no ownerReference).
      if (!this.endpoints.get(key)) return;
      try {
        await call(this.ctx.client, 'DELETE', path);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    if (!svc.spec?.selector) return; // the user manages these Endpoints
    if (svc.spec?.type === 'ExternalName') return;

    const { subsets, triggerTime } = computeSubsets(svc, podsInNamespace(this.pods, ns));
    const truncated = truncateSubsets(subsets);
    const current = this.endpoints.get(key);

    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    delete labels[HEADLESS_LABEL];
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';

    if (current) {
      const curLabels = { ...(current.metadata.labels ?? {}) };
      const overOK = truncated ? current.metadata.annotations?.[OVER_CAPACITY] === 'truncated' : !current.metadata.annotations?.[OVER_CAPACITY];
      if (subsetsEqual(current.subsets ?? [], subsets) && sameLabels(curLabels, labels) && overOK) return;
    }

    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = triggerTime;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];

    const metadata: KObject['metadata'] = { name, namespace: ns, labels };
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    const body: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets };
    try {
      if (current) {
        const next = structuredClone(current);
        next.metadata.labels = labels;
        next.metadata.annotations = annotations;
        if (!Object.keys(annotations).length) delete next.metadata.annotations;
        next.subsets = subsets;
        await call(this.ctx.client, 'PUT', path, { body: next });
      } else {
        await call(this.ctx.client, 'POST', resourcePath('', 'v1', 'endpoints', ns), { body });
      }
    } catch (e) {
      // A namespace being deleted refuses new objects: nothing to do.
      if (!current && e instanceof StatusError && e.code === 403 && /being terminated/.test(e.message)) return;
      if (isConflict(e) || (e instanceof StatusError && e.code === 409)) throw e; // stale cache: retry
      throw e;
    }
  }
}

/** Deep equality of subsets, ignoring targetRef.resourceVersion (endpointSubsetsEqualIgnoreResourceVersion). */
function subsetsEqual(a: EndpointSubset[], b: EndpointSubset[]): boolean {
  const norm = (ss: EndpointSubset[]) =>
    JSON.stringify(
      repackSubsets(
        structuredClone(ss).map((s) => {
          for (const list of [s.addresses, s.notReadyAddresses]) for (const x of list ?? []) if (x.targetRef) delete (x.targetRef as Record<string, unknown>)['resourceVersion'];
          return s;
        }),
      ),
      (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => cmp(x, y))) : v),
    );
  return norm(a) === norm(b);
}
