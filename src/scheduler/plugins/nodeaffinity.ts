// NodeAffinity: nodeSelector and required node affinity as a filter; preferred terms
// (weights of the matching ones summed) as a score.
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type PodInfo,
  type ScorePlugin,
  type Status,
  defaultNormalizeScore,
  success,
  unresolvable,
} from '../types.js';
import { podMatchesNodeSelectorAndAffinity, termMatches, type NodeSelectorTerm } from './helpers.js';

export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";

export class NodeAffinity implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeAffinity';

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return podMatchesNodeSelectorAndAffinity(pod.pod.spec, node) ? success : unresolvable(ErrReasonPod);
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    const prefs = (pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as {
      weight: number;
      preference: NodeSelectorTerm;
    }[];
    let total = 0;
    for (const p of prefs) if (p.weight && termMatches(p.preference ?? {}, node)) total += p.weight;
    return total;
  }

  normalizeScore(_s: CycleState, _p: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, false);
  }
}
