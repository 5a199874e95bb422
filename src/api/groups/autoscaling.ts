// autoscaling: horizontalpodautoscalers, stored as autoscaling/v2 and also served as
// autoscaling/v1 (see hpa-conversion.ts). Defaults: pkg/apis/autoscaling/v2/defaults.go.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { isPathSegmentName } from '../validation/names.js';
import { age } from '../printers/util.js';
import { AGE, NAME, clone, col, ensure, setDefault } from './common.js';
import { DefaultCPUUtilization, convertHPA } from './hpa-conversion.js';

type J = Record<string, any>;

/** Upstream's default scale-up and scale-down rules, filled in when spec.behavior is given. */
export function defaultScaleUpRules(): J {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}
export function defaultScaleDownRules(): J {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** copyHPAScalingRules: user values win, missing ones come from the defaults. */
function mergeRules(from: J | undefined, defaults: J): J {
  if (!from) return defaults;
  const out = defaults;
  if (from.selectPolicy != null) out.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds != null) out.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies != null) out.policies = from.policies;
  for (const k of Object.keys(from)) if (!(k in out)) out[k] = from[k]; // e.g. tolerance (1.33)
  return out;
}

export function defaultHPA(obj: KObject): void {
  const spec = ensure(obj, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DefaultCPUUtilization } } }];
  }
  if (spec.behavior) {
    spec.behavior.scaleUp = mergeRules(spec.behavior.scaleUp, defaultScaleUpRules());
    spec.behavior.scaleDown = mergeRules(spec.behavior.scaleDown, defaultScaleDownRules());
  }
}

const metricTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

