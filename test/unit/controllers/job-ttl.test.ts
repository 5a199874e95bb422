// TTL-after-finished: when a finished Job expires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../../src/api/types.js';
import { finishTime, needsCleanup, timeLeftMs } from '../../../src/controllers/ttlafterfinished.js';

const job = (ttl: number | undefined, conditions: object[], deleting = false): KObject =>
  ({
    metadata: { name: 'j', namespace: 'ns', ...(deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
    status: { conditions },
  }) as KObject;

const complete = { type: 'Complete', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' };
const failed = { type: 'Failed', status: 'True', lastTransitionTime: '2025-01-01T00:01:00Z' };

test('only finished Jobs with a TTL that are not being deleted need cleanup', () => {
  assert.equal(needsCleanup(job(100, [complete])), true);
  assert.equal(needsCleanup(job(100, [failed])), true);
  assert.equal(needsCleanup(job(undefined, [complete])), false);
  assert.equal(needsCleanup(job(100, [{ type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }])), false);
  assert.equal(needsCleanup(job(100, [{ ...complete, status: 'False' }])), false);
  assert.equal(needsCleanup(job(100, [complete], true)), false);
});

test('expiry counts from the terminal condition\'s transition time', () => {
  assert.equal(finishTime(job(1, [failed])), Date.parse('2025-01-01T00:01:00Z'));
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(timeLeftMs(job(100, [complete]), t0 + 40_000), 60_000);
  assert.equal(timeLeftMs(job(0, [complete]), t0), 0);
  assert.ok(timeLeftMs(job(10, [complete]), t0 + 11_000)! < 0);
  assert.equal(timeLeftMs(job(10, []), t0), undefined);
});
