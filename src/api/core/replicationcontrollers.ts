// ReplicationControllers: the original workload controller, with scale and status subresources.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { age, ageColumn, formatLabels, nameColumn } from '../printers/util.js';
import { col, isObj, layoutContainerCells, validateNonnegative, validateSelectorMap } from './helpers.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pods.js';

const selectorMatches = (sel: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(sel).every(([k, v]) => labels[k] === v);

export function defaultReplicationController(o: KObject): void {
  if (!isObj(o.spec)) o.spec = {};
  const spec = o.spec;
  const tmplLabels = isObj(spec.template?.metadata?.labels) ? spec.template.metadata.labels : undefined;
  // SetDefaults_ReplicationController: selector and labels come from the template.
  if (tmplLabels && (!isObj(spec.selector) || Object.keys(spec.selector).length === 0)) spec.selector = { ...tmplLabels };
  if (tmplLabels && Object.keys(o.metadata.labels ?? {}).length === 0) o.metadata.labels = { ...tmplLabels };
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

export function validateReplicationController(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const sel = isObj(spec.selector) ? spec.selector : {};
  if (Object.keys(sel).length === 0) errs.push(required('spec.selector'));
  else errs.push(...validateSelectorMap(sel, 'spec.selector'));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  const t = spec.template;
  if (!isObj(t)) {
    errs.push(required('spec.template'));
    return errs;
  }
  const labels = isObj(t.metadata?.labels) ? t.metadata.labels : {};
  if (Object.keys(sel).length > 0 && !selectorMatches(sel, labels))
    errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  errs.push(...validatePodTemplateSpec(t, 'spec.template'));
  if (isObj(t.spec)) {
    if (t.spec.restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', t.spec.restartPolicy ?? '', ['Always']));
    if (t.spec.activeDeadlineSeconds !== undefined && t.spec.activeDeadlineSeconds !== null)
      errs.push(invalid('spec.template.spec.activeDeadlineSeconds', t.spec.activeDeadlineSeconds, 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

export const replicationcontrollers: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  subresources: {
    status: true,
    scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  },
  generation: true,
  fieldSelectors: {
    'status.replicas': (o) => String(o.status?.replicas ?? 0),
  },
  printer: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
      ageColumn,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count.', 1),
    ],
    cells(o, now) {
      const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
      return [
        o.metadata.name,
        Number(o.spec?.replicas ?? 0),
        Number(o.status?.replicas ?? 0),
        Number(o.status?.readyReplicas ?? 0),
        age(o.metadata.creationTimestamp, now),
        names,
        images,
        formatLabels(isObj(o.spec?.selector) ? o.spec.selector : undefined),
      ];
    },
  },
  strategy: {
    defaults: defaultReplicationController,
    prepareForCreate(o) {
      o.status = { replicas: 0 };
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validateReplicationController,
  },
};

