import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../../src/api/types.js';
import { horizontalpodautoscalers } from '../../../../src/api/groups/autoscaling.js';
import { MetricSpecsAnnotation, MetricStatusesAnnotation, hpaV1ToV2, hpaV2ToV1 } from '../../../../src/api/groups/hpa-conversion.js';

const convert = horizontalpodautoscalers.convert!;

const v2: KObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { owner: 'team-a' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '200Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'packets-per-second' }, target: { type: 'AverageValue', averageValue: '1k' } } },
      {
        type: 'Object',
        object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'requests' }, target: { type: 'Value', value: '10k' } },
      },
      { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'jobs' } } }, target: { type: 'AverageValue', averageValue: '30' } } },
    ],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
  },
  status: {
    observedGeneration: 3,
    lastScaleTime: '2024-05-01T11:00:00Z',
    currentReplicas: 3,
    desiredReplicas: 4,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 62, averageValue: '310m' } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '150Mi' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-05-01T10:00:00Z', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }],
  },
};

test('v2 -> v1 keeps the CPU target as targetCPUUtilizationPercentage and the rest in annotations', () => {
  const v1 = convert(structuredClone(v2), 'v1');
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1.spec, { scaleTargetRef: v2.spec.scaleTargetRef, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 50 });
  assert.deepEqual(v1.status, { observedGeneration: 3, lastScaleTime: '2024-05-01T11:00:00Z', currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 62 });
  const others = JSON.parse(v1.metadata.annotations![MetricSpecsAnnotation]!);
  // autoscaling/v1's MetricSpec shape, as upstream writes it
  assert.deepEqual(others[0], { type: 'Resource', resource: { name: 'memory', targetAverageValue: '200Mi' } });
  assert.deepEqual(others[1], { type: 'Pods', pods: { metricName: 'packets-per-second', targetAverageValue: '1k' } });
  const current = JSON.parse(v1.metadata.annotations![MetricStatusesAnnotation]!);
  assert.deepEqual(current[0], { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 62, currentAverageValue: '310m' } });
  assert.equal(v1.metadata.annotations!.owner, 'team-a');
});

test('v2 -> v1 -> v2 round-trips every field', () => {
  const back = convert(convert(structuredClone(v2), 'v1'), 'v2');
  assert.deepEqual(back, v2);
});

test('a plain v1 HPA converts to v2 and back unchanged', () => {
  const v1: KObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'php-apache', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'php-apache' }, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 20 },
  };
  const asV2 = hpaV1ToV2(structuredClone(v1));
  assert.deepEqual(asV2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  assert.deepEqual(asV2.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } }]);
  assert.equal(asV2.metadata.annotations, undefined);
  // Upstream keeps the raw current metrics in an annotation on the way back, the CPU one too.
  const back = hpaV2ToV1(asV2);
  assert.deepEqual(back.metadata.annotations, { [MetricStatusesAnnotation]: '[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":20}}]' });
  delete back.metadata.annotations;
  assert.deepEqual(back, v1);
});

test('a v1 HPA without a CPU target gets the implicit 80% in v2 (kubectl autoscale without --cpu-percent)', () => {
  const asV2 = convert({ apiVersion: 'autoscaling/v1', metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } }, 'v2');
  assert.deepEqual(asV2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
});

test('convert is a no-op when the object is already in the requested version', () => {
  assert.equal(convert(v2, 'v2'), v2);
});
