// The scheduler: placeholder until implemented (see issue 4).
import type { ControllerContext } from '../controllers/context.js';

export class Scheduler {
  constructor(readonly ctx: ControllerContext) {}
  start(): void {}
  stop(): void {}
  running(): boolean {
    return false;
  }
}
