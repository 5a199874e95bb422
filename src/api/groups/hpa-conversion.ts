// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler conversion, as upstream's
// pkg/apis/autoscaling/v1/conversion.go does it: v1 keeps only the CPU utilization target;
// every other metric, the current metrics, the conditions and the behavior travel in
// annotations. Metrics in those annotations use autoscaling/v1's MetricSpec/MetricStatus
// shape (targetAverageUtilization, currentAverageValue, …), like upstream, so clients
// reading the annotations see the same JSON.
import type { KObject } from '../types.js';
import { clone } from './common.js';

export const MetricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const MetricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const ConditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const BehaviorSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';
/** autoscaling/v1's implicit target when no metric is given. */
export const DefaultCPUUtilization = 80;

type J = Record<string, any>;

/** Drops undefined members so JSON round trips compare equal. */
function compact<T extends J>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

// ---- spec metrics --------------------------------------------------------

function v2MetricToV1(m: J): J {
  const out: J = { type: m.type };
  switch (m.type) {
    case 'Object': {
      const o = m.object ?? {};
      const t = o.target ?? {};
      out.object = compact({ target: o.describedObject, metricName: o.metric?.name, targetValue: t.value, selector: o.metric?.selector, averageValue: t.averageValue });
      break;
    }
    case 'Pods': {
      const p = m.pods ?? {};
      out.pods = compact({ metricName: p.metric?.name, targetAverageValue: p.target?.averageValue, selector: p.metric?.selector });
      break;
    }
    case 'Resource': {
      const r = m.resource ?? {};
      out.resource = compact({ name: r.name, targetAverageUtilization: r.target?.averageUtilization, targetAverageValue: r.target?.averageValue });
      break;
    }
    case 'ContainerResource': {
      const r = m.containerResource ?? {};
      out.containerResource = compact({
        name: r.name,
        targetAverageUtilization: r.target?.averageUtilization,
        targetAverageValue: r.target?.averageValue,
        container: r.container,
      });
      break;
    }
    case 'External': {
      const e = m.external ?? {};
      out.external = compact({
        metricName: e.metric?.name,
        metricSelector: e.metric?.selector,
        targetValue: e.target?.value,
        targetAverageValue: e.target?.averageValue,
      });
      break;
    }
  }
  return out;
}

function v1MetricToV2(m: J): J {
  const out: J = { type: m.type };
  switch (m.type) {
    case 'Object': {
      const o = m.object ?? {};
      out.object = compact({
        describedObject: o.target,
        target: compact({ type: o.averageValue == null ? 'Value' : 'AverageValue', value: o.targetValue, averageValue: o.averageValue }),
        metric: compact({ name: o.metricName, selector: o.selector }),
      });
      break;
    }
    case 'Pods': {
      const p = m.pods ?? {};
      out.pods = {
        metric: compact({ name: p.metricName, selector: p.selector }),
        target: compact({ type: 'AverageValue', averageValue: p.targetAverageValue }),
      };
      break;
    }
    case 'Resource':
    case 'ContainerResource': {
      const key = m.type === 'Resource' ? 'resource' : 'containerResource';
      const r = m[key] ?? {};
      const target =
        r.targetAverageValue != null
          ? { type: 'AverageValue', averageValue: r.targetAverageValue }
          : compact({ type: 'Utilization', averageUtilization: r.targetAverageUtilization });
      out[key] = compact({ name: r.name, container: r.container, target });
      break;
    }
    case 'External': {
      const e = m.external ?? {};
      const target = e.targetValue != null ? { type: 'Value', value: e.targetValue } : compact({ type: 'AverageValue', averageValue: e.targetAverageValue });
      out.external = { metric: compact({ name: e.metricName, selector: e.metricSelector }), target };
      break;
    }
  }
  return out;
}

// ---- status metrics ------------------------------------------------------

function v2StatusToV1(m: J): J {
  const out: J = { type: m.type };
  switch (m.type) {
    case 'Object': {
      const o = m.object ?? {};
      out.object = compact({ target: o.describedObject, metricName: o.metric?.name, currentValue: o.current?.value, selector: o.metric?.selector, averageValue: o.current?.averageValue });
      break;
    }
    case 'Pods': {
      const p = m.pods ?? {};
      out.pods = compact({ metricName: p.metric?.name, currentAverageValue: p.current?.averageValue, selector: p.metric?.selector });
      break;
    }
    case 'Resource':
    case 'ContainerResource': {
      const key = m.type === 'Resource' ? 'resource' : 'containerResource';
      const r = m[key] ?? {};
      out[key] = compact({
        name: r.name,
        currentAverageUtilization: r.current?.averageUtilization,
        currentAverageValue: r.current?.averageValue,
        container: r.container,
      });
      break;
    }
    case 'External': {
      const e = m.external ?? {};
      out.external = compact({ metricName: e.metric?.name, metricSelector: e.metric?.selector, currentValue: e.current?.value, currentAverageValue: e.current?.averageValue });
      break;
    }
  }
  return out;
}

