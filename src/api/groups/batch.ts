// batch/v1: jobs and cronjobs (pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation,
// pkg/registry/batch/job/strategy.go for the generated selector).
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { age, formatLabelSelector, humanDuration } from '../printers/util.js';
import { cronError, isValidTimeZone } from '../cron.js';
import { AGE, CONTAINERS, IMAGES, NAME, col, deepEqual, ensure, immutable, nonNegative, positive, selectorMatches, setDefault, validateLabelSelector } from './common.js';
import { defaultTemplate, layoutContainerCells, validateWorkloadTemplate } from './workload.js';

export const ControllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const LegacyControllerUidLabel = 'controller-uid';
export const JobNameLabel = 'batch.kubernetes.io/job-name';
export const LegacyJobNameLabel = 'job-name';

const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

// ---- Job -----------------------------------------------------------------

/** SetDefaults_Job. */
export function defaultJobSpec(spec: Record<string, any>): void {
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  if (spec.backoffLimit == null) spec.backoffLimit = spec.backoffLimitPerIndex != null ? 2147483647 : 6;
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  if (spec.podFailurePolicy) {
    for (const rule of spec.podFailurePolicy.rules ?? []) {
      for (const pattern of rule?.onPodConditions ?? []) setDefault(pattern, 'status', 'True');
    }
  }
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed');
  defaultTemplate(spec.template);
}

/** generateSelector: the labels and selector that tie a Job's pods to it by uid. */
export function generateJobSelector(job: KObject): void {
  const spec = ensure(job, 'spec');
  const template = ensure(spec, 'template');
  const tmeta = ensure(template, 'metadata');
  const labels: Record<string, string> = ensure(tmeta, 'labels');
  for (const k of [LegacyJobNameLabel, JobNameLabel]) if (!(k in labels)) labels[k] = job.metadata.name ?? '';
  for (const k of [LegacyControllerUidLabel, ControllerUidLabel]) if (!(k in labels)) labels[k] = job.metadata.uid ?? '';
  const sel = ensure(spec, 'selector');
  const ml: Record<string, string> = ensure(sel, 'matchLabels');
  if (!(ControllerUidLabel in ml)) ml[ControllerUidLabel] = job.metadata.uid ?? '';
}

/** validateJobSpec: the checks shared by Jobs and CronJob job templates. */
function validateJobSpec(spec: any, p: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, `${p}.parallelism`));
  errs.push(...nonNegative(spec.completions, `${p}.completions`));
  errs.push(...positive(spec.activeDeadlineSeconds, `${p}.activeDeadlineSeconds`));
  errs.push(...nonNegative(spec.backoffLimit, `${p}.backoffLimit`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${p}.ttlSecondsAfterFinished`));
  if (spec.completionMode != null) {
    if (spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
      errs.push(notSupported(`${p}.completionMode`, spec.completionMode, ['NonIndexed', 'Indexed']));
    } else if (spec.completionMode === 'Indexed' && spec.completions == null) {
      errs.push(required(`${p}.completions`, 'when completion mode is Indexed'));
    }
  }
  if (spec.podReplacementPolicy != null && !['TerminatingOrFailed', 'Failed'].includes(spec.podReplacementPolicy)) {
    errs.push(notSupported(`${p}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validateLabelSelector(spec.selector, `${p}.selector`));
  errs.push(...validateWorkloadTemplate(spec.template, spec.selector, `${p}.template`, { restartPolicies: ['OnFailure', 'Never'] }));
  return errs;
}

