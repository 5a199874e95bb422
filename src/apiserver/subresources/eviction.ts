// pods/eviction (pkg/registry/core/pod/storage/eviction.go): a delete that respects
// PodDisruptionBudgets. A healthy pod covered by a budget is deleted only if the budget
// allows a disruption; the budget's disruptionsAllowed is decremented and the pod recorded in
// status.disruptedPods (with a resourceVersion precondition, so two evictions never spend the
// same disruption). Otherwise 429 TooManyRequests, which clients such as `kubectl drain` retry.
import type { KObject } from '../../api/types.js';
import { labelSelectorFromObject } from '../../api/labels.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError, badRequest, conflict, forbidden, methodNotSupported, type Status } from '../errors.js';
import { decodeBody } from '../negotiation.js';
import { timestamp, type DeleteOptions } from '../registry.js';
import { isDryRun } from '../handlers/resource.js';

/** MaxDisruptedPodSize: evictions the disruption controller has not confirmed yet. */
const MAX_DISRUPTED_POD_SIZE = 2000;
const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";
const PODS = { group: '', resource: 'pods' };

function isPodReady(pod: KObject): boolean {
  return ((pod.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Terminal, pending or already terminating pods are deleted without consulting budgets. */
function canIgnorePDB(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

/** Other pods are deleted only at the resourceVersion we judged them at. */
function shouldEnforceResourceVersion(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp);
}

/** createTooManyRequestsError: the budget's status is not current yet. */
function stillProcessing(pdbName: string): ApiError {
  return new ApiError(
    429,
    'TooManyRequests',
    VIOLATION,
    { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` }], retryAfterSeconds: 10 },
    { 'Retry-After': '10' },
  );
}

function isConflictError(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409;
}

function toDeleteOptions(o: Record<string, unknown> | undefined): DeleteOptions {
  const out: DeleteOptions = {};
  if (!o) return out;
  if (typeof o['gracePeriodSeconds'] === 'number') out.gracePeriodSeconds = o['gracePeriodSeconds'];
  const pp = o['propagationPolicy'];
  if (pp === 'Orphan' || pp === 'Background' || pp === 'Foreground') out.propagationPolicy = pp;
  else if (o['orphanDependents'] === true) out.propagationPolicy = 'Orphan';
  const pre = o['preconditions'] as { uid?: string; resourceVersion?: string } | undefined;
  if (pre && (pre.uid || pre.resourceVersion)) out.preconditions = { ...(pre.uid ? { uid: pre.uid } : {}), ...(pre.resourceVersion ? { resourceVersion: pre.resourceVersion } : {}) };
  return out;
}

export function registerEviction(api: ApiServer): void {
  api.registerSubresource('', 'pods', 'eviction', async (info, req) => {
    if (info.verb !== 'create') throw methodNotSupported({ group: '', resource: 'pods/eviction' }, info.verb);
    const podDecl = api.resources.lookup('', 'v1', 'pods')!.decl;
    const pdbDecl = api.resources.lookup('policy', 'v1', 'poddisruptionbudgets')?.decl;
    const body = (req.bodyObject ?? decodeBody(req.body, req.headers['content-type'])) as KObject;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the object provided is not a valid object');
    if (body.kind && body.kind !== 'Eviction') throw badRequest(`not a Eviction object: ${body.kind}`);
    if ((body.metadata?.name ?? '') !== info.name) throw badRequest('name in URL does not match name in Eviction object');
    const rawOpts = (body.deleteOptions ?? undefined) as Record<string, unknown> | undefined;
    const dryRun = isDryRun(req.query) || (Array.isArray(rawOpts?.['dryRun']) && (rawOpts!['dryRun'] as string[]).includes('All'));
    const original = toDeleteOptions(rawOpts);
    const rvUnset = !original.preconditions?.resourceVersion;
    const rc = { user: req.user, dryRun };
    const ns = info.namespace;
    const name = info.name;
    const success = (): { status: number; body: Status } => ({ status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } });

    /** addConditionAndDeletePod: the DisruptionTarget condition, then the delete. */
    const addConditionAndDeletePod = async (opts: DeleteOptions): Promise<void> => {
      let options = opts;
      if (!dryRun) {
        const { obj } = await api.registry.update(
          podDecl,
          ns,
          name,
          (pod) => {
            const pre = options.preconditions;
            if (pre?.uid && pre.uid !== pod.metadata.uid)
              throw conflict(PODS, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata.uid}`);
            if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata.resourceVersion)
              throw conflict(PODS, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`);
            if (pod.metadata.deletionTimestamp) return pod;
            const conds = ((pod.status?.conditions ?? []) as Record<string, unknown>[]).filter((c) => c['type'] !== 'DisruptionTarget');
            const prev = ((pod.status?.conditions ?? []) as Record<string, unknown>[]).find((c) => c['type'] === 'DisruptionTarget');
            conds.push({
              type: 'DisruptionTarget',
              status: 'True',
              lastProbeTime: null,
              lastTransitionTime: prev && prev['status'] === 'True' ? prev['lastTransitionTime'] : timestamp(api.clock.now()),
              reason: 'EvictionByEvictionAPI',
              message: 'Eviction API: evicting',
            });
            pod.status = { ...(pod.status ?? {}), conditions: conds };
            return pod;
          },
          { user: req.user },
          { subresource: 'status' },
        );
        if (options.preconditions?.resourceVersion) options = { ...options, preconditions: { ...options.preconditions, resourceVersion: obj.metadata.resourceVersion } };
      }
      await api.registry.delete(podDecl, ns, name, options, rc);
    };

    // 1. Pods whose eviction disrupts nothing are deleted at once.
    let pod: KObject;
    for (let attempt = 0; ; attempt++) {
      pod = await api.registry.get(podDecl, ns, name);
      if (!canIgnorePDB(pod)) break;
      const opts: DeleteOptions = { ...original };
      if (shouldEnforceResourceVersion(pod) && rvUnset) opts.preconditions = { ...(opts.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion };
      try {
        await addConditionAndDeletePod(opts);
        return success();
      } catch (e) {
        if (isConflictError(e) && rvUnset && attempt < 20) continue;
        throw e;
      }
    }

    // 2. The budgets covering the pod.
    const pdbs = pdbDecl
      ? (await api.registry.list(pdbDecl, ns)).items.filter((pdb) => {
          try {
            return labelSelectorFromObject(pdb.spec?.selector).matches(pod.metadata.labels);
          } catch {
            return false;
          }
        })
      : [];
    if (pdbs.length > 1) {
      return {
        status: 500,
        body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 },
      };
    }
    let updateDeletionOptions = false;
    let pdbName = '';
    if (pdbs.length === 1) {
      const pdb = pdbs[0]!;
      pdbName = pdb.metadata.name!;
      let checkBudget = true;
      if (!isPodReady(pod)) {
        const st = pdb.status ?? {};
        if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' || ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0)) {
          // An unready pod does not count as healthy: deleting it disrupts nothing.
          updateDeletionOptions = true;
          checkBudget = false;
        }
      }
      if (checkBudget) {
        const checkAndDecrement = (cur: KObject): KObject => {
          const st = cur.status ?? {};
          if ((st.observedGeneration ?? 0) < (cur.metadata.generation ?? 0)) throw stillProcessing(pdbName);
          if ((st.disruptionsAllowed ?? 0) < 0) throw forbidden({ group: 'policy', resource: 'poddisruptionbudget' }, pdbName, 'pdb disruptions allowed is negative');
          if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE)
            throw forbidden({ group: 'policy', resource: 'poddisruptionbudget' }, pdbName, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
          if ((st.disruptionsAllowed ?? 0) === 0) {
            throw new ApiError(429, 'TooManyRequests', VIOLATION, {
              causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently` }],
            });
          }
          const status = { ...st, disruptionsAllowed: st.disruptionsAllowed - 1 };
          if (status.disruptionsAllowed === 0) {
            // pdbhelper.UpdateDisruptionAllowedCondition
            const now = timestamp(api.clock.now());
            const conds = ((status.conditions ?? []) as Record<string, unknown>[]).map((c) => ({ ...c }));
            const c = conds.find((x) => x['type'] === 'DisruptionAllowed');
            if (!c) conds.push({ type: 'DisruptionAllowed', status: 'False', observedGeneration: status.observedGeneration, lastTransitionTime: now, reason: 'InsufficientPods', message: '' });
            else {
              if (c['status'] !== 'False') c['lastTransitionTime'] = now;
              Object.assign(c, { status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: status.observedGeneration });
            }
            status.conditions = conds;
          }
          status.disruptedPods = { ...(st.disruptedPods ?? {}), [name]: timestamp(api.clock.now()) };
          return { ...cur, status };
        };
        if (dryRun) checkAndDecrement(structuredClone(pdb));
        else await api.registry.update(pdbDecl!, ns, pdbName, checkAndDecrement, { user: req.user }, { subresource: 'status' });
      }
    }

    // 3. The delete itself.
    let opts = original;
    if (updateDeletionOptions) opts = { ...original, preconditions: { ...(original.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion } };
    try {
      await addConditionAndDeletePod(opts);
    } catch (e) {
      if (isConflictError(e) && updateDeletionOptions && rvUnset) throw stillProcessing(pdbName);
      throw e;
    }
    return success();
  });
}
