// Pods, and the Pod/PodTemplateSpec behaviour shared with the workload resources.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { arr, isObj, statusOnly, str } from './helpers.js';
import { defaultPod, defaultPodSpec, defaultPodTemplateSpec } from './pod_defaults.js';
import { podPrinter } from './pod_printer.js';
import { validatePodSpec, validatePodSpecUpdate, validatePodTemplateSpec } from './pod_validation.js';
import { computePodQOS } from './qos.js';

export { defaultPodSpec, defaultPodTemplateSpec, validatePodSpec, validatePodTemplateSpec };

/** The grace period a delete gets: 0 (immediate) for unscheduled or finished pods. */
export function podGracePeriod(pod: KObject, requestedSeconds: number | undefined): number {
  let period = requestedSeconds ?? (typeof pod.spec?.terminationGracePeriodSeconds === 'number' ? pod.spec.terminationGracePeriodSeconds : 30);
  if (!pod.spec?.nodeName) period = 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') period = 0;
  if (period < 0) period = 1;
  return period;
}

export const pods: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  // Discovery must list pods/eviction: `kubectl drain` evicts only if it does (else it deletes).
  subresources: { status: true, binding: true, eviction: true, log: true, exec: true, attach: true, portforward: true },
  generation: false,
  fieldSelectors: {
    'spec.nodeName': (o) => str(o.spec?.nodeName),
    'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
    'status.phase': (o) => str(o.status?.phase),
    'status.podIP': (o) => str(arr(o.status?.podIPs)[0]?.ip) || str(o.status?.podIP),
    'status.podIPs': (o) => str(arr(o.status?.podIPs)[0]?.ip) || str(o.status?.podIP),
    'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
  },
  printer: podPrinter,
  strategy: {
    defaults: (o) => defaultPod(o),
    prepareForCreate(o, ctx) {
      const status: Record<string, unknown> = { phase: 'Pending', qosClass: computePodQOS(o.spec) };
      if (arr(o.spec?.schedulingGates).length > 0)
        status.conditions = [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'SchedulingGated',
            message: 'Scheduling is blocked due to non-empty scheduling gates',
            lastProbeTime: null,
            lastTransitionTime: ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        ];
      o.status = status;
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    prepareForStatusUpdate(o, old) {
      statusOnly(o, old);
      // The QoS class is fixed at creation.
      if (isObj(o.status) && isObj(old.status) && old.status.qosClass) o.status.qosClass = old.status.qosClass;
    },
    validate: (o): FieldError[] => validatePodSpec(o.spec, 'spec'),
    validateUpdate: (o, old): FieldError[] => validatePodSpecUpdate(o.spec, old.spec),
  },
  gracefulDeletion: podGracePeriod,
};
