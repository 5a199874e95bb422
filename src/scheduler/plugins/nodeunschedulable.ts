// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate
// the node.kubernetes.io/unschedulable:NoSchedule taint.
import { type CycleState, type FilterPlugin, type NodeInfo, type PodInfo, type Status, success, unresolvable } from '../types.js';
import { tolerates } from './helpers.js';

export const ErrReasonUnschedulable = 'node(s) were unschedulable';

export class NodeUnschedulable implements FilterPlugin {
  readonly name = 'NodeUnschedulable';
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (!node.unschedulable) return success;
    if (tolerates(pod.pod.spec?.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) return success;
    return unresolvable(ErrReasonUnschedulable);
  }
}
