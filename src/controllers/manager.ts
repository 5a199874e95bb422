// The controller manager: builds every controller over the process's shared informers,
// starts them, then the informers. The server runs it only while it holds the
// kube-controller-manager lease; stop() stops the controllers (the informers are shared
// with other components and live as long as the server).
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
    ctx: ControllerContext,
    private readonly opts: ControllerOptions & { only?: string[] } = {},
  ) {
    this.ctx = ctx;
    this.informers = ctx.informers;
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
    this.controllers = [];
    this.isRunning = false;
  }
}

/** The context every component of one process shares: one informer factory, one clock. */
export function newControllerContext(client: Client, log: Logger, clock: Clock = realClock): ControllerContext {
  return {
    client,
    informers: new SharedInformerFactory(client),
    recorder: (component) => new EventRecorder(client, { component }, clock),
    log,
    clock,
  };
}
