// Builders for scheduler unit tests: nodes, pods and a cache holding them.
import type { KObject } from '../../../src/api/types.js';
import { SchedulerCache } from '../../../src/scheduler/cache.js';
import { newPodInfo, type PodInfo } from '../../../src/scheduler/types.js';

let uid = 0;

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function mkNode(name: string, o: NodeOpts = {}): KObject {
  const alloc = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...(o.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: alloc, allocatable: alloc },
  };
}

export interface PodOpts {
  ns?: string;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: Record<string, any>;
  owner?: string;
  hostPort?: number;
}

export function mkPod(name: string, o: PodOpts = {}): KObject {
  const requests: Record<string, string> = { ...(o.requests ?? {}) };
  if (o.cpu) requests['cpu'] = o.cpu;
  if (o.memory) requests['memory'] = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: `uid-${name}-${++uid}`,
      labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `owner-${o.owner}`, controller: true }] } : {}),
    },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'x',
          ...(Object.keys(requests).length ? { resources: { requests } } : {}),
          ...(o.hostPort ? { ports: [{ containerPort: 80, hostPort: o.hostPort, protocol: 'TCP' }] } : {}),
        },
      ],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.spec ?? {}),
    },
  };
}

export function pi(name: string, o: PodOpts = {}): PodInfo {
  return newPodInfo(mkPod(name, o));
}

/** A cache with these nodes and (assigned) pods. */
export function cluster(nodes: KObject[], pods: KObject[] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.addNode(n);
  for (const p of pods) c.addPod(newPodInfo(p));
  return c;
}

/** A deterministic random source (a fixed sequence). */
export function seq(...xs: number[]): () => number {
  let i = 0;
  return () => xs[i++ % xs.length]!;
}
