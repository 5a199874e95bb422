// ReplicaSetController: placeholder until implemented (see issue 4).
import type { Controller, ControllerContext } from './context.js';

export class ReplicaSetController implements Controller {
  constructor(readonly ctx: ControllerContext) {}
  start(): void {}
  stop(): void {}
}
