import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KObject, ResourceDecl } from '../../../../src/api/types.js';
import { fieldErrorMessage } from '../../../../src/api/validation/field.js';
import { deployments, daemonsets, statefulsets } from '../../../../src/api/groups/apps.js';
import { jobs, cronjobs } from '../../../../src/api/groups/batch.js';
import { horizontalpodautoscalers } from '../../../../src/api/groups/autoscaling.js';
import { ingresses } from '../../../../src/api/groups/networking.js';
import { roles, rolebindings } from '../../../../src/api/groups/rbac.js';
import { leases } from '../../../../src/api/groups/coordination.js';
import { poddisruptionbudgets } from '../../../../src/api/groups/policy.js';
import { customresourcedefinitions } from '../../../../src/api/groups/apiextensions.js';

const messages = (errs: FieldError[]) => errs.map(fieldErrorMessage);

/** Defaults then validate, as the API server does on create. */
function create(decl: ResourceDecl, obj: KObject): string[] {
  decl.strategy?.defaults?.(obj);
  decl.strategy?.prepareForCreate?.(obj, { now: () => new Date() });
  return messages(decl.strategy?.validate?.(obj) ?? []);
}
function update(decl: ResourceDecl, obj: KObject, old: KObject): string[] {
  decl.strategy?.defaults?.(obj);
  return messages([...(decl.strategy?.validate?.(obj) ?? []), ...(decl.strategy?.validateUpdate?.(obj, old) ?? [])]);
}

const template = (labels: Record<string, string> = { app: 'web' }, restartPolicy?: string) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...(restartPolicy ? { restartPolicy } : {}) },
});
const deploy = (spec: Record<string, unknown>): KObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
});

test('deployment: selector that does not match the template labels', () => {
  const errs = create(deployments, deploy({ template: template({ app: 'other' }) }));
  assert.deepEqual(errs, ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`']);
});

test('deployment: missing selector, negative replicas, wrong restartPolicy', () => {
  const errs = create(deployments, deploy({ selector: undefined, replicas: -1, template: template({ app: 'web' }, 'Never') }));
  assert.ok(errs.includes('spec.selector: Required value'), errs.join('\n'));
  assert.ok(errs.includes('spec.replicas: Invalid value: -1: must be greater than or equal to 0'), errs.join('\n'));
  assert.ok(errs.includes('spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'), errs.join('\n'));
});

test('deployment: empty selector, maxSurge and maxUnavailable both zero, bad percent', () => {
  assert.deepEqual(create(deployments, deploy({ selector: {} })), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']);
  assert.deepEqual(create(deployments, deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } })), [
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
  ]);
  const bad = create(deployments, deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '1x', maxUnavailable: 1 } } }));
  assert.match(bad[0]!, /^spec\.strategy\.rollingUpdate\.maxSurge: Invalid value: "1x": a valid percent string must be a numeric string followed by an ending '%'/);
  assert.deepEqual(create(deployments, deploy({ strategy: { type: 'Blue' } })), [
    'spec.strategy.type: Unsupported value: "Blue": supported values: "Recreate", "RollingUpdate"',
  ]);
  assert.deepEqual(create(deployments, deploy({ strategy: { type: 'Recreate', rollingUpdate: {} } })), [
    "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
  ]);
});

test('deployment: spec.selector is immutable', () => {
  const old = deploy({});
  deployments.strategy!.defaults!(old);
  const next = deploy({ selector: { matchLabels: { app: 'web', tier: 'x' } }, template: template({ app: 'web', tier: 'x' }) });
  assert.deepEqual(update(deployments, next, old), ['spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable']);
  const scaled = deploy({ replicas: 5 });
  assert.deepEqual(update(deployments, scaled, old), []);
});

test('daemonset rolling update needs exactly one of maxSurge/maxUnavailable', () => {
  const ds = (ru: Record<string, unknown>): KObject => ({
    metadata: { name: 'd' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: template(), updateStrategy: { type: 'RollingUpdate', rollingUpdate: ru } },
  });
  assert.deepEqual(create(daemonsets, ds({ maxSurge: 1, maxUnavailable: 1 })), ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero']);
  assert.deepEqual(create(daemonsets, ds({ maxSurge: 0, maxUnavailable: 0 })), ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
});

test('statefulset: only some spec fields may change', () => {
  const sts = (extra: Record<string, unknown>): KObject => ({
    metadata: { name: 'db' },
    spec: { serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: template(), ...extra },
  });
  const old = sts({});
  statefulsets.strategy!.defaults!(old);
  assert.deepEqual(update(statefulsets, sts({ replicas: 3 }), old), []);
  assert.deepEqual(update(statefulsets, sts({ serviceName: 'other' }), old), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  assert.deepEqual(create(statefulsets, sts({ podManagementPolicy: 'Random' })), ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]);
});

const job = (restartPolicy?: string): KObject => ({ metadata: { name: 'pi', namespace: 'default', uid: 'u-1' }, spec: { template: template({}, restartPolicy) } });

test('job: restartPolicy must be OnFailure or Never', () => {
  assert.deepEqual(create(jobs, job()), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
  assert.deepEqual(create(jobs, job('Never')), []);
});

test('job: a hand-written selector is refused unless manualSelector is true', () => {
  const j = job('Never');
  j.spec.selector = { matchLabels: { app: 'x' } };
  const errs = create(jobs, j);
  assert.equal(errs[0], 'spec.selector: Invalid value: {"matchLabels":{"app":"x","batch.kubernetes.io/controller-uid":"u-1"}}: `selector` not auto-generated');
  assert.match(errs[1]!, /^spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/);
  const manual = job('Never');
  manual.spec.manualSelector = true;
  manual.spec.selector = { matchLabels: { app: 'x' } };
  manual.spec.template.metadata.labels = { app: 'x' };
  assert.deepEqual(create(jobs, manual), []);
  assert.equal(manual.spec.template.metadata.labels['controller-uid'], undefined);
});

test('job: template, selector and completions are immutable', () => {
  const old = job('Never');
  create(jobs, old);
  const next = structuredClone(old);
  next.spec.template.spec.containers[0].image = 'busybox';
  next.spec.completions = 3;
  const errs = update(jobs, next, old);
  assert.ok(errs.some((e) => e.startsWith('spec.template: Invalid value: ') && e.endsWith(': field is immutable')), errs.join('\n'));
  assert.ok(errs.includes('spec.completions: Invalid value: 3: field is immutable'), errs.join('\n'));
});

test('cronjob: schedule syntax errors carry robfig/cron messages; time zones are checked', () => {
  const cj = (schedule: string, timeZone?: string): KObject => ({
    metadata: { name: 'hello' },
    spec: { schedule, ...(timeZone ? { timeZone } : {}), jobTemplate: { spec: { template: template({}, 'OnFailure') } } },
  });
  assert.deepEqual(create(cronjobs, cj('*/1 * * * *')), []);
  assert.deepEqual(create(cronjobs, cj('@hourly', 'Europe/Paris')), []);
  assert.deepEqual(create(cronjobs, cj('* * * *')), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']);
  assert.deepEqual(create(cronjobs, cj('61 * * * *')), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']);
  assert.deepEqual(create(cronjobs, cj('@sometimes')), ['spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes']);
  assert.deepEqual(create(cronjobs, cj('TZ=UTC 0 * * * *')), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
  assert.deepEqual(create(cronjobs, cj('0 * * * *', 'Mars/Olympus')), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
  assert.deepEqual(create(cronjobs, { metadata: { name: 'x'.repeat(53) }, spec: cj('0 * * * *').spec }), [
    `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
  ]);
});

