// apps/v1: deployments, replicasets, daemonsets, statefulsets, controllerrevisions.
// Defaults follow pkg/apis/apps/v1/defaults.go, validation pkg/apis/apps/validation,
// printers pkg/printers/internalversion/printers.go.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { age, formatLabelSelector, formatLabels } from '../printers/util.js';
import {
  AGE,
  CONTAINERS,
  IMAGES,
  NAME,
  clone,
  col,
  deepEqual,
  ensure,
  immutable,
  intOrPercent,
  intOrPercentValue,
  nonNegative,
  notMoreThan100Percent,
  setDefault,
} from './common.js';
import { defaultTemplate, layoutContainerCells, validateWorkloadSelector, validateWorkloadTemplate } from './workload.js';

const scaleDecl = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' };
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

// ---- Deployment ----------------------------------------------------------

export function defaultDeployment(obj: KObject): void {
  const spec = ensure(obj, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = ensure(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensure(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec.template);
}

function validateDeploymentStrategy(strategy: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (strategy?.type) {
    case 'Recreate':
      if (strategy.rollingUpdate) errs.push(forbidden(`${field}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) {
        errs.push(required(`${field}.rollingUpdate`, 'this should be defaulted and never be nil'));
        break;
      }
      errs.push(...intOrPercent(ru.maxUnavailable, `${field}.rollingUpdate.maxUnavailable`));
      errs.push(...intOrPercent(ru.maxSurge, `${field}.rollingUpdate.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalid(`${field}.rollingUpdate.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${field}.rollingUpdate.maxUnavailable`));
      break;
    }
    default:
      errs.push(notSupported(`${field}.type`, strategy?.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

export function validateDeployment(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validateWorkloadTemplate(spec.template, spec.selector, 'spec.template', { restartPolicies: ['Always'], forbidActiveDeadline: 'ReplicaSet' }));
  errs.push(...validateDeploymentStrategy(spec.strategy, 'spec.strategy'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= n(spec.minReadySeconds)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export const deployments: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: scaleDecl },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Ready', 'Number of the pod with ready state'),
      col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 'string', 1),
    ],
    cells(obj, now) {
      const [names, images] = layoutContainerCells(obj.spec?.template);
      const st = obj.status ?? {};
      return [
        obj.metadata.name,
        `${n(st.readyReplicas)}/${n(obj.spec?.replicas)}`,
        n(st.updatedReplicas),
        n(st.availableReplicas),
        age(obj.metadata.creationTimestamp, now),
        names,
        images,
        // LabelSelectorAsSelector(...).String(): an empty selector prints as "" here, not "<none>".
        obj.spec?.selector ? selectorString(obj.spec.selector) : '',
      ];
    },
  },
  strategy: {
    defaults: defaultDeployment,
    validate: validateDeployment,
    validateUpdate(obj, old) {
      return immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector');
    },
  },
};

function selectorString(sel: any): string {
  const s = formatLabelSelector(sel);
  return s === '<none>' ? '' : s;
}

// ---- ReplicaSet ----------------------------------------------------------

export const replicasets: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: scaleDecl },
  generation: true,
  fieldSelectors: { 'status.replicas': (o) => String(n(o.status?.replicas)) },
  printer: {
    columns: [
      NAME,
      col('Desired', 'Replicas is the number of desired pods.', 'integer'),
      col('Current', 'Replicas is the most recently observed number of replicas.', 'integer'),
      col('Ready', 'The number of pods targeted by this ReplicaSet with a Ready Condition.', 'integer'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'Selector is a label query over pods that should match the replica count.', 'string', 1),
    ],
    cells(obj, now) {
      const [names, images] = layoutContainerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        n(obj.spec?.replicas),
        n(obj.status?.replicas),
        n(obj.status?.readyReplicas),
        age(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec.template);
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      return [
        ...nonNegative(spec.replicas, 'spec.replicas'),
        ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
        // Upstream's ReplicaSet validation really says "for deployment".
        ...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'),
        ...validateWorkloadTemplate(spec.template, spec.selector, 'spec.template', { restartPolicies: ['Always'], forbidActiveDeadline: 'ReplicaSet' }),
      ];
    },
    validateUpdate(obj, old) {
      return immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector');
    },
  },
};

// ---- DaemonSet -----------------------------------------------------------

function validateDaemonSetUpdateStrategy(strategy: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (strategy?.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) return [required(`${field}.rollingUpdate`, '')];
      const p = `${field}.rollingUpdate`;
      errs.push(...intOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...intOrPercent(ru.maxSurge, `${p}.maxSurge`));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`), ...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(notSupported(`${field}.type`, strategy?.type ?? '', ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

export const daemonsets: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Desired', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).', 'integer'),
      col('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', 'integer'),
      col('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.', 'integer'),
      col('Up-to-date', 'The total number of nodes that are running updated daemon pod', 'integer'),
      col('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', 'integer'),
      col('Node Selector', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'A label query over pods that are managed by the daemon set.', 'string', 1),
    ],
    cells(obj, now) {
      const st = obj.status ?? {};
      const [names, images] = layoutContainerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        n(st.desiredNumberScheduled),
        n(st.currentNumberScheduled),
        n(st.numberReady),
        n(st.updatedNumberScheduled),
        n(st.numberAvailable),
        formatLabels(obj.spec?.template?.spec?.nodeSelector),
        age(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      const us = ensure(spec, 'updateStrategy');
      setDefault(us, 'type', 'RollingUpdate');
      if (us.type === 'RollingUpdate') {
        const ru = ensure(us, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec.template);
    },
    // spec.templateGeneration of the internal type, which apps/v1 keeps in this annotation:
    // 1 at create, +1 whenever the pod template changes.
    prepareForCreate(obj) {
      const a = (obj.metadata.annotations ??= {});
      a[TEMPLATE_GENERATION] = '1';
    },
    prepareForUpdate(obj, old) {
      const prev = Number(old.metadata.annotations?.[TEMPLATE_GENERATION] ?? '1') || 1;
      const a = (obj.metadata.annotations ??= {});
      a[TEMPLATE_GENERATION] = String(deepEqual(obj.spec?.template, old.spec?.template) ? prev : prev + 1);
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      return [
        ...validateWorkloadSelector(spec.selector, 'spec.selector', 'daemonset'),
        ...validateWorkloadTemplate(spec.template, spec.selector, 'spec.template', { restartPolicies: ['Always'], forbidActiveDeadline: 'DaemonSet' }),
        ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
        ...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
        ...validateDaemonSetUpdateStrategy(spec.updateStrategy, 'spec.updateStrategy'),
      ];
    },
    validateUpdate(obj, old) {
      return immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector');
    },
  },
};

// ---- StatefulSet ---------------------------------------------------------

const stsMutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export const statefulsets: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale: scaleDecl },
  generation: true,
  printer: {
    columns: [NAME, col('Ready', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
    cells(obj, now) {
      const [names, images] = layoutContainerCells(obj.spec?.template);
      return [obj.metadata.name, `${n(obj.status?.readyReplicas)}/${n(obj.spec?.replicas)}`, age(obj.metadata.creationTimestamp, now), names, images];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      const us = ensure(spec, 'updateStrategy');
      if (!us.type) {
        us.type = 'RollingUpdate';
        ensure(us, 'rollingUpdate');
      }
      if (us.type === 'RollingUpdate' && us.rollingUpdate) setDefault(us.rollingUpdate, 'partition', 0);
      const pvcPolicy = ensure(spec, 'persistentVolumeClaimRetentionPolicy');
      setDefault(pvcPolicy, 'whenDeleted', 'Retain');
      setDefault(pvcPolicy, 'whenScaled', 'Retain');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec.template);
      // volumeClaimTemplates are PersistentVolumeClaims and get their defaults (and a Pending phase).
      for (const pvc of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
        if (!pvc || typeof pvc !== 'object') continue;
        setDefault(pvc, 'apiVersion', 'v1');
        setDefault(pvc, 'kind', 'PersistentVolumeClaim');
        setDefault(ensure(pvc, 'spec'), 'volumeMode', 'Filesystem');
        setDefault(ensure(pvc, 'status'), 'phase', 'Pending');
      }
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      const pmp = spec.podManagementPolicy;
      if (!pmp) errs.push(required('spec.podManagementPolicy', ''));
      else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
      const us = spec.updateStrategy ?? {};
      switch (us.type) {
        case undefined:
        case '':
          errs.push(required('spec.updateStrategy', ''));
          break;
        case 'OnDelete':
          if (us.rollingUpdate) errs.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
          break;
        case 'RollingUpdate':
          if (us.rollingUpdate) {
            errs.push(...nonNegative(us.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
            errs.push(...intOrPercent(us.rollingUpdate.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
          }
          break;
        default:
          errs.push(invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
      }
      const pol = spec.persistentVolumeClaimRetentionPolicy;
      if (pol) {
        for (const k of ['whenDeleted', 'whenScaled']) {
          if (pol[k] !== 'Retain' && pol[k] !== 'Delete') errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, pol[k] ?? '', ['Retain', 'Delete']));
        }
      }
      errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
      errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
      errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
      if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
      errs.push(...validateWorkloadSelector(spec.selector, 'spec.selector', 'statefulset'));
      errs.push(...validateWorkloadTemplate(spec.template, spec.selector, 'spec.template', { restartPolicies: ['Always'], forbidActiveDeadline: 'StatefulSet' }));
      return errs;
    },
    validateUpdate(obj, old) {
      // Everything but the listed fields is frozen: compare the rest of spec.
      const strip = (spec: any) => {
        const c = clone(spec ?? {});
        for (const k of stsMutable) delete c[k];
        return c;
      };
      if (!deepEqual(strip(obj.spec), strip(old.spec))) {
        return [
          forbidden(
            'spec',
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          ),
        ];
      }
      return [];
    },
  },
};

// ---- ControllerRevision --------------------------------------------------

export const controllerrevisions: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  generation: false,
  printer: {
    columns: [NAME, col('Controller', 'Controller of the object'), col('Revision', 'Revision indicates the revision of the state represented by Data.'), AGE],
    cells(obj, now) {
      const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
      let controller = '<none>';
      if (ref) {
        const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
        controller = `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
      }
      return [obj.metadata.name, controller, n(obj.revision), age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    validate(obj) {
      return nonNegative(obj.revision, 'revision');
    },
    validateUpdate(obj, old) {
      return immutable(obj.data, old.data, 'data');
    },
  },
};

export const appsResources: ResourceDecl[] = [deployments, replicasets, daemonsets, statefulsets, controllerrevisions];
