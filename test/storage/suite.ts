// The storage contract, as tests: every backend runs this same suite.
// factory() must return a fresh, empty store (a new file, or a new etcd key prefix); the
// suite closes it. Revisions are compared relative to what the store reports, since an
// etcd shared by several stores has one global revision counter.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  NotFoundError,
  type Store,
  type WatchEvent,
} from '../../src/storage/store.js';

export type StoreFactory = () => Promise<Store>;

/** Collects watch events until one at or beyond untilRev arrives. */
export function collectUntil(
  store: Store,
  prefix: string,
  from: number,
  untilRev: number,
  timeoutMs = 10_000,
): Promise<WatchEvent[]> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const timer = setTimeout(() => {
      w.cancel();
      reject(new Error(`timed out waiting for revision ${untilRev}; got ${events.map((e) => e.kv.modRevision).join(',')}`));
    }, timeoutMs);
    const w = store.watch(prefix, from, {
      onEvents(evs) {
        events.push(...evs);
        if (events.length > 0 && events[events.length - 1].kv.modRevision >= untilRev) {
          clearTimeout(timer);
          w.cancel();
          resolve(events);
        }
      },
      onError(err) {
        clearTimeout(timer);
        reject(err);
      },
    });
  });
}

/** Resolves with the error a watch reports (or rejects if events arrive instead). */
function watchError(store: Store, prefix: string, from: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no watch error reported')), 10_000);
    const w = store.watch(prefix, from, {
      onEvents(evs) {
        clearTimeout(timer);
        w.cancel();
        reject(new Error(`expected an error, got events at ${evs.map((e) => e.kv.modRevision)}`));
      },
      onError(err) {
        clearTimeout(timer);
        resolve(err);
      },
    });
  });
}