test('hpa: maxReplicas below minReplicas, missing target', () => {
  const errs = create(horizontalpodautoscalers, { apiVersion: 'autoscaling/v2', metadata: { name: 'h' }, spec: { minReplicas: 5, maxReplicas: 2, scaleTargetRef: { kind: 'Deployment' } } });
  assert.deepEqual(errs, ['spec.scaleTargetRef.name: Required value', 'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
});

test('ingress: rules or backend required, pathType required, absolute paths, service port', () => {
  assert.deepEqual(create(ingresses, { metadata: { name: 'i' }, spec: {} }), ['spec: Invalid value: []: either `defaultBackend` or `rules` must be specified']);
  const errs = create(ingresses, {
    metadata: { name: 'i' },
    spec: {
      rules: [
        {
          host: '10.0.0.1',
          http: {
            paths: [
              { path: '/', backend: { service: { name: 'web', port: { number: 80 } } } },
              { path: 'api', pathType: 'Prefix', backend: { service: { name: 'web' } } },
            ],
          },
        },
      ],
    },
  });
  assert.deepEqual(errs, [
    'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    'spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
    'spec.rules[0].http.paths[1].backend: Required value: port name or number is required',
  ]);
});

test('rbac: verbs required; roleRef cannot change', () => {
  assert.deepEqual(create(roles, { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'] }] }), ['rules[0].verbs: Required value: verbs must contain at least one value']);
  const old: KObject = { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'a' }, subjects: [] };
  const next: KObject = { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'b' }, subjects: [] };
  assert.deepEqual(update(rolebindings, next, old), ['roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef']);
  assert.deepEqual(create(rolebindings, { metadata: { name: 'b' }, roleRef: { kind: 'Secret', name: 'x' }, subjects: [{ kind: 'Robot', name: 'r' }] }), [
    'roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"',
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
  ]);
  assert.equal(rolebindings.nameValidation, 'pathSegment');
});

test('pdb: minAvailable and maxUnavailable are exclusive; lease durations positive', () => {
  const errs = create(poddisruptionbudgets, { metadata: { name: 'p' }, spec: { minAvailable: 1, maxUnavailable: '10%' } });
  assert.deepEqual(errs, ['spec: Invalid value: {"minAvailable":1,"maxUnavailable":"10%"}: minAvailable and maxUnavailable cannot be both set']);
  assert.deepEqual(create(leases, { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0 } }), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
});

test('crd: name must be <plural>.<group>, group needs a dot, one storage version', () => {
  const errs = create(customresourcedefinitions, {
    metadata: { name: 'crontab.example' },
    spec: {
      group: 'example',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab' },
      versions: [{ name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } }],
    },
  });
  assert.ok(errs.includes('metadata.name: Invalid value: "crontab.example": must be spec.names.plural+"."+spec.group'), errs.join('\n'));
  assert.ok(errs.includes('spec.group: Invalid value: "example": should be a domain with at least one dot'), errs.join('\n'));
  assert.ok(errs.some((e) => e.startsWith('spec.versions: Invalid value: ') && e.endsWith('must have exactly one version marked as storage version')), errs.join('\n'));
});
