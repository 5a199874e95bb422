// scheduling.k8s.io/v1: priority classes.
import type { FieldError, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col } from './common.js';

/** Classes every cluster has (created by the API server at start, as upstream's). */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: 2000001000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

/** User-defined priorities must stay below the system range. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;

export const priorityClasses: ResourceDecl = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  namespaced: false,
  generation: false,
  printer: {
    columns: [
      NAME,
      col('Value', 'value represents the integer value of this priority class.', 'integer'),
      col('Global-Default', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.', 'boolean'),
      AGE,
      col('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority.', 'string'),
    ],
    cells: (o, now) => [o.metadata.name, o.value ?? 0, o.globalDefault ?? false, age(o.metadata.creationTimestamp, now), o.preemptionPolicy ?? ''],
  },
  strategy: {
    defaults(o) {
      o.preemptionPolicy ??= 'PreemptLowerPriority';
    },
    validate(o) {
      const errs: FieldError[] = [];
      const name = o.metadata.name ?? '';
      if (typeof o.value !== 'number' || !Number.isInteger(o.value)) errs.push(required('value'));
      else if (name.startsWith('system-')) {
        const sys = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
        if (!sys) errs.push(forbidden('metadata.name', 'priority class names with \'system-\' prefix are reserved for system use only'));
        else if (o.value !== sys.value) errs.push(forbidden('value', `value of system priority class ${name} must be ${sys.value}`));
      } else if (o.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
        errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
      }
      if (o.preemptionPolicy && !['PreemptLowerPriority', 'Never'].includes(o.preemptionPolicy))
        errs.push(notSupported('preemptionPolicy', o.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
      return errs;
    },
    validateUpdate(o, old) {
      const errs: FieldError[] = [];
      if (o.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
      if ((o.preemptionPolicy ?? '') !== (old.preemptionPolicy ?? '')) errs.push(invalid('preemptionPolicy', o.preemptionPolicy, 'field is immutable'));
      return errs;
    },
  },
};

export const schedulingResources: ResourceDecl[] = [priorityClasses];