export function validateJob(job: KObject): FieldError[] {
  const spec = job.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.selector == null) errs.push(required('spec.selector', ''));
  else if (!spec.manualSelector && !selectorMatches(spec.selector, { [ControllerUidLabel]: job.metadata.uid ?? '' })) {
    errs.push(invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  errs.push(...validateJobSpec(spec, 'spec'));
  return errs;
}

function jobStatus(job: KObject): string {
  const conds: any[] = job.status?.conditions ?? [];
  const has = (t: string) => conds.find((c) => c?.type === t)?.status === 'True';
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: KObject): string {
  const succeeded = n(job.status?.succeeded);
  if (job.spec?.completions != null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = n(job.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: KObject, now: Date): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime;
  return humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

export const jobs: ResourceDecl = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  fieldSelectors: { 'status.successful': (o) => String(n(o.status?.succeeded)) },
  printer: {
    columns: [
      NAME,
      col('Status', 'Status of the job.'),
      col('Completions', 'The number of pods which reached phase Succeeded.'),
      col('Duration', 'Time required to complete the job.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'A label query over pods that should match the pod count.', 'string', 1),
    ],
    cells(obj, now) {
      const [names, images] = layoutContainerCells(obj.spec?.template);
      return [
        obj.metadata.name,
        jobStatus(obj),
        jobCompletions(obj),
        jobDuration(obj, now),
        age(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      defaultJobSpec(ensure(obj, 'spec'));
    },
    prepareForCreate(obj) {
      // uid is already set by the API server: the selector is derived from it.
      if (obj.spec?.manualSelector !== true) generateJobSelector(obj);
      // SetDefaults_Job copies template labels to an unlabelled Job; upstream sees the
      // generated labels there because defaulting runs again when the object is read back.
      const tl = obj.spec?.template?.metadata?.labels;
      if (tl && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...tl };
    },
    validate: validateJob,
    validateUpdate(obj, old) {
      const errs: FieldError[] = [];
      errs.push(...immutable(obj.spec?.selector, old.spec?.selector, 'spec.selector'));
      // A suspended Job that never started may change its pod template's scheduling directives;
      // everything else in the template is frozen.
      const t = obj.spec?.template;
      const o = old.spec?.template;
      if (!deepEqual(t, o)) {
        const mayMutateScheduling = old.spec?.suspend === true && !old.status?.startTime;
        const strip = (x: any) => {
          const c = JSON.parse(JSON.stringify(x ?? {}));
          if (mayMutateScheduling && c.spec) for (const k of ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates']) delete c.spec[k];
          if (mayMutateScheduling && c.metadata) for (const k of ['labels', 'annotations']) delete c.metadata[k];
          return c;
        };
        if (!deepEqual(strip(t), strip(o))) errs.push(invalid('spec.template', t, 'field is immutable'));
      }
      // Indexed Jobs may scale completions together with parallelism (elastic indexed jobs).
      const elastic = obj.spec?.completionMode === 'Indexed' && obj.spec?.completions === obj.spec?.parallelism && old.spec?.completions === old.spec?.parallelism;
      if (!elastic) errs.push(...immutable(obj.spec?.completions, old.spec?.completions, 'spec.completions'));
      errs.push(...immutable(obj.spec?.completionMode, old.spec?.completionMode, 'spec.completionMode'));
      errs.push(...immutable(obj.spec?.podFailurePolicy, old.spec?.podFailurePolicy, 'spec.podFailurePolicy'));
      errs.push(...immutable(obj.spec?.backoffLimitPerIndex, old.spec?.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
      return errs;
    },
  },
};

// ---- CronJob -------------------------------------------------------------

export function validateCronJob(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const name = obj.metadata.name ?? '';
  // The controller appends an 11-character suffix to Job names (DNS-1035 max 63).
  if (name.length > 52) errs.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
  if (!spec.schedule) errs.push(required('spec.schedule', ''));
  else if (typeof spec.schedule !== 'string') errs.push(invalid('spec.schedule', spec.schedule, 'must be a string'));
  else {
    if (spec.schedule.includes('TZ')) errs.push(invalid('spec.schedule', spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    else {
      const e = cronError(spec.schedule);
      if (e) errs.push(invalid('spec.schedule', spec.schedule, e));
    }
  }
  if (spec.timeZone != null) {
    const tz = spec.timeZone;
    if (typeof tz !== 'string' || tz.toLowerCase() === 'local') {
      errs.push(invalid('spec.timeZone', tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    } else if (!isValidTimeZone(tz)) errs.push(invalid('spec.timeZone', tz, `unknown time zone ${tz}`));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!spec.concurrencyPolicy) errs.push(required('spec.concurrencyPolicy', ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy)) {
    errs.push(notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  }
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  const jt = spec.jobTemplate;
  if (!jt || !jt.spec) errs.push(required('spec.jobTemplate', ''));
  else {
    errs.push(...validateJobSpec(jt.spec, 'spec.jobTemplate.spec'));
    // The controller generates each Job's selector.
    if (jt.spec.selector != null) errs.push(invalid('spec.jobTemplate.spec.selector', jt.spec.selector, '`selector` will be auto-generated'));
    if (jt.spec.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  }
  return errs;
}

export const cronjobs: ResourceDecl = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      col('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.', 'boolean'),
      col('Active', 'A list of pointers to currently running jobs.', 'integer'),
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      CONTAINERS,
      IMAGES,
      col('Selector', 'A label query over pods that should match the pod count.', 'string', 1),
    ],
    cells(obj, now) {
      const spec = obj.spec ?? {};
      const [names, images] = layoutContainerCells(spec.jobTemplate?.spec?.template);
      const last = obj.status?.lastScheduleTime;
      return [
        obj.metadata.name,
        spec.schedule ?? '',
        spec.timeZone ?? '<none>',
        spec.suspend == null ? '<unset>' : spec.suspend ? 'True' : 'False',
        (obj.status?.active ?? []).length,
        last ? age(last, now) : '<none>',
        age(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.jobTemplate?.spec?.selector),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', 3);
      setDefault(spec, 'failedJobsHistoryLimit', 1);
      // The job template's pod template gets pod defaults; the Job-level defaults apply when a Job is made from it.
      defaultTemplate(spec.jobTemplate?.spec?.template);
    },
    validate: validateCronJob,
  },
};

export const batchResources: ResourceDecl[] = [jobs, cronjobs];
