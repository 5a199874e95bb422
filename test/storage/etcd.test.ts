import { after, before } from 'node:test';
import { EtcdStore } from '../../src/storage/etcd.js';
import { etcdUnavailable, startEtcd, type EtcdInstance } from './etcd-harness.js';
import { storeSuite } from './suite.js';

const skip = etcdUnavailable();
let etcd: EtcdInstance | undefined;
let n = 0;

if (!skip) {
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });
}

// One etcd for the whole file; each test gets its own key prefix (the revision counter is shared).
storeSuite('etcd', async () => new EtcdStore({ endpoints: [etcd!.endpoint], prefix: `/kts-test-${n++}` }), { skip });
