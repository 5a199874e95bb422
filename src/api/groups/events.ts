// events.k8s.io/v1: events.
//
// Upstream stores events.k8s.io/v1 Events and core/v1 Events as ONE object at one key
// (/registry/events/<ns>/<name>): both are views of the same internal Event. The core
// declaration owns that storage; this declaration describes the events.k8s.io/v1 schema,
// and the API server maps between the two with coreEventToEventsV1 / eventsV1ToCoreEvent
// (pkg/apis/events/v1/conversion.go): involvedObject <-> regarding, message <-> note,
// reportingComponent <-> reportingController, source/firstTimestamp/lastTimestamp/count
// <-> deprecatedSource/deprecatedFirstTimestamp/deprecatedLastTimestamp/deprecatedCount.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, required } from '../validation/field.js';
import { isQualifiedName } from '../validation/names.js';
import { age } from '../printers/util.js';
import { NAME, col } from './common.js';

type J = Record<string, any>;

function moveField(from: J, to: J, a: string, b: string): void {
  if (from[a] !== undefined) to[b] = from[a];
}

/** core/v1 Event -> events.k8s.io/v1 Event. */
export function coreEventToEventsV1(obj: KObject): KObject {
  const out: KObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { ...obj.metadata } };
  for (const k of ['eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type']) moveField(obj, out, k, k);
  moveField(obj, out, 'involvedObject', 'regarding');
  moveField(obj, out, 'message', 'note');
  moveField(obj, out, 'reportingComponent', 'reportingController');
  moveField(obj, out, 'source', 'deprecatedSource');
  moveField(obj, out, 'firstTimestamp', 'deprecatedFirstTimestamp');
  moveField(obj, out, 'lastTimestamp', 'deprecatedLastTimestamp');
  moveField(obj, out, 'count', 'deprecatedCount');
  return out;
}

/** events.k8s.io/v1 Event -> core/v1 Event. */
export function eventsV1ToCoreEvent(obj: KObject): KObject {
  const out: KObject = { apiVersion: 'v1', kind: 'Event', metadata: { ...obj.metadata } };
  for (const k of ['eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type']) moveField(obj, out, k, k);
  moveField(obj, out, 'regarding', 'involvedObject');
  moveField(obj, out, 'note', 'message');
  moveField(obj, out, 'reportingController', 'reportingComponent');
  moveField(obj, out, 'deprecatedSource', 'source');
  moveField(obj, out, 'deprecatedFirstTimestamp', 'firstTimestamp');
  moveField(obj, out, 'deprecatedLastTimestamp', 'lastTimestamp');
  moveField(obj, out, 'deprecatedCount', 'count');
  return out;
}

/** Field selectors of events.k8s.io/v1, named as that group names them (AddFieldLabelConversionsForEvent). */
const fieldSelectors: Record<string, (o: KObject) => string | undefined> = {
  reason: (o) => o.reason ?? '',
  type: (o) => o.type ?? '',
  reportingController: (o) => o.reportingController ?? '',
};
for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
  fieldSelectors[`regarding.${k}`] = (o) => o.regarding?.[k] ?? '';
}

/** The core event printer (upstream serves both groups through it). */
function eventCells(obj: KObject, now: Date): unknown[] {
  const e = obj.apiVersion === 'v1' ? obj : eventsV1ToCoreEvent(obj);
  const first = e.firstTimestamp ? age(e.firstTimestamp, now) : age(e.eventTime, now);
  let last = e.lastTimestamp ? age(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = age(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (!count) count = 1; // singleton events of the new API carry no count
  const io = e.involvedObject ?? {};
  const target = io.name ? `${String(io.kind ?? '').toLowerCase()}/${io.name}` : String(io.kind ?? '').toLowerCase();
  const component = e.source?.component || e.reportingComponent || '';
  const host = e.source?.host || e.reportingInstance || '';
  const source = host ? `${component}, ${host}` : component;
  return [last, e.type ?? '', e.reason ?? '', target, io.fieldPath ?? '', source, String(e.message ?? '').trim(), first, count, obj.metadata.name];
}

function validateEventsV1(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!obj.eventTime) errs.push(required('eventTime', ''));
  if (obj.type !== 'Normal' && obj.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${obj.type ?? ''}`));
  if (obj.deprecatedFirstTimestamp) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedLastTimestamp) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedCount) errs.push(invalid('count', '', 'needs to be unset'));
  if (obj.deprecatedSource?.component || obj.deprecatedSource?.host) errs.push(invalid('source', '', 'needs to be unset'));
  if (!obj.reportingController) errs.push(required('reportingController', ''));
  else for (const m of isQualifiedName(obj.reportingController)) errs.push(invalid('reportingController', obj.reportingController, m));
  if (!obj.reportingInstance) errs.push(required('reportingInstance', ''));
  else if (obj.reportingInstance.length > 128) errs.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
  if (!obj.action) errs.push(required('action', ''));
  else if (obj.action.length > 128) errs.push(invalid('action', '', 'can have at most 128 characters'));
  if (!obj.reason) errs.push(required('reason', ''));
  else if (obj.reason.length > 128) errs.push(invalid('reason', '', 'can have at most 128 characters'));
  if (obj.note && obj.note.length > 1024) errs.push(invalid('note', '', 'can have at most 1024 characters'));
  if (obj.series) {
    if (!(obj.series.count >= 2)) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (!obj.series.lastObservedTime) errs.push(required('series.lastObservedTime', ''));
  }
  return errs;
}

export const events: ResourceDecl = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  generation: false,
  fieldSelectors,
  printer: {
    columns: [
      col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      col('Object', 'The object that this event is about.'),
      col('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 'string', 1),
      col('Source', 'The component reporting this event. Should be a short machine understandable string.', 'string', 1),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 'string', 1),
      col('Count', 'The number of times this event has occurred.', 'string', 1),
      { ...NAME, priority: 1 },
    ],
    cells: eventCells,
  },
  strategy: { validate: validateEventsV1 },
  // One object at one key with core/v1 events; writes go through the core strategy.
  storedAs: { group: '', version: 'v1', plural: 'events', toStored: eventsV1ToCoreEvent, fromStored: coreEventToEventsV1 },
};

export const eventsResources: ResourceDecl[] = [events];
