// NodeName: a pod that names a node fits only there.
import { type CycleState, type FilterPlugin, type NodeInfo, type PodInfo, type Status, success, unresolvable } from '../types.js';

export const ErrReasonNodeName = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin {
  readonly name = 'NodeName';
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === node.name) return success;
    return unresolvable(ErrReasonNodeName);
  }
}
