// TaintToleration: NoSchedule/NoExecute taints the pod doesn't tolerate rule a node out;
// untolerated PreferNoSchedule taints lower its score.
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
import { tolerates, type Toleration } from './helpers.js';

export class TaintToleration implements FilterPlugin, ScorePlugin {
  readonly name = 'TaintToleration';

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const tol = pod.pod.spec?.tolerations as Toleration[] | undefined;
    for (const t of node.taints) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
      if (!tolerates(tol, t)) return unresolvable(`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`);
    }
    return success;
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    // Only tolerations that apply to PreferNoSchedule (or to every effect) count.
    const tol = ((pod.pod.spec?.tolerations ?? []) as Toleration[]).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const t of node.taints) if (t.effect === 'PreferNoSchedule' && !tolerates(tol, t)) n++;
    return n;
  }

  normalizeScore(_s: CycleState, _p: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, true);
  }
}
