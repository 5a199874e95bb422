// EndpointSliceController (pkg/controller/endpointslice): EndpointSlices for every Service
// with a selector — at most 100 endpoints a slice, one port set a slice, updated in place to
// keep churn low, owned by the Service (the garbage collector removes them with it). Slices
// written by someone else (no managed-by label of ours) and Services without a selector
// (such as `kubernetes`, reconciled by the API server) are left alone.
import type { KObject } from '../api/types.js';
import { call, isNotFound, resourcePath, StatusError } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { keyOf } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';
import {
  findPort,
  hostnameFor,
  HEADLESS_LABEL,
  isPodReady,
  LAST_CHANGE_TRIGGER_TIME,
  namespaceIndex,
  podTriggerTime,
  podsInNamespace,
  runWorkers,
  SelectorCache,
  shouldPodBeInEndpoints,
} from './endpoints.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

const SLICE_GROUP = 'discovery.k8s.io';
const SLICE_VERSION = 'v1';

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
  nodeName?: string;
  zone?: string;
}

export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function portsKey(ports: SlicePort[] | undefined | null): string {
  return (ports ?? [])
    .map((p) => `${p.name ?? ''}/${p.port ?? ''}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`)
    .sort()
    .join(',');
}

export function endpointKey(ep: SliceEndpoint): string {
  return `${ep.targetRef?.uid ?? ''}|${[...(ep.addresses ?? [])].sort().join(',')}`;
}

/** Stable JSON (sorted keys) for comparisons. */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => cmp(a, b))) : x));
}

function addressTypeOf(family: string): string {
  return family === 'IPv6' ? 'IPv6' : 'IPv4';
}

/** getEndpointPorts: the service ports this pod serves, with named targetPorts resolved. */
export function endpointPorts(svc: KObject, pod: KObject): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of (svc.spec?.ports ?? []) as { name?: string; port: number; targetPort?: number | string; protocol?: string; appProtocol?: string }[]) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** podToEndpoint. */
export function podToEndpoint(pod: KObject, svc: KObject, addressType: string, node: KObject | undefined): SliceEndpoint | undefined {
  const want6 = addressType === 'IPv6';
  const ips: string[] = ((pod.status?.podIPs ?? []) as { ip: string }[]).map((p) => p.ip).filter(Boolean);
  if (pod.status?.podIP && !ips.includes(pod.status.podIP)) ips.unshift(pod.status.podIP);
  const addrs = ips.filter((ip) => ip.includes(':') === want6).slice(0, 1);
  if (!addrs.length) return undefined;
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const ready = publish || (serving && !terminating);
  const ep: SliceEndpoint = { addresses: addrs, conditions: { ready, serving, terminating } };
  const hostname = hostnameFor(pod, svc);
  if (hostname) ep.hostname = hostname;
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name!, uid: pod.metadata.uid };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  return ep;
}

/** The labels a slice of this service carries (setEndpointSliceLabels). */
export function sliceLabels(svc: KObject): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((svc.metadata.labels ?? {}) as Record<string, string>)) {
    if (k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY) continue;
    labels[k] = v;
  }
  const ipSet = svc.spec?.clusterIP && svc.spec.clusterIP !== 'None';
  if (!ipSet) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  labels[LABEL_SERVICE_NAME] = svc.metadata.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