function revisions(events: WatchEvent[]): number[] {
  return events.map((e) => e.kv.modRevision);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

export function storeSuite(name: string, factory: StoreFactory, opts: { skip?: string } = {}): void {
  // Each test gets its own store and closes it, even when it fails.
  const withStore = (fn: (s: Store) => Promise<void>) => async () => {
    const s = await factory();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`storage backend: ${name}`, { skip: opts.skip }, () => {
    test('create only when absent', withStore(async (s) => {
      const kv = await s.create('/registry/pods/default/a', '{"v":1}');
      assert.equal(kv.key, '/registry/pods/default/a');
      assert.equal(kv.value, '{"v":1}');
      assert.ok(kv.modRevision > 0);
      assert.equal(kv.createRevision, kv.modRevision);
      assert.equal(await s.currentRevision(), kv.modRevision);
      await assert.rejects(s.create('/registry/pods/default/a', '{"v":2}'), KeyExistsError);
      assert.deepEqual(await s.get('/registry/pods/default/a'), kv);
      assert.equal(await s.get('/registry/pods/default/missing'), undefined);
    }));

    test('every write takes the next revision', withStore(async (s) => {
      const a = await s.create('/r/a', '1');
      const b = await s.create('/r/b', '1');
      const a2 = await s.update('/r/a', '2', a.modRevision);
      const d = await s.delete('/r/b');
      assert.deepEqual(
        [b.modRevision, a2.modRevision, d.modRevision],
        [a.modRevision + 1, a.modRevision + 2, a.modRevision + 3],
      );
      // Failed writes consume no revision.
      await assert.rejects(s.create('/r/a', 'x'), KeyExistsError);
      await assert.rejects(s.update('/r/a', 'x', a.modRevision), ConflictError);
      assert.equal(await s.currentRevision(), d.modRevision);
    }));

    test('update only when the revision matches', withStore(async (s) => {
      const v1 = await s.create('/r/k', 'one');
      const v2 = await s.update('/r/k', 'two', v1.modRevision);
      assert.equal(v2.value, 'two');
      assert.equal(v2.createRevision, v1.createRevision);
      assert.ok(v2.modRevision > v1.modRevision);
      await assert.rejects(s.update('/r/k', 'three', v1.modRevision), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.current?.modRevision, v2.modRevision);
        assert.equal(err.current?.value, 'two');
        return true;
      });
      assert.equal((await s.get('/r/k'))?.value, 'two');
      await assert.rejects(s.update('/r/absent', 'x', v1.modRevision), NotFoundError);
      await assert.rejects(s.update('/r/absent', 'x', 0), NotFoundError);
    }));

    test('delete, with and without an expected revision', withStore(async (s) => {
      await assert.rejects(s.delete('/r/absent'), NotFoundError);
      const v1 = await s.create('/r/k', 'one');
      const v2 = await s.update('/r/k', 'two', v1.modRevision);
      await assert.rejects(s.delete('/r/k', v1.modRevision), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.current?.modRevision, v2.modRevision);
        return true;
      });
      const d = await s.delete('/r/k', v2.modRevision);
      assert.equal(d.value, 'two');
      assert.equal(d.createRevision, v1.createRevision);
      assert.equal(d.modRevision, await s.currentRevision());
      assert.equal(await s.get('/r/k'), undefined);
      await assert.rejects(s.delete('/r/k'), NotFoundError);
      await assert.rejects(s.delete('/r/k', d.modRevision), NotFoundError);
      // Re-creating a deleted key starts a new life: a new createRevision.
      const again = await s.create('/r/k', 'three');
      assert.ok(again.createRevision > d.modRevision);
      assert.equal(again.createRevision, again.modRevision);
    }));

    test('list in key order under a prefix, and count', withStore(async (s) => {
      for (const k of ['/r/b/2', '/r/a/1', '/r/b/1', '/r/c', '/r/b/10', '/rx/b/1']) await s.create(k, k);
      const l = await s.list('/r/b/');
      assert.deepEqual(l.items.map((i) => i.key), ['/r/b/1', '/r/b/10', '/r/b/2']);
      assert.equal(l.more, false);
      assert.equal(l.revision, await s.currentRevision());
      assert.equal(await s.count('/r/b/'), 3);
      assert.equal(await s.count('/r/'), 5);
      assert.equal(await s.count('/nothing/'), 0);
      assert.deepEqual((await s.list('/nothing/')).items, []);
    }));

    test('get and list as of an older revision', withStore(async (s) => {
      const a1 = await s.create('/r/a', 'a1');
      await s.create('/r/b', 'b1');
      const rev = await s.currentRevision();
      await s.update('/r/a', 'a2', a1.modRevision);
      await s.delete('/r/b');
      await s.create('/r/c', 'c1');
      assert.equal((await s.get('/r/a', rev))?.value, 'a1');
      assert.equal((await s.get('/r/b', rev))?.value, 'b1');
      assert.equal(await s.get('/r/c', rev), undefined);
      const old = await s.list('/r/', { revision: rev });
      assert.equal(old.revision, rev);
      assert.deepEqual(old.items.map((i) => [i.key, i.value, i.modRevision]), [
        ['/r/a', 'a1', a1.modRevision],
        ['/r/b', 'b1', rev],
      ]);
      const now = await s.list('/r/');
      assert.deepEqual(now.items.map((i) => [i.key, i.value]), [['/r/a', 'a2'], ['/r/c', 'c1']]);
    }));

    test('pagination at one revision while the data changes', withStore(async (s) => {
      const keys = range(0, 24).map((i) => `/r/pods/p${String(i).padStart(3, '0')}`);
      for (const k of keys) await s.create(k, k);
      const first = await s.list('/r/pods/', { limit: 10 });
      assert.equal(first.items.length, 10);
      assert.equal(first.more, true);
      assert.equal(first.remaining, 15);
      const rev = first.revision;
      // Changes after the first page must not show in later pages.
      await s.delete(keys[15]);
      await s.create('/r/pods/p0105', 'new');
      await s.update(keys[20], 'changed', (await s.get(keys[20]))!.modRevision);
      const seen = first.items.map((i) => i.key);
      let page = first;
      let pages = 1;
      while (page.more) {
        const startKey = page.items[page.items.length - 1].key + '\0';
        page = await s.list('/r/pods/', { limit: 10, revision: rev, startKey });
        assert.equal(page.revision, rev);
        pages++;
        if (pages === 2) {
          assert.equal(page.more, true);
          assert.equal(page.remaining, 5);
        }
        seen.push(...page.items.map((i) => i.key));
        for (const i of page.items) assert.equal(i.value, i.key);
      }
      assert.equal(pages, 3);
      assert.equal(page.more, false);
      assert.deepEqual(seen, keys);
      // A limit that is exactly the size is not "more".
      const exact = await s.list('/r/pods/', { limit: 25, revision: rev });
      assert.equal(exact.items.length, 25);
      assert.equal(exact.more, false);
    }));

    test('watch replays history from a revision, then continues live', withStore(async (s) => {
      const a = await s.create('/w/a', 'a1');
      const from = a.modRevision;
      const a2 = await s.update('/w/a', 'a2', a.modRevision);
      await s.create('/other/x', 'x'); // outside the watched prefix
      const b = await s.create('/w/b', 'b1');
      const del = await s.delete('/w/a');
      const done = collectUntil(s, '/w/', from, del.modRevision + 2);
      // Live writes after the watch started.
      const c = await s.create('/w/c', 'c1');
      const b2 = await s.update('/w/b', 'b2', b.modRevision);
      const events = await done;
      assert.deepEqual(revisions(events), [a2.modRevision, b.modRevision, del.modRevision, c.modRevision, b2.modRevision]);
      const [e1, e2, e3, e4, e5] = events;
      assert.equal(e1.type, 'PUT');
      assert.equal(e1.kv.value, 'a2');
      assert.equal(e1.prevKv?.value, 'a1');
      assert.ok(!e1.created);
      assert.equal(e2.created, true);
      assert.equal(e2.prevKv, undefined);
      assert.equal(e3.type, 'DELETE');
      assert.equal(e3.kv.key, '/w/a');
      assert.equal(e3.kv.value, 'a2', 'a DELETE carries the last value');
      assert.equal(e3.prevKv?.modRevision, a2.modRevision);
      assert.equal(e4.created, true);
      assert.equal(e5.prevKv?.value, 'b1');
    }));

    test('watch from now sees only later writes', withStore(async (s) => {
      await s.create('/w/old', 'x');
      const events: WatchEvent[] = [];
      const w = s.watch('/w/', 0, { onEvents: (e) => events.push(...e), onError: (e) => assert.fail(e) });
      // etcd registers the watch asynchronously; the contract is "after the call".
      await new Promise((r) => setTimeout(r, 300));
      const n = await s.create('/w/new', 'y');
      const deadline = Date.now() + 5000;
      while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      w.cancel();
      assert.deepEqual(revisions(events), [n.modRevision]);
    }));

    test('watch started while writes race loses and repeats nothing', withStore(async (s) => {
      const keys = range(0, 9).map((i) => `/race/k${i}`);
      const kvs = await Promise.all(keys.map((k) => s.create(k, '0')));
      const revs = new Map(kvs.map((kv) => [kv.key, kv.modRevision]));
      let stop = false;
      let last = 0;
      const writers = keys.map(async (k) => {
        let n = 0;
        while (!stop) {
          const kv = await s.update(k, String(++n), revs.get(k)!);
          revs.set(k, kv.modRevision);
          last = Math.max(last, kv.modRevision);
        }
      });
      await new Promise((r) => setTimeout(r, 50));
      const from = await s.currentRevision();
      // Keep writing after the watch starts, then stop and wait for the tail.
      const events: WatchEvent[] = [];
      const w = s.watch('/race/', from, { onEvents: (e) => events.push(...e), onError: (e) => assert.fail(e) });
      await new Promise((r) => setTimeout(r, 200));
      stop = true;
      await Promise.all(writers);
      const end = await s.currentRevision();
      const deadline = Date.now() + 10_000;
      while ((events.at(-1)?.kv.modRevision ?? 0) < end && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      w.cancel();
      assert.ok(end > from + 10, 'writes happened after the watch started');
      assert.equal(last, end);
      // Nothing else writes to this store, so the watch must see every revision once, in order.
      assert.deepEqual(revisions(events), range(from + 1, end));
      for (const e of events) assert.equal(Number(e.kv.value), Number(e.prevKv!.value) + 1);
    }));

    test('concurrent incrementers with retry on conflict reach the exact count', withStore(async (s) => {
      await s.create('/r/counter', '0');
      const workers = 32;
      const perWorker = 10;
      let conflicts = 0;
      await Promise.all(
        range(1, workers).map(async () => {
          for (let i = 0; i < perWorker; i++) {
            for (;;) {
              const cur = (await s.get('/r/counter'))!;
              try {
                await s.update('/r/counter', String(Number(cur.value) + 1), cur.modRevision);
                break;
              } catch (err) {
                if (!(err instanceof ConflictError)) throw err;
                conflicts++;
              }
            }
          }
        }),
      );
      assert.equal((await s.get('/r/counter'))?.value, String(workers * perWorker));
      assert.ok(conflicts > 0, 'the writers really raced');
    }));

    test('500 concurrent creates all land with distinct revisions', withStore(async (s) => {
      const kvs = await Promise.all(range(0, 499).map((i) => s.create(`/r/many/${i}`, String(i))));
      const revs = new Set(kvs.map((kv) => kv.modRevision));
      assert.equal(revs.size, 500);
      assert.equal(await s.count('/r/many/'), 500);
      const max = Math.max(...revs);
      assert.equal(max - Math.min(...revs), 499);
      // A conflict for one write in a batch fails only that write.
      const mixed = await Promise.allSettled([s.create('/r/many/1', 'dup'), s.create('/r/many/new', 'x'), s.create('/r/many/2', 'dup')]);
      assert.deepEqual(mixed.map((r) => r.status), ['rejected', 'fulfilled', 'rejected']);
      assert.equal((await s.get('/r/many/new'))?.value, 'x');
    }));

    test('compaction keeps the latest values and forgets older revisions', withStore(async (s) => {
      let a = await s.create('/c/a', '0');
      const old = a.modRevision;
      for (let i = 1; i <= 20; i++) a = await s.update('/c/a', String(i), a.modRevision);
      const b = await s.create('/c/b', 'b');
      const gone = await s.create('/c/gone', 'x');
      await s.delete('/c/gone', gone.modRevision);
      const before = await s.list('/c/');
      const rev = await s.currentRevision();
      await s.compact(rev);
      assert.equal(await s.compactRevision(), rev);
      // Every live key keeps its value and revisions.
      assert.deepEqual((await s.list('/c/')).items, before.items);
      assert.deepEqual(await s.get('/c/a'), a);
      assert.deepEqual(await s.get('/c/b'), b);
      assert.equal(await s.get('/c/gone'), undefined);
      // The compact revision itself is still readable.
      assert.deepEqual((await s.list('/c/', { revision: rev })).items, before.items);
      // Older revisions are gone.
      await assert.rejects(s.get('/c/a', old), CompactedError);
      await assert.rejects(s.list('/c/', { revision: old }), CompactedError);
      // Writing on continues normally; updates of compacted keys keep their createRevision.
      const a2 = await s.update('/c/a', 'after', a.modRevision);
      assert.equal(a2.createRevision, old);
      // A watch from the compact revision still works and sees the previous value.
      const events = await collectUntil(s, '/c/', rev, a2.modRevision);
      assert.deepEqual(revisions(events), [a2.modRevision]);
      assert.equal(events[0].prevKv?.value, '20');
    }));

    test('watch from a compacted revision reports CompactedError', withStore(async (s) => {
      let kv = await s.create('/c/k', '0');
      const old = kv.modRevision;
      for (let i = 1; i <= 5; i++) kv = await s.update('/c/k', String(i), kv.modRevision);
      await s.compact(kv.modRevision);
      const err = await watchError(s, '/c/', old);
      assert.ok(err instanceof CompactedError, `got ${err}`);
      assert.ok(err.compacted >= kv.modRevision);
    }));

    test('health and size', withStore(async (s) => {
      await s.create('/r/x', 'y');
      assert.deepEqual(await s.health(), { ok: true });
      assert.ok((await s.dbSize()) > 0);
      assert.ok(['sqlite', 'etcd'].includes(s.name));
    }));
  });
}
