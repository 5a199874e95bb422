// The REST storage of metrics.k8s.io (metrics-server's pkg/api nodeMetrics and podMetrics): the
// scraper's latest points joined with the Node and Pod objects from the informers (labels, and
// whether the object exists at all), computed on each request.
import type { KObject } from '../api/types.js';
import type { Informer } from '../client/informer.js';
import type { Clock } from '../controllers/context.js';
import { ApiError, notFound } from '../apiserver/errors.js';
import type { ProvidedStorage } from '../apiserver/handlers/provided.js';
import { cpuQuantity, goDuration, memoryQuantity, METRICS_GROUP } from './api.js';
import type { MetricsScraper, NodePoint, PodPoint } from './scraper.js';

/** metav1.Time: RFC 3339 in seconds. */
const metaTime = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What a client-go lister answers for a missing object (metrics-server passes it through). */
function listerNotFound(resource: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

export class NodeMetricsStorage implements ProvidedStorage {
  constructor(
    private readonly scraper: MetricsScraper,
    private readonly nodes: Informer,
    private readonly clock: Clock,
  ) {}

  private object(node: KObject, p: NodePoint): KObject {
    const metadata: KObject['metadata'] = { name: node.metadata.name, creationTimestamp: metaTime(this.clock.now()) };
    if (node.metadata.labels && Object.keys(node.metadata.labels).length) metadata.labels = { ...node.metadata.labels };
    return { metadata, timestamp: p.timestamp, window: goDuration(p.windowMs), usage: { cpu: cpuQuantity(p.cpuNanoCores), memory: memoryQuantity(p.memoryBytes) } };
  }

  async list(): Promise<KObject[]> {
    await this.scraper.ensureScraped();
    const out: KObject[] = [];
    for (const node of this.nodes.list()) {
      const p = this.scraper.batch(node.metadata.name!)?.node;
      if (p) out.push(this.object(node, p));
    }
    return out.sort((a, b) => byName(a.metadata.name!, b.metadata.name!));
  }

  async get(_namespace: string, name: string): Promise<KObject> {
    await this.scraper.ensureScraped();
    const node = this.nodes.get(name);
    // The node lister's error (client-go listers name the resource by its lower-case kind).
    if (!node) throw listerNotFound('node', name);
    const p = this.scraper.batch(name)?.node;
    if (!p) throw notFound({ group: METRICS_GROUP, resource: 'nodemetrics' }, name);
    return this.object(node, p);
  }
}

export class PodMetricsStorage implements ProvidedStorage {
  constructor(
    private readonly scraper: MetricsScraper,
    private readonly pods: Informer,
    private readonly clock: Clock,
  ) {}

  private point(pod: KObject): PodPoint | undefined {
    const node = pod.spec?.nodeName as string | undefined;
    if (!node) return undefined;
    return this.scraper.batch(node)?.pods.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  private object(pod: KObject, p: PodPoint): KObject {
    const metadata: KObject['metadata'] = { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: metaTime(this.clock.now()) };
    if (pod.metadata.labels && Object.keys(pod.metadata.labels).length) metadata.labels = { ...pod.metadata.labels };
    return {
      metadata,
      timestamp: p.timestamp,
      window: goDuration(p.windowMs),
      containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
    };
  }

  async list(namespace: string): Promise<KObject[]> {
    await Promise.all([this.scraper.ensureScraped(), this.pods.waitForSync()]);
    const out: KObject[] = [];
    for (const pod of this.pods.list()) {
      if (namespace && pod.metadata.namespace !== namespace) continue;
      const p = this.point(pod);
      if (p) out.push(this.object(pod, p));
    }
    return out.sort((a, b) => byName(a.metadata.namespace!, b.metadata.namespace!) || byName(a.metadata.name!, b.metadata.name!));
  }

  async get(namespace: string, name: string): Promise<KObject> {
    await Promise.all([this.scraper.ensureScraped(), this.pods.waitForSync()]);
    const pod = this.pods.get(`${namespace}/${name}`);
    // The pod metadata lister's error, passed through by metrics-server.
    if (!pod) throw listerNotFound('pods', name);
    const p = this.point(pod);
    if (!p) throw notFound({ group: METRICS_GROUP, resource: 'podmetrics' }, `${namespace}/${name}`);
    return this.object(pod, p);
  }
}
