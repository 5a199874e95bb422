// DisruptionController (pkg/controller/disruption): keeps every PodDisruptionBudget's status
// — expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, the DisruptionAllowed
// condition and the disruptedPods the eviction subresource recorded — in step with the pods
// it selects and the scale of the controllers that own them.
import type { KObject } from '../api/types.js';
import type { LabelSelector } from '../api/labels.js';
import { call, isNotFound, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { keyOf } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';
import { isPodReady, namespaceIndex, podsInNamespace, runWorkers, selectorOf } from './endpoints.js';

/** How long a pod the eviction subresource recorded may take to go away (DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';

export interface Condition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** apimeta.SetStatusCondition: lastTransitionTime moves only when the status changes. */
export function setStatusCondition(conds: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const out = conds.map((x) => ({ ...x }));
  const cur = out.find((x) => x.type === c.type);
  if (!cur) {
    out.push({ type: c.type, status: c.status, observedGeneration: c.observedGeneration, lastTransitionTime: rfc3339(now), reason: c.reason, message: c.message });
    return out;
  }
  if (cur.status !== c.status) {
    cur.status = c.status;
    cur.lastTransitionTime = rfc3339(now);
  }
  cur.reason = c.reason;
  cur.message = c.message;
  cur.observedGeneration = c.observedGeneration;
  return out;
}

/** pdbhelper.UpdateDisruptionAllowedCondition (also used by the eviction subresource). */
export function disruptionAllowedCondition(status: KObject['status'], now: Date): Condition[] {
  const allowed = (status?.disruptionsAllowed ?? 0) > 0;
  return setStatusCondition(
    (status?.conditions ?? []) as Condition[],
    {
      type: DISRUPTION_ALLOWED,
      status: allowed ? 'True' : 'False',
      reason: allowed ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      observedGeneration: status?.observedGeneration,
    },
    now,
  );
}

/** pdbhelper.ConditionsAreUpToDate. */
function conditionsUpToDate(pdb: KObject): boolean {
  const c = ((pdb.status?.conditions ?? []) as Condition[]).find((x) => x.type === DISRUPTION_ALLOWED);
  if (!c) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  if ((pdb.status?.disruptionsAllowed ?? 0) > 0) return c.status === 'True' && c.reason === 'SufficientPods';
  return c.status === 'False' && c.reason === 'InsufficientPods';
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * getExpectedPodCount: the number of pods the budget expects and how many must be healthy.
 * `scale` is the summed scale of the pods' controllers (only asked for when needed).
 */
export function expectedPodCount(spec: KObject['spec'], podCount: number, scale: () => number): { expectedCount: number; desiredHealthy: number } {
  if (spec?.maxUnavailable != null) {
    const expectedCount = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable) };
  }
  if (spec?.minAvailable != null) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: podCount, desiredHealthy: spec.minAvailable };
    const expectedCount = scale();
    return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

/** countHealthyPods: ready, not being deleted, not recently evicted. */
export function countHealthyPods(pods: KObject[], disrupted: Record<string, string>, now: Date): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const t = disrupted[pod.metadata.name!];
    if (t && Date.parse(t) + DELETION_TIMEOUT_MS > now.getTime()) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** disruptionsAllowed = currentHealthy - desiredHealthy, never negative, 0 while nothing is expected. */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedCount: number): number {
  const d = currentHealthy - desiredHealthy;
  return expectedCount <= 0 || d <= 0 ? 0 : d;
}

function controllerOf(obj: KObject): { apiVersion: string; kind: string; name: string; uid: string } | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r: { controller?: boolean }) => r.controller);
}

/** metav1.LabelSelector printed the way Go's %v prints it (event messages). */
function goSelector(sel: KObject['spec']): string {
  const ml = Object.entries((sel?.matchLabels ?? {}) as Record<string, string>)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}: ${v},`)
    .join('');
  const me = ((sel?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[])
    .map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[]string{${(e.values ?? []).join(',')}},},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${ml}},MatchExpressions:[]LabelSelectorRequirement{${me}},}`;
}

export interface DisruptionControllerOptions {
  workers?: number;
}

