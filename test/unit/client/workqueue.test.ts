import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/client/workqueue.js';

/** A clock whose timers fire only when the test advances it. */
function fakeClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => new Date(now),
    setTimeout(fn: () => void, ms: number) {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
        t.cancelled = true;
        t.fn();
      }
    },
  };
}

test('addAfter runs on the given clock and keeps the earliest due time per key', () => {
  const clock = fakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('a', 10_000);
  q.addAfter('a', 2_000); // earlier: replaces the 10 s one
  q.addAfter('a', 5_000); // later: ignored
  clock.advance(1_999);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
  clock.advance(20_000);
  assert.equal(q.len(), 1, 'the replaced and ignored timers never fire');
});

test('shutDown cancels delayed keys', () => {
  const clock = fakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('a', 1_000);
  q.shutDown();
  clock.advance(5_000);
  assert.equal(q.len(), 0);
});
