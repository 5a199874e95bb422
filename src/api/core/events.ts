// core/v1 Events, as `kubectl get events` shows them.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, required } from '../validation/field.js';
import { age, nameColumn } from '../printers/util.js';
import { col, isObj, str } from './helpers.js';

function eventSource(o: KObject): string {
  const component = str(o.source?.component) || str(o.reportingComponent);
  const host = str(o.source?.host) || str(o.reportingInstance);
  return host ? `${component}, ${host}` : component;
}

/** LAST SEEN, FIRST SEEN and COUNT as printEvent computes them. */
export function eventTimes(o: KObject, now: Date): { first: string; last: string; count: number } {
  const first = o.firstTimestamp ? age(o.firstTimestamp, now) : age(o.eventTime ?? undefined, now);
  let last = o.lastTimestamp ? age(o.lastTimestamp, now) : first;
  let count = typeof o.count === 'number' ? o.count : 0;
  if (isObj(o.series)) {
    last = age(o.series.lastObservedTime ?? undefined, now);
    count = Number(o.series.count ?? 0);
  } else if (count === 0) count = 1;
  return { first, last, count };
}

function validateEvent(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const io = isObj(o.involvedObject) ? o.involvedObject : {};
  const ns = o.metadata.namespace ?? '';
  const mismatch = () => errs.push(invalid('involvedObject.namespace', str(io.namespace), 'does not match event.namespace'));
  if (!o.eventTime) {
    // Events about cluster-scoped objects (nodes) live in "default".
    if (!io.namespace) {
      if (ns !== '' && ns !== 'default') mismatch();
    } else if (io.namespace !== ns) mismatch();
  } else {
    if (!io.namespace && ns !== 'default' && ns !== 'kube-system') mismatch();
    if (!o.reportingComponent) errs.push(required('reportingComponent'));
    if (!o.reportingInstance) errs.push(required('reportingInstance'));
    if (!o.action) errs.push(required('action'));
    if (!o.reason) errs.push(required('reason'));
  }
  return errs;
}

export const events: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  allowCreateOnUpdate: true,
  nameValidation: 'dns1123Subdomain',
  fieldSelectors: {
    'involvedObject.kind': (o) => str(o.involvedObject?.kind),
    'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
    'involvedObject.name': (o) => str(o.involvedObject?.name),
    'involvedObject.uid': (o) => str(o.involvedObject?.uid),
    'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component) || str(o.reportingComponent),
    type: (o) => str(o.type),
  },
  printer: {
    columns: [
      col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
      col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      col('Object', 'string', 'The object that this event is about.'),
      col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 1),
      col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      { ...nameColumn, priority: 1 },
    ],
    cells(o, now) {
      const io = isObj(o.involvedObject) ? o.involvedObject : {};
      const kind = str(io.kind).toLowerCase();
      const target = io.name ? `${kind}/${io.name}` : kind;
      const { first, last, count } = eventTimes(o, now);
      return [last, str(o.type), str(o.reason), target, str(io.fieldPath), eventSource(o), str(o.message).trim(), first, count, o.metadata.name];
    },
  },
  strategy: {
    validate: validateEvent,
  },
};
