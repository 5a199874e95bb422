// NodeResourcesBalancedAllocation: prefer nodes where cpu and memory use stay balanced.
import type { CycleState, NodeInfo, PodInfo, ScorePlugin } from '../types.js';
import { balancedAllocationScore } from './noderesourcesfit.js';

export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';
  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    return balancedAllocationScore(pod, node);
  }
}
