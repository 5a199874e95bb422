// SharedInformerFactory: one informer per (resource, selector) shared by every controller
// in the process, as client-go's factory does, so N controllers watching pods cost one watch.
import { resourcePath, type Client } from './client.js';
import { Informer } from './informer.js';

export interface InformerSpec {
  group: string;
  version: string;
  plural: string;
  /** Limit to one namespace (default: all). */
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export class SharedInformerFactory {
  private informers = new Map<string, Informer>();
  private startedInformers = new Set<Informer>();
  private started = false;

  constructor(private readonly client: Client) {}

  /** The shared informer for a resource; started with the factory (or at once if it already runs). */
  informer(spec: InformerSpec): Informer {
    const key = [spec.group, spec.version, spec.plural, spec.namespace ?? '', spec.fieldSelector ?? '', spec.labelSelector ?? ''].join('|');
    let inf = this.informers.get(key);
    if (!inf) {
      const query: Record<string, string> = {};
      if (spec.fieldSelector) query['fieldSelector'] = spec.fieldSelector;
      if (spec.labelSelector) query['labelSelector'] = spec.labelSelector;
      inf = new Informer(this.client, resourcePath(spec.group, spec.version, spec.plural, spec.namespace), query);
      this.informers.set(key, inf);
      if (this.started) this.startOne(inf);
    }
    return inf;
  }

  /** Shorthands for the resources most controllers watch. */
  pods(): Informer {
    return this.informer({ group: '', version: 'v1', plural: 'pods' });
  }
  nodes(): Informer {
    return this.informer({ group: '', version: 'v1', plural: 'nodes' });
  }

  /** Starts every informer not started yet (safe to call again as components join). */
  start(): void {
    this.started = true;
    for (const i of this.informers.values()) this.startOne(i);
  }

  private startOne(i: Informer): void {
    if (this.startedInformers.has(i)) return;
    this.startedInformers.add(i);
    i.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
