// Under churn (the same keys rewritten over and over, as node heartbeats and leases do),
// compaction keeps the SQLite file bounded instead of growing with every write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { KeyValue } from '../../src/storage/store.js';

test('sqlite file stays bounded under churn when compacted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-churn-'));
  const store = new SqliteStore({ path: join(dir, 'state.db'), synchronous: 'NORMAL' });
  try {
    const keys = 200;
    const value = 'x'.repeat(2048);
    const kvs: KeyValue[] = await Promise.all(
      Array.from({ length: keys }, (_, i) => store.create(`/registry/leases/kube-node-lease/node-${i}`, value)),
    );
    const round = async () => {
      for (let r = 0; r < 10; r++) {
        const next = await Promise.all(kvs.map((kv) => store.update(kv.key, value + r, kv.modRevision)));
        kvs.splice(0, kvs.length, ...next);
      }
      await store.compact(await store.currentRevision());
      return store.dbSize();
    };
    const sizes: number[] = [];
    for (let i = 0; i < 6; i++) sizes.push(await round());
    // Each round writes ~4 MB of history (2,000 updates of 2 KiB); uncompacted, the file
    // would pass 24 MB. Compacted, it stays near the live data (~0.5 MB) and stops growing.
    const written = 6 * 10 * keys * value.length;
    assert.ok(sizes[5] < written / 8, `file ${sizes[5]} bytes after writing ${written} bytes`);
    assert.ok(sizes[5] <= sizes[1] * 1.5, `file keeps growing: ${sizes.join(', ')}`);
    // And the data is intact.
    assert.equal(await store.count('/registry/leases/'), keys);
    assert.equal((await store.get(kvs[7].key))?.value, value + 9);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