function validateTarget(t: J | undefined, p: string): FieldError[] {
  if (!t) return [required(p, 'must specify a metric target')];
  const errs: FieldError[] = [];
  if (!['Utilization', 'Value', 'AverageValue'].includes(t.type)) errs.push(notSupported(`${p}.type`, t.type ?? '', ['AverageValue', 'Utilization', 'Value']));
  if (t.averageUtilization != null && t.averageUtilization < 1) errs.push(invalid(`${p}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  if (t.type === 'Utilization' && t.averageUtilization == null) errs.push(required(`${p}.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (t.type === 'Value' && t.value == null) errs.push(required(`${p}.value`, 'must set either a target value for metric or a per-pod target'));
  if (t.type === 'AverageValue' && t.averageValue == null) errs.push(required(`${p}.averageValue`, 'must set either a target value for metric or a per-pod target'));
  return errs;
}

function validateMetric(m: J, p: string): FieldError[] {
  if (!m?.type) return [required(`${p}.type`, 'must specify a metric source type')];
  if (!metricTypes.includes(m.type)) return [notSupported(`${p}.type`, m.type, metricTypes)];
  const key = m.type === 'ContainerResource' ? 'containerResource' : m.type.toLowerCase();
  const src = m[key];
  if (!src) return [required(`${p}.${key}`, `must populate information for the given metric source`)];
  const errs: FieldError[] = [];
  if ((m.type === 'Resource' || m.type === 'ContainerResource') && !src.name) errs.push(required(`${p}.${key}.name`, 'must specify a resource name'));
  if ((m.type === 'Pods' || m.type === 'Object' || m.type === 'External') && !src.metric?.name) errs.push(required(`${p}.${key}.metric.name`, 'must specify a metric name'));
  errs.push(...validateTarget(src.target, `${p}.${key}.target`));
  return errs;
}

function validateRules(r: J | undefined, p: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  if (r.selectPolicy != null && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy)) errs.push(notSupported(`${p}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  if (r.stabilizationWindowSeconds != null && (r.stabilizationWindowSeconds < 0 || r.stabilizationWindowSeconds > 3600)) {
    errs.push(invalid(`${p}.stabilizationWindowSeconds`, r.stabilizationWindowSeconds, 'must be less than or equal to 3600'));
  }
  const policies: J[] = r.policies ?? [];
  if (r.selectPolicy !== 'Disabled' && policies.length === 0) errs.push(required(`${p}.policies`, 'must specify at least one Policy'));
  policies.forEach((pol, i) => {
    const pp = `${p}.policies[${i}]`;
    if (pol.type !== 'Pods' && pol.type !== 'Percent') errs.push(notSupported(`${pp}.type`, pol.type ?? '', ['Percent', 'Pods']));
    if (!(pol.value > 0)) errs.push(invalid(`${pp}.value`, pol.value, 'must be greater than zero'));
    if (!(pol.periodSeconds > 0)) errs.push(invalid(`${pp}.periodSeconds`, pol.periodSeconds, 'must be greater than zero'));
    else if (pol.periodSeconds > 1800) errs.push(invalid(`${pp}.periodSeconds`, pol.periodSeconds, 'must be less than or equal to 1800'));
  });
  return errs;
}

export function validateHPA(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const ref = spec.scaleTargetRef ?? {};
  if (!ref.kind) errs.push(required('spec.scaleTargetRef.kind', ''));
  else for (const m of isPathSegmentName(ref.kind)) errs.push(invalid('spec.scaleTargetRef.kind', ref.kind, m));
  if (!ref.name) errs.push(required('spec.scaleTargetRef.name', ''));
  else for (const m of isPathSegmentName(ref.name)) errs.push(invalid('spec.scaleTargetRef.name', ref.name, m));
  if (spec.minReplicas != null && spec.minReplicas < 1) errs.push(invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  if (!(spec.maxReplicas >= 1)) errs.push(invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  else if (spec.minReplicas != null && spec.maxReplicas < spec.minReplicas) {
    errs.push(invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  (spec.metrics ?? []).forEach((m: J, i: number) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  if (spec.behavior) {
    errs.push(...validateRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

/** formatHPAMetrics: "cpu: 30%/50%", "<unknown>/100 (avg)", "… + 1 more...". */
export function formatHPAMetrics(specs: J[] | undefined, statuses: J[] | undefined): string {
  if (!specs || specs.length === 0) return '<none>';
  const st = statuses ?? [];
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const s = st[i];
    switch (spec.type) {
      case 'External': {
        const t = spec.external?.target ?? {};
        if (t.averageValue != null) {
          const cur = s?.external?.current?.averageValue ?? '<unknown>';
          list.push(`${cur}/${t.averageValue} (avg)`);
        } else list.push(`${s?.external ? s.external.current?.value ?? '0' : '<unknown>'}/${t.value}`);
        break;
      }
      case 'Pods':
        list.push(`${s?.pods ? s.pods.current?.averageValue ?? '0' : '<unknown>'}/${spec.pods?.target?.averageValue}`);
        break;
      case 'Object': {
        const t = spec.object?.target ?? {};
        if (t.averageValue != null) list.push(`${s?.object?.current?.averageValue ?? '<unknown>'}/${t.averageValue} (avg)`);
        else list.push(`${s?.object ? s.object.current?.value ?? '0' : '<unknown>'}/${t.value}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const r = spec[key] ?? {};
        const t = r.target ?? {};
        if (t.averageValue != null) {
          list.push(`${r.name}: ${s?.[key] ? s[key].current?.averageValue ?? '0' : '<unknown>'}/${t.averageValue}`);
        } else {
          const u = s?.[key]?.current?.averageUtilization;
          const cur = u != null ? `${u}%` : '<unknown>';
          const target = t.averageUtilization != null ? `${t.averageUtilization}%` : '<auto>';
          list.push(`${r.name}: ${cur}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalpodautoscalers: ResourceDecl = {
  group: 'autoscaling',
  version: 'v2',
  versions: ['v2', 'v1'],
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Reference', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
      col('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
      col('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
      col('MaxPods', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
      col('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'),
      AGE,
    ],
    cells(input, now) {
      const obj = input.apiVersion === 'autoscaling/v1' ? convertHPA(input, 'v2') : input;
      const spec = obj.spec ?? {};
      return [
        obj.metadata.name,
        `${spec.scaleTargetRef?.kind ?? ''}/${spec.scaleTargetRef?.name ?? ''}`,
        formatHPAMetrics(spec.metrics, obj.status?.currentMetrics),
        spec.minReplicas != null ? String(spec.minReplicas) : '<unset>',
        spec.maxReplicas ?? 0,
        obj.status?.currentReplicas ?? 0,
        age(obj.metadata.creationTimestamp, now),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      // Defaults apply to the stored (v2) shape; a v1 object is defaulted after conversion.
      if (obj.apiVersion === 'autoscaling/v1') {
        setDefault(ensure(obj, 'spec'), 'minReplicas', 1);
        return;
      }
      defaultHPA(obj);
    },
    validate(obj) {
      return validateHPA(obj.apiVersion === 'autoscaling/v1' ? convertHPA(clone(obj), 'v2') : obj);
    },
  },
  convert: convertHPA,
};

export const autoscalingResources: ResourceDecl[] = [horizontalpodautoscalers];