function ownerRef(svc: KObject) {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export interface SlicePlan {
  create: KObject[];
  update: KObject[];
  delete: KObject[];
}

interface DesiredGroup {
  ports: SlicePort[];
  endpoints: Map<string, SliceEndpoint>;
}

/**
 * The reconciler: from the desired endpoints (grouped by port set) and the existing slices of
 * one address type, which slices to create, update in place and delete. Endpoints stay in the
 * slice that already holds them; new ones fill slices being updated anyway, then new slices.
 */
export function planSlices(
  svc: KObject,
  addressType: string,
  desired: Map<string, DesiredGroup>,
  existing: KObject[],
  opts: { maxPerSlice?: number; triggerTime?: string; placeholder?: boolean } = {},
): SlicePlan {
  const max = opts.maxPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const labels = sliceLabels(svc);
  const owner = ownerRef(svc);
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const remaining = new Map<string, DesiredGroup>();
  for (const [k, g] of desired) remaining.set(k, { ports: g.ports, endpoints: new Map(g.endpoints) });

  const withMeta = (slice: KObject): boolean => {
    let changed = false;
    if (canon(slice.metadata.labels ?? {}) !== canon(labels)) {
      slice.metadata.labels = { ...labels };
      changed = true;
    }
    const refs = (slice.metadata.ownerReferences ?? []) as { uid?: string; controller?: boolean }[];
    if (!refs.some((r) => r.uid === owner.uid && r.controller)) {
      slice.metadata.ownerReferences = [owner];
      changed = true;
    }
    return changed;
  };
  const stamp = (slice: KObject) => {
    if (!opts.triggerTime) return;
    slice.metadata.annotations = { ...(slice.metadata.annotations ?? {}), [LAST_CHANGE_TRIGGER_TIME]: opts.triggerTime };
  };

  // 1. Existing slices: keep the endpoints still wanted, update the changed ones, drop the rest.
  const kept: { slice: KObject; changed: boolean; pk: string }[] = [];
  for (const cur of existing) {
    if (cur.addressType !== addressType) {
      plan.delete.push(cur);
      continue;
    }
    const pk = portsKey(cur.ports);
    const group = remaining.get(pk);
    const curEps = (cur.endpoints ?? []) as SliceEndpoint[];
    if (!group) {
      plan.delete.push(cur);
      continue;
    }
    const slice = structuredClone(cur);
    let changed = false;
    const eps: SliceEndpoint[] = [];
    for (const ep of curEps) {
      const k = endpointKey(ep);
      const want = group.endpoints.get(k);
      if (!want) {
        changed = true;
        continue;
      }
      group.endpoints.delete(k);
      if (canon(want) !== canon(ep)) changed = true;
      eps.push(want);
    }
    slice.endpoints = eps;
    if (!eps.length && curEps.length) {
      // Emptied: delete it (a placeholder is made below if nothing at all is left).
      plan.delete.push(cur);
      continue;
    }
    if (withMeta(slice)) changed = true;
    kept.push({ slice, changed, pk });
  }

  // 2. New endpoints: slices already being updated first, then new slices; a last chunk that
  //    fits into an unchanged slice goes there instead of into a new slice.
  for (const [pk, group] of remaining) {
    let left = [...group.endpoints.values()];
    if (!left.length) continue;
    for (const k of kept.filter((x) => x.pk === pk && x.changed)) {
      const room = max - (k.slice.endpoints as SliceEndpoint[]).length;
      if (room <= 0) continue;
      (k.slice.endpoints as SliceEndpoint[]).push(...left.slice(0, room));
      left = left.slice(room);
      if (!left.length) break;
    }
    while (left.length) {
      if (left.length < max) {
        const fit = kept.find((x) => x.pk === pk && !x.changed && max - (x.slice.endpoints as SliceEndpoint[]).length >= left.length);
        if (fit) {
          (fit.slice.endpoints as SliceEndpoint[]).push(...left);
          fit.changed = true;
          left = [];
          break;
        }
      }
      const chunk = left.slice(0, max);
      left = left.slice(max);
      const slice: KObject = {
        apiVersion: `${SLICE_GROUP}/${SLICE_VERSION}`,
        kind: 'EndpointSlice',
        metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace, labels: { ...labels }, ownerReferences: [owner] },
        addressType,
        endpoints: chunk,
        ports: group.ports,
      };
      stamp(slice);
      plan.create.push(slice);
    }
  }

  for (const k of kept) {
    if (!k.changed) continue;
    stamp(k.slice);
    plan.update.push(k.slice);
  }

  // 3. No slice left at all: one placeholder (no endpoints, no ports), reusing one if it exists.
  if (opts.placeholder && plan.create.length === 0 && kept.length === 0) {
    const reuse = plan.delete.find((s) => s.addressType === addressType && !(s.endpoints ?? []).length && !(s.ports ?? []).length);
    if (reuse) {
      plan.delete = plan.delete.filter((s) => s !== reuse);
      const slice = structuredClone(reuse);
      if (withMeta(slice)) plan.update.push(slice);
    } else {
      plan.create.push({
        apiVersion: `${SLICE_GROUP}/${SLICE_VERSION}`,
        kind: 'EndpointSlice',
        metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace, labels: { ...labels }, ownerReferences: [owner] },
        addressType,
        endpoints: [],
        ports: null,
      });
    }
  }
  return plan;
}

