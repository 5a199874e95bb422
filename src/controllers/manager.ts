// The controller manager: builds every controller over one shared informer factory,
// starts them, then starts the informers, and stops everything together.
// (Leader election across several servers comes with the controllers issue.)
import type { Client } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { SharedInformerFactory } from '../client/factory.js';
import type { Logger } from '../util/log.js';
import { realClock, type Clock, type Controller, type ControllerContext } from './context.js';
import { controllerFactories, type ControllerOptions } from './index.js';

export class ControllerManager {
  private controllers: Controller[] = [];
  private isRunning = false;
  readonly informers: SharedInformerFactory;
  readonly ctx: ControllerContext;

  constructor(
    client: Client,
    log: Logger,
    private readonly opts: ControllerOptions & { clock?: Clock; only?: string[] } = {},
  ) {
    this.informers = new SharedInformerFactory(client);
    const clock = opts.clock ?? realClock;
    this.ctx = {
      client,
      informers: this.informers,
      recorder: (component) => new EventRecorder(client, { component }, clock),
      log,
      clock,
    };
  }

  start(): void {
    for (const [name, make] of controllerFactories) {
      if (this.opts.only && !this.opts.only.includes(name)) continue;
      this.controllers.push(make({ ...this.ctx, log: this.ctx.log.with(name) }, this.opts));
    }
    for (const c of this.controllers) c.start();
    this.informers.start();
    this.isRunning = true;
  }

  running(): boolean {
    return this.isRunning;
  }

  stop(): void {
    for (const c of this.controllers) c.stop();
    this.informers.stop();
    this.isRunning = false;
  }
}
