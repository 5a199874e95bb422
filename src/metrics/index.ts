// The metrics component (kts' built-in metrics-server, as k3s bundles one): a scraper of the
// kubelets' Summary API and the metrics.k8s.io/v1beta1 API it feeds, which the API server
// serves from this component's storage (ApiServer.provideResource). Runs in every server: each
// keeps its own points in memory, as each metrics-server replica does.
import type { ApiServer } from '../apiserver/apiserver.js';
import type { ControllerContext } from '../controllers/context.js';
import { nodeMetricsDecl, podMetricsDecl } from './api.js';
import { MetricsScraper, type ScraperOptions } from './scraper.js';
import { NodeMetricsStorage, PodMetricsStorage } from './storage.js';

export { nodeMetricsDecl, podMetricsDecl } from './api.js';
export { DEFAULT_METRIC_RESOLUTION_MS } from './scraper.js';

export class MetricsServer {
  readonly scraper: MetricsScraper;
  private withdraw: (() => void)[] = [];

  constructor(
    private readonly api: ApiServer,
    private readonly ctx: ControllerContext,
    opts: ScraperOptions = {},
  ) {
    const nodes = ctx.informers.nodes();
    this.scraper = new MetricsScraper({ client: ctx.client, nodes, clock: ctx.clock, log: ctx.log }, opts);
  }

  /** Serves the API and starts scraping (informers start with the factory). */
  start(): void {
    const { informers, clock } = this.ctx;
    this.withdraw = [
      this.api.provideResource(nodeMetricsDecl, new NodeMetricsStorage(this.scraper, informers.nodes(), clock)),
      this.api.provideResource(podMetricsDecl, new PodMetricsStorage(this.scraper, informers.pods(), clock)),
    ];
    this.scraper.start();
  }

  stop(): void {
    this.scraper.stop();
    for (const w of this.withdraw) w();
    this.withdraw = [];
  }
}
