// kubectl e2e: `kubectl get -w` sees changes made by another process, as rows and as
// watch events. kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, tableRows, type Cluster } from './harness.js';

const skip = skipReason();

/** Waits until the server counts at least `n` watches beyond the controllers' own baseline. */
let baseline = -1;
async function watchers(c: Cluster, v: string): Promise<number> {
  const m = await c.ok(v, ['get', '--raw', '/metrics']);
  return Number(/^apiserver_registered_watchers (\d+)$/m.exec(m)?.[1] ?? 0);
}
async function waitWatchers(c: Cluster, v: string, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await watchers(c, v)) >= baseline + n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kubectl's watch never registered (${await watchers(c, v)} watchers, baseline ${baseline})`);
}

describe('kubectl get -w', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    // In-process controllers hold watches too; let them settle, then count them.
    let prev = -1;
    for (let i = 0; i < 50; i++) {
      const n = await watchers(c, '1.32');
      if (n === prev) break;
      prev = n;
      await new Promise((r) => setTimeout(r, 200));
    }
    baseline = prev;
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-watch-${v.replace('.', '-')}`;

    test(`kubectl ${v}: get -w prints the list, then each change`, async () => {
      await c.ok(v, ['create', 'namespace', ns]);
      await c.file(`${v}/first.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first, namespace: ${ns}}\ndata: {a: "1"}\n`);
      await c.ok(v, ['apply', '-f', `${c.tmp}/${v}/first.yaml`]);
      const w = c.spawnKubectl(v, ['get', 'cm', '-w', '-n', ns]);
      const wEvents = c.spawnKubectl(v, ['get', 'cm', '-w', '--watch-only', '--field-selector', 'metadata.name=watched', '-n', ns, '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name']);
      try {
        await w.waitFor(/^first\s+1\s+\S+$/m);
        await waitWatchers(c, v, 2);
        // Another process (a second kubectl) makes changes.
        await c.file(`${v}/watched.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched, namespace: ${ns}}\ndata: {a: "1"}\n`);
        await c.ok(v, ['apply', '-f', `${c.tmp}/${v}/watched.yaml`]);
        await w.waitFor(/^watched\s+1\s+\S+$/m);
        await c.ok(v, ['patch', 'cm', 'watched', '-n', ns, '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
        await w.waitFor(/^watched\s+2\s+\S+$/m);
        await c.ok(v, ['delete', 'cm', 'watched', '-n', ns]);
        // The delete shows the last state once more.
        await w.waitFor(/(^watched\s+2\s+\S+$[\s\S]*){2}/m);
        const rows = tableRows(w.stdout());
        assert.deepEqual(rows[0], ['NAME', 'DATA', 'AGE']);
        assert.deepEqual(
          rows.slice(1).filter((r) => r[0] !== 'kube-root-ca.crt').map((r) => `${r[0]} ${r[1]}`),
          ['first 1', 'watched 1', 'watched 2', 'watched 2'],
        );
        const ev = await wEvents.waitFor(/^DELETED\s+watched/m);
        const types = tableRows(ev).slice(1).map((r) => r[0]);
        assert.deepEqual(types, ['ADDED', 'MODIFIED', 'DELETED']);
        assert.equal(w.stderr(), '');
      } finally {
        await w.kill();
        await wEvents.kill();
      }
    });

    test(`kubectl ${v}: get -w --watch-only with a label selector sees objects enter and leave`, async () => {
      const w = c.spawnKubectl(v, ['get', 'cm', '-w', '--watch-only', '-n', ns, '-l', 'watch=me', '-o', 'name']);
      try {
        await waitWatchers(c, v, 1);
        await c.ok(v, ['label', 'cm', 'first', '-n', ns, 'watch=me']);
        await w.waitFor(/^configmap\/first$/m);
        await c.ok(v, ['label', 'cm', 'first', '-n', ns, 'watch-']);
        // Wait for both lines to be complete (newline included): `$` alone also matches the
        // end of a line still being written.
        await w.waitFor(/^configmap\/first\nconfigmap\/first\n/);
        assert.equal(w.stdout(), 'configmap/first\nconfigmap/first\n');
      } finally {
        await w.kill();
      }
    });
  }
});
