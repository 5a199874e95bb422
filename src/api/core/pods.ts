// Pod and PodTemplateSpec behaviour shared with the workload resources.
import type { FieldError, KObject } from '../types.js';

/** SetDefaults for a PodTemplateSpec (used by every workload resource). */
export function defaultPodTemplateSpec(_template: KObject | undefined): void {}

/** Validates a PodTemplateSpec at `fieldPath` (e.g. "spec.template"). */
export function validatePodTemplateSpec(_template: unknown, _fieldPath: string): FieldError[] {
  return [];
}
