// admissionregistration.k8s.io/v1: webhook configurations and validating admission
// policies. Stored and served only; nothing calls the webhooks or evaluates the policies yet.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { duplicate, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Subdomain } from '../validation/names.js';
import { age, formatLabelSelector } from '../printers/util.js';
import { AGE, NAME, col, ensure, setDefault, validateLabelSelector } from './common.js';

const GROUP = 'admissionregistration.k8s.io';
type J = Record<string, any>;

function defaultRules(rules: unknown): void {
  for (const r of Array.isArray(rules) ? rules : []) if (r && typeof r === 'object') setDefault(r, 'scope', '*');
}

function defaultWebhooks(obj: KObject, mutating: boolean): void {
  for (const hook of Array.isArray(obj.webhooks) ? obj.webhooks : []) {
    if (!hook || typeof hook !== 'object') continue;
    setDefault(hook, 'failurePolicy', 'Fail');
    setDefault(hook, 'matchPolicy', 'Equivalent');
    setDefault(hook, 'namespaceSelector', {});
    setDefault(hook, 'objectSelector', {});
    setDefault(hook, 'timeoutSeconds', 10);
    if (mutating) setDefault(hook, 'reinvocationPolicy', 'Never');
    defaultRules(hook.rules);
    const svc = hook.clientConfig?.service;
    if (svc && typeof svc === 'object') setDefault(svc, 'port', 443);
  }
}