function v1StatusToV2(m: J): J {
  const out: J = { type: m.type };
  switch (m.type) {
    case 'Object': {
      const o = m.object ?? {};
      out.object = compact({
        describedObject: o.target,
        current: compact({ value: o.currentValue, averageValue: o.averageValue }),
        metric: compact({ name: o.metricName, selector: o.selector }),
      });
      break;
    }
    case 'Pods': {
      const p = m.pods ?? {};
      out.pods = { metric: compact({ name: p.metricName, selector: p.selector }), current: compact({ averageValue: p.currentAverageValue }) };
      break;
    }
    case 'Resource':
    case 'ContainerResource': {
      const key = m.type === 'Resource' ? 'resource' : 'containerResource';
      const r = m[key] ?? {};
      out[key] = compact({
        name: r.name,
        container: r.container,
        current: compact({ averageUtilization: r.currentAverageUtilization, averageValue: r.currentAverageValue }),
      });
      break;
    }
    case 'External': {
      const e = m.external ?? {};
      out.external = {
        metric: compact({ name: e.metricName, selector: e.metricSelector }),
        current: compact({ value: e.currentValue, averageValue: e.currentAverageValue }),
      };
      break;
    }
  }
  return out;
}

const isCpuUtilization = (m: J) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.averageUtilization != null;

// ---- whole objects -------------------------------------------------------

/** autoscaling/v2 -> autoscaling/v1. */
export function hpaV2ToV1(obj: KObject): KObject {
  const src = clone(obj);
  const spec: J = src.spec ?? {};
  const status: J = src.status ?? {};
  const annotations: Record<string, string> = { ...(src.metadata.annotations ?? {}) };

  const metrics: J[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(v2MetricToV1);
  if (others.length > 0) annotations[MetricSpecsAnnotation] = JSON.stringify(others);
  const current: J[] = status.currentMetrics ?? [];
  // All current metrics are kept, the CPU one too, so its raw value survives.
  if (current.length > 0) annotations[MetricStatusesAnnotation] = JSON.stringify(current.map(v2StatusToV1));
  if (spec.behavior) annotations[BehaviorSpecsAnnotation] = JSON.stringify(spec.behavior);
  if ((status.conditions ?? []).length > 0) annotations[ConditionsAnnotation] = JSON.stringify(status.conditions);

  const cpuStatus = current.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  const out: KObject = {
    ...src,
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...src.metadata, annotations },
    spec: compact({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization,
    }),
  };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  if (obj.status !== undefined) {
    out.status = compact({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuStatus?.resource?.current?.averageUtilization,
    });
  }
  return out;
}

function parseAnnotation(annotations: Record<string, string>, key: string): any {
  const text = annotations[key];
  if (text === undefined) return undefined;
  delete annotations[key];
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // upstream ignores an annotation it cannot decode
  }
}

/** autoscaling/v1 -> autoscaling/v2. */
export function hpaV1ToV2(obj: KObject): KObject {
  const src = clone(obj);
  const spec: J = src.spec ?? {};
  const status: J | undefined = src.status;
  const annotations: Record<string, string> = { ...(src.metadata.annotations ?? {}) };

  const metrics: J[] = [];
  if (spec.targetCPUUtilizationPercentage != null) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  const others = parseAnnotation(annotations, MetricSpecsAnnotation);
  if (Array.isArray(others)) metrics.push(...others.map(v1MetricToV2));
  // v1 had an implicit CPU target applied by the controller; v2 makes it explicit.
  if (metrics.length === 0) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DefaultCPUUtilization } } });
  }
  const behavior = parseAnnotation(annotations, BehaviorSpecsAnnotation);
  const currentFromAnnotation = parseAnnotation(annotations, MetricStatusesAnnotation);
  const conditions = parseAnnotation(annotations, ConditionsAnnotation);

  const out: KObject = {
    ...src,
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...src.metadata, annotations },
    spec: compact({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics, behavior }),
  };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  if (status !== undefined) {
    let currentMetrics: J[] | undefined;
    if (Array.isArray(currentFromAnnotation)) currentMetrics = currentFromAnnotation.map(v1StatusToV2);
    else if (status.currentCPUUtilizationPercentage != null) {
      currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    }
    out.status = compact({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentMetrics,
      conditions: Array.isArray(conditions) ? conditions : undefined,
    });
  }
  return out;
}

/** ResourceDecl.convert for horizontalpodautoscalers. */
export function convertHPA(obj: KObject, toVersion: string): KObject {
  const from = obj.apiVersion === 'autoscaling/v1' ? 'v1' : 'v2';
  if (from === toVersion) return obj;
  return toVersion === 'v1' ? hpaV2ToV1(obj) : hpaV1ToV2(obj);
}
