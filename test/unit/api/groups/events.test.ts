import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../../src/api/types.js';
import { coreEventToEventsV1, events, eventsV1ToCoreEvent } from '../../../../src/api/groups/events.js';

const core: KObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.17c', namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u', apiVersion: 'v1', fieldPath: 'spec.containers{nginx}' },
  reason: 'Pulled',
  message: 'Successfully pulled image "nginx"',
  source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2024-05-01T11:58:00Z',
  lastTimestamp: '2024-05-01T11:59:00Z',
  count: 2,
  type: 'Normal',
  eventTime: null,
  reportingComponent: 'kubelet',
  reportingInstance: 'node-1',
};

test('core/v1 and events.k8s.io/v1 events map onto each other field by field', () => {
  const ev = coreEventToEventsV1(core);
  assert.equal(ev.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual(ev.regarding, core.involvedObject);
  assert.equal(ev.note, core.message);
  assert.equal(ev.reportingController, 'kubelet');
  assert.deepEqual(ev.deprecatedSource, core.source);
  assert.equal(ev.deprecatedFirstTimestamp, core.firstTimestamp);
  assert.equal(ev.deprecatedLastTimestamp, core.lastTimestamp);
  assert.equal(ev.deprecatedCount, 2);
  assert.equal(ev.involvedObject, undefined);
  assert.deepEqual(eventsV1ToCoreEvent(ev), core);
});

test('events.k8s.io field selectors use that group\'s names', () => {
  const ev = coreEventToEventsV1(core);
  assert.equal(events.fieldSelectors!['regarding.name']!(ev), 'web-1');
  assert.equal(events.fieldSelectors!['regarding.kind']!(ev), 'Pod');
  assert.equal(events.fieldSelectors!['reportingController']!(ev), 'kubelet');
  assert.equal(events.fieldSelectors!['type']!(ev), 'Normal');
});

test('events print like kubectl get events: LAST SEEN TYPE REASON OBJECT MESSAGE', () => {
  const cells = events.printer!.cells(coreEventToEventsV1(core), new Date('2024-05-01T12:00:00Z'));
  const byName = Object.fromEntries(events.printer!.columns.map((c, i) => [c.name.toUpperCase(), cells[i]]));
  assert.deepEqual(byName, {
    'LAST SEEN': '60s',
    TYPE: 'Normal',
    REASON: 'Pulled',
    OBJECT: 'pod/web-1',
    SUBOBJECT: 'spec.containers{nginx}',
    SOURCE: 'kubelet, node-1',
    MESSAGE: 'Successfully pulled image "nginx"',
    'FIRST SEEN': '2m',
    COUNT: 2,
    NAME: 'web.17c',
  });
});

test('a new-style event needs eventTime, reportingController, reportingInstance, action and reason', () => {
  const errs = events.strategy!.validate!({ metadata: { name: 'e' }, type: 'Normal' }).map((e) => e.field);
  assert.deepEqual(errs, ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']);
  const ok: KObject = {
    metadata: { name: 'e' },
    eventTime: '2024-05-01T12:00:00.000000Z',
    type: 'Warning',
    reportingController: 'example.com/controller',
    reportingInstance: 'pod-1',
    action: 'Scale',
    reason: 'TooBig',
    regarding: { kind: 'Deployment', name: 'web' },
  };
  assert.deepEqual(events.strategy!.validate!(ok), []);
});