function validateWebhooks(obj: KObject, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (Array.isArray(obj.webhooks) ? obj.webhooks : []).forEach((hook: J, i: number) => {
    const p = `webhooks[${i}]`;
    if (!hook?.name) errs.push(required(`${p}.name`, ''));
    else {
      for (const m of isDNS1123Subdomain(hook.name)) errs.push(invalid(`${p}.name`, hook.name, m));
      if (hook.name.split('.').length < 3) errs.push(invalid(`${p}.name`, hook.name, 'should be a domain with at least three segments separated by dots'));
      if (seen.has(hook.name)) errs.push(duplicate(`${p}.name`, hook.name));
      seen.add(hook.name);
    }
    const cc = hook?.clientConfig ?? {};
    if ((cc.url == null) === (cc.service == null)) errs.push(required(`${p}.clientConfig`, 'exactly one of url or service is required'));
    if (cc.service && !cc.service.name) errs.push(required(`${p}.clientConfig.service.name`, 'service name is required'));
    if (cc.service && !cc.service.namespace) errs.push(required(`${p}.clientConfig.service.namespace`, 'service namespace is required'));
    if (!Array.isArray(hook?.admissionReviewVersions) || hook.admissionReviewVersions.length === 0) {
      errs.push(required(`${p}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    }
    if (hook?.sideEffects == null) errs.push(required(`${p}.sideEffects`, 'must specify one of None, NoneOnDryRun'));
    else if (hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') errs.push(notSupported(`${p}.sideEffects`, hook.sideEffects, ['None', 'NoneOnDryRun']));
    if (hook?.failurePolicy != null && !['Fail', 'Ignore'].includes(hook.failurePolicy)) errs.push(notSupported(`${p}.failurePolicy`, hook.failurePolicy, ['Fail', 'Ignore']));
    if (hook?.matchPolicy != null && !['Equivalent', 'Exact'].includes(hook.matchPolicy)) errs.push(notSupported(`${p}.matchPolicy`, hook.matchPolicy, ['Equivalent', 'Exact']));
    if (hook?.timeoutSeconds != null && (hook.timeoutSeconds < 1 || hook.timeoutSeconds > 30)) {
      errs.push(invalid(`${p}.timeoutSeconds`, hook.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
    }
    if (mutating && hook?.reinvocationPolicy != null && !['Never', 'IfNeeded'].includes(hook.reinvocationPolicy)) {
      errs.push(notSupported(`${p}.reinvocationPolicy`, hook.reinvocationPolicy, ['IfNeeded', 'Never']));
    }
    errs.push(...validateLabelSelector(hook?.namespaceSelector, `${p}.namespaceSelector`));
    errs.push(...validateLabelSelector(hook?.objectSelector, `${p}.objectSelector`));
  });
  return errs;
}

const webhooksPrinter = {
  columns: [NAME, col('Webhooks', 'Webhooks indicates the number of webhooks registered in this configuration', 'integer'), AGE],
  cells(obj: KObject, now: Date) {
    return [obj.metadata.name, (obj.webhooks ?? []).length, age(obj.metadata.creationTimestamp, now)];
  },
};

const base = { group: GROUP, version: 'v1', namespaced: false, categories: ['api-extensions'], generation: true };

export const mutatingwebhookconfigurations: ResourceDecl = {
  ...base,
  kind: 'MutatingWebhookConfiguration',
  plural: 'mutatingwebhookconfigurations',
  singular: 'mutatingwebhookconfiguration',
  printer: webhooksPrinter,
  strategy: { defaults: (o) => defaultWebhooks(o, true), validate: (o) => validateWebhooks(o, true) },
};

export const validatingwebhookconfigurations: ResourceDecl = {
  ...base,
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  singular: 'validatingwebhookconfiguration',
  printer: webhooksPrinter,
  strategy: { defaults: (o) => defaultWebhooks(o, false), validate: (o) => validateWebhooks(o, false) },
};

function defaultMatchResources(spec: J): void {
  const mc = ensure(spec, 'matchConstraints');
  setDefault(mc, 'matchPolicy', 'Equivalent');
  setDefault(mc, 'namespaceSelector', {});
  setDefault(mc, 'objectSelector', {});
  defaultRules(mc.resourceRules);
  defaultRules(mc.excludeResourceRules);
}

export const validatingadmissionpolicies: ResourceDecl = {
  ...base,
  kind: 'ValidatingAdmissionPolicy',
  plural: 'validatingadmissionpolicies',
  singular: 'validatingadmissionpolicy',
  subresources: { status: true },
  printer: {
    columns: [
      NAME,
      col('Validations', 'Validations indicates the number of validation rules defined in this configuration', 'integer'),
      col('ParamKind', 'ParamKind specifies the kind of resources used to parameterize this policy'),
      AGE,
    ],
    cells(obj, now) {
      const pk = obj.spec?.paramKind;
      return [obj.metadata.name, (obj.spec?.validations ?? []).length, pk ? `${pk.apiVersion}/${pk.kind}` : '<unset>', age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      setDefault(spec, 'failurePolicy', 'Fail');
      defaultMatchResources(spec);
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      const validations: J[] = spec.validations ?? [];
      if (validations.length === 0 && (spec.auditAnnotations ?? []).length === 0) {
        errs.push(required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
      }
      validations.forEach((v, i) => {
        if (!v?.expression) errs.push(required(`spec.validations[${i}].expression`, ''));
      });
      if (spec.failurePolicy != null && !['Fail', 'Ignore'].includes(spec.failurePolicy)) errs.push(notSupported('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']));
      if (spec.matchConstraints && (spec.matchConstraints.resourceRules ?? []).length === 0) {
        errs.push(required('spec.matchConstraints.resourceRules', ''));
      }
      return errs;
    },
  },
};

export const validatingadmissionpolicybindings: ResourceDecl = {
  ...base,
  kind: 'ValidatingAdmissionPolicyBinding',
  plural: 'validatingadmissionpolicybindings',
  singular: 'validatingadmissionpolicybinding',
  printer: {
    columns: [
      NAME,
      col('PolicyName', 'PolicyName indicates the policy definition which the policy binding binded to'),
      col('ParamRef', 'ParamRef indicates the param resource which sets the configration param'),
      AGE,
    ],
    cells(obj, now) {
      const pr = obj.spec?.paramRef;
      let param = '<unset>';
      if (pr?.name) param = pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
      else if (pr?.selector) param = formatLabelSelector(pr.selector);
      return [obj.metadata.name, obj.spec?.policyName ?? '', param, age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      if (spec.matchResources) defaultMatchResources({ matchConstraints: spec.matchResources });
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      if (!spec.policyName) errs.push(required('spec.policyName', ''));
      const actions: unknown[] = spec.validationActions ?? [];
      if (actions.length === 0) errs.push(required('spec.validationActions', 'at least one validation action is required'));
      actions.forEach((a, i) => {
        if (!['Deny', 'Warn', 'Audit'].includes(a as string)) errs.push(notSupported(`spec.validationActions[${i}]`, a, ['Audit', 'Deny', 'Warn']));
      });
      return errs;
    },
  },
};

export const admissionregistrationResources: ResourceDecl[] = [
  mutatingwebhookconfigurations,
  validatingwebhookconfigurations,
  validatingadmissionpolicies,
  validatingadmissionpolicybindings,
];