export class DisruptionController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000 * 1000 });
  private pdbs!: Informer;
  private pods!: Informer;
  private rss!: Informer;
  private deployments!: Informer;
  private statefulsets!: Informer;
  private rcs!: Informer;
  private readonly selectors = new Map<string, { rv: string; sel: LabelSelector | undefined }>();
  private readonly rechecks = new Map<string, { at: number; cancel(): void }>();
  private readonly recorder;

  constructor(
    readonly ctx: ControllerContext,
    private readonly opts: DisruptionControllerOptions = {},
  ) {
    this.recorder = ctx.recorder('controllermanager');
  }

  start(): void {
    const inf = this.ctx.informers;
    this.pdbs = inf.informer({ group: 'policy', version: 'v1', plural: 'poddisruptionbudgets' });
    this.pods = inf.pods();
    this.rss = inf.informer({ group: 'apps', version: 'v1', plural: 'replicasets' });
    this.deployments = inf.informer({ group: 'apps', version: 'v1', plural: 'deployments' });
    this.statefulsets = inf.informer({ group: 'apps', version: 'v1', plural: 'statefulsets' });
    this.rcs = inf.informer({ group: '', version: 'v1', plural: 'replicationcontrollers' });
    this.pods.addIndexer('namespace', namespaceIndex);
    this.pdbs.addIndexer('namespace', namespaceIndex);

    this.pdbs.addHandlers({
      onAdd: (p) => this.queue.add(keyOf(p)),
      onUpdate: (_o, p) => this.queue.add(keyOf(p)),
      onDelete: (p) => {
        this.selectors.delete(keyOf(p));
        this.rechecks.get(keyOf(p))?.cancel();
        this.rechecks.delete(keyOf(p));
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
    // A controller's scale changes expectedPods of percentage and maxUnavailable budgets.
    const onScale = (o: KObject, n: KObject) => {
      if (o.spec?.replicas === n.spec?.replicas) return;
      for (const pdb of this.pdbs.byIndex('namespace', n.metadata.namespace ?? '')) this.queue.add(keyOf(pdb));
    };
    for (const i of [this.rss, this.deployments, this.statefulsets, this.rcs]) i.addHandlers({ onUpdate: onScale });

    runWorkers(
      this.queue,
      this.opts.workers ?? 2,
      () => Promise.all([this.pdbs, this.pods, this.rss, this.deployments, this.statefulsets, this.rcs].map((i) => i.waitForSync())).then(() => {}),
      (key) => this.sync(key),
      (key, e) => this.ctx.log.debug('disruption sync failed', { key, error: String(e) }),
    );
  }

  stop(): void {
    this.queue.shutDown();
    for (const r of this.rechecks.values()) r.cancel();
    this.rechecks.clear();
  }

  private selectorFor(pdb: KObject): LabelSelector | undefined {
    const k = keyOf(pdb);
    const hit = this.selectors.get(k);
    if (hit && hit.rv === pdb.metadata.resourceVersion) return hit.sel;
    const sel = selectorOf(pdb.spec?.selector);
    this.selectors.set(k, { rv: pdb.metadata.resourceVersion ?? '', sel });
    return sel;
  }

  private enqueueForPod(pod: KObject, old?: KObject): void {
    for (const pdb of this.pdbs.byIndex('namespace', pod.metadata.namespace ?? '')) {
      const sel = this.selectorFor(pdb);
      if (!sel) continue;
      if (sel.matches(pod.metadata.labels) || (old && sel.matches(old.metadata.labels))) this.queue.add(keyOf(pdb));
    }
  }

  private scheduleRecheck(key: string, at: number): void {
    const cur = this.rechecks.get(key);
    if (cur && cur.at <= at) return;
    cur?.cancel();
    const t = this.ctx.clock.setTimeout(() => {
      this.rechecks.delete(key);
      this.queue.add(key);
    }, Math.max(0, at - this.ctx.clock.now().getTime()));
    this.rechecks.set(key, { at, cancel: () => t.cancel() });
  }

  /** The scale of the controller owning a pod (the finders), or undefined when it has none we know. */
  private async controllerScale(ref: { apiVersion: string; kind: string; name: string; uid: string }, ns: string): Promise<{ uid: string; scale: number } | undefined> {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0]! : '';
    const key = `${ns}/${ref.name}`;
    if (group === 'apps' && ref.kind === 'ReplicaSet') {
      const rs = this.rss.get(key);
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = this.deployments.get(`${ns}/${owner.name}`);
        if (!d || d.metadata.uid !== owner.uid) return undefined;
        return { uid: d.metadata.uid!, scale: d.spec?.replicas ?? 1 };
      }
      return { uid: rs.metadata.uid!, scale: rs.spec?.replicas ?? 1 };
    }
    if (group === 'apps' && ref.kind === 'StatefulSet') {
      const ss = this.statefulsets.get(key);
      if (!ss || ss.metadata.uid !== ref.uid) return undefined;
      return { uid: ss.metadata.uid!, scale: ss.spec?.replicas ?? 1 };
    }
    if (group === '' && ref.kind === 'ReplicationController') {
      const rc = this.rcs.get(key);
      if (!rc || rc.metadata.uid !== ref.uid) return undefined;
      return { uid: rc.metadata.uid!, scale: rc.spec?.replicas ?? 1 };
    }
    // Anything else with a scale subresource (getScaleController).
    const version = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[1]! : ref.apiVersion;
    const plural = `${ref.kind.toLowerCase()}s`;
    try {
      const scale = await call<KObject>(this.ctx.client, 'GET', resourcePath(group, version, plural, ns, ref.name, 'scale'));
      if (scale.metadata.uid && scale.metadata.uid !== ref.uid) return undefined;
      return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async sync(key: string): Promise<void> {
    const pdb = this.pdbs.get(key);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (e) {
      if (e instanceof Error && /Operation cannot be fulfilled|the object has been modified/.test(e.message)) throw e;
      this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${e instanceof Error ? e.message : String(e)}`);
      await this.failSafe(pdb, e);
    }
  }

  private async trySync(pdb: KObject): Promise<void> {
    const ns = pdb.metadata.namespace!;
    const sel = this.selectorFor(pdb);
    const pods = sel ? podsInNamespace(this.pods, ns).filter((p) => sel.matches(p.metadata.labels)) : [];
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');

    // The scale of the pods' controllers, looked up only if the budget needs it.
    let scaleSum: number | undefined;
    const unmanaged: string[] = [];
    let scaleError: Error | undefined;
    const scales = new Map<string, number>();
    const needScale = pdb.spec?.maxUnavailable != null || (pdb.spec?.minAvailable != null && typeof pdb.spec.minAvailable === 'string');
    if (needScale) {
      for (const pod of pods) {
        const ref = controllerOf(pod);
        if (!ref) {
          unmanaged.push(pod.metadata.name!);
          continue;
        }
        if (scales.has(ref.uid)) continue;
        const found = await this.controllerScale(ref, ns);
        if (!found) {
          scaleError = new Error(`found no controllers for pod ${JSON.stringify(pod.metadata.name)}`);
          break;
        }
        scales.set(found.uid, found.scale);
      }
      if (scaleError) throw scaleError;
      scaleSum = [...scales.values()].reduce((a, b) => a + b, 0);
    }
    const { expectedCount, desiredHealthy } = expectedPodCount(pdb.spec, pods.length, () => scaleSum ?? 0);
    if (unmanaged.length) {
      this.recorder.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${goSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }

    const now = this.ctx.clock.now();
    // buildDisruptedPodMap: keep the evicted pods still expected to go away.
    const recorded = (pdb.status?.disruptedPods ?? {}) as Record<string, string>;
    const disrupted: Record<string, string> = {};
    let recheck: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const t = recorded[pod.metadata.name!];
      if (!t) continue;
      const expectedDeletion = Date.parse(t) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now.getTime()) {
        this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${ns}/${pdb.metadata.name} to be deleted but it wasn't`);
      } else {
        disrupted[pod.metadata.name!] = t;
        if (recheck === undefined || expectedDeletion < recheck) recheck = expectedDeletion;
      }
    }
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, currentHealthy, desiredHealthy, expectedCount, disrupted, now);
    if (recheck !== undefined) this.scheduleRecheck(keyOf(pdb), recheck);
  }

  private async updateStatus(pdb: KObject, currentHealthy: number, desiredHealthy: number, expectedCount: number, disrupted: Record<string, string>, now: Date): Promise<void> {
    const allowed = disruptionsAllowed(currentHealthy, desiredHealthy, expectedCount);
    const st = pdb.status ?? {};
    const sameDisrupted = JSON.stringify(Object.entries(st.disruptedPods ?? {}).sort()) === JSON.stringify(Object.entries(disrupted).sort());
    if (
      st.currentHealthy === currentHealthy &&
      st.desiredHealthy === desiredHealthy &&
      st.expectedPods === expectedCount &&
      st.disruptionsAllowed === allowed &&
      sameDisrupted &&
      st.observedGeneration === pdb.metadata.generation &&
      conditionsUpToDate(pdb)
    )
      return;
    const next = structuredClone(pdb);
    const status: KObject['status'] = {
      observedGeneration: pdb.metadata.generation,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: allowed,
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      conditions: st.conditions ?? [],
    };
    status.conditions = disruptionAllowedCondition(status, now);
    next.status = status;
    await call(this.ctx.client, 'PUT', resourcePath('policy', 'v1', 'poddisruptionbudgets', pdb.metadata.namespace, pdb.metadata.name, 'status'), { body: next });
  }

  private async failSafe(pdb: KObject, err: unknown): Promise<void> {
    const next = structuredClone(pdb);
    next.status = { ...(next.status ?? {}), disruptionsAllowed: 0 };
    next.status.conditions = setStatusCondition(
      (next.status.conditions ?? []) as Condition[],
      {
        type: DISRUPTION_ALLOWED,
        status: 'False',
        reason: 'SyncFailed',
        message: err instanceof Error ? err.message : String(err),
        observedGeneration: next.status.observedGeneration,
      },
      this.ctx.clock.now(),
    );
    await call(this.ctx.client, 'PUT', resourcePath('policy', 'v1', 'poddisruptionbudgets', pdb.metadata.namespace, pdb.metadata.name, 'status'), { body: next });
    // Retry later: the controller may simply not be in the cache yet.
    this.queue.addAfter(keyOf(pdb), 5000);
  }
}
