// The controller manager: starts every controller with a client and stops them together.
// (Leader election across several servers comes with the controllers issue.)
import type { Client } from '../client/client.js';
import type { Logger } from '../util/log.js';
import { GarbageCollector } from './garbagecollector.js';
import { NamespaceController } from './namespace.js';
import { ServiceAccountsController } from './serviceaccount.js';

interface Controller {
  start(): void;
  stop(): void;
}

export class ControllerManager {
  private controllers: Controller[] = [];
  private isRunning = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly opts: { caCert?: string } = {},
  ) {}

  start(): void {
    this.controllers = [
      new NamespaceController(this.client, this.log.with('namespace-controller')),
      new GarbageCollector(this.client, this.log.with('garbage-collector')),
      new ServiceAccountsController(this.client, this.log.with('serviceaccount-controller'), this.opts.caCert),
    ];
    for (const c of this.controllers) c.start();
    this.isRunning = true;
  }

  running(): boolean {
    return this.isRunning;
  }

  stop(): void {
    for (const c of this.controllers) c.stop();
    this.isRunning = false;
  }
}
