import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ResourceDecl } from '../../../../src/api/types.js';
import { deployments, daemonsets, replicasets, statefulsets } from '../../../../src/api/groups/apps.js';
import { jobs, cronjobs } from '../../../../src/api/groups/batch.js';
import { horizontalpodautoscalers } from '../../../../src/api/groups/autoscaling.js';
import { networkpolicies } from '../../../../src/api/groups/networking.js';
import { rolebindings } from '../../../../src/api/groups/rbac.js';
import { storageclasses } from '../../../../src/api/groups/storage.js';
import { customresourcedefinitions } from '../../../../src/api/groups/apiextensions.js';
import { validatingwebhookconfigurations } from '../../../../src/api/groups/admissionregistration.js';

const template = () => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } });
const ctx = { now: () => new Date('2024-05-01T12:00:00Z') };

function defaulted(decl: ResourceDecl, obj: KObject): KObject {
  decl.strategy!.defaults!(obj);
  return obj;
}

test('a minimal deployment gets every default upstream gives', () => {
  const d = defaulted(deployments, { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
  assert.equal(d.spec.replicas, 1);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  // pod template defaults come from the pod declaration
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.equal(d.spec.template.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'Always');
  assert.deepEqual(deployments.strategy!.validate!(d), []);
});

test('deployment defaults keep what the user set; Recreate gets no rollingUpdate', () => {
  const d = defaulted(deployments, { metadata: { name: 'web' }, spec: { replicas: 0, strategy: { type: 'Recreate' }, template: template() } });
  assert.equal(d.spec.replicas, 0);
  assert.deepEqual(d.spec.strategy, { type: 'Recreate' });
});

test('replicaset, daemonset and statefulset defaults', () => {
  assert.equal(defaulted(replicasets, { metadata: {}, spec: { template: template() } }).spec.replicas, 1);
  const ds = defaulted(daemonsets, { metadata: {}, spec: { template: template() } });
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.revisionHistoryLimit, 10);
  const sts = defaulted(statefulsets, {
    metadata: {},
    spec: { template: template(), volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
  });
  assert.equal(sts.spec.replicas, 1);
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(sts.spec.revisionHistoryLimit, 10);
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(sts.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  assert.equal(sts.spec.volumeClaimTemplates[0].status.phase, 'Pending');
});

test('job defaults, and the selector and labels generated from the uid on create', () => {
  const t = template();
  t.spec = { ...t.spec, restartPolicy: 'Never' } as any;
  const job = defaulted(jobs, { metadata: { name: 'pi', uid: '1b3c-uid' }, spec: { template: t } });
  assert.equal(job.spec.completions, 1);
  assert.equal(job.spec.parallelism, 1);
  assert.equal(job.spec.backoffLimit, 6);
  assert.equal(job.spec.completionMode, 'NonIndexed');
  assert.equal(job.spec.suspend, false);
  assert.equal(job.spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.equal(job.spec.manualSelector, undefined);
  jobs.strategy!.prepareForCreate!(job, ctx);
  assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': '1b3c-uid' } });
  assert.deepEqual(job.spec.template.metadata.labels, {
    app: 'web',
    'job-name': 'pi',
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': '1b3c-uid',
    'batch.kubernetes.io/controller-uid': '1b3c-uid',
  });
  assert.deepEqual(job.metadata.labels, job.spec.template.metadata.labels);
  assert.deepEqual(jobs.strategy!.validate!(job), []);
});

test('parallel job: only parallelism set keeps completions unset', () => {
  const job = defaulted(jobs, { metadata: {}, spec: { parallelism: 3, template: template() } });
  assert.equal(job.spec.completions, undefined);
  assert.equal(job.spec.parallelism, 3);
});

test('cronjob defaults', () => {
  const cj = defaulted(cronjobs, { metadata: {}, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template() } } } });
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  assert.equal(cj.spec.suspend, false);
  assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(cj.spec.failedJobsHistoryLimit, 1);
});

test('hpa v2 defaults: minReplicas 1, CPU 80% when no metrics, behavior filled only when given', () => {
  const h = defaulted(horizontalpodautoscalers, { apiVersion: 'autoscaling/v2', metadata: {}, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 5 } });
  assert.equal(h.spec.minReplicas, 1);
  assert.deepEqual(h.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(h.spec.behavior, undefined);
  const b = defaulted(horizontalpodautoscalers, {
    apiVersion: 'autoscaling/v2',
    metadata: {},
    spec: { maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
  });
  assert.deepEqual(b.spec.behavior, {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  });
});

test('networkpolicy policyTypes and port protocol, storageclass, rbac and webhook defaults', () => {
  const np = defaulted(networkpolicies, { metadata: {}, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } });
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(np.spec.egress[0].ports[0].protocol, 'TCP');
  assert.deepEqual(defaulted(networkpolicies, { metadata: {}, spec: { podSelector: {} } }).spec.policyTypes, ['Ingress']);
  const sc = defaulted(storageclasses, { metadata: {}, provisioner: 'x.io/y' });
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  const rb = defaulted(rolebindings, { metadata: {}, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }, { kind: 'ServiceAccount', name: 's' }] });
  assert.equal(rb.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(rb.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(rb.subjects[1].apiGroup, undefined);
  const vw = defaulted(validatingwebhookconfigurations, { metadata: {}, webhooks: [{ name: 'a.b.c', rules: [{}], clientConfig: { service: { name: 's', namespace: 'n' } } }] });
  assert.equal(vw.webhooks[0].failurePolicy, 'Fail');
  assert.equal(vw.webhooks[0].timeoutSeconds, 10);
  assert.equal(vw.webhooks[0].rules[0].scope, '*');
  assert.equal(vw.webhooks[0].clientConfig.service.port, 443);
});

test('a created CRD is NamesAccepted and Established, so kubectl wait --for condition=established returns', () => {
  const crd: KObject = {
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
    },
  };
  defaulted(customresourcedefinitions, crd);
  assert.equal(crd.spec.names.singular, 'crontab');
  assert.equal(crd.spec.names.listKind, 'CronTabList');
  assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
  assert.deepEqual(customresourcedefinitions.strategy!.validate!(crd), []);
  customresourcedefinitions.strategy!.prepareForCreate!(crd, ctx);
  const byType = Object.fromEntries(crd.status.conditions.map((c: any) => [c.type, c]));
  assert.deepEqual(byType.Established, {
    type: 'Established',
    status: 'True',
    lastTransitionTime: '2024-05-01T12:00:00Z',
    reason: 'InitialNamesAccepted',
    message: 'the initial names have been accepted',
  });
  assert.equal(byType.NamesAccepted.status, 'True');
  assert.equal(byType.NamesAccepted.reason, 'NoConflicts');
  assert.deepEqual(crd.status.acceptedNames, crd.spec.names);
  assert.deepEqual(crd.status.storedVersions, ['v1']);
});
