// ServiceAccountsController: every active namespace has a `default` ServiceAccount; and
// the root CA publisher: every namespace has the `kube-root-ca.crt` ConfigMap holding the
// cluster CA, which pods use to verify the API server.
import type { KObject } from '../api/types.js';
import { call, isNotFound, type Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Logger } from '../util/log.js';

export class ServiceAccountsController {
  private readonly namespaces: Informer;
  private readonly serviceAccounts: Informer;
  private readonly configMaps: Informer;
  private readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 30_000 });
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly caCert?: string,
  ) {
    this.namespaces = new Informer(client, '/api/v1/namespaces');
    this.serviceAccounts = new Informer(client, '/api/v1/serviceaccounts', { fieldSelector: 'metadata.name=default' });
    this.configMaps = new Informer(client, '/api/v1/configmaps', { fieldSelector: 'metadata.name=kube-root-ca.crt' });
    const enqueueNs = (o: KObject) => this.queue.add(o.metadata.name!);
    const enqueueOwnerNs = (o: KObject) => this.queue.add(o.metadata.namespace!);
    this.namespaces.addHandlers({ onAdd: enqueueNs, onUpdate: (_, o) => enqueueNs(o) });
    this.serviceAccounts.addHandlers({ onDelete: enqueueOwnerNs });
    this.configMaps.addHandlers({ onDelete: enqueueOwnerNs, onUpdate: (_, o) => enqueueOwnerNs(o) });
  }

  start(): void {
    this.namespaces.start();
    this.serviceAccounts.start();
    this.configMaps.start();
    void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.namespaces.stop();
    this.serviceAccounts.stop();
    this.configMaps.stop();
    this.queue.shutDown();
  }

  private async worker(): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(), this.serviceAccounts.waitForSync(), this.configMaps.waitForSync()]);
    while (!this.stopped) {
      const ns = await this.queue.get();
      if (ns === undefined) return;
      try {
        await this.sync(ns);
        this.queue.forget(ns);
      } catch (e) {
        this.log.warn('sync failed', { namespace: ns, error: (e as Error).message });
        this.queue.addRateLimited(ns);
      } finally {
        this.queue.done(ns);
      }
    }
  }

  private async sync(ns: string): Promise<void> {
    const namespace = this.namespaces.get(ns);
    if (!namespace || namespace.metadata.deletionTimestamp) return;
    if (!this.serviceAccounts.get(`${ns}/default`)) {
      await this.createIgnoringConflicts(`/api/v1/namespaces/${ns}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: ns },
      });
    }
    if (this.caCert) {
      const cm = this.configMaps.get(`${ns}/kube-root-ca.crt`);
      const data = { 'ca.crt': this.caCert };
      if (!cm) {
        await this.createIgnoringConflicts(`/api/v1/namespaces/${ns}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'kube-root-ca.crt', namespace: ns, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
          data,
        });
      } else if (cm.data?.['ca.crt'] !== this.caCert) {
        await call(this.client, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`, { contentType: 'application/merge-patch+json', body: { data } });
      }
    }
  }

  private async createIgnoringConflicts(path: string, obj: KObject): Promise<void> {
    try {
      await call(this.client, 'POST', path, { body: obj });
    } catch (e) {
      const code = (e as { code?: number }).code;
      // 409: it exists already; 403: the namespace is terminating; 404: it is gone.
      if (code !== 409 && code !== 403 && !isNotFound(e)) throw e;
    }
  }
}
