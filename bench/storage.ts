// Raw Store throughput, side by side: SQLite (synchronous=FULL, the default, and NORMAL)
// and etcd (a throwaway local member, when /usr/bin/etcd exists). Prints one table.
// Run: node dist/bench/storage.js  (or through bench/run).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteStore } from '../src/storage/sqlite.js';
import { EtcdStore } from '../src/storage/etcd.js';
import type { Store } from '../src/storage/store.js';
import { etcdUnavailable, startEtcd } from '../test/storage/etcd-harness.js';

interface Row {
  seqCreates: number;
  concCreates: number;
  gets: number;
  list1000Ms: number;
  watchP50Ms: number;
  watchP99Ms: number;
}

const VALUE = JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x' }, data: { k: 'v'.repeat(900) } });

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Runs fn repeatedly for about ms milliseconds (at least once); returns ops/s. */
async function rate(ms: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < ms) await fn(i++);
  return (i * 1000) / (performance.now() - start);
}

async function measure(store: Store, budgetMs: number): Promise<Row> {
  const seqCreates = await rate(budgetMs, (i) => store.create(`/bench/seq/${i}`, VALUE));

  // 32 writers in flight at all times.
  let n = 0;
  const concStart = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() - concStart < budgetMs) await store.create(`/bench/conc/${n++}`, VALUE);
    }),
  );
  const concCreates = (n * 1000) / (performance.now() - concStart);

  const gets = await rate(budgetMs, (i) => store.get(`/bench/seq/${i % 500}`));

  await Promise.all(Array.from({ length: 1000 }, (_, i) => store.create(`/bench/list/${String(i).padStart(4, '0')}`, VALUE)));
  const listTimes: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    const l = await store.list('/bench/list/');
    listTimes.push(performance.now() - t);
    if (l.items.length !== 1000) throw new Error(`listed ${l.items.length} keys`);
  }
  listTimes.sort((a, b) => a - b);

  // put -> watch: one write at a time, time until its event arrives (which may be
  // before the write's own promise resolves).
  const latencies: number[] = [];
  let kv = await store.create('/bench/watch/k', '0');
  const arrivals = new Map<number, number>();
  let wanted: { rev: number; done: () => void } | undefined;
  const w = store.watch('/bench/watch/', kv.modRevision, {
    onEvents(events) {
      const now = performance.now();
      for (const e of events) {
        arrivals.set(e.kv.modRevision, now);
        if (wanted?.rev === e.kv.modRevision) wanted.done();
      }
    },
    onError(err) {
      throw err;
    },
  });
  await new Promise((r) => setTimeout(r, 200)); // etcd attaches watches asynchronously
  const watchStart = performance.now();
  for (let i = 1; performance.now() - watchStart < budgetMs || i < 50; i++) {
    const t = performance.now();
    kv = await store.update('/bench/watch/k', String(i), kv.modRevision);
    const rev = kv.modRevision;
    if (!arrivals.has(rev)) {
      await Promise.race([
        new Promise<void>((done) => (wanted = { rev, done })),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    const at = arrivals.get(rev);
    if (at !== undefined) latencies.push(at - t);
    arrivals.clear();
  }
  w.cancel();
  latencies.sort((a, b) => a - b);

  return {
    seqCreates,
    concCreates,
    gets,
    list1000Ms: listTimes[Math.floor(listTimes.length / 2)],
    watchP50Ms: pct(latencies, 50),
    watchP99Ms: pct(latencies, 99),
  };
}

export async function benchStorage(): Promise<void> {
  const budgetMs = 2500;
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-storage-'));
  const results: [string, Row | string][] = [];
  try {
    for (const sync of ['FULL', 'NORMAL'] as const) {
      const store = new SqliteStore({ path: join(dir, sync, 'state.db'), synchronous: sync });
      results.push([`sqlite ${sync}`, await measure(store, budgetMs)]);
      await store.close();
    }
    const why = etcdUnavailable();
    if (why) {
      results.push(['etcd', `skipped: ${why}`]);
    } else {
      const etcd = await startEtcd();
      const store = new EtcdStore({ endpoints: [etcd.endpoint], prefix: '/bench' });
      try {
        results.push(['etcd 3.4', await measure(store, budgetMs)]);
      } finally {
        await store.close();
        await etcd.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(results);
}

function printTable(results: [string, Row | string][]): void {
  const metrics: [string, (r: Row) => string][] = [
    ['sequential creates/s', (r) => r.seqCreates.toFixed(0)],
    ['32-concurrent creates/s', (r) => r.concCreates.toFixed(0)],
    ['point gets/s', (r) => r.gets.toFixed(0)],
    ['list 1,000 keys (ms, p50)', (r) => r.list1000Ms.toFixed(2)],
    ['put→watch p50 (ms)', (r) => r.watchP50Ms.toFixed(3)],
    ['put→watch p99 (ms)', (r) => r.watchP99Ms.toFixed(3)],
  ];
  const header = ['storage', ...results.map(([name]) => name)];
  const rows = metrics.map(([label, f]) => [label, ...results.map(([, r]) => (typeof r === 'string' ? '-' : f(r)))]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  for (const [name, r] of results) if (typeof r === 'string') console.log(`${name}: ${r}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchStorage().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
