// Pod-template helpers shared by the workload resources (deployments, replicasets,
// daemonsets, statefulsets, jobs, cronjobs): wide-column printing and
// ValidatePodTemplateSpecForReplicaSet-style checks.
import type { FieldError, KObject } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pods.js';
import { selectorEmpty, selectorMatches, validateLabelSelector, type LabelSelector } from './common.js';

/** layoutContainerCells: "nginx,sidecar" and "nginx:1.25,busybox". */
export function layoutContainerCells(template: any): [string, string] {
  const containers: any[] = template?.spec?.containers ?? [];
  return [containers.map((c) => c?.name ?? '').join(','), containers.map((c) => c?.image ?? '').join(',')];
}

/** Applies pod defaults to spec.template (SetDefaults_PodTemplateSpec runs for every workload). */
export function defaultTemplate(template: unknown): void {
  if (!template || typeof template !== 'object') return;
  const t = template as KObject;
  defaultPodTemplateSpec(t);
  // SetDefaults_PodSpec's restartPolicy matters to workload validation; keep it even if pod defaults change.
  if (t.spec && typeof t.spec === 'object' && !t.spec.restartPolicy) t.spec.restartPolicy = 'Always';
}

/**
 * spec.selector checks of the apps resources: required, valid, and not empty
 * ("empty selector is invalid for deployment").
 */
export function validateWorkloadSelector(selector: unknown, field: string, kindWord: string): FieldError[] {
  if (selector === undefined || selector === null) return [required(field, '')];
  const errs = validateLabelSelector(selector, field);
  if (errs.length === 0 && selectorEmpty(selector as LabelSelector)) errs.push(invalid(field, selector, `empty selector is invalid for ${kindWord}`));
  return errs;
}

export interface TemplateRules {
  /** e.g. ["Always"] for apps, ["OnFailure", "Never"] for jobs. */
  restartPolicies: string[];
  /** "ReplicaSet", "StatefulSet", "DaemonSet": activeDeadlineSeconds is forbidden there. */
  forbidActiveDeadline?: string;
}

/**
 * ValidatePodTemplateSpecForReplicaSet and friends: the template must exist, carry
 * labels the selector matches, use an allowed restartPolicy, and be a valid pod template.
 */
export function validateWorkloadTemplate(template: any, selector: unknown, field: string, rules: TemplateRules): FieldError[] {
  if (template === undefined || template === null) return [required(field, '')];
  const errs: FieldError[] = [];
  const sel = selector as LabelSelector | undefined;
  if (sel && !selectorEmpty(sel) && !selectorMatches(sel, template.metadata?.labels)) {
    errs.push(invalid(`${field}.metadata.labels`, template.metadata?.labels ?? null, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, field));
  const rp = template.spec?.restartPolicy;
  if (!rules.restartPolicies.includes(rp)) errs.push(notSupported(`${field}.spec.restartPolicy`, rp ?? '', rules.restartPolicies));
  if (rules.forbidActiveDeadline && template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden(`${field}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${rules.forbidActiveDeadline} is not Supported`));
  }
  return errs;
}