export interface EndpointSliceControllerOptions {
  workers?: number;
  maxEndpointsPerSlice?: number;
}

export class EndpointSliceController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000 * 1000 });
  private services!: Informer;
  private pods!: Informer;
  private nodes!: Informer;
  private slices!: Informer;
  private readonly selectors = new SelectorCache();
  /**
   * What we wrote and the cache has not shown yet, per service key: slice name → generation
   * (-1: deleted). A sync waits for the cache to catch up rather than act on stale slices.
   */
  private readonly expected = new Map<string, Map<string, number>>();

  constructor(
    readonly ctx: ControllerContext,
    private readonly opts: EndpointSliceControllerOptions = {},
  ) {}

  start(): void {
    const inf = this.ctx.informers;
    this.services = inf.informer({ group: '', version: 'v1', plural: 'services' });
    this.pods = inf.pods();
    this.nodes = inf.nodes();
    this.slices = inf.informer({ group: SLICE_GROUP, version: SLICE_VERSION, plural: 'endpointslices' });
    this.pods.addIndexer('namespace', namespaceIndex);
    this.services.addIndexer('namespace', namespaceIndex);
    this.slices.addIndexer('endpointslice:service', (s) => {
      const l = s.metadata.labels ?? {};
      return l[LABEL_MANAGED_BY] === CONTROLLER_NAME && l[LABEL_SERVICE_NAME] ? [`${s.metadata.namespace}/${l[LABEL_SERVICE_NAME]}`] : [];
    });

    this.services.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => {
        this.selectors.delete(keyOf(s));
        this.expected.delete(keyOf(s));
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
    const onSlice = (s: KObject, deleted = false) => {
      const l = s.metadata.labels ?? {};
      if (l[LABEL_MANAGED_BY] !== CONTROLLER_NAME || !l[LABEL_SERVICE_NAME]) return;
      const key = `${s.metadata.namespace}/${l[LABEL_SERVICE_NAME]}`;
      if (deleted) {
        // Deleted by someone else after we updated it: stop waiting for that update.
        const exp = this.expected.get(key);
        if (exp && (exp.get(s.metadata.name!) ?? -1) >= 0) exp.delete(s.metadata.name!);
      }
      if (this.services.get(key)) this.queue.add(key);
    };
    this.slices.addHandlers({ onAdd: (s) => onSlice(s), onUpdate: (_o, s) => onSlice(s), onDelete: (s) => onSlice(s, true) });
    this.nodes.addHandlers({
      onUpdate: (o, n) => {
        if (o.metadata.labels?.[LABEL_ZONE] === n.metadata.labels?.[LABEL_ZONE]) return;
        // A node's zone changed: every service with an endpoint on it.
        for (const s of this.slices.list()) {
          if (((s.endpoints ?? []) as SliceEndpoint[]).some((e) => e.nodeName === n.metadata.name)) onSlice(s);
        }
      },
    });

    runWorkers(
      this.queue,
      this.opts.workers ?? 5,
      () => Promise.all([this.services.waitForSync(), this.pods.waitForSync(), this.nodes.waitForSync(), this.slices.waitForSync()]).then(() => {}),
      (key) => this.sync(key),
      (key, e) => this.ctx.log.debug('endpointslice sync failed', { key, error: String(e) }),
    );
  }

  stop(): void {
    this.queue.shutDown();
  }

  private enqueueForPod(pod: KObject, old?: KObject): void {
    for (const svc of this.services.byIndex('namespace', pod.metadata.namespace ?? '')) {
      const sel = this.selectors.get(svc);
      if (!sel) continue;
      if (sel.matches(pod.metadata.labels) || (old && sel.matches(old.metadata.labels))) this.queue.add(keyOf(svc));
    }
  }

  /** True while the cache has not caught up with our own writes for this service. */
  private stale(key: string): boolean {
    const exp = this.expected.get(key);
    if (!exp) return false;
    const ns = key.split('/')[0]!;
    for (const [name, gen] of exp) {
      const cached = this.slices.get(`${ns}/${name}`);
      if (gen < 0 ? !cached : cached && (cached.metadata.generation ?? 0) >= gen) exp.delete(name);
    }
    if (exp.size === 0) {
      this.expected.delete(key);
      return false;
    }
    return true;
  }

  private expect(key: string, name: string, gen: number): void {
    let exp = this.expected.get(key);
    if (!exp) this.expected.set(key, (exp = new Map()));
    exp.set(name, gen);
  }

  async sync(key: string): Promise<void> {
    const svc = this.services.get(key);
    if (!svc) {
      this.expected.delete(key);
      return; // the garbage collector deletes the slices the Service owned
    }
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector) return;
    if (this.stale(key)) {
      this.queue.addAfter(key, 50);
      return;
    }
    const ns = svc.metadata.namespace!;
    const sel = this.selectors.get(svc)!;
    const families: string[] = (svc.spec?.ipFamilies ?? []).length ? svc.spec.ipFamilies : ['IPv4'];
    const addressTypes = [...new Set(families.map(addressTypeOf))];
    const existing = this.slices.byIndex('endpointslice:service', key);
    let trigger: string | undefined = svc.metadata.creationTimestamp;
    const plans: SlicePlan[] = [];
    const pods = podsInNamespace(this.pods, ns).filter((p) => sel.matches(p.metadata.labels) && shouldPodBeInEndpoints(p, true));
    for (const p of pods) {
      const t = podTriggerTime(p);
      if (t && (!trigger || t > trigger)) trigger = t;
    }
    addressTypes.forEach((addressType, i) => {
      const desired = new Map<string, DesiredGroup>();
      for (const pod of pods) {
        const node = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
        const ep = podToEndpoint(pod, svc, addressType, node);
        if (!ep) continue;
        const ports = endpointPorts(svc, pod);
        const pk = portsKey(ports);
        let g = desired.get(pk);
        if (!g) desired.set(pk, (g = { ports, endpoints: new Map() }));
        g.endpoints.set(endpointKey(ep), ep);
      }
      const mine = existing.filter((s) => s.addressType === addressType || (i === 0 && !addressTypes.includes(s.addressType)));
      plans.push(planSlices(svc, addressType, desired, mine, { maxPerSlice: this.opts.maxEndpointsPerSlice, triggerTime: trigger, placeholder: i === 0 }));
    });

    const base = resourcePath(SLICE_GROUP, SLICE_VERSION, 'endpointslices', ns);
    for (const plan of plans) {
      for (const s of plan.create) {
        try {
          const out = await call<KObject>(this.ctx.client, 'POST', base, { body: s });
          this.expect(key, out.metadata.name!, out.metadata.generation ?? 1);
        } catch (e) {
          if (e instanceof StatusError && e.code === 403 && /being terminated/.test(e.message)) return;
          throw e;
        }
      }
      for (const s of plan.update) {
        const out = await call<KObject>(this.ctx.client, 'PUT', `${base}/${encodeURIComponent(s.metadata.name!)}`, { body: s });
        this.expect(key, out.metadata.name!, out.metadata.generation ?? 1);
      }
      for (const s of plan.delete) {
        try {
          await call(this.ctx.client, 'DELETE', `${base}/${encodeURIComponent(s.metadata.name!)}`, {
            body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: s.metadata.uid } },
          });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        this.expect(key, s.metadata.name!, -1);
      }
    }
  }
}
