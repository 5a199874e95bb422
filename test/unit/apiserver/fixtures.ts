// Fake resource declarations shaped like upstream's, for discovery and OpenAPI tests.
import type { ResourceDecl } from '../../../src/api/types.js';

const scale = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' };

export const pods: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  // The lead adds binding/eviction/log/exec later; discovery must pick them up from the decl.
  subresources: { status: true, binding: true, eviction: true, log: true, exec: true } as ResourceDecl['subresources'],
  gracefulDeletion: (_obj, s) => s ?? 30,
};

export const namespaces: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true },
};

export const configmaps: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
};

export const bindings: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Binding',
  plural: 'bindings',
  singular: 'binding',
  namespaced: true,
  verbs: ['create'],
};

export const componentstatuses: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ComponentStatus',
  plural: 'componentstatuses',
  singular: 'componentstatus',
  shortNames: ['cs'],
  namespaced: false,
  verbs: ['get', 'list'],
};

export const deployments: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale },
};

export const replicasets: ResourceDecl = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true, scale },
};

export const hpas: ResourceDecl = {
  group: 'autoscaling',
  version: 'v2',
  versions: ['v1', 'v2'],
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
};

export const jobs: ResourceDecl = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
};

export const events: ResourceDecl = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
};

export const clusterroles: ResourceDecl = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  nameValidation: 'pathSegment',
};

export const leases: ResourceDecl = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
};

export const crontabs: ResourceDecl = {
  group: 'stable.example.com',
  version: 'v1',
  versions: ['v1beta1', 'v1'],
  kind: 'CronTab',
  plural: 'crontabs',
  singular: 'crontab',
  shortNames: ['ct'],
  namespaced: true,
};

/** Deliberately not in upstream's order: discovery must sort. */
export const allDecls: ResourceDecl[] = [
  crontabs,
  leases,
  clusterroles,
  jobs,
  hpas,
  events,
  replicasets,
  deployments,
  pods,
  namespaces,
  configmaps,
  bindings,
  componentstatuses,
];
