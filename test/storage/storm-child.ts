// Child process for restart.test.ts: a write storm that prints every acknowledged write,
// one line each ("<key> <value>"), until it is killed. Does nothing unless
// KTS_STORM_CHILD=1, because the test runner may load every file under test/.

import { openStore } from '../../src/storage/index.js';
import { ConflictError } from '../../src/storage/store.js';

async function main(): Promise<void> {
  const store = await openStore({
    dataDir: process.env.KTS_STORM_DATA_DIR ?? '',
    endpoints: process.env.KTS_STORM_ETCD ? [process.env.KTS_STORM_ETCD] : undefined,
    etcdPrefix: process.env.KTS_STORM_PREFIX,
    compactIntervalMs: 0,
  });
  const workers = 32;
  process.stdout.write('ready\n');
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const counter = `/storm/counter/${w}`;
      let cur = await store.create(counter, '0');
      for (let n = 1; ; n++) {
        const key = `/storm/keys/${w}-${n}`;
        await store.create(key, String(n));
        // Pipes are written synchronously on Linux: a printed line has left this process.
        process.stdout.write(`${key} ${n}\n`);
        try {
          cur = await store.update(counter, String(n), cur.modRevision);
          process.stdout.write(`${counter} ${n}\n`);
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    }),
  );
}

if (process.env.KTS_STORM_CHILD === '1') {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
