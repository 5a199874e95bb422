import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compactor } from '../../src/storage/compactor.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { CompactedError } from '../../src/storage/store.js';

test('compactor keeps one window of history and compacts what is older', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-compactor-'));
  const store = new SqliteStore({ path: join(dir, 'state.db') });
  let now = 0;
  const c = new Compactor(store, { intervalMs: 60_000, windowMs: 60_000, now: () => now });
  try {
    let kv = await store.create('/k', '0');
    const first = kv.modRevision;
    assert.equal(await c.tick(), undefined, 'nothing is a window old yet');
    kv = await store.update('/k', '1', kv.modRevision);
    const second = kv.modRevision;
    now = 30_000;
    assert.equal(await c.tick(), undefined, 'half a window is not enough');
    kv = await store.update('/k', '2', kv.modRevision);
    now = 60_000;
    // The revision seen at t=0 is now a window old: compact to it, keep what came after.
    assert.equal(await c.tick(), first);
    assert.equal(await store.compactRevision(), first);
    assert.equal((await store.get('/k', second))?.value, '1');
    now = 120_000;
    // The newest mark at least a window old (t=60s, after the third write) wins.
    assert.equal(await c.tick(), kv.modRevision);
    await assert.rejects(store.get('/k', second), CompactedError);
    assert.equal((await store.get('/k'))?.value, '2');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
