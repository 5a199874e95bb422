// What every controller gets: a client, shared informers, an event recorder and a clock
// (injectable, so tests drive time instead of sleeping).
import type { Client } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import type { SharedInformerFactory } from '../client/factory.js';
import type { Logger } from '../util/log.js';

export interface Clock {
  now(): Date;
  /** setTimeout that a fake clock can fire when it advances. */
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface ControllerContext {
  client: Client;
  informers: SharedInformerFactory;
  /** A recorder whose events name `component` as their source. */
  recorder(component: string): EventRecorder;
  log: Logger;
  clock: Clock;
}

export interface Controller {
  /** Registers informer handlers; informers start after every controller's start(). */
  start(): void;
  stop(): void;
}
