// Simulated nodes: placeholder until implemented (see issue 4).
import type { ControllerContext } from '../../controllers/context.js';

export interface SimulatedNodesOptions {
  count: number;
}

export class SimulatedNodes {
  constructor(
    readonly ctx: ControllerContext,
    readonly opts: SimulatedNodesOptions,
  ) {}
  start(): void {}
  stop(): void {}
}
