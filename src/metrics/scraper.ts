// The metrics scraper (metrics-server's scraper + storage): every resolution period it reads each
// Ready node's kubelet Summary API through the API server (nodes/<n>/proxy/stats/summary) and
// keeps the latest point per node and per pod in memory; nothing is stored. Simulated nodes have
// no kubelet and are skipped. A point needs a CPU rate (usageNanoCores), which the kubelet only
// has from its second sample on: until then the node or pod has no metrics ("not ready yet").
// Containers without cpu or memory stats (the fake runtime measures nothing) leave their pod
// without a point rather than with made-up zeros.
import type { KObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { Clock } from '../controllers/context.js';
import { SIMULATED_ANNOTATION } from '../kubelet/simulated/node.js';
import type { Logger } from '../util/log.js';

export interface NodePoint {
  /** metav1.Time of the sample (the kubelet's). */
  timestamp: string;
  /** Milliseconds the CPU rate was measured over. */
  windowMs: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodPoint {
  timestamp: string;
  windowMs: number;
  containers: { name: string; cpuNanoCores: number; memoryBytes: number }[];
}

/** Points of one node's summary. */
export interface NodeBatch {
  node?: NodePoint;
  /** By "namespace/name". */
  pods: Map<string, PodPoint>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The points in a Summary API object (k8s.io/kubelet/pkg/apis/stats/v1alpha1), measured over windowMs. */
export function decodeSummary(summary: Json, windowMs: number): NodeBatch {
  const batch: NodeBatch = { pods: new Map() };
  const n = summary?.node;
  const nodeCpu = num(n?.cpu?.usageNanoCores);
  const nodeMem = num(n?.memory?.workingSetBytes);
  if (nodeCpu !== undefined && nodeMem !== undefined) {
    batch.node = { timestamp: String(n.cpu.time ?? n.memory.time), windowMs, cpuNanoCores: nodeCpu, memoryBytes: nodeMem };
  }
  for (const p of (Array.isArray(summary?.pods) ? summary.pods : []) as Json[]) {
    const ref = p?.podRef;
    if (!ref?.name || !ref?.namespace) continue;
    const cs = (Array.isArray(p.containers) ? p.containers : []) as Json[];
    const containers: PodPoint['containers'] = [];
    let latest = '';
    for (const c of cs) {
      const cpu = num(c?.cpu?.usageNanoCores);
      const mem = num(c?.memory?.workingSetBytes);
      if (cpu === undefined || mem === undefined) break;
      containers.push({ name: String(c.name), cpuNanoCores: cpu, memoryBytes: mem });
      const t = String(c.cpu.time ?? '');
      if (t > latest) latest = t;
    }
    // Like metrics-server: a pod is reported only when every container it runs has both numbers.
    if (!cs.length || containers.length !== cs.length) continue;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    batch.pods.set(`${ref.namespace}/${ref.name}`, { timestamp: latest || String(p.cpu?.time ?? ''), windowMs, containers });
  }
  return batch;
}

function isReady(node: KObject): boolean {
  const conds = (node.status?.conditions ?? []) as { type: string; status: string }[];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Nodes whose kubelet can be scraped: Ready and not simulated. */
export function scrapable(node: KObject): boolean {
  return node.metadata.annotations?.[SIMULATED_ANNOTATION] !== 'true' && isReady(node);
}

function jsonOf(body: unknown): Json {
  if (body instanceof Uint8Array) return JSON.parse(Buffer.from(body).toString('utf8'));
  if (typeof body === 'string') return JSON.parse(body);
  return body;
}

export interface ScraperOptions {
  /** How often to scrape (metrics-server's --metric-resolution); default 15 s. */
  resolutionMs?: number;
  /** Per-node scrape timeout; default 90% of the resolution, at most 10 s. */
  timeoutMs?: number;
}

export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;

export class MetricsScraper {
  readonly resolutionMs: number;
  private readonly timeoutMs: number;
  private batches = new Map<string, NodeBatch>();
  /** When each node was last scraped successfully (this process's clock, ms): the next rate's window. */
  private lastScrape = new Map<string, number>();
  private inFlight?: Promise<void>;
  private lastStarted = 0;
  private timer?: { cancel(): void };
  private stopped = true;

  constructor(
    private readonly deps: { client: Client; nodes: Informer; clock: Clock; log: Logger },
    opts: ScraperOptions = {},
  ) {
    this.resolutionMs = opts.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.timeoutMs = opts.timeoutMs ?? Math.min(10_000, Math.max(1000, Math.floor(this.resolutionMs * 0.9)));
  }

  start(): void {
    this.stopped = false;
    void this.deps.nodes.waitForSync().then(() => this.tick());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private tick(): void {
    if (this.stopped) return;
    void this.scrape().finally(() => {
      if (!this.stopped) this.timer = this.deps.clock.setTimeout(() => this.tick(), this.resolutionMs);
    });
  }

  /** The latest points of a node's kubelet, if any. */
  batch(node: string): NodeBatch | undefined {
    return this.batches.get(node);
  }

  batchesList(): IterableIterator<[string, NodeBatch]> {
    return this.batches.entries();
  }

  /**
   * On demand: when nothing has been collected yet (a request right after start-up or after
   * the first node joined), scrape now rather than wait for the next period. At most one
   * scrape runs at a time; an answer is never delayed by more than one scrape.
   */
  async ensureScraped(): Promise<void> {
    await this.deps.nodes.waitForSync();
    if (this.inFlight) return this.inFlight;
    if ([...this.batches.values()].some((b) => b.node)) return;
    if (this.deps.clock.now().getTime() - this.lastStarted < 1000) return;
    await this.scrape();
  }

  /** One scrape of every scrapable node; nodes that fail (or disappeared) lose their points, as in metrics-server. */
  scrape(): Promise<void> {
    this.inFlight ??= this.scrapeAll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async scrapeAll(): Promise<void> {
    this.lastStarted = this.deps.clock.now().getTime();
    const nodes = this.deps.nodes.list().filter(scrapable);
    const next = new Map<string, NodeBatch>();
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata.name!;
        try {
          next.set(name, await this.scrapeNode(name));
        } catch (e) {
          this.deps.log.debug('failed to scrape node', { node: name, err: (e as Error).message });
        }
      }),
    );
    this.batches = next;
    for (const k of this.lastScrape.keys()) if (!next.has(k)) this.lastScrape.delete(k);
  }

  private async scrapeNode(name: string): Promise<NodeBatch> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.deps.clock.setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const res = await Promise.race([
        this.deps.client.request(`GET`, `/api/v1/nodes/${encodeURIComponent(name)}/proxy/stats/summary`, { query: { only_cpu_and_memory: 'true' } }),
        timeout,
      ]);
      if (res.status !== 200) throw new Error(`kubelet summary answered ${res.status}`);
      const now = this.deps.clock.now().getTime();
      const prev = this.lastScrape.get(name);
      this.lastScrape.set(name, now);
      // The kubelet's rate covers the time since its previous sample: ours, when we are its reader.
      return decodeSummary(jsonOf(res.body), prev !== undefined ? now - prev : this.resolutionMs);
    } finally {
      timer?.cancel();
    }
  }
}
