// NodePorts: a hostPort (protocol, hostIP, port) can be used by one pod per node; the
// wildcard hostIP 0.0.0.0 (or none) conflicts with every IP.
import { type ContainerPort, type CycleState, type FilterPlugin, type NodeInfo, type PodInfo, type Status, success, unschedulable } from '../types.js';

export const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

function conflicts(a: ContainerPort, b: ContainerPort): boolean {
  if (a.hostPort !== b.hostPort || a.protocol !== b.protocol) return false;
  const wild = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';
  return wild(a.hostIP) || wild(b.hostIP) || a.hostIP === b.hostIP;
}

export function fitsPorts(want: ContainerPort[], node: NodeInfo): boolean {
  if (want.length === 0) return true;
  for (const pi of node.pods.values()) {
    for (const used of pi.hostPorts) for (const w of want) if (conflicts(w, used)) return false;
  }
  return true;
}

export class NodePorts implements FilterPlugin {
  readonly name = 'NodePorts';
  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return fitsPorts(pod.hostPorts, node) ? success : unschedulable(ErrReasonNodePorts);
  }
}
