// policy/v1: poddisruptionbudgets (pkg/apis/policy/validation). policy/v1 has no
// defaults for minAvailable/maxUnavailable, and an empty selector selects every pod.
import type { FieldError, ResourceDecl } from '../types.js';
import { invalid, notSupported } from '../validation/field.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col, intOrPercent, intOrStringText, notMoreThan100Percent, validateLabelSelector } from './common.js';

const evictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

export const poddisruptionbudgets: ResourceDecl = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Min Available', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', 'integer'),
      AGE,
    ],
    cells(obj, now) {
      const spec = obj.spec ?? {};
      return [
        obj.metadata.name,
        spec.minAvailable != null ? intOrStringText(spec.minAvailable) : 'N/A',
        spec.maxUnavailable != null ? intOrStringText(spec.maxUnavailable) : 'N/A',
        obj.status?.disruptionsAllowed ?? 0,
        age(obj.metadata.creationTimestamp, now),
      ];
    },
  },
  strategy: {
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      if (spec.minAvailable != null && spec.maxUnavailable != null) errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
      for (const k of ['minAvailable', 'maxUnavailable']) {
        if (spec[k] == null) continue;
        errs.push(...intOrPercent(spec[k], `spec.${k}`), ...notMoreThan100Percent(spec[k], `spec.${k}`));
      }
      errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
      if (spec.unhealthyPodEvictionPolicy != null && !evictionPolicies.includes(spec.unhealthyPodEvictionPolicy)) {
        errs.push(notSupported('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, evictionPolicies));
      }
      return errs;
    },
  },
};

export const policyResources: ResourceDecl[] = [poddisruptionbudgets];
